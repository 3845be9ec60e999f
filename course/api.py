"""The Python API for notebooks and scripts: `course.check`, `course.hint`, `course.quiz`.

    import course
    result = course.check("softmax", "softmax.py")     # a file
    result = course.check("softmax", my_softmax)       # a function defined in the notebook
    result                                             # a table in Jupyter; the text report elsewhere
    print(result)                                      # the text report, as `course check` prints it
    course.hint("softmax")                             # the next hint; course.hint("softmax", 3): hint 3
    course.quiz("lesson-3")                            # widgets in Jupyter, the terminal quiz elsewhere

With `plots=DIR` the feedback pictures of the failing public cases are drawn into DIR;
with `html=FILE` a self-contained HTML report (pictures embedded) is written.

A function is graded in the same sandbox as a file: its source is sent, never the
function object. The module sent holds the imports and helper functions the
function uses from its globals (so a notebook's `np` and a `softmax` it calls from
another cell come along), then the function, bound to the exercise's name.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, fields
import textwrap
import types
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

from course.errors import UsageError
from course.grading.results import CheckResult
from course.services.checking import new_details, write_feedback  # noqa: F401 (the API's own names too)
from course.services.progress import open_progress

if TYPE_CHECKING:  # pragma: no cover
    from course.hints import Hints
    from course.model import Course

Submission = Union[str, Path, Callable]


@dataclass(frozen=True)
class CheckReport(CheckResult):
    """What `course.check` returns: a CheckResult that shows itself, as a notebook wants it.

    print() and repr() give the text report, as `course check` prints it (plain: no colour
    codes); Jupyter shows the report's table (course.reports.html; every text escaped).
    """

    @classmethod
    def of(cls, result: CheckResult) -> "CheckReport":
        return cls(**{f.name: getattr(result, f.name) for f in fields(result)})

    def __str__(self) -> str:
        from course.reports.text import render

        return render(self, color=False)

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        from course.reports.html import render_fragment

        return render_fragment(self)


def check(
    exercise_id: str,
    path_or_function: Submission,
    *,
    course_dir: str | None = None,
    strict: bool = False,
    plots: str | Path | None = None,
    html: str | Path | None = None,
) -> CheckReport:
    """Grade a file or a function against an exercise, as `course check` does.

    plots: a folder for the feedback pictures of the failing public cases.
    html: a file for the one-page HTML report (pictures embedded).
    Raises CourseError (UsageError) for an unknown exercise, a missing file, or a
    function whose source cannot be found (a lambda, a builtin, ...).
    """
    from course.grading.submission import check_source_text, read_submission
    from course.services.checking import check_submission
    from course.services.courses import find_exercise, open_course

    course = open_course(course_dir)
    exercise = find_exercise(course, exercise_id)
    path: Path | None = None
    if callable(path_or_function) and not isinstance(path_or_function, (str, Path)):
        source, filename = function_source(path_or_function, exercise.function)
        check_source_text(source, f"the source of {path_or_function.__name__}")
    else:
        path = Path(path_or_function)
        source, filename = read_submission(path), str(path)
    wanted = plots is not None or html is not None
    store = open_progress()
    try:
        checked = check_submission(course, exercise, source=source, filename=filename, path=path, strict=strict,
                                   progress=store, pictures=wanted, showcase=True)
    finally:
        if store is not None:
            store.close()
    if checked.details is not None:
        write_feedback(checked.result, exercise, checked.details, plots=plots, html=html)
    return CheckReport.of(checked.result)


def hint(
    exercise_id: str,
    n: int | None = None,
    *,
    course_dir: str | None = None,
    course: "Course | None" = None,
) -> "Hints":
    """The next hint of an exercise, or hint `n` (1-based), as `course hint EXERCISE [N]` shows it.

    The hint is recorded as seen in the progress store (when it can be opened). The
    result prints as text and shows as Markdown in Jupyter.
    """
    from course.services.courses import open_course
    from course.services.hints import take_hint

    return take_hint(course if course is not None else open_course(course_dir), exercise_id, n)


def quiz(
    lesson_id: str,
    *,
    seed: int | None = None,
    restart: bool = False,
    course_dir: str | None = None,
    widgets: bool | None = None,
):
    """Take a lesson's quiz: ipywidgets in Jupyter, the terminal quiz elsewhere.

    Both grade the same way and save every answer to the same progress store; an
    unfinished attempt is resumed (same seed, same questions) unless `restart`.
    widgets: None decides by where it runs (a Jupyter kernel with ipywidgets, the
    `course[notebook]` extra); False forces the terminal quiz.
    Returns the QuizWidget (Jupyter shows it) or, in the terminal, the QuizResult.
    """
    import random

    from course.notebook import widgets_available
    from course.progress.store import open_store
    from course.services.courses import find_quiz, open_course

    lesson = find_quiz(open_course(course_dir), lesson_id)
    new_seed = lambda: random.randrange(10_000)  # noqa: E731
    if widgets is None:
        widgets = widgets_available()
    if widgets:
        from course.notebook import QuizWidget

        return QuizWidget(lesson, open_store, seed=seed, restart=restart, new_seed=new_seed)
    from course import terminal
    from course.quiz.session import Terminal, run_quiz

    with open_store() as store:
        outcome = run_quiz(lesson=lesson, store=store, term=Terminal(color=terminal.color()), seed=seed,
                           restart=restart, new_seed=new_seed)
    return outcome.result


# --------------------------------------------------------------------------- functions as source


def function_source(fn: Callable, name: str) -> tuple[str, str]:
    """(module source, filename) that defines `name` as `fn` does, for the sandbox."""
    if isinstance(fn, types.MethodType):
        raise UsageError(f"'{fn.__name__}' is a method: pass a plain function (def at the top level of a cell)")
    if not isinstance(fn, types.FunctionType):
        raise UsageError(f"cannot grade {fn!r}: pass a function defined with def, or a file path")
    if fn.__name__ == "<lambda>":
        raise UsageError("cannot grade a lambda: define the function with def (its source is what gets graded)")
    if fn.__code__.co_freevars:
        names = ", ".join(fn.__code__.co_freevars)
        raise UsageError(
            f"'{fn.__name__}' uses variables of an enclosing function ({names}): define it at the top level"
        )
    own = _source_of(fn)
    parts, seen = [], {fn.__name__}
    imports, helpers, constants = _dependencies(fn, seen)
    parts += imports
    if imports:
        parts.append("")
    parts += constants
    if constants:
        parts.append("")
    for helper in helpers:
        parts += [helper, ""]
    parts.append(own)
    if fn.__name__ != name:
        parts += ["", f"{name} = {fn.__name__}"]
    filename = inspect.getsourcefile(fn) or ""
    if not filename or _notebook_cell(filename):
        filename = f"notebook function {fn.__name__}" if filename else f"function {fn.__name__}"
    return "\n".join(parts).rstrip() + "\n", filename


def _notebook_cell(filename: str) -> bool:
    """True for the file name IPython gives a cell's code (/tmp/ipykernel_123/456.py, <ipython-input-...>)."""
    import os

    return "ipykernel_" in filename or filename.startswith("<ipython-input") or not os.path.isfile(filename)


