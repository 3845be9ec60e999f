"""LLM fundamentals course engine."""
__version__ = "0.1.0"


def __getattr__(name: str):
    """`course.check`, `course.hint` and `course.quiz` on first use: `import course` and `course --help` stay free of numpy."""
    if name in ("check", "hint"):
        from course import api

        return getattr(api, name)
    if name == "quiz":  # the package course.quiz, callable: course.quiz("lesson-3") (see course/quiz/__init__.py)
        import importlib

        return importlib.import_module("course.quiz")
    raise AttributeError(f"module 'course' has no attribute {name!r}")
