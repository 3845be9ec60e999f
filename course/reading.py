"""A lesson rendered for the terminal: headings, wrapped prose, lists, tables, code, figures.

Plain text when not on a terminal (piped to a file or a pager gets no colour codes),
styled with click when it is. No dependency beyond click: the Markdown subset the
lesson format allows (paragraphs, lists, ### headings, **bold**, *italic*, `code`)
is small enough to render here, and the Python highlighter only needs tokens.
"""
from __future__ import annotations

import io
import keyword
import re
import textwrap
import tokenize

import click

from course import model as m
from course.paths import command


class Style:
    """Colours on a terminal, nothing otherwise: every method returns plain text when off."""

    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, **style) -> str:
        return click.style(text, **style) if self.color else text


def render_lesson(lesson: m.Lesson, *, width: int = 80, color: bool = False, figures_hint: str = "") -> str:
    """The whole lesson as text, `width` columns wide."""
    style = Style(color)
    out: list[str] = []
    title = f"Lesson {lesson.number}: {lesson.title}"
    out += [style(title, bold=True, fg="cyan"), style("=" * min(len(title), width), fg="cyan"), ""]
    if lesson.summary:
        out += _wrap(lesson.summary, width) + [""]
    if lesson.objectives:
        out.append(style("By the end of this lesson you will be able to:", bold=True))
        for objective in lesson.objectives:
            out += _wrap(objective, width, "  - ", "    ")
        out.append("")
    figures = {figure.id: figure for figure in lesson.figures}
    for number, section in enumerate(lesson.sections, 1):
        heading = f"{number}. {section.title}"
        out += [style(heading, bold=True, fg="yellow"), style("-" * min(len(heading), width), fg="yellow"), ""]
        for block in section.blocks:
            out += _render_block(block, figures, lesson, width, style, figures_hint)
            out.append("")
    if lesson.key_terms:
        out += [style("Key terms", bold=True, fg="yellow"), style("-" * 9, fg="yellow"), ""]
        for term in lesson.key_terms:
            out += _wrap(f"{style(term.term, bold=True)}: {term.definition}", width, "  ", "    ", visible=term.term)
        out.append("")
    if lesson.sources:
        out += [style("Sources", bold=True, fg="yellow"), style("-" * 7, fg="yellow"), ""]
        for source in lesson.sources:
            line = f"[{source.id}] {source.authors} ({source.year}). {source.title}."
            out += _wrap(line, width, "  ", "    ")
            if source.url:
                out.append("    " + style(source.url, underline=True))
        out.append("")
    if lesson.exercises:
        out.append(style("Practise", bold=True) + f" ({command('start EXERCISE')}, then {command('check EXERCISE')}):")
        out += _wrap(", ".join(lesson.exercises), width, "  ", "  ")
    if lesson.quiz is not None:
        out.append(style("Check yourself:", bold=True) + f" {command('quiz ' + lesson.id)}  ({len(lesson.quiz.questions)} questions)")
    return "\n".join(line.rstrip() for line in out).rstrip() + "\n"


def _render_block(block: m.Block, figures, lesson, width: int, style: Style, figures_hint: str) -> list[str]:
    if isinstance(block, m.MarkdownBlock):
        return render_markdown(block.text, width, style)
    if isinstance(block, m.CodeBlock):
        return _render_code(block, width, style)
    if isinstance(block, m.TableBlock):
        return render_table(block.columns, block.rows, width, style, caption=block.caption)
    figure = figures[block.figure_id]
    return _render_figure(figure, lesson, width, style, figures_hint)


# --------------------------------------------------------------------------- markdown

_INLINE = re.compile(r"(\*\*(?P<bold>[^*]+)\*\*|`(?P<code>[^`]+)`|(?<![\w*])\*(?P<italic>[^*\s][^*]*)\*(?![\w*]))")
_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")


def _inline(text: str, style: Style) -> str:
    """**bold**, *italic*, `code`: styled on a terminal, markers dropped (code kept in backticks) otherwise."""

    def replace(match: re.Match) -> str:
        if match.group("bold") is not None:
            return style(match.group("bold"), bold=True)
        if match.group("code") is not None:
            return style(match.group("code"), fg="green") if style.color else f"`{match.group('code')}`"
        return style(match.group("italic"), italic=True)

    return _INLINE.sub(replace, text)


