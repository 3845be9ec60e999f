"""Check one submission of one exercise: the one function every front end calls.

`course check`, `course.check()` in a notebook, `course grade` and `course verify` all
come here. The order of work is chosen for speed and for the trust boundary:

 1. an unchanged starter is "not attempted" without running anything;
 2. the sandboxed child is started first: it imports numpy and the submission while
    the parent builds the inputs and computes the expected outputs;
 3. one call per case (plus one per shift_invariant case, on the first argument + 10);
 4. every comparison happens here, in the parent (course.grading.compare);
 5. known-mistake outputs are computed only when something failed, to name it.

With a `details` collector (course.grading.details; only when pictures are asked for)
the parent also keeps the public cases' arrays, and after grading sends a few probe
calls for the failing public cases through a second sandbox run: grades never depend
on it, and without a collector nothing of this happens.
"""
from __future__ import annotations

import hashlib
import io
import math
import time
import tokenize
from typing import TYPE_CHECKING, Any, Sequence

from course.errors import ContentError, CourseError
from course.grading.results import CaseResult, CheckResult, Status, trim_output

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Course, Exercise  # pydantic: imported once the course is loaded, not before
    from course.grading.details import CheckDetails
    from course.progress.store import ProgressStore

STORE_STATUS = {  # results.Status -> the progress store's vocabulary
    Status.PASSED: "passed",
    Status.FAILED: "failing",
    Status.NOT_ATTEMPTED: "not_attempted",
    Status.ERROR: "error",
}


class SandboxRefused(CourseError):
    """strict mode, and this machine cannot isolate the submission (exit 2 with the reason)."""


def check_exercise(
    course: Course,
    exercise: Exercise,
    source: str,
    *,
    filename: str,
    strict: bool = False,
    progress: "ProgressStore | None" = None,
    session=None,
    details: "CheckDetails | None" = None,
) -> CheckResult:
    """Grade `source` (the text of the student's file) against every case of `exercise`.

    filename: how the file is named in tracebacks and reports (no file is needed).
    strict: refuse to grade (SandboxRefused) when the child cannot get namespaces.
    progress: a progress store to record the check in; a failing store adds a note
    to the result instead of losing the grade.
    session: a sandbox session already started on this source (see `start_early`);
    it is used and closed here.
    details: an empty CheckDetails to fill with the public cases' inputs, expected and
    actual outputs and, for failing public cases, probe outcomes (for the pictures).
    """
    started = time.monotonic()
    try:
        if is_unchanged_starter(exercise, source):
            message = f"not attempted: {filename} is still the starter code"
            result = _not_attempted(exercise, filename, message, None, started)
        else:
            result = _run_and_compare(course, exercise, source, filename, strict, started, session, details)
    finally:
        if session is not None:
            session.close()
    if details is not None:
        details.exercise, details.course = exercise.id, course
        details.hidden = tuple(c.name for c in exercise.cases if c.visibility == "hidden")
        if result.status is Status.FAILED:
            _run_probes(course, exercise, source, filename, strict, details)
    if progress is not None:
        result = _record(progress, result, source)
    return result


def start_early(root, exercise_id: str, source: str, *, filename: str, strict: bool = False):
    """Start the sandbox before the whole course is loaded and validated; None if not possible.

    Why: the child needs ~0.15-0.25 s to enter its namespaces and import numpy and the
    submission, and loading the whole course (every lesson and quiz) takes about as
    long. Reading just this exercise's file (with the loader's own code, 4 ms) is
    enough to start the child; the caller then loads the course as usual and passes
    the session to check_exercise. Any problem here (unknown exercise, content error,
    unchanged starter) returns None and the normal path reports it.
    """
    from pathlib import Path

    exercise = _preview_exercise(Path(root), exercise_id)
    if exercise is None or is_unchanged_starter(exercise, source):
        return None
    return start_session(exercise, source, filename, strict, _hidden_for_root(Path(root)))


