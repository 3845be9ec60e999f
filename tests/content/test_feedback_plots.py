"""Feedback pictures drawn from real failing submissions: the exercises' own known-mistake
files, graded by the real sandbox, through `course check --plots` and through the API.

Every picture must be a PNG that decodes, of a size readable at 100 dpi; only failing
public cases get one, and a passing submission gets none.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import courserunner
import course
from course.grading.check import check_exercise
from course.grading.details import CheckDetails
from course.grading.expected import case_arguments, reference_outputs
from course.loader import load_course
from course.paths import builtin_root
from course.grading.hooks import feedback_module
from course.plots.feedback import feedback_plots

ROOT = builtin_root()
COURSE = load_course(ROOT)
# the probes and the trusted weights formula live with their exercises (exercises/<id>/feedback.py)
OVERFLOW_PROBE = feedback_module(COURSE.exercise("softmax")).OVERFLOW_PROBE
WEIGHTS_PROBE = feedback_module(COURSE.exercise("self_attention")).WEIGHTS_PROBE
attention_weights = feedback_module(COURSE.exercise("self_attention")).attention_weights
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
parameter_breakdown = feedback_module(COURSE.exercise("param_count")).parameter_breakdown  # param_count's own


def mistake_file(exercise_id: str, name: str) -> Path:
    return ROOT / "exercises" / exercise_id / "mistakes" / f"{name}.py"


def run_course(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8", COURSE_HOME=str(home))
    env.pop("COURSE_ROOT", None)
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=120)


def assert_png(path: Path) -> tuple[int, int]:
    """A real PNG: magic bytes, every pixel decodes, at least 1280 pixels wide (and not absurdly large)."""
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_MAGIC, path
    pixels = matplotlib.image.imread(path)
    height, width = pixels.shape[:2]
    assert 1280 <= width <= 4000 and 150 <= height <= 3000, (path.name, width, height)
    assert pixels.std() > 0.01, f"{path.name} is blank"
    return width, height


def graded(exercise_id: str, mistake: str) -> tuple[object, CheckDetails]:
    exercise = COURSE.exercise(exercise_id)
    details = CheckDetails()
    source = mistake_file(exercise_id, mistake).read_text()
    result = check_exercise(COURSE, exercise, source, filename=f"{mistake}.py", details=details)
    return result, details


def failing_public(result) -> list[str]:
    return [c.name for c in result.cases if not c.passed and c.visibility == "public"]


# --------------------------------------------------------------------------- through the command


@pytest.fixture(scope="module")
def softmax_overflow(tmp_path_factory):
    """`course check softmax <no_max_subtraction mistake> --plots DIR --html FILE`, run once."""
    folder = tmp_path_factory.mktemp("softmax-cli")
    done = run_course("check", "softmax", str(mistake_file("softmax", "no_max_subtraction")),
                      "--plots", "plots", "--html", "report.html", cwd=folder, home=folder / "home")
    return done, folder / "plots", folder / "report.html"


def test_check_plots_draws_the_softmax_bars_and_overflow_of_the_failing_public_case(softmax_overflow):
    done, plots, html = softmax_overflow
    assert done.returncode == 1, done.stdout + done.stderr
    assert "large_logits: contains" in done.stdout  # the report itself is unchanged
    assert "Pictures: 2 in plots (PNG, and an SVG beside each)" in done.stdout
    assert "HTML report: report.html" in done.stdout
    names = sorted(path.name for path in plots.iterdir())
    assert names == ["softmax-large_logits-bars.png", "softmax-large_logits-bars.svg",
                     "softmax-large_logits-overflow.png", "softmax-large_logits-overflow.svg"]
    for path in plots.glob("*.png"):
        assert_png(path)
        assert path.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    assert html.is_file()


def test_the_overflow_probe_finds_where_exp_overflows(home):
    result, details = graded("softmax", "no_max_subtraction")
    assert failing_public(result) == ["large_logits"]
    probes = details.cases["large_logits"].probes[OVERFLOW_PROBE]
    finite = {float(np.max(np.abs(args[0]))): bool(np.isfinite(outcome.value).all()) for args, _, outcome in probes}
    broken = min(m for m, ok in finite.items() if not ok)
    assert all(finite[m] for m in finite if m < 709)  # exp(x) is finite below ~709.78
    assert 709 < broken < 1000, broken


def test_json_output_stays_parseable_with_plots(tmp_path, home):
    done = run_course("check", "causal_mask", str(mistake_file("causal_mask", "upper_triangular")),
                      "--format", "json", "--plots", str(tmp_path / "plots"), cwd=tmp_path, home=home)
    assert done.returncode == 1
    import json

    assert json.loads(done.stdout)["passed"] is False  # the picture summary went to stderr
    assert "Pictures: 1 in" in done.stderr
    assert_png(tmp_path / "plots" / "causal_mask-length_4-matrix.png")


# --------------------------------------------------------------------------- through the API


def test_self_attention_weights_and_error_through_the_api(tmp_path, home):
    plots = tmp_path / "plots"
    result = course.check("self_attention", mistake_file("self_attention", "mask_with_zero"), plots=plots,
                          html=tmp_path / "report.html")
    assert failing_public(result) == ["causal_mask_broadcast"]
    names = sorted(path.name for path in plots.glob("*.png"))
    assert names == ["self_attention-causal_mask_broadcast-error.png",
                     "self_attention-causal_mask_broadcast-weights.png"]
    assert sorted(path.name for path in plots.glob("*.svg")) == [n.replace(".png", ".svg") for n in names]
    width, _ = assert_png(plots / names[1])
    assert width >= 800  # three heatmaps side by side
    assert (tmp_path / "report.html").is_file()


def test_the_identity_probe_returns_the_students_attention_weights(home):
    _, details = graded("self_attention", "mask_with_zero")
    case = details.cases["causal_mask_broadcast"]
    (args, kwargs, outcome), = case.probes[WEIGHTS_PROBE]
    mask = kwargs["mask"]
    weights = outcome.value
    assert weights.shape == (2, 5, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    assert (weights[..., ~mask] > 0).all()  # the mistake: masked keys keep weight
    assert not (attention_weights(args[0], args[1], mask)[..., ~mask]).any()


def test_the_trusted_attention_weights_reproduce_the_reference_outputs():
    exercise = COURSE.exercise("self_attention")
    public = [c for c in exercise.cases if c.visibility == "public"]
    arguments = case_arguments(public)
    expected = reference_outputs(exercise, arguments)
    for name, (args, kwargs) in arguments.items():
        weights = attention_weights(args[0], args[1], kwargs.get("mask"))
        np.testing.assert_allclose(weights @ args[2], expected[name], rtol=1e-9, atol=1e-12)


def test_parameter_breakdown_sums_to_the_published_totals_and_to_every_reference_count():
    gpt2_small = dict(arch="gpt", n_layers=12, d_model=768, n_heads=12, d_ff=3072, vocab_size=50257,
                      max_positions=1024)
    bert_base = dict(arch="bert", n_layers=12, d_model=768, n_heads=12, d_ff=3072, vocab_size=30522,
                     max_positions=512)
    assert sum(parameter_breakdown(gpt2_small).values()) == 124_439_808
    assert sum(parameter_breakdown(bert_base).values()) == 109_482_240
    assert parameter_breakdown(gpt2_small)["head"] == 0  # tied
    llama_7b = dict(arch="llama", n_layers=32, d_model=4096, n_heads=32, d_ff=11008, vocab_size=32000)
    assert sum(parameter_breakdown(llama_7b).values()) == 6_738_415_616
    assert parameter_breakdown(llama_7b)["head"] == 32000 * 4096  # untied
    exercise = COURSE.exercise("param_count")
    arguments = case_arguments(list(exercise.cases))
    for name, count in reference_outputs(exercise, arguments).items():
        assert sum(parameter_breakdown(arguments[name][0][0]).values()) == int(count), name


def test_param_count_breakdown_per_failing_config_and_the_model_size_chart(tmp_path, home):
    result, details = graded("param_count", "missing_layernorms")
    paths = feedback_plots(COURSE.exercise("param_count"), details, tmp_path)
    assert details.notes == []
    expected = {f"param_count-{name}-breakdown.png" for name in failing_public(result)}
    expected.add("param_count-failing_configs-model_sizes.png")
    assert {path.name for path in paths} == expected
    for path in paths:
        assert_png(path)


@pytest.mark.parametrize("exercise_id, mistake, kind", [
    ("layer_norm", "unbiased_variance", "rows"),
    ("causal_mask", "excludes_diagonal", "matrix"),
    ("positional_encoding", "wrong_base", "heatmaps"),
    ("layer_norm", "modifies_input_in_place", "inputs"),
    ("multi_head_attention", "heads_without_transpose", "heads"),
    ("transformer_block", "post_layer_norm", "residual"),
    ("cross_entropy", "perplexity_base_2", "perplexity"),
    ("kv_cache", "cache_not_kept", "steps"),
    ("sampling", "returns_sorted_index", "draws"),
    ("sampling", "multiplies_by_temperature", "distribution"),
    ("tiny_gpt", "no_causal_mask", "positions"),
])
def test_each_additional_exercise_gets_its_picture_per_failing_public_case(exercise_id, mistake, kind, tmp_path,
                                                                           home):
    result, details = graded(exercise_id, mistake)
    paths = feedback_plots(COURSE.exercise(exercise_id), details, tmp_path)
    assert details.notes == []
    assert failing_public(result)
    assert sorted(p.name for p in paths) == sorted(f"{exercise_id}-{n}-{kind}.png" for n in failing_public(result))
    for path in paths:
        assert_png(path)


# --------------------------------------------------------------------------- what gets no picture


def test_a_passing_submission_gets_no_pictures(tmp_path, home):
    plots = tmp_path / "plots"
    result = course.check("softmax", ROOT / "exercises" / "softmax" / "reference.py", plots=plots)
    assert result.passed
    assert list(plots.glob("*")) == []


def test_hidden_cases_leave_no_arrays_and_get_no_pictures(tmp_path, home):
    result, details = graded("softmax", "integer_output")  # fails the hidden integer_logits case only
    assert not result.passed and failing_public(result) == []
    hidden = {c.name for c in COURSE.exercise("softmax").cases if c.visibility == "hidden"}
    assert set(details.hidden) == hidden
    assert not hidden & set(details.cases)  # no inputs, expected values or outputs kept for them
    assert feedback_plots(COURSE.exercise("softmax"), details, tmp_path) == []


def test_pictures_of_an_earlier_check_are_replaced(tmp_path, home):
    plots = tmp_path / "plots"
    plots.mkdir()
    stale = plots / "causal_mask-length_1-matrix.png"
    stale.write_bytes(PNG_MAGIC)
    (plots / "causal_mask-length_1-matrix.svg").write_text("<svg/>")
    mine = plots / "notes-length_1-matrix.png"
    mine.write_bytes(b"not ours")
    course.check("causal_mask", mistake_file("causal_mask", "upper_triangular"), plots=plots)
    assert sorted(p.name for p in plots.iterdir()) == ["causal_mask-length_4-matrix.png",
                                                       "causal_mask-length_4-matrix.svg", mine.name]


def test_matplotlib_is_imported_only_when_a_picture_is_drawn(tmp_path):
    code = (
        "import sys, course, course.plots.feedback, course.plots.progress, course.reports.html\n"
        f"result = course.check('softmax', {str(mistake_file('softmax', 'wrong_axis'))!r})\n"
        "assert not result.passed\n"
        "print('matplotlib' in sys.modules)\n"
    )
    env = dict(os.environ, COURSE_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_loss_that_overflows_also_gets_the_picture_of_where_it_breaks(tmp_path, home):
    result, details = graded("cross_entropy", "no_max_subtraction")
    paths = feedback_plots(COURSE.exercise("cross_entropy"), details, tmp_path)
    assert details.notes == []
    assert sorted(p.name for p in paths) == ["cross_entropy-extreme_logits-perplexity.png",
                                             "cross_entropy-extreme_logits-stability.png"]
    for path in paths:
        assert_png(path)


def test_the_heads_picture_says_when_every_head_is_right(tmp_path, home):
    """no_output_projection: the probe (W_o = I) shows the student's heads equal the expected ones."""
    feedback = feedback_module(COURSE.exercise("multi_head_attention"))
    result, details = graded("multi_head_attention", "no_output_projection")
    case = details.cases["two_heads"]
    probe = case.probes[feedback.HEADS_PROBE][0][2]
    np.testing.assert_allclose(probe.value, feedback.expected_heads(case), rtol=1e-9, atol=1e-12)
    paths = feedback_plots(COURSE.exercise("multi_head_attention"), details, tmp_path)
    assert details.notes == [] and len(paths) == 3
