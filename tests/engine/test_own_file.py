"""Progress belongs to the student's own file: the file `course start` wrote, or one adopted
with `course start EXERCISE --adopt FILE`. Checks of anything else (a scratch file, a
second folder, a notebook function) are shown and kept as attempts, and never change the
exercise's status. Real commands, real files, the real progress store."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import courserunner
import course
from course.paths import builtin_root
from course.progress.store import open_store

SOFTMAX = builtin_root() / "exercises" / "softmax"


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8", COLUMNS="100")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=120)


def status(cwd: Path) -> dict:
    data = json.loads(run_course("progress", "--format", "json", cwd=cwd).stdout)
    return next(e for e in data["exercises"] if e["id"] == "softmax")


def test_only_the_own_file_sets_the_status_and_other_checks_are_kept_as_attempts(tmp_path, home):
    work, other = tmp_path / "work", tmp_path / "other"
    assert run_course("start", "softmax", "--dir", str(work), cwd=tmp_path).returncode == 0
    (work / "softmax.py").write_text((SOFTMAX / "reference.py").read_text())
    mine = run_course("check", "softmax", cwd=tmp_path)  # no FILE: the started one
    assert mine.returncode == 0 and "kept as an attempt" not in mine.stdout
    assert status(tmp_path)["status"] == "passed"

    scratch = tmp_path / "scratch.py"
    scratch.write_text((SOFTMAX / "mistakes" / "wrong_axis.py").read_text())
    other.mkdir()
    (other / "softmax.py").write_text((SOFTMAX / "starter.py").read_text())
    for path in (scratch, other / "softmax.py"):  # a scratch file, a second folder
        done = run_course("check", "softmax", str(path), cwd=tmp_path)
        assert done.returncode == 1
        assert "Note: kept as an attempt: the status of softmax follows your own file" in " ".join(done.stdout.split())
        assert str(work / "softmax.py") in done.stdout.replace("\n  ", " ").replace("\n", "")
    from_notebook = course.check("softmax", SOFTMAX / "mistakes" / "no_max_subtraction.py")
    assert not from_notebook.passed and any("kept as an attempt" in note for note in from_notebook.notes)

    entry = status(tmp_path)
    assert entry["status"] == "passed" and entry["checks"] == 1 and entry["file"] == str(work / "softmax.py")
    assert entry["other_checks"]["count"] == 3 and entry["other_checks"]["latest"]["status"] == "failing"
    listing = run_course("exercises", cwd=tmp_path).stdout
    assert next(line for line in listing.splitlines() if line.startswith("softmax ")).split()[1] == "passed"
    text = run_course("progress", cwd=tmp_path).stdout
    assert "3 (latest: failing, no_max_subtraction.py)" in text

    adopted = run_course("start", "softmax", "--adopt", str(scratch), cwd=tmp_path)  # the scratch file becomes mine
    assert adopted.returncode == 0 and str(scratch) in adopted.stdout and "adopted" in adopted.stdout
    assert scratch.read_text() == (SOFTMAX / "mistakes" / "wrong_axis.py").read_text()  # nothing written
    again = run_course("check", "softmax", cwd=tmp_path)  # now checks the adopted file
    assert again.returncode == 1 and f"softmax ({scratch})" in again.stdout
    assert status(tmp_path)["status"] == "failing"


def test_without_an_own_file_a_check_says_how_to_get_one_and_sets_nothing(tmp_path, home):
    (tmp_path / "softmax.py").write_text((SOFTMAX / "reference.py").read_text())
    done = run_course("check", "softmax", "softmax.py", cwd=tmp_path)
    assert done.returncode == 0
    words = " ".join(done.stdout.split())
    assert "you have none yet (`course start softmax` writes one; `course start softmax --adopt FILE` makes a file " \
           "yours)" in words
    assert status(tmp_path)["status"] == "not started"
    with open_store() as store:
        assert store.exercise_summary("softmax")["other_checks"]["count"] == 1


def test_adopt_refuses_what_is_not_a_file_and_never_writes(tmp_path, home):
    missing = run_course("start", "softmax", "--adopt", "nope.py", cwd=tmp_path)
    assert missing.returncode == 2 and "file not found: nope.py" in missing.stderr
    assert "Traceback" not in missing.stderr and not (tmp_path / "softmax.py").exists()
    (tmp_path / "folder").mkdir()
    folder = run_course("start", "softmax", "--adopt", "folder", cwd=tmp_path)
    assert folder.returncode == 2 and "Traceback" not in folder.stderr
    both = run_course("start", "softmax", "--adopt", "x.py", "--force", cwd=tmp_path)
    assert both.returncode == 2 and "--adopt FILE takes the file as it is" in both.stderr
    with open_store() as store:
        assert store.started_path("softmax") is None
