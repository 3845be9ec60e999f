"""`--format json`: CheckResult.as_dict, as stable JSON.

One result: the result object itself ({"exercise", "passed", "score", "max_score",
"cases": [{"name", "passed", "message", ...}], ...}). Several (batch grading): an object
with the totals and "results", a list of those objects.
"""
from __future__ import annotations

import json as _json

from course.reports import Results, as_list


def render(result_or_results: Results) -> str:
    results = as_list(result_or_results)
    if len(results) == 1 and not isinstance(result_or_results, (list, tuple)):
        data = results[0].as_dict()
    else:
        data = {
            "passed": all(r.passed for r in results),
            "score": sum(r.score for r in results),
            "max_score": sum(r.max_score for r in results),
            "results": [r.as_dict() for r in results],
        }
    return _json.dumps(data, indent=2, ensure_ascii=False) + "\n"
