"""The loader across files: the course's folders, references from one file to another, the files
an exercise names, the arrays of its .npz data, the order of lessons, and the positions the loaded
objects keep. In-process, so that mutation testing runs them against every mutant of
course/loader.py (docs/testing.md).

Each expected list is the whole of what `course validate` reports, in its order.
"""
from __future__ import annotations

import shutil

import pytest

from coursefactory import DATA_EXERCISE, EXERCISE, LESSON, QUIZ, write_course, write_data_exercise
from course import cache
from course.errors import ContentError
from course.loader import ExercisePreview, load_course, preview_exercise, validate_course
from course.model import DictInput, NpzInput, ValueInput


def reported(root) -> list[str]:
    """What `course validate` reports for the course at `root` (examples not run)."""
    return [str(d) for d in validate_course(root, run_code=False)]


@pytest.fixture
def cached(tmp_path, monkeypatch):
    """This test's own cache of validated courses (the other tests share one per session)."""
    folder = tmp_path / "course-cache"
    monkeypatch.setenv("COURSE_CACHE", str(folder))
    return folder


# --------------------------------------------------------------------------- the course's folders


def test_a_course_folder_that_does_not_exist_is_reported_by_its_path(tmp_path):
    assert reported(tmp_path / "nope") == [f"{tmp_path / 'nope'}: course folder not found"]
    with pytest.raises(ContentError, match="course folder not found"):
        load_course(tmp_path / "nope")


def test_an_empty_course_folder_lacks_content_and_exercises(tmp_path):
    assert reported(tmp_path) == [
        "content/: missing folder 'content/': a course root holds content/ and exercises/",
        "exercises/: missing folder 'exercises/': a course root holds content/ and exercises/"]


def test_folders_without_their_yaml_file_are_reported_and_hidden_ones_skipped(tmp_path):
    root = write_course(tmp_path)
    (root / "content" / "empty").mkdir()
    (root / "content" / "notes.txt").write_text("not a lesson folder")
    (root / "exercises" / "a-draft").mkdir()  # before double, which is still read
    (root / "exercises" / "_shared").mkdir()  # helpers: not an exercise
    (root / "exercises" / ".git").mkdir()
    (root / "exercises" / "README.md").write_text("not an exercise folder")
    assert reported(root) == ["content/empty/: lesson folder has no lesson.yaml",
                              "exercises/a-draft/: exercise folder has no exercise.yaml"]


def test_a_file_that_is_not_a_mapping_is_named_by_its_kind(tmp_path):
    root = write_course(tmp_path, quiz="- 1\n", exercise="[]\n")
    assert reported(root) == [
        "content/intro/quiz.yaml:1:1: the top level of a quiz file must be a mapping of keys, got a list",
        "exercises/double/exercise.yaml:1:1: the top level of an exercise file must be a mapping of keys, got a list"]


def test_field_names_are_not_keys_only_the_yaml_keys_are(tmp_path):
    # the quiz's `lesson` is held as `lesson_id`: an author must write the documented key
    root = write_course(tmp_path, quiz=QUIZ.replace("lesson: intro", "lesson_id: intro"))
    assert reported(root) == ["content/intro/quiz.yaml:1:1: missing required key 'lesson' in quiz",
                              "content/intro/quiz.yaml:2:1: unknown key 'lesson_id' in quiz; did you mean 'lesson'?"]


def test_a_course_without_a_manifest_gets_the_default_one(tmp_path):
    from course.model import FORMAT_VERSION

    course = load_course(write_course(tmp_path), use_cache=False)
    assert course.manifest.format_version == FORMAT_VERSION and course.edition == "instructor"


# --------------------------------------------------------------------------- ids and references


def test_a_lesson_id_must_be_its_folder_name(tmp_path):
    root = write_course(tmp_path, lesson=LESSON.replace("id: intro", "id: intro2"))
    assert reported(root) == [
        "content/intro/lesson.yaml:2:1: lesson id 'intro2' must match its folder name 'intro'",
        "content/intro/quiz.yaml:2:1: quiz names lesson 'intro' but sits beside lesson 'intro2'",
        "exercises/double/exercise.yaml:1:1: exercise 'double' names unknown lesson 'intro'; did you mean 'intro2'?"]


def test_an_exercise_id_must_be_its_folder_name(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("id: double", "id: double2"))
    assert reported(root) == [
        "content/intro/lesson.yaml:44:13: lesson 'intro' lists unknown exercise 'double'; did you mean 'double2'?",
        "exercises/double/exercise.yaml:2:1: exercise id 'double2' must match its folder name 'double'"]


