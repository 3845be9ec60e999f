"""Ship the built-in course inside the package.

The repository keeps the course at its top (course.yaml, content/, exercises/ and demo/,
the sample material of `course demo`), as the design fixes; an installed engine finds
it at course/_builtin/{course.yaml,content,exercises,demo}. This mapping cannot be written in pyproject.toml alone because package
discovery does not see folders and files outside course/. The JSON Schemas of the
course files ship as course/schemas/*.schema.json.
"""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

BUILTIN = {
    "course._builtin.content": "content",
    "course._builtin.exercises": "exercises",
}
if (Path(__file__).resolve().parent / "demo").is_dir():  # `course demo`'s sample material (a copy of the engine without it still builds)
    BUILTIN["course._builtin.demo"] = "demo"
MANIFEST = "course.yaml"  # the built-in course's manifest, shipped as course/_builtin/course.yaml


class BuildWithManifest(build_py):
    """build_py, plus the repository's course.yaml copied to course/_builtin/."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "course" / "_builtin" / MANIFEST
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(MANIFEST, str(target))


setup(
    packages=find_packages(include=["course", "course.*"]) + list(BUILTIN),
    package_dir=BUILTIN,
    package_data={
        **{name: ["**/*"] for name in BUILTIN},
        "course": ["schemas/*.schema.json"],  # the JSON Schemas `course schema` writes
    },
    cmdclass={"build_py": BuildWithManifest},
)
