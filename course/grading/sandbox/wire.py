"""The wire format between the grader (parent) and the sandboxed child.

Both sides use this file. The child never imports it: the parent sends this file's
source text, followed by the other child modules (see child_program.py), as one
`python -I -S -c` program, so the module must stay standalone (stdlib only at import
time; numpy is imported inside the functions that need it, after the child has put
numpy's folder on its path). Do not add `from __future__` imports: the files are
concatenated.

A frame is:

    4-byte big-endian header length | JSON header (UTF-8) | payload

The header is a JSON object. When it has an `"arrays"` list, the payload is the
raw bytes of those arrays back to back, in that order; each entry is
`{"dtype": "<f8", "shape": [2, 3], "nbytes": 48}`. Fields elsewhere in the header
refer to arrays by their position in that list (a "slot").

The parent treats everything the child sends as hostile: headers are bounded,
dtypes must be plain numbers or bools, byte counts must match the shape exactly,
and the total payload is bounded. Arrays are rebuilt with `np.frombuffer`; nothing
is ever unpickled, evaluated or imported.
"""
import json
import os
import re
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the type checker only: the child runs without these imports
    from collections.abc import Sequence

    import numpy as np

HEADER_PREFIX = struct.Struct(">I")
MAX_CHILD_HEADER_BYTES = 64 << 10  # a child header larger than this is an attack or a bug
MAX_NDIM = 32
MAX_ELEMENTS = 1 << 40  # product of the non-zero sizes: numpy refuses more ("array is too big")
ARRAY_KINDS = "biufc"  # bool, signed, unsigned, float, complex: nothing else crosses
_DTYPE_RE = re.compile(r"[<>|=]?[biufc][0-9]{1,2}")


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed frame."""


# --------------------------------------------------------------------------- arrays


def array_spec(arr) -> dict:
    """The header entry that describes `arr`'s bytes (arr must be C-contiguous)."""
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "nbytes": int(arr.nbytes)}


def check_array_spec(spec: object) -> tuple:
    """Validate a header's array entry; return (numpy dtype, shape tuple, nbytes).

    Why so strict: the spec comes from the untrusted child, and a lying spec
    (object dtype, a shape whose product overflows, a byte count that does not
    match) is the classic way to make a reader misbehave.
    """
    import numpy as np

    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "nbytes"}:
        raise ProtocolError(f"malformed array description: {_short(spec)}")
    text, shape, nbytes = spec["dtype"], spec["shape"], spec["nbytes"]
    if not isinstance(text, str) or not _DTYPE_RE.fullmatch(text):
        raise ProtocolError(f"array dtype {_short(text)} is not a plain numeric dtype")
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise ProtocolError(f"array dtype {text!r} is not understood: {exc}") from None
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"array dtype {text!r} is not a plain numeric dtype")
    if not isinstance(shape, list) or len(shape) > MAX_NDIM:
        raise ProtocolError(f"array shape {_short(shape)} is not a list of at most {MAX_NDIM} sizes")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError(f"array shape {_short(shape)} has a size that is not a non-negative int")
    count, span = 1, 1
    for n in shape:  # Python ints: no overflow, unlike np.prod
        count *= n
        span *= max(n, 1)
    if span > MAX_ELEMENTS:  # even an empty array, e.g. (0, 2**70), must be one numpy can make
        raise ProtocolError(f"array shape {_short(shape)} is larger than numpy can hold")
    if type(nbytes) is not int or nbytes != count * dtype.itemsize:
        raise ProtocolError(
            f"array byte count {_short(nbytes)} does not match shape {shape} of {text}"
        )
    return dtype, tuple(shape), nbytes


def build_array(dtype, shape: tuple, data) -> "object":
    """An owned, writable ndarray from exactly dtype.itemsize * prod(shape) bytes."""
    import numpy as np

    try:
        if len(data) == 0:
            return np.zeros(shape, dtype=dtype)
        flat = np.frombuffer(data, dtype=dtype)
        return flat.reshape(shape).copy()
    except (ValueError, OverflowError, MemoryError) as exc:  # numpy's own refusal, never a traceback
        raise ProtocolError(f"array of shape {_short(list(shape))} cannot be built: {exc}") from None