def test_two_exercises_with_one_id_are_reported_at_the_second(tmp_path):
    root = write_course(tmp_path)
    shutil.copytree(root / "exercises" / "double", root / "exercises" / "double2")
    assert reported(root) == [
        "exercises/double2/exercise.yaml:1:1: duplicate exercise id 'double' (first at exercises/double/exercise.yaml:1:1)",
        "exercises/double2/exercise.yaml:2:1: exercise id 'double' must match its folder name 'double2'"]


def test_two_lessons_with_one_number_are_reported_and_lessons_are_in_number_order(tmp_path):
    root = write_course(tmp_path)
    second = root / "content" / "alpha"
    second.mkdir()
    (second / "lesson.yaml").write_text(LESSON.replace("id: intro", "id: alpha").replace("exercises: [double]", ""))
    assert reported(root) == [
        "content/intro/lesson.yaml:1:1: duplicate lesson number '1' (first at content/alpha/lesson.yaml:1:1)"]
    (second / "lesson.yaml").write_text(LESSON.replace("id: intro", "id: alpha").replace("number: 1", "number: 2")
                                        .replace("exercises: [double]", ""))
    zeta = root / "content" / "zeta"
    shutil.copytree(second, zeta)
    (zeta / "lesson.yaml").write_text(LESSON.replace("id: intro", "id: zeta").replace("number: 1", "number: 0")
                                      .replace("exercises: [double]", ""))
    course = load_course(root)
    assert [lesson.id for lesson in course.lessons] == ["zeta", "intro", "alpha"]
    assert course.lesson("intro").quiz.title == "Tiny quiz" and course.lesson("alpha").quiz is None


def test_two_lessons_with_one_id_are_reported_at_the_second(tmp_path):
    root = write_course(tmp_path)
    (root / "content" / "alpha").mkdir()
    (root / "content" / "alpha" / "lesson.yaml").write_text(LESSON.replace("number: 1", "number: 0"))
    assert reported(root) == [
        "content/alpha/lesson.yaml:2:1: lesson id 'intro' must match its folder name 'alpha'",
        "content/intro/lesson.yaml:1:1: duplicate lesson id 'intro' (first at content/alpha/lesson.yaml:1:1)"]


def test_the_exercises_after_one_of_a_broken_lesson_are_still_checked(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("lesson: intro", "lesson: broken"),
                        lesson=LESSON.replace("exercises: [double]", "exercises: [project]"))
    write_data_exercise(root, exercise=DATA_EXERCISE.replace("lesson: intro", "lesson: intro\nsection: basis"))
    (root / "content" / "broken").mkdir()
    (root / "content" / "broken" / "lesson.yaml").write_text("id: [broken\n")
    assert reported(root) == [
        "content/broken/lesson.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
        "sequence at line 1)",
        "exercises/project/exercise.yaml:1:1: exercise 'project' names unknown section 'basis'; did you mean 'basics'?"]


def test_an_exercise_is_told_its_unknown_section_and_imports(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("section: basics", "section: basis\nimports: [doubel, tripl]"))
    assert reported(root) == [
        "exercises/double/exercise.yaml:1:1: exercise 'double' names unknown section 'basis'; did you mean 'basics'?",
        "exercises/double/exercise.yaml:6:11: exercise 'double' imports unknown exercise 'doubel'; did you mean 'double'?",
        "exercises/double/exercise.yaml:6:19: exercise 'double' imports unknown exercise 'tripl'"]


def test_an_exercise_may_import_another_and_leave_out_its_section(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("section: basics\n", ""))
    write_data_exercise(root, exercise=DATA_EXERCISE.replace("lesson: intro", "lesson: intro\nimports: [double]"))
    assert reported(root) == []
    assert load_course(root).exercise("project").imports == ("double",)


def test_references_to_a_file_that_could_not_be_read_are_not_reported_again(tmp_path):
    # the lesson is no YAML at all: the quiz's section and the exercise's lesson are not checked against it
    root = write_course(tmp_path, lesson="id: [x\n", quiz=QUIZ.replace("section: basics", "section: basis"))
    assert reported(root) == [
        "content/intro/lesson.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (while parsing a "
        "flow sequence at line 1)"]


