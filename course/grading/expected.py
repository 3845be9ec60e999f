"""Expected outputs and known-mistake outputs, computed or loaded in the trusted parent.

Instructor edition: `reference.py` and `mistakes/<name>.py` are run here, in-process,
on deep copies of the case's inputs. They are instructor code, so running them in the
parent is safe; the student's code never runs here.

Student edition (`course release`): there is no reference code. The exercise folder
holds `expected.npz` (loader.EXPECTED_FILE), written by `write_expected` and read with
np.load(allow_pickle=False): numeric arrays and numpy unicode (text) arrays only, never
pickled objects. For each public case <case>:

    case/<case>                              the reference's output
    mistake/<m>/<case>                       known mistake <m>'s output (when it returned an array)
    mistake/<m>/<case>/error                 its error text, 0-d unicode (when it raised), exactly
                                             as run_trusted reports it ("ValueError: ...")
    mistake/<m>/<case>/bad_return            the text for a non-array return (when it did that)
    mistake/<m>/<case>/args_after/<i>        positional array argument <i> after the call, only
                                             when the mistake changed it in place
    mistake/<m>/<case>/kwargs_after/<name>   the same for a keyword array argument
    mistake/<m>/<case>/shifted[/...]         the shift_invariant call (first argument + SHIFT),
                                             for the cases that ask for it, stored the same way
                                             (/error, /bad_return, /args_after/<i>, ...)

Case, mistake and argument names are ids or Python names (the loader checks), so they
hold no "/". An argument left unchanged is not stored: the student edition rebuilds the
same inputs from the seeds and uses them as the arguments-after. `mistake_runs` turns
these keys back into the `Observed` records `instructor_mistake_runs` computes, so
compare.name_mistakes names the same mistakes in both editions.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import io
import itertools
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from course.errors import CourseError
from course.grading.checks import Check
from course.grading.compare import SHIFT, Observed
from course.grading.sandbox.records import CallStatus
from course.grading.sandbox.values import convert_result
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
    """Case name -> the reference's output (instructor edition: reference.py must exist).

    Remembered per process (`_TrustedFile`): a batch worker runs the reference once per
    case, not once per student.
    """
    cases = {case.name: case for case in exercise.cases}
    reference = _TrustedFile(exercise.reference_path, exercise.function)

    def compute(name: str, args: tuple, kwargs: dict) -> np.ndarray:
        try:
            value = _quietly(reference.function, copy.deepcopy(args), copy.deepcopy(kwargs))
        except Exception as error:
            raise CourseError(
                f"{exercise.reference_path}: the reference raised on case '{name}': {type(error).__name__}: {error}"
            ) from None
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise CourseError(f"{exercise.reference_path}: the reference returned {type(value).__name__} on case '{name}'")
        return array

    return {name: reference.remembered(cases.get(name), functools.partial(compute, name, args, kwargs))
            for name, (args, kwargs) in arguments.items()}


# What trusted code returned, per process: (file, its size and time, function, the case as
# written) -> the output. The inputs are a function of the case as written (its seeds), so
# the same key is the same call. Handed out as copies: no caller can change what is kept.
_REMEMBERED: dict[tuple, Any] = {}
_REMEMBERED_LOCK = threading.Lock()
REMEMBERED_LIMIT = 4096  # entries; past it the memory starts afresh (a long-lived Dask worker)


class _TrustedFile:
    """One instructor file's function, imported on first use, with its outputs remembered per case."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = Path(path), name
        self._function: Callable | None = None
        try:
            info = self.path.stat()
            self._key: tuple | None = (str(self.path), info.st_mtime_ns, info.st_size, name)
        except OSError:
            self._key = None  # load_trusted says what is wrong with the file

    @property
    def function(self) -> Callable:
        if self._function is None:
            self._function = load_trusted(self.path, self.name)
        return self._function

    def remembered(self, case: Case | None, compute: Callable[[], Any]) -> Any:
        """compute(), or a copy of what it returned for the same file, function and case before."""
        if self._key is None or case is None:  # no file to key on, or a case the exercise does not declare
            return compute()
        key = (*self._key, case.model_dump_json())
        with _REMEMBERED_LOCK:
            kept = _REMEMBERED.get(key)
        if kept is None:
            kept = compute()  # an exception (a broken reference) is raised, never kept
            with _REMEMBERED_LOCK:
                if len(_REMEMBERED) >= REMEMBERED_LIMIT:
                    _REMEMBERED.clear()
                _REMEMBERED[key] = kept
        return copy.deepcopy(kept)


