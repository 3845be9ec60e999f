"""The real `course quiz` / `course review` / `course progress` commands, driven through a pseudo-terminal
(pexpect) or as subprocesses, on a tiny course written to a temporary folder."""
from __future__ import annotations

import re
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from coursefactory import write_course  # noqa: E402
from course.loader import load_course  # noqa: E402
from course.progress.store import ProgressStore  # noqa: E402
from course.quiz.grading import LETTERS  # noqa: E402
from course.quiz.variants import instantiate  # noqa: E402
import courserunner  # noqa: E402

SEED = 5
LESSON_YAML = """
format_version: 1
id: intro
number: 1
title: A tiny lesson
sections:
  - id: basics
    title: A short history
    blocks:
      - markdown: Word2Vec came in 2013, the Transformer in 2017.
  - id: attention
    title: Attention
    blocks:
      - markdown: Attention weights come from a softmax.
"""
QUIZ_YAML = """
format_version: 1
lesson: intro
title: Tiny quiz
pass_fraction: 0.6
questions:
  - id: pick
    kind: single
    section: basics
    prompt: Which architecture came in 2017?
    hint: Attention is all you need.
    explanation: The Transformer paper is from 2017.
    choices:
      - {text: Transformer, correct: true, explanation: "Vaswani et al., 2017."}
      - {text: LSTM, correct: false, explanation: LSTMs are from 1997.}
      - {text: Word2Vec, correct: false, explanation: Word2Vec is from 2013.}
  - id: static
    kind: true_false
    section: basics
    prompt: Word2Vec gives a word the same vector in every sentence.
    hint: One row per word.
    explanation: Word2Vec embeddings are static.
    answer: true
  - id: head-size
    kind: numeric
    section: attention
    prompt: With d_model = {d_model} and {n_heads} heads, how wide is each head?
    hint: Split d_model evenly.
    explanation: Each head gets d_model / n_heads dimensions.
    parameters:
      d_model: {choices: [512, 768]}
      n_heads: {choices: [8]}
    answer: d_model / n_heads
    tolerance: {absolute: 0.5}
    unit: dimensions
  - id: order
    kind: ordering
    section: basics
    prompt: Earliest first.
    hint: Embeddings first.
    explanation: 2013, 2017, 2018.
    items: [Word2Vec, Transformer, BERT]
  - id: weights
    kind: text
    section: attention
    prompt: Which function turns scores into attention weights?
    hint: It makes rows sum to one.
    explanation: The softmax normalizes each row.
    accept: [softmax]
"""


def write_tiny_course(root: Path) -> Path:
    """The shared test course (tests/coursefactory.py) with a two-section lesson and a five-question quiz."""
    return write_course(root, lesson=textwrap.dedent(LESSON_YAML).lstrip(), quiz=textwrap.dedent(QUIZ_YAML).lstrip())


def right_inputs(root: Path, seed: int = SEED) -> dict[str, str]:
    """What a student who knows everything types, per question id, for this seed."""
    quiz = load_course(root).lesson("intro").quiz
    inputs = {}
    for question in quiz.questions:
        instance = instantiate(question, seed)
        if question.kind == "single":
            inputs[question.id] = LETTERS[[c.text for c in instance.choices].index("Transformer")]
        elif question.kind == "ordering":
            inputs[question.id] = " ".join(str(instance.items.index(item) + 1) for item in question.items)
        elif question.kind == "numeric":
            inputs[question.id] = f"{instance.answer:g}"
        else:
            inputs[question.id] = {"static": "t", "weights": "Softmax"}[question.id]
    return inputs


@pytest.fixture
def course_env(tmp_path):
    """(course root, environment with COURSE_HOME in tmp) for running the real command."""
    root = write_tiny_course(tmp_path / "tiny")
    env = dict(os.environ, COURSE_HOME=str(tmp_path / "home"), NO_COLOR="1", COLUMNS="80")
    env.pop("COURSE_ROOT", None)
    return root, env


def spawn(root: Path, env: dict, *args: str):
    child = pexpect.spawn(  # run beside the course, so printed commands say `--course tiny`
        sys.executable, ["-m", "course", "--course", root.name, *args],
        env=env, encoding="utf-8", timeout=20, dimensions=(50, 80), cwd=str(root.parent),
    )
    return child