def _preview_exercise(root, exercise_id: str) -> Exercise | None:
    """The exercise from its own exercise.yaml only, or None (then the normal path runs)."""
    from course.loader import preview_exercise

    try:
        return preview_exercise(root, exercise_id)
    except ContentError:
        return None


# --------------------------------------------------------------------------- not attempted


def is_unchanged_starter(exercise: Exercise, source: str) -> bool:
    """True when `source` is the starter up to comments, blank lines and spacing."""
    try:
        starter = exercise.starter_path.read_text(encoding="utf-8")
    except OSError:
        return False
    mine, theirs = _code_tokens(source), _code_tokens(starter)
    if mine is None or theirs is None:
        return _rstripped(source) == _rstripped(starter)
    return mine == theirs


def _code_tokens(source: str) -> list[tuple[int, str]] | None:
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    keep_type_only = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    try:
        return [
            (t.type, "" if t.type in keep_type_only else t.string)
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in skip
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def _rstripped(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _not_attempted(exercise: Exercise, filename: str, message: str, isolation, started: float, **extra) -> CheckResult:
    cases = tuple(
        CaseResult(c.name, c.visibility, c.points, 0.0, False, "not_attempted", message) for c in exercise.cases
    )
    return CheckResult(
        exercise=exercise.id,
        status=Status.NOT_ATTEMPTED,
        score=0.0,
        max_score=_max_score(exercise),
        cases=cases,
        isolation=isolation,
        seconds=time.monotonic() - started,
        hints=(1,) if exercise.hints else (),
        submission=filename,
        **extra,
    )


# --------------------------------------------------------------------------- running


def sandbox_limits(exercise: Exercise):
    from course.grading.sandbox import Limits

    wall = float(exercise.limits.wall_seconds)
    return Limits(wall_seconds=wall, cpu_seconds=max(1, math.ceil(wall)), memory_bytes=exercise.limits.memory_mb << 20)


def hidden_paths(course: Course) -> list:
    """What the child must not see: the engine, the course (references, hidden cases), progress."""
    return _hidden_for_root(course.root)


def _hidden_for_root(root) -> list:
    from course.paths import PACKAGE_DIR, course_home

    paths = [PACKAGE_DIR, root]
    try:
        paths.append(course_home())
    except Exception:  # no user data folder on this machine: nothing to hide there
        pass
    return paths


def start_session(exercise: Exercise, source: str, filename: str, strict: bool, hidden: Sequence):
    """The sandbox session for `source`, started now: the child's start-up (namespaces,
    numpy, the submission) overlaps the caller's work. SandboxRefused under --strict."""
    from course.grading import sandbox

    try:
        return sandbox.start(
            source,
            filename=filename,
            function=exercise.function,
            limits=sandbox_limits(exercise),
            hidden_paths=hidden,
            strict=strict,
        )
    except sandbox.SandboxUnavailable as error:
        raise SandboxRefused(f"--strict: refusing to grade without isolation: {error}") from None


def _run_and_compare(course, exercise, source, filename, strict, started, session=None, details=None) -> CheckResult:
    from course.grading import sandbox

    if session is None:
        session = start_session(exercise, source, filename, strict, hidden_paths(course))
    with session:
        from course.grading.expected import case_arguments, expected_outputs, shifted_arguments

        arguments = case_arguments(list(exercise.cases))
        expected = expected_outputs(course, exercise, arguments)
        calls = [sandbox.Call(args, kwargs) for args, kwargs in arguments.values()]
        shift_index = {}
        for case in exercise.cases:
            args, kwargs = arguments[case.name]
            if "shift_invariant" in case.checks and args:
                shift_index[case.name] = len(calls)
                calls.append(sandbox.Call(*shifted_arguments(args, kwargs)))
        try:
            run = session.run(calls)
        except sandbox.SandboxUnavailable as error:
            raise SandboxRefused(f"--strict: refusing to grade without isolation: {error}") from None
        except sandbox.SandboxError as error:
            raise CourseError(f"the grader could not run the submission: {error}") from None
    return _judge(course, exercise, filename, arguments, expected, run, shift_index, started, details)


def _judge(course, exercise, filename, arguments, expected, run, shift_index, started, details=None) -> CheckResult:
    from course.grading import compare

    isolation = run.isolation
    hidden_ran = any(case.visibility == "hidden" for case in exercise.cases)
    notes = []
    if not run.loaded:
        reason = _first_line(run.load_error) or "the file could not be loaded"
        cases = tuple(
            CaseResult(c.name, c.visibility, c.points, 0.0, False, "load", f"not run: the file could not be loaded ({reason})")
            for c in exercise.cases
        )
        return CheckResult(
            exercise=exercise.id, status=Status.ERROR, score=0.0, max_score=_max_score(exercise), cases=cases,
            load_error=run.load_error or reason, output=_output(run), isolation=isolation,
            seconds=time.monotonic() - started, submission=filename,
        )
    names = compare.argument_names(exercise.signature)
    observed = [compare.observed(o) for o in run.outcomes]
    if _all_not_implemented(observed[: len(exercise.cases)]):
        return _not_attempted(
            exercise, filename, f"not attempted: {exercise.function} still raises NotImplementedError", isolation, started,
            output="" if hidden_ran else _output(run),
        )
    student = {}
    for index, case in enumerate(exercise.cases):
        args, kwargs = arguments[case.name]
        got = observed[index]
        shifted = observed[shift_index[case.name]] if case.name in shift_index else None
        verdict = compare.compare_case(
            case, expected[case.name], got, args=args, kwargs=kwargs, shifted=shifted,
            function=exercise.function, arg_names=names,
        )
        student[case.name] = (verdict, got)
    failed = [case for case in exercise.cases if not student[case.name][0].passed]
    named = _name_mistakes(course, exercise, failed, arguments, expected, student, names) if failed else {}
    descriptions = {m.name: m for m in exercise.mistakes}
    results, advice = [], []
    for case in exercise.cases:
        verdict, _ = student[case.name]
        mistake = named.get(case.name, "")
        message = verdict.message
        if mistake:
            head, _, detail = message.partition("\n")
            message = f"{head}; looks like a known mistake: {descriptions[mistake].description}"
            message += f"\n{detail}" if detail else ""
            if descriptions[mistake].message not in advice:
                advice.append(descriptions[mistake].message)
        score = case.points if verdict.passed else 0.0
        results.append(CaseResult(
            case.name, case.visibility, case.points, score, verdict.passed, verdict.check, message, mistake,
            descriptions[mistake].message if mistake else "",
        ))
    if details is not None:
        _keep_details(details, exercise, arguments, expected, student, results)
    if run.termination.value != "completed":
        notes.append(f"sandbox: {run.termination_detail}")
    if hidden_ran and (run.stdout or run.stderr):
        notes.append("printed output is not shown because hidden cases were run")
    all_passed = all(r.passed for r in results)
    status = Status.ERROR if run.termination.value != "completed" else (Status.PASSED if all_passed else Status.FAILED)
    return CheckResult(
        exercise=exercise.id,
        status=status,
        score=float(sum(r.score for r in results)),
        max_score=_max_score(exercise),
        cases=tuple(results),
        traceback=_first_traceback(exercise, observed),
        output="" if hidden_ran else _output(run),
        isolation=isolation,
        seconds=time.monotonic() - started,
        advice=tuple(advice),
        hints=tuple(sorted({c.hint for c in failed if c.hint})),
        submission=filename,
        notes=tuple(notes),
    )


def _keep_details(details, exercise, arguments, expected, student, results) -> None:
    """The public cases' arrays for the pictures; hidden cases leave nothing but their names."""
    from course.grading.details import CaseDetails

    for case, result in zip(exercise.cases, results):
        if case.visibility != "public":
            continue
        args, kwargs = arguments[case.name]
        verdict, got = student[case.name]
        details.cases[case.name] = CaseDetails(
            case.name, args, kwargs, expected[case.name], got, verdict.passed, verdict.check, result.message,
            result.mistake,
        )


def _run_probes(course, exercise, source, filename, strict, details) -> None:
    """Probe calls for the failing public cases, in a second sandbox run (grades never depend on it)."""
    from course.grading import compare, sandbox
    from course.grading.details import probe_arguments

    plan = []  # (case details, probe kind, args, kwargs)
    for case in details.failing():
        for kind, calls in probe_arguments(exercise, case).items():
            plan += [(case, kind, args, kwargs) for args, kwargs in calls]
    if not plan:
        return
    try:
        session = start_session(exercise, source, filename, strict, hidden_paths(course))
        run = session.run([sandbox.Call(args, kwargs) for _, _, args, kwargs in plan])
    except (SandboxRefused, sandbox.SandboxUnavailable, sandbox.SandboxError) as error:
        details.notes.append(f"the extra calls for the pictures could not run: {error}")
        return
    for (case, kind, args, kwargs), outcome in zip(plan, run.outcomes):
        case.probes.setdefault(kind, []).append((args, kwargs, compare.observed(outcome)))


def _name_mistakes(course, exercise, failed, arguments, expected, student, names) -> dict[str, str]:
    """Run the known mistakes on the failed cases only and match the student's failures."""
    from course.grading import compare
    from course.grading.expected import mistake_runs

    if not exercise.mistakes:
        return {}
    subset = {case.name: arguments[case.name] for case in failed}
    runs = mistake_runs(course, exercise, subset)
    verdicts: dict[str, dict[str, tuple[Any, Any]]] = {}
    for mistake, per_case in runs.items():
        verdicts[mistake] = {}
        for case in failed:
            if case.name not in per_case:
                continue
            output, shifted = per_case[case.name]
            args, kwargs = arguments[case.name]
            verdict = compare.compare_case(
                case, expected[case.name], output, args=args, kwargs=kwargs, shifted=shifted,
                function=exercise.function, arg_names=names,
            )
            verdicts[mistake][case.name] = (verdict, output)
    return compare.name_mistakes(failed, student, verdicts)


def _all_not_implemented(observed) -> bool:
    from course.grading.compare import RAISED, exception_type

    return bool(observed) and all(o.status == RAISED and exception_type(o.error) == "NotImplementedError" for o in observed)


def _first_traceback(exercise: Exercise, observed) -> str:
    """The first exception a case raised, public cases first; a hidden case's message is left out."""
    from course.grading.compare import RAISED, exception_type

    raised = [(case, o) for case, o in zip(exercise.cases, observed) if o.status == RAISED and o.error]
    raised.sort(key=lambda pair: pair[0].visibility != "public")
    if not raised:
        return ""
    case, outcome = raised[0]
    text = outcome.error.strip()
    if case.visibility == "hidden":
        lines = text.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last")), len(lines))
        text = "\n".join([f"{exception_type(text)} (message not shown: hidden case)"] + lines[start:])
    return f"in case '{case.name}':\n{text}"


def _output(run) -> str:
    text = run.stdout
    if run.stderr:
        text = (text + ("\n" if text and not text.endswith("\n") else "") + run.stderr) if text else run.stderr
    return trim_output(text)


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _max_score(exercise: Exercise) -> float:
    return float(sum(case.points for case in exercise.cases))


# --------------------------------------------------------------------------- progress


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def _record(store: "ProgressStore", result: CheckResult, source: str) -> CheckResult:
    """Save the check; a store problem becomes a note on the result, never a lost grade."""
    from dataclasses import replace

    try:
        store.record_check(result.exercise, STORE_STATUS[result.status], result.score, result.max_score, source_digest(source))
    except Exception as error:  # the grade matters more than the bookkeeping
        return replace(result, notes=result.notes + (f"warning: progress not saved: {error}",))
    return result