# --------------------------------------------------------------------------- known mistakes


def mistake_runs(course: Course, exercise: Exercise, arguments: Arguments) -> MistakeRuns:
    """Each known mistake's output (and shift_invariant output) on each case in `arguments`.

    Student edition: rebuilt from the stored records (see the module docstring), for
    the cases that have one; a case with no record (a release written before errors and
    inputs-after were stored) is simply absent, so nothing is named there.
    """
    if course.edition == "student":
        stored = _stored(exercise)
        path = exercise.folder / EXPECTED_FILE
        cases = {case.name: case for case in exercise.cases}
        runs: MistakeRuns = {}
        for mistake in exercise.mistakes:
            per_case = {}
            for case, (args, kwargs) in arguments.items():
                prefix = f"mistake/{mistake.name}/{case}"
                output = _stored_observed(stored, prefix, path, args, kwargs)
                if output is not None:
                    shifted = None
                    if Check.SHIFT_INVARIANT in cases[case].checks and args:  # as instructor_mistake_runs
                        shifted = _stored_observed(stored, f"{prefix}/shifted", path, *shifted_arguments(args, kwargs))
                    per_case[case] = (output, shifted)
            runs[mistake.name] = per_case
        return runs
    return instructor_mistake_runs(exercise, arguments)


def instructor_mistake_runs(exercise: Exercise, arguments: Arguments) -> MistakeRuns:
    """Each mistakes/<name>.py run in-process on each case in `arguments` (and its shifted call);
    remembered per process, as the reference's outputs are."""
    cases = {case.name: case for case in exercise.cases}
    runs: MistakeRuns = {}
    for mistake in exercise.mistakes:
        trusted = _TrustedFile(exercise.folder / mistake.file, exercise.function)
        runs[mistake.name] = {
            name: trusted.remembered(cases.get(name), functools.partial(_mistake_call, trusted, cases[name], args,
                                                                        kwargs))
            for name, (args, kwargs) in arguments.items()
        }
    return runs


def _mistake_call(mistake: _TrustedFile, case: Case, args: tuple, kwargs: dict) -> tuple[Observed, Observed | None]:
    """A known mistake's output on a case, and its shift_invariant output when the case asks for it."""
    output = run_trusted(mistake.function, args, kwargs)
    shifted = None
    if Check.SHIFT_INVARIANT in case.checks and args:
        shifted = run_trusted(mistake.function, *shifted_arguments(args, kwargs))
    return output, shifted


