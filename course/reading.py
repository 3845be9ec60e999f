"""A lesson rendered for the terminal: headings, wrapped prose, lists, tables, code, figures.

Everything is laid out by rich through course.terminal: Markdown for prose, tables
whose columns are sized by their words (a word is never split while it can fit),
highlighted code, and wrapping measured on the visible text (colour codes never count
towards the width). Plain text when not on a terminal or with NO_COLOR; styled on a
terminal. A figure is shown as its title, caption and data (a table), with the name of
the image file `course figures` draws.
"""
from __future__ import annotations

from typing import Any

from course import model as m
from course import terminal
from course.numbers import quantity
from course.paths import command


def render_lesson(lesson: m.Lesson, *, width: int = 80, color: bool = False, figures_hint: str = "") -> str:
    """The whole lesson as text, `width` columns wide (ANSI-styled when `color`)."""
    return terminal.render(lesson_parts(lesson, colour=color, figures_hint=figures_hint), width=width, colour=color)


def render_markdown(text: str, *, width: int = 80, color: bool = False) -> str:
    """Course Markdown (instructions, hints) as text `width` columns wide."""
    return terminal.render([terminal.markdown(text, colour=color)], width=width, colour=color).rstrip("\n")


def lesson_parts(lesson: m.Lesson, *, colour: bool, figures_hint: str = "") -> list[Any]:
    """The lesson as a list of rich renderables, top to bottom."""
    from rich.text import Text

    out: list[Any] = []
    title = f"Lesson {lesson.number}: {lesson.title}"
    out += _heading(title, "=", "bold cyan")
    if lesson.summary:
        out += [terminal.markdown(lesson.summary, colour=colour), ""]
    if lesson.objectives:
        out.append(Text("By the end of this lesson you will be able to:", style="bold"))
        out.append(terminal.markdown("\n".join(f"- {o}" for o in lesson.objectives), colour=colour))
        out.append("")
    figures = {figure.id: figure for figure in lesson.figures}
    for number, section in enumerate(lesson.sections, 1):
        out += _heading(f"{number}. {section.title}", "-", "bold yellow")
        for block in section.blocks:
            out += _block(block, figures, lesson, colour, figures_hint)
            out.append("")
    if lesson.key_terms:
        out += _heading("Key terms", "-", "bold yellow")
        for term in lesson.key_terms:
            body = Text.assemble((term.term, "bold"), ": ", term.definition)
            out.append(terminal.labelled("  ", body))
        out.append("")
    if lesson.sources:
        out += _heading("Sources", "-", "bold yellow")
        for source in lesson.sources:
            out.append(terminal.labelled("  ", f"[{source.id}] {source.authors} ({source.year}). {source.title}."))
            if source.url:  # never broken: a terminal must be able to open it
                out.append(terminal.unbroken(Text.assemble("    ", (source.url, "underline"))))
        out.append("")
    if lesson.exercises:
        out.append(Text.assemble(("Practise", "bold"), f" ({command('start EXERCISE')}, then {command('check EXERCISE')}):"))
        out.append(terminal.labelled("  ", ", ".join(lesson.exercises)))
    if lesson.quiz is not None:
        out.append(Text.assemble(("Check yourself:", "bold"),
                                 f" {command('quiz ' + lesson.id)}  ({len(lesson.quiz.questions)} questions)"))
    return out


def _heading(title: str, underline: str, style: str) -> list[Any]:
    from rich.text import Text

    return [Text(title, style=style), Text(underline * min(len(title), 100), style=style), ""]


def _block(block: m.Block, figures, lesson, colour: bool, figures_hint: str) -> list[Any]:
    from rich.text import Text

    if isinstance(block, m.MarkdownBlock):
        return [terminal.markdown(block.text, colour=colour)]
    if isinstance(block, m.CodeBlock):
        out: list[Any] = []
        if block.caption:
            out.append(Text(block.caption, style="italic"))
        out.append(terminal.code(block.source, block.language, colour=colour, indent=2))
        return out
    if isinstance(block, m.TableBlock):
        return [terminal.table(block.columns, block.rows, caption=block.caption, colour=colour)]
    return _figure(figures[block.figure_id], lesson, colour, figures_hint)


# --------------------------------------------------------------------------- figures


def figure_file_stem(lesson: m.Lesson, figure: m.Figure) -> str:
    """The file name (without extension) `course figures` writes for a figure."""
    return f"{lesson.id}-{figure.id}"


def display_title(figure: m.Figure) -> str:
    """The title, prefixed "Illustration:" for made-up data (unless the author already wrote it)."""
    if getattr(figure, "illustration", False) and not figure.title.lower().startswith("illustration"):
        return f"Illustration: {figure.title}"
    return figure.title


def _figure(figure: m.Figure, lesson: m.Lesson, colour: bool, figures_hint: str) -> list[Any]:
    from rich.text import Text

    title = display_title(figure)
    shown = title if getattr(figure, "illustration", False) else f"Figure: {title}"
    out: list[Any] = [Text(f"[{shown}]", style="bold magenta")]
    if figure.caption:
        out.append(terminal.text(figure.caption, indent=2))
    if isinstance(figure, m.ChartFigure):
        out.append(_chart_as_table(figure, colour))
    elif isinstance(figure, m.HeatmapFigure):
        out.append(_heatmap_as_table(figure, colour))
    elif isinstance(figure, m.GraphFigure):
        out += _graph_as_text(figure)
    stem = figure_file_stem(lesson, figure)
    out.append(terminal.text(f"Image: {stem}.png and .svg, drawn by:", indent=2))
    out.append(terminal.text(figures_hint or f"course figures {lesson.id} --out DIR", indent=4))
    return out


format_quantity = quantity  # 1.5B, 65M, 12K: a count as people say it (course.numbers)


def _chart_as_table(figure: m.ChartFigure, colour: bool):
    rows = []
    for series in figure.series:
        for point in series.points:
            y = format_quantity(point.y) if figure.y.scale == "log" else f"{point.y:g}"
            x = format_quantity(point.x) if figure.x.scale == "log" else f"{point.x:g}"
            rows.append((x, point.label or series.name, y + (" (estimate)" if point.estimate else "")))
    return terminal.table((figure.x.label, "Label", figure.y.label), rows, colour=colour)


def _heatmap_as_table(figure: m.HeatmapFigure, colour: bool):
    columns = (figure.row_label or "",) + tuple(figure.columns)
    rows = [(label,) + tuple(f"{v:.2f}" for v in values) for label, values in zip(figure.rows, figure.values)]
    return terminal.table(columns, rows, colour=colour)


def _graph_as_text(figure: m.GraphFigure) -> list[Any]:
    labels = {node.id: node.label.replace("\n", " ") or node.id for node in figure.nodes}
    out: list[Any] = []
    for cluster in figure.clusters:
        out.append(terminal.text(f"{cluster.label or cluster.id}: " + " → ".join(labels[n] for n in cluster.nodes),
                                 indent=2, hanging=4))
    clustered = {n for c in figure.clusters for n in c.nodes}
    cross = [e for e in figure.edges if not (e.source in clustered and e.target in clustered and _same_cluster(figure, e))]
    if cross:
        links = "; ".join(f"{labels[e.source]} → {labels[e.target]}" for e in cross)
        out.append(terminal.text("Links: " + links, indent=2, hanging=4))
    return out


def _same_cluster(figure: m.GraphFigure, edge: m.GraphEdge) -> bool:
    return any(edge.source in c.nodes and edge.target in c.nodes for c in figure.clusters)
