"""`--format text`: the report a student reads in the terminal.

A line per case (✓/✗, or PASS/FAIL where the output cannot encode them), the message,
the advice of any known mistake that matched, the first traceback, the submission's
output, a hint pointer, the score; the isolation note once when isolation was limited.
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

WIDTH = 88


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


def render(result_or_results: Results, *, color: bool = False, unicode: bool | None = None) -> str:
    results = as_list(result_or_results)
    if unicode is None:
        unicode = can_encode_marks()
    out: list[str] = []
    for result in results:
        out += _one(result, color, unicode)
        out.append("")
    limited = next((r.isolation for r in results if r.isolation and not r.isolation.namespaces), None)
    if limited is not None:
        out += _wrap(f"Note: isolation {limited.detail}", "")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _one(result: CheckResult, color: bool, unicode: bool) -> list[str]:
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
        + style(result.status.value.replace("_", " "), bold=True, fg=status_colour[result.status])
        + f", {result.score:g}/{result.max_score:g} points"
    ]
    if result.status is Status.COULD_NOT_GRADE:
        message = printable(result.cases[0].message) if result.cases else "could not be graded"
        lines += _wrap(message, "  ")
        lines += _wrap("This is the grader's failure, not your submission's: no points were given or "
                       "kept. Run the same command again to retry.", "  ")
        return lines
    if result.status is Status.NOT_ATTEMPTED:
        message = printable(result.cases[0].message) if result.cases else "not attempted"
        lines += _wrap(message, "  ")
        lines += _wrap(
            f"Write your implementation, then run `{command('check ' + result.exercise)}` again. "
            f"Stuck? `{command('hint ' + result.exercise)}`.",
            "  ",
        )
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
            lines += _wrap(head, styled + ": ", indent_rest="      ", visible_first=plain + ": ")
            if detail:
                lines += _block(detail, "      ")
    if result.advice:
        lines.append("")
        lines.append(style("  Known mistake" + ("s:" if len(result.advice) > 1 else ":"), bold=True, fg="yellow"))
        for advice in result.advice:
            lines += _wrap(advice, "  - " if len(result.advice) > 1 else "    ", indent_rest="    ")
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
        lines += _wrap(f"Note: {note}", "  ")
    if result.hints and result.status is not Status.PASSED:
        numbers = ", ".join(str(n) for n in result.hints)
        lines.append("")
        lines += _wrap(
            f"Stuck? `{command('hint ' + result.exercise)}` shows the hints one at a time "
            f"(hint{'s' if len(result.hints) > 1 else ''} {numbers} {'are' if len(result.hints) > 1 else 'is'} about the failed cases).",
            "  ",
        )
    return lines


def _wrap(text: str, first: str, indent_rest: str | None = None, visible_first: str | None = None) -> list[str]:
    """Wrap to WIDTH; `visible_first` is `first` without colour codes (for the width)."""
    rest = indent_rest if indent_rest is not None else " " * len(visible_first or first)
    plain = visible_first or first
    wrapped = textwrap.wrap(text, width=WIDTH, initial_indent=plain, subsequent_indent=rest, break_on_hyphens=False)
    if not wrapped:
        return [first.rstrip()]
    wrapped[0] = first + wrapped[0][len(plain):]
    return wrapped


def _block(text: str, indent: str) -> list[str]:
    return [indent + line if line else "" for line in text.splitlines()]
