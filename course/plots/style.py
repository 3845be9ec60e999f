"""The look of every picture the course draws, in one place: colours, sizes, fonts, saving.

The constants (palette, sizes) cost nothing to import, so the Graphviz diagrams use
them too. matplotlib (about a second to import) is loaded only by the functions
that draw: `pyplot()` selects the Agg backend before pyplot is loaded, so drawing
works without a display (CI, ssh); when pyplot is already loaded (a notebook), the
user's backend is left alone. Settings apply inside `themed()` only, so a
notebook's own rcParams are not changed.
"""
from __future__ import annotations

import contextlib
import contextvars
import sys
import textwrap
from pathlib import Path

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# Series order: strong colours first; yellow (hard to see on white) last.
SERIES_COLOURS = tuple(
    OKABE_ITO[name]
    for name in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "black", "yellow")
)
# A second cue besides colour, for grey-scale prints and for readers who cannot tell two colours apart.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
# Sequential map for heatmaps: cividis is built to read the same with colour-vision deficiencies.
SEQUENTIAL_CMAP = "cividis"
# Diverging map for signed differences ("yours - expected"): Okabe-Ito blue, white, vermillion.
DIVERGING_COLOURS = (OKABE_ITO["blue"], "#FFFFFF", OKABE_ITO["vermillion"])
# Roles that every feedback picture uses the same way.
EXPECTED_COLOUR = OKABE_ITO["blue"]
YOURS_COLOUR = OKABE_ITO["vermillion"]
NEUTRAL_COLOUR = "#DDDDDD"  # False cells, empty bars
MASKED_HATCH = "///"  # cells a mask blocks

DPI = 100  # layout: sizes in points become pixels on screen at this density
FIGSIZE = (6.4, 4.0)  # inches
PNG_DPI = 2 * DPI  # at least: see _saved_area
MIN_PNG_WIDTH = 1280  # pixels: every PNG is saved at least this wide (sharp on dense screens and slides)
PAD_INCHES = 0.1
TITLE_WIDTH = 62  # characters per title line before wrapping
FOOTNOTE_WIDTH = 115
FOOTNOTE_SIZE = 7  # points


def tint(colour: str, strength: float) -> str:
    """`colour` mixed with white: strength 1 is the colour itself, 0 is white (fills behind black text)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(255 - (255 - c) * strength) for c in (red, green, blue)]
    return "#" + "".join(f"{c:02X}" for c in mix)


def pyplot():
    """matplotlib.pyplot, with the Agg backend chosen first unless pyplot is already loaded."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rc() -> dict:
    from cycler import cycler  # a matplotlib dependency

    return {
        "figure.figsize": FIGSIZE,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "font.size": 9,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "legend.framealpha": 0.9,
        "axes.prop_cycle": cycler(color=SERIES_COLOURS),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.6,
        "image.cmap": SEQUENTIAL_CMAP,
        "svg.fonttype": "none",  # text stays text in SVG: searchable, selectable, small
        "svg.hashsalt": "course",  # stable element ids: the same figure gives the same file
    }


def themed():
    """Context manager: draw (and save) inside it to get the course's look."""
    import matplotlib

    pyplot()
    return matplotlib.rc_context(_rc())


def new_axes(
    title: str, xlabel: str, ylabel: str, figsize: tuple[float, float] = FIGSIZE, title_width: int = TITLE_WIDTH
):
    """A figure with one axes, titled and labelled: every picture says what it shows."""
    if not (title.strip() and xlabel.strip() and ylabel.strip()):
        raise ValueError("a figure needs a title and both axis labels")
    fig, ax = pyplot().subplots(figsize=figsize, dpi=DPI)
    ax.set_title(wrap(title, title_width))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def new_panels(
    title: str, panels: int, figsize: tuple[float, float], *, rows: int = 1, title_width: int = 100, **subplots
):
    """A figure of `rows` x `panels` axes under one title; each panel gets its own labels (`label`)."""
    if not title.strip():
        raise ValueError("a figure needs a title")
    fig, axes = pyplot().subplots(rows, panels, figsize=figsize, dpi=DPI, squeeze=False, **subplots)
    fig.suptitle(wrap(title, title_width), fontsize=11, fontweight="bold")
    return fig, [ax for row in axes for ax in row]