def store_of(env: dict) -> ProgressStore:
    return ProgressStore(Path(env["COURSE_HOME"]) / "progress.sqlite3")


def answer(child, text: str) -> None:
    child.expect_exact("> ")
    child.sendline(text)


def test_answering_everything_right_shows_feedback_and_a_full_score(course_env):
    root, env = course_env
    inputs = right_inputs(root)
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    child.expect_exact("Question 1/5 · A short history")
    child.expect_exact("type one letter (a to c)")
    answer(child, inputs["pick"])
    child.expect_exact("✓ Correct.")
    child.expect_exact("Transformer: Vaswani et al., 2017.")
    child.expect_exact("Why: The Transformer paper is from 2017.")
    child.expect_exact("Re-read: A short history (course --course tiny read intro)")
    for question_id in ("static", "head-size", "order", "weights"):
        answer(child, inputs[question_id])
        child.expect_exact("✓ Correct.")
    child.expect_exact("Score: 5 of 5 answered, 5 points of 5 (100%)")
    child.expect_exact("passed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with store_of(env) as store:
        [attempt] = store.attempts("intro")
        assert (attempt["status"], attempt["score"], attempt["max_score"], attempt["seed"]) == ("finished", 5.0, 5.0, SEED)
        assert len(store.attempt_answers(attempt["id"])) == 5


def test_wrong_answer_bad_input_hint_and_skip_then_final_advice(course_env):
    root, env = course_env
    inputs = right_inputs(root)
    wrong = next(letter for letter in "abc" if letter != inputs["pick"])
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    answer(child, "banana")  # unparsable: asked again with a reason
    child.expect_exact("type one letter from a to c; try again.")
    answer(child, wrong)
    child.expect_exact("✗ Not quite: you chose")
    child.expect_exact("The answer: “Transformer”")
    answer(child, "?")
    child.expect_exact("Hint: One row per word.")
    answer(child, "maybe")
    child.expect_exact("type t (true) or f (false); try again.")
    answer(child, "t")
    child.expect_exact("✓ Correct.")
    answer(child, "s")  # skip the numeric question
    child.expect_exact("Skipped. The answer:")
    answer(child, "1 1 2")
    child.expect_exact("1 appears twice")
    answer(child, inputs["order"])
    answer(child, "softmax")
    child.expect_exact("Score: 4 of 5 answered (1 skipped), 3 points of 5 (60%)")
    child.expect_exact("By section:")
    child.expect_exact("Re-read (course --course tiny read intro):")
    child.expect_exact("- A short history")
    child.expect_exact("- Attention")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with store_of(env) as store:
        [attempt] = store.attempts("intro")
        rows = {row["question_id"]: row for row in store.attempt_answers(attempt["id"])}
        assert rows["pick"]["correct"] is False
        assert rows["static"]["hinted"] is True and rows["static"]["answer"] is True
        assert rows["head-size"]["answer"] is None  # skipped
        assert {(b.question_id, b.box) for b in store.review_boxes()} == {("pick", 1), ("head-size", 1)}


def test_q_saves_what_was_answered_and_ends(course_env):
    root, env = course_env
    inputs = right_inputs(root)
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    answer(child, inputs["pick"])
    answer(child, "f")
    answer(child, "q")
    child.expect_exact("Stopped: 2 of 5 answered, all saved; 3 to go.")
    child.expect_exact("Score so far: 2 of 5 answered, 1 point of 2")
    child.expect_exact(f"Go on where you stopped: course --course tiny quiz intro (same seed {SEED})")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with store_of(env) as store:
        [attempt] = store.attempts("intro")
        assert attempt["status"] == "abandoned" and attempt["score"] == 1.0
        assert [a["question_id"] for a in store.attempt_answers(attempt["id"])] == ["pick", "static"]


def test_ctrl_c_saves_what_was_answered_and_exits_130(course_env):
    root, env = course_env
    inputs = right_inputs(root)
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    answer(child, inputs["pick"])
    child.expect_exact("Question 2/5")
    child.expect_exact("> ")
    child.sendintr()
    child.expect_exact("Stopped: 1 of 5 answered, all saved; 4 to go.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in child.before
    with store_of(env) as store:
        [attempt] = store.attempts("intro")
        assert attempt["status"] == "abandoned"
        assert [a["question_id"] for a in store.attempt_answers(attempt["id"])] == ["pick"]


def test_end_of_input_saves_like_q(course_env):
    root, env = course_env
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    answer(child, "s")
    child.expect_exact("> ")
    child.sendeof()
    child.expect_exact("Stopped: 0 of 5 answered, 1 skipped, all saved; 4 to go.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_without_seed_a_random_seed_is_printed(course_env):
    root, env = course_env
    child = spawn(root, env, "quiz", "1")  # the lesson number works too
    child.expect(r"Tiny quiz · 5 questions · seed (\d+)")
    seed = int(child.match.group(1))
    answer(child, "q")
    child.expect_exact(f"course --course tiny quiz intro --seed {seed}")
    child.expect(pexpect.EOF)


def test_quit_and_resume_goes_on_with_the_same_seed_at_the_first_unanswered_question(course_env):
    root, env = course_env
    child = spawn(root, env, "quiz", "intro")  # no seed: a random one
    child.expect(r"Tiny quiz · 5 questions · seed (\d+)")
    seed = int(child.match.group(1))
    inputs = right_inputs(root, seed)
    child.expect_exact("Question 1/5")
    answer(child, inputs["pick"])
    child.expect_exact("Question 2/5")
    answer(child, "s")  # a skip is an answer: it is not asked again
    child.expect_exact("Question 3/5")
    answer(child, "q")
    child.expect_exact("Stopped: 1 of 5 answered, 1 skipped, all saved; 3 to go.")
    child.expect_exact(f"Go on where you stopped: course --course tiny quiz intro (same seed {seed})")
    child.expect(pexpect.EOF)

    again = spawn(root, env, "quiz", "intro")  # no seed again: the unfinished attempt's
    again.expect_exact(f"Tiny quiz · 5 questions · seed {seed}")
    again.expect_exact("Resuming your unfinished attempt: 2 of 5 answered, going on at question 3")
    again.expect_exact("Question 3/5")
    for question_id in ("head-size", "order", "weights"):
        answer(again, inputs[question_id])
        again.expect_exact("✓ Correct.")
    again.expect_exact("Done: 4 of 5 answered, 1 skipped.")
    again.expect_exact("Score: 4 of 5 answered (1 skipped), 4 points of 5 (80%)")
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0
    with store_of(env) as store:
        [attempt] = store.attempts("intro")  # one attempt across both sessions
        assert (attempt["status"], attempt["seed"], attempt["score"]) == ("finished", seed, 4.0)
        assert [a["question_id"] for a in store.attempt_answers(attempt["id"])] == [
            "pick", "static", "head-size", "order", "weights"]

    fresh = spawn(root, env, "quiz", "intro")  # finished: the next one is a new attempt, from question 1
    fresh.expect_exact("Question 1/5")
    answer(fresh, "q")  # an empty quit is not an attempt
    fresh.expect_exact("Stopped before the first answer: nothing was saved")
    fresh.expect(pexpect.EOF)
    with store_of(env) as store:
        assert len(store.attempts("intro")) == 1
        assert store.lesson_summary("intro").unfinished == 0


def test_another_seed_is_refused_while_an_attempt_is_unfinished_and_restart_starts_over(course_env):
    root, env = course_env
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    answer(child, right_inputs(root)["pick"])
    answer(child, "q")
    child.expect(pexpect.EOF)
    refused = run(root, env, "quiz", "intro", "--seed", "9")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"unfinished attempt at this quiz with seed {SEED} (1 of 5 answered)" in refused.stderr
    assert "course --course tiny quiz intro --restart --seed 9" in refused.stderr
    restarted = spawn(root, env, "quiz", "intro", "--restart", "--seed", "9")
    restarted.expect_exact("Tiny quiz · 5 questions · seed 9")
    restarted.expect_exact("Question 1/5")
    answer(restarted, "s")
    answer(restarted, "q")
    restarted.expect(pexpect.EOF)
    with store_of(env) as store:
        first, second = store.attempts("intro")
        assert (first["seed"], first["status"], second["seed"]) == (SEED, "abandoned", 9)
        assert store.unfinished_attempt("intro")["id"] == second["id"]
    resumed = spawn(root, env, "quiz", "intro")
    resumed.expect_exact("Tiny quiz · 5 questions · seed 9")
    resumed.expect_exact("Question 2/5")
    answer(resumed, "q")
    resumed.expect(pexpect.EOF)


def test_review_brings_back_missed_questions_and_moves_boxes(course_env):
    root, env = course_env
    inputs = right_inputs(root)
    child = spawn(root, env, "quiz", "intro", "--seed", str(SEED))
    for text in ("s", "f", inputs["head-size"], inputs["order"], "softmax"):
        answer(child, text)
    child.expect(pexpect.EOF)
    review = spawn(root, env, "review", "--seed", str(SEED))
    review.expect_exact("2 questions to review")
    review.expect_exact("Review 1/2 · intro")
    answer(review, right_inputs(root)["pick"])
    review.expect_exact("→ box 2: back in 1 day")
    answer(review, "f")
    review.expect_exact("→ box 1: due again now")
    review.expect_exact("Reviewed 2: 1 right")
    review.expect(pexpect.EOF)
    review.close()
    assert review.exitstatus == 0
    with store_of(env) as store:
        assert {(b.question_id, b.box) for b in store.review_boxes()} == {("pick", 2), ("static", 1)}
        assert store.lesson_summary("intro").attempts == 1  # review sessions are not quiz attempts
    again = spawn(root, env, "review", "--max", "5")
    again.expect_exact("1 question to review")
    answer(again, "q")
    again.expect(pexpect.EOF)


# --------------------------------------------------------------------------- non-interactive commands


def run(root: Path, env: dict, *args: str, input: str | None = None):
    return courserunner.run_course("--course", root.name, *args, env=env, timeout=60, input=input, cwd=root.parent)


def test_key_fed_back_as_answers_scores_full_marks_for_several_seeds(course_env, tmp_path):
    root, env = course_env
    for seed in ("0", "1", "2", "99"):
        key = run(root, env, "quiz", "intro", "--key", "--seed", seed)
        assert key.returncode == 0, key.stderr
        path = tmp_path / f"key-{seed}.yaml"
        path.write_text(key.stdout, encoding="utf-8")
        graded = run(root, env, "quiz", "intro", "--answers", str(path), "--format", "json", "--seed", seed)
        assert graded.returncode == 0, graded.stderr
        report = json.loads(graded.stdout)
        assert report["score"] == report["max_score"] == 5
        assert report["lesson"] == "intro" and all(q["correct"] for q in report["questions"])
        assert {"id", "kind", "correct", "feedback"} <= set(report["questions"][0])


def test_answers_below_the_pass_mark_exit_1_and_text_fits_80_columns(course_env, tmp_path):
    root, env = course_env
    path = tmp_path / "answers.yaml"
    path.write_text("pick: LSTM\nstatic: false\norder: [BERT, Transformer, Word2Vec]\nweights: a normalization function\n", encoding="utf-8")
    graded = run(root, env, "quiz", "intro", "--answers", str(path))
    assert graded.returncode == 1, graded.stderr
    assert "Score: 4 of 5 answered (1 skipped), 0.33 points of 5 (7%)" in graded.stdout
    assert "Re-read (course --course tiny read intro):" in graded.stdout
    assert all(len(line) <= 80 for line in graded.stdout.splitlines())
    assert "\x1b[" not in graded.stdout  # no styling when not a terminal
    assert not (Path(env["COURSE_HOME"]) / "progress.sqlite3").exists()  # --answers records nothing


def test_an_answers_file_records_its_seed_and_without_one_numeric_variants_are_refused(course_env, tmp_path):
    root, env = course_env
    key = run(root, env, "quiz", "intro", "--key", "--seed", "3")
    assert "_seed: 3" in key.stdout.splitlines()
    path = tmp_path / "key.yaml"
    path.write_text(key.stdout, encoding="utf-8")
    graded = run(root, env, "quiz", "intro", "--answers", str(path), "--format", "json")  # no --seed: the file's
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    assert (report["seed"], report["score"], report["answered"], report["question_count"]) == (3, 5, 5, 5)
    conflict = run(root, env, "quiz", "intro", "--answers", str(path), "--seed", "4")
    assert conflict.returncode == 2 and "records _seed: 3, but --seed 4 was given" in conflict.stderr
    unseeded = tmp_path / "unseeded.yaml"
    unseeded.write_text("\n".join(line for line in key.stdout.splitlines() if not line.startswith("_seed")),
                        encoding="utf-8")
    refused = run(root, env, "quiz", "intro", "--answers", str(unseeded))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "numeric questions whose numbers depend on the seed (head-size)" in refused.stderr
    assert "add `_seed: N` to the file" in refused.stderr and "or pass --seed N" in refused.stderr
    given = run(root, env, "quiz", "intro", "--answers", str(unseeded), "--seed", "3")
    assert given.returncode == 0, given.stderr
    no_numbers = tmp_path / "no-numbers.yaml"
    no_numbers.write_text("pick: Transformer\n", encoding="utf-8")  # nothing seed-dependent: no seed needed
    assert run(root, env, "quiz", "intro", "--answers", str(no_numbers)).returncode == 1
    bad = tmp_path / "bad-seed.yaml"
    bad.write_text("_seed: three\npick: Transformer\n", encoding="utf-8")
    wrong = run(root, env, "quiz", "intro", "--answers", str(bad))
    assert wrong.returncode == 2 and f"{bad}:1:8: _seed: the seed is a whole number" in wrong.stderr


def test_unknown_question_id_in_answers_exits_2_with_file_and_line(course_env, tmp_path):
    root, env = course_env
    path = tmp_path / "answers.yaml"
    path.write_text("pick: Transformer\nnope: 1\n", encoding="utf-8")
    graded = run(root, env, "quiz", "intro", "--answers", str(path), "--format", "json")
    assert graded.returncode == 2
    assert f"{path}:2:1: unknown question id 'nope'" in graded.stderr
    assert "Traceback" not in graded.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("quiz", "intro", "--key", "--answers", "x.yaml"), "--key and --answers cannot be used together"),
        (("quiz", "nope"), "unknown lesson 'nope'"),
        (("quiz", "intro", "--format", "json"), "--format applies to --answers only"),
        (("quiz", "intro", "--answers", "missing.yaml"), "missing.yaml: file not found"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(course_env, args, message):
    root, env = course_env
    result = run(root, env, *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_progress_shows_quiz_scores_and_reset_asks_first(course_env, tmp_path):
    root, env = course_env
    key = run(root, env, "quiz", "intro", "--key").stdout
    inputs = right_inputs(root, 0)
    child = spawn(root, env, "quiz", "intro", "--seed", "0")
    for question_id in ("pick", "static", "head-size", "order", "weights"):
        answer(child, inputs[question_id])
    child.expect(pexpect.EOF)
    assert key
    text = run(root, env, "progress")
    assert text.returncode == 0 and "intro" in text.stdout and "5/5 100%" in text.stdout
    assert re.search(r"^  double +not started +0 of 1 +-$", text.stdout, re.M), text.stdout
    data = json.loads(run(root, env, "progress", "--format", "json").stdout)
    [lesson] = data["lessons"]
    assert lesson["best"]["score"] == 5 and lesson["attempts"] == 1
    refused = run(root, env, "progress", "--reset")  # no terminal, no --yes: refuse
    assert refused.returncode == 2 and "--yes" in refused.stderr
    asked = spawn(root, env, "progress", "--reset")
    asked.expect_exact("Delete all progress in")
    asked.sendline("n")
    asked.expect_exact("Nothing deleted.")
    asked.expect(pexpect.EOF)
    assert json.loads(run(root, env, "progress", "--format", "json").stdout)["lessons"][0]["attempts"] == 1
    assert run(root, env, "progress", "--reset", "--yes").returncode == 0
    assert json.loads(run(root, env, "progress", "--format", "json").stdout)["lessons"][0]["attempts"] == 0
