"""The one loader: course YAML in, validated `course.model` objects out.

Every problem is collected, not just the first, and reported as
`FILE:LINE:COL: message` with FILE relative to the course root. `load_course`
raises ContentError when there is any; `validate_course` returns them (and adds what
only an authoring check needs: files nobody declared, runnable examples that raise).

Reading is in two passes. Each file is composed into positioned YNodes
(course.yamlsafe) and validated by its model (course.model), which declares every key,
type, default and check within the file; pydantic's errors are worded and positioned by
course.diagnose. Then references between files and to other files are checked here (an
exercise's lesson exists, a question's section exists, the starter file exists, ...).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from course.errors import ContentError, Diagnostic, Where, did_you_mean

if TYPE_CHECKING:  # the models import pydantic, yamlsafe PyYAML: only when a file is really read
    from course import model as m
    from course.yamlsafe import YNode

LESSON_FILE = "lesson.yaml"
QUIZ_FILE = "quiz.yaml"
EXERCISE_FILE = "exercise.yaml"
MANIFEST_FILE = "course.yaml"
EXPECTED_FILE = "expected.npz"  # a student release's stored expected outputs
FEEDBACK_FILE = "feedback.py"  # a planned per-exercise trusted hook: allowed beside exercise.yaml

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class Context:
    """Collects diagnostics for one course."""

    def __init__(self, root: Path):
        self.root = root
        self.diagnostics: list[Diagnostic] = []
        self.broken_ids: set[str] = set()  # ids of files that failed: references to them are not errors too
        self.nodes: dict[int, YNode] = {}  # id(top-level object) -> its file's YNode

    def error(self, where: Where, message: str) -> None:
        self.diagnostics.append(Diagnostic(where, message))

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def parse(self, path: Path) -> "YNode | None":
        from course.yamlsafe import parse_file

        try:
            return parse_file(path, self.display(path))
        except ContentError as error:
            self.diagnostics.extend(error.diagnostics)
            return None

    def build(self, model: type[m.CourseModel], path: Path, what: str) -> Any:
        """The file at `path` validated by `model`, positioned; None (and diagnostics) if it is not valid.

        `what` names the kind of file with its article ("an exercise")."""
        node = self.parse(path)
        if node is None:
            return None
        if node.kind != "map":
            self.error(node.where, f"the top level of {what} file must be a mapping of keys, got {_describe(node)}")
            return None
        from pydantic import ValidationError

        from course.diagnose import explain
        from course.yamlsafe import to_data

        try:
            result = model.model_validate(to_data(node), by_alias=True, by_name=False)
        except ValidationError as error:
            self.diagnostics.extend(explain(error, model, node))
            id_node = node.get("id")
            if id_node is not None and id_node.kind == "scalar" and isinstance(id_node.value, str):
                self.broken_ids.add(id_node.value)
            return None
        place(result, node)
        self.nodes[id(result)] = node
        return result

    def node(self, obj: Any) -> "YNode":
        return self.nodes[id(obj)]

    def where_of(self, obj: Any, *path) -> Where:
        """Where a key (or item) of a loaded file is written; the object itself if absent."""
        from course.diagnose import node_at

        node, key_where = node_at(self.node(obj), path)
        if key_where is not None:
            return key_where
        return node.where if node is not None else obj.where


def _describe(node: "YNode") -> str:
    from course.diagnose import describe

    return describe(node)


def place(value: Any, node: "YNode") -> None:
    """Give every model object of a validated tree the position of its YAML definition."""
    from course.model import CourseModel

    if isinstance(value, CourseModel):
        value.__pydantic_private__["_where"] = node.where
        if node.kind == "map":
            for key, name in type(value).yaml_keys().items():
                child = node.value.get(key)
                if child is not None and (child.kind != "scalar" or isinstance(getattr(value, name), CourseModel)):
                    place(getattr(value, name), child)
    elif node.kind == "seq" and isinstance(value, (tuple, list)):
        for item, child in zip(value, node.value):
            if child.kind != "scalar" or isinstance(item, CourseModel):
                place(item, child)
    elif node.kind == "map" and isinstance(value, (tuple, list)):  # a mapping kept as a tuple (parameters)
        for item, child in zip(value, node.value.values()):
            place(item, child)
    elif node.kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            child = node.value.get(key)
            if child is not None:
                place(item, child)


def _unique(ctx: Context, items, key, what: str) -> set:
    seen: dict = {}
    for item in items:
        value = key(item)
        if value in seen:
            ctx.error(item.where, f"duplicate {what} '{value}' (first at {seen[value]})")
        else:
            seen[value] = item.where
    return set(seen)


# --------------------------------------------------------------------------- files


def _manifest(ctx: Context, root: Path) -> "m.Manifest":
    from course.model import FORMAT_VERSION, Manifest

    default = Manifest.model_construct(format_version=FORMAT_VERSION)
    path = root / MANIFEST_FILE
    if not path.exists():
        return default
    manifest = ctx.build(Manifest, path, "a course manifest")
    return manifest if manifest is not None else default


def _lesson(ctx: Context, path: Path) -> "m.Lesson | None":
    from course import model as m

    lesson = ctx.build(m.Lesson, path, "a lesson")
    if lesson is None:
        return None
    lesson._folder = path.parent
    if lesson.id != path.parent.name:
        ctx.error(ctx.where_of(lesson, "id"), f"lesson id '{lesson.id}' must match its folder name '{path.parent.name}'")
    folder = path.parent.resolve()
    for figure in lesson.figures:
        if isinstance(figure, m.ImageFigure):
            image = (path.parent / figure.file).resolve()
            if not image.is_relative_to(folder):
                ctx.error(figure.where, f"image file '{figure.file}' is outside the lesson folder")
            elif not image.is_file():
                ctx.error(figure.where, f"image file '{figure.file}' not found in {ctx.display(path.parent)}/")
    return lesson


def _quiz(ctx: Context, path: Path, lesson: "m.Lesson | None") -> "m.Quiz | None":
    from course.model import Quiz

    quiz = ctx.build(Quiz, path, "a quiz")
    if quiz is None or lesson is None:
        return quiz
    if quiz.lesson_id != lesson.id:
        ctx.error(ctx.where_of(quiz, "lesson"), f"quiz names lesson '{quiz.lesson_id}' but sits beside lesson '{lesson.id}'")
    section_ids = [s.id for s in lesson.sections]
    for question in quiz.questions:
        if question.section not in section_ids:
            ctx.error(question.where, f"question '{question.id}' names unknown section "
                                      f"'{question.section}'{did_you_mean(question.section, section_ids)}")
    return quiz


def _exercise(ctx: Context, path: Path, edition: str) -> "m.Exercise | None":
    from course import model as m

    exercise = ctx.build(m.Exercise, path, "an exercise")
    if exercise is None:
        return None
    folder = path.parent
    exercise._folder = folder
    for case in exercise.cases:
        for _, spec in m.case_inputs(case):
            if isinstance(spec, m.NpzInput):
                spec._folder = folder
    if exercise.id != folder.name:
        ctx.error(ctx.where_of(exercise, "id"), f"exercise id '{exercise.id}' must match its folder name '{folder.name}'")
    files = [("starter", exercise.starter, ctx.where_of(exercise, "starter"))]
    if edition == "student":
        files.append(("expected outputs", EXPECTED_FILE, exercise.where))
    else:
        files.append(("reference", exercise.reference, ctx.where_of(exercise, "reference")))
        files += [(f"mistake '{mk.name}'", mk.file, mk.where) for mk in exercise.mistakes]
    files += [("data", name, ctx.where_of(exercise, "data", i)) for i, name in enumerate(exercise.data)]
    for what, name, where in files:
        if not (folder / name).is_file():
            ctx.error(where, f"{what} file '{name}' not found in {ctx.display(folder)}/")
    _check_npz_keys(ctx, exercise)
    return exercise


def _check_npz_keys(ctx: Context, exercise: "m.Exercise") -> None:
    """A `key` of an npz input must be an array of the file (read from the zip's index: no numpy)."""
    from course.model import NpzInput, case_inputs

    listing: dict[str, set[str] | None] = {}
    for case in exercise.cases:
        for _, spec in case_inputs(case):
            if not isinstance(spec, NpzInput) or spec.npz.key is None or not spec.path.is_file():
                continue
            if spec.npz.file not in listing:
                listing[spec.npz.file] = _npz_keys(spec.path)
            keys = listing[spec.npz.file]
            if keys is None:
                ctx.error(spec.where, f"data file '{spec.npz.file}' is not a readable .npz file")
            elif spec.npz.key not in keys:
                ctx.error(spec.where, f"'{spec.npz.file}' has no array '{spec.npz.key}'{did_you_mean(spec.npz.key, keys)}")


def _npz_keys(path: Path) -> set[str] | None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return {name[:-4] for name in archive.namelist() if name.endswith(".npy")}
    except (OSError, zipfile.BadZipFile):
        return None


# --------------------------------------------------------------------------- the course


def _read_course(root: Path) -> tuple["m.Course | None", list[Diagnostic]]:
    from course.model import Course

    root = Path(root).resolve()
    ctx = Context(root)
    if not root.is_dir():
        ctx.error(Where(str(root)), "course folder not found")
        return None, ctx.diagnostics
    manifest = _manifest(ctx, root)
    for needed in ("content", "exercises"):
        if not (root / needed).is_dir():
            ctx.error(Where(needed + "/"), f"missing folder '{needed}/': a course root holds content/ and exercises/")
    lessons = []
    for folder in sorted(p for p in (root / "content").glob("*") if p.is_dir()):
        lesson_path = folder / LESSON_FILE
        if not lesson_path.is_file():
            ctx.error(Where(ctx.display(folder) + "/"), f"lesson folder has no {LESSON_FILE}")
            continue
        lesson = _lesson(ctx, lesson_path)
        if lesson is None:
            ctx.broken_ids.add(folder.name)
        quiz_path = folder / QUIZ_FILE
        quiz = _quiz(ctx, quiz_path, lesson) if quiz_path.exists() else None
        if lesson is not None:
            lesson._quiz = quiz
            lessons.append(lesson)
    exercises = []
    for folder in sorted(p for p in (root / "exercises").glob("*") if p.is_dir() and not p.name.startswith((".", "_"))):
        exercise_path = folder / EXERCISE_FILE
        if not exercise_path.is_file():
            ctx.error(Where(ctx.display(folder) + "/"), f"exercise folder has no {EXERCISE_FILE}")
            continue
        exercise = _exercise(ctx, exercise_path, manifest.edition)
        if exercise is None:
            ctx.broken_ids.add(folder.name)
        else:
            exercises.append(exercise)
    lessons.sort(key=lambda lesson: (lesson.number, lesson.id))
    _check_course(ctx, lessons, exercises)
    course = Course(root=root, manifest=manifest, lessons=tuple(lessons), exercises=tuple(exercises))
    return course, ctx.diagnostics


def _check_course(ctx: Context, lessons: list, exercises: list) -> None:
    lesson_ids = _unique(ctx, lessons, lambda lesson: lesson.id, "lesson id")
    _unique(ctx, lessons, lambda lesson: lesson.number, "lesson number")
    exercise_ids = _unique(ctx, exercises, lambda e: e.id, "exercise id")
    by_id = {lesson.id: lesson for lesson in lessons}
    for lesson in lessons:
        for index, exercise_id in enumerate(lesson.exercises):
            if exercise_id not in exercise_ids and exercise_id not in ctx.broken_ids:
                ctx.error(ctx.where_of(lesson, "exercises", index),
                          f"lesson '{lesson.id}' lists unknown exercise '{exercise_id}'{did_you_mean(exercise_id, exercise_ids)}")
    for exercise in exercises:
        if exercise.lesson in ctx.broken_ids:
            continue
        if exercise.lesson not in lesson_ids:
            ctx.error(exercise.where, f"exercise '{exercise.id}' names unknown lesson "
                                      f"'{exercise.lesson}'{did_you_mean(exercise.lesson, lesson_ids)}")
        elif exercise.section and by_id[exercise.lesson].section(exercise.section) is None:
            sections = [s.id for s in by_id[exercise.lesson].sections]
            ctx.error(exercise.where, f"exercise '{exercise.id}' names unknown section "
                                      f"'{exercise.section}'{did_you_mean(exercise.section, sections)}")
        for index, other in enumerate(exercise.imports):
            if other not in exercise_ids and other not in ctx.broken_ids:
                ctx.error(ctx.where_of(exercise, "imports", index),
                          f"exercise '{exercise.id}' imports unknown exercise '{other}'"
                          f"{did_you_mean(other, exercise_ids)}")


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.where.file, d.where.line, d.where.column))


