"""How fast `course check` refuses a 200 MB submission, against checking a correct one.

    .venv/bin/python bench/check_refusal.py [--runs 5]

A file over the submission size limit must be refused from its size alone, before a
byte of it is read or a sandbox is started (tests/engine/test_class_trust.py checks the
refusal and its message; this measures its speed, which used to be an assert there).
Baseline: `course check softmax` on the reference solution. Measured: the same command
on a sparse 200 MB file (it costs nothing to make). Both are real subprocesses,
interleaved, in the same run; the ratio of medians is printed. Target: ratio <= 1
(refusing costs a start-up and a stat, checking costs a sandbox too).
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


def timed(command: list[str], env: dict, cwd: Path, exit_code: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if done.returncode != exit_code:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}, not {exit_code}:\n"
                         f"{done.stdout.decode(errors='replace')}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (after one warm-up each)")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="course-bench-"))
    try:
        good, big = folder / "good" / "softmax.py", folder / "big" / "softmax.py"
        good.parent.mkdir()
        big.parent.mkdir()
        shutil.copy(ROOT / "exercises" / "softmax" / "reference.py", good)
        with open(big, "wb") as f:
            f.truncate(200 << 20)
        env = dict(os.environ, COURSE_HOME=str(folder / "home"), PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
        env.pop("COURSE_ROOT", None)
        command = [sys.executable, "-m", "course", "--course", str(ROOT), "check", "softmax"]
        checks = {"check": (command + [str(good)], 0), "refusal": (command + [str(big)], 2)}
        for argv, code in checks.values():  # warm-up: page cache, progress file
            timed(argv, env, folder, code)
        times: dict[str, list[float]] = {name: [] for name in checks}
        for _ in range(options.runs):
            for name, (argv, code) in checks.items():
                times[name].append(timed(argv, env, folder, code))
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, values in times.items():
            print(f"{name:8s} median {medians[name]:.3f} s   min {min(values):.3f} s   max {max(values):.3f} s   (n={len(values)})")
        ratio = medians["refusal"] / medians["check"]
        print(f"ratio refusal/check: {ratio:.2f} (target <= 1: {'met' if ratio <= 1 else 'NOT met'})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
