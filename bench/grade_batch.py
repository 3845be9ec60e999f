"""How fast is `course grade` per submission, against one `course check`?

    .venv/bin/python bench/grade_batch.py [--students 40] [--jobs 2] [--hangs 1] [--keep DIR]

A *submission* is one student's file for one exercise. This writes, in a temporary
folder, 40 student folders with a file for every exercise but one (every student
leaves one exercise out, in turn): 440 submissions for the 12 exercises. The files are, in a fixed rotation of 20:

    8  correct            the exercise's reference, as a student's file
    7  known mistake      the exercise's mistakes/*.py, in turn
    2  not attempted      the unchanged starter (graded without running anything)
    1  syntax error       does not load
    1  runtime error      raises in every call
    1  hostile            in turn: sys.exit(0) at import, 100 MB of output, reading the
                          reference solution, a lying __eq__ object, a fork loop, a 4 GB
                          allocation, os._exit in the call; plus `--hangs` (default 1)
                          infinite loops among them, each stopped by the exercise's
                          10 s time limit (one of the --jobs workers waits that long)

Then, in the same run and on the same machine: `course grade SUBMISSIONS --out DIR
--jobs 2` once (a subprocess, timed from start to exit), and, as the baseline, `course
check <exercise> <its reference>` five times (median) for every exercise of the mix:
"one check" is the mean of those medians weighted by each exercise's submissions, so a
mix with the tiny GPT in it is compared with checks of the tiny GPT too. It prints the
time per submission (batch wall time / submissions) and the ratio to one check.
Target: ratio <= 0.25 with --jobs 2.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROTATION = ["correct"] * 8 + ["mistake"] * 7 + ["starter"] * 2 + ["syntax", "raises", "hostile"]

HOSTILE = {
    "exits_at_import": "import sys\nsys.exit(0)\n",
    "floods_output": "def {function}(*args, **kwargs):\n    for _ in range(100):\n        print('x' * 1_000_000)\n",
    "reads_course_files": (
        "def {function}(*args, **kwargs):\n    return [len(open({reference!r}).read())]\n"),
    "lying_eq": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "def {function}(*args, **kwargs):\n    return Anything()\n"),
    "fork_loop": (
        "import os\ndef {function}(*args, **kwargs):\n    for _ in range(200):\n"
        "        try:\n            if os.fork() == 0:\n                os._exit(0)\n        except OSError:\n"
        "            break\n    return 0\n"),
    "huge_allocation": "def {function}(*args, **kwargs):\n    return bytearray(4 << 30)\n",
    "exits_in_call": "import os\ndef {function}(*args, **kwargs):\n    os._exit(0)\n",
}
HANG = "def {function}(*args, **kwargs):\n    while True:\n        pass\n"


def make_submissions(folder: Path, students: int, hangs: int) -> dict[str, int]:
    """Write the student folders; return how many files of each kind were written."""
    sys.path.insert(0, str(ROOT))
    from course.loader import load_course
    from course.paths import builtin_root

    course = load_course(builtin_root())
    exercises = list(course.exercises)
    counts: dict[str, int] = {}
    mistake_turn = {e.id: 0 for e in exercises}
    hostile_names = list(HOSTILE)
    hostile_turn = 0
    index = 0
    for number in range(students):
        student = folder / f"student{number:03d}"
        student.mkdir(parents=True)
        left_out = exercises[number % len(exercises)]
        for exercise in exercises:
            if exercise is left_out:
                continue
            kind = ROTATION[index % len(ROTATION)]
            index += 1
            if kind == "mistake" and not exercise.mistakes:
                kind = "correct"
            if kind == "correct":
                text = exercise.reference_path.read_text()
            elif kind == "mistake":
                mistake = exercise.mistakes[mistake_turn[exercise.id] % len(exercise.mistakes)]
                mistake_turn[exercise.id] += 1
                text = (exercise.folder / mistake.file).read_text()
            elif kind == "starter":
                text = exercise.starter_path.read_text()
            elif kind == "syntax":
                text = f"def {exercise.function}(x\n    return x\n"
            elif kind == "raises":
                text = f"def {exercise.function}(*args, **kwargs):\n    raise ValueError('not yet')\n"
            elif hangs > 0:
                kind, hangs = "hostile: infinite loop", hangs - 1
                text = HANG.format(function=exercise.function)
            else:
                name = hostile_names[hostile_turn % len(hostile_names)]
                hostile_turn += 1
                kind = f"hostile: {name}"
                text = HOSTILE[name].format(function=exercise.function, reference=str(exercise.reference_path))
            (student / f"{exercise.id}.py").write_text(text)
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40,
                        help="student folders, each with every exercise but one (default 40)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--hangs", type=int, default=1, help="infinite loops among the hostile files (default 1)")
    parser.add_argument("--checks", type=int, default=5, help="single `course check` runs for the median (default 5)")
    parser.add_argument("--keep", metavar="DIR", help="write everything here and keep it (default: a temporary folder)")
    options = parser.parse_args()

    base = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="grade-batch-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        submissions, out, home = base / "submissions", base / "grades", base / "home"
        for folder in (submissions, out):
            shutil.rmtree(folder, ignore_errors=True)
        counts = make_submissions(submissions, options.students, options.hangs)
        total = sum(counts.values())
        env = dict(os.environ, COURSE_HOME=str(home), NO_COLOR="1")
        env.pop("COURSE_ROOT", None)
        python = [sys.executable, "-m", "course"]

        sys.path.insert(0, str(ROOT))
        from course.loader import load_course

        course = load_course(ROOT)
        per_exercise = {e.id: len(list(submissions.glob(f"*/{e.id}.py"))) for e in course.exercises}
        references = base / "references"
        references.mkdir(exist_ok=True)
        for exercise in course.exercises:  # what a student's correct file of each exercise is
            (references / f"{exercise.id}.py").write_text(exercise.reference_path.read_text())
        timed(python + ["check", "softmax", str(references / "softmax.py")], env, base)  # warm the file cache
        batch_seconds, done = timed(python + ["grade", str(submissions), "--out", str(out),
                                              "--jobs", str(options.jobs)], env, base)
        if done.returncode not in (0, 1):
            sys.exit(f"course grade failed (exit {done.returncode}):\n{done.stderr}")
        medians = {}
        for exercise_id, count in per_exercise.items():
            if not count:
                continue
            checks = []
            for _ in range(options.checks):
                seconds, run = timed(python + ["check", exercise_id, str(references / f"{exercise_id}.py")], env, base)
                if run.returncode != 0:
                    sys.exit(f"course check {exercise_id} failed (exit {run.returncode}):\n{run.stdout}{run.stderr}")
                checks.append(seconds)
            medians[exercise_id] = statistics.median(checks)
        one_check = sum(medians[e] * per_exercise[e] for e in medians) / sum(per_exercise[e] for e in medians)
        per_submission = batch_seconds / total

        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        print(f"a submission = one student's file for one exercise; {total} submissions from "
              f"{options.students} students (each left one exercise out: not submitted, not counted)")
        print("mix: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1])))
        print(f"course grade --jobs {options.jobs}: {batch_seconds:.2f} s for {total} submissions "
              f"= {per_submission * 1000:.0f} ms per submission")
        print(f"course check of each exercise's reference (median of {options.checks}): "
              + ", ".join(f"{e} {m * 1000:.0f} ms" for e, m in medians.items()))
        print(f"one check, weighted by the mix: {one_check * 1000:.0f} ms")
        print(f"ratio per submission / one check: {per_submission / one_check:.3f} (target <= 0.25)")
    finally:
        if not options.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