class ExerciseLimitsPreview(NamedTuple):
    wall_seconds: float
    memory_mb: int


class ExercisePreview:
    """An exercise as far as starting its sandbox goes, read from the course cache
    (course.cache) without importing the models: its function, limits and starter.
    Anything else is read from the exercise itself, loaded on first use."""

    def __init__(self, root: Path, exercise_id: str, launch: dict[str, Any]):
        self.root, self.id = root, exercise_id
        self.function: str = launch["function"]
        self.imports: tuple[str, ...] = tuple(launch["imports"])
        self.limits = ExerciseLimitsPreview(launch["wall_seconds"], launch["memory_mb"])
        self.starter: str = launch["starter"]
        self.folder = Path(launch["folder"])
        self._exercise: Any = None

    @property
    def starter_path(self) -> Path:
        return self.folder / self.starter

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._exercise is None:
            self._exercise = load_course(self.root).exercise(self.id)
        return getattr(self._exercise, name)


def preview_exercise(root: Path, exercise_id: str) -> "m.Exercise | ExercisePreview | None":
    """One exercise, as quickly as possible; None when absent or broken.

    No cross-file checks: `course check` uses it to start the sandbox child before the
    whole course is loaded and validated (which then happens as usual). From the course
    cache when the course has not changed since it last loaded (no models imported),
    else read from its own exercise.yaml.
    """
    from course import cache

    root = Path(root).resolve()
    path = root / "exercises" / exercise_id / EXERCISE_FILE
    if not ID_PATTERN.match(exercise_id) or not path.is_file():
        return None
    launch = cache.read_launch(root, cache.course_key(root))
    if launch is not None and exercise_id in launch:
        return ExercisePreview(root, exercise_id, launch[exercise_id])
    ctx = Context(root)
    exercise = _exercise(ctx, path, _manifest(ctx, root).edition)
    return exercise if exercise is not None and not ctx.diagnostics else None