def contiguous(value) -> "np.ndarray":
    """`value` as a C-contiguous plain ndarray, ready to send.

    Not np.ascontiguousarray alone: it turns a 0-d array into shape (1,).
    """
    import numpy as np

    arr = np.asarray(value)
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


# --------------------------------------------------------------------------- frames


def encode_frame(header: dict, arrays: "Sequence" = ()) -> list:
    """The byte chunks of one frame; `arrays` must be C-contiguous plain ndarrays.

    The header's "arrays" entry is filled in here so the description can never
    disagree with the bytes that follow it.
    """
    if arrays:
        header = dict(header, arrays=[array_spec(a) for a in arrays])
    body = json.dumps(header, separators=(",", ":")).encode("utf-8")
    chunks = [HEADER_PREFIX.pack(len(body)), body]
    chunks.extend(a.tobytes() for a in arrays)
    return chunks


class FrameReader:
    """Incremental parser for a byte stream of frames.

    `push` accepts whatever `os.read` returned; `next_frame` returns complete frames
    as (header dict, list of ndarrays). Bounds: each header at most `max_header`
    bytes, all payloads together at most `max_payload` bytes; anything else
    raises ProtocolError, after which the reader must not be used again.
    """

    def __init__(self, max_header: int, max_payload: int) -> None:
        self.max_header = max_header
        self.payload_left = max_payload
        self._buffer = bytearray()
        self._pending = None  # (header, [(dtype, shape, nbytes)], payload size) once the header is parsed

    def push(self, data: bytes) -> None:
        """Buffer bytes; take the frames out with next_frame()."""
        self._buffer += data

    def next_frame(self):
        """The next complete frame, or None until more bytes are pushed."""
        return self._next()

    def feed(self, data: bytes) -> list:
        """push + every complete frame (a ProtocolError loses the frames before it:
        callers that must keep them use push/next_frame)."""
        self.push(data)
        frames = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    @property
    def partial(self) -> bool:
        """True when some bytes of an unfinished frame are buffered."""
        return bool(self._buffer) or self._pending is not None

    def _next(self):
        if self._pending is None:
            if len(self._buffer) < HEADER_PREFIX.size:
                return None
            (size,) = HEADER_PREFIX.unpack_from(self._buffer)
            if size > self.max_header:
                raise ProtocolError(f"header of {size} bytes is larger than {self.max_header}")
            if len(self._buffer) < HEADER_PREFIX.size + size:
                return None
            raw = bytes(self._buffer[HEADER_PREFIX.size : HEADER_PREFIX.size + size])
            del self._buffer[: HEADER_PREFIX.size + size]
            header = parse_header(raw)
            specs = header.get("arrays", [])
            if not isinstance(specs, list):
                raise ProtocolError("header field 'arrays' is not a list")
            checked = [check_array_spec(s) for s in specs]
            total = sum(nbytes for _, _, nbytes in checked)
            if total > self.payload_left:
                raise ProtocolError(
                    f"arrays of {total} bytes exceed the {self.payload_left} bytes left in the result limit"
                )
            self.payload_left -= total
            self._pending = (header, checked, total)
        header, checked, total = self._pending
        if len(self._buffer) < total:
            return None
        arrays, offset = [], 0
        view = memoryview(self._buffer)
        try:
            for dtype, shape, nbytes in checked:
                arrays.append(build_array(dtype, shape, view[offset : offset + nbytes]))
                offset += nbytes
        finally:
            view.release()
        del self._buffer[:total]
        self._pending = None
        return header, arrays


def parse_header(raw: bytes) -> dict:
    """A header's JSON object; any decoding problem is a ProtocolError."""
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"header is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError("header is not a JSON object with a 'type'")
    return header


def write_frame(fd: int, header: dict, arrays: "Sequence" = ()) -> None:
    """Blocking write of one frame to `fd` (the child's side of a pipe)."""
    for chunk in encode_frame(header, arrays):
        view = memoryview(chunk)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def read_frame(fd: int, reader: FrameReader):
    """Blocking read of the next frame from `fd`; None at end of stream."""
    while True:
        frame = reader.next_frame()
        if frame is not None:
            return frame
        data = os.read(fd, 1 << 20)
        if not data:
            if reader.partial:
                raise ProtocolError("stream ended inside a frame")
            return None
        reader.push(data)


def _short(value: object, limit: int = 80) -> str:
    """A bounded repr for error messages about hostile data."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
