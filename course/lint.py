"""What `course validate` checks beyond loading: it sees every file and runs the examples.

- Files that no declaration uses, in a lesson or an exercise folder: an undeclared
  `mistakes/*.py` (a known mistake `course verify` never runs), a stray `NOTES.txt`
  (which a release would not ship, and an instructor may think it does). As rustlings'
  `dev check` does, the folder's declaration is the allow-list.
- The lessons' `runnable: true` code examples, each run in the sandbox
  (course.grading.sandbox) as a student would run it, reported at the line that raised.

`course validate` and `course verify` run both (course.loader.validate_course); loading a
course for any other command does neither.
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from course.errors import Diagnostic, Where
from course.loader import EXERCISE_FILE, EXPECTED_FILE, FEEDBACK_FILE, LESSON_FILE, QUIZ_FILE

if TYPE_CHECKING:
    from course.model import CodeBlock, Course, Exercise, Lesson

IGNORED_FOLDERS = ("__pycache__",)
EXAMPLE_FILENAME = "example.py"
EXAMPLE_PROBE = "__course_example__"
EXAMPLE_SECONDS = 20.0
PARALLEL_EXAMPLES = 4


# --------------------------------------------------------------------------- undeclared files


def _files(folder: Path) -> list[str]:
    """Every file under `folder`, relative, in POSIX form; __pycache__ folders skipped, links not followed."""
    import os

    found = []
    for current, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name not in IGNORED_FOLDERS)
        base = Path(current)
        found += [(base / name).relative_to(folder).as_posix() for name in files]
    return sorted(found)


def _normal(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).as_posix()


def _lesson_files(lesson: "Lesson") -> set[str]:
    from course.model import ImageFigure

    allowed = {LESSON_FILE, QUIZ_FILE}
    allowed |= {_normal(f.file) for f in lesson.figures if isinstance(f, ImageFigure)}
    return allowed


def _exercise_files(exercise: "Exercise", edition: str) -> set[str]:
    allowed = {EXERCISE_FILE, FEEDBACK_FILE, _normal(exercise.starter)} | {_normal(name) for name in exercise.data}
    if edition == "student":
        allowed.add(EXPECTED_FILE)
    else:
        allowed.add(_normal(exercise.reference))
        allowed |= {_normal(mistake.file) for mistake in exercise.mistakes}
    return allowed


def undeclared_files(course: "Course") -> list[Diagnostic]:
    """`FILE:1:1: ...` for each file of a lesson or exercise folder that nothing declares."""
    found = []
    for lesson in course.lessons:
        declaration = _display(course.root, lesson.folder / LESSON_FILE)
        allowed = _lesson_files(lesson)
        for name in _files(lesson.folder):
            if name not in allowed:
                found.append(Diagnostic(Where(_display(course.root, lesson.folder / name), 1, 1),
                                        f"no declaration uses this file: a lesson folder holds {LESSON_FILE}, "
                                        f"{QUIZ_FILE} and the image files {declaration} names; "
                                        "remove it, or show it as an `image` figure"))
    for exercise in course.exercises:
        declaration = _display(course.root, exercise.folder / EXERCISE_FILE)
        allowed = _exercise_files(exercise, course.edition)
        for name in _files(exercise.folder):
            if name in allowed:
                continue
            where = Where(_display(course.root, exercise.folder / name), 1, 1)
            if name.startswith("mistakes/") and name.endswith(".py") and course.edition != "student":
                stem = PurePosixPath(name).stem
                message = (f"known-mistake file that no mistake in {declaration} declares, so `course verify` "
                           f"never runs it: declare it under `mistakes` (name: {stem}) or delete it")
            else:
                message = (f"no declaration uses this file: an exercise folder holds {EXERCISE_FILE}, its starter, "
                           + ("expected.npz" if course.edition == "student" else "its reference and known mistakes")
                           + f", {FEEDBACK_FILE} and the data files {declaration} lists under `data`; "
                             "remove it, or declare it")
            found.append(Diagnostic(where, message))
    return found


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- runnable examples


def _examples(course: "Course") -> list[tuple["Lesson", tuple, "CodeBlock"]]:
    from course.model import CodeBlock

    return [(lesson, (s, b), block)
            for lesson in course.lessons
            for s, section in enumerate(lesson.sections)
            for b, block in enumerate(section.blocks)
            if isinstance(block, CodeBlock) and block.runnable and block.language == "python"]


def failing_examples(course: "Course") -> list[Diagnostic]:
    """Run every `runnable` Python example in the sandbox; one diagnostic per example that fails.

    An example fails when importing it as a module raises (or does not finish in
    EXAMPLE_SECONDS). The examples run a few at a time; with none, nothing is imported.
    """
    examples = _examples(course)
    if not examples:
        return []
    from course.grading import sandbox

    # as a student's file runs: the sandbox sees Python and numpy only (no course, no engine, no progress)
    limits = sandbox.Limits(wall_seconds=EXAMPLE_SECONDS, cpu_seconds=int(EXAMPLE_SECONDS))
    failures = (sandbox.SandboxError, sandbox.SandboxUnavailable, OSError)

    def start(block: "CodeBlock"):
        source = block.source.rstrip("\n") + f"\n\n\ndef {EXAMPLE_PROBE}():\n    return None\n"
        return sandbox.start(source, filename=EXAMPLE_FILENAME, function=EXAMPLE_PROBE, limits=limits)

    found = []
    for first in range(0, len(examples), PARALLEL_EXAMPLES):
        batch = examples[first:first + PARALLEL_EXAMPLES]
        sessions: list = []
        try:
            for lesson, position, block in batch:  # a few children start at once: their start-ups overlap
                try:
                    sessions.append((lesson, position, block, start(block)))
                except failures:
                    sessions.append((lesson, position, block, None))
            for lesson, position, block, session in sessions:
                run, error = None, None
                try:  # a sandbox that fails to start is retried by the sandbox itself
                    session = session if session is not None else start(block)
                    run = session.run([])
                except failures as failure:
                    error, session = failure, None
                if run is None:
                    found.append(_example_problem(course, lesson, position, block,
                                                  f"could not be run: the sandbox failed, not the example ({error})"))
                elif not run.loaded:
                    found.append(_example_problem(course, lesson, position, block, run.load_error or "failed"))
        finally:
            for *_, session in sessions:
                if session is not None:
                    session.close()
    return found


_FRAME_LINE = re.compile(r'File "' + re.escape(EXAMPLE_FILENAME) + r'", line (\d+)')
_SYNTAX_LINE = re.compile(r"^SyntaxError: .*\(line (\d+)\)")


def _example_problem(course: "Course", lesson: "Lesson", position: tuple, block: "CodeBlock",
                     error: str) -> Diagnostic:
    """The example's failure at the line of the lesson file that raised, with the error's first line."""
    first = error.strip().splitlines()[0] if error.strip() else "failed"
    lines = [int(n) for n in _FRAME_LINE.findall(error)]
    syntax = _SYNTAX_LINE.match(first)
    if syntax:
        lines.append(int(syntax.group(1)))
    where = _source_line(course, lesson, position, lines[-1] if lines else 1) or block.where
    return Diagnostic(where, f"runnable example failed: {first}")


def _source_line(course: "Course", lesson: "Lesson", position: tuple, line: int) -> Where | None:
    """Where line `line` of a code block's source is written in the lesson file."""
    from course.diagnose import node_at
    from course.yamlsafe import parse_file

    path = lesson.folder / LESSON_FILE
    display = _display(course.root, path)
    try:
        root = parse_file(path, display)
    except Exception:  # the file changed since it was loaded: fall back to the block's position
        return None
    section, block = position
    node, _ = node_at(root, ("sections", section, "blocks", block, "code", "source"))
    if node is None or node.kind != "scalar":
        return None
    first = node.where.line + 1 if node.style in ("|", ">") else node.where.line
    target = first + max(line, 1) - 1
    try:
        text = path.read_text(encoding="utf-8").splitlines()[target - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return Where(display, target, 1)
    return Where(display, target, len(text) - len(text.lstrip()) + 1)