def label(ax, title: str, xlabel: str, ylabel: str) -> None:
    """Title and both axis labels of one panel: none may be empty."""
    if not (title.strip() and xlabel.strip() and ylabel.strip()):
        raise ValueError("a panel needs a title and both axis labels")
    ax.set_title(title, fontsize=9.5, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def diverging_cmap():
    """The colour map for signed differences, centred on white."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("course_diverging", DIVERGING_COLOURS)


def wrap(text: str, width: int) -> str:
    """`text` in lines of at most `width` characters, balanced (no one-word last line)."""
    lines = textwrap.wrap(text, width, break_on_hyphens=False)
    if len(lines) < 2:
        return text
    for narrower in range(-(-len(text) // max(len(lines), 1)), width):
        balanced = textwrap.wrap(text, narrower, break_on_hyphens=False)
        if len(balanced) == len(lines):
            lines = balanced
            break
    return "\n".join(lines)


def finish(fig, footnote: str = "", *, legend_handles=None, legend_columns: int = 0) -> None:
    """Lay the figure out, with `footnote` (e.g. the sources) in small type along the bottom.

    `legend_handles` become a legend along the bottom, above the footnote (a key shared by
    several panels, or a chart's key kept off its data), in rows of `legend_columns`
    (default: one row).
    """
    bottom = 0.0
    height_points = fig.get_figheight() * 72
    if footnote:
        width = max(FOOTNOTE_WIDTH, int(FOOTNOTE_WIDTH * fig.get_figwidth() / FIGSIZE[0]))  # wide figures: longer lines
        text = wrap(footnote, width)
        fig.text(0.01, 0.01, text, fontsize=FOOTNOTE_SIZE, color="#444444", ha="left", va="bottom")
        lines = text.count("\n") + 1
        bottom = (lines * FOOTNOTE_SIZE * 1.35 + 6) / height_points
    if legend_handles:
        columns = legend_columns if legend_columns else len(legend_handles)
        rows = -(-len(legend_handles) // columns)
        fig.legend(handles=legend_handles, loc="lower center", ncol=columns, fontsize=8,
                   bbox_to_anchor=(0.5, bottom), frameon=False)
        bottom += (10 + 14 * rows) / height_points
    # tight_layout leaves room for a figure title itself; panels of fixed aspect (square cells)
    # move their labels during the first pass, so such figures get a second one.
    passes = 2 if len(fig.axes) > 1 and any(ax.get_aspect() != "auto" for ax in fig.axes) else 1
    with _at_dpi(fig, PNG_DPI):  # laid out at the PNG's resolution: _tight_box then reuses the text it measured
        for _ in range(passes):
            fig.tight_layout(rect=(0, bottom, 1, 1))


def _saved_area(fig):
    """The figure's tight bounding box (inches), padded, and the PNG resolution that makes it at least
    MIN_PNG_WIDTH pixels wide.

    Measured once and passed to every savefig: `bbox_inches="tight"` would lay all the text out twice
    more per file, which is most of the time a picture takes. It is measured at the PNG's resolution:
    at the screen's, small text is hinted narrower, and a label at the edge would be cut off.
    """
    import math

    fig.set_layout_engine(None)  # finish() has laid it out; a placeholder engine would redo it per file
    dpi = PNG_DPI
    box = _tight_box(fig, dpi)
    needed = math.ceil((MIN_PNG_WIDTH + 2) / max(box.width, 0.5))
    if needed > dpi:  # a narrow picture: drawn finer, and measured again at that resolution
        dpi = needed
        box = _tight_box(fig, dpi)
    return box, dpi


def _tight_box(fig, dpi: int):
    with _at_dpi(fig, dpi):
        return fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_INCHES)


@contextlib.contextmanager
def _at_dpi(fig, dpi: float):
    """`fig` at resolution `dpi` inside, as it was after. The canvas keeps its renderer while the size
    and resolution stay the same, and matplotlib caches text sizes per renderer."""
    saved = fig.dpi
    fig.dpi = dpi
    try:
        yield
    finally:
        fig.dpi = saved


def save_file(fig, path: str | Path) -> Path:
    """Write exactly `path` (PNG, or SVG when it ends in .svg), close the figure, return the path."""
    path = Path(path)
    try:
        box, dpi = _saved_area(fig)
        if path.suffix.lower() == ".svg":
            fig.savefig(path, format="svg", bbox_inches=box, metadata={"Date": None})
        else:
            fig.savefig(path, format="png", dpi=dpi, bbox_inches=box)
    finally:
        pyplot().close(fig)
    return path


# Whether save() writes an SVG beside each PNG when its caller does not say (png_only() turns it off).
_WITH_SVG: contextvars.ContextVar[bool] = contextvars.ContextVar("with_svg", default=True)


@contextlib.contextmanager
def png_only():
    """Inside it, save() writes the PNG alone: for pictures only embedded in a page (an SVG nobody keeps
    costs a third of a picture's time)."""
    token = _WITH_SVG.set(False)
    try:
        yield
    finally:
        _WITH_SVG.reset(token)


def save(fig, path: str | Path, *, svg: bool | None = None) -> list[Path]:
    """Write `path` as PNG (at least MIN_PNG_WIDTH wide) and an SVG beside it (unless svg=False, or
    inside png_only()); close the figure; return the files written, the PNG first.

    `path` may carry a .png/.svg suffix or none. Nothing is cut off (tight bounding box);
    the SVG carries no date, so re-running gives the same bytes.
    """
    svg = _WITH_SVG.get() if svg is None else svg
    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    written = []
    try:
        box, dpi = _saved_area(fig)
        png = base.with_name(base.name + ".png")
        fig.savefig(png, format="png", dpi=dpi, bbox_inches=box)
        written.append(png)
        if svg:
            vector = base.with_name(base.name + ".svg")
            fig.savefig(vector, format="svg", bbox_inches=box, metadata={"Date": None})
            written.append(vector)
    finally:
        pyplot().close(fig)
    return written
