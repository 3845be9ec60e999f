"""The tiny GPT capstone's shipped weights (exercises/tiny_gpt/weights.npz) reproduce what
PyTorch computed with them, and the exercise built on them is consistent.

tools/train_tiny_gpt.py wrote weights.npz and, from the same arrays,
tests/content/data/tiny_gpt_check_logits.npz: PyTorch's logits for a few fixed prompts (float32 and
float64 arithmetic) and PyTorch's greedy continuation of a prompt. Nothing here needs
PyTorch. References, mistakes and the feedback helpers are trusted instructor code, so they
run in-process; the sandboxed check (and its showcase) is tests/test_tiny_gpt_showcase.py.
"""
from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from course.grading.compare import Observed, compare_case
from course.grading.expected import case_arguments
from course.grading.hooks import feedback_module
from course.grading.sandbox.records import CallStatus
from course.loader import load_course

OK = CallStatus.OK

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "exercises" / "tiny_gpt"
WEIGHTS = STAGE / "weights.npz"
CHECK_LOGITS = Path(__file__).resolve().parent / "data" / "tiny_gpt_check_logits.npz"
DOCS = ROOT / "docs" / "tiny_gpt.md"
MAX_BYTES = 2_000_000  # "at most 2 MB"


@functools.lru_cache(maxsize=None)
def _exercise():
    return load_course(ROOT).exercise("tiny_gpt")


@functools.lru_cache(maxsize=None)
def _module(path: Path) -> ModuleType:
    name = "_tiny_gpt_" + re.sub(r"\W", "_", str(path.relative_to(STAGE)))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _feedback() -> ModuleType:
    return feedback_module(_exercise())