def test_references_to_an_invalid_files_id_are_not_reported_again(tmp_path):
    # the lesson in folder intro says it is 'other' and has an error: both names are known to be broken
    root = write_course(tmp_path, lesson=LESSON.replace("id: intro", "id: other").replace("number: 1", "number: one"),
                        exercise=EXERCISE.replace("lesson: intro", "lesson: other"))
    assert reported(root) == ["content/intro/lesson.yaml:3:9: expected a whole number, got text 'one'"]
    write_data_exercise(root, exercise=DATA_EXERCISE.replace("lesson: intro", "lesson: intro\nimports: [double]"))
    (root / "exercises" / "double" / "exercise.yaml").write_text(EXERCISE.replace("seed: 1", "seed: -1"))
    (root / "content" / "intro" / "lesson.yaml").write_text(LESSON.replace("exercises: [double]",
                                                                           "exercises: [double, project]"))
    assert reported(root) == ["exercises/double/exercise.yaml:15:11: must be between 0 and 4.29497e+09, got -1"]


def test_an_invalid_exercise_whose_folder_differs_from_its_id_is_not_reported_again(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("id: double", "id: dbl").replace("seed: 1", "seed: -1"),
                        lesson=LESSON.replace("exercises: [double]", "exercises: [double, dbl]"))
    assert reported(root) == ["exercises/double/exercise.yaml:15:11: must be between 0 and 4.29497e+09, got -1"]


def test_an_id_that_is_not_text_is_not_taken_for_a_broken_files_name(tmp_path):
    root = write_course(tmp_path, lesson=LESSON.replace("id: intro", "id: [intro]"))
    assert reported(root) == ["content/intro/lesson.yaml:2:5: expected text, got a list"]


# --------------------------------------------------------------------------- the files an exercise names


def test_each_missing_file_of_an_exercise_is_reported_where_it_is_named(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("hints:", "starter: mine.py\ndata: [a.npz, sub/b.npz]\nhints:"))
    folder = root / "exercises" / "double"
    (folder / "reference.py").unlink()
    (folder / "mistakes" / "triple.py").unlink()
    assert reported(root) == [
        "exercises/double/exercise.yaml:1:1: reference file 'reference.py' not found in exercises/double/",
        "exercises/double/exercise.yaml:9:1: starter file 'mine.py' not found in exercises/double/",
        "exercises/double/exercise.yaml:10:8: data file 'a.npz' not found in exercises/double/",
        "exercises/double/exercise.yaml:10:15: data file 'sub/b.npz' not found in exercises/double/",
        "exercises/double/exercise.yaml:26:5: mistake 'triple' file 'mistakes/triple.py' not found in exercises/double/",
        "exercises/double/starter.py:1:1: no declaration uses this file: an exercise folder holds exercise.yaml, its "
        "starter, its reference and known mistakes, feedback.py and the data files exercises/double/exercise.yaml lists "
        "under `data`; remove it, or declare it"]


def test_a_reference_named_in_the_file_is_reported_where_it_is_named(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("hints:", "reference: solution.py\nhints:"))
    assert reported(root) == [
        "exercises/double/exercise.yaml:9:1: reference file 'solution.py' not found in exercises/double/",
        "exercises/double/reference.py:1:1: no declaration uses this file: an exercise folder holds exercise.yaml, its "
        "starter, its reference and known mistakes, feedback.py and the data files exercises/double/exercise.yaml lists "
        "under `data`; remove it, or declare it"]