def _source_of(fn: types.FunctionType) -> str:
    try:
        return textwrap.dedent(inspect.getsource(fn)).rstrip() + "\n"
    except (OSError, TypeError):
        raise UsageError(
            f"cannot find the source of '{fn.__name__}' (defined in an interactive shell or generated): "
            "save it in a file and pass the path, or define it in a notebook cell"
        ) from None


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _dependencies(fn: types.FunctionType, seen: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Import lines, helper function sources and simple constants `fn` takes from its globals."""
    imports: list[str] = []
    helpers: list[str] = []
    constants: list[str] = []
    for name in sorted(_global_names(fn.__code__)):
        if name in seen or name not in fn.__globals__:
            continue
        value = fn.__globals__[name]
        if isinstance(value, types.ModuleType):
            seen.add(name)
            line = f"import {value.__name__}" if value.__name__ == name else f"import {value.__name__} as {name}"
            if "." in value.__name__ and value.__name__.rsplit(".", 1)[1] == name:
                parent, child = value.__name__.rsplit(".", 1)
                line = f"from {parent} import {child}"
            imports.append(line)
        elif isinstance(value, types.FunctionType) and value.__name__ != "<lambda>":
            seen.add(name)
            more_imports, more_helpers, more_constants = _dependencies(value, seen)
            imports += [i for i in more_imports if i not in imports]
            constants += [c for c in more_constants if c not in constants]
            helpers += more_helpers
            source = _source_of(value)
            if value.__name__ != name:
                source += f"{name} = {value.__name__}\n"
            helpers.append(source.rstrip())
        elif isinstance(value, (bool, int, float, str, type(None))):
            seen.add(name)
            constants.append(f"{name} = {value!r}")
        else:
            line = _import_line(value, name)
            if line:
                seen.add(name)
                imports.append(line)
    return imports, helpers, constants


def _import_line(value: object, name: str) -> str:
    """'from numpy import exp' for a library object (np.exp, math.sqrt, ...), '' otherwise."""
    import importlib

    module, attr = getattr(value, "__module__", None), getattr(value, "__name__", None)
    if not isinstance(module, str) or not isinstance(attr, str) or module in ("__main__", "builtins"):
        return ""
    try:
        if getattr(importlib.import_module(module), attr) is not value:
            return ""
    except Exception:
        return ""
    return f"from {module} import {attr}" + (f" as {name}" if name != attr else "")
