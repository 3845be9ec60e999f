"""`course progress --plot FILE`: where a student stands, in one picture.

Left: each lesson's quiz score (percent) over the finished quiz attempts, with the
pass mark. Right: every exercise at a glance, its best score so far as a bar coloured
and labelled by its status (the label carries the status too: colour is never the
only cue). Read from the progress store; nothing is written to it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from course.plots import style
from course.status import Status

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Course
    from course.progress.store import ProgressStore

STATUS_COLOURS = {  # by the standing `course progress` shows (course.status.Status.standing)
    Status.PASSED.standing: style.OKABE_ITO["bluish_green"],
    Status.FAILED.standing: style.OKABE_ITO["vermillion"],
    Status.NOT_ATTEMPTED.standing: style.OKABE_ITO["orange"],
    Status.NOT_STARTED.standing: style.NEUTRAL_COLOUR,
}


def quiz_history(store: "ProgressStore", course: "Course") -> dict[str, list[float]]:
    """Lesson id -> percent score of each finished quiz attempt, oldest first (review sessions left out)."""
    history = {}
    for lesson in course.lessons:
        if lesson.quiz is None:
            continue
        scores = [
            100.0 * (a["score"] or 0.0) / a["max_score"]
            for a in store.attempts(lesson.id)
            if a["mode"] == "quiz" and a["status"] == "finished" and a["max_score"]
        ]
        history[lesson.id] = scores
    return history


def progress_chart(store: "ProgressStore", course: "Course", path: str | Path) -> Path:
    """Draw the progress chart into `path` (PNG, or SVG when it ends in .svg); return the path."""
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    history = quiz_history(store, course)
    exercises = [(e, store.exercise_summary(e.id)) for e in course.exercises]
    with style.themed():
        rows = max(len(exercises), 1)
        fig, (quiz_ax, exercise_ax) = style.new_panels(
            f"Your progress: {course.title}", 2, (10.0, max(3.8, 1.6 + 0.38 * rows)),
            gridspec_kw={"width_ratios": (1.1, 1)},
        )
        style.label(quiz_ax, "Quiz scores over attempts", "Attempt", "Score (%)")
        drawn = 0
        for number, (lesson_id, scores) in enumerate(history.items()):
            if not scores:
                continue
            colour, marker = style.SERIES_COLOURS[number % 8], style.MARKERS[number % 8]
            attempts = range(1, len(scores) + 1)
            quiz_ax.plot(attempts, scores, color=colour, marker=marker, linewidth=1.6, label=lesson_id)
            lesson = course.lesson(lesson_id)
            if lesson is not None and lesson.quiz is not None:
                quiz_ax.axhline(100 * lesson.quiz.pass_fraction, color=colour, linestyle="--", linewidth=1,
                                label=f"{lesson_id} pass mark ({100 * lesson.quiz.pass_fraction:.0f}%)")
            drawn += 1
        quiz_ax.set_ylim(-3, 105)
        most = max((len(scores) for scores in history.values()), default=0)
        quiz_ax.set_xlim(0.5, max(most, 3) + 0.5)  # attempts are counted: whole numbers only
        if most <= 20:
            quiz_ax.set_xticks(range(1, max(most, 3) + 1))
        else:
            quiz_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if drawn:
            quiz_ax.legend(loc="lower right")
        else:
            first = next(iter(history), "LESSON")
            text = f"No finished quiz yet:\ncourse quiz {first}" if history else "This course has no quiz."
            quiz_ax.text(0.5, 0.5, text, ha="center", va="center", transform=quiz_ax.transAxes, fontsize=9,
                         color="#333333")
        style.label(exercise_ax, "Exercises: best score and status", "Best score so far (%)", "Exercise")
        positions = list(range(len(exercises)))[::-1]
        for row, (_exercise, summary) in zip(positions, exercises):
            status = summary["status"]
            best = 100.0 * (summary["best_fraction"] or 0.0)
            colour = STATUS_COLOURS.get(status, style.NEUTRAL_COLOUR)
            exercise_ax.barh(row, max(best, 0.0), color=colour, height=0.6)
            if best == 0:
                exercise_ax.barh(row, 100, color="none", edgecolor=style.NEUTRAL_COLOUR, height=0.6, linestyle=":")
            checks = summary["checks"]
            label = status + (f", {checks} check{'s' if checks != 1 else ''}" if checks else "")
            exercise_ax.text(min(best, 100) + 2 if best < 62 else best - 2, row, label, va="center",
                             ha="left" if best < 62 else "right", fontsize=8, color="#111111")
        exercise_ax.set_yticks(positions, labels=[e.id for e, _ in exercises])
        exercise_ax.set_xlim(0, 100)
        exercise_ax.grid(axis="y", visible=False)
        if not exercises:
            exercise_ax.text(0.5, 0.5, "This course has no exercises.", ha="center", va="center",
                             transform=exercise_ax.transAxes)
        style.finish(fig, "Quiz: finished attempts only (review sessions are not counted). Exercises: the best "
                          "score of a check of your own file; the status is that of its latest check.")
        return style.save_file(fig, path)
