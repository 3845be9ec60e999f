"""Shared fixtures. Every test gets its own COURSE_HOME, so no test reads or writes a
real user's progress, and no COURSE_ROOT leaks in from the environment.

The cache of validated courses (course/cache.py) is shared by the tests of one session
(one per pytest-xdist worker): its entries are keyed by the content's hashes, so a test
never gets another course's entry, and the built-in course is validated once per worker
instead of once per test. tests/engine/test_course_cache.py gives its tests their own.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

# What `course` itself does (course/cli.py: main): one BLAS thread. In-process commands run through
# click's CliRunner, not main(), so the tests set it here, before anything imports numpy; the
# `course` processes they start inherit it. (With a BLAS thread per CPU in each xdist worker,
# next to the sandboxes, the spinning threads made numpy's small products ten times slower.)
from course.cli import SINGLE_THREADED_BLAS  # noqa: E402  (imports neither numpy nor matplotlib)

for _name in SINGLE_THREADED_BLAS:
    os.environ.setdefault(_name, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # coursefactory and the shared helpers, from any folder

# A shell without job control (a script, a CI runner, `python -m pytest ... &`) starts a background command
# with SIGINT ignored, and an ignored signal stays ignored through fork and exec: the `course` processes of
# the tests that press Ctrl-C never saw it and hung until the test's timeout. A terminal's foreground job
# has SIGINT at its default; so the tests restore that (a handler, unlike "ignore", is not inherited).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: pytest -p no:xdist still runs
def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: two workers per CPU. Much of a test's time is spent waiting for what it
    started (a sandbox at its time limit, a `course grade` process, a pexpect session), and a
    second worker per CPU fills that time: on 2 CPUs the quick tier took 65 s with 4 workers, against
    73 s with 6 (and, in an earlier state of the suite, 83 s with 4 against 86 s with 3)."""
    return 2 * (os.cpu_count() or 1)


def pytest_configure(config) -> None:
    """Under pytest-xdist, the controller writes the test modules' rewritten-assert caches while the
    workers start, so that they load them instead of each rewriting every module (2 s of CPU per
    worker, all at the same time, at the start of every run where no cache exists yet: a fresh clone,
    or PYTHONDONTWRITEBYTECODE set, which stops the workers from writing it). An optimisation only:
    pytest reads a cache even with PYTHONDONTWRITEBYTECODE, checks each against its source, and a
    worker that finds none rewrites the module itself."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    import threading

    threading.Thread(target=_write_rewritten_test_modules, args=(config,), daemon=True).start()


def pytest_collection_finish(session) -> None:
    """What collection loaded (pytest, the engine, numpy, matplotlib, pydantic's models, the test
    modules) stays for the whole run, so the cyclic garbage collector stops re-scanning it
    (gc.freeze), and it runs after 7,000 new objects instead of 700. The tests make objects by the
    hundred thousand (a figure's artists, YAML nodes, models): with Python's defaults, collecting
    took 6.2 s of the four workers' 57 s of CPU, with these 2.5 s (gc.callbacks, timed per worker).
    A cycle is still collected, later; nothing a test checks waits on one (sandboxes are closed
    explicitly)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 10, 10)


def _write_rewritten_test_modules(config) -> None:
    try:  # pytest's own rewriting, as a worker would do it (not a public API: any change, and nothing is written)
        from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, assertstate_key
        from _pytest.assertion.rewrite import get_cache_dir, try_makedirs

        state = config.stash[assertstate_key]
        tests = Path(__file__).resolve().parent
        for source in sorted(tests.rglob("test_*.py")) + sorted(tests.rglob("conftest.py")):
            cache = get_cache_dir(source)
            pyc = cache / (source.name[:-3] + PYC_TAIL)
            if try_makedirs(cache) and _read_pyc(source, pyc, lambda *_: None) is None:
                source_hash, code = _rewrite_test(source, config)
                _write_pyc(state, code, source_hash, pyc)
    except Exception:
        pass


@pytest.fixture(scope="session")
def builtin_lesson_figures(tmp_path_factory):
    """The built-in lesson's figures, drawn once per worker for the tests that only look at them
    (tests/engine/test_figures.py and tests/content/test_figures_readable.py): the folder and
    render_lesson_figures' records."""
    from course.loader import load_course
    from course.paths import builtin_root
    from course.plots.figures import render_lesson_figures

    out = tmp_path_factory.mktemp("lesson-figures")
    return out, render_lesson_figures(load_course(builtin_root()).lesson("lesson-3"), out)


@pytest.fixture(scope="session")
def shared_course_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("course-cache")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch, shared_course_cache):
    """A fresh COURSE_HOME (progress, started files) for this test, in-process and in children."""
    path = tmp_path / "home"
    monkeypatch.setenv("COURSE_HOME", str(path))
    monkeypatch.setenv("COURSE_CACHE", str(shared_course_cache))
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    return path
