"""One declaration per key: the models are the format, and everything published is generated from them.

The JSON Schemas shipped in course/schemas/ and the key reference in docs/authoring.md
must be what the models generate; every YAML file the project ships must validate
against the schemas with check-jsonschema (a YAML 1.2 reader, as editors use); every
field says what it is for.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import get_args


import schemacheck
from coursefactory import LESSON, QUIZ, write_course
from course import model as m
from course import schema
from course.paths import builtin_root

REPO = Path(__file__).resolve().parents[2]
ROOT = builtin_root()
REGENERATE = "regenerate with `python -m course.schema`"


def all_models() -> list[type[m.CourseModel]]:
    found, pending = [], list(m.FILE_MODELS.values())
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.append(model)
        for info in model.model_fields.values():
            pending += [t for t in _types(info.annotation) if isinstance(t, type) and issubclass(t, m.CourseModel)]
    return found


def _types(annotation) -> list:
    args = get_args(annotation)
    return [annotation] + [t for arg in args for t in _types(arg)]


def test_the_shipped_schemas_are_what_the_models_generate():
    for kind in schema.KINDS:
        shipped = (REPO / "course" / "schemas" / schema.schema_file(kind)).read_text(encoding="utf-8")
        assert shipped == schema.schema_text(kind), f"course/schemas/{schema.schema_file(kind)} is out of date: {REGENERATE}"


def test_the_key_reference_in_the_authoring_guide_is_what_the_models_generate():
    text = (REPO / "docs" / "authoring.md").read_text(encoding="utf-8")
    assert schema.generated_section(text) == schema.key_reference(), f"docs/authoring.md is out of date: {REGENERATE}"


def test_every_key_of_every_model_has_a_description():
    models = all_models()
    assert len(models) > 40
    missing = [f"{model.__name__}.{name}" for model in models for name, info in model.model_fields.items()
               if not (info.description or "").strip()]
    assert missing == []
    assert all((model.__doc__ or "").strip() for model in models)


def test_every_kind_is_a_class_with_a_literal_discriminator():
    for kinds in (m.QUESTION_KINDS, m.FIGURE_KINDS):
        tags = [get_args(kind.model_fields["kind"].annotation) for kind in kinds]
        assert all(len(tag) == 1 and isinstance(tag[0], str) for tag in tags)
        assert len({tag for tag in tags}) == len(kinds)
    for kinds in (m.BLOCK_KINDS, m.INPUT_KINDS):
        # the discriminator is the mapping's one key, named by the class's `kind`
        assert all(kind.kind in kind.yaml_keys() and len(kind.model_fields) == 1 for kind in kinds)
        assert len({kind.kind for kind in kinds}) == len(kinds)


def test_unknown_keys_are_refused_by_every_model():
    assert all(model.model_config.get("extra") == "forbid" and model.model_config.get("frozen")
               for model in all_models())


def _shipped_yaml() -> list[tuple[str, Path]]:
    files = [("course", ROOT / "course.yaml")]
    files += [("lesson", p) for p in sorted(ROOT.glob("content/*/lesson.yaml"))]
    files += [("quiz", p) for p in sorted(ROOT.glob("content/*/quiz.yaml"))]
    files += [("exercise", p) for p in sorted(ROOT.glob("exercises/*/exercise.yaml"))]
    return files


def check_jsonschema(kind: str, files: list[Path]) -> subprocess.CompletedProcess:
    return schemacheck.check_jsonschema(REPO / "course" / "schemas" / schema.schema_file(kind), files)


def test_every_shipped_yaml_file_validates_against_its_schema_with_check_jsonschema(tmp_path):
    by_kind: dict[str, list[Path]] = {}
    for kind, path in _shipped_yaml():
        by_kind.setdefault(kind, []).append(path)
    tiny = write_course(tmp_path / "tiny")
    by_kind["lesson"].append(tiny / "content" / "intro" / "lesson.yaml")
    by_kind["quiz"].append(tiny / "content" / "intro" / "quiz.yaml")
    by_kind["exercise"].append(tiny / "exercises" / "double" / "exercise.yaml")
    assert set(by_kind) == set(schema.KINDS) and len(by_kind["exercise"]) >= 7
    for kind, files in by_kind.items():
        done = check_jsonschema(kind, files)
        assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_rejects_an_unknown_key_as_the_loader_does(tmp_path):
    path = tmp_path / "lesson.yaml"
    path.write_text(LESSON.replace("summary: Just", "summery: Just"))
    done = check_jsonschema("lesson", [path])
    assert done.returncode == 1 and "summery" in done.stdout + done.stderr


def test_every_shipped_file_names_its_schema_on_its_first_line():
    for kind, path in _shipped_yaml():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(schema.HEADER_PREFIX), path
        target = (path.parent / first[len(schema.HEADER_PREFIX):]).resolve()
        assert target == (REPO / "course" / "schemas" / schema.schema_file(kind)).resolve(), path


def test_course_schema_writes_one_schema_per_file_type(tmp_path):
    done = subprocess.run([sys.executable, "-m", "course", "schema", "--out", str(tmp_path / "schemas")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert written == sorted(schema.schema_file(kind) for kind in schema.KINDS)
    lesson = json.loads((tmp_path / "schemas" / "lesson.schema.json").read_text())
    assert lesson["$schema"].endswith("2020-12/schema") and lesson["additionalProperties"] is False
    assert lesson["properties"]["sections"]["description"]


def test_course_help_does_not_import_pydantic_numpy_or_matplotlib():
    probe = ("import sys, runpy; sys.argv = ['course', '--help']\n"
             "try:\n    runpy.run_module('course', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pydantic', 'numpy', 'matplotlib', 'course.model') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_built_in_course_has_a_manifest():
    from course.loader import load_course

    course = load_course(ROOT)
    assert (ROOT / "course.yaml").is_file()
    assert (course.title, course.edition, course.manifest.format_version) == ("LLM Fundamentals", "instructor", 1)


def test_a_file_written_from_a_model_loads_back_the_same(tmp_path):
    """The student edition's writer dumps models; what it writes must read back as the same objects."""
    import yaml

    from course.instructor.release import student_data
    from course.loader import load_course

    course = load_course(write_course(tmp_path / "a"))
    exercise = course.exercise("double")
    copy = write_course(tmp_path / "b", exercise=yaml.safe_dump(student_data(exercise), sort_keys=False))
    again = load_course(copy).exercise("double")
    assert again.cases == exercise.cases and again.hints == exercise.hints and again.limits == exercise.limits
    assert "reference" not in student_data(exercise) and all("file" not in mk for mk in student_data(exercise)["mistakes"])


def test_quiz_and_lesson_files_keep_loading_as_written(tmp_path):
    """format_version 1 as it was: the tiny course (written before the models) loads unchanged."""
    from course.loader import load_course

    course = load_course(write_course(tmp_path))
    quiz = course.lesson("intro").quiz
    assert [q.kind for q in quiz.questions] == ["single", "numeric"]
    numeric = quiz.question("how-many")
    assert numeric.answer_expr == "a * 2" and [p.name for p in numeric.parameters] == ["a"]
    assert numeric.parameters[0].choices == (1, 2, 3) and numeric.tolerance.absolute == 0.5
    single = quiz.question("pick-one")
    assert single.parameters == () and single.unit == "" and single.answer_bool is None  # other kinds' keys read empty
    assert [c.text for c in single.choices if c.correct] == ["right"]
    assert numeric.where.line == QUIZ.splitlines().index("  - id: how-many") + 1
