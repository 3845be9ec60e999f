"""The mutation score per source file, from the last `mutmut run` (docs/testing.md).

    python tools/mutation_score.py [--fail-under 85]

Reads `mutmut results --all true` ("course.grading.compare.x__values__mutmut_7: killed")
and prints, per file, the mutants detected (killed, or timed out) over all mutants; a
mutant that survived, had no test or was not checked counts against the score. The
files of one part are also scored together (GROUPS: "the loader" is course/loader.py,
which reads the files, with course/diagnose.py, which words pydantic's errors).
Exit 1 when a part (a group, or a file of none) is under --fail-under percent.
"""
from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys

LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x\S*__mutmut_\d+: (?P<status>.+?)\s*$")
DETECTED = {"killed", "timeout"}
GROUPS = {"the loader": ("course.loader", "course.diagnose")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-under", type=float, default=0.0, help="percent")
    options = parser.parse_args()
    listing = subprocess.run(["mutmut", "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in listing.splitlines():
        found = LINE.match(line)
        if found:
            counts[found["module"]][found["status"]] += 1
    if not counts:
        print("no mutants: run `mutmut run` first", file=sys.stderr)
        return 1
    low = False
    grouped = {module for modules in GROUPS.values() for module in modules}
    for module, statuses in sorted(counts.items()):
        score = _line(module.replace(".", "/") + ".py", statuses)
        low |= module not in grouped and score < options.fail_under
    for name, modules in GROUPS.items():
        together = sum((counts[m] for m in modules if m in counts), collections.Counter())
        if together:
            low |= _line(f"{name} ({', '.join(m.replace('.', '/') + '.py' for m in modules)})", together) \
                < options.fail_under
    return 1 if low else 0


def _line(what: str, statuses: collections.Counter) -> float:
    total = sum(statuses.values())
    detected = sum(statuses[s] for s in DETECTED)
    score = 100.0 * detected / total
    others = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()) if s not in DETECTED)
    print(f"{what}: {detected}/{total} detected, {score:.1f}%" + (f" ({others})" if others else ""))
    return score


if __name__ == "__main__":
    sys.exit(main())
