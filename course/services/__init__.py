"""The service layer: what a person can do with a course, as plain functions.

Three front ends call it and only format what it returns: the `course` command
(course/cli.py, course/commands/), the notebook API (course/api.py, course/notebook.py)
and `course demo` (course/demo.py). Below it are the engine's parts: the loader and the
models, grading, quizzes, progress, pictures, reports, the instructor's tools.

    courses    the course in use, and the one lookup of an exercise or a lesson by id
    checking   check a file or a source against an exercise; its pictures and HTML page
    quizzes    grade an answers file and write its report; take a quiz
    progress   the student's progress store, opened the forgiving way every front end wants
    figures    draw a lesson's figures

The import-linter contract in pyproject.toml keeps the order: front ends, then
services, then engine parts; nothing below imports what is above it. Like the front
ends, this package imports numpy, matplotlib, rich and pydantic only inside functions:
`course --help` imports the commands, and the commands import these modules.
"""
