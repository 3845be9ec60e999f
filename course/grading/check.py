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

With `showcase=True` (`course check`), an exercise whose feedback.py has a `showcase`
hook (course.grading.hooks) then shows what the submission does, e.g. the text a
student's model generates: a second sandbox session runs the student's file with the
hook's trusted wrapper appended, on public cases only, and the hook turns the arrays
that come back into the report's text. The grade is final before it starts.
"""
from __future__ import annotations

import hashlib
import io
import math
import os
import time
import tokenize
from typing import TYPE_CHECKING, Any

from course import untrusted
from course.errors import ContentError, CourseError
from course.grading import diagnostics
from course.grading.checks import Check, message as check_message
from course.grading.results import CaseResult, CheckResult, Status, trim_output

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Course, Exercise  # pydantic: imported once the course is loaded, not before
    from course.grading.details import CheckDetails
    from course.progress.store import ProgressStore


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
    path: "str | os.PathLike[str] | None" = None,
    modules: "dict[str, str] | None" = None,
    showcase: bool = False,
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
    path: the file `source` was read from (None for a function's source): the progress
    store sets the exercise's status only from checks of the student's own file.
    modules: the student's other files the exercise lets the submission import (its
    `imports`), name -> source; by default read from beside `path`.
    showcase: after grading a submission that loads, run the exercise's `showcase` hook
    (if it has one) and attach what it shows to the result; the grade stays as it is.
    """
    started = time.monotonic()
    filename = untrusted.name(filename)  # it is shown in reports and tracebacks
    if modules is None:
        modules = student_modules(exercise, path)
    try:
        if is_unchanged_starter(exercise, source):
            message = f"not attempted: {filename} is still the starter code"
            result = _not_attempted(exercise, filename, message, None, started)
        else:
            result = _run_and_compare(course, exercise, source, filename, strict, started, session, details, modules)
    finally:
        if session is not None:
            session.close()
    if details is not None:
        details.exercise, details.course = exercise.id, course
        details.hidden = tuple(c.name for c in exercise.cases if c.visibility == "hidden")
        if result.status is Status.FAILED:
            _run_probes(course, exercise, source, filename, strict, details, modules)
    if showcase and (result.status in (Status.PASSED, Status.FAILED)
                     or (result.status is Status.ERROR and not result.load_error)):
        result = _with_showcase(result, exercise, source, filename, strict, modules)
    if progress is not None and result.status.kept:  # could not grade says nothing about the work
        result = _record(progress, result, source, path)
    return result


def student_modules(exercise, path) -> dict[str, str]:
    """The files beside `path` that the exercise lets the submission import (none without a path)."""
    imports = tuple(getattr(exercise, "imports", ()))
    if not imports or path is None:
        return {}
    from pathlib import Path

    from course.grading.submission import imported_sources

    return imported_sources(imports, Path(path).parent)


def start_early(root, exercise_id: str, source: str, *, filename: str, strict: bool = False, path=None):
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
    return start_session(exercise, source, untrusted.name(filename), strict,
                         modules=student_modules(exercise, path))


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