@pytest.mark.parametrize("exercise_id", ["softmax", "self_attention", "layer_norm", "causal_mask",
                                         "positional_encoding"])
def test_the_exercises_own_feedback_supplies_their_pictures(exercise_id):
    from course.grading.hooks import load_error

    exercise = COURSE.exercise(exercise_id)
    assert load_error(exercise) == ""
    module = feedback_module(exercise)
    assert callable(module.panels) and module.CAPTIONS


def test_pictures_only_embedded_in_a_page_are_drawn_without_their_svg(tmp_path, home):
    """`course check --html` without --plots draws into a scratch folder for the page, which embeds
    PNGs: no SVG is drawn for it (services.checking.write_feedback)."""
    result, details = graded("layer_norm", "unbiased_variance")
    paths = feedback_plots(COURSE.exercise("layer_norm"), details, tmp_path / "page-only", svg=False)
    assert paths and sorted(p.name for p in (tmp_path / "page-only").iterdir()) == sorted(p.name for p in paths)
    assert {p.suffix for p in (tmp_path / "page-only").iterdir()} == {".png"}
    for path in paths:
        assert_png(path)
    html = tmp_path / "report.html"
    course.check("layer_norm", mistake_file("layer_norm", "unbiased_variance"), html=html)
    assert html.read_text().count("data:image/png;base64,") == len(paths)  # every picture still on the page
