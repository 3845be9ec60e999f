"""`course grade --executor dask://HOST:PORT` on a real Dask cluster on 127.0.0.1.

A real `dask scheduler` and two `dask worker` processes, started here as an instructor
would start them (each worker in its own session, with COURSE_ROOT naming its copy of
the course). The same class graded locally and on the cluster must give the same
grades.csv, results.json and per-student files, apart from timestamps; killing a worker
in the middle of a run must lose nothing; a worker with another course refuses.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import importlib.util

pytestmark = [
    pytest.mark.slow,  # see pyproject.toml: the end-to-end tier
    pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                       reason="the Dask tests need dask[distributed] (pip install '.[test-slow]')"),
]

from course.paths import builtin_root  # noqa: E402
from gradeoutputs import outputs, run_course  # noqa: E402

ROOT = builtin_root()


def source(exercise_id: str, name: str = "reference.py") -> str:
    return (ROOT / "exercises" / exercise_id / name).read_text()


class Cluster:
    """A scheduler and `workers` workers on 127.0.0.1, each a process group of its own."""

    def __init__(self, base: Path, workers: int = 2, env: dict | None = None):
        self.base, self.env = base, dict(env or os.environ)
        self.file = base / "scheduler.json"
        self.log = open(base / "cluster.log", "w")
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(self.file)],
            cwd=base, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [self.start_worker(f"w{i}") for i in range(workers)]
        self.wait_for(workers)

    def start_worker(self, name: str, course_root: Path = ROOT) -> subprocess.Popen:
        env = dict(self.env, COURSE_ROOT=str(course_root))
        return subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "2", "--name", name,
             "--no-dashboard", "--local-directory", str(self.base / name)],
            cwd=self.base, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_for(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(count, timeout=120)

    @property
    def executor(self) -> str:
        return "dask://" + self.address.removeprefix("tcp://")

    def kill(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the nanny, its worker and the worker's helper
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(process)
        self.scheduler.terminate()
        try:
            self.scheduler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill(self.scheduler)
        self.log.close()


def make_class(subs: Path, count: int) -> None:
    kinds = [
        {e: source(e) for e in ("softmax", "causal_mask", "layer_norm")},
        {"softmax": source("softmax", "mistakes/no_max_subtraction.py"), "causal_mask": source("causal_mask", "starter.py")},
        {"softmax": "import sys\nsys.exit(0)\n", "layer_norm": "def layer_norm(x, gamma, beta, eps=1e-5):\n    return x\n"},
        {"causal_mask": "def causal_mask(n):\n    return 1 / 0\n"},
    ]
    for index in range(count):
        folder = subs / f"s{index:03d}"
        folder.mkdir(parents=True)
        for exercise_id, text in kinds[index % len(kinds)].items():
            (folder / f"{exercise_id}.py").write_text(text)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("dask")
    running = Cluster(base)
    yield running
    running.close()


ASSIGNED = ["--exercise", "softmax", "--exercise", "causal_mask", "--exercise", "layer_norm"]


def test_a_class_graded_on_dask_gives_the_files_a_local_run_gives(cluster, tmp_path):
    make_class(tmp_path / "subs", 12)
    local = run_course("--course", str(ROOT), "grade", "subs", "--out", "local", *ASSIGNED, cwd=tmp_path)
    assert local.returncode == 1, local.stdout + local.stderr
    remote = run_course("--course", str(ROOT), "grade", "subs", "--out", "remote", *ASSIGNED,
                        "--executor", cluster.executor, cwd=tmp_path)
    assert remote.returncode == local.returncode, remote.stdout + remote.stderr
    assert "Traceback" not in remote.stderr
    assert (tmp_path / "remote" / "grades.csv").read_text() == (tmp_path / "local" / "grades.csv").read_text()
    assert outputs(tmp_path / "remote") == outputs(tmp_path / "local")
    # a re-run on the cluster reuses unchanged students, as a local one does
    again = run_course("--course", str(ROOT), "grade", "subs", "--out", "remote", *ASSIGNED,
                       "--executor", cluster.executor, cwd=tmp_path)
    assert "0 graded, 12 unchanged" in again.stdout


def test_a_worker_with_another_course_refuses_the_task(cluster, tmp_path):
    root = tmp_path / "changed-course"
    for folder in ("content", "exercises"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    yaml = root / "exercises" / "softmax" / "exercise.yaml"
    yaml.write_text(yaml.read_text().replace("wall_seconds: 10", "wall_seconds: 9"))
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "softmax.py").write_text(source("softmax"))
    done = run_course("--course", str(root), "grade", "subs", "--out", "out", "--exercise", "softmax",
                      "--executor", cluster.executor, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "1 of 1 student could not be graded" in done.stderr
    result = json.loads((tmp_path / "out" / "results.json").read_text())["students"][0]["results"][0]
    assert result["status"] == "could_not_grade" and result["score"] == 0
    assert "fingerprint" in result["cases"][0]["message"] and "not the course of this task" in result["cases"][0]["message"]


def test_a_scheduler_that_is_not_there_is_a_clear_error(tmp_path):
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "softmax.py").write_text(source("softmax"))
    done = run_course("grade", "subs", "--out", "out", "--executor", "dask://127.0.0.1:9", cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
    bad = run_course("grade", "subs", "--out", "out", "--executor", "ftp://x", cwd=tmp_path)
    assert bad.returncode == 2 and "expected local, dask://HOST:PORT" in bad.stderr


def test_killing_a_worker_mid_run_loses_nothing(tmp_path):
    base = tmp_path / "cluster"
    base.mkdir()
    subs = tmp_path / "subs"
    slow = "import time\n\ndef softmax(x, axis=-1):\n    time.sleep(0.05)\n    import numpy as np\n" \
           "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)\n"
    for index in range(12):
        (subs / f"s{index:02d}").mkdir(parents=True)
        (subs / f"s{index:02d}" / "softmax.py").write_text(slow if index % 3 else source("softmax", "mistakes/wrong_axis.py"))
    # a process, as the run it is compared with: the test's own process may import the checkout where
    # `python -m course` imports the installed copy, and the commands a report prints name the root
    # relative to the copy in use
    local = run_course("--course", str(ROOT), "grade", "subs", "--out", "local", "--exercise", "softmax", cwd=tmp_path,
                       subprocess_only=True)
    assert local.returncode == 1, local.stderr
    cluster = Cluster(base)
    try:
        command = [sys.executable, "-m", "course", "--course", str(ROOT), "grade", "subs", "--out", "remote",
                   "--exercise", "softmax", "--executor", cluster.executor]
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, NO_COLOR="1"))
        finished = 0
        while finished < 3:  # the run is well under way: students are coming back
            line = process.stdout.readline()
            assert line, process.stderr.read()
            finished += line.startswith("s")
        cluster.kill(cluster.workers[0])
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == local.returncode, stdout + stderr
        assert "could not be graded" not in stderr
        assert outputs(tmp_path / "remote") == outputs(tmp_path / "local")
    finally:
        cluster.close()
