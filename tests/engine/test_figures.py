"""`course figures`: every figure of the real lesson as valid PNG and SVG files, with or without Graphviz."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import courserunner
from coursefactory import LESSON, write_course
from course.loader import load_course
from course.model import GraphFigure, ImageFigure
from course.paths import builtin_root
from course.plots import diagram
from course.plots.figures import render_lesson_figures
from course.reading import figure_file_stem

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
HAS_GRAPHVIZ_PURE = diagram._find_graphviz_pure() is not None
needs_graphviz_pure = pytest.mark.skipif(not HAS_GRAPHVIZ_PURE, reason="the graphviz-pure wheel is not installed")
needs_posix = pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a stand-in program")


def course(*args, env=None, cwd=None):
    return courserunner.run_course(*args, env=env, cwd=cwd or Path.cwd(), timeout=120)


def svg_text(path: Path) -> str:
    """All the words of an SVG (its <text> elements, tspans included), joined by spaces."""
    root = ET.parse(path).getroot()
    return " ".join(" ".join(element.itertext()) for element in root.iter(f"{SVG}text"))


def assert_png(path: Path) -> None:
    from PIL import Image

    assert path.read_bytes()[:8] == PNG_MAGIC, path
    with Image.open(path) as image:
        image.load()  # decodes every pixel: a truncated or corrupt file fails here
        width, height = image.size
    assert 1280 <= width <= 4000 and 150 <= height <= 4000, (path.name, image.size)  # sharp: at least 1280 wide


@pytest.fixture(scope="module")
def lesson():
    return load_course(builtin_root()).lesson("lesson-3")


@pytest.fixture(scope="module")
def rendered(builtin_lesson_figures):
    """The real lesson's figures, drawn once for the tests that only look at them (tests/conftest.py)."""
    return builtin_lesson_figures


def test_every_figure_of_the_lesson_is_written_under_the_name_course_read_announces(lesson, rendered):
    out, records = rendered
    paths = {record.path for record in records}
    assert {"parameter-growth", "attention-example", "transformer"} <= {f.id for f in lesson.figures}
    for figure in lesson.figures:
        stem = figure_file_stem(lesson, figure)
        if isinstance(figure, ImageFigure):
            assert any(p.stem == stem for p in paths)
            continue
        assert {out / f"{stem}.png", out / f"{stem}.svg"} <= paths, figure.id
    assert all(record.path.is_file() and not record.note for record in records)
    assert {record.kind for record in records} >= {"scatter_chart", "line_chart", "heatmap", "graph"}


def test_every_png_decodes_and_has_a_sensible_size(rendered):
    from matplotlib.image import imread

    pngs = [record.path for record in rendered[1] if record.path.suffix == ".png"]
    assert len(pngs) >= 4
    for path in pngs:
        assert_png(path)
        assert imread(path).ndim == 3


def test_every_svg_parses_as_xml_and_keeps_its_text_as_text(rendered):
    svgs = [record.path for record in rendered[1] if record.path.suffix == ".svg"]
    assert len(svgs) >= 4
    for path in svgs:
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg", path.name
        assert svg_text(path).strip(), f"{path.name} has no text elements"


def test_the_transformer_diagram_shows_encoder_decoder_inputs_and_outputs(lesson, rendered):
    out, records = rendered
    figure = lesson.figure("transformer")
    assert isinstance(figure, GraphFigure)
    svg = out / f"{figure_file_stem(lesson, figure)}.svg"
    assert "transformer" in svg.name
    words = svg_text(svg)
    for part in ("Masked", "self-attention", "encoder-decoder attention", "feed-forward", "Add & norm",
                 "Inputs", "Outputs", "Softmax", "Encoder layer", "Decoder layer", "The Transformer architecture",
                 "Vaswani et al. (2017)"):
        assert part in words, part
    assert "feed" in words.lower()
    titles = {element.text for element in ET.parse(svg).getroot().iter(f"{SVG}title")}
    assert {"cluster_encoder", "cluster_decoder"} <= titles  # drawn as Graphviz clusters
    assert_png(svg.with_suffix(".png"))


