"""Expected outputs and known-mistake outputs, computed or loaded in the trusted parent.

Instructor edition: `reference.py` and `mistakes/<name>.py` are run here, in-process,
on deep copies of the case's inputs. They are instructor code, so running them in the
parent is safe; the student's code never runs here.

Student edition (`course release`): there is no reference code. The exercise folder
holds `expected.npz` (loader.EXPECTED_FILE), written by `write_expected`, with
`case/<case>` for each public case's expected output and `mistake/<mistake>/<case>`
for each known mistake's output on it (absent when the mistake raises there).
"""
from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import itertools
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from course.errors import CourseError
from course.grading.compare import BAD_RETURN, OK, RAISED, SHIFT, Observed
from course.loader import EXPECTED_FILE
from course.model import Case, Course, Exercise

Arguments = Mapping[str, tuple[tuple, dict]]  # case name -> (args, kwargs)
MistakeRuns = dict[str, dict[str, tuple[Observed, "Observed | None"]]]  # mistake -> case -> (output, shifted)

_counter = itertools.count()


def load_trusted(path: Path, function: str) -> Callable:
    """`function` from an instructor file (reference or known mistake), imported privately.

    The module gets a private name and is removed from sys.modules afterwards, so it
    cannot collide with a student's module or another exercise's reference. The source
    is compiled directly rather than through the import system's bytecode cache: a
    `__pycache__/reference.*.pyc` next to the exercise could end up in a student release.
    """
    name = f"_course_trusted_{next(_counter)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise CourseError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError) as error:
        raise CourseError(f"cannot import {path}: {error}") from None
    sys.modules[name] = module  # dataclasses and pickling look modules up while executing
    try:
        exec(code, module.__dict__)
    except Exception as error:
        raise CourseError(f"{path} failed to import: {type(error).__name__}: {error}") from None
    finally:
        sys.modules.pop(name, None)
    fn = module.__dict__.get(function)
    if not callable(fn):
        raise CourseError(f"{path} defines no function named '{function}'")
    return fn


def _quietly(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call trusted code without letting its prints or numpy warnings reach the student."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def shifted_arguments(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The shift_invariant call's arguments: the first argument plus SHIFT, the rest as sent."""
    first = np.asarray(args[0])
    if first.dtype.kind not in "fc":
        first = first.astype(np.float64)
    return (first + SHIFT, *copy.deepcopy(args[1:])), copy.deepcopy(kwargs)


# --------------------------------------------------------------------------- expected outputs


def expected_outputs(course: Course, exercise: Exercise, arguments: Arguments) -> dict[str, np.ndarray]:
    """Case name -> expected output, for the cases in `arguments`."""
    if course.edition == "student":
        stored = _stored(exercise)
        missing = [name for name in arguments if f"case/{name}" not in stored]
        if missing:
            raise CourseError(
                f"{exercise.folder / EXPECTED_FILE} has no expected output for case(s) {', '.join(missing)}: "
                "this student release is incomplete; ask for a new one"
            )
        return {name: stored[f"case/{name}"] for name in arguments}
    return reference_outputs(exercise, arguments)


def reference_outputs(exercise: Exercise, arguments: Arguments) -> dict[str, np.ndarray]:
    """Case name -> the reference's output (instructor edition: reference.py must exist)."""
    reference = load_trusted(exercise.reference_path, exercise.function)
    result = {}
    for name, (args, kwargs) in arguments.items():
        try:
            value = _quietly(reference, copy.deepcopy(args), copy.deepcopy(kwargs))
        except Exception as error:
            raise CourseError(
                f"{exercise.reference_path}: the reference raised on case '{name}': {type(error).__name__}: {error}"
            ) from None
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise CourseError(f"{exercise.reference_path}: the reference returned {type(value).__name__} on case '{name}'")
        result[name] = array
    return result


# --------------------------------------------------------------------------- known mistakes


def mistake_runs(course: Course, exercise: Exercise, arguments: Arguments) -> MistakeRuns:
    """Each known mistake's output (and shift_invariant output) on each case in `arguments`.

    Student edition: the stored outputs only (no inputs-after, no shifted call), and only
    for the cases whose output was stored.
    """
    if course.edition == "student":
        stored = _stored(exercise)
        return {
            mistake.name: {
                case: (Observed(OK, stored[key]), None)
                for case in arguments
                if (key := f"mistake/{mistake.name}/{case}") in stored
            }
            for mistake in exercise.mistakes
        }
    return instructor_mistake_runs(exercise, arguments)


def instructor_mistake_runs(exercise: Exercise, arguments: Arguments) -> MistakeRuns:
    """Each mistakes/<name>.py run in-process on each case in `arguments` (and its shifted call)."""
    cases = {case.name: case for case in exercise.cases}
    runs: MistakeRuns = {}
    for mistake in exercise.mistakes:
        fn = load_trusted(exercise.folder / mistake.file, exercise.function)
        per_case = {}
        for name, (args, kwargs) in arguments.items():
            output = run_trusted(fn, args, kwargs)
            shifted = None
            if "shift_invariant" in cases[name].checks and args:
                shifted = run_trusted(fn, *shifted_arguments(args, kwargs))
            per_case[name] = (output, shifted)
        runs[mistake.name] = per_case
    return runs


def run_trusted(fn: Callable, args: tuple, kwargs: dict) -> Observed:
    """One in-process call of instructor code, reported like a sandboxed call."""
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        value = _quietly(fn, args, kwargs)
    except Exception as error:
        return Observed(RAISED, None, f"{type(error).__name__}: {error}")
    after = tuple(np.array(a) if isinstance(a, np.ndarray) else None for a in args)
    named = {k: np.array(v) for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    try:
        array = np.asarray(value)
    except Exception as error:
        return Observed(BAD_RETURN, None, f"returned {type(value).__name__} ({error})", after, named)
    if array.dtype.kind not in "biufc":
        return Observed(BAD_RETURN, None, f"returned {type(value).__name__}", after, named)
    return Observed(OK, array, "", after, named)


# --------------------------------------------------------------------------- stored vectors


def _stored(exercise: Exercise) -> dict[str, np.ndarray]:
    path = exercise.folder / EXPECTED_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise CourseError(f"{path} is missing: this student release is incomplete; ask for a new one") from None
    except (OSError, ValueError) as error:
        raise CourseError(f"{path} cannot be read ({error}); ask for a new release") from None


def write_expected(exercise: Exercise, path: Path | str) -> dict[str, np.ndarray]:
    """Write `expected.npz` for the exercise's public cases (used by `course release`).

    Runs the instructor edition's reference and mistakes; a mistake that raises on a
    case is simply absent for it. Returns what was written.
    """
    arguments = case_arguments([case for case in exercise.cases if case.visibility == "public"])
    arrays = {f"case/{name}": value for name, value in reference_outputs(exercise, arguments).items()}
    for mistake, per_case in instructor_mistake_runs(exercise, arguments).items():
        for name, (output, _) in per_case.items():
            if output.status == OK and output.value is not None:
                arrays[f"mistake/{mistake}/{name}"] = np.ascontiguousarray(output.value)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return arrays


def case_arguments(cases: list[Case]) -> dict[str, tuple[tuple, dict]]:
    """Case name -> (args, kwargs), generated from the seeds (course.grading.inputs)."""
    from course.grading.inputs import make_arguments

    return {case.name: make_arguments(case) for case in cases}
