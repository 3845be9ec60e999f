"""The built-in exercises are right: references against independent computations,
inputs reproducible from their seeds, every declared mistake caught by some case,
every starter not yet attempted.

References and mistakes are trusted instructor code, so they run here in-process;
students' code is graded in the sandbox, which is not what this file tests. The
exercises are read with the project's loader, as every command reads them.
"""
from __future__ import annotations

import ast
import copy
import functools
import importlib.util
import itertools
import math
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from course.grading.inputs import make_arguments, make_input
from course.loader import load_course
from course.model import Case, Exercise, input_spec

ROOT = Path(__file__).resolve().parents[2]
EXERCISE_IDS = ("softmax", "self_attention", "param_count", "layer_norm", "causal_mask", "positional_encoding",
                "multi_head_attention", "transformer_block", "cross_entropy", "tiny_gpt", "kv_cache", "sampling")
MAX_ELEMENTS = 200_000


# --------------------------------------------------------------------------- reading exercises


@functools.lru_cache(maxsize=None)
def _exercise(exercise_id: str) -> Exercise:
    exercise = load_course(ROOT).exercise(exercise_id)
    assert exercise is not None, f"exercise {exercise_id} not found in {ROOT}"
    return exercise


def _cases(exercise_id: str) -> tuple[Case, ...]:
    return _exercise(exercise_id).cases


@functools.lru_cache(maxsize=None)
def _import(path: Path) -> ModuleType:
    name = "_exercise_" + re.sub(r"\W", "_", str(path.relative_to(ROOT)))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _function(exercise_id: str, file: str):
    exercise = _exercise(exercise_id)
    return getattr(_import(exercise.folder / file), exercise.function)


def _reference(exercise_id: str):
    return _function(exercise_id, _exercise(exercise_id).reference)


# --------------------------------------------------------------------------- comparing outputs


def _snapshot(args: tuple, kwargs: dict) -> list:
    return [copy.deepcopy(value) for value in list(args) + list(kwargs.values())]


def _unchanged(before: list, args: tuple, kwargs: dict) -> bool:
    return all(_same(old, new) for old, new in zip(before, list(args) + list(kwargs.values())))


def _same(old, new) -> bool:
    """Equal values, arrays compared by shape, dtype and content, inside dicts (weights) too."""
    if isinstance(old, np.ndarray):
        return old.shape == new.shape and old.dtype == new.dtype and np.array_equal(old, new, equal_nan=True)
    if isinstance(old, dict):
        return isinstance(new, dict) and list(old) == list(new) and all(_same(old[k], new[k]) for k in old)
    return old == new


def _difference(expected: object, got: object, case: Case) -> str | None:
    """Why `got` fails where `expected` passes, in the grader's order; None when they agree."""
    expected, got = np.asarray(expected), np.asarray(got)
    if got.shape != expected.shape:
        return f"shape {got.shape} != {expected.shape}"
    if got.dtype.kind != expected.dtype.kind:
        return f"dtype kind {got.dtype.kind!r} != {expected.dtype.kind!r}"
    if expected.dtype.kind in "biu":
        return None if np.array_equal(got, expected) else "values differ"
    if np.any(~np.isfinite(got) & np.isfinite(expected)):
        return "non-finite values"
    if not np.allclose(got, expected, rtol=case.tolerance.rtol, atol=case.tolerance.atol):
        return "values differ beyond tolerance"
    return None


def _outcome(function, reference_output: object, case: Case) -> str | None:
    """Run `function` on the case's inputs: None if it passes, else the reason it fails."""
    args, kwargs = make_arguments(case)
    before = _snapshot(args, kwargs)
    try:
        with np.errstate(all="ignore"):
            output = function(*args, **kwargs)
    except Exception as error:  # a crash fails the case
        return f"raised {type(error).__name__}: {error}"
    if not _unchanged(before, args, kwargs):
        return "modified its inputs in place"
    return _difference(reference_output, output, case)


def _expected(exercise_id: str, case: Case) -> object:
    args, kwargs = make_arguments(case)
    return _reference(exercise_id)(*args, **kwargs)


# --------------------------------------------------------------------------- what every exercise has


