"""`course ARGS...` for tests: in this process when what is tested is the command's output,
files and exit code, in a new process when the process itself is (signals, --watch, what
`course --help` imports, the demo as a user runs it).

In-process runs are click's CliRunner with the environment and working folder the test
gives, as a child would have them, and the engine's per-process state put back after
(the root printed commands name). What comes back is a subprocess.CompletedProcess
either way, so a test reads `returncode`, `stdout` and `stderr` alike. An exception that
escapes a command is turned into what a child would show: exit 1 and the traceback on
stderr (tests assert "Traceback" is not there).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Iterator

# Commands that run the same in-process: they parse, call the engine and print. grade and verify
# fork their workers from the test's process then (CheckPool); a test of what the batch grader's
# processes do (signals, what is left running) starts `course grade` itself. Not here: autograder
# (it builds a wheel with pip), demo (the README's command as a user runs it), and anything with
# --watch (a signal ends it).
IN_PROCESS = {"lessons", "read", "exercises", "start", "hint", "check", "quiz", "review", "progress", "validate",
              "schema", "figures", "release", "export", "merge", "grade", "verify"}


# Settings read once per process (course.grading.sandbox.probe): a test that sets one needs a new process.
PROCESS_WIDE = ("COURSE_SANDBOX_",)


def command_of(args: tuple[str, ...]) -> str:
    words = iter(args)
    for word in words:
        if word == "--course":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


def run_course(*args: str, cwd: Path | str, env: dict | None = None, timeout: float = 120,
               input: str | None = None, subprocess_only: bool = False) -> subprocess.CompletedProcess:
    """`course *args` in `cwd` with `env` (default: this process's environment)."""
    args = tuple(str(a) for a in args)
    settings = env if env is not None else os.environ
    probed = any(name.startswith(PROCESS_WIDE) for name in settings)  # the sandbox is probed once per process
    if subprocess_only or probed or command_of(args) not in IN_PROCESS or "--watch" in args:
        return subprocess.run([sys.executable, "-m", "course", *args], cwd=cwd, env=env if env is not None else
                              dict(os.environ), capture_output=True, text=True, timeout=timeout, input=input)
    from click.testing import CliRunner

    from course import paths
    from course.cli import cli

    with _as_a_child(Path(cwd), env):
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True, prog_name="course")
        paths.set_active(None)
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]
        code = 1
    return subprocess.CompletedProcess(["course", *args], code, result.stdout, stderr)


@contextlib.contextmanager
def _as_a_child(cwd: Path, env: dict | None) -> Iterator[None]:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
