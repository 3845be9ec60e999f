"""`course check tiny_gpt`: after the grade, the student's own model writes text next to the
reference model's. Real files, the real command and the real sandbox.

The showcase is the tiny_gpt exercise's `showcase` hook (exercises/tiny_gpt/feedback.py): a
trusted greedy loop appended to the student's file runs in a second sandbox session on the
PUBLIC prompts; only token ids come back, decoded with the course's vocabulary. It never
changes a grade, never sees a hidden prompt, and nothing a hostile submission does in it
reaches the terminal.
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np

import course
import courserunner
from course.grading.check import check_exercise
from course.grading.expected import case_arguments
from course.grading.hooks import feedback_module
from course.loader import load_course
from course.paths import builtin_root

ROOT = builtin_root()
COURSE = load_course(ROOT)
EXERCISE = COURSE.exercise("tiny_gpt")
FEEDBACK = feedback_module(EXERCISE)
TITLE = "What your model writes (greedy decoding of the public prompts)"


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`course ARGS` as a student runs it, in this process (tests/courserunner.py): what it prints is
    what the command prints; the sandboxes are the real ones."""
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8", COLUMNS="100")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=300)


def prompts(visibility: str) -> dict[str, str]:
    """Case name -> the text of its prompt, for the cases of one visibility."""
    cases = [case for case in EXERCISE.cases if case.visibility == visibility]
    return {name: FEEDBACK.decode(args[0], args[1]) for name, (args, _) in case_arguments(cases).items()}


def reference_continuations() -> dict[str, str]:
    params = case_arguments([EXERCISE.cases[0]])[EXERCISE.cases[0].name][0][0]
    public = prompts("public")
    return {name: FEEDBACK.decode(params, tokens)[len(public[name]):]
            for name, tokens in FEEDBACK.stored_continuations(EXERCISE.folder).items()}