def validate_course(root: Path, *, run_code: bool = True) -> list[Diagnostic]:
    """Every content problem of the course at `root`, in file order; never from the cache.

    Beyond what loading checks: files in lesson and exercise folders that nothing
    declares, and (run_code) the lessons' `runnable` examples, each run in the sandbox.
    """
    from course import cache, lint

    root = Path(root).resolve()
    key = cache.course_key(root)
    course, diagnostics = _read_course(root)
    if course is not None:
        if not diagnostics:
            cache.write(root, key, course)
        diagnostics = diagnostics + lint.undeclared_files(course)
        if run_code:
            diagnostics += lint.failing_examples(course)
    return _sorted(diagnostics)


def load_course(root: Path, *, use_cache: bool = True) -> "m.Course":
    """The course at `root` as typed objects; ContentError lists every problem.

    A course that loaded without problems is cached (course.cache) and, while none of
    its files and nothing of the engine changes, read back instead of validated again.
    """
    from course import cache

    root = Path(root).resolve()
    key = cache.course_key(root) if root.is_dir() and use_cache else None
    cached = cache.read_course(root, key)
    if cached is not None:
        return cached
    course, diagnostics = _read_course(root)
    if diagnostics or course is None:
        raise ContentError(_sorted(diagnostics))
    cache.write(root, key, course)
    return course
