"""`course quiz`, `course review` and `course progress`: parse, call course.quiz /
course.progress, format. Seeds: an interactive quiz or review draws a random seed
and prints it; `--answers` and `--key` default to seed 0, so a key and an answers
file agree without options (pass the same --seed to both otherwise).
"""
from __future__ import annotations

import json
import random
import sys
import textwrap

import click

from course.commands import common
from course.errors import UsageError

WIDTH = 80


def _seed_or_random(seed: int | None) -> int:
    return seed if seed is not None else random.randrange(10_000)


def _quiz_of(state: common.State, lesson_id: str):
    lesson = common.find_lesson(state.course(), lesson_id)
    if lesson.quiz is None:
        raise UsageError(f"lesson '{lesson.id}' has no quiz")
    return lesson


@click.command()
@click.argument("lesson_id", metavar="LESSON")
@click.option("--seed", type=int, help="Variant seed (default: random when interactive, 0 with --answers/--key).")
@click.option("--answers", "answers_path", metavar="FILE", help="Grade a YAML file of question id -> answer (not saved to progress).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), help="Report format for --answers (default text).")
@click.option("--key", is_flag=True, help="Print the answer key in the answers-file format (instructors).")
@common.pass_state
def quiz(state: common.State, lesson_id: str, seed: int | None, answers_path: str | None, fmt: str | None, key: bool) -> None:
    """Take LESSON's quiz in the terminal, or grade an answers file.

    \b
    Interactive: one question at a time; ? hint, s skip, q (or Ctrl-C) saves and stops.
    --answers FILE: exit 0 when the score reaches the pass mark, 1 when not, 2 for a bad file.
    --key: the answers file that scores full marks for the same --seed.

    \b
    Partial credit (a question is worth its points; skipped scores 0):
      multiple   max(0, (right picks - wrong picks) / number of right choices)
      ordering   L / n: L = longest run of items in the right relative order
                 (not necessarily adjacent), n = number of items
      matching   pairs matched right / number of pairs
      others     all or nothing (numeric: within the stated tolerance;
                 text: case and extra spaces ignored)
    """
    if key and answers_path:
        raise UsageError("--key and --answers cannot be used together")
    if fmt and not answers_path:
        raise UsageError("--format applies to --answers only")
    lesson = _quiz_of(state, lesson_id)
    if key:
        from course.quiz.answers import answer_key, dump_answers

        seed = seed or 0
        header = (f"Answer key: {common.shown_command(f'quiz {lesson.id} --seed {seed}')}\n"
                  f"Grade with: {common.shown_command(f'quiz {lesson.id} --answers FILE --seed {seed}')}")
        click.echo(dump_answers(answer_key(lesson.quiz, seed), header=header), nl=False)
        return
    if answers_path:
        from course.quiz.answers import grade_file

        result = grade_file(answers_path, lesson.quiz, seed=seed or 0, display_name=answers_path)
        if (fmt or "text") == "json":
            click.echo(json.dumps(_result_json(result, lesson), indent=2, ensure_ascii=False))
        else:
            _echo_result_text(result, lesson)
        sys.exit(0 if result.passed else 1)
    _interactive(lesson, _seed_or_random(seed))


def _interactive(lesson, seed: int) -> None:
    from course.progress.store import open_store
    from course.quiz.session import Terminal, run_quiz

    with open_store() as store:
        outcome = run_quiz(lesson=lesson, seed=seed, store=store, term=Terminal(color=common.use_color()))
    if outcome.interrupted:
        sys.exit(130)


def _result_json(result, lesson) -> dict:
    from course.quiz.session import section_title

    return {
        "lesson": result.lesson,
        "seed": result.seed,
        "score": result.score,
        "max_score": result.max_score,
        "pass_fraction": result.pass_fraction,
        "passed": result.passed,
        "questions": [r.as_json() for r in result.results],
        "sections": [
            {"id": s.section, "title": section_title(lesson, s.section), "score": s.score, "max_score": s.max_score}
            for s in result.by_section()
        ],
        "reread": result.sections_to_reread(),
    }


def _echo_result_text(result, lesson) -> None:
    from course.quiz.grading import fmt_points
    from course.quiz.session import summary_lines

    color = common.use_color()
    click.echo(f"{lesson.quiz.title} ({lesson.id}) · {len(result.results)} questions · seed {result.seed}")
    for r in result.results:
        mark = "✓" if r.correct else ("◐" if r.score > 0 else "✗")
        head = f"{mark} {r.question_id} ({r.kind}) {fmt_points(r.score)}/{fmt_points(r.max_score)}: "
        text = textwrap.fill(head + r.feedback, WIDTH - 1, subsequent_indent="    ")
        click.echo(click.style(text, fg="green" if r.correct else "red") if color else text)
    click.echo()
    for line, style in summary_lines(result, lesson):
        click.echo(click.style(line, **style) if color and style else line)


@click.command()
@click.option("--max", "max_n", type=click.IntRange(min=1), default=20, show_default=True, help="At most N questions.")
@click.option("--seed", type=int, help="Variant seed (default: random, printed).")
@common.pass_state
def review(state: common.State, max_n: int, seed: int | None) -> None:
    """Answer again the questions you missed, when they are due (Leitner boxes, all lessons)."""
    from course.progress.store import open_store
    from course.quiz.review import due_questions, next_due
    from course.quiz.session import Terminal, run_review

    course = state.course()
    with open_store() as store:
        now = store.clock()
        due = due_questions(store, course, now, max_n)
        if not due:
            upcoming = next_due(store, course, now)
            later = f"; the next one is due {upcoming:%Y-%m-%d %H:%M} UTC" if upcoming else ""
            click.echo(f"Nothing to review now{later}. Missed quiz questions come back here.")
            return
        seed = _seed_or_random(seed)
        click.echo(f"{len(due)} question{'s' if len(due) != 1 else ''} to review · seed {seed}")
        outcome = run_review(due=due, seed=seed, store=store, term=Terminal(color=common.use_color()))
    if outcome.interrupted:
        sys.exit(130)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--reset", is_flag=True, help="Delete all progress (asks first).")
@click.option("--yes", is_flag=True, help="With --reset: do not ask.")
@click.option("--plot", "plot", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also draw quiz scores over attempts and exercise status into FILE (.png or .svg).")
@common.pass_state
def progress(state: common.State, fmt: str, reset: bool, yes: bool, plot: str | None) -> None:
    """Quiz scores per lesson, exercise status and hints, questions due for review."""
    from course.progress.store import StoreError, default_path, open_store, remove_store

    if yes and not reset:
        raise UsageError("--yes goes with --reset")
    if plot is not None:
        from pathlib import Path

        if reset:
            raise UsageError("--plot and --reset cannot be used together")
        if Path(plot).suffix.lower() not in (".png", ".svg"):
            raise UsageError(f"--plot FILE must end in .png or .svg, not {plot!r}")
        if not Path(plot).parent.is_dir():
            raise UsageError(f"cannot write {plot}: the folder {Path(plot).parent} does not exist")
    if reset:
        path = default_path()
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("--reset asks for confirmation; add --yes when not in a terminal")
            if not click.confirm(f"Delete all progress in {path}?", default=False):
                click.echo("Nothing deleted.")
                return
        try:
            with open_store(path) as store:
                store.reset()
        except StoreError:
            remove_store(path)  # damaged beyond use: the user asked for it to go
        click.echo(f"Progress reset ({path}).")
        return
    course = state.course()
    with open_store() as store:
        data = store.summary(course)
        if fmt == "json":
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            click.echo(_progress_text(data))
        if plot is not None:
            from course.plots.progress import progress_chart

            try:
                progress_chart(store, course, plot)
            except OSError as error:
                raise UsageError(f"cannot write {plot}: {error.strerror}") from None
            click.echo(f"Chart: {plot}", err=fmt == "json")


def _fraction(entry: dict | None) -> str:
    if not entry:
        return "-"
    from course.quiz.grading import fmt_points

    percent = f" {100 * entry['score'] / entry['max_score']:.0f}%" if entry["max_score"] else ""
    return f"{fmt_points(entry['score'])}/{fmt_points(entry['max_score'])}{percent}"


def _progress_text(data: dict) -> str:
    """A table per kind, ids in the first column (titles would not fit 80 columns)."""
    lessons, exercises = data["lessons"], data["exercises"]
    width = max([len(x["id"]) for x in lessons + exercises] + [9]) + 4
    lines = [f"Progress ({data['path']})", "", f"{'Quizzes':<{width}}{'best':<14}{'last':<14}attempts"]
    for lesson in lessons:
        name = f"  {lesson['id']}"
        if not lesson["has_quiz"]:
            lines.append(f"{name:<{width}}(no quiz)")
            continue
        attempts = str(lesson["attempts"]) + (f" (+{lesson['unfinished']} unfinished)" if lesson["unfinished"] else "")
        lines.append(f"{name:<{width}}{_fraction(lesson['best']):<14}{_fraction(lesson['last']):<14}{attempts}")
    lines += ["", f"{'Exercises':<{width}}{'status':<16}hints used"]
    for exercise in exercises:
        name = f"  {exercise['id']}"
        lines.append(f"{name:<{width}}{exercise['status']:<16}{exercise['hints_used']} of {exercise['hints_total']}")
    if not exercises:
        lines.append("  (none)")
    review = data["review"]
    lines.append("")
    if review["due"]:
        lines.append(f"Review: {review['due']} question{'s' if review['due'] != 1 else ''} due now: {common.shown_command('review')}")
    else:
        lines.append(f"Review: nothing due ({review['questions']} question{'s' if review['questions'] != 1 else ''} in the boxes)")
    return "\n".join(lines)


COMMANDS = [quiz, review, progress]
