"""The HTML report as a browser shows it: headless Chromium (Debian's `chromium`) opens a
real report at 1280 and at 400 pixels wide; every picture loads and can be seen, and
nothing runs past the window's edge.

The report has no scripts; the test opens a copy with one measuring script added, in a
frame of exactly the width under test (a headless window is at least 500 pixels wide),
and reads what the script found from the DOM Chromium dumps (`--dump-dom`). A
screenshot at each width must not be blank. Skipped, with the reason, where Chromium is
not installed (.ci/run installs it).
"""
from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from course.paths import builtin_root

CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")]

MEASURE = """
<script>
window.addEventListener("load", function () {
  var width = document.documentElement.clientWidth, out = {width: width, images: [], overflowing: []};
  out.scrollWidth = document.documentElement.scrollWidth;
  var all = document.body.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i], box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (box.width === 0 && box.height === 0) continue;
    var name = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
    if (box.right > width + 0.5 || box.left < -0.5)
      out.overflowing.push(name + " spans " + Math.round(box.left) + " to " + Math.round(box.right));
    if (el.scrollWidth > el.clientWidth + 1 && style.display !== "inline")
      out.overflowing.push(name + " holds " + el.scrollWidth + " px in " + el.clientWidth + " px");
  }
  for (var j = 0; j < document.images.length; j++) {
    var img = document.images[j];
    img.scrollIntoView({block: "center"});
    var r = img.getBoundingClientRect();
    var top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    out.images.push({alt: img.alt, loaded: img.complete && img.naturalWidth > 0, naturalWidth: img.naturalWidth,
                     width: r.width, height: r.height, left: r.left, right: r.right, onTop: top === img});
  }
  window.scrollTo(0, 0);
  parent.postMessage(JSON.stringify(out), "*");
});
</script>
"""

FRAME = """<!DOCTYPE html>
<html><head><meta charset="utf-8"/><style>body {{ margin: 0; }} iframe {{ border: 0; display: block; }}</style>
</head><body>
<iframe src="{src}" style="width: {width}px; height: {height}px"></iframe>
<script>
window.addEventListener("message", function (event) {{
  var pre = document.createElement("pre");
  pre.id = "layout-check";
  pre.textContent = event.data;
  document.body.appendChild(pre);
}});
</script>
</body></html>
"""


def framed(report: Path, folder: Path, width: int, height: int, *, measured: bool) -> Path:
    """A page showing (a measuring copy of) the report in a frame exactly `width` pixels wide."""
    inner = folder / "report-in-frame.html"
    text = report.read_text(encoding="utf-8")
    inner.write_text(text.replace("</body>", MEASURE + "</body>") if measured else text, encoding="utf-8")
    outer = folder / "frame.html"
    outer.write_text(FRAME.format(src=inner.name, width=width, height=height), encoding="utf-8")
    return outer


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--allow-file-access-from-files", f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A real report with pictures: two exercises a student got wrong, on one page."""
    from course.api import new_details, write_feedback
    from course.grading.check import check_exercise
    from course.loader import load_course
    from course.reports.html import write_page

    folder = tmp_path_factory.mktemp("report")
    os.environ.setdefault("COURSE_HOME", str(folder / "home"))
    root = builtin_root()
    loaded = load_course(root)
    results, plots = [], {}
    for exercise_id, mistake in (("softmax", "no_max_subtraction"), ("self_attention", "mask_with_zero"),
                                 ("param_count", "missing_layernorms")):
        exercise = loaded.exercise(exercise_id)
        details = new_details()
        source = (root / "exercises" / exercise_id / "mistakes" / f"{mistake}.py").read_text()
        result = check_exercise(loaded, exercise, source, filename=f"a-rather-long-folder-name/{exercise_id}.py",
                                details=details)
        pictures = write_feedback(result, exercise, details, plots=folder / "plots")
        results.append(result)
        plots[exercise_id] = [p for p in pictures if p.suffix == ".png"]
    assert all(plots.values())
    return write_page(folder / "report.html", results, title="Check report", plots=plots, student="ada")


@pytest.mark.parametrize("width", [1280, 400])
def test_the_report_renders_every_picture_visible_and_nothing_overflows(report, width, tmp_path):
    page = framed(report, tmp_path, width, 900, measured=True)
    done = chromium(f"--window-size={max(width, 500) + 40},960", "--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '<pre id="layout-check">' in done.stdout, done.stderr[-2000:]
    found = json.loads(html.unescape(done.stdout.split('<pre id="layout-check">', 1)[1].split("</pre>", 1)[0]))
    assert found["width"] == width
    assert (found["scrollWidth"], found["overflowing"]) == (width, []), \
        "the page runs past the window's edge:\n" + "\n".join(found["overflowing"])
    images = found["images"]
    assert len(images) >= 5
    for image in images:
        assert image["loaded"] and image["naturalWidth"] >= 1280, image
        assert image["width"] > 100 and image["height"] > 50, image
        assert image["left"] >= 0 and image["right"] <= width, image
        assert image["onTop"], f"hidden behind something: {image['alt']}"


@pytest.mark.parametrize("width", [1280, 400])
def test_a_screenshot_of_the_report_is_not_blank(report, width, tmp_path):
    shot = tmp_path / "shot.png"
    window = max(width, 500)
    page = framed(report, tmp_path, width, 1200, measured=False)
    done = chromium(f"--window-size={window},1200", f"--screenshot={shot}", page.as_uri(), tmp_path=tmp_path)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[1] == window
    shown = pixels[:, :width]  # the frame: the report at the width under test
    assert shown.std() > 0.05  # text, tables and pictures, not an empty page
    assert (shown[:, :, :3] < 0.5).mean() > 0.01  # dark ink: words were drawn
