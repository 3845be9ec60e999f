"""Validated courses, cached: commands skip YAML and validation when nothing changed.

Validating a course with its models costs more than the rest of a `course check` does
before the sandbox answers (pydantic itself takes a good part of that to import). So a
course that loaded without a problem is kept, pickled, in the user's cache folder, and
used again while its key is the same:

- the engine: its version and the files that decide what loading gives (their size and
  modification time);
- the course root's path (the objects hold absolute paths);
- every file of the course: course.yaml and everything under content/ and exercises/
  (__pycache__ aside), YAML files by a hash of their bytes, the others by size and
  modification time (loading only asks whether they exist, and lists .npz members).

An entry is three pickles in a row. A small header in plain Python types: per exercise
what starting its sandbox needs (function, limits, starter), so `course check` can start
the child before it imports the models at all (see course.loader.preview_exercise). The
course without its lessons: root, manifest, exercises. The lessons, unpickled only when
asked for (course.model.Course takes them as a function), so that grading an exercise
builds neither the lesson nor the quiz models. A course with any problem is never
cached; `course validate` always validates.

Where: $COURSE_CACHE ("off" turns the cache off), else the platform's user cache folder
(not COURSE_HOME: a cache is not progress, and `course demo` must leave that alone). A
damaged, foreign or unreadable entry is a miss, never an error.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course import __version__
from course.paths import APP_NAME, PACKAGE_DIR

if TYPE_CHECKING:
    from course.model import Course

ENTRY_FORMAT = 3
MAX_ENTRIES = 32
# The engine files whose change changes what loading a course gives.
ENGINE_FILES = ("model/__init__.py", "model/base.py", "model/course.py", "model/lessons.py", "model/quizzes.py",
                "model/exercises.py", "loader.py", "yamlsafe.py", "diagnose.py", "errors.py", "cache.py")
SKIPPED_FOLDERS = ("__pycache__",)
YAML_SUFFIXES = (".yaml", ".yml")


def cache_dir() -> Path | None:
    """The folder for cached courses, or None when caching is off."""
    chosen = os.environ.get("COURSE_CACHE")
    if chosen is not None:
        if chosen.strip().lower() in ("", "0", "off", "no", "false"):
            return None
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def _engine() -> bytes:
    parts = [__version__, str(ENTRY_FORMAT)]
    for name in ENGINE_FILES:
        try:
            stat = (PACKAGE_DIR / name).stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    return "\n".join(parts).encode()


def course_key(root: Path) -> str | None:
    """The key of the course at `root` as it is on disk now; None if it cannot be read."""
    digest = hashlib.blake2b(_engine(), digest_size=24)
    digest.update(str(root).encode("utf-8", "surrogateescape"))
    try:
        for relative, path in _course_files(root):
            digest.update(b"\0" + relative.encode("utf-8", "surrogateescape") + b"\0")
            if relative.endswith(YAML_SUFFIXES):
                digest.update(hashlib.blake2b(path.read_bytes(), digest_size=24).digest())
            else:
                stat = path.stat()
                digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    except OSError:
        return None
    return digest.hexdigest()


def _course_files(root: Path):
    manifest = root / "course.yaml"
    if manifest.exists():
        yield "course.yaml", manifest
    for top in ("content", "exercises"):
        folder = root / top
        if not folder.is_dir():
            yield f"{top}/", folder
            continue
        for current, folders, files in os.walk(folder):
            folders[:] = sorted(name for name in folders if name not in SKIPPED_FOLDERS)
            base = Path(current)
            for name in sorted(files):
                path = base / name
                yield path.relative_to(root).as_posix(), path


def _entry_path(folder: Path, root: Path) -> Path:
    name = hashlib.blake2b(str(root).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    return folder / f"course-{name}.pickle"


def _launch_data(course: "Course") -> dict[str, dict[str, Any]]:
    return {exercise.id: {"function": exercise.function, "imports": list(exercise.imports),
                          "wall_seconds": exercise.limits.wall_seconds,
                          "memory_mb": exercise.limits.memory_mb, "starter": exercise.starter,
                          "folder": str(exercise.folder)}
            for exercise in course.exercises}


def write(root: Path, key: str | None, course: "Course") -> None:
    """Keep `course` (valid, loaded from `root` when its files had `key`); failures are ignored."""
    folder = cache_dir()
    if folder is None or key is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".course-", suffix=".tmp", dir=folder)
        with os.fdopen(handle, "wb") as out:
            pickle.dump((ENTRY_FORMAT, key, _launch_data(course)), out, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump((course.manifest, course.exercises), out, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(course.lessons, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, _entry_path(folder, root))
        _prune(folder)
    except Exception:  # a cache that cannot be written is only slower
        try:
            os.unlink(temporary)
        except Exception:
            pass


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("course-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        try:
            old.unlink()
        except OSError:
            pass


def _read(root: Path, key: str | None):
    """The entry's bytes positioned after a header that matches `key`, and the header; else None."""
    folder = cache_dir()
    if folder is None or key is None:
        return None
    try:
        data = io.BytesIO(_entry_path(folder, root).read_bytes())
    except OSError:
        return None
    try:
        header = pickle.load(data)
    except Exception:
        return None
    if not (isinstance(header, tuple) and len(header) == 3 and header[0] == ENTRY_FORMAT and header[1] == key):
        return None
    return data, header[2]


def read_launch(root: Path, key: str | None) -> dict[str, dict[str, Any]] | None:
    """Per exercise id, what starting its sandbox needs; None on a miss. Imports no model."""
    found = _read(root, key)
    if found is None:
        return None
    _, launch = found
    return launch if isinstance(launch, dict) else None


# Courses this process has read from the cache, by entry file (its identity on disk) and key. Unpickling
# the exercises' models is most of a cache hit; a process that loads the same course again (the notebook
# API, a test process, `course grade`'s parent) gets the same immutable objects back. An entry replaced or
# damaged on disk has another identity, so it is read (or missed) as before.
_READ: dict[tuple, "Course"] = {}
_READ_MAX = 8


def read_course(root: Path, key: str | None) -> "Course | None":
    """The cached course for `root` if its files still have `key`; None on a miss.

    Its lessons stay pickled until the course is asked for them.
    """
    folder = cache_dir()
    if folder is None or key is None:
        return None
    try:
        stat = _entry_path(folder, root).stat()
    except OSError:
        return None
    identity = (str(root), key, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if identity in _READ:
        return _READ[identity]
    found = _read(root, key)
    if found is None:
        return None
    data, _ = found
    try:
        manifest, exercises = pickle.load(data)
    except Exception:  # damaged, or written by an incompatible engine: a miss
        return None
    from course.model import Course

    lessons = data.getvalue()[data.tell():]
    course = Course(root=root, manifest=manifest, lessons=lambda: _lessons(root, lessons), exercises=exercises)
    if len(_READ) >= _READ_MAX:
        _READ.pop(next(iter(_READ)))
    _READ[identity] = course
    return course


def _lessons(root: Path, pickled: bytes) -> tuple:
    """The cached lessons; if they cannot be read any more, the course's lessons loaded anew."""
    try:
        return tuple(pickle.loads(pickled))
    except Exception:
        from course.loader import load_course

        return tuple(load_course(root, use_cache=False).lessons)