def test_a_student_edition_needs_the_expected_outputs_instead_of_the_reference(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", "off")  # the preview reads the exercise file and the manifest
    root = write_course(tmp_path)
    (root / "course.yaml").write_text("format_version: 1\nedition: student\n")
    folder = root / "exercises" / "double"
    (folder / "reference.py").unlink()
    shutil.rmtree(folder / "mistakes")
    assert reported(root) == [
        "exercises/double/exercise.yaml:1:1: expected outputs file 'expected.npz' not found in exercises/double/"]
    (folder / "expected.npz").write_bytes(b"")
    assert reported(root) == []
    assert load_course(root).edition == "student"
    assert preview_exercise(root, "double").function == "double"
    (root / "course.yaml").unlink()  # an instructor's course needs the reference
    assert preview_exercise(root, "double") is None


def test_an_invalid_manifest_is_reported_and_the_course_read_as_an_instructors(tmp_path):
    root = write_course(tmp_path)
    (root / "course.yaml").write_text("format_version: 1\nedition: teacher\n")
    (root / "exercises" / "double" / "reference.py").unlink()
    assert reported(root) == [
        "course.yaml:2:10: 'teacher' is not one of: instructor, student",
        "exercises/double/exercise.yaml:1:1: reference file 'reference.py' not found in exercises/double/"]
    (root / "course.yaml").write_text("- edition: student\n")
    assert reported(root)[0] == "course.yaml:1:1: the top level of a course manifest file must be a mapping of keys, got a list"


# --------------------------------------------------------------------------- .npz data


NPZ_KEYS = DATA_EXERCISE.replace("{npz: {file: weights.npz, key: b}}", "{npz: {file: weights.npz, key: bb}}", 1) \
    .replace("w: {uniform: {shape: [3, 4], low: -1.0, high: 1.0}}", "w: {npz: {file: weights.npz, key: q}}")


def test_an_npz_key_must_name_an_array_of_the_file(tmp_path):
    root = write_course(tmp_path)
    write_data_exercise(root)
    assert reported(root) == []
    write_data_exercise(root, exercise=NPZ_KEYS)
    assert reported(root) == [
        "exercises/project/exercise.yaml:18:9: 'weights.npz' has no array 'bb'; did you mean 'b'?",
        "exercises/project/exercise.yaml:34:14: 'weights.npz' has no array 'q'"]


def test_an_npz_file_that_is_not_a_zip_is_reported_at_each_input_that_takes_an_array_of_it(tmp_path):
    root = write_course(tmp_path)
    folder = write_data_exercise(root, exercise=NPZ_KEYS)
    (folder / "weights.npz").write_bytes(b"not a zip")
    assert reported(root) == [
        "exercises/project/exercise.yaml:18:9: data file 'weights.npz' is not a readable .npz file",
        "exercises/project/exercise.yaml:34:14: data file 'weights.npz' is not a readable .npz file",
        "exercises/project/exercise.yaml:35:9: data file 'weights.npz' is not a readable .npz file"]
    (folder / "weights.npz").unlink()  # only the missing file, not its arrays
    assert reported(root) == ["exercises/project/exercise.yaml:10:8: data file 'weights.npz' not found in exercises/project/"]


def test_npz_inputs_know_their_file_in_the_exercise_folder(tmp_path):
    root = write_course(tmp_path)
    folder = write_data_exercise(root)
    exercise = load_course(root, use_cache=False).exercise("project")
    whole, one = exercise.cases[0].args[1], exercise.cases[0].args[2]
    assert isinstance(whole, NpzInput) and whole.path == folder / "weights.npz" and whole.npz.key is None
    assert one.npz.key == "b" and str(one.where) == "exercises/project/exercise.yaml:18:9"
    drawn = exercise.cases[1].args[1]
    assert isinstance(drawn, DictInput)
    assert str(drawn.entries["w"].where) == "exercises/project/exercise.yaml:25:14"


# --------------------------------------------------------------------------- positions of loaded objects


def test_loaded_objects_know_where_they_are_written(tmp_path):
    root = write_course(tmp_path, exercise=EXERCISE.replace("      - {normal: {shape: [3, 4]}}",
                                                            "      - {normal: {shape: [3, 4]}}\n      - 3"))
    course = load_course(root, use_cache=False)
    lesson = course.lesson("intro")
    assert str(lesson.where) == "content/intro/lesson.yaml:1:1"
    assert str(lesson.sections[0].where) == "content/intro/lesson.yaml:9:5"
    assert [str(block.where) for block in lesson.sections[0].blocks] == [
        "content/intro/lesson.yaml:12:9", "content/intro/lesson.yaml:17:9", "content/intro/lesson.yaml:22:9",
        "content/intro/lesson.yaml:27:9"]
    assert str(lesson.figure("growth").y.where) == "content/intro/lesson.yaml:36:8"
    assert str(lesson.figure("growth").series[0].points[0].where) == "content/intro/lesson.yaml:41:13"
    question = lesson.quiz.question("how-many")
    assert str(question.where) == "content/intro/quiz.yaml:15:5"
    assert [(p.name, str(p.where)) for p in question.parameters] == [("a", "content/intro/quiz.yaml:22:10")]
    case = course.exercise("double").cases[0]
    assert str(case.args[0].where) == "exercises/double/exercise.yaml:17:9"
    assert isinstance(case.args[1], ValueInput) and case.args[1].value == 3
    assert str(case.args[1].where) == "exercises/double/exercise.yaml:18:9"
    assert str(course.exercise("double").tolerance.where) == "exercises/double/exercise.yaml:11:12"


# --------------------------------------------------------------------------- the cache and the preview


def test_validating_caches_a_course_only_when_it_has_no_problem(tmp_path, cached):
    root = write_course(tmp_path / "tiny", lesson=LESSON.replace("summary: Just", "summery: Just"))
    assert len(reported(root)) == 1
    assert not cached.exists() or list(cached.iterdir()) == []
    (root / "content" / "intro" / "lesson.yaml").write_text(LESSON)
    (root / "content" / "intro" / "notes.txt").write_text("undeclared, but the course loads")
    assert len(reported(root)) == 1
    assert cache.read_course(root.resolve(), cache.course_key(root.resolve())) is not None


def test_loading_without_the_cache_neither_reads_nor_writes_it(tmp_path, cached):
    root = write_course(tmp_path / "tiny")
    assert load_course(root, use_cache=False).exercise("double").function == "double"
    assert not cached.exists() or list(cached.iterdir()) == []
    load_course(root)
    assert len(list(cached.glob("course-*.pickle"))) == 1
    (root / "exercises" / "double" / "starter.py").unlink()  # a cached course would not notice
    with pytest.raises(ContentError, match="starter file 'starter.py' not found"):
        load_course(root, use_cache=False)


def test_a_preview_from_the_cache_has_what_starting_the_sandbox_needs(tmp_path, cached):
    root = write_course(tmp_path / "tiny", exercise=EXERCISE.replace("hints:", "limits: {wall_seconds: 7, memory_mb: 512}\n"
                                                                            "starter: start.py\nhints:"))
    (root / "exercises" / "double" / "starter.py").rename(root / "exercises" / "double" / "start.py")
    write_data_exercise(root, exercise=DATA_EXERCISE.replace("lesson: intro", "lesson: intro\nimports: [double]"))
    load_course(root)
    preview = preview_exercise(root, "double")
    assert isinstance(preview, ExercisePreview)
    assert (preview.id, preview.function, preview.imports, preview.starter) == ("double", "double", (), "start.py")
    assert preview.limits.wall_seconds == 7.0 and preview.limits.memory_mb == 512
    assert preview.starter_path == root.resolve() / "exercises" / "double" / "start.py"
    assert preview.hints == ("Multiply by two.",)  # anything else: from the exercise itself
    assert preview.mistakes[0].name == "triple"
    assert preview_exercise(root, "project").imports == ("double",)


def test_a_preview_asked_for_a_special_name_does_not_load_the_course(tmp_path, cached):
    root = write_course(tmp_path / "tiny")
    load_course(root)
    preview = preview_exercise(root, "double")
    assert isinstance(preview, ExercisePreview)
    # copy and pickle ask for such names: the answer must not come from loading the course (here now broken)
    (root / "content" / "intro" / "lesson.yaml").write_text(LESSON.replace("summary: Just", "summery: Just"))
    with pytest.raises(AttributeError, match="__deepcopy__"):
        preview.__deepcopy__  # noqa: B018
    with pytest.raises(ContentError, match="unknown key 'summery'"):
        preview.hints  # noqa: B018  (any other name: from the exercise, loaded from the course)


def test_a_course_loaded_again_is_read_from_the_cache_not_from_its_yaml(tmp_path, cached, monkeypatch):
    import course.yamlsafe

    root = write_course(tmp_path / "tiny")
    first = load_course(root)

    def unread(*args, **kwargs):
        raise AssertionError("a YAML file was read")

    monkeypatch.setattr(course.yamlsafe, "parse_file", unread)
    again = load_course(root)
    assert again is not first and again.exercise("double").cases == first.exercise("double").cases
    with pytest.raises(AssertionError, match="a YAML file was read"):
        load_course(root, use_cache=False)


def test_a_preview_is_none_for_an_unknown_invalid_or_broken_exercise(tmp_path, cached):
    root = write_course(tmp_path / "tiny")
    assert preview_exercise(root, "nope") is None
    assert preview_exercise(root, "../double/..") is None
    assert preview_exercise(root, "Double") is None
    assert preview_exercise(root, "../exercises/double") is None  # a file that exists, but not by an exercise id
    (root / "exercises" / "double" / "exercise.yaml").write_text(EXERCISE.replace("seed: 1", "seed: -1"))
    assert preview_exercise(root, "double") is None
    (root / "exercises" / "double" / "exercise.yaml").write_text(EXERCISE)
    (root / "exercises" / "double" / "starter.py").unlink()
    assert preview_exercise(root, "double") is None
