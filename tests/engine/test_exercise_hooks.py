"""An exercise's own feedback.py: its probes, pictures and readings are used, for public cases only."""
from __future__ import annotations

import json
from pathlib import Path

import course
from coursefactory import write_course

TOTAL = """\
format_version: 1
id: total
title: Add them up
lesson: intro
section: basics
function: total
signature: total(x)
instructions: Return the sum of x.
hints:
  - np.sum.
tolerance: {rtol: 1.0e-9, atol: 1.0e-9}
cases:
  - name: seen
    visibility: public
    seed: 1
    args:
      - {normal: {shape: [4]}}
  - name: unseen
    visibility: hidden
    seed: 2
    args:
      - {normal: {shape: [5]}}
"""

FEEDBACK = '''\
import json
from pathlib import Path

CAPTIONS = {"mine": "the exercise's own picture"}
LOG = Path(__file__).with_name("calls.log")


def _log(what, case):
    with LOG.open("a") as f:
        f.write(json.dumps([what, case.name]) + "\\n")


def probes(case):
    _log("probes", case)
    return {"doubled": [((case.args[0] * 2,), {})]}


def panels(case):
    _log("panels", case)

    def draw(exercise, case, target):
        from course.plots import style

        plt = style.pyplot()
        fig, ax = plt.subplots()
        got = case.probes["doubled"][0][2].value  # what the student's function gave on the probe
        ax.bar([0, 1], [float(case.expected), float(got)])
        style.save(fig, target)
        return target

    return [("mine", draw)]


def explain(args, kwargs, expected, value):
    return f"HOOK: off by {value - expected:+.3f}"


def showcase(exercise, public):
    with LOG.open("a") as f:
        f.write(json.dumps(["showcase", sorted(public), [repr(args) for args, _ in public.values()]]) + "\\n")
    wrapper = "def _twice(x):\\n    return 2 * {}(x)\\n".format(exercise.function)

    def render(outcomes):
        return "; ".join(f"{float(o.value):.3f}" if o.status == "ok" else str(o.status) for o in outcomes)

    return {"title": "Twice your total", "wrapper": wrapper, "function": "_twice",
            "calls": [(args, kwargs) for args, kwargs in public.values()], "render": render}
'''


def hooked_course(root: Path) -> Path:
    write_course(root)
    folder = root / "exercises" / "total"
    folder.mkdir(parents=True)
    (folder / "exercise.yaml").write_text(TOTAL)
    (folder / "starter.py").write_text("def total(x):\n    raise NotImplementedError\n")
    (folder / "reference.py").write_text("def total(x):\n    return float(x.sum())\n")
    (folder / "feedback.py").write_text(FEEDBACK)
    lesson = root / "content" / "intro" / "lesson.yaml"
    lesson.write_text(lesson.read_text().replace("exercises: [double]", "exercises: [double, total]"))
    return root


def test_the_exercises_own_hooks_explain_probe_and_draw_public_failures(tmp_path, home):
    root = hooked_course(tmp_path / "root")
    (tmp_path / "total.py").write_text("def total(x):\n    return float(x.sum()) + 1.0\n")
    result = course.check("total", tmp_path / "total.py", course_dir=str(root), plots=tmp_path / "plots",
                          html=tmp_path / "report.html")
    seen = next(c for c in result.cases if c.name == "seen")
    unseen = next(c for c in result.cases if c.name == "unseen")
    assert "HOOK: off by +1.000" in seen.message
    assert "HOOK" not in unseen.message and unseen.message == "values differ from the expected output"
    assert (tmp_path / "plots" / "total-seen-mine.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "plots").glob("total-unseen-*"))
    calls = (root / "exercises" / "total" / "calls.log").read_text()
    assert "unseen" not in calls and '"probes", "seen"' in calls and '"panels", "seen"' in calls


def test_a_broken_feedback_py_costs_pictures_not_the_grade(tmp_path, home):
    root = hooked_course(tmp_path / "root")
    (root / "exercises" / "total" / "feedback.py").write_text("raise RuntimeError('broken hooks')\n")
    (tmp_path / "total.py").write_text("def total(x):\n    return float(x.sum()) + 1.0\n")
    result = course.check("total", tmp_path / "total.py", course_dir=str(root), plots=tmp_path / "plots")
    assert result.score == 0 and result.max_score == 2
    assert "HOOK" not in " ".join(c.message for c in result.cases)


def test_verify_reports_a_feedback_py_that_does_not_import(tmp_path, home):
    import os
    import subprocess
    import sys

    root = hooked_course(tmp_path / "root")
    (root / "exercises" / "total" / "feedback.py").write_text("raise RuntimeError('broken hooks')\n")
    done = subprocess.run([sys.executable, "-m", "course", "--course", str(root), "verify", "total"],
                          capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"), timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "feedback.py of 'total' does not import (RuntimeError: broken hooks)" in done.stdout


def test_the_showcase_hook_runs_the_students_code_on_public_cases_after_the_grade(tmp_path, home):
    import numpy as np

    from course.grading.expected import case_arguments
    from course.loader import load_course

    root = hooked_course(tmp_path / "root")
    (tmp_path / "total.py").write_text("def total(x):\n    return float(x.sum()) + 1.0\n")
    result = course.check("total", tmp_path / "total.py", course_dir=str(root))
    assert result.score == 0 and result.max_score == 2  # the grade first, as without the hook
    exercise = load_course(root).exercise("total")
    seen = case_arguments([c for c in exercise.cases if c.name == "seen"])["seen"][0][0]
    assert result.showcase.title == "Twice your total"
    assert result.showcase.text == f"{2 * (float(seen.sum()) + 1.0):.3f}"  # the student's total, in the sandbox
    calls = [json.loads(line) for line in (root / "exercises" / "total" / "calls.log").read_text().splitlines()]
    shown = [entry for entry in calls if entry[0] == "showcase"]
    assert shown and all(entry[1] == ["seen"] for entry in shown)  # never the hidden case, not even its name
    unseen = case_arguments([c for c in exercise.cases if c.name == "unseen"])["unseen"][0][0]
    assert np.asarray(unseen).size == 5 and all(repr(unseen) not in " ".join(entry[2]) for entry in shown)


def test_a_broken_showcase_costs_the_showcase_not_the_grade(tmp_path, home):
    root = hooked_course(tmp_path / "root")
    feedback = root / "exercises" / "total" / "feedback.py"
    feedback.write_text(feedback.read_text().replace('"function": "_twice"', '"function": "_missing"'))
    (tmp_path / "total.py").write_text("def total(x):\n    return float(x.sum())\n")
    result = course.check("total", tmp_path / "total.py", course_dir=str(root))
    assert result.passed and result.score == 2
    assert result.showcase is None
    assert any(note.startswith("the showcase could not run") for note in result.notes), result.notes
