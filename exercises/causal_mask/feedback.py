"""causal_mask's picture: the expected and the student's boolean matrices, and the cells that differ.

Trusted instructor code of this exercise (course.grading.hooks): loaded in the grader,
never in the sandbox, and called for public cases only.
"""
from __future__ import annotations

from pathlib import Path

from course.plots import kit, style

CAPTIONS = {"matrix": "expected vs your mask and the cells that differ"}


def panels(case):
    return [("matrix", _mask_matrix)]


def _mask_matrix(exercise, case, target: Path) -> Path | None:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    np = kit.numpy()
    expected = np.asarray(case.expected)
    yours = np.asarray(case.got.value)
    if yours.ndim != 2 or yours.size > kit.MAX_CELLS or expected.ndim != 2:
        return None
    cmap = ListedColormap([style.NEUTRAL_COLOUR, style.EXPECTED_COLOUR])
    fig, axes = style.new_panels(kit.figure_title(exercise, case, "expected vs your mask"), 3, (10.0, 3.7))
    dtype_note = "" if yours.dtype == np.bool_ else f" (dtype {yours.dtype}, not bool)"
    for ax, matrix, title in ((axes[0], expected, "Expected (bool)"), (axes[1], yours, f"Yours{dtype_note}")):
        truthy = matrix.astype(bool) if matrix.dtype.kind in "biu" else (np.nan_to_num(matrix) != 0)
        ax.imshow(truthy.astype(float), cmap=cmap, vmin=0, vmax=1, aspect="equal")
        kit.heatmap_axes(ax)
        if kit.annotated(matrix):
            for (row, column), value in np.ndenumerate(matrix):
                text = ("T" if value else "F") if matrix.dtype == np.bool_ else f"{value:g}"
                ax.text(column, row, text, ha="center", va="center", fontsize=7,
                        color="white" if truthy[row, column] else "black")
        style.label(ax, title, "Key position (column)", "Query position (row)")
        kit.integer_ticks(ax, *matrix.shape)
    diff_ax = axes[2]
    if yours.shape != expected.shape:
        style.label(diff_ax, "Cells that differ", "Key position (column)", "Query position (row)")
        kit.note_panel(diff_ax, f"shapes differ: yours {tuple(yours.shape)}, expected {tuple(expected.shape)}")
    else:
        differ = yours.astype(bool) != expected if yours.dtype.kind in "biu" else (np.nan_to_num(yours) != 0) != expected
        diff_ax.imshow(differ.astype(float), cmap=ListedColormap(["white", style.YOURS_COLOUR]), vmin=0, vmax=1,
                       aspect="equal")
        kit.heatmap_axes(diff_ax)
        if kit.annotated(differ):
            for row, column in zip(*np.nonzero(differ)):
                diff_ax.text(column, row, "✗", ha="center", va="center", fontsize=8, color="white")
        style.label(diff_ax, f"Cells that differ: {int(differ.sum())} of {differ.size}",
                    "Key position (column)", "Query position (row)")
        kit.integer_ticks(diff_ax, *differ.shape)
        for spine in diff_ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#888888")
        if not differ.any():
            diff_ax.text(0.5, 0.5, "none: the pattern is right", ha="center", va="center", fontsize=8.5,
                         transform=diff_ax.transAxes, color="#333333")
    legend = [Patch(color=style.EXPECTED_COLOUR, label="True: may attend"),
              Patch(color=style.NEUTRAL_COLOUR, label="False: blocked"),
              Patch(color=style.YOURS_COLOUR, label="differs from the expected")]
    style.finish(fig, kit.headline(case.message, 230), legend_handles=legend)
    return style.save(fig, target)[0]

