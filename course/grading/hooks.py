"""Exercise knowledge lives with the exercise: its optional `feedback.py`.

An exercise folder may hold `feedback.py` beside `reference.py`: trusted instructor code
that knows how to look at a failure of *this* exercise, so the engine knows no
exercise's name. It is loaded in the grader (never in the sandbox), like the reference,
and ships in the student edition (it holds ways of looking at a failure, not answers),
unless it says `STUDENT_EDITION = False`: a file whose readings compute the answer
(param_count's splits any config's count into parts) stays with the instructor, and
the student edition does without its pictures and readings. It may define any of:

    probes(case) -> {kind: [(args, kwargs), ...]}
        extra calls of the student's function that show how a failing public case
        fails (sent in a second sandbox run, after grading: they never change a grade)
    panels(case) -> [(kind, draw), ...]
        pictures of one failing public case; draw(exercise, case, target) writes the
        PNG `target` (and its SVG) and returns it, or None
    exercise_panels(exercise, details, failing, out_dir) -> [Path, ...]
        pictures about several failing cases at once (drawn once per check)
    explain(args, kwargs, expected, value) -> str
        a reading of a failed public case's single-number output ("off by one
        LayerNorm"), added to its message; "" when there is none
    CAPTIONS = {kind: "what the picture shows"}
        captions of the picture kinds, for the HTML report
    showcase(exercise, public) -> plan | None
        what the student's code *does*, shown after the grade by `course check` (not
        by `course grade` or `course verify`), for a submission that loads, passing or
        failing; it never changes a grade. `public` maps each PUBLIC case's name to its
        (args, kwargs). The plan is a dict:
            "title":    the heading of the report's section
            "wrapper":  trusted Python source appended to the student's file; it calls
                        the student's function and returns a numeric array
            "function": the name of the wrapper's function (what the sandbox calls)
            "calls":    [(args, kwargs), ...] for it, made from public cases only
            "render":   render(outcomes) -> str, the section's text, from the raw
                        outcomes of the calls in order (course.grading.compare.Observed:
                        status, value); it alone decides what is shown, so it shows
                        what it derives from returned arrays, never text the code chose
            "wall_seconds": optional, the showcase's own time limit (at most the
                        exercise's): an extra after the grade should not keep a
                        student waiting for a model that never finishes
        The wrapper runs in a second sandbox session (the exercise's limits, the
        student's imported files); only arrays come back. E.g. tiny_gpt: a greedy
        decoding loop around the student's forward pass returns token ids, which
        render decodes with the course's vocabulary.

`case` is a course.grading.details.CaseDetails. Every hook is called for public cases
only: nothing of a hidden case reaches one. A hook that raises costs a picture, a
reading or the showcase, never a grade (the callers catch and note it).
"""
from __future__ import annotations

import itertools
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Exercise

FEEDBACK_FILE = "feedback.py"

_lock = threading.Lock()
_loaded: dict[tuple[str, int, int], types.ModuleType | None] = {}
_counter = itertools.count()


def feedback_module(exercise: "Exercise") -> types.ModuleType | None:
    """The exercise's feedback.py as a module (loaded once per file version), or None.

    A file that does not import is a content error of the course; here it only means
    "no hooks": `course validate`/`course verify` are where it is reported.
    """
    path = Path(exercise.folder) / FEEDBACK_FILE
    try:
        info = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(path)
        return _loaded[key]


def load_error(exercise: "Exercise") -> str:
    """Why the exercise's feedback.py cannot be used ("" when it can, or when there is none)."""
    path = Path(exercise.folder) / FEEDBACK_FILE
    if not path.is_file():
        return ""
    try:
        _compile_and_run(path)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return ""


def ships_to_students(exercise: "Exercise") -> bool:
    """Whether `course release` copies the exercise's feedback.py: it exists, it loads, and it
    does not say STUDENT_EDITION = False."""
    module = feedback_module(exercise)
    return module is not None and getattr(module, "STUDENT_EDITION", True) is not False


def hook(exercise: "Exercise", name: str):
    """One hook of the exercise (a function, or CAPTIONS), or None."""
    module = feedback_module(exercise)
    return getattr(module, name, None) if module is not None else None


def _load(path: Path) -> types.ModuleType | None:
    try:
        return _compile_and_run(path)
    except Exception:
        return None


def _compile_and_run(path: Path) -> types.ModuleType:
    """Import `path` under a private name, not through the import system's bytecode cache
    (no __pycache__ appears beside the exercise, to end up in a release)."""
    name = f"_course_feedback_{next(_counter)}_{path.parent.name}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    sys.modules[name] = module  # dataclasses and pickling look modules up while executing
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules.pop(name, None)
    return module
