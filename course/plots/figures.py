"""A lesson's figures as image files: what `course figures LESSON --out DIR` writes.

Every figure becomes `<figure_file_stem>.png` and `.svg` (the names `course read`
tells students about): charts and heatmaps drawn with matplotlib, graphs with
Graphviz (course.plots.diagram), images copied as they are. Charts say where their
data comes from (a "Sources:" footnote) and what is not measured: estimates are
hollow and labelled "(estimate)", illustrations are titled "Illustration:".

Importing this module is cheap; matplotlib and graphviz load when a figure is drawn.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from course import model as m
from course.reading import _format_quantity, figure_file_stem

LABEL_SIZE = 7  # points: the per-point annotations
LABEL_GAP = 6  # points between a marker and its label
ESTIMATE_SUFFIX = " (estimate)"


@dataclass(frozen=True)
class RenderedFigure:
    """One file written for one figure; `note` says what went wrong or differs ("" when nothing)."""

    path: Path
    figure_id: str
    kind: str  # the figure's kind: line_chart, scatter_chart, heatmap, graph, image
    note: str = ""


def render_lesson_figures(lesson: m.Lesson, out_dir: str | Path, *, dot_programs=None) -> list[RenderedFigure]:
    """Draw every figure of `lesson` into `out_dir` (created if needed); one record per file written.

    `dot_programs` (a list of diagram.DotProgram) overrides the Graphviz lookup; [] means none.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered: list[RenderedFigure] = []
    for figure in lesson.figures:
        stem = out_dir / figure_file_stem(lesson, figure)
        note = ""
        if isinstance(figure, m.ChartFigure):
            paths = draw_chart(figure, stem, footnote=sources_line(lesson, figure))
        elif isinstance(figure, m.HeatmapFigure):
            paths = draw_heatmap(figure, stem, footnote=sources_line(lesson, figure))
        elif isinstance(figure, m.GraphFigure):
            from course.plots.diagram import render_diagram

            output = render_diagram(figure, stem, subtitle=sources_line(lesson, figure), programs=dot_programs)
            paths, note = list(output.files), output.note
        else:
            source = lesson.folder / figure.file
            target = stem.with_name(stem.name + source.suffix.lower())
            shutil.copyfile(source, target)
            paths = [target]
        rendered += [RenderedFigure(path, figure.id, figure.kind, note) for path in paths]
    return rendered


# --------------------------------------------------------------------------- words on the picture


def display_title(figure: m.Figure) -> str:
    """The title, prefixed "Illustration:" for made-up data (unless the author already wrote it)."""
    if getattr(figure, "illustration", False) and not figure.title.lower().startswith("illustration"):
        return f"Illustration: {figure.title}"
    return figure.title


def citation(source: m.Source) -> str:
    """'Vaswani et al. (2017)': more than two authors shortened to the first 'et al.'."""
    authors = source.authors.strip()
    names = [name.strip() for name in re.split(r",|&|\band\b", authors) if name.strip()]
    if "et al" not in authors and len(names) > 2:
        authors = f"{names[0]} et al."
    return f"{authors} ({source.year})"


def sources_line(lesson: m.Lesson, figure: m.Figure) -> str:
    """The footnote: where the data comes from; for an illustration, that its values are made up."""
    cited = "; ".join(
        citation(source) for source_id in figure.sources for source in lesson.sources if source.id == source_id
    )
    if getattr(figure, "illustration", False):
        return "Illustrative values, not measured data." + (f" Background: {cited}" if cited else "")
    if not cited:
        return ""
    return ("Sources: " if len(figure.sources) > 1 else "Source: ") + cited


# --------------------------------------------------------------------------- charts


