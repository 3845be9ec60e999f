"""`course autograder OUT.zip`: Gradescope's harness, simulated offline.

The zip is built once (its wheels for this machine's Python and platform, so that
setup.sh can install them here), unpacked as Gradescope unpacks it into
/autograder/source, set up with setup.sh and run with run_autograder on real
submissions. AUTOGRADER_ROOT points both scripts at a temporary /autograder; as root,
one more run happens at the literal /autograder, in a private mount namespace where
the temporary folder is bind-mounted there. Every results.json is validated against a
JSON Schema written from Gradescope's specification (tests/engine/schemas/).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course.loader import load_course
from course.paths import builtin_root
from gradeoutputs import run_course

jsonschema = pytest.importorskip("jsonschema", reason="validating results.json needs jsonschema (pip install '.[test]')")

ROOT = builtin_root()
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope-results.schema.json").read_text())
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ASSIGNED = ("softmax", "causal_mask")

pytestmark = pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
                                reason="the simulated image needs manylinux x86_64 wheels")


def source(exercise_id: str, name: str = "reference.py") -> str:
    return (ROOT / "exercises" / exercise_id / name).read_text()


def validate(data: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


def unpack(archive: Path, target: Path) -> None:
    """As Gradescope unpacks the upload: into source/, with the modes the zip records."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            path = Path(z.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(path, mode)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("autograder")
    done = run_course("autograder", str(base / "autograder.zip"), "--exercise", "softmax", "--exercise",
                      "causal_mask", "--python-version", PYTHON, cwd=base, timeout=900)
    if done.returncode != 0 and "pip could not" in done.stderr:
        pytest.skip(f"the wheels could not be downloaded here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "autograder.zip"


@pytest.fixture(scope="module")
def harness(built, tmp_path_factory):
    """An /autograder folder, set up once with setup.sh as Gradescope does when it builds the image."""
    root = tmp_path_factory.mktemp("image") / "autograder"
    unpack(built, root / "source")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root))
    env.pop("PIP_FIND_LINKS", None)
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def run_autograder(root: Path, files: dict[str, str], env: dict | None = None) -> dict:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    for name, text in files.items():
        (submission / name).parent.mkdir(parents=True, exist_ok=True)
        (submission / name).write_text(text)
    submission.mkdir(exist_ok=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    environment = dict(env or os.environ, AUTOGRADER_ROOT=str(root))
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=environment, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    validate(data)
    return data


@pytest.mark.slow
def test_the_zip_follows_gradescopes_layout(built):
    with zipfile.ZipFile(built) as z:
        names = z.namelist()
        for script in ("setup.sh", "run_autograder"):
            info = z.getinfo(script)  # at the root of the zip, not in a folder
            assert (info.external_attr >> 16) & stat.S_IXUSR, f"{script} is not executable"
            text = z.read(script)
            assert b"\r" not in text and text.startswith(b"#!/usr/bin/env bash\n")
        assert "course/exercises/softmax/reference.py" in names  # the instructor course, hidden cases and all
        wheels = [n for n in names if n.startswith("wheels/")]
        assert any(n.startswith("wheels/llm_course-") for n in wheels)
        assert any(n.startswith("wheels/numpy-") for n in wheels) and any(n.startswith("wheels/pip-") for n in wheels)
        config = json.loads(z.read("autograder.json"))
        assert config["exercises"] == ["causal_mask", "softmax"] and config["python"] == PYTHON
    setup = zipfile.ZipFile(built).read("setup.sh").decode()
    assert "--no-index" in setup and "pypi" not in setup.lower()


@pytest.mark.slow
def test_a_submission_gets_one_test_per_case_with_hidden_cases_after_published(harness):
    data = run_autograder(harness, {"softmax.py": source("softmax", "mistakes/no_max_subtraction.py"),
                                    "causal_mask.py": source("causal_mask"), "layer_norm.py": "not graded\n"})
    course = load_course(ROOT)
    exercises = {e: list(course.exercise(e).cases) for e in ASSIGNED}
    names = [t["name"] for t in data["tests"]]
    assert names == [f"{e}: {c.name}" for e in sorted(ASSIGNED) for c in exercises[e]]
    for test in data["tests"]:
        exercise, case = test["name"].split(": ")
        visibility = next(c.visibility for c in exercises[exercise] if c.name == case)
        assert test["visibility"] == ("visible" if visibility == "public" else "after_published")
        assert test["status"] in ("passed", "failed") and test["output_format"] == "md"
    assert data["output_format"] == "md"
    assert data["score"] == 5 + 6 and data["max_score"] == 14
    overflow = next(t for t in data["tests"] if t["name"] == "softmax: large_logits")
    assert overflow["status"] == "failed" and "maximum" in overflow["output"]


@pytest.mark.slow
def test_a_missing_file_scores_zero_and_a_nested_one_is_found(harness):
    data = run_autograder(harness, {"my-work/softmax.py": source("softmax")})
    softmax = [t for t in data["tests"] if t["name"].startswith("softmax: ")]
    assert softmax and all(t["status"] == "passed" for t in softmax)
    assert "softmax: graded my-work/softmax.py" in data["output"]
    missing = [t for t in data["tests"] if t["name"].startswith("causal_mask: ")]
    assert all(t["score"] == 0 and "not submitted" in t["output"] for t in missing)


@pytest.mark.slow
def test_hostile_submissions_are_graded_not_trusted(harness):
    data = run_autograder(harness, {
        "softmax.py": "import json, os\nos.makedirs('/autograder/results', exist_ok=True)\n"
                      "def softmax(x, axis=-1):\n    return x\n",
        "causal_mask.py": "import sys\nsys.exit(0)\n"})
    assert data["score"] == 0
    assert all(t["status"] == "failed" for t in data["tests"])


@pytest.mark.slow
def test_results_json_says_why_when_grading_fails(harness, tmp_path):
    broken = tmp_path / "autograder"
    shutil.copytree(harness, broken, symlinks=True)
    (broken / "source" / "autograder.json").write_text("{not json")
    data = run_autograder(broken, {"softmax.py": source("softmax")})
    assert data["score"] == 0
    assert data["tests"][0]["visibility"] == "visible" and "failed, not your submission" in data["tests"][0]["output"]
    shutil.rmtree(broken / "venv")  # set-up never happened: even the engine is missing
    data = run_autograder(broken, {"softmax.py": source("softmax")})
    assert data["tests"][0]["name"] == "Autograder could not run" and data["tests"][0]["visibility"] == "visible"


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="the literal /autograder needs root and unshare (a private mount namespace)")
def test_the_scripts_work_at_the_literal_autograder_path(built, tmp_path):
    if os.path.lexists("/autograder"):
        pytest.skip("/autograder exists on this machine: not touching it")
    image = tmp_path / "autograder"
    unpack(built, image / "source")
    (image / "submission").mkdir()
    (image / "submission" / "softmax.py").write_text(source("softmax"))
    script = ("set -e; mount --make-rprivate /; mount --bind \"$IMAGE\" /autograder; cd /autograder; "
              "bash /autograder/source/setup.sh >/dev/null; /autograder/source/run_autograder; "
              "test -s /autograder/results/results.json")
    os.mkdir("/autograder")  # an empty mount point; the bind mount is private to the child's namespace
    try:
        env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_ROOT"}
        done = subprocess.run(["unshare", "--mount", "bash", "-c", script], env=dict(env, IMAGE=str(image)),
                              capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    finally:
        os.rmdir("/autograder")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((image / "results" / "results.json").read_text())
    validate(data)
    assert [t["status"] for t in data["tests"] if t["name"].startswith("softmax: ")] == ["passed"] * 9


def test_bad_autograder_arguments_exit_2(tmp_path):
    for args, message in ((["out.tar"], "is a .zip file"), (["x.zip", "--exercise", "nope"], "no such exercise"),
                          (["missing/x.zip"], "does not exist")):
        done = run_course("autograder", *args, cwd=tmp_path)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
