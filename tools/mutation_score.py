"""The mutation score per source file, from the last `mutmut run` (docs/testing.md).

    python tools/mutation_score.py [--fail-under 85]

Reads `mutmut results --all true` ("course.grading.compare.x__values__mutmut_7: killed")
and prints, per file, the mutants detected (killed, or timed out) over all mutants; a
mutant that survived, had no test or was not checked counts against the score.
Exit 1 when a file is under --fail-under percent.
"""
from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys

LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x\S*__mutmut_\d+: (?P<status>.+?)\s*$")
DETECTED = {"killed", "timeout"}


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
    for module, statuses in sorted(counts.items()):
        total = sum(statuses.values())
        detected = sum(statuses[s] for s in DETECTED)
        score = 100.0 * detected / total
        low |= score < options.fail_under
        others = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()) if s not in DETECTED)
        print(f"{module.replace('.', '/')}.py: {detected}/{total} detected, {score:.1f}%" + (f" ({others})" if others else ""))
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
