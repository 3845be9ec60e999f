"""LLM fundamentals course engine."""
__version__ = "0.1.0"


def __getattr__(name: str):
    """`course.check` on first use: `import course` and `course --help` stay free of numpy."""
    if name == "check":
        from course.api import check

        return check
    raise AttributeError(f"module 'course' has no attribute {name!r}")