def _size(spec) -> int:
    if "shape" in spec.params:
        return math.prod(spec.params["shape"])
    return int(np.asarray(spec.params.get("data")).size) if spec.kind == "array" else 1


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_exercise_has_enough_cases_hints_and_mistakes(exercise_id):
    """Loaded without error, with the course's own requirements on top of the format's."""
    exercise = _exercise(exercise_id)
    assert exercise.lesson == "lesson-3" and exercise.section
    assert len(exercise.hints) >= 3
    visibilities = [case.visibility for case in exercise.cases]
    assert len(visibilities) >= 5 and visibilities.count("public") >= 2 and visibilities.count("hidden") >= 2
    assert len({case.seed for case in exercise.cases}) == len(exercise.cases)  # every case its own inputs
    for case in exercise.cases:
        assert case.description.strip() and "\n" not in case.description.strip(), case.name
        assert 1 <= case.hint <= len(exercise.hints), case.name
        for spec in list(case.args) + list(case.kwargs.values()):
            assert _size(spec) <= MAX_ELEMENTS, case.name
    assert len(exercise.mistakes) >= 3
    for mistake in exercise.mistakes:
        assert mistake.file == f"mistakes/{mistake.name}.py" and (exercise.folder / mistake.file).is_file()


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_starter_and_reference_hold_only_what_they_should(exercise_id):
    exercise = _exercise(exercise_id)
    starter = ast.parse(exercise.starter_path.read_text())
    kinds = [type(node).__name__ for node in starter.body]
    # numpy is imported where the solution needs it; param_count's is integer arithmetic, so no import
    assert kinds in (["Import", "FunctionDef"], ["FunctionDef"]), kinds
    assert [alias.name for node in starter.body[:-1] for alias in node.names] in (["numpy"], [])
    assert starter.body[-1].name == exercise.function and ast.get_docstring(starter.body[-1])

    reference = ast.parse(exercise.reference_path.read_text())
    for node in ast.walk(reference):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for module in modules:
                top = module.split(".")[0]
                assert top == "numpy" or top in sys.stdlib_module_names, module


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_starter_raises_not_implemented(exercise_id):
    starter = _function(exercise_id, _exercise(exercise_id).starter)
    args, kwargs = make_arguments(_cases(exercise_id)[0])
    with pytest.raises(NotImplementedError):
        starter(*args, **kwargs)


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_case_inputs_are_the_same_bytes_for_the_same_seed(exercise_id):
    for case in _cases(exercise_id):
        first, second = make_arguments(case), make_arguments(case)
        values_1 = list(first[0]) + list(first[1].values())
        values_2 = list(second[0]) + list(second[1].values())
        assert list(first[1]) == list(second[1]) == list(case.kwargs)
        for one, two in zip(values_1, values_2, strict=True):
            _assert_same_fresh(one, two, case.name)


def _assert_same_fresh(one, two, where: str) -> None:
    """Equal bytes, and fresh arrays (one call cannot disturb the next), inside dicts too."""
    if isinstance(one, np.ndarray):
        assert one.dtype == two.dtype and one.shape == two.shape
        assert one.tobytes() == two.tobytes(), where
        assert one is not two
    elif isinstance(one, dict):
        assert list(one) == list(two) and one is not two, where
        for name in one:
            _assert_same_fresh(one[name], two[name], f"{where}: {name}")
    else:
        assert one == two and type(one) is type(two)


def test_each_argument_draws_from_its_own_stream():
    normal = {"normal": {"shape": [3]}}
    case = Case(name="c", visibility="public", seed=7, args=[normal, normal], kwargs={"k": normal})
    (a, b), kwargs = make_arguments(case)
    assert not np.array_equal(a, b) and not np.array_equal(b, kwargs["k"])
    assert np.array_equal(b, np.random.default_rng([7, 1]).normal(0.0, 1.0, 3))
    assert np.array_equal(kwargs["k"], make_input(input_spec(normal), 7, 2))
    literal_first = Case(name="c", visibility="public", seed=7, args=[3, normal])
    assert np.array_equal(make_arguments(literal_first)[0][1], b)  # position, not kind, picks the stream


def test_generators_honour_shape_range_and_dtype():
    def make(kind, data=None, **params):
        return make_input(input_spec({kind: params if data is None else data}), 3, 0)

    ints = make("integers", shape=[1000], low=-2, high=2)
    assert ints.dtype == np.int64 and ints.min() == -2 and ints.max() == 1
    uniform = make("uniform", shape=[2, 500], low=5.0, high=6.0, dtype="float32")
    assert uniform.dtype == np.float32 and uniform.shape == (2, 500) and 5 <= uniform.min() <= uniform.max() < 6
    assert make("normal", shape=[4, 2], loc=100.0, scale=0.0).tolist() == [[100.0] * 2] * 4
    constant = make("constant", shape=[2, 3], fill=1000.0)
    assert constant.dtype == np.float64 and (constant == 1000.0).all()
    assert make("array", [[1.0, 2.0], [3.0, 4.0]]).dtype == np.float64
    assert make("array", [[1, 2], [3, 4]]).dtype == np.int64
    config = {"arch": "gpt", "sizes": [1, 2]}
    value = make("value", config)
    assert value == config and value is not config and value["sizes"] is not config["sizes"]


