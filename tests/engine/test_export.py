"""`course export LESSON --format qti|moodle --out FILE`: the quiz for Canvas and Moodle.

QTI is compared with what text2qti (a widely used QTI writer for Canvas) makes of the
same questions, written in its own text format: the same Canvas question types, the same
response processing (varequal for choices and texts, varequal or vargte/varlte for
numbers, SCORE set to 100) and the same feedback. Both outputs are checked to be
well-formed XML, and the QTI manifest's references to resolve inside the zip. Moodle XML
gets structural checks per question type. Nothing is dropped silently.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from coursefactory import write_course
from course.loader import load_course
from course.paths import builtin_root
from course.quiz.variants import instantiate
from gradeoutputs import run_course

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"

QUIZ = """\
format_version: 1
lesson: intro
title: Tiny quiz
pass_fraction: 0.5
questions:
  - id: pick-one
    kind: single
    section: basics
    prompt: Which is **right**?
    hint: The second.
    explanation: Because it is.
    choices:
      - {text: wrong, correct: false, explanation: Not this one.}
      - {text: right, correct: true}
  - id: pick-some
    kind: multiple
    section: basics
    prompt: Which are even?
    hint: Divide by two.
    explanation: Two and four.
    choices:
      - {text: "2", correct: true}
      - {text: "3", correct: false}
      - {text: "4", correct: true}
  - id: is-it
    kind: true_false
    section: basics
    prompt: Softmax outputs sum to one.
    hint: Probabilities.
    explanation: They do.
    answer: true
  - id: how-much
    kind: numeric
    section: basics
    prompt: What is 2.5 + 0.2?
    hint: Add.
    explanation: It is 2.7.
    answer: "2.7"
    tolerance: {absolute: 0.01}
  - id: name-it
    kind: text
    section: basics
    prompt: What is the x + f(x) path called?
    hint: Two words.
    explanation: A residual connection.
    accept: [residual connection, skip connection]
  - id: pair-up
    kind: matching
    section: basics
    prompt: Match each model to its year.
    hint: Remember the history.
    explanation: In order.
    pairs:
      - {left: Transformer, right: "2017"}
      - {left: BERT, right: "2018"}
      - {left: GPT-3, right: "2020"}
  - id: in-order
    kind: ordering
    section: basics
    prompt: Oldest first.
    hint: Dates.
    explanation: Word2Vec, then the Transformer, then GPT-3.
    items: [Word2Vec, Transformer, GPT-3]
  - id: regex-only
    kind: text
    section: basics
    prompt: Type a number with three digits.
    hint: Any.
    explanation: Any three digits.
    pattern: "[0-9]{3}"
  - id: times-two
    kind: numeric
    section: basics
    prompt: "What is {a} times 2?"
    hint: Multiply.
    explanation: Arithmetic.
    parameters:
      a: {choices: [1, 2, 3]}
    answer: a * 2
    tolerance: {absolute: 0.5}
"""

# The same questions in text2qti's own format (https://github.com/gpoore/text2qti)
TEXT2QTI = """\
Quiz title: Tiny quiz

1.  Which is **right**?
... Because it is.
a)  wrong
... Not this one.
*b) right

2.  Which are even?
... Two and four.
[*] 2
[ ] 3
[*] 4

3.  Softmax outputs sum to one.
... They do.
*a) True
b)  False

4.  What is 2.5 + 0.2?
... It is 2.7.
=   2.7 +- 0.01

