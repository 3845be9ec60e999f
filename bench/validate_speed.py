"""How much a hostile YAML file (an alias bomb under 2 KB) costs `course validate`, against the clean course.

Baseline: `course validate` on a copy of the built-in course. Variant: the same copy with a
"billion laughs" alias bomb (a few hundred bytes, 9**9 values) added as a lesson. Both are timed as real subprocesses,
interleaved, in the same run; the ratio of medians is printed. Target: close to 1 (the bomb
is rejected before anything expands it), and the variant exits 2 with the FILE:LINE:COL.

    python bench/validate_speed.py [--runs N]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def alias_bomb() -> str:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(levels) + "\n"


def timed(root: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "course", "validate", str(root)], capture_output=True, text=True)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="course-validate-bench-") as tmp:
        clean, bombed = Path(tmp, "clean"), Path(tmp, "bombed")
        for root in (clean, bombed):
            shutil.copytree(REPO / "content", root / "content")
            shutil.copytree(REPO / "exercises", root / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
        bomb = alias_bomb()
        (bombed / "content" / "lesson-9").mkdir()
        (bombed / "content" / "lesson-9" / "lesson.yaml").write_text(bomb)
        times = {"clean": [], "bombed": []}
        for _ in range(runs):
            for name, root in (("clean", clean), ("bombed", bombed)):
                seconds, result = timed(root)
                times[name].append(seconds)
                expected = 0 if name == "clean" else 2
                if result.returncode != expected:
                    sys.exit(f"{name}: exit {result.returncode}, expected {expected}\n{result.stdout}{result.stderr}")
        print(f"alias bomb: {len(bomb)} bytes; reported as: {result.stdout.splitlines()[0]}")
        for name, values in times.items():
            print(f"course validate ({name:6s}) median {statistics.median(values):.3f} s  (n={runs})")
        ratio = statistics.median(times["bombed"]) / statistics.median(times["clean"])
        print(f"ratio bombed/clean: {ratio:.2f}")


if __name__ == "__main__":
    main()