def submit(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "tiny_gpt.py"
    path.write_text(source)
    return path


def mistake(name: str) -> str:
    return (EXERCISE.folder / "mistakes" / f"{name}.py").read_text()


def test_a_right_model_writes_the_references_text_after_a_passing_grade(tmp_path):
    submit(tmp_path, (EXERCISE.folder / "reference.py").read_text())
    done = run_course("check", "tiny_gpt", "tiny_gpt.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "tiny_gpt (tiny_gpt.py): passed, 8/8 points" in out
    section = out[out.index(TITLE):]
    assert out.index("✓ full_context") < out.index(TITLE)  # after the grade, set apart
    assert "(not graded: your code at work on the public cases)" in section
    assert section.count("identical: your model generates the reference's text") == len(prompts("public"))
    for name, prompt in prompts("public").items():
        assert f"prompt     {prompt.replace(chr(10), '⏎')}" in section
        assert reference_continuations()[name].replace("\n", "⏎")[:40] in section


def test_a_wrong_model_is_graded_as_before_and_shows_where_its_text_departs(tmp_path):
    path = submit(tmp_path, mistake("no_causal_mask"))
    result = course.check("tiny_gpt", path, html=tmp_path / "report.html")
    plain = check_exercise(COURSE, EXERCISE, path.read_text(), filename="tiny_gpt.py")  # as course grade: no showcase
    assert plain.showcase is None
    assert (result.status, result.score, [c.passed for c in result.cases], [c.message for c in result.cases]) == \
        (plain.status, plain.score, [c.passed for c in plain.cases], [c.message for c in plain.cases])
    assert result.score == 1 and result.showcase.title == TITLE
    text = result.showcase.text
    assert text.count("first difference at generated character") == len(prompts("public"))
    assert "identical" not in text
    for continuation in reference_continuations().values():
        assert f"reference  {continuation.replace(chr(10), '⏎')[:30]}" in text
    page = (tmp_path / "report.html").read_text()
    assert '<div class="showcase">' in page and f"<h3>{TITLE}</h3>" in page
    report = json.loads(run_course("check", "tiny_gpt", "tiny_gpt.py", "--format", "json", cwd=tmp_path).stdout)
    assert report["score"] == 1 and report["showcase"] == {"title": TITLE, "text": text}


def test_hidden_prompts_are_never_continued(tmp_path):
    submit(tmp_path, mistake("gelu_erf"))  # fails every case, hidden ones too, yet writes the reference's text
    out = run_course("check", "tiny_gpt", "tiny_gpt.py", cwd=tmp_path).stdout
    section = out[out.index(TITLE):]
    hidden = prompts("hidden")
    assert hidden and all(len(text) >= 2 for text in hidden.values())
    for text in hidden.values():
        assert text.replace("\n", "⏎")[:30] not in section
    assert section.count("prompt     ") == len(prompts("public"))
    assert set(FEEDBACK.stored_continuations(EXERCISE.folder)) == set(prompts("public"))


def test_the_plan_continues_the_public_prompts_it_is_given_and_nothing_else():
    """check.py hands the hook the public cases only (tests/test_exercise_hooks.py shows it for any
    exercise); the plan's calls are made from exactly those prompts."""
    public = case_arguments([c for c in EXERCISE.cases if c.visibility == "public"])
    plan = FEEDBACK.showcase(EXERCISE, public)
    sent = [np.asarray(args[1]) for args, _ in plan["calls"]]
    wanted = [np.asarray(args[1]) for args, _ in public.values()]
    assert len(sent) == len(wanted) == 3 and all(np.array_equal(a, b) for a, b in zip(sent, wanted))
    assert all(n_new == FEEDBACK.N_NEW for (_, _, n_new), _ in plan["calls"])
    assert f"def {plan['function']}(" in plan["wrapper"] and f"{EXERCISE.function}(params, window)" in plan["wrapper"]


HOSTILE = """
import sys

import numpy as np

{reference}

_right = tiny_gpt


def tiny_gpt(params, tokens):
    frame = sys._getframe(1)
    if frame.f_code.co_name != "_course_showcase_generate":
        return _right(params, tokens)  # graded calls: the right logits, so the grade is full
    print("\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mEVIL")  # in the showcase: try to reach the terminal
    sys.stderr.write("\\x1b[2J")
    {attack}
"""


def test_a_hostile_model_cannot_change_the_grade_or_print_through_the_showcase(tmp_path):
    reference = (EXERCISE.folder / "reference.py").read_text()
    stopped = "your model stopped with {}: it could not generate"
    attacks = {
        # an exception whose message carries escape sequences
        "raise ValueError('\\x1b[2J\\x1b]0;title\\x07 wiped')": [stopped.format("ValueError")] * 3,
        # leave the loop for good
        "raise SystemExit(0)": [stopped.format("SystemExit")] * 3,
        # try to replace the trusted loop by one that returns any ids it likes: the sandbox
        # already holds the loop it calls, so every prompt still ends with the exception
        "frame.f_globals[frame.f_code.co_name] = lambda p, t, n: np.full(len(t) + n, 10 ** 6)\n"
        "    raise RuntimeError('\\x9b2J')": [stopped.format("RuntimeError")] * 3,
        # a forward pass that never returns (it waits; a busy loop would burn 6 s of the machine's CPU
        # for the same verdict): stopped at the showcase's own limit, not the exercise's 20 s
        "__import__('time').sleep(3600)": ["your model did not finish generating within the showcase's 6 s"] * 3,
    }
    for attack, said in attacks.items():
        submit(tmp_path, HOSTILE.format(reference=reference, attack=attack))
        done = run_course("check", "tiny_gpt", "tiny_gpt.py", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr  # the grade: passed, in full
        assert "tiny_gpt (tiny_gpt.py): passed, 8/8 points" in done.stdout
        section = done.stdout[done.stdout.index(TITLE):]
        shown = [line.strip()[len("yours"):].strip(" ()") for line in section.splitlines()
                 if line.strip().startswith("yours ")]
        assert shown == said, section
        for text in (done.stdout, done.stderr):
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
            assert "EVIL" not in text and "pwned" not in text and "wiped" not in text


def test_only_token_ids_of_the_vocabulary_after_the_prompt_are_ever_decoded():
    """render's side of the boundary: whatever array comes back, only checked ids become text."""
    from course.grading.compare import Observed
    from course.grading.sandbox.records import CallStatus

    public = case_arguments([c for c in EXERCISE.cases if c.visibility == "public"])
    plan = FEEDBACK.showcase(EXERCISE, public)
    params, prompt, n_new = plan["calls"][1][0]
    vocab_size = int(params["config.vocab_size"])
    good = np.concatenate([prompt, np.full(n_new, 5)])
    wrong = {
        "an id beyond the vocabulary": np.concatenate([prompt, np.full(n_new, vocab_size)]),
        "a negative id": np.concatenate([prompt, np.full(n_new, -1)]),
        "floats": good.astype(np.float64),
        "another prompt": np.concatenate([prompt[::-1], np.full(n_new, 5)]),
        "too short": good[:-1],
        "two axes": good[None, :],
    }
    for what, value in wrong.items():
        outcomes = [Observed(CallStatus.OK, good if i != 1 else value) for i in range(3)]
        text = plan["render"](outcomes).split("\n\n")[1]
        assert "the generation returned something that is not the prompt followed by token ids" in text, what
    ok = plan["render"]([Observed(CallStatus.OK, good)] * 3).split("\n\n")[1]
    assert f"yours      {FEEDBACK.decode(params, [5]) * 10}" in ok
    raised = Observed(CallStatus.RAISED, None, "\x1b[2J<script>: boom\nTraceback ...")
    assert "your model stopped with an exception" in plan["render"]([raised] * 3)


def test_a_submission_that_does_not_load_gets_no_showcase(tmp_path):
    path = submit(tmp_path, "def tiny_gpt(params, tokens):\n    return (\n")
    result = course.check("tiny_gpt", path)
    assert result.load_error and result.showcase is None
    started = submit(tmp_path, (EXERCISE.folder / "starter.py").read_text())
    assert course.check("tiny_gpt", started).showcase is None  # not attempted: nothing runs


def test_verify_and_class_grading_never_run_the_showcase(tmp_path):
    subs = tmp_path / "subs" / "ada"
    subs.mkdir(parents=True)
    (subs / "tiny_gpt.py").write_text(textwrap.dedent(mistake("no_causal_mask")))
    done = run_course("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--exercise", "tiny_gpt",
                      cwd=tmp_path)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    entry = next(r for s in results["students"] for r in s["results"] if r["exercise"] == "tiny_gpt")
    assert entry.get("showcase") is None, done.stdout
