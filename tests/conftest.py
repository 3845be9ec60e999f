"""Shared fixtures. Every test gets its own COURSE_HOME, so no test reads or writes a
real user's progress, and no COURSE_ROOT leaks in from the environment.

The cache of validated courses (course/cache.py) is shared by the tests of one session
(one per pytest-xdist worker): its entries are keyed by the content's hashes, so a test
never gets another course's entry, and the built-in course is validated once per worker
instead of once per test. tests/engine/test_course_cache.py gives its tests their own.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # coursefactory and the shared helpers, from any folder


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
