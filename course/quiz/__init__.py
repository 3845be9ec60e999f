"""Quizzes: seeded variants, grading, answers files, the interactive session, spaced review.

One home per job: expr (the safe arithmetic of seeded answers), variants (a seed
turns a Question into what the student sees), grading (scores and typed input),
answers (answers files and the key), session (the terminal loop), review (Leitner
boxes). The pure API is re-exported here; session and review are imported from
their modules.
"""
from course.quiz.answers import answer_key, dump_answers, grade_file, load_answers
from course.quiz.expr import ExpressionError, check_expression, evaluate
from course.quiz.grading import (
    AnswerResult,
    ParseError,
    QuizResult,
    expected_answer,
    grade,
    grade_quiz,
    input_hint,
    parse_typed,
)
from course.quiz.variants import QuestionInstance, instantiate, instantiate_quiz

__all__ = [
    "AnswerResult",
    "ExpressionError",
    "ParseError",
    "QuestionInstance",
    "QuizResult",
    "answer_key",
    "check_expression",
    "dump_answers",
    "evaluate",
    "expected_answer",
    "grade",
    "grade_file",
    "grade_quiz",
    "input_hint",
    "instantiate",
    "instantiate_quiz",
    "load_answers",
    "parse_typed",
]