def test_mask_patterns():
    def mask(pattern, shape, seed=0, **params):
        return make_input(input_spec({"mask": {"shape": shape, "pattern": pattern, **params}}), seed, 0)

    causal = mask("causal", [2, 4, 6])
    assert causal.dtype == bool and causal.shape == (2, 4, 6)
    assert (causal == np.tril(np.ones((4, 6), dtype=bool))).all()
    assert mask("all", [3, 3]).all() and not mask("none", [3, 3]).any()
    for seed in range(50):
        random = mask("random", [2, 5, 4], seed, density=0.1)
        assert random.any(axis=-1).all()  # no query row left without a key
        padding = mask("padding", [3, 2, 6], seed)
        for sequence in padding:
            assert (sequence == sequence[0]).all()  # the same keys hidden from every query
            kept = int(sequence[0].sum())
            assert 1 <= kept <= 5 and sequence[0, :kept].all() and not sequence[0, kept:].any()
    dense = mask("random", [200, 200], 1, density=0.5)
    assert 0.45 < dense.mean() < 0.55


# --------------------------------------------------------------------------- references are right


def _check_properties(function, output, case: Case, args: tuple, kwargs: dict) -> None:
    output = np.asarray(output)
    for check in case.checks:
        if check == "sums_to_one":
            axis = kwargs.get("axis", -1)
            assert np.allclose(output.sum(axis=axis), 1.0, rtol=0, atol=1e-12), case.name
        elif check == "non_negative":
            assert (output >= 0).all(), case.name
        elif check == "shift_invariant":
            shifted = function(args[0] + 10, *args[1:], **kwargs)
            assert np.allclose(shifted, output, rtol=case.tolerance.rtol, atol=case.tolerance.atol), case.name
        elif check == "exact_integer":
            assert output.dtype.kind in "iu", case.name
        elif check == "inputs_unchanged":
            pass  # checked by the caller for every case
        else:  # pragma: no cover - the format test restricts names
            raise AssertionError(check)


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_reference_passes_every_case_and_its_checks(exercise_id):
    reference = _reference(exercise_id)
    for case in _cases(exercise_id):
        args, kwargs = make_arguments(case)
        before = _snapshot(args, kwargs)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            output = reference(*args, **kwargs)  # no overflow, 0/0 or x/0 on any case
        assert _unchanged(before, args, kwargs), case.name
        array = np.asarray(output)
        assert array.dtype.kind in "biuf" and (array.dtype.kind != "f" or np.isfinite(array).all()), case.name
        _check_properties(reference, output, case, args, kwargs)


@pytest.mark.slow  # scipy is the end-to-end tier's (pip install '.[test-slow]')
def test_softmax_agrees_with_scipy():
    scipy_softmax = pytest.importorskip("scipy.special", reason="scipy is a test-slow extra: "
                                        "pip install '.[test-slow]'").softmax
    softmax = _reference("softmax")
    rng = np.random.default_rng(2024)
    for _trial in range(200):
        ndim = int(rng.integers(1, 5))
        shape = tuple(int(n) for n in rng.integers(1, 7, size=ndim))
        scale = float(rng.choice([0.1, 1.0, 10.0, 500.0, 2000.0]))
        x = rng.normal(0.0, scale, shape)
        for axis in range(-ndim, ndim):
            got = softmax(x, axis=axis)
            assert got.shape == x.shape and got.dtype == np.float64
            np.testing.assert_allclose(got, scipy_softmax(x, axis=axis), rtol=1e-10, atol=1e-300)
    x = rng.normal(size=(3, 4, 5))
    np.testing.assert_allclose(softmax(x, axis=0), scipy_softmax(x, axis=0), rtol=1e-12)
    np.testing.assert_allclose(softmax(x), scipy_softmax(x, axis=-1), rtol=1e-12)
    ints = np.arange(12).reshape(3, 4) - 6
    assert softmax(ints).dtype == np.float64
    np.testing.assert_allclose(softmax(ints), scipy_softmax(ints.astype(float), axis=-1), rtol=1e-12)
    np.testing.assert_allclose(softmax(np.full((2, 3), -1000.0)), np.full((2, 3), 1 / 3), rtol=1e-12)
    for case in _cases("softmax"):
        args, kwargs = make_arguments(case)
        np.testing.assert_allclose(_expected("softmax", case),
                                   scipy_softmax(args[0], axis=kwargs.get("axis", -1)), rtol=1e-10)


def _attention_by_loops(query, key, value, mask=None):
    """Attention for one query at a time, in plain Python floats over batch and query positions."""
    batch_shape = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    seq_q, d_k = query.shape[-2:]
    seq_k, d_v = value.shape[-2:]
    full_mask = np.ones(batch_shape + (seq_q, seq_k), dtype=bool) if mask is None else \
        np.broadcast_to(mask, batch_shape + (seq_q, seq_k))
    out = np.zeros(batch_shape + (seq_q, d_v))
    for b in np.ndindex(*batch_shape):
        q, k, v, m = query[b], key[b], value[b], full_mask[b]
        for i in range(seq_q):
            allowed = [j for j in range(seq_k) if m[i, j]]
            if not allowed:
                continue  # the contract: a fully masked row gives zeros
            scores = {j: sum(float(q[i, t]) * float(k[j, t]) for t in range(d_k)) / math.sqrt(d_k)
                      for j in allowed}
            top = max(scores.values())
            weights = {j: math.exp(s - top) for j, s in scores.items()}
            total = sum(weights.values())
            for c in range(d_v):
                out[b + (i, c)] = sum(weights[j] / total * float(v[j, c]) for j in allowed)
    return out


