"""Values across the boundary: call arguments one way, return values the other.

Shared by both sides. The grader imports it as a module; the child gets its source
text after wire.py's in one program (see child_program.py), so it must stay
standalone: stdlib at import time, numpy inside the functions.

- `encode_value` (grader) turns a call's arguments into JSON plus raw arrays;
  `decode_value` (child) rebuilds them.
- `convert_result` turns whatever a function returned into a plain numeric ndarray or
  a short "returned ..." phrase. The child applies it to the submission's return
  values and course.grading.expected applies the same function to the reference's and
  the known mistakes', so a mistake that returns None is described exactly as a
  student's None is.
"""
import sys

if __name__ != "__main__":  # imported by the grader; in the child these come from wire.py
    from course.grading.sandbox.wire import ARRAY_KINDS, ProtocolError, contiguous

def describe_value(value: object) -> str:
    """A short phrase for a value: 'None', 'a list of str', 'an array of dtype object', ..."""
    np = sys.modules.get("numpy")
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in value})
        kind = type(value).__name__
        return f"a {kind} of {' and '.join(kinds)}" if kinds else f"an empty {kind}"
    if np is not None and isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except BaseException:  # a hostile __str__ must not take the caller down
        return "<unprintable>"


def convert_result(value: object):
    """(plain C-contiguous ndarray, None) or (None, 'returned ...').

    Numbers and bools become 0-d arrays; a Python int must fit int64 (exact
    integer results, e.g. parameter counts). Anything numpy turns into a non-numeric
    array (objects, strings, dates) is refused with what it was.
    """
    import numpy as np

    if value is None:
        return None, "returned None"
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return contiguous(np.array(value, dtype=np.int64)), None
            except OverflowError:
                return None, "returned an int too large for int64"
        arr = contiguous(value)
    except BaseException as exc:
        return None, (f"returned {describe_value(value)} that numpy could not convert to an array"
                      f" ({type(exc).__name__}: {_safe_str(exc)})")
    if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.fields is not None:
        what = describe_value(value)
        if not isinstance(value, (np.ndarray, list, tuple, str)):
            what += f" (numpy makes it an array of dtype {arr.dtype})"
        return None, f"returned {what}"
    return arr, None


def encode_value(value: object, arrays: list) -> dict:
    """One argument as JSON, its arrays appended to `arrays` (decode_value is the inverse).

    Values: numeric or bool ndarrays, numpy scalars, None, bool, int, float, str, and
    tuples / lists / dicts with str keys of these. Anything else is a TypeError, raised
    in the grader before the run starts.
    """
    from collections.abc import Mapping

    import numpy as np

    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise TypeError(f"cannot send an array of dtype {value.dtype} to the sandbox")
        arrays.append(contiguous(value))
        return {"array": len(arrays) - 1}
    if isinstance(value, np.generic):
        return {"scalar": encode_value(np.asarray(value), arrays)["array"]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"json": value}
    if isinstance(value, tuple):
        return {"tuple": [encode_value(v, arrays) for v in value]}
    if isinstance(value, list):
        return {"list": [encode_value(v, arrays) for v in value]}
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode_value(v, arrays) for k, v in value.items()}}
    raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")


def decode_value(item: dict, arrays: list):
    """Rebuild one argument that encode_value wrote (in the child)."""
    (kind, payload), = item.items()
    if kind == "json":
        return payload
    if kind == "array":
        return arrays[payload]
    if kind == "scalar":
        return arrays[payload][()]
    if kind == "tuple":
        return tuple(decode_value(v, arrays) for v in payload)
    if kind == "list":
        return [decode_value(v, arrays) for v in payload]
    if kind == "dict":
        return {k: decode_value(v, arrays) for k, v in payload.items()}
    raise ProtocolError(f"unknown argument encoding {kind!r}")
