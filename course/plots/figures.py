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
from course.reading import display_title, figure_file_stem, format_quantity  # one home for each

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
    """A line or scatter chart, saved as PNG and SVG (see `chart_figure`)."""
    from course.plots import style

    with style.themed():
        fig = chart_figure(figure, footnote=footnote, extra=extra, title=title)
        return style.save(fig, stem, svg=svg)


def is_extrapolated(point: m.DataPoint) -> bool:
    """A point its author labelled "(extrapolated)": a fit's value beyond the data it was fitted on.

    The lesson format has no key for it (a `label` is all there is), so the label decides.
    """
    return "extrapolat" in (point.label or "").lower()


def chart_figure(figure: m.ChartFigure, *, footnote: str = "", extra=None, title: str = ""):
    """The chart, drawn and laid out (not saved): log axes as declared, every point labelled.

    Estimates are hollow; extrapolated points are hollow on a dashed line over a shaded
    band, so they never look like fitted or measured ones. Point labels are placed where
    they overlap no other label, no marker and no line (`_place_labels`), and the key sits
    under the chart, off the data. `extra(ax) -> [(handle, name), ...]` draws more on the
    chart (the feedback plots put a student's numbers on a lesson chart) and returns
    legend entries for what it drew; `title` replaces the figure's own title.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    from course.plots import style

    fig, ax = style.new_axes(title or display_title(figure), figure.x.label, figure.y.label)
    for axis, spec in ((ax.xaxis, figure.x), (ax.yaxis, figure.y)):
        if spec.scale == "log":
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            axis.set_major_formatter(FuncFormatter(lambda value, _: format_quantity(value)))
            axis.set_minor_formatter(NullFormatter())
        else:
            axis.get_major_formatter().set_useOffset(False)  # 2017, not +2.017e3
            values = [getattr(p, "x" if axis is ax.xaxis else "y") for s in figure.series for p in s.points]
            if values and all(float(v).is_integer() for v in values):
                axis.set_major_locator(MaxNLocator(integer=True))
    line = figure.kind == "line_chart"
    points_to_label: list = []
    handles: list = []  # legend entries: lines and patches
    extrapolated_from = None
    for index, series in enumerate(figure.series):
        colour = style.SERIES_COLOURS[index % len(style.SERIES_COLOURS)]
        marker = style.MARKERS[index % len(style.MARKERS)]
        points = sorted(series.points, key=lambda p: p.x) if line else list(series.points)
        fitted = [p for p in points if not is_extrapolated(p)]
        beyond = [p for p in points if is_extrapolated(p)]
        if line:
            ax.plot([p.x for p in fitted], [p.y for p in fitted], color=colour, linewidth=1.6, zorder=2,
                    gid=f"line-{index + 1}")
            if beyond:
                joined = fitted[-1:] + beyond
                ax.plot([p.x for p in joined], [p.y for p in joined], color=colour, linewidth=1.6, linestyle=(0, (4, 3)),
                        zorder=2, gid=f"extrapolated-line-{index + 1}")
        if beyond and fitted:
            edge = (max(p.x for p in fitted), min(p.x for p in beyond))
            extrapolated_from = edge if extrapolated_from is None else min(extrapolated_from, edge)
        for kind, chosen in (("points", [p for p in fitted if not p.estimate]),
                             ("estimates", [p for p in fitted if p.estimate]), ("extrapolated", beyond)):
            if chosen:
                hollow = kind != "points"
                ax.scatter(
                    [p.x for p in chosen], [p.y for p in chosen], s=34 if kind == "extrapolated" else 30,
                    marker="D" if kind == "extrapolated" else marker, zorder=3,
                    facecolors="white" if hollow else colour, edgecolors=colour if hollow else "white",
                    linewidths=1.5 if hollow else 0.6,
                    gid=f"{kind}-{index + 1}",  # the group's id in the SVG
                )
        for point in points:
            text = point.label or f"{point.y:g}"
            if point.estimate and "estimate" not in text.lower():
                text += ESTIMATE_SUFFIX
            points_to_label.append((text, point.x, point.y))
        if series.name:
            all_hollow = all(p.estimate for p in fitted) and bool(fitted)
            handles.append(Line2D(
                [], [], color=colour, linestyle="-" if line else "", marker=marker,
                markerfacecolor="white" if all_hollow else colour, markeredgecolor=colour,
                label=series.name + (" (fitted range)" if beyond else ""),
            ))
    if any(p.estimate for s in figure.series for p in s.points):
        handles.append(Line2D([], [], linestyle="", marker="o", markerfacecolor="white", markeredgecolor="#444444",
                              label="hollow: estimate, not a published figure"))
    if extrapolated_from is not None:
        handles.append(Line2D([], [], color="#444444", linestyle=(0, (4, 3)), marker="D", markerfacecolor="white",
                              markeredgecolor="#444444", label="extrapolated: the fit beyond its data"))
        handles.append(Patch(facecolor=EXTRAPOLATED_SHADE, edgecolor="none", label="beyond the fitted data"))
    for handle, name in extra(ax) if extra is not None else ():
        handle.set_label(name)
        handles.append(handle)
    ax.margins(x=0.06, y=0.1)
    style.finish(fig, footnote, legend_handles=handles or None, legend_columns=min(len(handles), 2))
    _place_labels(fig, ax, points_to_label)
    if extrapolated_from is not None:  # last: the band runs to the right edge the labels left
        _shade_beyond(ax, *extrapolated_from, log=figure.x.scale == "log")
    return fig


EXTRAPOLATED_SHADE = "#EDEDED"


def _shade_beyond(ax, last_fitted: float, first_beyond: float, *, log: bool) -> None:
    """A grey band from halfway between the last fitted point and the first extrapolated one to the right edge."""
    import math

    low, high = ax.get_xlim()
    start = math.sqrt(last_fitted * first_beyond) if log else (last_fitted + first_beyond) / 2
    band = ax.axvspan(start, high, color=EXTRAPOLATED_SHADE, zorder=0, linewidth=0, gid="extrapolated-band")
    band.set_in_layout(False)
    ax.set_xlim(low, high)


def _label_box(anchor, size, ha: str, va: str):
    """(x0, y0, x1, y1) in pixels of a text of `size` (w, h) anchored at `anchor` with this alignment."""
    x, y = anchor
    w, h = size
    x0 = x if ha == "left" else (x - w if ha == "right" else x - w / 2)
    y0 = y if va == "bottom" else (y - h if va == "top" else y - h / 2)
    return (x0, y0, x0 + w, y0 + h)


def _overlap(a, b) -> float:
    """The area two boxes share (0 when apart)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


