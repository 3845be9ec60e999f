"""What does grading on a Dask cluster cost per submission, against the local pre-forked pool?

    .venv/bin/python bench/grade_dask.py [--students 200] [--keep DIR]

Writes 200 student folders of 5 files each, 1,000 submissions, with bench/grade_batch.py's
mix (correct files, known mistakes, unchanged starters, syntax errors, files that raise,
hostile files) but no infinite loop. Then, in the same run and on the same machine:

 1. `course grade SUBMISSIONS --out local --jobs 2`: the local pre-forked pool, 2 workers;
 2. a `dask scheduler` and 2 `dask worker` processes (--nthreads 2 each) on 127.0.0.1, and
    `course grade SUBMISSIONS --out dask --executor dask://127.0.0.1:PORT`.

Both are timed from start to exit (a subprocess each: loading the course, and for Dask
connecting to the scheduler, are part of it; starting the cluster is not). It checks that
both wrote the same grades.csv, and prints the time per submission of each, their ratio,
and the difference per submission: the Dask engine's own overhead (a task, its transfer
and scheduling), since each Dask worker grades exactly as a local worker does.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grade_batch import make_submissions, timed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def start_cluster(base: Path, env: dict, workers: int) -> tuple[list[subprocess.Popen], str]:
    log = open(base / "cluster.log", "w")
    scheduler_file = base / "scheduler.json"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists():
        if time.monotonic() > deadline:
            sys.exit("the Dask scheduler did not start (see cluster.log)")
        time.sleep(0.1)
    address = json.loads(scheduler_file.read_text())["address"]
    for number in range(workers):
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "2", "--name",
             f"bench-{number}", "--no-dashboard", "--local-directory", str(base / f"worker-{number}")],
            cwd=base, env=dict(env, COURSE_ROOT=str(ROOT)), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return processes, address


def stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200, help="student folders of 5 files each (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="local --jobs and Dask workers (default 2)")
    parser.add_argument("--keep", metavar="DIR", help="write everything here and keep it (default: a temporary folder)")
    options = parser.parse_args()
    try:
        import distributed  # noqa: F401
    except ImportError:
        sys.exit("this bench needs Dask distributed: pip install '.[dask]'")

    base = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="grade-dask-"))
    base.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        submissions = base / "submissions"
        shutil.rmtree(submissions, ignore_errors=True)
        counts = make_submissions(submissions, options.students, hangs=0)
        total = sum(counts.values())
        env = dict(os.environ, COURSE_HOME=str(base / "home"), NO_COLOR="1")
        env.pop("COURSE_ROOT", None)
        command = [sys.executable, "-m", "course", "--course", str(ROOT), "grade", str(submissions)]
        for out in ("local", "dask"):
            shutil.rmtree(base / out, ignore_errors=True)

        local_seconds, local = timed(command + ["--out", str(base / "local"), "--jobs", str(options.workers)], env, base)
        if local.returncode not in (0, 1):
            sys.exit(f"local course grade failed (exit {local.returncode}):\n{local.stderr}")
        processes, address = start_cluster(base, env, options.workers)
        executor = "dask://" + address.removeprefix("tcp://")
        dask_seconds, remote = timed(command + ["--out", str(base / "dask"), "--executor", executor], env, base)
        if remote.returncode not in (0, 1):
            sys.exit(f"course grade on Dask failed (exit {remote.returncode}):\n{remote.stderr}")
        same = (base / "local" / "grades.csv").read_text() == (base / "dask" / "grades.csv").read_text()

        local_each, dask_each = local_seconds / total, dask_seconds / total
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        print(f"{total} submissions from {options.students} students; mix: "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1])))
        print(f"local pool, --jobs {options.workers}: {local_seconds:.1f} s = {local_each * 1000:.0f} ms per submission")
        print(f"Dask, {options.workers} workers x 2 threads: {dask_seconds:.1f} s = {dask_each * 1000:.0f} ms "
              f"per submission")
        print(f"ratio Dask / local: {dask_each / local_each:.2f}; Dask's overhead: "
              f"{(dask_each - local_each) * 1000:+.0f} ms per submission")
        print(f"same grades.csv: {'yes' if same else 'NO'}")
        if not same:
            sys.exit(1)
    finally:
        stop(processes)
        if not options.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
