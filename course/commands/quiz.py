"""`course quiz`, `course review` and `course progress`: parse, call course.quiz /
course.progress, format.

Seeds: an interactive quiz resumes an unfinished attempt with its seed, or draws a
random one and prints it; `--restart` starts over. `--key` writes its seed (default 0)
into the key as `_seed: N`; `--answers` takes the seed its file records, else --seed,
and refuses a file with seed-dependent numeric answers and no seed at all.
"""
from __future__ import annotations

import json
import random
import sys

import click

from course.commands import common
from course.errors import UsageError

def _seed_or_random(seed: int | None) -> int:
    return seed if seed is not None else random.randrange(10_000)


def _quiz_of(state: common.State, lesson_id: str):
    from course.services.courses import find_quiz

    return find_quiz(state.course(), lesson_id)


@click.command()
@click.argument("lesson_id", metavar="LESSON")
@click.option("--seed", type=int, help="Variant seed (default: the unfinished attempt's, else random; "
                                       "--key: 0; --answers: the file's).")
@click.option("--restart", is_flag=True, help="Start over instead of resuming your unfinished attempt.")
@click.option("--answers", "answers_path", metavar="FILE", help="Grade a YAML file of question id -> answer (not saved to progress).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), help="Report format for --answers (default text).")
@click.option("--key", is_flag=True, help="Print the answer key in the answers-file format (instructors).")
@common.pass_state
def quiz(state: common.State, lesson_id: str, seed: int | None, restart: bool, answers_path: str | None,
         fmt: str | None, key: bool) -> None:
    """Take LESSON's quiz in the terminal, or grade an answers file.

    \b
    Interactive: one question at a time; ? hint, s skip, q (or Ctrl-C) saves and stops.
    An unfinished attempt resumes where you stopped (same seed, same questions) until
    it is finished; --restart starts over.
    --answers FILE: exit 0 when the score reaches the pass mark, 1 when not, 2 for a bad file.
    The file's `_seed: N` says which numbers it answers (numeric questions vary with it).
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
    if restart and (key or answers_path):
        raise UsageError("--restart applies to the interactive quiz only")
    lesson = _quiz_of(state, lesson_id)
    if key:
        from course.services.quizzes import answer_key

        seed = seed or 0
        header = (f"Answer key: {common.shown_command(f'quiz {lesson.id} --seed {seed}')}\n"
                  f"Grade with: {common.shown_command(f'quiz {lesson.id} --answers FILE')}")
        click.echo(answer_key(lesson, seed, header=header), nl=False)
        return
    if answers_path:
        from course import terminal
        from course.services.quizzes import answers_json, answers_text, grade_answers

        result = grade_answers(lesson, answers_path, seed=seed, display_name=answers_path)
        if (fmt or "text") == "json":
            click.echo(json.dumps(answers_json(result, lesson), indent=2, ensure_ascii=False))
        else:
            for line in answers_text(result, lesson, color=common.use_color(), width=terminal.columns()):
                click.echo(line)
        sys.exit(0 if result.passed else 1)
    _interactive(lesson, seed, restart)


def _interactive(lesson, seed: int | None, restart: bool) -> None:
    from course.progress.store import open_store
    from course.quiz.session import Terminal, run_quiz

    with open_store() as store:
        outcome = run_quiz(lesson=lesson, store=store, term=Terminal(color=common.use_color()), seed=seed,
                           restart=restart, new_seed=lambda: _seed_or_random(None))
    if outcome.interrupted:
        sys.exit(130)


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


def _other_checks(other: dict) -> str:
    """'2 (latest: failing, scratch.py)': checks kept as attempts, which never set the status."""
    if not other["count"]:
        return "-"
    latest = other["latest"]
    from pathlib import Path

    where = Path(latest["file"]).name if latest and latest["file"] and not latest["file"].startswith("<") else "a function"
    return f"{other['count']} (latest: {latest['status']}, {where})"


def _progress_text(data: dict) -> str:
    """A table per kind, ids in the first column, wrapped to the terminal (course.terminal)."""
    from rich.text import Text

    from course import terminal

    lessons, exercises = data["lessons"], data["exercises"]
    quiz_rows = []
    for lesson in lessons:
        if not lesson["has_quiz"]:
            quiz_rows.append((lesson["id"], "(no quiz)", "", ""))
            continue
        attempts = str(lesson["attempts"]) + (f" (+{lesson['unfinished']} unfinished)" if lesson["unfinished"] else "")
        quiz_rows.append((lesson["id"], _fraction(lesson["best"]), _fraction(lesson["last"]), attempts))
    exercise_rows = [(e["id"], e["status"], f"{e['hints_used']} of {e['hints_total']}", _other_checks(e["other_checks"]))
                     for e in exercises]
    parts: list = [terminal.unbroken(f"Progress ({data['path']})"), "",
                   _table(("Quizzes", "best", "last", "attempts"), quiz_rows)]
    parts += ["", _table(("Exercises", "status", "hints used", "other files' checks"), exercise_rows or
                         [("(none)", "", "", "")])]
    if exercises:
        parts.append(terminal.text("(the status follows your own file: the one `course start` wrote or "
                                   "`--adopt` named)", indent=2))
    review = data["review"]
    parts.append("")
    if review["due"]:
        parts.append(Text(f"Review: {review['due']} question{'s' if review['due'] != 1 else ''} due now: "
                          f"{common.shown_command('review')}"))
    else:
        parts.append(terminal.text(f"Review: nothing due ({review['questions']} "
                                   f"question{'s' if review['questions'] != 1 else ''} in the boxes)"))
    return terminal.render(parts, width=min(terminal.columns(), 100)).rstrip("\n")


def _table(header: tuple, rows: list):
    """Columns lined up under their headings; the last column wraps when the terminal is narrow."""
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="")
    for number, name in enumerate(header):
        table.add_column(name, no_wrap=number < len(header) - 1, overflow="fold")
    for row in rows:
        table.add_row(*(f"  {row[0]}",) + tuple(row[1:]))
    return table


COMMANDS = [quiz, review, progress]