def draw_chart(figure: m.ChartFigure, stem: Path, *, footnote: str = "", extra=None, title: str = "",
               svg: bool = True) -> list[Path]:
    """A line or scatter chart: log axes as declared, every point labelled, estimates hollow.

    `extra(ax) -> [(handle, name), ...]` draws more on the chart (the feedback plots put a
    student's numbers on a lesson chart) and returns legend entries for what it drew;
    `title` replaces the figure's own title.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    from course.plots import style

    with style.themed():
        fig, ax = style.new_axes(title or display_title(figure), figure.x.label, figure.y.label)
        for axis, spec in ((ax.xaxis, figure.x), (ax.yaxis, figure.y)):
            if spec.scale == "log":
                (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
                axis.set_major_formatter(FuncFormatter(lambda value, _: _format_quantity(value)))
                axis.set_minor_formatter(NullFormatter())
            else:
                axis.get_major_formatter().set_useOffset(False)  # 2017, not +2.017e3
                values = [getattr(p, "x" if axis is ax.xaxis else "y") for s in figure.series for p in s.points]
                if values and all(float(v).is_integer() for v in values):
                    axis.set_major_locator(MaxNLocator(integer=True))
        line = figure.kind == "line_chart"
        labels, handles, names = [], [], []
        for index, series in enumerate(figure.series):
            colour = style.SERIES_COLOURS[index % len(style.SERIES_COLOURS)]
            marker = style.MARKERS[index % len(style.MARKERS)]
            points = sorted(series.points, key=lambda p: p.x) if line else series.points
            if line:
                ax.plot([p.x for p in points], [p.y for p in points], color=colour, linewidth=1.6, zorder=2)
            for estimate in (False, True):
                chosen = [p for p in points if p.estimate == estimate]
                if chosen:
                    ax.scatter(
                        [p.x for p in chosen], [p.y for p in chosen], s=30, marker=marker, zorder=3,
                        facecolors="white" if estimate else colour, edgecolors=colour if estimate else "white",
                        linewidths=1.5 if estimate else 0.6,
                        gid=f"{'estimates' if estimate else 'points'}-{index + 1}",  # the group's id in the SVG
                    )
            for point in points:
                text = point.label or f"{point.y:g}"
                if point.estimate and "estimate" not in text.lower():
                    text += ESTIMATE_SUFFIX
                labels.append(_point_label(ax, text, point.x, point.y, above=line))
            if series.name:
                all_estimates = all(p.estimate for p in points)
                handles.append(Line2D(
                    [], [], color=colour, linestyle="-" if line else "", marker=marker,
                    markerfacecolor="white" if all_estimates else colour, markeredgecolor=colour,
                ))
                names.append(series.name)
        if any(p.estimate for s in figure.series for p in s.points):
            handles.append(Line2D([], [], linestyle="", marker="o", markerfacecolor="white", markeredgecolor="#444444"))
            names.append("hollow: estimate, not a published figure")
        for handle, name in extra(ax) if extra is not None else ():
            handles.append(handle)
            names.append(name)
        ax.margins(x=0.06, y=0.1)
        style.finish(fig, footnote)
        _fit_labels(fig, ax, labels)
        if handles:
            _legend_where_best(fig, ax, handles, names)
        return style.save(fig, stem, svg=svg)


def _point_label(ax, text: str, x: float, y: float, *, above: bool, offset=None, leader: bool = False):
    """A label beside its point (above-right on lines, so it stays off the line).

    `leader`: with a thin line back to the point, for a label moved away from it.
    """
    offset = offset or (LABEL_GAP, LABEL_GAP if above else 0)
    label = ax.annotate(
        text, (x, y), xytext=offset, textcoords="offset points",
        fontsize=LABEL_SIZE, color="#222222", ha="left", va="bottom" if above else "center", zorder=4,
        arrowprops=dict(arrowstyle="-", color="#888888", linewidth=0.6, shrinkA=0, shrinkB=3) if leader else None,
    )
    label.set_in_layout(False)  # placed by _fit_labels, not by tight_layout
    return label


def _fit_labels(fig, ax, labels, rounds: int = 6) -> None:
    """Keep every point label inside the axes and off the others.

    Widens the axis limits until no label sticks out, then pushes overlapping labels
    apart vertically; a label moved away from its point gets a thin leader line.
    """
    if not labels:
        return
    to_points = 72 / fig.dpi
    renderer = fig.canvas.get_renderer()  # text extents without drawing the whole figure each time
    for _ in range(rounds):  # 1. room: grow the limits on the side a label sticks out
        box = ax.get_window_extent()
        extents = [label.get_window_extent(renderer) for label in labels]
        right, top, bottom = _overflow(box, extents)
        if right <= 0 and top <= 0 and bottom <= 0:
            break
        if right > 0:
            _grow(ax, "x", high=right, low=0, size=box.width)
        if top > 0 or bottom > 0:
            _grow(ax, "y", high=max(top, 0), low=max(bottom, 0), size=box.height)
    boxes = [label.get_window_extent(renderer) for label in labels]
    shifts = [0.0] * len(labels)  # pixels, up positive
    for _ in range(200):  # 2. spread: push apart the pairs that overlap
        moved = False
        order = sorted(range(len(labels)), key=lambda i: boxes[i].y0 + shifts[i])
        for a_pos, a in enumerate(order):
            for b in order[a_pos + 1 :]:
                if boxes[a].x1 <= boxes[b].x0 or boxes[b].x1 <= boxes[a].x0:
                    continue
                overlap = (boxes[a].y1 + shifts[a] + 1) - (boxes[b].y0 + shifts[b])
                if overlap > 0:
                    shifts[a] -= overlap / 2
                    shifts[b] += overlap / 2
                    moved = True
        if not moved:
            break
    for index, (label, shift) in enumerate(zip(labels, shifts)):
        if abs(shift) > 0.5:
            dx, dy = label.xyann
            label.remove()  # re-made: an annotation gets its leader line only when created
            labels[index] = _point_label(
                ax, label.get_text(), *label.xy, above=label.get_va() == "bottom",
                offset=(dx, dy + shift * to_points), leader=abs(shift) > 3,
            )
    box = ax.get_window_extent()
    _, top, bottom = _overflow(box, [label.get_window_extent(renderer) for label in labels])
    if top > 0 or bottom > 0:  # spreading pushed a label out: make room once more
        _grow(ax, "y", high=max(top, 0), low=max(bottom, 0), size=box.height)


def _overflow(box, extents, pad: float = 4) -> tuple[float, float, float]:
    """Pixels by which the labels come closer than `pad` to the axes' right, top and bottom edges."""
    return (
        max(e.x1 for e in extents) - (box.x1 - pad),
        max(e.y1 for e in extents) - (box.y1 - pad),
        (box.y0 + pad) - min(e.y0 for e in extents),
    )


