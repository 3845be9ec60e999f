"""`--format junit`: JUnit XML, one <testsuite> per exercise and one <testcase> per case.

Built with xml.etree so every text is escaped; characters XML 1.0 cannot hold at all
(control characters a submission may print) are dropped first. A failed case is a
<failure>; a case that could not run because the file does not load (or the run
crashed), or that the grader could not grade, an <error>; the submission's output goes
to the suite's <system-out>.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from course import untrusted
from course.grading.results import CheckResult, Status
from course.reports import Results, as_list


def clean(text: str) -> str:
    """Text that XML 1.0 can carry (course.untrusted.xml guards the sink)."""
    return untrusted.xml(text or "")


def render(result_or_results: Results, *, name: str = "course check") -> str:
    """The report; `name` labels the <testsuites> element (batch grading: the student)."""
    results = as_list(result_or_results)
    root = ET.Element("testsuites", name=clean(name))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in results:
        suite = _suite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(r.seconds for r in results):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(result: CheckResult) -> ET.Element:
    errors = result.status in (Status.ERROR, Status.COULD_NOT_GRADE)
    failed = [c for c in result.cases if not c.passed]
    suite = ET.Element(
        "testsuite",
        name=clean(result.exercise),
        tests=str(len(result.cases)),
        failures="0" if errors else str(len(failed)),
        errors=str(len(failed)) if errors else "0",
        time=f"{result.seconds:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("status", result.status.value),
        ("score", f"{result.score:g}"),
        ("max_score", f"{result.max_score:g}"),
        ("isolation", result.isolation.detail if result.isolation else "not run"),
    ):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    for case in result.cases:
        element = ET.SubElement(suite, "testcase", classname=clean(result.exercise), name=clean(case.name))
        if case.passed:
            continue
        tag = "error" if errors else "failure"
        headline = case.message.splitlines()[0] if case.message else str(case.check or "")
        problem = ET.SubElement(element, tag, message=clean(headline), type=clean(str(case.check or "failed")))
        body = case.message
        if case.advice:
            body += f"\nknown mistake '{case.mistake}': {case.advice}"
        if errors and (result.load_error or result.traceback):
            body += "\n" + (result.load_error or result.traceback)
        problem.text = clean(body)
    extra = "\n".join(x for x in (result.load_error, result.traceback, result.output, *result.notes, *result.advice) if x)
    if extra:
        ET.SubElement(suite, "system-out").text = clean(extra)
    return suite
