"""`course autograder OUT.zip [--exercise ID]...`: a Gradescope autograder.

Gradescope's specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
a zip with `setup.sh` and `run_autograder` at its root. Gradescope unpacks it into
/autograder/source, runs setup.sh once when it builds the image, then, for every
submission, runs run_autograder in /autograder with the student's files in
/autograder/submission; whatever it writes to /autograder/results/results.json is the
grade. The zip written here holds:

    setup.sh           makes /autograder/venv and installs the engine from wheels/,
                       without a package index (pip itself comes from wheels/ too)
    run_autograder     grades the submission (python -m course.instructor.autograder);
                       if even that cannot run, writes a results.json saying so
    autograder.json    the assigned exercises, the engine version, the course fingerprint
    course/            the instructor course: references and hidden cases stay on
                       Gradescope's side, as in the instructor's repository
    wheels/            the engine and every dependency, for the Python and platform
                       of Gradescope's image (--python-version, --platform)

Every file gets LF line endings, the scripts are executable (the zip records the
mode), so a zip built on Windows works too.

Grading is the same as everywhere else: course.instructor.pool.check_source (the
sandbox, the limits, the verdicts and messages of `course check`), and the report is
course.reports.gradescope: one test per case, hidden cases `after_published`, Markdown
outputs. results.json is written even when grading fails: a visible test says why, and
no score is made up. AUTOGRADER_ROOT replaces /autograder (for a local dry run; the
tests use it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from course import __version__
from course.errors import UsageError
from course.model import Course

CONFIG = "autograder.json"
GRADESCOPE_PYTHON = "3.10"  # Ubuntu 22.04, Gradescope's default base image
DEFAULT_PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
PROJECT = "llm-course"
ROOT_ENV = "AUTOGRADER_ROOT"

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# Everything it installs comes from the wheels in this zip: no package index is used.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
WANT="__PYTHON__"
PYTHON="${AUTOGRADER_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in "python$WANT" python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$WANT" ]; then
      PYTHON="$candidate"
      break
    fi
  done
fi
if [ -z "$PYTHON" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update && apt-get install -y "python$WANT" "python$WANT-venv"
  PYTHON="python$WANT"
fi
if [ -z "$PYTHON" ]; then
  echo "setup.sh: Python $WANT is needed (the wheels in this zip are built for it)" >&2
  exit 1
fi
"$PYTHON" -m venv --without-pip "$ROOT/venv"
for PIP_WHEEL in "$SOURCE"/wheels/pip-*.whl; do break; done
"$ROOT/venv/bin/python" "$PIP_WHEEL/pip" install --no-index --find-links "$SOURCE/wheels" \
  --no-cache-dir --disable-pip-version-check --quiet __PROJECT__
"$ROOT/venv/bin/python" -m course --course "$SOURCE/course" validate
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder, as root.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
"$ROOT/venv/bin/python" -m course.instructor.autograder --root "$ROOT"
status=$?
if [ ! -s "$RESULTS" ]; then
  # The grader could not even start (a broken set-up): say so, never a silent zero.
  cat > "$RESULTS" <<EOF
{"score": 0, "output": "The autograder could not run (exit code $status): this is not your submission's fault. Please tell your instructor.", "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden", "tests": [{"name": "Autograder could not run", "score": 0, "max_score": 0, "status": "failed", "output": "The grader failed to start (exit code $status); your files were not graded.", "output_format": "md", "visibility": "visible"}]}
EOF
fi
exit 0
"""


@dataclass(frozen=True)
class AutograderZip:
    path: Path
    exercises: tuple[str, ...]
    wheels: tuple[str, ...]
    python: str
    platforms: tuple[str, ...]


# --------------------------------------------------------------------------- building the zip