def render_markdown(text: str, width: int, style: Style) -> list[str]:
    """Paragraphs, lists and ### headings, wrapped to `width`."""
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.extend(_wrap_styled(" ".join(paragraph), width, "", "", style))
            out.append("")
            paragraph.clear()

    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        after_blank = index == 0 or not lines[index - 1].strip()
        if stripped.startswith("```") or (after_blank and line.startswith("    ") and stripped):
            # a code block (fenced, or indented by 4 after a blank line): shown verbatim
            flush()
            fenced = stripped.startswith("```")
            index += 1 if fenced else 0
            code = []
            while index < len(lines):
                current = lines[index]
                if fenced and current.strip().startswith("```"):
                    index += 1
                    break
                if not fenced and current.strip() and not current.startswith("    "):
                    break
                code.append(current if fenced else current[4:])
                index += 1
            while code and not code[-1].strip():
                code.pop()
            out += [("    " + style(c, fg="green")) if c.strip() else "" for c in code] + [""]
            continue
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            heading = stripped.lstrip("#").strip()
            out += [style(heading, bold=True, underline=True), ""]
        elif _LIST_ITEM.match(line):
            flush()
            indent, marker, body = _LIST_ITEM.match(line).groups()
            # continuation lines of the same item are indented further than the marker
            while index + 1 < len(lines) and lines[index + 1].strip() and not _LIST_ITEM.match(lines[index + 1]) and lines[index + 1].startswith(" "):
                index += 1
                body += " " + lines[index].strip()
            bullet = "•" if style.color and marker in "-*+" else ("-" if marker in "-*+" else marker)
            lead = "  " + " " * len(indent.expandtabs()) + bullet + " "
            out.extend(_wrap_styled(body, width, lead, " " * len(lead), style))
            if index + 1 >= len(lines) or not _LIST_ITEM.match(lines[index + 1] if index + 1 < len(lines) else ""):
                out.append("")
        else:
            paragraph.append(stripped)
        index += 1
    flush()
    while out and not out[-1]:
        out.pop()
    return out


def _wrap(text: str, width: int, first: str = "", rest: str = "", visible: str | None = None) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first.rstrip()]


def _wrap_styled(text: str, width: int, first: str, rest: str, style: Style) -> list[str]:
    """Wrap on the plain text, then style each line, so escape codes never count as width."""
    plain_lines = _wrap(_inline(text, Style(False)), width, first, rest)
    if not style.color:
        return plain_lines
    # Re-apply inline styles per line; a style split across a line break is dropped on both halves.
    return [_inline(line, style) if line.count("`") % 2 == 0 and line.count("**") % 2 == 0 else line for line in plain_lines]


# --------------------------------------------------------------------------- tables and code


def render_table(columns, rows, width: int, style: Style, caption: str = "") -> list[str]:
    """A table that fits `width`: widest columns are wrapped first."""
    count = len(columns)
    natural = [max(len(str(cell)) for cell in [columns[i]] + [row[i] for row in rows if i < len(row)]) for i in range(count)]
    budget = width - 3 * (count - 1) - 2
    widths = list(natural)
    while sum(widths) > budget and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    out = []
    if caption:
        out.append("  " + style(caption, bold=True))
    out += _table_row(columns, widths, style, header=True)
    out.append("  " + "-+-".join("-" * w for w in widths))
    for row in rows:
        out += _table_row(row, widths, style)
    return out


