"""The student edition: `course release OUT`.

Writes a course root that students can use with `course --course OUT ...` and that
holds nothing a student must not see:

    course.yaml                    edition: student
    README.md                      how students use it
    schemas/*.schema.json          the JSON Schemas the files' first lines point at
    content/<lesson>/lesson.yaml   as written (and any image files its figures show)
    content/<lesson>/quiz.yaml     as written: students take the quizzes locally, so the
                                   questions carry their answers, as the instructor's do;
                                   no separate answer key is written
    exercises/<id>/exercise.yaml   written from the validated model: public cases only, and
                                   none of the keys the model marks instructor-only (the
                                   reference, the known mistakes' files)
    exercises/<id>/<starter>.py    as written
    exercises/<id>/<data files>    as written (the inputs are built from them)
    exercises/<id>/feedback.py     as written, when there is one: the exercise's pictures,
                                   readings and showcase (course.grading.hooks). It is
                                   public code, as the engine is; one that says
                                   STUDENT_EDITION = False (its readings compute the
                                   answer) is held back
    exercises/<id>/expected.npz    the reference's outputs on the public cases, and what
                                   each known mistake did on them (its output or its error
                                   text, any input it changed in place, its shift_invariant
                                   call), so `course check` names a mistake as the instructor
                                   edition does; written by
                                   course.grading.expected.write_expected (numeric and unicode
                                   arrays only) and read back with np.load(allow_pickle=False)

and nothing else: no reference.py, no mistakes/*.py, no hidden case (not its name,
inputs, seed or description), no __pycache__. Files are allow-listed, never copied by
folder, so an instructor's notes or a stray .pyc cannot leak. Every YAML file's first
line, `# yaml-language-server: $schema=...`, points at the edition's own schemas/.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course import model as m
from course.grading.hooks import FEEDBACK_FILE, ships_to_students
from course.errors import UsageError
from course.loader import EXERCISE_FILE, EXPECTED_FILE, LESSON_FILE, MANIFEST_FILE, QUIZ_FILE
from course.schema import INSTRUCTOR_ONLY, KINDS, SCHEMA_DIR, schema_file, with_header

SCHEMAS = "schemas"  # the edition's copy of course/schemas/

KEEP_ON_FORCE = (".git",)  # a release folder that is a git clone stays one

STUDENT_README = """\
# {title} (student edition)

This folder is a course for the `course` command. Install the engine, then use this
folder as the course root:

```sh
pip install llm-course                       # or the engine your instructor names
course --course . lessons                    # or: export COURSE_ROOT=$PWD
course --course . read {lesson}
course --course . quiz {lesson}
course --course . start {exercise}
course --course . check {exercise}
```

