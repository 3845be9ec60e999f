"""A case's arguments, built from its InputSpecs: the one place inputs are generated.

Inputs are never stored: they are regenerated from `case.seed`, identically on every
machine and in every run, so the parent (which computes the expected output) and the
sandboxed child (which calls the submission) always see the same bytes. Argument number
i (positional arguments first, then keyword arguments in their declared order) draws
from its own stream, `np.random.default_rng([case.seed, i])`, so adding, removing or
reordering one argument never changes the others.

The generators and their parameters are those of `course.model.INPUT_KINDS`; the loader
has already checked names and parameter sets, so this module only builds values.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from course.model import Case, InputSpec

MASK_PATTERNS = ("causal", "random", "padding", "none", "all")


def make_arguments(case: Case) -> tuple[tuple, dict]:
    """The positional arguments and keyword arguments of one case, as fresh objects.

    Every call returns new, writable arrays (and new dicts for `value` mappings), so a
    function that modifies its inputs cannot affect another call.
    """
    args = tuple(make_input(spec, case.seed, i) for i, spec in enumerate(case.args))
    kwargs = {
        name: make_input(spec, case.seed, len(case.args) + j)
        for j, (name, spec) in enumerate(case.kwargs.items())
    }
    return args, kwargs


def make_input(spec: InputSpec, seed: int, index: int) -> Any:
    """One argument: `spec`'s generator fed by the random stream (seed, index)."""
    try:
        generate = _GENERATORS[spec.kind]
    except KeyError:
        raise ValueError(f"{spec.where}: unknown input kind {spec.kind!r}") from None
    rng = np.random.default_rng([seed, index])
    return generate(rng, spec.params)


# --------------------------------------------------------------------------- generators


def _shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    shape = params["shape"]
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _dtype(params: Mapping[str, Any], default: str | None) -> np.dtype | None:
    name = params.get("dtype", default)
    return None if name is None else np.dtype(name)


def _normal(rng: np.random.Generator, params: Mapping[str, Any]) -> np.ndarray:
    values = rng.normal(float(params.get("loc", 0.0)), float(params.get("scale", 1.0)), _shape(params))
    return np.asarray(values).astype(_dtype(params, "float64"))


def _uniform(rng: np.random.Generator, params: Mapping[str, Any]) -> np.ndarray:
    values = rng.uniform(float(params.get("low", 0.0)), float(params.get("high", 1.0)), _shape(params))
    return np.asarray(values).astype(_dtype(params, "float64"))


def _integers(rng: np.random.Generator, params: Mapping[str, Any]) -> np.ndarray:
    """Integers in [low, high): `high` is exclusive, as in numpy."""
    values = rng.integers(int(params["low"]), int(params["high"]), _shape(params), dtype=np.int64)
    return np.asarray(values).astype(_dtype(params, "int64"))


def _constant(rng: np.random.Generator, params: Mapping[str, Any]) -> np.ndarray:
    return np.full(_shape(params), params["fill"], dtype=_dtype(params, "float64"))


def _array(rng: np.random.Generator, params: Mapping[str, Any]) -> np.ndarray:
    return np.array(_thaw(params["data"]), dtype=_dtype(params, None))


def _value(rng: np.random.Generator, params: Mapping[str, Any]) -> Any:
    """A literal (scalar, string, mapping such as a model config), as plain Python objects."""
    return _thaw(params["data"])


def _mask(rng: np.random.Generator, params: Mapping[str, Any]) -> np.ndarray:
    """A boolean attention mask of shape (..., seq_q, seq_k); True = may attend.

    The pattern names where the True entries are:
      causal   query i may attend to keys j <= i (np.tril; every row keeps key 0);
      random   each entry True with probability `density` (default 0.5), then any
               query row left with no True gets one at a random key;
      padding  per leading index (one sequence of the batch), the last k keys are
               False for every query, 1 <= k <= seq_k - 1 drawn from the stream
               (k = 0 when seq_k == 1), so no row is ever fully masked;
      all      every entry True (nothing is masked);
      none     every entry False (every row fully masked).
    """
    shape = _shape(params)
    if len(shape) < 2:
        raise ValueError(f"a mask needs at least two axes (seq_q, seq_k), got shape {list(shape)}")
    pattern = params.get("pattern", "causal")
    *lead, seq_q, seq_k = shape
    if pattern == "causal":
        mask = np.broadcast_to(np.tril(np.ones((seq_q, seq_k), dtype=bool)), shape).copy()
    elif pattern == "random":
        mask = rng.random(shape) < float(params.get("density", 0.5))
        empty = ~mask.any(axis=-1)  # (..., seq_q): rows with nothing to attend to
        picks = rng.integers(0, seq_k, size=empty.shape)
        rows = np.nonzero(empty)
        mask[rows + (picks[rows],)] = True
    elif pattern == "padding":
        high = max(seq_k - 1, 0)
        padded = rng.integers(1, high + 1, size=tuple(lead)) if high else np.zeros(tuple(lead), dtype=np.int64)
        keys = np.arange(seq_k)
        keep = keys < (seq_k - np.asarray(padded))[..., None]  # (..., seq_k)
        mask = np.broadcast_to(keep[..., None, :], shape).copy()
    elif pattern == "all":
        mask = np.ones(shape, dtype=bool)
    elif pattern == "none":
        mask = np.zeros(shape, dtype=bool)
    else:
        raise ValueError(f"unknown mask pattern {pattern!r}; expected one of {', '.join(MASK_PATTERNS)}")
    return mask


def _thaw(value: Any) -> Any:
    """Plain, fresh Python containers (the loader may hand over read-only mappings or tuples)."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(item) for item in value]
    return value


_GENERATORS: dict[str, Callable[[np.random.Generator, Mapping[str, Any]], Any]] = {
    "normal": _normal,
    "uniform": _uniform,
    "integers": _integers,
    "constant": _constant,
    "array": _array,
    "mask": _mask,
    "value": _value,
}