def test_self_attention_agrees_with_explicit_loops():
    attention = _reference("self_attention")
    rng = np.random.default_rng(7)
    for trial in range(40):
        batch = tuple(int(n) for n in rng.integers(1, 4, size=trial % 3))  # 0, 1 or 2 batch axes
        seq_q, seq_k, d_k, d_v = (int(n) for n in rng.integers(1, 6, size=4))
        scale = float(rng.choice([0.5, 1.0, 40.0]))
        query = rng.normal(0, scale, batch + (seq_q, d_k))
        key = rng.normal(0, scale, batch + (seq_k, d_k))
        value = rng.normal(0, 1, batch + (seq_k, d_v))
        masks = [None, rng.random((seq_q, seq_k)) < 0.6, rng.random(batch + (1, seq_k)) < 0.6]
        for mask in masks:
            got = attention(query, key, value, mask)
            assert got.shape == batch + (seq_q, d_v)
            np.testing.assert_allclose(got, _attention_by_loops(query, key, value, mask), rtol=1e-9, atol=1e-12)
    for case in _cases("self_attention"):
        args, kwargs = make_arguments(case)
        np.testing.assert_allclose(_expected("self_attention", case), _attention_by_loops(*args, **kwargs),
                                   rtol=1e-9, atol=1e-12)


def test_self_attention_cases_never_mask_a_whole_row():
    for case in _cases("self_attention"):
        args, kwargs = make_arguments(case)
        if kwargs.get("mask") is not None:
            query, key = args[0], args[1]
            shape = np.broadcast_shapes(query.shape[:-1] + (key.shape[-2],), kwargs["mask"].shape)
            assert np.broadcast_to(kwargs["mask"], shape).any(axis=-1).all(), case.name


def test_self_attention_fully_masked_row_gives_zeros():
    attention = _reference("self_attention")
    x = np.arange(6.0).reshape(3, 2)
    mask = np.array([[True, False, False], [False, False, False], [True, True, True]])
    with np.errstate(all="raise"):
        out = attention(x, x, x, mask)
    assert (out[1] == 0).all() and np.isfinite(out).all()
    np.testing.assert_allclose(out[0], x[0])


def _gpt(n_layers, d_model, n_heads, d_ff, vocab_size, max_positions, **extra):
    return dict(arch="gpt", n_layers=n_layers, d_model=d_model, n_heads=n_heads, d_ff=d_ff,
                vocab_size=vocab_size, max_positions=max_positions, **extra)


def _bert(*sizes, **extra):
    return {**_gpt(*sizes, **extra), "arch": "bert"}


def test_count_parameters_is_exact():
    count = _reference("param_count")
    gpt2_small = _gpt(12, 768, 12, 3072, 50257, 1024)
    bert_base = _bert(12, 768, 12, 3072, 30522, 512, type_vocab_size=2, pooler=True)
    assert count(gpt2_small) == 124_439_808 and type(count(gpt2_small)) is int
    assert count(bert_base) == 109_482_240 and type(count(bert_base)) is int
    assert count(_gpt(24, 1024, 16, 4096, 50257, 1024)) == 354_823_168
    # defaults: tied embeddings; two token types and a pooler
    assert count({**gpt2_small, "tied_embeddings": True}) == 124_439_808
    assert count(_bert(12, 768, 12, 3072, 30522, 512)) == 109_482_240
    # by hand: an untied GPT-2 small adds its LM head, 50257 x 768 = 38,597,376
    assert count({**gpt2_small, "tied_embeddings": False}) == 124_439_808 + 38_597_376 == 163_037_184
    # BERT-base without the pooler (768*768 + 768 = 590,592) and with 3 token types (+768)
    assert count({**bert_base, "pooler": False}) == 109_482_240 - 590_592 == 108_891_648
    assert count({**bert_base, "type_vocab_size": 3}) == 109_482_240 + 768
    # a tiny GPT by hand: d=4, d_ff=6, 1 layer, vocab 10, 8 positions
    #   embeddings 10*4 + 8*4 = 72; block: LN 8, qkv 4*12+12 = 60, proj 16+4 = 20,
    #   LN 8, MLP 4*6+6 + 6*4+4 = 58  -> 154; final LN 8          => 234
    assert count(_gpt(1, 4, 2, 6, 10, 8)) == 234
    assert count(_gpt(1, 4, 2, 6, 10, 8, tied_embeddings=False)) == 234 + 40
    # a tiny BERT by hand: token 40 + position 32 + type 2*4 = 8, embedding LN 8 -> 88;
    #   block: attention 4*(16+4) = 80, LN 8, FFN 58, LN 8 -> 154; pooler 20     => 262
    assert count(_bert(1, 4, 2, 6, 10, 8)) == 262
    assert count(_bert(1, 4, 2, 6, 10, 8, pooler=False, type_vocab_size=1)) == 262 - 20 - 4
    # heads split d_model; they do not add parameters
    assert count(_gpt(12, 768, 1, 3072, 50257, 1024)) == 124_439_808
    for case in _cases("param_count"):
        assert type(_expected("param_count", case)) is int


