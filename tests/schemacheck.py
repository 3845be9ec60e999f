"""check-jsonschema (a YAML 1.2 reader, as editors use) on course files, for the schema tests.

Its own command, run in this process with click's CliRunner (its entry point is a click
command): the same checks and output as `check-jsonschema --schemafile SCHEMA FILE...`,
without a Python start and its imports per run. What comes back is a
subprocess.CompletedProcess, as a run of the program would give.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterable


def check_jsonschema(schema: Path, files: Iterable[Path]) -> subprocess.CompletedProcess:
    """`check-jsonschema --schemafile SCHEMA FILE...`: exit code, stdout, stderr."""
    from check_jsonschema import main
    from click.testing import CliRunner

    args = ["--schemafile", str(schema), *map(str, files)]
    result = CliRunner().invoke(main, args, catch_exceptions=False, prog_name="check-jsonschema")
    return subprocess.CompletedProcess(["check-jsonschema", *args], result.exit_code, result.stdout, result.stderr)