`course check` grades your file against the public cases, with the expected outputs stored in
`exercises/<id>/{expected}`. Your instructor also grades hidden cases, which are not part of this
edition.
"""


@dataclass
class ReleaseReport:
    out: Path
    lessons: list[str] = field(default_factory=list)
    exercises: list[tuple[str, int, int]] = field(default_factory=list)  # id, public cases, hidden left out
    files: list[Path] = field(default_factory=list)  # relative to out
    held_back: list[str] = field(default_factory=list)  # feedback.py files that compute answers (STUDENT_EDITION = False)


def release_course(course: m.Course, out: Path, *, force: bool = False) -> ReleaseReport:
    """Write the student edition of `course` (an instructor edition) to `out`.

    `out` must not exist or be empty; with force an earlier release there is replaced
    (a .git folder in it is kept). The edition is built in a temporary folder beside
    `out` and moved in at the end, so a failure never leaves half a release.
    """
    out = Path(out)
    _check_target(course, out, force)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.release-", dir=parent))
    except OSError as error:
        raise UsageError(f"cannot write to {parent}: {error.strerror or error}") from None
    try:
        report = _write_edition(course, staging)
        _move_into(staging, out, force)
    except OSError as error:
        raise UsageError(f"cannot write the student edition to {out}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.out = out
    return report


def _check_target(course: m.Course, out: Path, force: bool) -> None:
    if course.edition == "student":
        raise UsageError(f"{course.root} is already a student edition: release from the instructor edition")
    target = out.resolve()
    root = course.root.resolve()
    if target == root or root.is_relative_to(target):
        raise UsageError(f"{out} holds the course itself: choose a new folder for the student edition")
    for folder in ("content", "exercises"):
        if target.is_relative_to(root / folder):
            raise UsageError(f"{out} is inside the course's {folder}/ folder: choose a folder outside it")
    if target == Path.home().resolve():
        raise UsageError(f"{out} is your home folder: choose a new folder for the student edition")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    if out.is_dir() and not force:
        entries = [p.name for p in out.iterdir() if p.name not in KEEP_ON_FORCE]
        if entries:
            raise UsageError(f"{out} is not empty; choose a new folder, or add --force to replace its contents "
                             f"(a .git folder is kept)")


def _move_into(staging: Path, out: Path, force: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if force:
        for entry in out.iterdir():
            if entry.name in KEEP_ON_FORCE:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    for entry in staging.iterdir():
        os.replace(entry, out / entry.name)


# --------------------------------------------------------------------------- writing


def _write_edition(course: m.Course, target: Path) -> ReleaseReport:
    from course.grading.expected import write_expected  # numpy: only when a release is written

    report = ReleaseReport(out=target)

    def write(relative: str, text: str | None = None, copy_from: Path | None = None) -> Path:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if copy_from is not None:
            shutil.copyfile(copy_from, path)
        else:
            path.write_text(text or "", encoding="utf-8")
        report.files.append(Path(relative))
        return path

    def write_yaml(relative: str, kind: str, text: str) -> Path:
        depth = relative.count("/")
        return write(relative, with_header(text, "../" * depth + f"{SCHEMAS}/{schema_file(kind)}"))

    for kind in KINDS:
        write(f"{SCHEMAS}/{schema_file(kind)}", copy_from=SCHEMA_DIR / schema_file(kind))
    manifest = m.Manifest(format_version=m.FORMAT_VERSION, title=course.title, edition="student")
    write_yaml(MANIFEST_FILE, "course", _dump(student_data(manifest), header="The student edition, written by "
                                                                              "`course release`."))
    for lesson in course.lessons:
        folder = f"content/{lesson.folder.name}"
        write_yaml(f"{folder}/{LESSON_FILE}", "lesson", (lesson.folder / LESSON_FILE).read_text(encoding="utf-8"))
        if lesson.quiz is not None:
            write_yaml(f"{folder}/{QUIZ_FILE}", "quiz", (lesson.folder / QUIZ_FILE).read_text(encoding="utf-8"))
        for figure in lesson.figures:
            if isinstance(figure, m.ImageFigure):
                write(f"{folder}/{figure.file}", copy_from=lesson.folder / figure.file)
        report.lessons.append(lesson.id)
    for exercise in course.exercises:
        folder = f"exercises/{exercise.folder.name}"
        write_yaml(f"{folder}/{EXERCISE_FILE}", "exercise",
                   _dump(student_exercise(exercise), header="Student edition: public cases only (written by "
                                                            "`course release`)."))
        write(f"{folder}/{exercise.starter}", copy_from=exercise.starter_path)
        for name in exercise.data:
            write(f"{folder}/{name}", copy_from=exercise.folder / name)
        if ships_to_students(exercise):  # pictures and readings work in the edition too
            write(f"{folder}/{FEEDBACK_FILE}", copy_from=exercise.folder / FEEDBACK_FILE)
        elif (exercise.folder / FEEDBACK_FILE).is_file():
            report.held_back.append(f"{folder}/{FEEDBACK_FILE}")
        write_expected(exercise, target / folder / EXPECTED_FILE)
        report.files.append(Path(folder) / EXPECTED_FILE)
        public = sum(1 for c in exercise.cases if c.visibility == "public")
        report.exercises.append((exercise.id, public, len(exercise.cases) - public))
    first_lesson = course.lessons[0].id if course.lessons else "LESSON"
    first_exercise = course.exercises[0].id if course.exercises else "EXERCISE"
    write("README.md", STUDENT_README.format(title=course.title, lesson=first_lesson, exercise=first_exercise,
                                             expected=EXPECTED_FILE))
    return report


def student_exercise(exercise: m.Exercise) -> dict:
    """exercise.yaml of the student edition, as plain data for yaml.safe_dump.

    Written from the validated model, not edited from the instructor's text: the hidden
    cases are dropped here, and every key the model marks instructor-only (the reference,
    a known mistake's file) by `student_data`, so a key added to the model later is
    either declared instructor-only or meant for students. Each case carries its
    effective checks and tolerance (the loader merged the exercise-wide defaults in).
    """
    public = tuple(case for case in exercise.cases if case.visibility == "public")
    return student_data(exercise.model_copy(update={"cases": public}))


def student_data(model: m.CourseModel) -> dict:
    """A model as YAML-ready data: keys as written, defaults left out, instructor-only keys dropped."""
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude=_instructor_only(model))


def _instructor_only(value: Any) -> Any:
    """pydantic's `exclude` for every field marked instructor-only, at any depth."""
    if isinstance(value, m.CourseModel):
        excluded: dict = {}
        for name, info in type(value).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get(INSTRUCTOR_ONLY):
                excluded[name] = True
            else:
                inner = _instructor_only(getattr(value, name))
                if inner:
                    excluded[name] = inner
        return excluded
    if isinstance(value, (tuple, list)):
        inner = {i: sub for i, item in enumerate(value) if (sub := _instructor_only(item))}
        return inner
    if isinstance(value, dict):
        return {key: sub for key, item in value.items() if (sub := _instructor_only(item))}
    return {}


def _dump(data: dict, header: str = "") -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    body = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return (f"# {header}\n" if header else "") + body
