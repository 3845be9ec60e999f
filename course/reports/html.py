"""`--html FILE`: check results as one self-contained HTML page, feedback pictures inside.

One file a student can open offline, mail, or find in a CI artifact: inline CSS, the
pictures embedded as base64 `data:` URIs, no scripts, no external assets. The markup
is XHTML-style (every element closed, attributes quoted, all text escaped, no named
entities), so it is well-formed XML as well as HTML, which the tests check.

Like every renderer here it only lays out what the CheckResult records hold. Hidden
cases show their name and the kind of check that failed (their messages already say
no more) and never a picture: "hidden case: no plot".
"""
from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Mapping, Sequence

from course import untrusted
from course.grading.results import CheckResult, Status
from course.reports import Results, as_list
from course.numbers import points as _points
from course.paths import command

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NOT_XML = re.compile("[\ufffe\uffff]")  # noncharacters: valid Unicode, but XML 1.0 forbids them


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 70em;
       padding: 0 1em; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; table-layout: fixed; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.5em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th.mark { width: 2em; } th.case { width: 28%; } th.points { width: 4.5em; }
h1, h2, h3, p, li, figcaption { overflow-wrap: anywhere; }
th { background: #f6f8fa; }
td.mark { text-align: center; font-weight: bold; width: 2em; }
tr.passed td.mark { color: #1a7f37; }
tr.failed td.mark { color: #cf222e; }
pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; word-break: break-word;
      overflow-wrap: anywhere; margin: 0.3em 0; font-size: 0.9em; }
td pre { background: none; padding: 0; margin: 0; }
.status { display: inline-block; padding: 0.05em 0.5em; border-radius: 0.8em; font-size: 0.85em; color: #ffffff; }
.status.passed { background: #1a7f37; }
.status.failed, .status.error { background: #cf222e; }
.status.not_attempted { background: #9a6700; }
.status.could_not_grade { background: #8250df; }
.advice { background: #fff8c5; border-left: 4px solid #d4a72c; padding: 0.1em 0.8em; margin: 0.6em 0; }
.advice code, .hint code, p code { background: #eff1f3; padding: 0.05em 0.3em; border-radius: 0.3em; }
.note { color: #57606a; font-style: italic; }
.showcase { border-top: 2px solid #d0d7de; margin-top: 1.2em; padding-top: 0.2em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; box-sizing: border-box; }
figcaption { color: #57606a; font-size: 0.9em; }
@media (max-width: 40em) {  /* a phone: every pixel for the text */
  body { margin: 0.8em auto; padding: 0 0.5em; }
  th, td { padding: 0.2em 0.3em; font-size: 0.92em; }
  th.mark { width: 1.3em; } th.case { width: 30%; } th.points { width: 4em; }
  pre { padding: 0.3em; font-size: 0.85em; }
}
"""


# The notebook view's styles: scoped to its own block, so the notebook around it keeps its look.
FRAGMENT_CSS = (
    ".course-check table { border-collapse: collapse; margin: 0.4em 0; }"
    ".course-check th, .course-check td { border: 1px solid #d0d7de; padding: 0.2em 0.5em; text-align: left;"
    " vertical-align: top; }"
    ".course-check td pre { margin: 0; white-space: pre-wrap; background: none; }"
    ".course-check .status { padding: 0.05em 0.5em; border-radius: 0.8em; color: #ffffff; font-size: 0.85em; }"
    ".course-check .status.passed { background: #1a7f37; }"
    ".course-check .status.failed, .course-check .status.error { background: #cf222e; }"
    ".course-check .status.not_attempted { background: #9a6700; }"
    ".course-check .status.could_not_grade { background: #8250df; }"
    ".course-check .advice { background: #fff8c5; border-left: 4px solid #d4a72c; padding: 0.2em 0.8em; }"
    ".course-check .note { color: #57606a; font-style: italic; }"
    ".course-check tr.passed td.mark { color: #1a7f37; } .course-check tr.failed td.mark { color: #cf222e; }"
)


def render(result_or_results: Results, **options) -> str:
    """The reports convention (`render(results) -> str`): the page of `render_page`."""
    return render_page(as_list(result_or_results), **options)


def write_page(
    path: str | Path,
    results: Sequence[CheckResult],
    *,
    title: str = "Check report",
    plots: Mapping[str, Sequence[Path]] | None = None,
    student: str | None = None,
    captions: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """render_page(...) written to `path` (UTF-8; the folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(results, title=title, plots=plots, student=student, captions=captions),
                    encoding="utf-8")
    return path


def render_page(
    results: Sequence[CheckResult],
    *,
    title: str = "Check report",
    plots: Mapping[str, Sequence[Path]] | None = None,
    student: str | None = None,
    captions: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """One self-contained HTML document for `results` (one exercise or a student's several).

    plots: exercise id -> picture files (course.plots.feedback.feedback_plots); their PNGs
    are embedded. None: the page has no picture section (e.g. batch grading without plots).
    student: shown under the title (a per-student page of `course grade`).
    captions: exercise id -> picture kind -> what it shows (course.plots.feedback.captions);
    without them a picture is captioned by the engine's own kinds.
    """
    results = as_list(results)
    parts = [
        '<!DOCTYPE html>',
        '<html lang="en" xmlns="http://www.w3.org/1999/xhtml">',
        "<head>",
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{_e(title)}{_e(f' ({student})') if student else ''}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
    ]
    if student:
        parts.append(f'<p class="student">Student: <b>{_e(student)}</b></p>')
    if results:
        score, best = sum(r.score for r in results), sum(r.max_score for r in results)
        passed = sum(1 for r in results if r.passed)
        parts.append(f"<p>{passed} of {len(results)} exercise{'s' if len(results) != 1 else ''} passed; "
                     f"{_points(score)}/{_points(best)} points.</p>")
    else:
        parts.append("<p>No results.</p>")
    for result in results:
        parts += _exercise(result, None if plots is None else list(plots.get(result.exercise, ())), plots is not None,
                           (captions or {}).get(result.exercise))
    limited = next((r.isolation for r in results if r.isolation and not r.isolation.namespaces), None)
    if limited is not None:
        parts.append(f'<p class="note">Note: isolation {_e(limited.detail)}</p>')
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _exercise(result: CheckResult, pictures: list[Path] | None, with_pictures: bool,
              captions: Mapping[str, str] | None = None) -> list[str]:
    status = result.status
    where = f' <span class="note">({_e(result.submission)})</span>' if result.submission else ""
    out = [
        f'<section id="{_e(_anchor(result.exercise))}">',
        f'<h2>{_e(result.exercise)} <span class="status {status.value}">{status.label}</span> '
        f"{_points(result.score)}/{_points(result.max_score)} points{where}</h2>",
    ]
    if status is Status.NOT_ATTEMPTED:
        message = result.cases[0].message if result.cases else Status.NOT_ATTEMPTED.label
        out.append(f"<p>{_e(message)}</p>")
        out.append(f"<p>Write your implementation, then run <code>{_e(command('check ' + result.exercise))}</code> again.</p>")
        out += [f"<p class=\"note\">Note: {_e(note)}</p>" for note in result.notes]
        out.append("</section>")
        return out
    if result.load_error:
        out.append(f"<p>The file could not be loaded, so no case ran ({len(result.cases)} cases):</p>")
        out.append(f"<pre>{_e(result.load_error)}</pre>")
    else:
        out += _case_table(result)
    if result.advice:
        if len(result.advice) > 1:
            out.append("<h3>Known mistakes, most likely first</h3>")
            out.append("<ol>" + "".join(f'<li class="advice">{markdown_html(a)}</li>' for a in result.advice)
                       + "</ol>")
        else:
            out.append("<h3>Known mistake</h3>")
            out += [f'<div class="advice">{markdown_html(advice)}</div>' for advice in result.advice]
    if result.traceback:
        head, _, rest = result.traceback.partition("\n")
        out.append(f"<h3>First error, {_e(head)}</h3>")
        out.append(f"<pre>{_e(rest)}</pre>")
    if result.output:
        out.append("<h3>Your code printed</h3>")
        out.append(f"<pre>{_e(result.output)}</pre>")
    for note in result.notes:
        out.append(f'<p class="note">Note: {_e(note)}</p>')
    if result.hints and status is not Status.PASSED:
        from course.reports.text import hint_pointer

        out.append(f'<div class="hint">{markdown_html(hint_pointer(result.exercise, result.hints))}</div>')
    if with_pictures:
        out += _pictures(result, pictures or [], captions)
    if result.showcase is not None:  # after the grade, set apart: it is not part of it
        out.append('<div class="showcase">')
        out.append(f"<h3>{_e(result.showcase.title)}</h3>")
        out.append('<p class="note">Not graded: your code at work on the public cases.</p>')
        out.append(f"<pre>{_e(result.showcase.text)}</pre>")
        out.append("</div>")
    out.append("</section>")
    return out


def _case_table(result: CheckResult) -> list[str]:
    rows = []
    for case in result.cases:
        mark = "&#10003;" if case.passed else "&#10007;"
        hidden = " [hidden]" if case.visibility == "hidden" else ""
        message = "passed" if case.passed else case.message
        rows.append(
            f'<tr class="{"passed" if case.passed else "failed"}"><td class="mark">{mark}</td>'
            f"<td>{_e(case.name)}{hidden}</td><td>{_points(case.score)}/{_points(case.points)}</td>"
            f"<td><pre>{_e(message)}</pre></td></tr>"
        )
    return [
        "<table>",
        '<thead><tr><th class="mark"></th><th class="case">case</th><th class="points">points</th>'
        "<th>message</th></tr></thead>",
        "<tbody>", *rows, "</tbody>",
        "</table>",
    ]


def _pictures(result: CheckResult, pictures: list[Path], captions: Mapping[str, str] | None = None) -> list[str]:
    from course.plots.feedback import PLOT_KINDS, plot_case

    kinds = {**PLOT_KINDS, **(captions or {})}
    out = ["<h3>Pictures</h3>"]
    if result.passed:
        out.append("<p>All cases passed: nothing to picture.</p>")
        return out
    names = [case.name for case in result.cases]
    by_case: dict[str | None, list[Path]] = {}
    for path in pictures:
        by_case.setdefault(plot_case(path, result.exercise, names), []).append(path)
    drawn = False
    for case in result.cases:
        if case.passed:
            continue
        if case.visibility == "hidden":
            out.append(f'<p class="note">{_e(case.name)}: hidden case: no plot.</p>')
            continue
        files = by_case.get(case.name, [])
        if not files:
            out.append(f'<p class="note">{_e(case.name)}: no picture for this case (see its message).</p>')
            continue
        for path in files:
            out += _figure(path, result.exercise, case.name, kinds)
            drawn = True
    for path in by_case.get(None, []):
        out += _figure(path, result.exercise, None, kinds)
        drawn = True
    if not drawn and result.load_error:
        out.append('<p class="note">The file did not load: no picture.</p>')
    return out


def _figure(path: Path, exercise: str, case: str | None, kinds: Mapping[str, str]) -> list[str]:
    """One embedded picture; a file that is missing or not a PNG/SVG is named, not embedded."""
    path = Path(path)
    stem = path.stem
    kind = stem[len(f"{exercise}-{case}-"):] if case else stem.rsplit("-", 1)[-1]
    what = kinds.get(kind, kind.replace("_", " "))
    caption = f"{case}: {what}" if case else what
    try:
        data = path.read_bytes()
    except OSError:
        return [f'<p class="note">{_e(caption)}: picture {_e(path.name)} is missing.</p>']
    if data.startswith(PNG_MAGIC):
        mime = "image/png"
    elif path.suffix.lower() == ".svg":
        mime = "image/svg+xml"
    else:
        return [f'<p class="note">{_e(caption)}: {_e(path.name)} is not an image.</p>']
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return [
        "<figure>",
        f'<img src="{uri}" alt="{_e(f"{exercise}, {caption}")}"/>',
        f"<figcaption>{_e(caption)} <span class=\"note\">({_e(path.name)})</span></figcaption>",
        "</figure>",
    ]


def markdown_html(text: str) -> str:
    """Course Markdown (advice, hints, prompts) as XHTML: `code`, **bold**, lists, paragraphs.

    Raw HTML in the text is shown as text, never as markup, and the output is
    well-formed XML like the rest of the page. Only course content goes through
    here: what a submission produced (messages, output) is shown verbatim in <pre>.
    """
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "xhtmlOut": True})
    return parser.render(_NOT_XML.sub("\ufffd", untrusted.xml(text))).strip()


def render_fragment(result: CheckResult) -> str:
    """One result as an HTML fragment for a notebook: the report's section with its own styles."""
    body = "\n".join(_exercise(result, None, False))
    return f'<div class="course-check"><style>{FRAGMENT_CSS}</style>\n{body}\n</div>'


def _e(text: object) -> str:
    """Escaped text that is also valid XML (course.untrusted.html guards the sink)."""
    return untrusted.html(_NOT_XML.sub("\ufffd", untrusted.xml(text)))


def _anchor(text: str) -> str:
    return "exercise-" + re.sub(r"[^A-Za-z0-9_-]", "-", text)


