"""A case's arguments, built from its InputSpecs: the one place inputs are generated.

Inputs are never stored: they are regenerated from `case.seed`, identically on every
machine and in every run, so the parent (which computes the expected output) and the
sandboxed child (which calls the submission) always see the same bytes. Argument number
i (positional arguments first, then keyword arguments in their declared order) draws
from its own stream, `np.random.default_rng([case.seed, i])`, so adding, removing or
reordering one argument never changes the others. Entry number k of a `dict` input draws
from `np.random.default_rng([case.seed, i, k])` (nested dicts add their own positions),
so appending an entry never changes the others.

The generators and their parameters are declared by the input classes of course.model
(one class per kind); the loader has validated them, so this module only builds values.
`npz` inputs read a data file of the exercise, without pickle.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from course.errors import CourseError

if TYPE_CHECKING:
    from course import model as m

MASK_PATTERNS = ("causal", "random", "padding", "none", "all")


def make_arguments(case: m.Case) -> tuple[tuple, dict]:
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


def make_input(spec: m.InputSpec, seed: int, index: int) -> Any:
    """One argument: `spec`'s generator fed by the random stream (seed, index)."""
    return _generate(spec, [seed, index])


def _generate(spec: m.InputSpec, stream: Sequence[int]) -> Any:
    try:
        generate = _GENERATORS[spec.kind]
    except (KeyError, AttributeError):
        raise ValueError(f"{spec.where}: unknown input kind {getattr(spec, 'kind', spec)!r}") from None
    if spec.kind == "dict":  # each entry its own stream: (seed, index, position)
        return {name: _generate(entry, [*stream, k]) for k, (name, entry) in enumerate(spec.entries.items())}
    if spec.kind == "npz":
        return _npz(spec)
    return generate(np.random.default_rng(list(stream)), spec.body)


# --------------------------------------------------------------------------- generators


def _normal(rng: np.random.Generator, p: m.NormalParams) -> np.ndarray:
    return np.asarray(rng.normal(float(p.loc), float(p.scale), p.shape)).astype(p.dtype)


def _uniform(rng: np.random.Generator, p: m.UniformParams) -> np.ndarray:
    return np.asarray(rng.uniform(float(p.low), float(p.high), p.shape)).astype(p.dtype)


def _integers(rng: np.random.Generator, p: m.IntegersParams) -> np.ndarray:
    """Integers in [low, high): `high` is exclusive, as in numpy."""
    values = rng.integers(int(p.low), int(p.high), p.shape, dtype=np.int64)
    return np.asarray(values).astype(p.dtype)


def _constant(rng: np.random.Generator, p: m.ConstantParams) -> np.ndarray:
    return np.full(p.shape, p.fill, dtype=p.dtype)


def _array(rng: np.random.Generator, data: Any) -> np.ndarray:
    return np.array(_thaw(data))


def _value(rng: np.random.Generator, data: Any) -> Any:
    """A literal (scalar, string, mapping such as a model config), as plain Python objects."""
    return _thaw(data)


def _mask(rng: np.random.Generator, p: m.MaskParams) -> np.ndarray:
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
    shape = tuple(p.shape)
    if len(shape) < 2:
        raise ValueError(f"a mask needs at least two axes (seq_q, seq_k), got shape {list(shape)}")
    pattern = p.pattern
    *lead, seq_q, seq_k = shape
    if pattern == "causal":
        mask = np.broadcast_to(np.tril(np.ones((seq_q, seq_k), dtype=bool)), shape).copy()
    elif pattern == "random":
        mask = rng.random(shape) < float(p.density)
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


def _npz(spec: m.NpzInput) -> Any:
    """The whole file as a dict name -> array, or the one array named by `key`; never unpickled."""
    path = spec.path
    try:
        arrays = _npz_arrays(path)
        if spec.npz.key is not None:
            return np.array(arrays[spec.npz.key])
        return {name: np.array(array) for name, array in arrays.items()}
    except FileNotFoundError:
        raise CourseError(f"{spec.where}: data file {path} is missing") from None
    except KeyError:
        raise CourseError(f"{spec.where}: {path} has no array '{spec.npz.key}'") from None
    except (OSError, ValueError) as error:  # not an npz, or arrays that would need pickle
        raise CourseError(f"{spec.where}: {path} cannot be read without pickle ({error})") from None


# The arrays of the data files this process has read, by the file's identity on disk: a check reads
# the same file once per case (the tiny GPT's weights: 59 arrays, 3 ms a read, eight cases). Callers
# get copies; a file replaced or changed on disk is read again.
_NPZ_READ: dict[tuple, dict[str, np.ndarray]] = {}
_NPZ_KEPT = 4


def _npz_arrays(path) -> dict[str, np.ndarray]:
    stat = os.stat(path)
    identity = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    arrays = _NPZ_READ.get(identity)
    if arrays is None:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.array(data[name]) for name in data.files}
        for array in arrays.values():
            array.flags.writeable = False  # only ever copied from
        if len(_NPZ_READ) >= _NPZ_KEPT:
            _NPZ_READ.pop(next(iter(_NPZ_READ)))
        _NPZ_READ[identity] = arrays
    return arrays


def _thaw(value: Any) -> Any:
    """Plain, fresh Python containers (the loader may hand over read-only mappings or tuples)."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(item) for item in value]
    return value


_GENERATORS: dict[str, Callable[..., Any]] = {  # (rng, spec) -> value; npz: (spec) -> value
    "normal": _normal,
    "uniform": _uniform,
    "integers": _integers,
    "constant": _constant,
    "array": _array,
    "mask": _mask,
    "value": _value,
    "npz": _npz,  # reads a file: called with the spec itself (see _generate)
    "dict": _value,  # entries generated one by one (see _generate)
}