def _params() -> dict[str, np.ndarray]:
    """A fresh dict of the shipped arrays, as np.load without pickles gives them."""
    with np.load(WEIGHTS, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _expected(tokens) -> np.ndarray:
    """The reference's logits for a prompt, computed once per prompt."""
    return _reference_for(np.asarray(tokens, dtype=np.int64).tobytes())


@functools.lru_cache(maxsize=None)
def _reference_for(prompt: bytes) -> np.ndarray:
    return _reference()(_params(), np.frombuffer(prompt, dtype=np.int64))


def _logits(path: Path, tokens) -> tuple[np.ndarray, np.ndarray]:
    """(the logits of the implementation in `path`, the reference's) for one prompt."""
    return _module(path).tiny_gpt(_params(), np.asarray(tokens, dtype=np.int64)), _expected(tokens)


@functools.lru_cache(maxsize=None)
def _checks() -> dict[str, np.ndarray]:
    with np.load(CHECK_LOGITS, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _prompts() -> list[int]:
    return sorted(int(name.split(".")[1]) for name in _checks() if name.startswith("prompt."))


def _reference():
    return _module(STAGE / "reference.py").tiny_gpt


def _mistakes() -> list[Path]:
    return sorted((STAGE / "mistakes").glob("*.py"))


def _tolerance() -> dict[str, float]:
    tolerance = _exercise().tolerance
    return {"rtol": tolerance.rtol, "atol": tolerance.atol}


def _documented_shapes(params: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """Every array weights.npz must hold, with its shape, from the config it stores."""
    c = {key: int(params[f"config.{key}"]) for key in ("n_layers", "n_heads", "d_model", "d_ff", "context", "vocab_size")}
    V, T, D, F = c["vocab_size"], c["context"], c["d_model"], c["d_ff"]
    shapes = {"tok_emb": (V, D), "pos_emb": (T, D), "ln_f.gamma": (D,), "ln_f.beta": (D,), "vocab": (V,)}
    shapes.update({f"config.{key}": () for key in c})
    for i in range(c["n_layers"]):
        b = f"blocks.{i}."
        for ln in ("ln1", "ln2"):
            shapes[b + ln + ".gamma"] = shapes[b + ln + ".beta"] = (D,)
        for x in "qkvo":
            shapes[b + f"attn.W_{x}"], shapes[b + f"attn.b_{x}"] = (D, D), (D,)
        shapes.update({b + "mlp.W_1": (D, F), b + "mlp.b_1": (F,), b + "mlp.W_2": (F, D), b + "mlp.b_2": (D,)})
    return shapes


# --------------------------------------------------------------------------- the weights file


def test_weights_are_at_most_2_mb_and_load_without_pickle():
    assert WEIGHTS.stat().st_size <= MAX_BYTES
    params = _params()  # np.load(allow_pickle=False) refuses object arrays: this is the check
    assert params and all(value.dtype != object for value in params.values())


def test_weights_have_the_documented_names_shapes_and_dtypes():
    params = _params()
    shapes = _documented_shapes(params)
    assert sorted(params) == sorted(shapes)
    for name, shape in shapes.items():
        assert params[name].shape == shape, name
        wanted = np.int32 if name == "vocab" or name.startswith("config.") else np.float32
        assert params[name].dtype == wanted, name
    assert int(params["config.d_model"]) % int(params["config.n_heads"]) == 0
    codes = params["vocab"]
    assert np.all(np.diff(codes) > 0), "the vocabulary is sorted code points, each once"
    assert all(chr(code).isprintable() or chr(code) == "\n" for code in codes), "no control characters"


def test_the_docs_document_every_array_name():
    readme = DOCS.read_text(encoding="utf-8")
    for name in _documented_shapes(_params()):
        generic = re.sub(r"^blocks\.\d+\.", "blocks.{i}.", name)
        assert f"`{generic}`" in readme, generic


# --------------------------------------------------------------------------- the reference


def test_reference_reproduces_pytorchs_float64_logits():
    """Same float32 weights, float64 arithmetic on both sides: only rounding may differ."""
    checks = _checks()
    for k in _prompts():
        logits = _expected(checks[f"prompt.{k}"])
        assert logits.dtype == np.float64
        np.testing.assert_allclose(logits, checks[f"logits64.{k}"], rtol=1e-9, atol=1e-9)


def test_reference_matches_pytorchs_float32_logits_within_the_exercise_tolerance():
    """The model as trained (float32 arithmetic) passes the tolerance a student is graded with."""
    checks = _checks()
    for k in _prompts():
        logits = _expected(checks[f"prompt.{k}"])
        np.testing.assert_allclose(checks[f"logits32.{k}"], logits, **_tolerance())


@pytest.mark.parametrize("tokens", [[], [[1, 2]], list(range(129)), [105], [-1]],
                         ids=["empty", "two-dimensional", "longer-than-context", "id-vocab-size", "negative-id"])
def test_reference_refuses_prompts_outside_the_contract(tokens):
    with pytest.raises(ValueError):
        _reference()(_params(), np.array(tokens, dtype=np.int64))


@pytest.mark.parametrize("mistake", _mistakes(), ids=lambda path: path.stem)
def test_every_mistake_differs_from_the_reference_beyond_the_tolerance(mistake):
    checks = _checks()
    for k in _prompts():
        tokens = checks[f"prompt.{k}"]
        if len(tokens) < 2:
            continue  # one token attends only to itself: attention mistakes cannot show
        wrong, expected = _logits(mistake, tokens)
        assert not np.allclose(wrong, expected, **_tolerance()), f"prompt {k} ({len(tokens)} tokens)"


def test_greedy_generation_continues_like_pytorch_and_is_deterministic():
    params, checks = _params(), _checks()
    feedback = _feedback()
    prompt, wanted = checks["generate.prompt"], checks["generate.tokens"]
    assert len(wanted) > int(params["config.context"]), "the window must slide"
    tokens = feedback.generate(params, prompt, len(wanted) - len(prompt), forward=_reference())
    np.testing.assert_array_equal(tokens, wanted)
    again = feedback.generate(params, prompt, 2, forward=_reference())
    np.testing.assert_array_equal(again, wanted[: len(prompt) + 2])
    text = feedback.decode(params, tokens)
    np.testing.assert_array_equal(feedback.encode(params, text), tokens)


def test_side_by_side_marks_the_first_difference():
    feedback = _feedback()
    same = feedback.side_by_side("The ", "model\nreads", "model\nreads")
    assert "identical" in same and "model⏎reads" in same
    differ = feedback.side_by_side("The ", "modal", "model")
    assert "first difference at generated character 4" in differ


def test_generation_refuses_logits_of_the_wrong_shape():
    params = _params()
    feedback = _feedback()
    with pytest.raises(ValueError, match="shape"):
        feedback.generate(params, [1, 2], 1, forward=lambda p, t: np.zeros((len(t), 3)))
    with pytest.raises(ValueError, match="finite"):
        feedback.generate(params, [1, 2], 1, forward=lambda p, t: np.full((len(t), len(p["vocab"])), np.nan))


# --------------------------------------------------------------------------- the exercise


def test_the_exercise_reads_the_shipped_weights_and_its_cases_catch_every_mistake():
    """What `course verify` checks in the sandbox, here in-process and per prompt: the
    reference passes every case, each known mistake fails one, the mistakes on disk are the
    declared ones, and the token prompts fit the shipped vocabulary (the descriptions quote
    their text)."""
    exercise = _exercise()
    params = _params()
    feedback = _feedback()
    vocab_size = int(params["config.vocab_size"])
    assert list(exercise.data) == ["weights.npz", "showcase.npz"]
    assert len(exercise.hints) >= 3
    assert {m.name for m in exercise.mistakes} == {path.stem for path in _mistakes()}
    assert {c.visibility for c in exercise.cases} == {"public", "hidden"}
    n_params = sum(v.size for k, v in params.items() if k != "vocab" and not k.startswith("config."))
    assert f"{n_params:,} parameters" in exercise.instructions
    assert "rtol 1e-4, atol 1e-4" in exercise.instructions and _tolerance() == {"rtol": 1e-4, "atol": 1e-4}

    arguments = case_arguments(list(exercise.cases))
    prompts = {}
    for case in exercise.cases:
        assert case.args[0].kind == "npz"
        sent, tokens = arguments[case.name][0]
        assert sorted(sent) == sorted(params) and all(np.array_equal(sent[k], params[k]) for k in params)
        prompts[case.name] = tokens
        assert tokens.ndim == 1 and 1 <= len(tokens) <= int(params["config.context"])
        assert tokens.min() >= 0 and tokens.max() < vocab_size
        if case.args[1].kind == "integers":
            assert case.args[1].params["high"] == vocab_size, "random prompts cover the whole vocabulary"
        else:
            assert f'"{feedback.decode(params, tokens)}"' in case.description
        expected = _expected(tokens)
        assert compare_case(case, expected, Observed(OK, expected)).passed

    def catches(case, mistake) -> bool:
        wrong, expected = _logits(STAGE / mistake.file, prompts[case.name])
        return not compare_case(case, expected, Observed(OK, wrong)).passed

    missed = [m.name for m in exercise.mistakes if not any(catches(case, m) for case in exercise.cases)]
    assert not missed, f"no case catches {missed}"


def test_the_vocabulary_holds_no_character_a_terminal_would_act_on():
    """The showcase prints decoded tokens: every character must be harmless to print."""
    for code in _params()["vocab"]:
        ch = chr(int(code))
        assert ch == "\n" or (ch.isprintable() and ch not in "\x1b\x9b\u202e"), repr(ch)


def test_the_stored_continuations_are_the_references_for_the_public_prompts_only():
    """showcase.npz (the reference's text the check shows) is what tools/tiny_gpt_showcase.py writes now."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import tiny_gpt_showcase
    finally:
        sys.path.remove(str(ROOT / "tools"))
    stored = _feedback().stored_continuations(STAGE)
    fresh = tiny_gpt_showcase.continuations(ROOT)
    public = {c.name for c in _exercise().cases if c.visibility == "public"}
    assert set(stored) == set(fresh) == public, "run tools/tiny_gpt_showcase.py"
    for name in public:
        np.testing.assert_array_equal(stored[name], fresh[name], err_msg=f"{name}: run tools/tiny_gpt_showcase.py")
        assert len(stored[name]) == len(case_arguments([_exercise().case(name)])[name][0][1]) + _feedback().N_NEW


def test_starter_is_not_attempted():
    with pytest.raises(NotImplementedError):
        _module(STAGE / "starter.py").tiny_gpt(_params(), np.array([0]))
