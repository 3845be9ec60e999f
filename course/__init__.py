"""LLM fundamentals course engine."""
__version__ = "0.1.0"


def __getattr__(name: str):
    """`course.check`, `course.hint` and `course.quiz` on first use: `import course` and `course --help` stay free of numpy."""
    import importlib  # by name: the engine's modules import `course.__version__`, not the API above them

    if name in ("check", "hint"):
        return getattr(importlib.import_module("course.api"), name)
    if name == "quiz":  # the package course.quiz, callable: course.quiz("lesson-3") (see course/quiz/__init__.py)
        return importlib.import_module("course.quiz")
    raise AttributeError(f"module 'course' has no attribute {name!r}")