# Published sizes, each from its configuration. GPT-2: OpenAI's gpt-2 repository and model card
# (124M, 355M, 774M, 1.5B; the exact counts come from the configurations of Radford et al. 2019).
# BERT: Devlin et al. 2018 (110M and 340M, with the pooler). LLaMA-7B: Touvron et al. 2023
# (6.7B; its released configuration gives 6,738,415,616).
PUBLISHED_COUNTS = [
    ("gpt2-small", _gpt(12, 768, 12, 3072, 50257, 1024), 124_439_808),
    ("gpt2-medium", _gpt(24, 1024, 16, 4096, 50257, 1024), 354_823_168),
    ("gpt2-large", _gpt(36, 1280, 20, 5120, 50257, 1024), 774_030_080),
    ("gpt2-xl", _gpt(48, 1600, 25, 6400, 50257, 1024), 1_557_611_200),
    ("bert-base", _bert(12, 768, 12, 3072, 30522, 512), 109_482_240),
    ("bert-large", _bert(24, 1024, 16, 4096, 30522, 512), 335_141_888),
    ("llama-7b", dict(arch="llama", n_layers=32, d_model=4096, n_heads=32, d_ff=11008, vocab_size=32000), 6_738_415_616),
]


@pytest.mark.parametrize("config, published", [(c, n) for _, c, n in PUBLISHED_COUNTS],
                         ids=[name for name, _, _ in PUBLISHED_COUNTS])
def test_count_parameters_reproduces_the_published_counts_exactly(config, published):
    count = _reference("param_count")(config)
    assert type(count) is int and count == published
    breakdown = _param_count_feedback().parameter_breakdown(config)  # the pictures' split agrees
    assert sum(breakdown.values()) == published


def _param_count_feedback():
    from course.grading.hooks import feedback_module

    return feedback_module(_exercise("param_count"))


def test_count_parameters_follows_the_llama_conventions_by_hand():
    count = _reference("param_count")
    llama_7b = dict(arch="llama", n_layers=32, d_model=4096, n_heads=32, d_ff=11008, vocab_size=32000)
    # rotary positions add nothing; n_kv_heads defaults to n_heads; the output layer is untied
    assert count({**llama_7b, "max_positions": 2048}) == count({**llama_7b, "n_kv_heads": 32}) == 6_738_415_616
    assert count({**llama_7b, "tied_embeddings": True}) == 6_738_415_616 - 32000 * 4096
    # grouped-query attention: 8 key/value heads of 128 columns shrink W_k and W_v to 4096 x 1024
    assert count({**llama_7b, "n_kv_heads": 8}) == 6_738_415_616 - 32 * 2 * 4096 * (4096 - 1024)
    # a tiny one by hand: d=8, 2 heads, 1 kv head (d_head 4), d_ff=12, 1 layer, vocab 10:
    #   embeddings 80 + output 80; block: W_q 64 + W_o 64 + W_k 32 + W_v 32, SwiGLU 3*96 = 288,
    #   two RMSNorms 16 -> 496; final RMSNorm 8                                       => 664
    tiny = dict(arch="llama", n_layers=1, d_model=8, n_heads=2, n_kv_heads=1, d_ff=12, vocab_size=10)
    assert count(tiny) == 664
    for case in _cases("param_count"):
        assert sum(_param_count_feedback().parameter_breakdown(make_arguments(case)[0][0]).values()) == \
            _expected("param_count", case), case.name