def _legend_where_best(fig, ax, handles, names) -> None:
    """A legend where it hides the least, found once: matplotlib's "best" would search again at every draw."""
    legend = ax.legend(handles, names, loc="best")
    box = legend.get_window_extent(fig.canvas.get_renderer()).transformed(ax.transAxes.inverted())
    legend.remove()
    ax.legend(handles, names, loc="lower left", bbox_to_anchor=(box.x0, box.y0), borderaxespad=0)


def _grow(ax, which: str, *, high: float, low: float, size: float) -> None:
    """Widen one axis by `low`/`high` pixels' worth at each end (in log space on log axes)."""
    import math

    if high <= 0 and low <= 0:
        return
    get, set_, scale = (
        (ax.get_xlim, ax.set_xlim, ax.get_xscale()) if which == "x" else (ax.get_ylim, ax.set_ylim, ax.get_yscale())
    )
    lo, hi = get()
    forward, back = (math.log10, lambda v: 10**v) if scale == "log" else (float, float)
    span = forward(hi) - forward(lo)
    per_pixel = span / max(size - high - low, size * 0.2)
    set_(back(forward(lo) - low * per_pixel), back(forward(hi) + high * per_pixel))


# --------------------------------------------------------------------------- heatmaps


def draw_heatmap(figure: m.HeatmapFigure, stem: Path, *, footnote: str = "") -> list[Path]:
    """A matrix of values: each cell annotated, rows and columns labelled, a colour bar."""
    import numpy as np

    from course.plots import style

    values = np.array(figure.values, dtype=float)
    with style.themed():
        fig, ax = style.new_axes(
            display_title(figure), figure.column_label or "Column", figure.row_label or "Row",
            figsize=(5.6, 4.6), title_width=48,  # the plot is square: narrower than a chart
        )
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        low, high = min(0.0, float(values.min())), float(values.max()) or 1.0
        image = ax.imshow(values, cmap=style.SEQUENTIAL_CMAP, vmin=low, vmax=high, aspect="equal")
        ax.set_xticks(range(len(figure.columns)), labels=figure.columns)
        ax.set_yticks(range(len(figure.rows)), labels=figure.rows)
        ax.tick_params(length=0)
        size = 8 if max(values.shape) <= 8 else 6
        for (row, column), value in np.ndenumerate(values):
            dark = (value - low) / ((high - low) or 1.0) < 0.55  # cividis is dark at the low end
            ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label("Value")
        bar.ax.tick_params(labelsize=7)
        style.finish(fig, footnote)
        return style.save(fig, stem, svg=True)