def test_charts_are_titled_labelled_annotated_and_cite_their_sources(lesson, rendered):
    out = rendered[0]
    growth = lesson.figure("parameter-growth")
    words = svg_text(out / f"{figure_file_stem(lesson, growth)}.svg")
    assert growth.title in words
    assert growth.x.label in words and growth.y.label in words
    for series in growth.series:
        assert series.name in words
        for point in series.points:
            assert point.label in words  # every point annotated
    assert "Sources: Vaswani et al. (2017)" in words and "Brown et al. (2020)" in words
    assert "100B" in words  # log axis ticks as counts, not 1e11
    assert "Illustration" not in words  # published data

    heatmap = lesson.figure("attention-example")
    words = svg_text(out / f"{figure_file_stem(lesson, heatmap)}.svg")
    assert words.count("Illustration") == 1  # the author's "Illustration:" is not doubled
    assert "Illustrative values, not measured data" in words
    assert heatmap.row_label in words and heatmap.column_label in words
    assert all(token in words for token in heatmap.rows)
    assert f"{heatmap.values[2][1]:.2f}" in words  # cells are annotated


LESSON_WITH_EVERY_KIND = LESSON.split("figures:\n")[0] + """\
figures:
  - id: growth
    kind: scatter_chart
    title: Sizes
    x: {label: Year, scale: linear}
    y: {label: Parameters, scale: log}
    sources: [paper]
    series:
      - name: Published
        points:
          - {x: 2018, y: 110000000, label: BERT-base, source: paper}
          - {x: 2018, y: 112000000, label: Nearly the same size, source: paper}
      - name: Guessed
        points:
          - {x: 2023, y: 1800000000000, label: Rumoured model, estimate: true}
  - id: curve
    kind: line_chart
    title: A made-up curve
    illustration: true
    sources: [paper]
    x: {label: Steps, scale: log}
    y: {label: Loss, scale: linear}
    series:
      - name: run
        points:
          - {x: 10, y: 5, label: start, source: paper}
          - {x: 10000, y: 2, label: end, source: paper}
  - id: sketch
    kind: image
    title: A sketch
    file: sketch.png
sources:
  - {id: paper, title: A paper, authors: "Ann, Bob & Cid", year: 2018, url: "https://example.org"}
exercises: [double]
"""


def test_estimates_are_hollow_and_labelled_illustrations_say_so_and_images_are_copied(tmp_path):
    from PIL import Image

    root = write_course(tmp_path / "course", lesson=LESSON_WITH_EVERY_KIND)
    Image.new("RGB", (320, 200), "white").save(root / "content" / "intro" / "sketch.png")
    lesson = load_course(root).lesson("intro")
    out = tmp_path / "out"
    records = render_lesson_figures(lesson, out)

    growth = ET.parse(out / "intro-growth.svg").getroot()
    words = svg_text(out / "intro-growth.svg")
    assert "Rumoured model (estimate)" in words and "BERT-base (estimate)" not in words
    assert "hollow: estimate" in words  # the legend explains the hollow marker
    groups = {g.get("id"): g for g in growth.iter(f"{SVG}g") if g.get("id")}
    hollow = [use.get("style") for use in groups["estimates-2"].iter(f"{SVG}use")]
    assert len(hollow) == 1 and hollow[0].startswith("fill: #ffffff")
    assert all("fill: #ffffff" not in use.get("style") for use in groups["points-1"].iter(f"{SVG}use"))
    assert "Source: Ann et al. (2018)" in words

    assert "Illustration: A made-up curve" in svg_text(out / "intro-curve.svg")
    assert (out / "intro-sketch.png").read_bytes() == (root / "content" / "intro" / "sketch.png").read_bytes()
    assert [r.kind for r in records if r.figure_id == "sketch"] == ["image"]
    for path in (out / "intro-growth.png", out / "intro-curve.png"):
        assert_png(path)