def test_layer_norm_matches_a_hand_computation():
    layer_norm = _reference("layer_norm")
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(layer_norm(x, np.ones(3), np.zeros(3), eps=0.0),
                               [-math.sqrt(1.5), 0.0, math.sqrt(1.5)], rtol=1e-12)
    rng = np.random.default_rng(11)
    for shape in [(5,), (3, 4), (2, 3, 7), (1, 1, 2, 2)]:
        x = rng.normal(3.0, 2.0, shape)
        gamma, beta = rng.normal(1.0, 0.5, shape[-1]), rng.normal(0.0, 0.5, shape[-1])
        for eps in (1e-5, 0.3):
            got = layer_norm(x, gamma, beta, eps=eps)
            for index in np.ndindex(*shape[:-1]):
                row = [float(v) for v in x[index]]
                mean = sum(row) / len(row)
                variance = sum((v - mean) ** 2 for v in row) / len(row)
                expected = [g * (v - mean) / math.sqrt(variance + eps) + b for v, g, b in zip(row, gamma, beta)]
                np.testing.assert_allclose(got[index], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer_norm(np.full((2, 3), 7.0), np.ones(3), np.arange(3.0)), [[0, 1, 2]] * 2)


def test_causal_mask_is_the_lower_triangle_with_diagonal():
    causal_mask = _reference("causal_mask")
    for n in (1, 2, 5, 33):
        mask = causal_mask(n)
        assert mask.dtype == bool and mask.shape == (n, n)
        assert all(mask[i, j] == (j <= i) for i in range(n) for j in range(n))


def test_positional_encoding_is_the_formula_of_vaswani_et_al():
    positional_encoding = _reference("positional_encoding")
    for seq_len, d_model in [(1, 2), (5, 2), (7, 6), (20, 16), (64, 512)]:
        pe = positional_encoding(seq_len, d_model)
        assert pe.shape == (seq_len, d_model) and pe.dtype == np.float64
        for pos, i in itertools.product(range(seq_len), range(d_model // 2)):
            angle = pos / 10000 ** (2 * i / d_model)
            assert math.isclose(pe[pos, 2 * i], math.sin(angle), rel_tol=1e-12, abs_tol=1e-12)
            assert math.isclose(pe[pos, 2 * i + 1], math.cos(angle), rel_tol=1e-12, abs_tol=1e-12)


# --------------------------------------------------------------------------- the exercises of issue 13


def _random_attention_params(rng, d_model, scale=0.3):
    params = {f"W_{n}": rng.normal(0, scale, (d_model, d_model)) for n in "qkvo"}
    params.update({f"b_{n}": rng.normal(0, 0.3, d_model) for n in "qkvo"})
    return params


def test_multi_head_attention_with_one_head_is_single_head_attention():
    """H = 1: the three projections, plain scaled dot-product attention, the output projection."""
    mha, attention = _reference("multi_head_attention"), _reference("self_attention")
    rng = np.random.default_rng(13)
    for shape, mask in [((5, 8), None), ((2, 6, 8), np.tril(np.ones((6, 6), dtype=bool))),
                        ((2, 3, 4, 6), (rng.random((2, 3, 4, 4)) < 0.7) | np.eye(4, dtype=bool))]:
        x = rng.normal(size=shape)
        p = _random_attention_params(rng, shape[-1])
        single = attention(x @ p["W_q"] + p["b_q"], x @ p["W_k"] + p["b_k"], x @ p["W_v"] + p["b_v"], mask)
        np.testing.assert_allclose(mha(x, p, 1, mask), single @ p["W_o"] + p["b_o"], rtol=1e-12, atol=1e-12)


def test_multi_head_attention_is_each_head_on_its_own_columns():
    """H heads: head h is plain attention on columns h*d_head:(h+1)*d_head, heads concatenated, then W_o."""
    mha, attention = _reference("multi_head_attention"), _reference("self_attention")
    rng = np.random.default_rng(14)
    x = rng.normal(size=(3, 5, 12))
    mask = np.tril(np.ones((5, 5), dtype=bool))
    p = _random_attention_params(rng, 12)
    for heads in (2, 3, 4, 6, 12):
        d = 12 // heads
        q, k, v = (x @ p[f"W_{n}"] + p[f"b_{n}"] for n in "qkv")
        cols = [slice(h * d, (h + 1) * d) for h in range(heads)]
        concat = np.concatenate([attention(q[..., c], k[..., c], v[..., c], mask) for c in cols], axis=-1)
        np.testing.assert_allclose(mha(x, p, heads, mask), concat @ p["W_o"] + p["b_o"], rtol=1e-11, atol=1e-12)


def test_transformer_block_is_pre_ln_with_residuals_and_a_tanh_gelu():
    block, mha, layer_norm = _reference("transformer_block"), _reference("multi_head_attention"), _reference("layer_norm")
    rng = np.random.default_rng(15)
    d, f = 8, 20
    x = rng.normal(1.0, 2.0, (2, 5, d))
    ln = lambda: {"gamma": rng.normal(1, 0.2, d), "beta": rng.normal(0, 0.2, d)}  # noqa: E731
    params = {"ln1": ln(), "attn": _random_attention_params(rng, d), "ln2": ln(),
              "mlp": {"W_1": rng.normal(0, 0.5, (d, f)), "b_1": rng.normal(0, 0.5, f),
                      "W_2": rng.normal(0, 0.3, (f, d)), "b_2": rng.normal(0, 0.2, d)}}
    mask = np.tril(np.ones((5, 5), dtype=bool))

    def gelu(z):  # Hendrycks & Gimpel's tanh approximation, written out independently
        return np.array([0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
                         for v in z.reshape(-1)]).reshape(z.shape)

    h = x + mha(layer_norm(x, **params["ln1"]), params["attn"], 2, mask)
    m = params["mlp"]
    want = h + gelu(layer_norm(h, **params["ln2"]) @ m["W_1"] + m["b_1"]) @ m["W_2"] + m["b_2"]
    np.testing.assert_allclose(block(x, params, 2, mask), want, rtol=1e-10, atol=1e-12)
    # both sublayers switched off (their last projections zero): the residual stream passes unchanged
    off = {**params, "attn": {**params["attn"], "W_o": np.zeros((d, d)), "b_o": np.zeros(d)},
           "mlp": {**m, "W_2": np.zeros((f, d)), "b_2": np.zeros(d)}}
    np.testing.assert_array_equal(block(x, off, 2, mask), x)


def _cross_entropy_batch() -> tuple[np.ndarray, np.ndarray]:
    """Logits (4, 6, 11) and targets with two ignored positions (-100)."""
    rng = np.random.default_rng(16)
    logits = rng.normal(0, 3, (4, 6, 11))
    targets = rng.integers(0, 11, (4, 6))
    targets[1, 4:] = -100
    return logits, targets


@pytest.mark.slow  # scipy is the end-to-end tier's (pip install '.[test-slow]')
def test_cross_entropy_agrees_with_scipy():
    log_softmax = pytest.importorskip("scipy.special", reason="scipy is a test-slow extra: "
                                      "pip install '.[test-slow]'").log_softmax
    logits, targets = _cross_entropy_batch()
    keep = targets != -100
    by_hand = [-log_softmax(logits[i, j])[targets[i, j]] for i, j in zip(*np.nonzero(keep))]
    loss, perplexity = _reference("cross_entropy")(logits, targets)
    assert math.isclose(loss, float(np.mean(by_hand)), rel_tol=1e-12) and math.isclose(perplexity, math.exp(loss))


def test_cross_entropy_ignores_what_it_should_and_stays_finite_at_1e4():
    cross_entropy = _reference("cross_entropy")
    logits, targets = _cross_entropy_batch()
    keep = targets != -100
    loss, perplexity = cross_entropy(logits, targets)
    assert math.isclose(perplexity, math.exp(loss))
    assert np.allclose(cross_entropy(logits, np.where(keep, targets, 0), ignore_index=0),
                       cross_entropy(logits, np.where(targets == 0, -100, np.where(keep, targets, -100))))
    for shift in (1e4, -1e4):  # a shift of every logit changes nothing
        np.testing.assert_allclose(cross_entropy(logits + shift, targets), [loss, perplexity], rtol=1e-9)
    extreme = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 9e3]])
    assert np.isfinite(cross_entropy(extreme, np.array([2, 2]))[0])  # losses 1e4 and 1e3: finite
    assert cross_entropy(extreme, np.array([2, 2]))[0] == pytest.approx(5500.0)
    # the instructions' example
    np.testing.assert_allclose(cross_entropy(np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), np.array([0, 2])),
                               [0.75310913, 2.12359228], rtol=1e-7)


