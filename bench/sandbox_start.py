"""What starting a sandbox costs, and how much of it the grader hides.

    .venv/bin/python bench/sandbox_start.py [--runs 10]

Two ratios, each against a baseline measured in the same run on the same machine
(these used to be wall-clock asserts in tests/engine/test_sandbox.py; the tests now check
only what is true on any machine):

1. Asking which isolation the machine gives. Baseline: one real probe (the child
   program builds the whole jail and reports, probe._run). Measured: the answer as
   every later call in the process gets it, `sandbox.isolation_available()` (the probe
   is kept in memory; the isolation note is rebuilt). Target: ratio <= 0.1.
2. A call in a session whose child started while the parent worked. Baseline: a cold
   `sandbox.run` of one softmax call (start, import numpy and the file, call, reply).
   Measured: `session.run` of the same call after the parent spent 1 s on its own
   work (computing expected outputs, in real use). Target: ratio <= 0.5: the start-up
   is hidden, only the call and its reply remain.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOFTMAX = '''
import numpy as np

def softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
'''


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def report(name: str, baseline: list[float], measured: list[float], target: float) -> None:
    base, mine = statistics.median(baseline), statistics.median(measured)
    ratio = mine / base
    print(f"{name}: {mine * 1000:.3g} ms vs {base * 1000:.3g} ms (median of {len(measured)}), "
          f"ratio {ratio:.2g} (target <= {target}: {'met' if ratio <= target else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()

    import numpy as np

    from course.grading import sandbox
    from course.grading.sandbox import probe
    from course.grading.sandbox.records import Call, Limits

    probed = [seconds(probe._run) for _ in range(options.runs)]
    sandbox.isolation_available()  # the first call probes (or reads the boot's answer)
    cached = [seconds(sandbox.isolation_available) for _ in range(options.runs)]
    report("isolation_available() again vs a real probe", probed, cached, 0.1)

    x = np.random.default_rng(0).normal(size=(3, 5))
    limits = Limits(wall_seconds=10.0, cpu_seconds=10)
    calls = [Call((x,))]
    cold, warm = [], []
    for _ in range(options.runs):  # interleaved, so machine load hits both alike
        cold.append(seconds(lambda: sandbox.run(SOFTMAX, filename="softmax.py", function="softmax",
                                                calls=calls, limits=limits)))
        with sandbox.start(SOFTMAX, filename="softmax.py", function="softmax", limits=limits) as session:
            time.sleep(1.0)  # the parent's own work while the child starts
            warm.append(seconds(lambda: session.run(calls)))
    report("a call after the child had time to start vs a cold run", cold, warm, 0.5)


if __name__ == "__main__":
    main()