# Where a label may go, tried in order: (dx, dy) in points from its point, then its alignment.
_NEAR = [(LABEL_GAP, 0, "left", "center"), (-LABEL_GAP, 0, "right", "center"),
         (LABEL_GAP - 2, LABEL_GAP - 1, "left", "bottom"), (LABEL_GAP - 2, 1 - LABEL_GAP, "left", "top"),
         (2 - LABEL_GAP, LABEL_GAP - 1, "right", "bottom"), (2 - LABEL_GAP, 1 - LABEL_GAP, "right", "top"),
         (0, LABEL_GAP + 1, "center", "bottom"), (0, -LABEL_GAP - 1, "center", "top")]
_FAR = [(side * (LABEL_GAP + 4), step * 8, "left" if side > 0 else "right", "center")
        for step in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6) for side in (1, -1)]


def _place_labels(fig, ax, items, rounds: int = 4) -> list:
    """Label each (text, x, y) beside its point where the label overlaps no other label, no marker
    and no drawn line, inside the axes; far from its point a label gets a thin leader line.

    Greedy, in the order the points come: the first free place among `_NEAR`, then `_FAR`;
    when none is free the one that overlaps least. When labels would stick out of the
    axes, the axis limits grow and the placing starts again.
    """
    if not items:
        return []
    renderer = fig.canvas.get_renderer()
    scale = fig.dpi / 72
    sizes = []
    for text, _, _ in items:
        probe = ax.text(0, 0, text, fontsize=LABEL_SIZE)
        box = probe.get_window_extent(renderer)
        sizes.append((box.width + 2, box.height + 1))
        probe.remove()
    chosen: list[tuple] = []
    for _ in range(rounds):
        frame = ax.get_window_extent(renderer)
        inner = (frame.x0 + 3, frame.y0 + 3, frame.x1 - 3, frame.y1 - 3)
        obstacles = _obstacles(ax)
        placed: list[tuple] = []
        chosen = []
        out_right = out_top = out_bottom = out_left = 0.0
        for (text, x, y), size in zip(items, sizes):
            px, py = ax.transData.transform((x, y))
            best, best_cost = None, None
            for dx, dy, ha, va in _NEAR + _FAR:
                box = _label_box((px + dx * scale, py + dy * scale), size, ha, va)
                cost = sum(_overlap(box, other) for other in placed) * 4 + sum(_overlap(box, o) for o in obstacles)
                outside = max(0.0, inner[0] - box[0]) + max(0.0, box[2] - inner[2]) + \
                    max(0.0, inner[1] - box[1]) + max(0.0, box[3] - inner[3])
                cost += outside * size[1] * 2
                if best_cost is None or cost < best_cost - 1e-9:
                    best, best_cost = (dx, dy, ha, va, box), cost
                if cost == 0:
                    break
            assert best is not None  # every candidate has a cost
            dx, dy, ha, va, box = best
            placed.append(box)
            chosen.append((text, x, y, dx, dy, ha, va))
            out_right = max(out_right, box[2] - inner[2])
            out_left = max(out_left, inner[0] - box[0])
            out_top = max(out_top, box[3] - inner[3])
            out_bottom = max(out_bottom, inner[1] - box[1])
        if max(out_right, out_left, out_top, out_bottom) <= 0.5:
            break
        if out_right > 0 or out_left > 0:
            _grow(ax, "x", high=max(out_right, 0), low=max(out_left, 0), size=frame.width)
        if out_top > 0 or out_bottom > 0:
            _grow(ax, "y", high=max(out_top, 0), low=max(out_bottom, 0), size=frame.height)
    labels = []
    for text, x, y, dx, dy, ha, va in chosen:
        far = (dx, dy, ha, va) in _FAR
        label = ax.annotate(
            text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=LABEL_SIZE, color="#222222",
            ha=ha, va=va, zorder=4,
            arrowprops=dict(arrowstyle="-", color="#888888", linewidth=0.6, shrinkA=0, shrinkB=3) if far else None,
        )
        label.set_in_layout(False)  # placed here, not by tight_layout
        label.set_gid("point-label")
        labels.append(label)
    return labels


