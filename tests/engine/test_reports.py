"""The report renderers on results built by hand: one result, several (batch grading), odd text."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from course.grading.results import CaseResult, CheckResult, Isolation, Status
from course.reports import gradescope, junit, text
from course.reports import json as json_report


def result(exercise: str, *, passed: bool, status: Status | None = None, output: str = "") -> CheckResult:
    cases = (
        CaseResult("visible_one", "public", 1.0, 1.0, True, "", "passed"),
        CaseResult("secret_one", "hidden", 2.0, 2.0 if passed else 0.0, passed,
                   "" if passed else "values", "passed" if passed else "values differ from the expected output",
                   "" if passed else "no_scale", "" if passed else "divide by sqrt(d_k)"),
    )
    return CheckResult(
        exercise=exercise,
        status=status or (Status.PASSED if passed else Status.FAILED),
        score=3.0 if passed else 1.0,
        max_score=3.0,
        cases=cases,
        output=output,
        isolation=Isolation(False, "limited: no namespaces here"),
        seconds=0.25,
        advice=() if passed else ("divide by sqrt(d_k)",),
    )


def test_json_of_one_result_is_the_result_and_of_several_has_totals():
    one = json.loads(json_report.render(result("softmax", passed=True)))
    assert one["exercise"] == "softmax" and one["passed"] is True and len(one["cases"]) == 2
    many = json.loads(json_report.render([result("softmax", passed=True), result("self_attention", passed=False)]))
    assert many["passed"] is False and many["score"] == 4.0 and many["max_score"] == 6.0
    assert [r["exercise"] for r in many["results"]] == ["softmax", "self_attention"]


def test_junit_of_several_results_has_a_suite_each_and_survives_control_characters():
    xml = junit.render([result("softmax", passed=True), result("attention", passed=False, output="\x1b[31m<oops>&\x00")])
    root = ET.fromstring(xml)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["softmax", "attention"]
    assert root.get("tests") == "4" and root.get("failures") == "1"
    failure = suites[1].find("testcase[@name='secret_one']/failure")
    assert failure.get("message") == "values differ from the expected output"
    assert "divide by sqrt(d_k)" in failure.text
    assert "<oops>&" in suites[1].find("system-out").text


def test_junit_reports_a_broken_submission_as_errors():
    broken = result("softmax", passed=False, status=Status.ERROR)
    suite = ET.fromstring(junit.render(broken)).find("testsuite")
    assert suite.get("errors") == "1" and suite.get("failures") == "0"


def test_gradescope_visibility_and_names_for_several_exercises():
    data = json.loads(gradescope.render([result("softmax", passed=True), result("attention", passed=False)]))
    assert data["score"] == 4.0
    assert [t["name"] for t in data["tests"]] == [
        "softmax: visible_one", "softmax: secret_one", "attention: visible_one", "attention: secret_one"]
    assert [t["visibility"] for t in data["tests"]][:2] == ["visible", "after_published"]
    assert data["stdout_visibility"] == "hidden"
    assert data["tests"][3]["status"] == "failed" and "divide by sqrt(d_k)" in data["tests"][3]["output"]


def test_text_shows_marks_advice_and_the_isolation_note_once():
    out = text.render([result("softmax", passed=True), result("attention", passed=False)], unicode=True)
    assert "  ✓ visible_one" in out
    assert "  ✗ secret_one [hidden]: values differ from the expected output" in out
    assert "divide by sqrt(d_k)" in out
    assert out.count("Note: isolation limited") == 1
    ascii_out = text.render(result("attention", passed=False), unicode=False)
    assert "PASS visible_one" in ascii_out and "FAIL secret_one" in ascii_out
    assert "\x1b" not in ascii_out


def test_text_is_coloured_only_when_asked():
    assert "\x1b[" not in text.render(result("softmax", passed=False))
    assert "\x1b[" in text.render(result("softmax", passed=False), color=True)
