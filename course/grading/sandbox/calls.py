"""The child's call loop: import the submission, call it on each input it is sent.

Child-side only. The program is wire.py + values.py + jail.py + this file +
child_main.py as one text (see child_program.py); names such as read_frame,
write_frame, ARRAY_KINDS, contiguous, convert_result, decode_value and _safe_str come
from the files before this one (the TYPE_CHECKING import is for readers and linters).

Everything here runs alongside student code and may be tampered with; that is fine,
because the grader only ever receives values and compares them itself.
"""
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # never true when run: the grader puts the other files' source in front
    from course.grading.sandbox.values import _safe_str, convert_result, decode_value
    from course.grading.sandbox.wire import ARRAY_KINDS, contiguous, read_frame, write_frame

MAX_ERROR_CHARS = 6000
_STUDENT_FILES: set = set()  # the student's other files it may import: their frames are theirs too


def _type_name(exc: BaseException) -> str:
    try:
        name = type(exc).__name__
        return name if isinstance(name, str) else "<unnamed exception>"
    except BaseException:  # a metaclass may make even the name hostile
        return "<unnamed exception>"


# --------------------------------------------------------------------------- messages


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """Keep an error message bounded (headers to the parent must stay small)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters trimmed] ...\n{text[-half:]}"


def _student_frames(tb, filename: str, keep: int = 20):
    """The traceback's frames in the student's file: the first and last `keep` of them.

    Walks the chain itself (no formatting) so a million-frame RecursionError stays cheap.
    """
    import collections
    import traceback

    head: list = []
    tail: collections.deque = collections.deque(maxlen=keep)
    total = 0
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename != filename and frame.f_code.co_filename not in _STUDENT_FILES:
            continue
        total += 1
        (head if len(head) < keep else tail).append((frame, lineno))
    return head, list(tail), total - len(head) - len(tail)


def describe_exception(exc: BaseException, filename: str) -> str:
    """'ValueError: msg' plus the traceback limited to frames of the student's file."""
    import traceback

    name = "MemoryError" if isinstance(exc, MemoryError) else _type_name(exc)
    message = _safe_str(exc)
    text = f"{name}: {message}" if message else name
    try:
        head, tail, skipped = _student_frames(exc.__traceback__, filename)
        if head:
            lines = "".join(traceback.StackSummary.extract(head).format())
            if skipped:
                lines += f"  [... {skipped} more frames ...]\n"
            lines += "".join(traceback.StackSummary.extract(tail).format())
            text += f"\nTraceback (most recent call last, your files only):\n{lines.rstrip()}"
    except BaseException:
        pass
    return clip(text)


def describe_syntax_error(exc: SyntaxError) -> str:
    """'SyntaxError: invalid syntax (line 3)' followed by Python's caret display."""
    import traceback

    head = f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
    detail = "".join(traceback.format_exception_only(type(exc), exc)[:-1]).rstrip()
    return clip(f"{head}\n{detail}" if detail else head)


# --------------------------------------------------------------------------- the submission


class _StudentModules:
    """Import hook for the student's other files that an exercise lets it import.

    Why: an exercise may build on an earlier one (self_attention may call the student's
    own softmax). The grader sends those files' sources with the submission; `import
    softmax` then runs the student's softmax.py, from that source, in this sandbox.
    """

    def __init__(self, sources: dict) -> None:
        import importlib.util
        import linecache

        # imported here, before this finder is on sys.meta_path: an import inside
        # find_spec would ask this finder again, without end
        self.sources, self._spec, self._lines = sources, importlib.util.spec_from_loader, linecache.cache

    def find_spec(self, name, path=None, target=None):
        if name in self.sources:
            return self._spec(name, self, origin=f"{name}.py")
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        filename = f"{module.__name__}.py"
        source = self.sources[module.__name__]
        self._lines[filename] = (len(source), None, source.splitlines(True), filename)
        module.__file__ = filename
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)