def run_trusted(fn: Callable, args: tuple, kwargs: dict) -> Observed:
    """One in-process call of instructor code, reported exactly like a sandboxed call
    (the same conversion of the return value as the child's: sandbox/values.py)."""
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        value = _quietly(fn, args, kwargs)
    except Exception as error:
        return Observed(CallStatus.RAISED, None, f"{type(error).__name__}: {error}")
    after = tuple(np.array(a) if isinstance(a, np.ndarray) else None for a in args)
    named = {k: np.array(v) for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    array, problem = convert_result(value)
    if problem is not None:
        return Observed(CallStatus.BAD_RETURN, None, problem, after, named)
    return Observed(CallStatus.OK, array, "", after, named)


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

    Runs the instructor edition's reference and mistakes and stores, for each mistake
    and case, what the comparison uses to name it (see the module docstring). Returns
    what was written.
    """
    arguments = case_arguments([case for case in exercise.cases if case.visibility == "public"])
    arrays = {f"case/{name}": _plain_array(value) for name, value in reference_outputs(exercise, arguments).items()}
    for mistake, per_case in instructor_mistake_runs(exercise, arguments).items():
        for name, (output, shifted) in per_case.items():
            args, kwargs = arguments[name]
            prefix = f"mistake/{mistake}/{name}"
            arrays.update(_observed_arrays(prefix, output, args, kwargs))
            if shifted is not None:
                arrays.update(_observed_arrays(f"{prefix}/shifted", shifted, *shifted_arguments(args, kwargs)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]  # names -> arrays (numpy's stub types the flags)
    return arrays


def _plain_array(value: Any) -> np.ndarray:
    """A numeric array of its own (0-d stays 0-d: np.ascontiguousarray would make it shape (1,))."""
    return np.array(np.asarray(value), copy=True)


def _text_array(text: str) -> np.ndarray:
    return np.array(text, dtype=np.str_)  # 0-d unicode: loads without pickle


def _unchanged(sent: np.ndarray, after: np.ndarray) -> bool:
    """The test compare._inputs_unchanged applies: an argument that passes it need not be stored."""
    after = np.asarray(after)
    return (after.shape == sent.shape and after.dtype == sent.dtype
            and bool(np.array_equal(after, sent, equal_nan=sent.dtype.kind in "fc")))


def _observed_arrays(prefix: str, observed: Observed, args: tuple = (), kwargs: Mapping[str, Any] | None = None,
                     ) -> dict[str, np.ndarray]:
    """The npz entries for one in-process call (the inverse of _stored_observed)."""
    arrays: dict[str, np.ndarray] = {}
    if observed.status is CallStatus.OK and observed.value is not None:
        arrays[prefix] = _plain_array(observed.value)
    elif observed.status is CallStatus.RAISED:
        arrays[f"{prefix}/error"] = _text_array(observed.error)
    elif observed.status is CallStatus.BAD_RETURN:
        arrays[f"{prefix}/bad_return"] = _text_array(observed.error)
    else:  # run_trusted reports nothing else
        return arrays
    for position, (sent, after) in enumerate(zip(args, observed.args_after)):
        if isinstance(sent, np.ndarray) and after is not None and not _unchanged(sent, after):
            arrays[f"{prefix}/args_after/{position}"] = _plain_array(after)
    for name, after in observed.kwargs_after.items():
        sent = (kwargs or {}).get(name)
        if isinstance(sent, np.ndarray) and after is not None and not _unchanged(sent, after):
            arrays[f"{prefix}/kwargs_after/{name}"] = _plain_array(after)
    return arrays


def _stored_observed(stored: Mapping[str, np.ndarray], prefix: str, path: Path, args: tuple = (),
                     kwargs: Mapping[str, Any] | None = None) -> Observed | None:
    """The Observed that run_trusted gave for the call stored under `prefix`; None when none is stored.

    The arguments-after are rebuilt like run_trusted's: a copy of each array argument
    (from the seeds, as sent), replaced by the stored one where the call changed it.
    """
    if prefix in stored:
        status, value, error = CallStatus.OK, _numeric(stored[prefix], prefix, path), ""
    elif f"{prefix}/error" in stored:
        return Observed(CallStatus.RAISED, None, _text(stored[f"{prefix}/error"], f"{prefix}/error", path))
    elif f"{prefix}/bad_return" in stored:
        status, value, error = CallStatus.BAD_RETURN, None, _text(stored[f"{prefix}/bad_return"], f"{prefix}/bad_return", path)
    else:
        return None
    after = tuple(
        _numeric(stored[key], key, path) if (key := f"{prefix}/args_after/{i}") in stored
        else np.array(a) if isinstance(a, np.ndarray) else None
        for i, a in enumerate(args)
    )
    named = {
        name: _numeric(stored[key], key, path) if (key := f"{prefix}/kwargs_after/{name}") in stored else np.array(v)
        for name, v in (kwargs or {}).items()
        if isinstance(v, np.ndarray)
    }
    return Observed(status, value, error, after, named)


def _numeric(array: np.ndarray, key: str, path: Path) -> np.ndarray:
    if array.dtype.kind not in "biufc":
        raise CourseError(f"{path} cannot be read ({key} is not a numeric array); ask for a new release")
    return array


def _text(array: np.ndarray, key: str, path: Path) -> str:
    if array.dtype.kind != "U" or array.ndim != 0:
        raise CourseError(f"{path} cannot be read ({key} is not a text); ask for a new release")
    return str(array[()])


def case_arguments(cases: list[Case]) -> dict[str, tuple[tuple, dict]]:
    """Case name -> (args, kwargs), generated from the seeds (course.grading.inputs)."""
    from course.grading.inputs import make_arguments

    return {case.name: make_arguments(case) for case in cases}
