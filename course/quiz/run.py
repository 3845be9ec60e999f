"""A quiz attempt in progress: its seed, the questions left, each answer saved as it is given.

The terminal session (course.quiz.session) and the notebook widget (course.notebook)
both drive a QuizRun, so that resuming, saving and scoring happen in one place:

- An unfinished attempt of a lesson's quiz (quit with `q`, interrupted, or killed) is
  resumed: the same seed, the same questions in the same order, from the first one
  not answered yet. It stays resumable until it is finished or the student restarts
  (`course quiz LESSON --restart`).
- Nothing is stored before the first answer: quitting at once leaves no attempt.
- Each answer is graded (course.quiz.grading), then saved with its review box in one
  transaction, before any feedback is shown: a killed process loses at most the
  question on screen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from course.errors import UsageError
from course.paths import command
from course.model import Lesson
from course.progress.store import ProgressStore
from course.quiz import grading, review
from course.quiz.grading import AnswerResult, QuizResult
from course.quiz.variants import QuestionInstance, instantiate_quiz


def record(store: ProgressStore, attempt_id: int, lesson_id: str, result: AnswerResult, hinted: bool) -> int | None:
    """Save the answer and move its review box, in one transaction; returns the new box."""
    with store.transaction():
        store.record_answer(
            attempt_id, result.question_id, result.given, result.score, result.max_score, result.correct, hinted
        )
        return review.record_outcome(store, lesson_id, result.question_id, result.correct, store.clock())


@dataclass
class QuizRun:
    """One attempt at a lesson's quiz, new or resumed. Use `QuizRun.open`."""

    lesson: Lesson
    store: ProgressStore
    seed: int
    instances: list[QuestionInstance]
    attempt_id: int | None = None  # None until the first answer is saved
    resumed: bool = False
    answers: dict[str, AnswerResult] = field(default_factory=dict)  # by question id, this and earlier sessions
    _reopened: bool = False

    @classmethod
    def open(cls, lesson: Lesson, store: ProgressStore, *, seed: int | None = None, restart: bool = False,
             new_seed=None) -> "QuizRun":
        """Resume the lesson's unfinished attempt, or prepare a new one.

        seed: the seed asked for; None takes the unfinished attempt's, or `new_seed()`
        for a new attempt. A seed that differs from the unfinished attempt's is refused
        (UsageError) unless `restart`: resuming is the default, and starting over must
        be asked for. restart: the unfinished attempt is closed for good (its answers stay
        in the history) and a new one starts.
        """
        if lesson.quiz is None:
            raise UsageError(f"lesson '{lesson.id}' has no quiz")
        unfinished = store.unfinished_attempt(lesson.id)
        if unfinished is not None and restart:
            store.close_for_restart(unfinished["id"])
            unfinished = None
        if unfinished is not None:
            if seed is not None and seed != unfinished["seed"]:
                count = len(store.attempt_answers(unfinished["id"]))
                raise UsageError(
                    f"you have an unfinished attempt at this quiz with seed {unfinished['seed']} "
                    f"({count} of {len(lesson.quiz.questions)} answered): `{command('quiz ' + lesson.id)}` goes on "
                    f"with it; `{command(f'quiz {lesson.id} --restart --seed {seed}')}` starts over with seed {seed}"
                )
            run = cls(lesson, store, unfinished["seed"], instantiate_quiz(lesson.quiz, unfinished["seed"]),
                      attempt_id=unfinished["id"], resumed=True)
            run._load_answers()
            return run
        if seed is None:
            seed = new_seed() if new_seed is not None else 0
        return cls(lesson, store, seed, instantiate_quiz(lesson.quiz, seed))

    def _load_answers(self) -> None:
        """The answers saved earlier, as results (stored scores: the content may have changed since)."""
        by_id = {instance.id: instance for instance in self.instances}
        for row in self.store.attempt_answers(self.attempt_id):
            instance = by_id.get(row["question_id"])
            if instance is None:  # a question removed from the quiz since
                continue
            q = instance.question
            self.answers[q.id] = AnswerResult(
                question_id=q.id, kind=q.kind, section=q.section, score=row["score"], max_score=row["max_score"],
                correct=row["correct"], feedback="answered in an earlier session", given=row["answer"],
                expected=grading.expected_answer(instance), explanation=q.explanation,
            )

    # ------------------------------------------------------------------ questions

    @property
    def total(self) -> int:
        return len(self.instances)

    def pending(self) -> list[tuple[int, QuestionInstance]]:
        """(number, question) of each question not answered yet, in the quiz's order, numbered from 1."""
        return [(number, instance) for number, instance in enumerate(self.instances, 1)
                if instance.id not in self.answers]

    def next(self) -> tuple[int, QuestionInstance] | None:
        pending = self.pending()
        return pending[0] if pending else None

    @property
    def finished(self) -> bool:
        return not self.pending()

    # ------------------------------------------------------------------ answers

    def answer(self, instance: QuestionInstance, given: grading.Answer | None, *, hinted: bool = False) -> AnswerResult:
        """Grade `given` (None: skipped) and save it before returning the result to show."""
        result = grading.grade(instance, given)
        if self.attempt_id is None:
            max_score = sum(q.points for q in self.lesson.quiz.questions)
            self.attempt_id = self.store.start_attempt(self.lesson.id, self.seed, max_score=max_score)
        elif self.resumed and not self._reopened:
            self.store.reopen_attempt(self.attempt_id)
        self._reopened = True
        record(self.store, self.attempt_id, self.lesson.id, result, hinted)
        self.answers[instance.id] = result
        if self.finished:
            self.store.finish_attempt(self.attempt_id, status="finished")
        return result

    def stop(self) -> None:
        """The student stops before the end: what was answered stays, and the attempt stays resumable."""
        if self.attempt_id is not None and not self.finished and self._reopened:
            self.store.finish_attempt(self.attempt_id, status="abandoned")

    def result(self) -> QuizResult:
        """Every answer so far (this and earlier sessions), in the quiz's order."""
        quiz = self.lesson.quiz
        results = tuple(self.answers[i.id] for i in self.instances if i.id in self.answers)
        return QuizResult(self.lesson.id, self.seed, quiz.pass_fraction, results,
                          sum(q.points for q in quiz.questions), questions=len(quiz.questions))