def _not_attempted(exercise: Exercise, filename: str, text: str, isolation, started: float, **extra) -> CheckResult:
    cases = tuple(
        CaseResult(c.name, c.visibility, c.points, 0.0, False, Check.NOT_ATTEMPTED, text) for c in exercise.cases
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


def sandbox_limits(exercise: Exercise, wall_seconds: float | None = None):
    """The exercise's limits; wall_seconds, when given, shortens its time limit (never lengthens it)."""
    from course.grading.sandbox import Limits

    wall = float(exercise.limits.wall_seconds)
    if wall_seconds:
        wall = min(float(wall_seconds), wall)
    return Limits(wall_seconds=wall, cpu_seconds=max(1, math.ceil(wall)), memory_bytes=exercise.limits.memory_mb << 20)


def start_session(exercise: Exercise, source: str, filename: str, strict: bool,
                  modules: "dict[str, str] | None" = None):
    """The sandbox session for `source`, started now: the child's start-up (namespaces,
    numpy, the submission) overlaps the caller's work. SandboxRefused under --strict.
    Where namespaces are, it is forked from the process's warm template (sandbox/template.py)."""
    from course.grading import sandbox

    try:
        return sandbox.start(
            source,
            filename=filename,
            function=exercise.function,
            limits=sandbox_limits(exercise),
            strict=strict,
            modules=modules,
            allowed=tuple(getattr(exercise, "imports", ())),
        )
    except sandbox.SandboxUnavailable as error:
        raise SandboxRefused(f"--strict: refusing to grade without isolation: {error}") from None


def plan_calls(exercise: Exercise, arguments) -> tuple[list, dict[str, int], dict[str, int]]:
    """The calls of one check, public cases first: (calls, case -> index, case -> shifted index).

    Why the order: the sandbox sends a hidden call's inputs only after every call
    before it has returned, so nothing a public case shows can depend on hidden inputs.
    Each shift_invariant case adds a call on its first argument + SHIFT, hidden when
    the case is.
    """
    from course.grading import sandbox
    from course.grading.expected import shifted_arguments

    calls: list = []
    index: dict[str, int] = {}
    shift_index: dict[str, int] = {}
    for hidden in (False, True):
        for case in exercise.cases:
            if (case.visibility == "hidden") != hidden:
                continue
            args, kwargs = arguments[case.name]
            index[case.name] = len(calls)
            calls.append(sandbox.Call(args, kwargs, hidden=hidden))
        for case in exercise.cases:
            if (case.visibility == "hidden") != hidden:
                continue
            args, kwargs = arguments[case.name]
            if Check.SHIFT_INVARIANT in case.checks and args:
                shift_index[case.name] = len(calls)
                calls.append(sandbox.Call(*shifted_arguments(args, kwargs), hidden=hidden))
    return calls, index, shift_index


def _run_and_compare(course, exercise, source, filename, strict, started, session=None, details=None,
                     modules=None) -> CheckResult:
    from course.grading import sandbox

    if session is None:
        session = start_session(exercise, source, filename, strict, modules=modules)
    with session:
        from course.grading.expected import case_arguments, expected_outputs

        arguments = case_arguments(list(exercise.cases))
        expected = expected_outputs(course, exercise, arguments)
        calls, index, shift_index = plan_calls(exercise, arguments)
        try:
            run = session.run(calls)
        except sandbox.SandboxUnavailable as error:
            raise SandboxRefused(f"--strict: refusing to grade without isolation: {error}") from None
        except sandbox.SandboxError as error:
            return could_not_grade(exercise, filename, str(error), started)
    return _judge(course, exercise, filename, arguments, expected, run, index, shift_index, started, details)


def could_not_grade(exercise: Exercise, filename: str, reason: str, started: float | None = None) -> CheckResult:
    """The grader failed (not the submission): no points, a status of its own, the reason."""
    reason = untrusted.clean(reason)
    cases = tuple(
        CaseResult(c.name, c.visibility, c.points, 0.0, False, Check.COULD_NOT_GRADE,
                   check_message(Check.COULD_NOT_GRADE, False, detail=reason))
        for c in exercise.cases
    )
    return CheckResult(
        exercise=exercise.id, status=Status.COULD_NOT_GRADE, score=0.0, max_score=_max_score(exercise),
        cases=cases, seconds=time.monotonic() - started if started is not None else 0.0, submission=filename,
        notes=(f"could not grade: {reason}; run the same command again to retry",),
    )


def _judge(course, exercise, filename, arguments, expected, run, index, shift_index, started, details=None) -> CheckResult:
    from course.grading import compare

    isolation = run.isolation
    hidden_ran = run.hidden_started
    notes = []
    if not run.loaded:
        reason = _first_line(run.load_error) or "the file could not be loaded"
        cases = tuple(
            CaseResult(c.name, c.visibility, c.points, 0.0, False, Check.LOAD,
                       check_message(Check.LOAD, False, detail=reason))
            for c in exercise.cases
        )
        return CheckResult(
            exercise=exercise.id, status=Status.ERROR, score=0.0, max_score=_max_score(exercise), cases=cases,
            load_error=run.load_error or reason, output=_output(run), isolation=isolation,
            seconds=time.monotonic() - started, submission=filename,
        )
    names = compare.argument_names(exercise.signature)
    outcomes = [compare.observed(o) for o in run.outcomes]
    observed = [outcomes[index[case.name]] for case in exercise.cases]  # in the exercise's order
    if _all_not_implemented(observed):
        return _not_attempted(
            exercise, filename, f"not attempted: {exercise.function} still raises NotImplementedError", isolation, started,
            output="" if hidden_ran else _output(run),
        )
    student = {}
    for case in exercise.cases:
        args, kwargs = arguments[case.name]
        got = outcomes[index[case.name]]
        shifted = outcomes[shift_index[case.name]] if case.name in shift_index else None
        verdict = compare.compare_case(
            case, expected[case.name], got, args=args, kwargs=kwargs, shifted=shifted,
            function=exercise.function, arg_names=names,
        )
        student[case.name] = (verdict, got)
    failed = [case for case in exercise.cases if not student[case.name][0].passed]
    matches, ranked = _name_mistakes(course, exercise, failed, arguments, expected, student, names) if failed \
        else ({}, [])
    descriptions = {m.name: m for m in exercise.mistakes}
    advice = [descriptions[name].message for name in ranked]  # every mistake named, most likely first
    results = []
    for case in exercise.cases:
        verdict, got = student[case.name]
        found = matches.get(case.name, [])
        mistake = found[0].name if found else ""
        message = verdict.message
        reading = ""
        if not verdict.passed and case.visibility == "public":  # hidden cases keep their constant message
            args, kwargs = arguments[case.name]
            reading = diagnostics.explain(exercise, args, kwargs, expected[case.name], got.value)
        if found or reading:
            head, _, detail = message.partition("\n")
            message = head + (f"; {reading}" if reading else "") + (f"; {_mistake_words(found, descriptions)}"
                                                                    if found else "")
            message += f"\n{detail}" if detail else ""
        score = case.points if verdict.passed else 0.0
        results.append(CaseResult(
            case.name, case.visibility, case.points, score, verdict.passed, verdict.check, message, mistake,
            descriptions[mistake].message if mistake else "",
        ))
    if details is not None:
        _keep_details(details, exercise, arguments, expected, student, results)
    if run.termination.value != "completed":
        notes.append(f"sandbox: {run.termination_detail}")
    if hidden_ran and (run.stdout.strip() or run.stderr.strip()):
        notes.append("what your code wrote to the screen (prints, or warnings such as numpy's) is not shown "
                     "because hidden cases were run")
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


def _run_probes(course, exercise, source, filename, strict, details, modules=None) -> None:
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
        session = start_session(exercise, source, filename, strict, modules=modules)
        run = session.run([sandbox.Call(args, kwargs) for _, _, args, kwargs in plan])
    except (SandboxRefused, sandbox.SandboxUnavailable, sandbox.SandboxError) as error:
        details.notes.append(f"the extra calls for the pictures could not run: {error}")
        return
    for (case, kind, args, kwargs), outcome in zip(plan, run.outcomes):
        case.probes.setdefault(kind, []).append((args, kwargs, compare.observed(outcome)))


def _with_showcase(result: CheckResult, exercise, source, filename, strict, modules) -> CheckResult:
    """`result` with the exercise's showcase attached (or a note saying why there is none).

    Public cases only: the hook gets their arguments and nothing of a hidden case. The
    student's code runs only in the sandbox (their file, then the hook's trusted wrapper);
    what comes back is raw arrays, which the hook's `render` turns into text. Whatever
    happens here, score, status and case verdicts are those already decided.
    """
    from dataclasses import replace

    from course.grading import compare, sandbox
    from course.grading.expected import case_arguments
    from course.grading.hooks import hook
    from course.grading.results import Showcase

    make = hook(exercise, "showcase")
    if make is None:
        return result
    public = [case for case in exercise.cases if case.visibility == "public"]
    try:
        plan = make(exercise, case_arguments(public))
        if not plan:
            return result
        calls = [sandbox.Call(tuple(args), dict(kwargs)) for args, kwargs in plan["calls"]]
        session = sandbox.start(
            source + "\n" + plan["wrapper"], filename=filename, function=plan["function"],
            limits=sandbox_limits(exercise, plan.get("wall_seconds")), strict=strict, modules=modules,
            allowed=tuple(getattr(exercise, "imports", ())),
        )
        with session:
            run = session.run(calls)
        if not run.loaded:
            raise sandbox.SandboxError("the file did not load a second time")
        text = plan["render"]([compare.observed(outcome) for outcome in run.outcomes])
        shown = Showcase(untrusted.clean(str(plan["title"])), untrusted.clean(str(text)))
    except (SandboxRefused, sandbox.SandboxUnavailable, sandbox.SandboxError) as error:
        return replace(result, notes=result.notes + (f"the showcase could not run: {untrusted.clean(str(error))}",))
    except Exception as error:  # the hook is an extra: it never costs a grade
        return replace(result, notes=result.notes + (f"the showcase could not be shown: {type(error).__name__}",))
    return replace(result, showcase=shown)


def _name_mistakes(course, exercise, failed, arguments, expected, student, names):
    """Run the known mistakes on the failed cases only; every mistake the failures match, ranked."""
    from course.grading import compare
    from course.grading.expected import mistake_runs

    if not exercise.mistakes:
        return {}, []
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
    return compare.match_mistakes(failed, student, verdicts, expected)


def _mistake_words(found, descriptions) -> str:
    """"looks like a known mistake: A (or: B)", or "perhaps ..." when only the failed check agrees."""
    first, others = descriptions[found[0].name].description, [descriptions[m.name].description for m in found[1:]]
    also = f" (or: {'; '.join(others)})" if others else ""
    if found[0].exact:
        return f"looks like a known mistake: {first}{also}"
    return f"perhaps a known mistake that fails the same check: {first}{also}"


def _all_not_implemented(observed) -> bool:
    from course.grading.compare import exception_type
    from course.grading.sandbox.records import CallStatus

    return bool(observed) and all(
        o.status is CallStatus.RAISED and exception_type(o.error) == "NotImplementedError" for o in observed)


def _first_traceback(exercise: Exercise, observed) -> str:
    """The first exception a public case raised, with its traceback.

    Hidden cases never contribute: their messages, exception names and tracebacks are
    the submission's behaviour on hidden inputs (course.grading.checks).
    """
    from course.grading.sandbox.records import CallStatus

    for case, outcome in zip(exercise.cases, observed):
        if case.visibility == "public" and outcome.status is CallStatus.RAISED and outcome.error:
            return f"in case '{case.name}':\n{outcome.error.strip()}"
    return ""


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


def _record(store: "ProgressStore", result: CheckResult, source: str, path=None) -> CheckResult:
    """Save the check; a store problem becomes a note on the result, never a lost grade.

    A check of a file that is not the student's own is kept as an attempt, and the
    result says so (with how to make the file theirs).
    """
    from dataclasses import replace

    try:
        record = store.record_check(result.exercise, result.status, result.score, result.max_score,
                                    source_digest(source), path=path)
    except Exception as error:  # the grade matters more than the bookkeeping
        return replace(result, notes=result.notes + (f"warning: progress not saved: {error}",))
    if record.own:
        return result
    exercise = result.exercise
    what = "this file" if path is not None else "a function"
    if record.own_path is not None:
        note = (f"kept as an attempt: the status of {exercise} follows your own file, "
                f"{untrusted.name(str(record.own_path))}, and {what} is not it")
    else:
        note = (f"kept as an attempt: the status of {exercise} follows your own file, and you have none yet "
                f"(`course start {exercise}` writes one")
        note += f"; `course start {exercise} --adopt FILE` makes a file yours)" if path is not None else ")"
    return replace(result, notes=result.notes + (note,))
