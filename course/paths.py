"""Where things are: the course root in use and the per-user state folder.

A course root is a folder with `course.yaml` (its manifest), `content/` and
`exercises/`: the built-in course, an instructor's fork, a student edition. The
root in use is, in this order (DESIGN.md):

 1. `--course DIR` (before or after the subcommand);
 2. `$COURSE_ROOT`;
 3. the nearest `course.yaml` found walking up from the working directory, as git
    finds a repository (so a student edition works from inside its own folder);
 4. the built-in course.

`command()` spells a command the way the user can copy and run it: with the
`--course` that a plain `course` run from here would not find by itself.

Kept free of heavy imports: `course --help` goes through here.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
APP_NAME = "llm-course"
MANIFEST = "course.yaml"
ROOT_ENV = "COURSE_ROOT"

FROM_OPTION, FROM_ENV, FROM_MANIFEST, FROM_BUILTIN = "--course", ROOT_ENV, MANIFEST, "built-in"


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


@dataclass(frozen=True)
class RootChoice:
    """The course root in use and how it was found (commands print it on their first line)."""

    path: Path
    source: str  # FROM_OPTION | FROM_ENV | FROM_MANIFEST | FROM_BUILTIN
    given: str = ""  # the folder as the user wrote it (--course or $COURSE_ROOT)

    def describe(self) -> str:
        """'course root: /x/y (from --course)', for the first line of validate, verify, release, grade."""
        how = {
            FROM_OPTION: "from --course",
            FROM_ENV: f"from ${ROOT_ENV}",
            FROM_MANIFEST: f"the nearest {MANIFEST} above the working directory",
            FROM_BUILTIN: "the built-in course",
        }[self.source]
        return f"course root: {self.path} ({how})"


def find_manifest_root(start: os.PathLike | str | None = None) -> Path | None:
    """The nearest folder holding course.yaml, from `start` (default: the working directory) up."""
    try:
        here = Path(start).resolve() if start is not None else Path.cwd()
    except OSError:  # the working directory was removed
        return None
    for folder in (here, *here.parents):
        try:
            if (folder / MANIFEST).is_file():
                return folder
        except OSError:  # an unreadable folder on the way up: keep looking above it
            continue
    return None


def choose_root(option: str | os.PathLike | None = None, *, environ=None, cwd=None) -> RootChoice:
    """`--course DIR`, else $COURSE_ROOT, else the nearest course.yaml walking up, else the built-in course."""
    environ = os.environ if environ is None else environ
    if option:
        return RootChoice(Path(option).expanduser().resolve(), FROM_OPTION, os.fspath(option))
    chosen = environ.get(ROOT_ENV)
    if chosen:
        return RootChoice(Path(chosen).expanduser().resolve(), FROM_ENV, chosen)
    found = find_manifest_root(cwd)
    if found is not None:
        return RootChoice(found, FROM_MANIFEST)
    return RootChoice(builtin_root(), FROM_BUILTIN)


def resolve_root(option: str | os.PathLike | None = None) -> Path:
    """The course root's folder (see choose_root)."""
    return choose_root(option).path


_active: RootChoice | None = None  # the root the running command uses (set by the command line)


def set_active(choice: RootChoice | None) -> None:
    """Remember the root in use, so that printed commands carry the --course they need."""
    global _active
    _active = choice


def command(words: str) -> str:
    """'course check softmax', or 'course --course ../edition check softmax' when a plain
    `course` started in this working directory (without $COURSE_ROOT) would use another root."""
    choice = _active
    if choice is None or choice.source in (FROM_MANIFEST, FROM_BUILTIN):
        return f"course {words}"
    if choose_root(environ={}).path == choice.path:
        return f"course {words}"
    return f"course --course {shlex.quote(choice.given)} {words}"


def course_home() -> Path:
    """Per-user state (progress): $COURSE_HOME, else the platform's user data folder."""
    chosen = os.environ.get("COURSE_HOME")
    if chosen:
        return Path(chosen).expanduser().resolve()
    import platformdirs  # small, but only needed by commands that keep state

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