def _one_file_hint(exc: BaseException, allowed: list, present: list) -> str:
    """Why `import helper` fails: a submission is one file (and which files it may import)."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, ModuleNotFoundError) or not isinstance(name, str) or name in present:
        return ""
    if name in allowed:
        return (f"\n(this exercise lets you import your own {name}.py, but there is no {name}.py beside "
                f"this file: put yours there)")
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top == "numpy":
        return ""
    others = (f"; of your other files it may import only {', '.join(sorted(allowed))}" if allowed
              else "; it may not import your other files")
    return (f"\n(a submission is one file: {name!r} is not available to it{others}. Put the helper "
            f"functions you need inside this file.)")


def load_submission(config: dict):
    """(function, None) or (None, error text). Student code first runs here."""
    import linecache
    import types

    source, filename, function = config["source"], config["filename"], config["function"]
    modules = config.get("modules") or {}
    if modules:
        sys.meta_path.insert(0, _StudentModules(modules))
        _STUDENT_FILES.update(f"{name}.py" for name in modules)
    # Lets tracebacks show the student's lines although no file exists in the child.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return None, describe_syntax_error(exc)
    except (ValueError, TypeError) as exc:  # e.g. null bytes in the source
        return None, f"{type(exc).__name__}: {exc}"
    module = types.ModuleType(config["module"])
    module.__file__ = filename
    sys.modules[config["module"]] = module
    sys.argv = [filename]
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too
        text = describe_exception(exc, filename) + _one_file_hint(exc, config.get("allowed", []), list(modules))
        if isinstance(exc, SystemExit):
            text += "\n(the file called sys.exit while being imported)"
        return None, text
    try:
        fn = module.__dict__[function]
    except KeyError:
        return None, f"the file defines no function named {function!r}"
    if not callable(fn):
        return None, f"{function!r} is not callable"
    return fn, None


class Budget:
    """The child's share of the parent's result_bytes limit, checked before sending."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, nbytes: int) -> bool:
        if nbytes > self.left:
            return False
        self.left -= nbytes
        return True


def run_call(fn, header: dict, arrays: list, budget: Budget, filename: str):
    """Call the function once; return the result frame (header, arrays)."""
    import numpy as np

    args = [decode_value(v, arrays) for v in header["args"]]
    kwargs = {k: decode_value(v, arrays) for k, v in header["kwargs"].items()}
    reply = {"type": "result", "index": header["index"], "status": "ok", "error": None,
             "value": None, "args_after": [None] * len(args), "kwargs_after": {}}
    out: list = []
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # SystemExit / KeyboardInterrupt are results too
        reply.update(status="raised", error=describe_exception(exc, filename))
        value = None
    else:
        arr, problem = convert_result(value)
        if problem is None and not budget.take(arr.nbytes):
            problem = (f"returned an array of {arr.nbytes} bytes, more than is left of the"
                       f" result limit ({budget.left} bytes)")
        if problem is not None:
            reply.update(status="bad_return", error=problem)
        else:
            reply["value"] = len(out)
            out.append(arr)
    for position, arg in enumerate(args):
        if isinstance(arg, np.ndarray) and arg.dtype.kind in ARRAY_KINDS:
            after = contiguous(arg)
            if budget.take(after.nbytes):
                reply["args_after"][position] = len(out)
                out.append(after)
    for name, arg in kwargs.items():
        if isinstance(arg, np.ndarray) and arg.dtype.kind in ARRAY_KINDS:
            after = contiguous(arg)
            if budget.take(after.nbytes):
                reply["kwargs_after"][name] = len(out)
                out.append(after)
    return reply, out


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def serve(fn, config: dict, in_fd: int, out_fd: int, reader) -> None:
    """Answer "call" frames until "end" (or the parent closes the pipe)."""
    budget = Budget(config["limits"]["result"])
    while True:
        frame = read_frame(in_fd, reader)
        if frame is None or frame[0]["type"] == "end":
            return
        header, arrays = frame
        reply, out = run_call(fn, header, arrays, budget, config["filename"])
        del header, arrays, frame  # inputs must not linger where the next call could find them
        _flush_std()
        write_frame(out_fd, reply, out)
        del reply, out
