"""The child program and its first frame, as the grader prepares them.

The child runs `python -I -S -c <program> IN_FD OUT_FD GRADER_PID`: isolated mode, no
site-packages, no file of ours on its path. The program is the source text of the
child-side modules, in this order (each may use the names of those before it):

    wire.py        frames and arrays (shared with the grader)
    values.py      argument encoding, return-value conversion (shared with the grader)
    jail.py        rlimits, namespaces, the allow-listed view, dropping privileges
    calls.py       loading the submission and answering calls
    child_main.py  the outer / init / worker processes
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from course.grading.sandbox.records import Limits

CHILD_MODULES = ("wire.py", "values.py", "jail.py", "calls.py", "child_main.py")
CHILD_WORKDIR = "/tmp/sandbox"  # inside the sandbox's private /tmp
SUBMISSION_MODULE = "submission"
NOFILE = 64
BACKSTOP_SECONDS = 60  # the init's own alarm, beyond the wall limit: for a grader that is gone
TOKEN_ENV = "COURSE_SANDBOX_TOKEN"  # fallback only: finds descendants that left the group

_lock = threading.Lock()
_program: str | None = None
_numpy: tuple[list[str], list[str]] | None = None


def child_program() -> str:
    """The child modules' source as one program (read once per process)."""
    global _program
    with _lock:
        if _program is None:
            here = Path(__file__).resolve().parent
            _program = "\n\n".join((here / name).read_text(encoding="utf-8") for name in CHILD_MODULES)
        return _program


class NumpyMissing(RuntimeError):
    pass


def numpy_paths() -> tuple[list[str], list[str]]:
    """([the folder holding numpy], [numpy's package folder, its bundled libraries]).

    The first goes on the child's sys.path (it runs with -S); the second is what of
    that folder the sandbox may see. Found without importing numpy, so the child can
    start before the grader pays for it.
    """
    global _numpy
    with _lock:
        if _numpy is None:
            import importlib.util

            spec = importlib.util.find_spec("numpy")
            if spec is None or spec.origin is None:
                raise NumpyMissing("numpy is not installed: the sandbox needs it")
            package = Path(spec.origin).resolve().parent
            site = package.parent
            visible = [str(package)] + [str(p) for p in sorted(site.glob("numpy.libs")) if p.is_dir()]
            _numpy = ([str(site)], visible)
        return _numpy


def child_env(home: str, token: str | None) -> dict[str, str]:
    """The whole environment of the child: nothing of the grader's leaks through."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # old OpenBLAS builds crash without
        if name in os.environ:
            env[name] = os.environ[name]
    if token is not None:
        env[TOKEN_ENV] = token
    return env


def load_config(source: str, filename: str, function: str, limits: Limits, mode: str | None,
                uid: int | None = None, probe: bool = False, cgroup_procs: Sequence[str] = (),
                modules: dict[str, str] | None = None, allowed: tuple[str, ...] = ()) -> dict:
    """The first frame: everything the child needs before it has any inputs.

    modules: the student's other files this submission may import, name -> source.
    allowed: the names the exercise lets it import (a missing one is named as such).
    """
    site, visible = numpy_paths()
    jail = None
    if mode is not None:
        jail = {"mode": mode, "uid": uid, "tmp_bytes": max(4 * limits.file_bytes, 16 << 20),
                "workdir": CHILD_WORKDIR, "nproc": int(limits.processes)}
    return {
        "type": "load", "probe": probe, "source": source, "filename": filename,
        "function": function, "module": SUBMISSION_MODULE, "modules": dict(modules or {}),
        "allowed": sorted(set(allowed) | set(modules or {})),
        "site": site, "numpy_dirs": visible,
        "jail": jail, "cgroup_procs": list(cgroup_procs),
        "limits": {"cpu": int(limits.cpu_seconds), "memory": int(limits.memory_bytes),
                   "file": int(limits.file_bytes), "nofile": NOFILE,
                   "result": int(limits.result_bytes),
                   "backstop": int(limits.wall_seconds) + BACKSTOP_SECONDS},
    }
