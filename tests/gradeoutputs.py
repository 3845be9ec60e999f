"""Comparing `course grade` outputs: two runs' files, apart from timestamps and timings.

Used by the merge and Dask tests: a merged set of shards, or a run on a Dask cluster,
must write the same files as one local run. What may differ is only when and how long:
results.json's written_at, each result's seconds, Gradescope's execution_time and
JUnit's time attributes.
"""
from __future__ import annotations

import courserunner
import json
import os
import re
import subprocess
from pathlib import Path

TIMING_KEYS = {"written_at", "seconds", "execution_time"}


def _without_timings(node):
    if isinstance(node, dict):
        return {k: _without_timings(v) for k, v in node.items() if k not in TIMING_KEYS}
    if isinstance(node, list):
        return [_without_timings(v) for v in node]
    return node


def outputs(out: Path) -> dict[str, object]:
    """Every file of a `course grade --out` folder, relative path -> comparable content."""
    found: dict[str, object] = {}
    for path in sorted(p for p in Path(out).rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            found[name] = _without_timings(json.loads(text))
        elif path.suffix == ".xml":
            found[name] = re.sub(r' time="[^"]*"', "", text)
        elif path.suffix == ".html":
            found[name] = re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "T", text)
        else:
            found[name] = text
    return found


def run_course(*args: str, cwd: Path, env: dict | None = None, timeout: float = 600,
               subprocess_only: bool = False) -> subprocess.CompletedProcess:
    env = dict(env or os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=timeout, subprocess_only=subprocess_only)