def build_autograder(
    course: Course,
    out: Path,
    *,
    exercises: Sequence[str] = (),
    engine: Path | None = None,
    python_version: str = GRADESCOPE_PYTHON,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    wheels: Path | None = None,
) -> AutograderZip:
    """Write the autograder zip for `course` (an instructor edition) to `out`.

    engine: the engine's source folder or a built wheel (default: this engine's source
    checkout, or, installed from a wheel, the installed files packed back into one). wheels: a folder of wheels to take the dependencies from, instead of the
    package index (offline builds). The dependencies are downloaded for
    `python_version` and `platforms`, Gradescope's image, not this machine's.
    """
    from course.instructor.grade import assigned_exercises, course_fingerprint

    if course.edition == "student":
        raise UsageError("a student edition has no reference solutions or hidden cases: build the autograder "
                         "from the instructor course")
    chosen = assigned_exercises(course, exercises)
    out = Path(out)
    if out.suffix != ".zip":
        raise UsageError(f"{out}: the autograder is a .zip file (e.g. autograder.zip)")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: the folder {out.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix="course-autograder-") as temporary:
        folder = Path(temporary) / "wheels"
        folder.mkdir()
        source = Path(engine) if engine else _engine_source()
        engine_wheel = _engine_wheel(source, folder) if source else _installed_wheel(folder)
        _download(engine_wheel, folder, python_version, platforms, wheels)
        config = {
            "engine_version": __version__,
            "python": python_version,
            "platforms": list(platforms),
            "exercises": [e.id for e in chosen],
            "course_fingerprint": course_fingerprint(course),
            "course": course.title,
        }
        names = sorted(p.name for p in folder.glob("*.whl"))
        temporary_zip = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            with zipfile.ZipFile(temporary_zip, "w", zipfile.ZIP_DEFLATED) as archive:
                _add_text(archive, "setup.sh", SETUP_SH.replace("__PYTHON__", python_version)
                          .replace("__PROJECT__", PROJECT), executable=True)
                _add_text(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
                _add_text(archive, CONFIG, json.dumps(config, indent=2) + "\n")
                for path in _course_files(course):
                    relative = path.relative_to(course.root).as_posix()
                    _add_file(archive, f"course/{relative}", path)
                for name in names:
                    archive.write(folder / name, f"wheels/{name}", compress_type=zipfile.ZIP_STORED)
            os.replace(temporary_zip, out)
        except BaseException:
            temporary_zip.unlink(missing_ok=True)
            raise
    return AutograderZip(out, tuple(e.id for e in chosen), tuple(names), python_version, tuple(platforms))


def _engine_source() -> Path | None:
    """The checkout this engine runs from, or None when it was installed from a wheel."""
    from course.paths import PACKAGE_DIR

    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "course" / "__init__.py").is_file():
        return checkout
    return None


# Files pip writes at install time; a wheel must not carry them (pip makes them again).
_INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _installed_wheel(folder: Path) -> Path:
    """This engine as installed (`pip install llm-course`, no checkout at hand), packed back into a wheel.

    The installed distribution's own file list (its RECORD) says what belongs to it; the
    package is pure Python, so these files are the wheel. Files outside site-packages
    (the `course` script) are left out: pip writes them again from entry_points.txt.
    """
    import base64
    import hashlib
    from importlib import metadata

    try:
        distribution = metadata.distribution(PROJECT)
    except metadata.PackageNotFoundError:
        raise UsageError("cannot find the engine's source or its installed files: pass --engine with the "
                         "instructor repository's folder or an llm_course wheel") from None
    entries = []
    for file in distribution.files or ():
        parts = file.parts
        if ".." in parts or "__pycache__" in parts or (parts[0].endswith(".dist-info") and
                                                        parts[-1] in _INSTALL_ONLY):
            continue
        path = Path(str(file.locate()))
        if path.is_file():
            entries.append((file.as_posix(), path))
    info = next((name for name, _ in entries if name.endswith(".dist-info/METADATA")), None)
    if info is None or not any(name.startswith("course/") for name, _ in entries):
        raise UsageError(f"the installed {PROJECT} has no package files or no METADATA: pass --engine with the "
                         "instructor repository's folder or an llm_course wheel")
    dist_info = info.rsplit("/", 1)[0]
    wheel = folder / f"{PROJECT.replace('-', '_')}-{distribution.version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(entries):
            data = path.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
            archive.writestr(name, data)
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def _engine_wheel(engine: Path, folder: Path) -> Path:
    if engine.is_file() and engine.suffix == ".whl":
        shutil.copy2(engine, folder / engine.name)
        return folder / engine.name
    if not (engine / "pyproject.toml").is_file():
        raise UsageError(f"--engine {engine}: neither a wheel nor a folder with pyproject.toml")
    _pip("wheel", "--no-deps", "--wheel-dir", str(folder), str(engine), what="build the engine's wheel")
    built = sorted(folder.glob("llm_course-*.whl"))
    if not built:
        raise UsageError(f"building the engine's wheel from {engine} gave no llm_course wheel")
    return built[-1]


def _download(engine_wheel: Path, folder: Path, python_version: str, platforms: Sequence[str],
              wheels: Path | None) -> None:
    """The engine's dependencies and pip itself, as wheels for Gradescope's Python and platform."""
    target = ["--only-binary=:all:", "--python-version", python_version, "--implementation", "cp"]
    for platform in platforms:
        target += ["--platform", platform]
    source = ["--no-index", "--find-links", str(wheels)] if wheels else []
    _pip("download", "--dest", str(folder), *target, *source, str(engine_wheel), "pip",
         what="download the engine's dependencies as wheels")


