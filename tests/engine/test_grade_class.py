"""`course grade` for real classes: --exercise, --shard K/N, `course merge`, an honest progress line.

Real folders, the real command, the real sandbox. A class graded as three shards and
merged must give the same files as one run over the whole class (apart from timestamps).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from course.instructor.submissions import shard_of
from course.paths import builtin_root
from gradeoutputs import outputs, run_course

ROOT = builtin_root()


def source(exercise_id: str, name: str = "reference.py") -> str:
    return (ROOT / "exercises" / exercise_id / name).read_text()


def make_class(subs: Path, count: int = 9) -> list[str]:
    """Students with right, wrong, crashing, unchanged and missing files for softmax and causal_mask."""
    names = [f"student{i:02d}" for i in range(count)]
    kinds = [
        {"softmax": source("softmax"), "causal_mask": source("causal_mask")},
        {"softmax": source("softmax", "mistakes/no_max_subtraction.py")},
        {"softmax": "def softmax(x, axis=-1):\n    raise ValueError('no')\n", "causal_mask": source("causal_mask", "starter.py")},
        {"causal_mask": "def causal_mask(n:\n", "layer_norm": source("layer_norm")},
    ]
    for index, name in enumerate(names):
        folder = subs / name
        folder.mkdir(parents=True)
        for exercise_id, text in kinds[index % len(kinds)].items():
            (folder / f"{exercise_id}.py").write_text(text)
    (subs / "notes.txt").write_text("not a student\n")
    return names


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return [row for row in csv.reader(line for line in f if not line.startswith("#"))]


@pytest.fixture(scope="module")
def whole_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    subs = base / "subs"
    names = make_class(subs)
    env = dict(os.environ, COURSE_HOME=str(base / "home"))
    done = run_course("grade", "subs", "--out", "all", "--exercise", "softmax", "--exercise", "causal_mask",
                      cwd=base, env=env)
    return {"base": base, "subs": subs, "names": names, "env": env, "done": done}


def test_exercise_grades_only_what_was_assigned(whole_class):
    done, base = whole_class["done"], whole_class["base"]
    assert done.returncode == 1, done.stdout + done.stderr
    rows = read_csv(base / "all" / "grades.csv")
    assert rows[0] == ["student", "causal_mask", "causal_mask status", "softmax", "softmax status", "total"]
    assert rows[1][0] == "Points Possible"
    data = json.loads((base / "all" / "results.json").read_text())
    assert [e["id"] for e in data["exercises"]] == ["causal_mask", "softmax"]
    # layer_norm.py is there but not assigned: neither graded nor noted; nothing else is missed
    student03 = next(s for s in data["students"] if s["student"] == "student03")
    assert [r["exercise"] for r in student03["results"]] == ["causal_mask", "softmax"]
    assert student03["notes"] == []
    statuses = {row[0]: (row[2], row[4]) for row in rows[2:]}
    assert statuses["student00"] == ("passed", "passed")
    assert statuses["student01"] == ("not_submitted", "failed")
    assert statuses["student02"] == ("not_attempted", "failed")  # it raises: a failed case
    assert statuses["student03"] == ("error", "not_submitted")


def test_a_class_that_did_every_assigned_exercise_passes_whatever_else_is_missing(tmp_path):
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    (tmp_path / "subs" / "ada" / "softmax.py").write_text(source("softmax"))
    done = run_course("grade", "subs", "--out", "out", "--exercise", "softmax", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ada: 1/1 exercises passed, 9/9 points" in done.stdout


def test_an_unknown_exercise_is_refused_before_grading(tmp_path):
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    done = run_course("grade", "subs", "--out", "out", "--exercise", "softmx", cwd=tmp_path)
    assert done.returncode == 2 and "did you mean softmax?" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("shard", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_a_bad_shard_exits_2(tmp_path, shard):
    (tmp_path / "subs").mkdir()
    done = run_course("grade", "subs", "--out", "out", "--shard", shard, cwd=tmp_path)
    assert done.returncode == 2 and "--shard" in done.stderr and "Traceback" not in done.stderr


def test_shards_split_the_class_by_a_stable_hash_of_the_folder_name():
    names = [f"student{i}" for i in range(300)]
    counts = [sum(1 for n in names if shard_of(n, 3) == k) for k in (1, 2, 3)]
    assert sum(counts) == 300 and min(counts) > 70
    # fixed values: the split must not depend on the machine, the run or PYTHONHASHSEED
    assert [shard_of(n, 4) for n in ("alice", "bob", "José")] == [
        int.from_bytes(__import__("hashlib").sha256(n.encode()).digest()[:8], "big") % 4 + 1
        for n in ("alice", "bob", "José")]


def test_merged_shards_are_the_files_one_run_writes(whole_class):
    base, env = whole_class["base"], whole_class["env"]
    seen = []
    for k in (1, 2, 3):
        done = run_course("grade", "subs", "--out", f"shard{k}", "--exercise", "softmax", "--exercise",
                          "causal_mask", "--shard", f"{k}/3", "--jobs", "1", cwd=base, env=env)
        assert done.returncode in (0, 1), done.stdout + done.stderr
        assert done.stdout.splitlines()[1:2] != []
        shard_data = json.loads((base / f"shard{k}" / "results.json").read_text())
        assert shard_data["shard"] == f"{k}/3"
        seen += [s["student"] for s in shard_data["students"]]
    assert sorted(seen) == whole_class["names"]  # every student in exactly one shard
    merged = run_course("merge", "shard3", "shard1", "shard2", "--out", "merged", cwd=base, env=env)
    assert merged.returncode == whole_class["done"].returncode, merged.stdout + merged.stderr
    assert outputs(base / "merged") == outputs(base / "all")
    assert (base / "merged" / "grades.csv").read_text() == (base / "all" / "grades.csv").read_text()


def test_merge_refuses_outputs_that_do_not_fit_together(whole_class, tmp_path):
    base, env = whole_class["base"], whole_class["env"]
    for k in (1, 2):
        run_course("grade", "subs", "--out", f"two{k}", "--exercise", "softmax", "--shard", f"{k}/2", "--jobs", "1",
                   cwd=base, env=env)
    run_course("grade", "subs", "--out", "soft", "--exercise", "softmax", "--jobs", "1", cwd=base, env=env)
    cases = [
        (["two1"], "shard 2/2 is missing"),
        (["two1", "two1"], "given twice"),
        (["two1", "soft"], "graded the whole class"),
        (["two1", "all"], "use the same --exercise"),
        (["all", str(tmp_path)], "holds no results.json"),
    ]
    for outs, message in cases:
        done = run_course("merge", *outs, "--out", str(tmp_path / "m"), cwd=base, env=env)
        assert done.returncode == 2 and message in done.stderr, (outs, done.stderr)
        assert "Traceback" not in done.stderr
    other = run_course("merge", "two1", "two2", "--out", str(tmp_path / "ok"), cwd=base, env=env)
    assert other.returncode == 1, other.stderr
    partial = base / "partial"
    shutil.copytree(base / "two1", partial)
    data = json.loads((partial / "results.json").read_text())
    data["partial"] = True
    (partial / "results.json").write_text(json.dumps(data))
    done = run_course("merge", "partial", "two2", "--out", str(tmp_path / "m2"), cwd=base, env=env)
    assert done.returncode == 2 and "partial" in done.stderr


def test_progress_names_the_file_a_worker_waits_on_instead_of_a_frozen_estimate(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    root = tmp_path / "course-root"
    for folder in ("content", "exercises"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    yaml = root / "exercises" / "softmax" / "exercise.yaml"
    yaml.write_text(yaml.read_text().replace("wall_seconds: 10", "wall_seconds: 4"))
    subs = tmp_path / "subs"
    for name in ("ann", "ben"):
        (subs / name).mkdir(parents=True)
        (subs / name / "softmax.py").write_text(source("softmax"))
    (subs / "zed").mkdir()
    # it waits (the wall limit stops it): a busy loop would burn 4 s of the machine's CPU for the same line
    (subs / "zed" / "softmax.py").write_text("import time\ndef softmax(x, axis=-1):\n    time.sleep(3600)\n")
    child = pexpect.spawn(sys.executable, ["-m", "course", "--course", str(root), "grade", "subs", "--out", "out",
                                           "--exercise", "softmax"],
                          cwd=str(tmp_path), env=dict(os.environ, NO_COLOR="1", COLUMNS="200"), encoding="utf-8",
                          timeout=120, dimensions=(24, 200))
    child.expect(r"waiting on zed/softmax\.py: (\d+) s of its 4 s limit")
    first = int(child.match.group(1))
    child.expect(r"waiting on zed/softmax\.py: (\d+) s of its 4 s limit")
    assert int(child.match.group(1)) >= first  # it counts up while the worker waits
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "3/3 students, 3/3 files" in child.before
    assert "00:00:00" not in child.before
