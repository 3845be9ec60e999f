"""Figures that do not mislead and can be read: extrapolated points look extrapolated,
colour bars say what their colours mean, counts get whole-number ticks, PNGs are sharp
(at least 1280 pixels wide, with an SVG beside them), point labels overlap nothing, and
a feedback picture marks the same entry, by the same index, as the case's message."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import course
from course.loader import load_course
from course.model import ChartFigure
from course.paths import builtin_root
from course.plots import style
from course.plots.figures import chart_figure, is_extrapolated, sources_line

SVG = "{http://www.w3.org/2000/svg}"
LESSON = load_course(builtin_root()).lesson("lesson-3")
CHARTS = [figure for figure in LESSON.figures if isinstance(figure, ChartFigure)]


@pytest.fixture(scope="module")
def drawn(builtin_lesson_figures):
    return builtin_lesson_figures[0]  # drawn once with test_figures.py's (tests/conftest.py)


def texts(svg: Path) -> list[str]:
    return [" ".join(t.itertext()).strip() for t in ET.parse(svg).getroot().iter(f"{SVG}text")]


def groups(svg: Path) -> dict[str, ET.Element]:
    return {g.get("id"): g for g in ET.parse(svg).getroot().iter(f"{SVG}g") if g.get("id")}


def png_width(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return image.size[0]


def test_every_png_is_at_least_1280_pixels_wide_beside_its_svg(drawn):
    pngs = sorted(drawn.glob("*.png"))
    assert len(pngs) >= 5
    for png in pngs:
        assert png_width(png) >= 1280, png.name
        assert png.with_suffix(".svg").is_file(), png.name


def test_extrapolated_points_are_drawn_apart_from_the_fitted_ones(drawn):
    figure = LESSON.figure("scaling-law")
    beyond = [p for s in figure.series for p in s.points if is_extrapolated(p)]
    assert len(beyond) == 2  # the lesson labels N = 1e10 and 1e11 "(extrapolated)"
    svg = drawn / "lesson-3-scaling-law.svg"
    found = groups(svg)
    assert {"points-1", "extrapolated-1", "line-1", "extrapolated-line-1", "extrapolated-band"} <= set(found)
    fitted_markers = len(list(found["points-1"].iter(f"{SVG}use")))
    extrapolated_markers = len(list(found["extrapolated-1"].iter(f"{SVG}use")))
    assert (fitted_markers, extrapolated_markers) == (4, 2)
    dashed = ET.tostring(found["extrapolated-line-1"]).decode()
    assert "stroke-dasharray" in dashed and "stroke-dasharray" not in ET.tostring(found["line-1"]).decode()
    words = " ".join(texts(svg))
    assert "extrapolated: the fit beyond its data" in words and "beyond the fitted data" in words


def test_colour_bars_say_what_the_colours_mean(drawn, tmp_path, home):
    words = texts(drawn / "lesson-3-attention-example.svg")
    assert "Weight of each key token (each row sums to 1)" in words and "Value" not in words
    plots = tmp_path / "plots"
    course.check("positional_encoding", builtin_root() / "exercises" / "positional_encoding" / "mistakes" /
                 "sin_cos_swapped.py", plots=plots)
    heatmaps = sorted(plots.glob("*heatmaps.svg"))
    assert heatmaps
    words = texts(heatmaps[0])
    assert "Encoding value" in words and "Yours − expected" in words


def test_attempts_are_counted_in_whole_numbers(home, tmp_path):
    from course.plots.progress import progress_chart
    from course.progress.store import open_store

    with open_store() as store:
        attempt = store.start_attempt("lesson-3", 1, max_score=10.0)
        store.record_answer(attempt, "a", "x", 6.0, 10.0, False)
        store.finish_attempt(attempt)  # one attempt: matplotlib alone would tick 0.96, 0.98, 1.00, ...
        path = progress_chart(store, load_course(builtin_root()), tmp_path / "progress.svg")
    numbers = [t for t in texts(path) if re.fullmatch(r"[\d.,]+", t)]
    assert "1" in numbers and not [t for t in numbers if "." in t], numbers
    with open_store() as store:
        png = progress_chart(store, load_course(builtin_root()), tmp_path / "progress.png")
    assert png_width(png) >= 1280


def boxes_overlap(a, b, slack: float = 0.5) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > slack and min(a.y1, b.y1) - max(a.y0, b.y0) > slack


@pytest.mark.parametrize("figure", CHARTS, ids=[f.id for f in CHARTS])
def test_point_labels_overlap_no_label_no_marker_and_stay_inside(figure):
    import numpy as np

    with style.themed():
        fig = chart_figure(figure, footnote=sources_line(LESSON, figure))
        try:
            ax = fig.axes[0]
            renderer = fig.canvas.get_renderer()
            labels = [t for t in ax.texts if t.get_gid() == "point-label"]
            assert len(labels) == sum(len(s.points) for s in figure.series)
            boxes = [label.get_window_extent(renderer) for label in labels]
            frame = ax.get_window_extent(renderer)
            for label, box in zip(labels, boxes):
                assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, \
                    label.get_text()
            for i, a in enumerate(boxes):
                for j in range(i + 1, len(boxes)):
                    assert not boxes_overlap(a, boxes[j]), (labels[i].get_text(), labels[j].get_text())
            markers = [ax.transData.transform(np.asarray(c.get_offsets(), dtype=float)) for c in ax.collections
                       if len(c.get_offsets())]
            for label, box in zip(labels, boxes):
                for px, py in np.concatenate(markers):
                    assert not (box.x0 + 1 < px < box.x1 - 1 and box.y0 + 1 < py < box.y1 - 1), \
                        f"{label.get_text()} covers a marker"
            legend = fig.legends[0].get_window_extent(renderer)
            assert legend.y1 <= frame.y0  # the key is under the chart, off the data
        finally:
            style.pyplot().close(fig)


def test_the_picture_marks_the_entry_the_message_names(tmp_path, home):
    plots = tmp_path / "plots"
    result = course.check("softmax", builtin_root() / "exercises" / "softmax" / "mistakes" / "wrong_axis.py",
                          plots=plots)
    case = next(c for c in result.cases if c.name == "matrix_columns")
    index = re.search(r"at (\[\d+, \d+\])", case.message).group(1)
    words = " ".join(texts(plots / "softmax-matrix_columns-bars.svg"))
    assert f"entry {index} marked, as in the message" in words
    row, column = (int(i) for i in re.findall(r"\d+", index))
    assert f"column [:, {column}] of 6" in words  # numpy's index, from 0, in both