def _table_row(cells, widths, style: Style, header: bool = False) -> list[str]:
    wrapped = [textwrap.wrap(str(cell), w, break_on_hyphens=False) or [""] for cell, w in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for line_no in range(height):
        parts = []
        for lines, w in zip(wrapped, widths):
            part = (lines[line_no] if line_no < len(lines) else "").ljust(w)
            parts.append(style(part, bold=True) if header else part)
        out.append("  " + " | ".join(parts))
    return out


def _render_code(block: m.CodeBlock, width: int, style: Style) -> list[str]:
    out = []
    if block.caption:
        out += _wrap_styled(f"*{block.caption}*", width, "", "", style)
    source = block.source.rstrip("\n")
    body = highlight_python(source) if (style.color and block.language == "python") else source
    rule = style("  " + "─" * min(width - 2, 60), dim=True) if style.color else "  " + "-" * min(width - 2, 60)
    out.append(rule)
    out += ["  " + line for line in body.splitlines()]
    out.append(rule)
    return out


_TOKEN_STYLES = {
    tokenize.STRING: dict(fg="green"),
    tokenize.COMMENT: dict(fg="bright_black"),
    tokenize.NUMBER: dict(fg="magenta"),
}


def highlight_python(source: str) -> str:
    """Colour Python keywords, strings, numbers and comments; the source is returned as is on error."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    pieces, position = [], 0
    for token in tokens:
        style = _TOKEN_STYLES.get(token.type)
        if token.type == tokenize.NAME and keyword.iskeyword(token.string):
            style = dict(fg="blue", bold=True)
        if not style or token.start[0] > len(lines):
            continue
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        pieces.append(source[position:start])
        # style line by line so a multi-line string keeps its indentation prefix working
        pieces.append("\n".join(click.style(part, **style) for part in source[start:end].split("\n")))
        position = end
    pieces.append(source[position:])
    return "".join(pieces)


# --------------------------------------------------------------------------- figures


def figure_file_stem(lesson: m.Lesson, figure: m.Figure) -> str:
    """The file name (without extension) `course figures` writes for a figure."""
    return f"{lesson.id}-{figure.id}"


def _render_figure(figure: m.Figure, lesson: m.Lesson, width: int, style: Style, figures_hint: str) -> list[str]:
    label = "Illustration" if getattr(figure, "illustration", False) else "Figure"
    out = [style(f"[{label}: {figure.title}]", bold=True, fg="magenta")]
    if figure.caption:
        out += _wrap_styled(figure.caption, width, "  ", "  ", style)
    if isinstance(figure, m.ChartFigure):
        out += _chart_as_text(figure, width)
    elif isinstance(figure, m.HeatmapFigure):
        out += _heatmap_as_text(figure, width)
    elif isinstance(figure, m.GraphFigure):
        out += _graph_as_text(figure, width)
    stem = figure_file_stem(lesson, figure)
    out.append(f"  Image: {stem}.png and .svg, drawn by:")
    out.append("    " + (figures_hint or f"course figures {lesson.id} --out DIR"))
    return out


def _format_quantity(value: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _chart_as_text(figure: m.ChartFigure, width: int) -> list[str]:
    rows = []
    for series in figure.series:
        for point in series.points:
            y = _format_quantity(point.y) if figure.y.scale == "log" else f"{point.y:g}"
            rows.append((f"{point.x:g}", point.label or series.name, y + (" (estimate)" if point.estimate else "")))
    return render_table((figure.x.label, "Label", figure.y.label), rows, width, Style(False))


def _heatmap_as_text(figure: m.HeatmapFigure, width: int) -> list[str]:
    columns = (figure.row_label or "",) + tuple(figure.columns)
    rows = [(label,) + tuple(f"{v:.2f}" for v in values) for label, values in zip(figure.rows, figure.values)]
    return render_table(columns, rows, width, Style(False))


def _graph_as_text(figure: m.GraphFigure, width: int) -> list[str]:
    labels = {node.id: node.label.replace("\n", " ") or node.id for node in figure.nodes}
    out = []
    for cluster in figure.clusters:
        out += _wrap(f"{cluster.label or cluster.id}: " + " → ".join(labels[n] for n in cluster.nodes), width, "  ", "    ")
    clustered = {n for c in figure.clusters for n in c.nodes}
    cross = [e for e in figure.edges if not (e.source in clustered and e.target in clustered and _same_cluster(figure, e))]
    if cross:
        out += _wrap("Links: " + "; ".join(f"{labels[e.source]} → {labels[e.target]}" for e in cross), width, "  ", "    ")
    return out


def _same_cluster(figure: m.GraphFigure, edge: m.GraphEdge) -> bool:
    return any(edge.source in c.nodes and edge.target in c.nodes for c in figure.clusters)