def test_course_figures_lists_every_file_it_writes(tmp_path):
    # PATH without this Python's scripts folder: the graphviz-pure program must still be found.
    scripts = {str(Path(sys.executable).parent), str(Path(shutil.which("course") or sys.executable).parent)}
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in scripts)
    env = {**os.environ, "PATH": path}
    env.pop(diagram.ENV_VAR, None)
    result = course("figures", "lesson-3", "--out", "figs", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    written = [Path(line) for line in result.stdout.splitlines()]
    assert written and all((tmp_path / p).is_file() for p in written)
    assert {p.suffix for p in written} == {".png", ".svg"}
    assert sorted(p.name for p in written) == sorted(p.name for p in (tmp_path / "figs").iterdir())
    if HAS_GRAPHVIZ_PURE or shutil.which("dot"):
        assert Path("figs/lesson-3-transformer.png") in written and result.stderr == ""


def test_course_figures_rejects_an_unknown_lesson_without_writing_anything(tmp_path):
    unknown = course("figures", "no-such-lesson", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "unknown lesson 'no-such-lesson'" in unknown.stderr and "Traceback" not in unknown.stderr
    assert not (tmp_path / "figures").exists()


def test_without_any_graphviz_the_dot_source_is_written_and_the_command_still_succeeds(tmp_path):
    env = {**os.environ, diagram.ENV_VAR: str(tmp_path / "nonexistent")}
    result = course("figures", "lesson-3", "--out", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    dot_file = tmp_path / "lesson-3-transformer.dot"
    assert str(dot_file) in result.stdout.splitlines()
    assert not (tmp_path / "lesson-3-transformer.png").exists()
    assert (tmp_path / "lesson-3-parameter-growth.png").is_file()  # the charts do not need Graphviz
    assert "transformer: wrote .dot only: no Graphviz program found" in result.stderr
    assert f"dot -Tpng -Gdpi=192 {dot_file}" in result.stderr
    source = dot_file.read_text()
    assert source.startswith("digraph transformer {") and "subgraph cluster_encoder" in source
    if HAS_GRAPHVIZ_PURE:  # what the note says to do works
        program = diagram._find_graphviz_pure()
        subprocess.run([str(program), "-Tpng", "-Gdpi=192", str(dot_file), "-o", str(tmp_path / "by-hand.png")],
                       check=True, timeout=60)
        assert_png(tmp_path / "by-hand.png")


def test_the_lookup_honours_the_environment_variable_and_finds_the_wheel_off_path(monkeypatch):
    assert diagram.find_dot_programs({diagram.ENV_VAR: "/nonexistent"}) == []
    monkeypatch.setenv("PATH", "")
    found = diagram.find_dot_programs({})
    if HAS_GRAPHVIZ_PURE:
        assert [p.origin for p in found] == ["graphviz-pure wheel"]
        chosen = diagram.find_dot_programs({diagram.ENV_VAR: str(found[0].path)})
        assert chosen == [diagram.DotProgram(found[0].path, "$COURSE_GRAPHVIZ_DOT")]


@needs_graphviz_pure
def test_graphviz_pure_draws_png_and_svg(lesson, tmp_path):
    program = diagram.DotProgram(diagram._find_graphviz_pure(), "graphviz-pure wheel")
    output = diagram.render_diagram(lesson.figure("transformer"), tmp_path / "t", programs=[program])
    assert output.note == "" and output.program == program
    assert [p.name for p in output.files] == ["t.png", "t.svg"]
    assert_png(tmp_path / "t.png")
    assert "Masked" in svg_text(tmp_path / "t.svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="no system Graphviz `dot` on PATH")
def test_a_system_graphviz_draws_png_and_svg(lesson, tmp_path):
    program = diagram.DotProgram(Path(shutil.which("dot")), "system Graphviz")
    output = diagram.render_diagram(lesson.figure("transformer"), tmp_path / "t", programs=[program])
    assert output.note == "", output.note
    assert_png(tmp_path / "t.png")
    assert "Masked" in svg_text(tmp_path / "t.svg")


@needs_posix
@needs_graphviz_pure
def test_a_program_that_cannot_write_png_leaves_the_svg_the_dot_source_and_a_note(lesson, tmp_path):
    """E.g. a system dot built without PNG support: what it can draw is kept, nothing crashes."""
    pure = diagram._find_graphviz_pure()
    fake = tmp_path / "svg-only-dot"
    fake.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do [ "$arg" = "-Tpng" ] && { echo \'Format: "png" not recognized\' >&2; exit 1; }; done\n'
        f'exec "{pure}" "$@"\n'
    )
    fake.chmod(0o755)
    output = diagram.render_diagram(
        lesson.figure("transformer"), tmp_path / "t", programs=[diagram.DotProgram(fake, "test")]
    )
    assert [p.name for p in output.files] == ["t.svg", "t.dot"]
    assert output.note.startswith("PNG not written (") and 'Format: "png" not recognized' in output.note
    assert f"dot -Tpng -Gdpi=192 {tmp_path / 't.dot'}" in output.note


def test_course_help_imports_no_drawing_library(tmp_path):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "course", "--help"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0 and "figures" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert not imported & {"numpy", "matplotlib", "PIL", "graphviz"}, imported & {"numpy", "matplotlib", "PIL", "graphviz"}


def test_small_bold_text_past_the_axes_is_kept_whole_in_the_png_and_the_svg(tmp_path):
    """course.plots.style.save measures the picture's box once, at the PNG's resolution: measured at the
    screen's, small bold text is hinted narrower and a label past the axes' right edge lost its end."""
    from PIL import Image

    from course.plots import style

    def figure():
        with style.themed():
            fig, ax = style.new_axes("A label past the right edge", "x", "y")
            ax.barh([0, 1], [1, 2])
            ax.text(2.05, 1, "124,401,408 (38,400 fewer, -0.0309%) = every LayerNorm: missing?", fontsize=7.5,
                    fontweight="bold", va="center", ha="left")
            style.finish(fig)
        return fig

    png, svg = style.save(figure(), tmp_path / "ours")
    fig = figure()
    with style.themed():
        fig.savefig(tmp_path / "tight.png", dpi=192, bbox_inches="tight", pad_inches=style.PAD_INCHES)
    style.pyplot().close(fig)
    with Image.open(png) as ours, Image.open(tmp_path / "tight.png") as tight:
        ours_inches, tight_inches = ours.size[0] / ours.info["dpi"][0], tight.size[0] / tight.info["dpi"][0]
        assert ours_inches >= tight_inches - 0.02, (ours.size, ours.info["dpi"], tight.size)  # matplotlib's own box
        assert ours.size[0] >= 1280
        right = ours.convert("L").crop((ours.size[0] - 10, 0, ours.size[0], ours.size[1]))
        assert right.getextrema()[0] > 200  # a white margin: no text reaches the edge
    assert "every LayerNorm: missing?" in svg.read_text()


def test_log_axes_write_their_powers_of_ten_as_plain_text(tmp_path):
    """kit.log_scale: ticks read 10³, as text in the SVG (matplotlib's own are TeX, parsed per tick)."""
    from course.numbers import power_of_ten
    from course.plots import kit, style

    assert [power_of_ten(v) for v in (1, 10, 1e6, 1e-6, 2.5e6, 1e152)] == ["1", "10¹", "10⁶", "10⁻⁶", "2.5M", "10¹⁵²"]
    with style.themed():
        fig, ax = style.new_axes("Log axis", "x (log scale)", "y")
        ax.plot([1, 10, 100, 1000], [1, 2, 3, 4])
        kit.log_scale(ax, "x")
        style.finish(fig)
        _, svg = style.save(fig, tmp_path / "log")
    words = " ".join(" ".join(t.itertext()) for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text"))
    assert "10³" in words and "10²" in words and "mathdefault" not in svg.read_text()
