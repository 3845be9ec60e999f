"""`course verify`: the authoring linter that runs the content.

`course validate` checks that the YAML is well formed; this checks that it is *right*,
by running it through the real grader (course.grading.check.check_exercise, in the
real sandbox, under each exercise's limits):

- the reference passes every case;
- the unchanged starter is graded "not attempted", and so is the starter run for real
  (a student who only adds an import must not get points for the starter's code);
- every declared known mistake fails some case, and is recognised as itself there
  (so its advice reaches the student); which case and check catch it is reported;
- every exercise has a hint, a public case and a hidden case;
- each quiz's answer key scores full marks for seeds 0-4.

Content errors (validate) come first and end the run (exit 2): nothing can be run
from a course that does not load. Every other finding is a Diagnostic (course.errors), printed as
`FILE:LINE:COL: message` like validate's, and makes the exit code 1.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from course.errors import Diagnostic, UsageError
from course.grading.results import CheckResult, Status
from course.model import Course, Exercise, Where

QUIZ_SEEDS = range(5)
STARTER_PROBE = "\n\n__course_verify_probe__ = True  # any change: the starter is then really run\n"


@dataclass(frozen=True)
class Catch:
    """One failing case of a known mistake."""

    case: str
    visibility: str
    check: str
    named: bool  # the failure was recognised as this very mistake


@dataclass
class MistakeReport:
    name: str
    status: Status
    catches: list[Catch] = field(default_factory=list)

    @property
    def caught(self) -> bool:
        return bool(self.catches)

    @property
    def named_on(self) -> list[str]:
        return [c.case for c in self.catches if c.named]


@dataclass
class ExerciseReport:
    id: str
    cases: int
    public: int
    reference_passed: int = 0
    starter: Status | None = None  # status of the unchanged starter
    starter_run: Status | None = None  # status of the starter run in the sandbox
    mistakes: list[MistakeReport] = field(default_factory=list)
    ran: bool = True  # False: its reference or a mistake file is broken, nothing was run


@dataclass
class VerifyReport:
    root: Path
    content_errors: list[Diagnostic] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    exercises: list[ExerciseReport] = field(default_factory=list)
    quizzes: list[str] = field(default_factory=list)  # lessons whose key scored full marks
    summary: str = ""  # validate's one-line count

    @property
    def exit_code(self) -> int:
        if self.content_errors:
            return 2
        return 1 if self.problems else 0


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def verify_course(root: Path, *, exercises: Sequence[str] = (), jobs: int | None = None) -> VerifyReport:
    """Validate, then run every reference, starter and known mistake of the course at `root`.

    exercises: only these exercise ids (default: all). Quiz keys are always checked.
    """
    from course.loader import load_course, validate_course

    report = VerifyReport(root=Path(root))
    report.content_errors = validate_course(root)
    if report.content_errors:
        return report
    course = load_course(root)
    if course.edition == "student":
        raise UsageError(f"{root} is a student edition (no references, no hidden cases): "
                         "run course verify on the instructor edition")
    chosen = _choose(course, exercises)
    questions = sum(len(lesson.quiz.questions) for lesson in course.lessons if lesson.quiz)
    cases = sum(len(e.cases) for e in course.exercises)
    report.summary = (f"{len(course.lessons)} lesson(s), {questions} quiz question(s), "
                      f"{len(course.exercises)} exercise(s) with {cases} case(s)")
    _verify_quizzes(course, report)
    for exercise in chosen:
        report.exercises.append(_structure(course, exercise, report.problems))
    _run_exercises(course, chosen, report, jobs or default_jobs())
    report.problems.sort(key=lambda p: (p.where.file, p.where.line, p.where.column))
    return report


def _choose(course: Course, ids: Sequence[str]) -> list[Exercise]:
    chosen = []
    for exercise_id in ids:
        exercise = course.exercise(exercise_id)
        if exercise is None:
            known = ", ".join(e.id for e in course.exercises) or "none"
            raise UsageError(f"unknown exercise '{exercise_id}'; known exercises: {known}")
        chosen.append(exercise)
    return chosen or list(course.exercises)


# --------------------------------------------------------------------------- quizzes


def _verify_quizzes(course: Course, report: VerifyReport) -> None:
    from course.quiz.answers import answer_key
    from course.quiz.grading import fmt_points, grade_quiz

    for lesson in course.lessons:
        if lesson.quiz is None:
            continue
        ok = True
        for seed in QUIZ_SEEDS:
            result = grade_quiz(lesson.quiz, answer_key(lesson.quiz, seed), seed)
            for answer in result.results:
                if answer.score + 1e-9 < answer.max_score:
                    ok = False
                    question = lesson.quiz.question(answer.question_id)
                    report.problems.append(Diagnostic(
                        question.where,
                        f"quiz {lesson.id}: the answer key for seed {seed} scores "
                        f"{fmt_points(answer.score)}/{fmt_points(answer.max_score)} on question "
                        f"'{answer.question_id}': {answer.feedback}"))
        if ok:
            report.quizzes.append(lesson.id)


# --------------------------------------------------------------------------- exercises


def _structure(course: Course, exercise: Exercise, problems: list[Diagnostic]) -> ExerciseReport:
    public = sum(1 for c in exercise.cases if c.visibility == "public")
    hidden = len(exercise.cases) - public
    if not exercise.hints:
        problems.append(Diagnostic(exercise.where, f"exercise '{exercise.id}' has no hint"))
    if not public:
        problems.append(Diagnostic(exercise.where, f"exercise '{exercise.id}' has no public case: students "
                                                "of a release could check nothing"))
    if not hidden:
        problems.append(Diagnostic(exercise.where, f"exercise '{exercise.id}' has no hidden case: a submission "
                                                "could be fitted to the public ones"))
    return ExerciseReport(exercise.id, len(exercise.cases), public)


def _run_exercises(course: Course, exercises: list[Exercise], report: VerifyReport, jobs: int) -> None:
    from course.grading.check import check_exercise
    from course.instructor.pool import CheckPool, Task

    by_id = {r.id: r for r in report.exercises}
    tasks = []
    for exercise in exercises:
        shown = exercise.folder.relative_to(course.root).as_posix()
        if not _trusted_code_runs(course, exercise, report.problems):
            by_id[exercise.id].ran = False
            continue  # every check of this exercise would fail for the same reason
        reference = _read(exercise.reference_path, exercise, report.problems, "reference")
        starter = _read(exercise.starter_path, exercise, report.problems, "starter")
        if reference is not None:
            tasks.append(Task((exercise.id, "reference", ""), exercise.id, reference, f"{shown}/{exercise.reference}"))
        if starter is not None:
            unchanged = check_exercise(course, exercise, starter, filename=f"{shown}/{exercise.starter}")
            by_id[exercise.id].starter = unchanged.status
            if unchanged.status is not Status.NOT_ATTEMPTED:
                report.problems.append(Diagnostic(exercise.where, f"the unchanged starter is graded "
                                                               f"'{unchanged.status.value}', not '{Status.NOT_ATTEMPTED.label}'"))
            tasks.append(Task((exercise.id, "starter", ""), exercise.id, starter + STARTER_PROBE,
                              f"{shown}/{exercise.starter}"))
        for mistake in exercise.mistakes:
            source = _read(exercise.folder / mistake.file, exercise, report.problems, f"mistake '{mistake.name}'",
                           mistake.where)
            if source is not None:
                tasks.append(Task((exercise.id, "mistake", mistake.name), exercise.id, source,
                                  f"{shown}/{mistake.file}"))
    pool = CheckPool(course, jobs=jobs)
    outcomes = {task.key: result for task, result in pool.run(tasks)}
    for exercise in exercises:
        entry = by_id[exercise.id]
        reference_run = outcomes.get((exercise.id, "reference", ""))
        if reference_run is not None:
            entry.reference_passed = _judge_reference(exercise, reference_run, report.problems)
        starter_run = outcomes.get((exercise.id, "starter", ""))
        if starter_run is not None:
            entry.starter_run = _judge_starter(exercise, starter_run, report.problems)
        for mistake in exercise.mistakes:
            result = outcomes.get((exercise.id, "mistake", mistake.name))
            if result is not None:
                entry.mistakes.append(_judge_mistake(exercise, mistake, result, report.problems))


def _trusted_code_runs(course: Course, exercise: Exercise, problems: list[Diagnostic]) -> bool:
    """The reference and every known mistake import, and the reference runs on every case.

    They run in the grader's own process (to compute expected outputs and name mistakes),
    so one broken file breaks every check of the exercise: report it once, precisely.
    """
    from course.errors import CourseError
    from course.grading.expected import case_arguments, expected_outputs, load_trusted

    ok = True
    for what, path, where in [("the reference", exercise.reference_path, exercise.where)] + [
            (f"mistake '{m.name}'", exercise.folder / m.file, m.where) for m in exercise.mistakes]:
        try:
            load_trusted(path, exercise.function)
        except CourseError as error:
            problems.append(Diagnostic(where, f"{what} cannot be used: {error}"))
            ok = False
    if ok:
        try:
            expected_outputs(course, exercise, case_arguments(list(exercise.cases)))
        except CourseError as error:
            problems.append(Diagnostic(exercise.where, f"the reference cannot compute the expected outputs: {error}"))
            ok = False
    from course.grading.hooks import FEEDBACK_FILE, load_error

    broken = load_error(exercise)
    if broken:  # pictures and readings only: the exercise is still graded, so it still runs
        problems.append(Diagnostic(exercise.where, f"{FEEDBACK_FILE} of '{exercise.id}' does not import ({broken}): "
                                                "its pictures, probes and readings are not used"))
    if not ok:
        problems.append(Diagnostic(exercise.where, f"exercise '{exercise.id}' was not run: its reference or "
                                                "known-mistake files have the problems listed here"))
    return ok


def _read(path: Path, exercise: Exercise, problems: list[Diagnostic], what: str, where: Where | None = None) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Diagnostic(where or exercise.where, f"{what} file {path.name} cannot be read: {error}"))
        return None


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _not_graded(what: str, where, result: CheckResult, problems: list[Diagnostic]) -> bool:
    """True (and a problem saying so) when the grader itself failed on this run: nothing to judge."""
    if result.status is not Status.COULD_NOT_GRADE:
        return False
    reason = _first_line(result.cases[0].message) if result.cases else "the sandbox could not start"
    problems.append(Diagnostic(where, f"{what} could not be graded (the grader failed, not the file; run verify "
                                   f"again): {reason}"))
    return True


def _judge_reference(exercise: Exercise, result: CheckResult, problems: list[Diagnostic]) -> int:
    if _not_graded("the reference", exercise.where, result, problems):
        return 0
    if result.load_error:
        problems.append(Diagnostic(exercise.where, f"the reference does not load in the sandbox: "
                                                f"{_first_line(result.load_error)}"))
        return 0
    for outcome in result.cases:
        if not outcome.passed:
            case = exercise.case(outcome.name)
            problems.append(Diagnostic(case.where if case else exercise.where,
                                    f"the reference fails case '{outcome.name}' ({outcome.check}): "
                                    f"{_first_line(outcome.message)}"))
    for note in result.notes:
        if note.startswith("sandbox:"):
            problems.append(Diagnostic(exercise.where, f"the reference's run did not complete: {note}"))
    return sum(1 for c in result.cases if c.passed)


def _judge_starter(exercise: Exercise, result: CheckResult, problems: list[Diagnostic]) -> Status:
    if _not_graded("the starter", exercise.where, result, problems):
        return result.status
    if result.status is not Status.NOT_ATTEMPTED:
        passing = sum(1 for c in result.cases if c.passed)
        detail = _first_line(result.load_error) if result.load_error else (
            f"{passing} of {len(result.cases)} cases pass" if passing else "its calls do not all raise NotImplementedError")
        problems.append(Diagnostic(exercise.where, f"the starter, run as a student's file, is graded "
                                                f"'{result.status.value}' instead of '{Status.NOT_ATTEMPTED.label}' ({detail}): "
                                                f"{exercise.function} should raise NotImplementedError"))
    return result.status


def _judge_mistake(exercise: Exercise, mistake, result: CheckResult, problems: list[Diagnostic]) -> MistakeReport:
    report = MistakeReport(mistake.name, result.status)
    if _not_graded(f"mistake '{mistake.name}'", mistake.where, result, problems):
        return report
    if result.load_error:
        problems.append(Diagnostic(mistake.where, f"mistake '{mistake.name}' ({mistake.file}) does not load: "
                                               f"{_first_line(result.load_error)}"))
        return report
    if result.status is Status.NOT_ATTEMPTED:
        problems.append(Diagnostic(mistake.where, f"mistake '{mistake.name}' is graded '{Status.NOT_ATTEMPTED.label}' "
                                               f"({_first_line(result.cases[0].message) if result.cases else ''})"))
        return report
    report.catches = [Catch(c.name, c.visibility, c.check or "", c.mistake == mistake.name)
                      for c in result.cases if not c.passed]
    if not report.catches:
        problems.append(Diagnostic(mistake.where, f"mistake '{mistake.name}' passes every case: add a case that "
                                               f"catches it ({mistake.description})"))
    elif not report.named_on:
        others = sorted({c.mistake for c in result.cases if c.mistake})
        why = (f"its failures are taken for {', '.join(repr(o) for o in others)}" if others
               else "no failure is recognised as it")
        problems.append(Diagnostic(mistake.where, f"mistake '{mistake.name}' is caught but its advice is never "
                                               f"shown: {why}"))
    return report
