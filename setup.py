"""Ship the built-in course inside the package.

The repository keeps the course at its top (content/, exercises/), as the design
fixes; an installed engine finds it at course/_builtin/{content,exercises}. This
mapping cannot be written in pyproject.toml alone because package discovery
does not see folders outside course/.
"""
from setuptools import find_packages, setup

BUILTIN = {
    "course._builtin.content": "content",
    "course._builtin.exercises": "exercises",
}

setup(
    packages=find_packages(include=["course", "course.*"]) + list(BUILTIN),
    package_dir=BUILTIN,
    package_data={
        **{name: ["**/*"] for name in BUILTIN},
        "course.demo_samples": ["*.py", "*.yaml"],  # `course demo`'s sample answers and submissions
    },
)
