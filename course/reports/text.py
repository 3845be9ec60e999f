"""`--format text`: the report a student reads in the terminal.

A line per case (✓/✗, or PASS/FAIL where the output cannot encode them), the message,
the advice of any known mistake that matched, the first traceback, the submission's
output, a hint pointer, the score; the isolation note once when isolation was limited;
last and set apart, an exercise's showcase (what the code does; never graded).
Coloured only when asked (the command asks on a terminal, never with NO_COLOR).
"""
from __future__ import annotations

import codecs
import sys
import textwrap

import click

from course import untrusted
from course.grading.results import CheckResult, Status
from course.reports import Results, as_list
from course.paths import command

MAX_WIDTH = 100  # at most; the terminal's width (course.terminal.columns: COLUMNS, else 80 when piped)


def _printable(text: str, replacement: str = "\ufffd") -> str:
    """Text from a submission (errors, output) as a terminal may show it: no control
    character or escape sequence a hostile submission prints reaches the reader's
    terminal (course.untrusted.terminal), and `replacement` where the output cannot
    encode U+FFFD."""
    text = untrusted.terminal(text)
    return text if replacement == "\ufffd" else text.replace("\ufffd", replacement)


def can_encode_marks(stream=None) -> bool:
    """True when `stream` (default stdout) can print ✓ and ✗."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        codecs.encode("✓✗💡", encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def render(result_or_results: Results, *, color: bool = False, unicode: bool | None = None,
           width: int | None = None) -> str:
    """The report, wrapped at words to `width` (default: the terminal's, at most MAX_WIDTH).

    textwrap, not rich: the check path stays free of rich's import time, and wrapping
    is measured on the plain text (colour codes are added around it, never counted).
    """
    from course import terminal

    results = as_list(result_or_results)
    if unicode is None:
        unicode = can_encode_marks()
    width = width or min(terminal.columns(), MAX_WIDTH)
    out: list[str] = []
    for result in results:
        out += _one(result, color, unicode, width)
        out.append("")
    limited = next((r.isolation for r in results if r.isolation and not r.isolation.namespaces), None)
    if limited is not None:
        out += _wrap(f"Note: isolation {limited.detail}", "", width=width)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _one(result: CheckResult, color: bool, unicode: bool, width: int) -> list[str]:
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    ok, bad = ("✓", "✗") if unicode else ("PASS", "FAIL")

    def printable(text: str) -> str:
        return _printable(text, "\ufffd" if unicode else "?")
    status_colour = {Status.PASSED: "green", Status.FAILED: "red", Status.ERROR: "red", Status.NOT_ATTEMPTED: "yellow",
                     Status.COULD_NOT_GRADE: "magenta"}
    where = f" ({printable(result.submission)})" if result.submission else ""
    lines = [
        style(f"{result.exercise}{where}: ", bold=True)
        + style(result.status.label, bold=True, fg=status_colour[result.status])
        + f", {result.score:g}/{result.max_score:g} points"
    ]
    if result.status is Status.COULD_NOT_GRADE:
        message = printable(result.cases[0].message) if result.cases else "could not be graded"
        lines += _wrap(message, "  ", width=width)
        lines += _wrap("This is the grader's failure, not your submission's: no points were given or "
                       "kept. Run the same command again to retry.", "  ", width=width)
        return lines
    if result.status is Status.NOT_ATTEMPTED:
        message = printable(result.cases[0].message) if result.cases else Status.NOT_ATTEMPTED.label
        lines += _wrap(message, "  ", width=width)
        lines += _wrap(
            f"Write your implementation, then run `{command('check ' + result.exercise)}` again. "
            f"Stuck? `{command('hint ' + result.exercise)}`.",
            "  ", width=width)
        for note in result.notes:
            lines += _wrap(f"Note: {note}", "  ", width=width)
        return lines
    if result.load_error:
        lines.append(style(f"  The file could not be loaded, so no case ran ({len(result.cases)} cases):", fg="red"))
        lines += _block(printable(result.load_error), "    ")
    else:
        for case in result.cases:
            hidden = case.visibility == "hidden"
            mark = ok if case.passed else bad
            plain = f"  {mark} {case.name}{' [hidden]' if hidden else ''}"
            styled = f"  {style(mark, fg='green' if case.passed else 'red')} {case.name}"
            styled += style(" [hidden]", dim=True) if hidden else ""
            if case.passed:
                lines.append(styled)
                continue
            head, _, detail = printable(case.message).partition("\n")
            lines += _wrap(head, styled + ": ", indent_rest="      ", visible_first=plain + ": ", width=width)
            if detail:
                lines += _block(detail, "      ")
    if result.advice:
        lines.append("")
        several = len(result.advice) > 1
        lines.append(style("  Known mistakes, most likely first:" if several else "  Known mistake:", bold=True,
                           fg="yellow"))
        for number, advice in enumerate(result.advice, 1):
            lines += _wrap(advice, f"  {number}. " if several else "    ", indent_rest="     " if several else "    ",
                           width=width)
    if result.traceback:
        lines.append("")
        traceback = printable(result.traceback).splitlines()
        lines.append(style("  First error, " + traceback[0], bold=True))
        lines += _block("\n".join(traceback[1:]), "    ")
    if result.output:
        lines.append("")
        lines.append(style("  Your code printed:", bold=True))
        lines += _block(printable(result.output).rstrip("\n"), "    ")
    for note in result.notes:
        lines += _wrap(f"Note: {note}", "  ", width=width)
    if result.hints and result.status is not Status.PASSED:
        lines.append("")
        lines += _wrap(hint_pointer(result.exercise, result.hints), "  ", width=width)
    if result.showcase is not None:  # after the grade, set apart: it is not part of it
        rule = "─" if unicode else "-"
        lines.append("")
        lines += _wrap(f"{rule * 2} {printable(result.showcase.title)} {rule * 2}", "  ", width=width)
        lines.append(style("  (not graded: your code at work on the public cases)", dim=True))
        lines += _block(printable(result.showcase.text).rstrip("\n"), "    ")
    return lines


def hint_pointer(exercise: str, hints) -> str:
    """"Stuck? Hints 2 and 3 are about the failed cases: `course hint softmax 2` shows hint 2 ..."."""
    numbers = [str(n) for n in hints]
    listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
    about = f"Hint{'s' if len(numbers) > 1 else ''} {listed} {'are' if len(numbers) > 1 else 'is'} about the failed cases"
    hint = command("hint " + exercise)
    return (f"Stuck? {about}: `{hint} {numbers[0]}` shows hint {numbers[0]} "
            f"(`{hint}` shows the next one you have not seen).")


def _wrap(text: str, first: str, indent_rest: str | None = None, visible_first: str | None = None, *,
          width: int) -> list[str]:
    """Wrap to `width`; `visible_first` is `first` without colour codes (for the width)."""
    rest = indent_rest if indent_rest is not None else " " * len(visible_first or first)
    plain = visible_first or first
    wrapped = textwrap.wrap(text, width=width, initial_indent=plain, subsequent_indent=rest, break_on_hyphens=False)
    if not wrapped:
        return [first.rstrip()]
    wrapped[0] = first + wrapped[0][len(plain):]
    return wrapped


def _block(text: str, indent: str) -> list[str]:
    return [indent + line if line else "" for line in text.splitlines()]
