"""Answers files: reading them (with FILE:LINE reasons for every problem) and the answer key round trip."""
from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from course.errors import ContentError
from course.paths import builtin_root
from course.quiz.answers import answer_key, dump_answers, grade_file, load_answers
from course.quiz.grading import grade_quiz
from test_quiz_grading import (MATCHING, MULTIPLE, NUMERIC, ORDERING, PATTERN_ONLY, RELATIVE, SINGLE, TEXT, TRUE_FALSE,
                               quiz_of)

QUIZ = quiz_of(SINGLE, MULTIPLE, TRUE_FALSE, NUMERIC, RELATIVE, ORDERING, MATCHING, TEXT, PATTERN_ONLY)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_answers(path, QUIZ, display_name="answers.yaml")
    return [str(d) for d in caught.value.diagnostics]


def test_a_good_answers_file_is_read_in_canonical_form(tmp_path):
    path = write(tmp_path, """
        single-q: Transformer
        multiple-q: [Query, Key]
        true_false-q: yes
        numeric-q: 1.75e11          # YAML 1.1 reads this as text; it is still a number here
        gpt3: 175 000 000 000
        ordering-q: [Word2Vec, Seq2seq, BERT, Transformer]
        matching-q:
          BERT-base: 12 layers
          BERT-large: 24 layers
          GPT-3: 96 layers
        text-q: "  Layer   normalization "
        pattern-only: ~
    """)
    answers = load_answers(path, QUIZ)
    assert answers == {
        "single-q": "Transformer",
        "multiple-q": ["Query", "Key"],
        "true_false-q": True,
        "numeric-q": 175000000000,
        "gpt3": 175000000000,
        "ordering-q": ["Word2Vec", "Seq2seq", "BERT", "Transformer"],
        "matching-q": {"BERT-base": "12 layers", "BERT-large": "24 layers", "GPT-3": "96 layers"},
        "text-q": "Layer   normalization",
    }
    result = grade_quiz(QUIZ, answers, seed=0)
    by_id = {r.question_id: r for r in result.results}
    assert by_id["single-q"].correct and by_id["text-q"].correct and by_id["matching-q"].correct
    assert by_id["multiple-q"].score == pytest.approx(2 / 3)
    assert by_id["ordering-q"].score == pytest.approx(3 / 4)
    assert by_id["pattern-only"].skipped


def test_choice_texts_that_look_like_numbers_match_and_case_is_forgiven(tmp_path):
    path = write(tmp_path, "single-q: 768\nmultiple-q: query\n")
    assert load_answers(path, QUIZ) == {"single-q": "768", "multiple-q": ["Query"]}


def test_an_unknown_question_id_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, """
        single-q: Transformer
        no-such-question: 3
    """)
    [problem] = problems(path)
    assert problem.startswith("answers.yaml:2:1: unknown question id 'no-such-question'")
    assert "single-q" in problem


def test_every_wrong_type_and_unknown_text_is_reported_at_once(tmp_path):
    path = write(tmp_path, """
        single-q: [Transformer]
        multiple-q: [Query, Keys]
        true_false-q: perhaps
        numeric-q: a lot
        ordering-q: [Word2Vec, Seq2seq, BERT]
        matching-q: [BERT-base, 12 layers]
        text-q: {a: b}
    """)
    found = problems(path)
    assert len(found) == 7
    expected = [
        ("answers.yaml:1:", "single-q (single): expected one choice's text, got a list"),
        ("answers.yaml:2:", "'Keys' is not one of the choices"),
        ("answers.yaml:3:", "expected true or false, got 'perhaps'"),
        ("answers.yaml:4:", "'a lot' is not a number"),
        ("answers.yaml:5:", "missing: 'Transformer'"),
        ("answers.yaml:6:", "expected a mapping of left item -> right item"),
        ("answers.yaml:7:", "expected a text, got a mapping"),
    ]
    for line, (where, reason) in zip(found, expected):
        assert line.startswith(where) and reason in line, line


def test_matching_with_an_unknown_left_or_right_is_reported(tmp_path):
    path = write(tmp_path, """
        matching-q:
          BERT-base: 12 layers
          BERT-huge: 24 layers
    """)
    [problem] = problems(path)
    assert problem.startswith("answers.yaml:3:3:") and "'BERT-huge' is not one of the left items" in problem


def test_ordering_listing_an_item_twice_is_reported(tmp_path):
    path = write(tmp_path, "ordering-q: [Word2Vec, Word2Vec, BERT, Transformer]\n")
    [problem] = problems(path)
    assert "'Word2Vec' is listed twice" in problem


@pytest.mark.parametrize(
    "text, reason",
    [
        ("single-q: [unclosed\n", "YAML syntax error"),
        ("- just\n- a list\n", "maps question ids to answers"),
        ("single-q: a\nsingle-q: b\n", "duplicate key 'single-q'"),
        ("single-q: !!python/object:os.system x\n", "Python tags are not allowed"),
        ("# nothing\n", "file is empty"),
    ],
)
def test_malformed_answers_files_are_content_errors_with_a_position(tmp_path, text, reason):
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    [problem] = problems(path)
    assert problem.startswith("answers.yaml:") and reason in problem


def test_a_missing_answers_file_is_a_content_error(tmp_path):
    with pytest.raises(ContentError, match="file not found"):
        load_answers(tmp_path / "nope.yaml", QUIZ)


@pytest.mark.parametrize("seed", range(6))
def test_the_key_read_back_scores_full_marks(tmp_path, seed):
    path = tmp_path / "key.yaml"
    path.write_text(dump_answers(answer_key(QUIZ, seed), header=f"key for seed {seed}"), encoding="utf-8")
    result = grade_file(path, QUIZ, seed=seed)
    assert result.score == result.max_score == len(QUIZ.questions), [r.feedback for r in result.results if not r.correct]
    assert all(r.correct for r in result.results)
    assert path.read_text(encoding="utf-8").startswith(f"# key for seed {seed}\n")


def test_the_key_depends_on_the_seed_only_for_seeded_questions():
    keys = [answer_key(QUIZ, seed) for seed in range(10)]
    assert len({k["numeric-q"] for k in keys}) > 1
    assert all(k["ordering-q"] == keys[0]["ordering-q"] and k["single-q"] == keys[0]["single-q"] for k in keys)


def _real_lesson_available() -> bool:
    return importlib.util.find_spec("course.loader") is not None and (builtin_root() / "content" / "lesson-3" / "quiz.yaml").is_file()


@pytest.mark.skipif(not _real_lesson_available(), reason="course.loader or content/lesson-3/quiz.yaml not there yet")
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 7, 12345])
def test_the_key_of_the_real_lesson_scores_full_marks(tmp_path, seed):
    from course.loader import load_course

    lesson = load_course(builtin_root()).lesson("lesson-3")
    path = tmp_path / "key.yaml"
    path.write_text(dump_answers(answer_key(lesson.quiz, seed)), encoding="utf-8")
    result = grade_file(path, lesson.quiz, seed=seed)
    assert [r.question_id for r in result.results if not r.correct] == []
    assert result.score == result.max_score
