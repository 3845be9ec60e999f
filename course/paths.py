"""Where things are: the course root in use and the per-user state folder.

Kept free of heavy imports: `course --help` goes through here.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
APP_NAME = "llm-course"


def builtin_root() -> Path:
    """The course that ships with the engine.

    In a checkout or an editable install the course sits beside the package
    (content/ and exercises/ at the repository's top); a plain `pip install .`
    copies it to course/_builtin/ (see setup.py).
    """
    checkout = PACKAGE_DIR.parent
    if (checkout / "content").is_dir() and (checkout / "exercises").is_dir():
        return checkout
    return PACKAGE_DIR / "_builtin"


def resolve_root(option: str | os.PathLike | None = None) -> Path:
    """`--course DIR`, else $COURSE_ROOT, else the built-in course."""
    chosen = option or os.environ.get("COURSE_ROOT")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return builtin_root()


def course_home() -> Path:
    """Per-user state (progress): $COURSE_HOME, else the platform's user data folder."""
    chosen = os.environ.get("COURSE_HOME")
    if chosen:
        return Path(chosen).expanduser().resolve()
    import platformdirs  # small, but only needed by commands that keep state

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
