"""The course format, declared once: pydantic models of every file and every key.

These classes are THE declaration of what a course file may hold. The loader
(course.loader) validates YAML with them and hands the validated objects to the rest of
the engine; the student edition (course.instructor.release) is written from them; the
JSON Schemas (`course schema`, course/schemas/) and the key reference of
docs/authoring.md are generated from them (course.schema). A key is added, renamed or
documented here and nowhere else.

Conventions:
- every model is frozen and forbids unknown keys; every field has a `description`
  (the key reference is made of them) and, where it has one, its default;
- each kind (question, figure, lesson block, exercise input) is a class of its own with
  a Literal discriminator: `kind` for questions and figures (written in the YAML), the
  one key of the mapping for blocks and inputs (`{markdown: ...}`, `{normal: {...}}`);
- checks within one object (a table's rows as long as its columns, exactly one correct
  choice, ...) are `_problems` methods, run by pydantic when the object is otherwise
  valid, so one run reports every problem of a file; checks across files (an exercise's
  lesson exists, files exist) are the loader's.

Objects read from a file carry `where` (FILE:LINE:COL of their definition); lessons and
exercises their `folder`; a lesson its `quiz`. The loader sets them: they are not keys.

One module per file type: base.py (scalars, the base model), course.py (course.yaml and
the loaded Course), lessons.py, quizzes.py, exercises.py. Everything is importable from
here; lesson and quiz models are built on first use, so that `course check` (which needs
only an exercise) does not pay for them.
"""
import importlib
from types import ModuleType
from typing import Any

from course.model import base, course, exercises

# Where each name is looked up, in order; lessons and quizzes are imported on first use.
_EAGER: tuple[ModuleType, ...] = (base, course, exercises)
_LAZY = ("course.model.lessons", "course.model.quizzes")


def __getattr__(name: str) -> Any:
    """`course.model.Lesson`, `from course.model import Exercise`, ...: every model's home module."""
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "FILE_MODELS":
        value: Any = file_models()
    else:
        modules = list(_EAGER)
        value = _MISSING
        for module in modules:
            value = module.__dict__.get(name, _MISSING)
            if value is not _MISSING:
                break
        else:
            for module_name in _LAZY:
                value = importlib.import_module(module_name).__dict__.get(name, _MISSING)
                if value is not _MISSING:
                    break
        if value is _MISSING:
            raise AttributeError(f"module 'course.model' has no attribute {name!r}")
    globals()[name] = value  # found once, then an ordinary attribute
    return value


_MISSING = object()


def file_models() -> dict[str, type]:
    """The files of a course root and the model that declares each."""
    from course.model.lessons import Lesson
    from course.model.quizzes import Quiz

    return {"course": course.Manifest, "lesson": Lesson, "quiz": Quiz, "exercise": exercises.Exercise}
