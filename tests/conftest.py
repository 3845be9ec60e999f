"""Shared fixtures. Every test gets its own COURSE_HOME, so no test reads or writes a
real user's progress, and no COURSE_ROOT leaks in from the environment."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh COURSE_HOME (progress, started files) and course cache for this test, in-process and in children."""
    path = tmp_path / "home"
    monkeypatch.setenv("COURSE_HOME", str(path))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "course-cache"))
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    return path