5.  What is the x + f(x) path called?
... A residual connection.
*   residual connection
*   skip connection
"""

TYPES = {"pick-one": "multiple_choice_question", "pick-some": "multiple_answers_question",
         "is-it": "true_false_question", "how-much": "numerical_question", "name-it": "short_answer_question"}


@pytest.fixture(scope="module")
def course_root(tmp_path_factory):
    root = write_course(tmp_path_factory.mktemp("quizcourse") / "root", quiz=QUIZ)
    (root / "course.yaml").write_text("format_version: 1\ntitle: Tiny course\n")
    return root


def export(root: Path, fmt: str, out: Path, *extra: str):
    done = run_course("--course", str(root), "export", "intro", "--format", fmt, "--out", str(out), *extra,
                      cwd=out.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def metadata(item) -> dict[str, str]:
    return {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry") or ""
            for f in item.iter(f"{QTI}qtimetadatafield")}


def items_by_title(assessment) -> dict:
    return {item.get("title"): item for item in assessment.iter(f"{QTI}item")}


def shape(item) -> dict:
    """What a QTI item does, without identifiers: its type, responses, scoring and feedback."""
    resprocessing = item.find(f"{QTI}resprocessing")
    tags = [e.tag.removeprefix(QTI) for e in resprocessing.iter() if e.tag.removeprefix(QTI) in
            ("varequal", "vargte", "varlte", "and", "or", "not", "other", "setvar", "displayfeedback")]
    return {
        "type": metadata(item)["question_type"],
        "responses": sorted((r.tag.removeprefix(QTI), r.get("rcardinality")) for r in item.find(f"{QTI}presentation")
                            if r.tag != f"{QTI}material"),
        "scoring": sorted(set(tags)),
        "score": [s.text for s in resprocessing.iter(f"{QTI}setvar")],
        "general_feedback": item.find(f"{QTI}itemfeedback[@ident='general_fb']") is not None,
        "choice_feedback": sum(1 for f in item.iter(f"{QTI}itemfeedback") if f.get("ident") != "general_fb"),
        "numbers": sorted(float(v.text) for tag in ("vargte", "varlte") for v in resprocessing.iter(f"{QTI}{tag}")),
        "texts": sorted(v.text for v in resprocessing.iter(f"{QTI}varequal")
                        if metadata(item)["question_type"] == "short_answer_question"),
    }


def read_zip(path: Path) -> tuple[zipfile.ZipFile, ET.Element]:
    archive = zipfile.ZipFile(path)
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    href = manifest.find(f".//{CP}resource[@type='imsqti_xmlv1p2']/{CP}file").get("href")
    return archive, ET.fromstring(archive.read(href))


def test_qti_matches_what_text2qti_writes_for_the_same_questions(course_root, tmp_path):
    if shutil.which("text2qti") is None and not (Path(sys.executable).parent / "text2qti").exists():
        pytest.skip("text2qti is not installed (pip install '.[test]')")
    export(course_root, "qti", tmp_path / "ours.zip")
    (tmp_path / "theirs.md").write_text(TEXT2QTI)
    program = shutil.which("text2qti") or str(Path(sys.executable).parent / "text2qti")
    done = subprocess.run([program, "theirs.md"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    _, ours = read_zip(tmp_path / "ours.zip")
    _, theirs = read_zip(tmp_path / "theirs.zip")
    mine = items_by_title(ours)
    their_items = list(theirs.iter(f"{QTI}item"))
    assert len(their_items) == len(TYPES)
    for (question_id, kind), their_item in zip(TYPES.items(), their_items):
        assert shape(mine[question_id]) == shape(their_item), question_id
        assert shape(mine[question_id])["type"] == kind
        assert metadata(mine[question_id])["points_possible"] == metadata(their_item)["points_possible"] == "1"
    numeric = shape(mine["how-much"])
    assert {"varequal", "vargte", "varlte"} <= set(numeric["scoring"])
    assert numeric["numbers"] == pytest.approx([2.69, 2.71])


def test_every_kind_is_mapped_and_what_cannot_be_is_listed(course_root, tmp_path):
    done = export(course_root, "qti", tmp_path / "quiz.zip")
    assert "pick-one: single -> multiple_choice_question" in done.stdout
    assert "pair-up: matching -> matching_question" in done.stdout
    assert "in-order: ordering -> matching_question" in done.stdout
    assert "note: in-order: ordering exported as matching each item to its position" in done.stdout
    assert "not exported: regex-only: a text answer checked only by the regular expression /[0-9]{3}/" in done.stdout
    assert "1 question(s) not exported" in done.stdout
    _, assessment = read_zip(tmp_path / "quiz.zip")
    titles = list(items_by_title(assessment))
    assert "regex-only" not in titles
    ordering = items_by_title(assessment)["in-order"]
    assert metadata(ordering)["question_type"] == "matching_question"
    lefts = [r.findtext(f"{QTI}material/{QTI}mattext") for r in ordering.iter(f"{QTI}response_lid")]
    assert lefts == ["<p>Word2Vec</p>", "<p>Transformer</p>", "<p>GPT-3</p>"]
    adds = [s.text for s in ordering.iter(f"{QTI}setvar")]
    assert [s.get("action") for s in ordering.iter(f"{QTI}setvar")] == ["Add"] * 3 and sum(map(float, adds)) == pytest.approx(100, abs=0.01)


def test_seeded_variants_become_a_group_of_n_fixed_variants(course_root, tmp_path):
    export(course_root, "qti", tmp_path / "quiz.zip", "--variants", "3")
    _, assessment = read_zip(tmp_path / "quiz.zip")
    groups = [s for s in assessment.iter(f"{QTI}section") if s.get("ident") != "root_section"]
    assert len(groups) == 1
    group = groups[0]
    assert group.findtext(f".//{QTI}selection_number") == "1"
    variants = list(group.iter(f"{QTI}item"))
    assert len(variants) == 3
    question = load_course(course_root).lesson("intro").quiz.question("times-two")
    prompts = [v.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext") for v in variants]
    assert len(set(prompts)) == 3
    for variant, prompt in zip(variants, prompts):
        value = int(prompt.removeprefix("<p>What is ").split(" ")[0])
        assert float(variant.findtext(f".//{QTI}varequal")) == value * 2
    assert instantiate(question, 0).answer in {float(v.findtext(f".//{QTI}varequal")) for v in variants}


def test_the_qti_zip_is_well_formed_and_its_manifest_references_resolve(tmp_path):
    done = run_course("export", "lesson-3", "--format", "qti", "--out", str(tmp_path / "lesson3.zip"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    archive = zipfile.ZipFile(tmp_path / "lesson3.zip")
    for name in archive.namelist():
        if name.endswith(".xml"):
            ET.fromstring(archive.read(name))  # well-formed
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    resources = {r.get("identifier"): r for r in manifest.iter(f"{CP}resource")}
    for resource in resources.values():
        for file in resource.iter(f"{CP}file"):
            assert file.get("href") in archive.namelist()
        if resource.get("href"):
            assert resource.get("href") in archive.namelist()
        for dependency in resource.iter(f"{CP}dependency"):
            assert dependency.get("identifierref") in resources
    _, assessment = read_zip(tmp_path / "lesson3.zip")
    course = load_course(builtin_root())
    quiz = course.lesson("lesson-3").quiz
    exported = {i.get("title").split(" (variant")[0] for i in assessment.iter(f"{QTI}item")}
    skipped = {line.split(":")[0].removeprefix("not exported: ") for line in done.stdout.splitlines()
               if line.startswith("not exported: ")}
    assert exported | skipped == {q.id for q in quiz.questions}  # nothing dropped silently
    idents = [i.get("ident") for i in assessment.iter(f"{QTI}item")]
    assert len(idents) == len(set(idents))


def test_moodle_xml_has_the_structure_of_each_question_type(course_root, tmp_path):
    done = export(course_root, "moodle", tmp_path / "quiz.xml", "--variants", "3")
    assert "not exported: regex-only" in done.stdout
    quiz = ET.parse(tmp_path / "quiz.xml").getroot()
    assert quiz.tag == "quiz"
    questions = {q.findtext("name/text"): q for q in quiz.findall("question") if q.get("type") != "category"}
    assert {q: e.get("type") for q, e in questions.items() if "variant" not in q} == {
        "pick-one": "multichoice", "pick-some": "multichoice", "is-it": "truefalse", "how-much": "numerical",
        "name-it": "shortanswer", "pair-up": "matching", "in-order": "matching"}
    for question in questions.values():
        assert question.find("questiontext").get("format") == "html" and question.findtext("questiontext/text")
        assert question.findtext("defaultgrade") == "1"
        assert question.findtext("hint/text")
    one = questions["pick-one"]
    assert one.findtext("single") == "true"
    assert sorted(a.get("fraction") for a in one.findall("answer")) == ["0", "100"]
    assert one.findtext("generalfeedback/text") == "<p>Because it is.</p>"
    assert one.find("answer[@fraction='0']").findtext("feedback/text") == "<p>Not this one.</p>"
    some = questions["pick-some"]
    assert some.findtext("single") == "false"
    assert sorted(float(a.get("fraction")) for a in some.findall("answer")) == [-50, 50, 50]
    truth = questions["is-it"]
    assert {a.findtext("text"): a.get("fraction") for a in truth.findall("answer")} == {"true": "100", "false": "0"}
    number = questions["how-much"].find("answer")
    assert float(number.findtext("text")) == 2.7 and float(number.findtext("tolerance")) == pytest.approx(0.01)
    short = questions["name-it"]
    assert [a.findtext("text") for a in short.findall("answer")] == ["residual connection", "skip connection"]
    assert short.findtext("usecase") == "0"
    pairs = [(s.findtext("text"), s.findtext("answer/text")) for s in questions["pair-up"].findall("subquestion")]
    assert pairs == [("<p>Transformer</p>", "2017"), ("<p>BERT</p>", "2018"), ("<p>GPT-3</p>", "2020")]
    order = [s.findtext("answer/text") for s in questions["in-order"].findall("subquestion")]
    assert order == ["1st", "2nd", "3rd"]
    categories = [q.findtext("category/text") for q in quiz.findall("question") if q.get("type") == "category"]
    assert categories[-1].endswith("/times-two (variants)")
    variants = [q for name, q in questions.items() if name.startswith("times-two (variant")]
    assert len(variants) == 3


def test_the_whole_lesson_exports_to_moodle_as_well_formed_xml(tmp_path):
    done = run_course("export", "lesson-3", "--format", "moodle", "--out", str(tmp_path / "lesson3.xml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    quiz = ET.parse(tmp_path / "lesson3.xml").getroot()
    assert len([q for q in quiz.findall("question") if q.get("type") != "category"]) > 76


@pytest.mark.parametrize("args, message", [
    (["nope", "--format", "qti", "--out", "x.zip"], "unknown lesson 'nope'"),
    (["lesson-3", "--format", "qti", "--out", "missing/x.zip"], "does not exist"),
    (["lesson-3", "--format", "pdf", "--out", "x.zip"], "Invalid value for '--format'"),
])
def test_bad_export_arguments_exit_2(tmp_path, args, message):
    done = run_course("export", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
