"""How long does saving a feedback picture (PNG and SVG) take, against matplotlib's own tight save?

    .venv/bin/python bench/picture_save.py [--runs 3]

In the same run, on the same figures: the built-in exercises' feedback pictures for one known
mistake each (graded once, by the real sandbox), each figure laid out by its exercise's
feedback.py, then saved

- as course.plots.style.save saves it: the tight bounding box measured once, and that box given
  to the PNG and the SVG (course/plots/style.py: _saved_area);
- as a baseline, the way it was saved before: `bbox_inches="tight"` for each file, which lays
  all the text out again twice per file (once more for the PNG's resolution).

Both write the same files (the PNG at least 1280 pixels wide, the SVG with text as text). It
prints the CPU seconds of each way (median of --runs) and the ratio.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course.grading.check import check_exercise  # noqa: E402
from course.grading.details import CheckDetails  # noqa: E402
from course.loader import load_course  # noqa: E402
from course.plots import feedback, style  # noqa: E402

MISTAKES = [("layer_norm", "unbiased_variance"), ("causal_mask", "excludes_diagonal"),
            ("positional_encoding", "wrong_base"), ("multi_head_attention", "heads_without_transpose"),
            ("transformer_block", "post_layer_norm"), ("cross_entropy", "perplexity_base_2"),
            ("kv_cache", "cache_not_kept"), ("sampling", "returns_sorted_index"), ("param_count", "missing_layernorms"),
            ("softmax", "no_max_subtraction"), ("self_attention", "mask_with_zero")]


def tight_save(fig, path, *, svg: bool = True) -> list[Path]:
    """The baseline: matplotlib's tight box, measured again for every file."""
    base = Path(path).with_suffix("")
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    dpi = max(2 * style.DPI, math.ceil((style.MIN_PNG_WIDTH + 2) / max(box.width + 2 * style.PAD_INCHES, 0.5)))
    written = [base.with_name(base.name + ".png")]
    try:
        fig.savefig(written[0], format="png", dpi=dpi, bbox_inches="tight", pad_inches=style.PAD_INCHES)
        if svg:
            written.append(base.with_name(base.name + ".svg"))
            fig.savefig(written[1], format="svg", bbox_inches="tight", pad_inches=style.PAD_INCHES,
                        metadata={"Date": None})
    finally:
        style.pyplot().close(fig)
    return written


def draw_all(graded, out: Path) -> int:
    return sum(len(feedback.feedback_plots(exercise, details, out)) for exercise, details in graded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    course = load_course(ROOT)
    graded = []
    for exercise_id, mistake in MISTAKES:
        exercise = course.exercise(exercise_id)
        details = CheckDetails()
        source = (exercise.folder / "mistakes" / f"{mistake}.py").read_text()
        check_exercise(course, exercise, source, filename=f"{mistake}.py", details=details)
        graded.append((exercise, details))
    with tempfile.TemporaryDirectory() as folder:
        pictures = draw_all(graded, Path(folder) / "warm-up")  # matplotlib's imports and font cache
        times: dict[str, list[float]] = {"once": [], "tight": []}
        own_save = style.save
        for run in range(options.runs):
            for way in ("once", "tight"):
                style.save = own_save if way == "once" else tight_save
                started = time.process_time()
                draw_all(graded, Path(folder) / f"{way}-{run}")
                times[way].append(time.process_time() - started)
        style.save = own_save
    once, tight = statistics.median(times["once"]), statistics.median(times["tight"])
    print(f"{pictures} feedback pictures of {len(MISTAKES)} exercises, drawn and saved as PNG and SVG:")
    print(f"one measured box: {once:.2f} s of CPU; bbox_inches='tight' per file: {tight:.2f} s; ratio {once / tight:.2f}")


if __name__ == "__main__":
    main()