def _tiny_gpt_params() -> dict:
    with np.load(ROOT / "exercises" / "tiny_gpt" / "weights.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def test_kv_cache_step_by_step_logits_equal_the_full_causal_pass():
    """With the tiny GPT's weights: decoding one token at a time from a cache gives the rows of
    the full forward pass, for an empty cache and for caches of every length."""
    full_pass = _reference("tiny_gpt")
    module = _import(_exercise("kv_cache").folder / "reference.py")
    params = _tiny_gpt_params()
    tokens = np.random.default_rng(17).integers(0, int(params["config.vocab_size"]), 40)
    full = full_pass(params, tokens)
    empty = module.prefill(params, tokens[:0])
    np.testing.assert_allclose(module.kv_decode(params, empty, tokens), full, rtol=1e-9, atol=1e-9)
    for split in (1, 7, 20, 39):
        cache = module.prefill(params, tokens[:split])
        assert cache["k.0"].shape == (int(params["config.n_heads"]), split, 24)
        frozen = {name: value.copy() for name, value in cache.items()}
        np.testing.assert_allclose(module.kv_decode(params, cache, tokens[split:]), full[split:], rtol=1e-9, atol=1e-9)
        assert all(np.array_equal(cache[name], frozen[name]) for name in cache), "the caller's cache is unchanged"


def _nucleus_by_loops(logits, temperature, top_k, top_p):
    """The distribution the sampling instructions describe, one row, with plain Python loops."""
    order = sorted(range(len(logits)), key=lambda i: (-logits[i], i))
    kept = order[:top_k] if top_k else order
    weights = {i: math.exp((logits[i] - logits[order[0]]) / temperature) for i in kept}
    total = sum(weights.values())
    chosen, mass = [], 0.0
    for i in kept:
        if top_p >= 1.0 or mass < top_p:
            chosen.append(i)
        mass += weights[i] / total
    total = sum(weights[i] for i in chosen)
    return np.array([weights[i] / total if i in chosen else 0.0 for i in range(len(logits))])


def test_sampling_distributions_are_exactly_the_renormalised_ones():
    sample = _reference("sampling")
    rng = np.random.default_rng(18)
    for temperature, top_k, top_p in [(1.0, 0, 1.0), (0.7, 3, 1.0), (1.0, 0, 0.8), (1.3, 6, 0.75), (5.0, 0, 0.5),
                                      (0.01, 0, 1.0), (1.0, 50, 1.0), (0.5, 1, 0.3)]:
        logits = rng.normal(0, 2, (6, 12))
        got = sample(logits, temperature=temperature, top_k=top_k, top_p=top_p)
        want = np.array([_nucleus_by_loops(list(row), temperature, top_k, top_p) for row in logits])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        assert np.all((got == 0) == (want == 0)), "the removed tokens are exactly 0"
        np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-12)