def _pip(*args: str, what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise UsageError(f"pip could not {what}:\n{tail}")


def _course_files(course: Course) -> list[Path]:
    """The course root's own files (course.yaml, content/, exercises/), no caches or dot files."""
    root = course.root
    files = [root / "course.yaml"] if (root / "course.yaml").is_file() else []
    for folder in ("content", "exercises"):
        for path in sorted((root / folder).rglob("*")):
            parts = path.relative_to(root).parts
            if path.is_file() and "__pycache__" not in parts and not any(p.startswith(".") for p in parts):
                files.append(path)
    return files


def _info(name: str, executable: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16  # a regular file, with its mode
    info.create_system = 3  # Unix: unzip honours the mode
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _add_text(archive: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    archive.writestr(_info(name, executable), text.replace("\r\n", "\n").encode("utf-8"))


def _add_file(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    data = path.read_bytes()
    if path.suffix in (".py", ".yaml", ".yml", ".md", ".txt", ".json"):
        data = data.replace(b"\r\n", b"\n")
    archive.writestr(_info(name, False), data)


# --------------------------------------------------------------------------- grading a submission


def find_submission(folder: Path, exercise_id: str) -> Path | None:
    """`<exercise>.py` at the top of the submission, else the only one below it (a zipped folder,
    a repository with a src/), skipping dot folders; None when there is none or several."""
    top = folder / f"{exercise_id}.py"
    if os.path.lexists(top):
        return top
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        if f"{exercise_id}.py" in filenames:
            found.append(Path(dirpath) / f"{exercise_id}.py")
    return found[0] if len(found) == 1 else None


def grade_submission(root: Path) -> dict:
    """Grade ROOT/submission into the results.json data; raises only on a broken set-up."""
    from course import untrusted
    from course.grading.checks import Check
    from course.grading.results import Status
    from course.grading.submission import NOT_SUBMITTED, read_source
    from course.instructor.gradebook import placeholder_result
    from course.instructor.grade import assigned_exercises, course_fingerprint
    from course.instructor.pool import check_source
    from course.loader import load_course
    from course.reports import gradescope

    source = root / "source"
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    course = load_course(source / "course")
    if course_fingerprint(course) != config["course_fingerprint"] and config.get("engine_version") == __version__:
        raise RuntimeError("the course in the autograder was changed after the zip was built")
    submission = root / "submission"
    results, notes = [], []
    for exercise in assigned_exercises(course, config["exercises"]):
        path = find_submission(submission, exercise.id)
        shown = f"{exercise.id}.py"
        if path is None:
            results.append(placeholder_result(exercise, shown, Status.NOT_ATTEMPTED, Check.NOT_SUBMITTED,
                                              f"not submitted: there is no {shown} in your submission"))
            continue
        shown = untrusted.name(path.relative_to(submission).as_posix())
        if shown != f"{exercise.id}.py":
            notes.append(f"{exercise.id}: graded {shown}")
        found = read_source(path, path.parent)
        if found.source is None:
            status = Status.NOT_ATTEMPTED if found.problem == NOT_SUBMITTED else Status.ERROR
            check = Check.NOT_SUBMITTED if found.problem == NOT_SUBMITTED else Check.UNREADABLE
            results.append(placeholder_result(exercise, shown, status, check, f"{shown} {found.problem}"))
            continue
        results.append(check_source(course, exercise, found.source, filename=shown))
    extra = []
    failed = [r for r in results if r.status is Status.COULD_NOT_GRADE]
    if failed:
        extra.append(_visible_test(
            "Could not grade", f"The grader failed on {', '.join(r.exercise for r in failed)} (not your "
            "submission): those parts got no points. Please ask for the autograder to be run again."))
    text = "\n".join(f"- {untrusted.clean(n)}" for n in notes)
    return json.loads(gradescope.render(results, output=text, extra_tests=extra))


def _visible_test(name: str, text: str) -> dict:
    return {"name": name, "score": 0, "max_score": 0, "status": "failed", "output": text, "output_format": "md",
            "visibility": "visible"}


def failure_results(reason: str) -> dict:
    """results.json when grading itself failed: a visible test that says why, no score made up."""
    text = f"The autograder failed, not your submission: {reason}. Please tell your instructor."
    return {"score": 0, "output": text, "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [_visible_test("Autograder failed", text)]}


def run_autograder(root: Path) -> int:
    """run_autograder's work: grade ROOT/submission into ROOT/results/results.json. Never raises."""
    root = Path(root)
    results = root / "results"
    started = time.monotonic()
    try:
        data = grade_submission(root)
    except Exception as error:  # a broken set-up: say so in the results, visibly
        import traceback

        traceback.print_exc()  # the instructor's debugging output (Gradescope keeps stdout)
        data = failure_results(f"{type(error).__name__}: {error}")
    data.setdefault("execution_time", round(time.monotonic() - started, 3))
    results.mkdir(parents=True, exist_ok=True)
    temporary = results / ".results.json.tmp"
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, results / "results.json")
    print(f"graded: score {data.get('score')} of {sum(t.get('max_score', 0) for t in data.get('tests', []))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course.instructor.autograder",
                                     description="Grade /autograder/submission (Gradescope's run_autograder).")
    parser.add_argument("--root", default=os.environ.get(ROOT_ENV, "/autograder"))
    args = parser.parse_args(argv)
    return run_autograder(Path(args.root))


if __name__ == "__main__":
    sys.exit(main())
