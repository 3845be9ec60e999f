"""How fast is a re-check under `course check --watch`, against a cold `course check`?

    .venv/bin/python bench/watch_recheck.py [--saves 12] [--runs 8]

In the same run and on the same machine:
- cold: `course check softmax FILE` as a new process, `--runs` times (median);
- warm: one `course check softmax FILE --watch` process; the file is saved `--saves`
  times, alternating a correct and a wrong softmax, and each time the clock runs from
  the moment the file is written until the new result's first line is printed (what a
  student waits for: the poll that notices the save, reading the file, a sandbox forked
  from the warm template, the comparisons and the report).

It prints both medians and the ratio. Target: ratio <= 0.3.
"""
from __future__ import annotations

import argparse
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT_LINE = "softmax ("  # the first line of a text report: "softmax (FILE): passed, 9/9 points"


def course_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "course", "--course", str(ROOT), *args]


def cold(path: Path, runs: int, env: dict) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(course_command("check", "softmax", str(path)), env=env, capture_output=True, cwd=path.parent)
        times.append(time.perf_counter() - started)
    return times


def warm(path: Path, saves: int, env: dict, sources: list[str]) -> list[float]:
    process = subprocess.Popen(course_command("check", "softmax", str(path), "--watch"), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=path.parent)
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""

    def wait_for(needle: str, timeout: float = 60.0) -> None:
        nonlocal buffer
        deadline = time.monotonic() + timeout
        while needle.encode() not in buffer:
            if time.monotonic() > deadline:
                raise SystemExit(f"{needle!r} not printed by course check --watch:\n{buffer.decode()[-2000:]}")
            if selector.select(0.5):
                chunk = os.read(process.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise SystemExit(f"course check --watch ended:\n{buffer.decode()[-2000:]}")
                buffer += chunk
        buffer = buffer[buffer.index(needle.encode()) + len(needle):]

    times = []
    try:
        wait_for("Watching")
        for i in range(saves):
            time.sleep(0.3)  # a student's pause between saves; the poll is idle meanwhile
            started = time.perf_counter()
            path.write_text(sources[i % len(sources)])
            wait_for(RESULT_LINE)
            times.append(time.perf_counter() - started)
            wait_for("Watching")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=12)
    parser.add_argument("--runs", type=int, default=8)
    options = parser.parse_args()
    exercise = ROOT / "exercises" / "softmax"
    sources = [(exercise / "reference.py").read_text(), (exercise / "mistakes" / "wrong_axis.py").read_text()]
    with tempfile.TemporaryDirectory(prefix="course-bench-watch-") as scratch:
        folder = Path(scratch)
        path = folder / "softmax.py"
        path.write_text(sources[0])
        env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1", COURSE_HOME=str(folder / "home"))
        env.pop("COURSE_ROOT", None)
        cold_times = cold(path, options.runs, env)
        warm_times = warm(path, options.saves, env, sources)
    cold_median, warm_median = statistics.median(cold_times), statistics.median(warm_times)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"cold `course check softmax FILE`: median {cold_median * 1000:.0f} ms of {len(cold_times)} runs")
    print(f"re-check under --watch, save to result: median {warm_median * 1000:.0f} ms of {len(warm_times)} saves "
          f"(min {min(warm_times) * 1000:.0f}, max {max(warm_times) * 1000:.0f})")
    print(f"ratio re-check / cold check: {warm_median / cold_median:.2f} (target <= 0.3)")


if __name__ == "__main__":
    main()