def test_sampling_at_temperature_zero_is_argmax_and_the_limit_of_small_temperatures():
    sample = _reference("sampling")
    rng = np.random.default_rng(19)
    logits = rng.normal(0, 2, (8, 10))
    logits[0, 3] = logits[0, 7] = logits[0].max() + 1.0  # a tie: the smaller id wins
    greedy = sample(logits, temperature=0.0)
    np.testing.assert_array_equal(greedy, np.eye(10)[np.argmax(logits, axis=-1)])
    assert greedy[0, 3] == 1.0 and greedy[0, 7] == 0.0
    u = rng.random(8)
    np.testing.assert_array_equal(sample(logits, u, temperature=0.0), np.argmax(logits, axis=-1))
    for temperature in (1e-2, 1e-3, 1e-4):  # the limit T -> 0 (rows without a tie)
        np.testing.assert_allclose(sample(logits[1:], temperature=temperature), greedy[1:], atol=1e-12 + 0 * temperature)
        np.testing.assert_array_equal(sample(logits[1:], u[1:], temperature=temperature), np.argmax(logits[1:], axis=-1))


def test_sampling_draws_are_inverse_transform_samples_of_the_distribution():
    sample = _reference("sampling")
    rng = np.random.default_rng(20)
    logits = rng.normal(0, 1.5, 7)
    probs = sample(logits, top_p=0.9)
    u = rng.random(200_000)
    draws = sample(np.broadcast_to(logits, (len(u), 7)), u, top_p=0.9)
    assert set(np.unique(draws)) <= set(np.nonzero(probs)[0])
    np.testing.assert_allclose(np.bincount(draws, minlength=7) / len(u), probs, atol=5e-3)
    edges = np.cumsum(probs)
    for i, edge in enumerate(edges[:-1]):  # exactly at the edges: u = cumsum[i] picks the next token
        if probs[i] > 0 and probs[i + 1] > 0:
            assert sample(logits, np.array(edge), top_p=0.9) == i + 1
            assert sample(logits, np.array(np.nextafter(edge, 0)), top_p=0.9) == i


# --------------------------------------------------------------------------- mistakes are caught


def _mistakes() -> list[tuple[str, str]]:
    return [(exercise_id, mistake.name) for exercise_id in EXERCISE_IDS for mistake in _exercise(exercise_id).mistakes]


def catching_cases(exercise_id: str, mistake: str) -> dict[str, str]:
    """Case name -> why the mistake fails it, for every case that catches the mistake."""
    (declared,) = [m for m in _exercise(exercise_id).mistakes if m.name == mistake]
    function = _function(exercise_id, declared.file)
    caught = {}
    for case in _cases(exercise_id):
        reason = _outcome(function, _expected(exercise_id, case), case)
        if reason is not None:
            caught[case.name] = reason
    return caught


@pytest.mark.parametrize(("exercise_id", "mistake"), _mistakes(), ids=[f"{e}-{m}" for e, m in _mistakes()])
def test_every_declared_mistake_is_caught_by_some_case(exercise_id, mistake):
    assert catching_cases(exercise_id, mistake), f"no case of {exercise_id} catches {mistake}"


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_reference_passes_its_own_comparison(exercise_id):
    """The comparison used for mistakes does not fail the reference itself (no false positives)."""
    reference = _reference(exercise_id)
    for case in _cases(exercise_id):
        assert _outcome(reference, _expected(exercise_id, case), case) is None, case.name
