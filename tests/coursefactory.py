"""A small, valid course root written to a temporary folder, for tests to break on purpose."""
from __future__ import annotations

import textwrap
from pathlib import Path

LESSON = """\
format_version: 1
id: intro
number: 1
title: A tiny lesson
summary: Just enough to test the engine.
objectives:
  - Know what a test course looks like
sections:
  - id: basics
    title: Basics
    blocks:
      - markdown: |
          Some **bold** prose and a list:

          - one
          - two
      - table:
          caption: A table
          columns: [Year, Model]
          rows:
            - ["2017", Transformer]
      - code:
          language: python
          runnable: true
          source: |
            print(1 + 1)
      - figure: growth
key_terms:
  - term: Softmax
    definition: Turns scores into probabilities.
figures:
  - id: growth
    kind: scatter_chart
    title: Growth
    x: {label: Year, scale: linear}
    y: {label: Parameters, scale: log}
    sources: [paper]
    series:
      - name: Sizes
        points:
          - {x: 2018, y: 110000000, label: BERT-base, source: paper}
sources:
  - {id: paper, title: A paper, authors: Someone et al., year: 2018, url: "https://example.org"}
exercises: [double]
"""

QUIZ = """\
format_version: 1
lesson: intro
title: Tiny quiz
pass_fraction: 0.5
questions:
  - id: pick-one
    kind: single
    section: basics
    prompt: Which is right?
    hint: The second.
    explanation: Because.
    choices:
      - {text: wrong, correct: false}
      - {text: right, correct: true}
  - id: how-many
    kind: numeric
    section: basics
    prompt: "What is {a} times 2?"
    hint: Multiply.
    explanation: Arithmetic.
    parameters:
      a: {choices: [1, 2, 3]}
    answer: a * 2
    tolerance: {absolute: 0.5}
"""

EXERCISE = """\
format_version: 1
id: double
title: Double it
lesson: intro
section: basics
function: double
signature: double(x)
instructions: Return 2 * x.
hints:
  - Multiply by two.
tolerance: {rtol: 1.0e-9, atol: 0.0}
cases:
  - name: small
    visibility: public
    seed: 1
    args:
      - {normal: {shape: [3, 4]}}
  - name: hidden_one
    visibility: hidden
    seed: 2
    args:
      - {normal: {shape: [2, 5], scale: 10.0}}
mistakes:
  - name: triple
    description: multiplies by three
    message: multiply by two, not three
"""


def write_course(root: Path, *, lesson: str = LESSON, quiz: str | None = QUIZ, exercise: str = EXERCISE) -> Path:
    """Write the tiny course under `root` and return it."""
    lesson_dir = root / "content" / "intro"
    lesson_dir.mkdir(parents=True, exist_ok=True)
    (lesson_dir / "lesson.yaml").write_text(lesson)
    if quiz is not None:
        (lesson_dir / "quiz.yaml").write_text(quiz)
    exercise_dir = root / "exercises" / "double"
    (exercise_dir / "mistakes").mkdir(parents=True, exist_ok=True)
    (exercise_dir / "exercise.yaml").write_text(exercise)
    (exercise_dir / "starter.py").write_text(
        textwrap.dedent('''\
        import numpy as np


        def double(x):
            """Return 2 * x."""
            raise NotImplementedError("write double")
        ''')
    )
    (exercise_dir / "reference.py").write_text("def double(x):\n    return 2 * x\n")
    (exercise_dir / "mistakes" / "triple.py").write_text("def double(x):\n    return 3 * x\n")
    return root