def _obstacles(ax) -> list[tuple[float, float, float, float]]:
    """Pixel boxes a label must not cover: every marker, and small boxes along every drawn line."""
    import numpy as np

    boxes = []
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) == 0:
            continue
        for px, py in ax.transData.transform(np.asarray(offsets, dtype=float)):
            boxes.append((px - 5, py - 5, px + 5, py + 5))
    for line in ax.lines:
        xy = line.get_xydata()
        if len(xy) < 2 or line.get_gid() is None:
            continue
        pixels = ax.transData.transform(np.asarray(xy, dtype=float))
        for (x0, y0), (x1, y1) in zip(pixels[:-1], pixels[1:]):
            steps = max(2, int(np.hypot(x1 - x0, y1 - y0) // 4))
            for t in np.linspace(0, 1, steps):
                x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                boxes.append((x - 1.5, y - 1.5, x + 1.5, y + 1.5))
    return boxes


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


def colour_bar_label(figure: m.HeatmapFigure) -> str:
    """What the colours mean, in words: "Weight of each key token (each row sums to 1)" for a
    matrix of distributions, else what the title says the values are."""
    rows = [sum(values) for values in figure.values]
    if rows and all(abs(total - 1) < 1e-6 for total in rows) and figure.column_label:
        return f"Weight of each {figure.column_label.lower()} (each row sums to 1)"
    title = display_title(figure)
    if title.lower().startswith("illustration:"):
        title = title.split(":", 1)[1].strip()
    return title[:1].upper() + title[1:]


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
        bar.set_label(colour_bar_label(figure))
        bar.ax.tick_params(labelsize=7)
        style.finish(fig, footnote)
        return style.save(fig, stem, svg=True)
