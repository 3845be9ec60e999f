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


DATA_EXERCISE = """\
format_version: 1
id: project
title: Project with stored weights
lesson: intro
function: project
signature: project(x, weights, bias)
instructions: Return x @ weights["w"] * weights.get("scale", 1.0) + bias.
hints:
  - Use @ and do not forget the bias.
data: [weights.npz]
cases:
  - name: stored
    visibility: public
    seed: 4
    args:
      - {normal: {shape: [2, 3]}}
      - {npz: {file: weights.npz}}
      - {npz: {file: weights.npz, key: b}}
  - name: drawn
    visibility: public
    seed: 5
    args:
      - {normal: {shape: [2, 3]}}
      - dict:
          w: {normal: {shape: [3, 4]}}
          scale: 2.0
      - {constant: {shape: [4], fill: 0.5}}
  - name: hidden_drawn
    visibility: hidden
    seed: 6
    args:
      - {normal: {shape: [5, 3]}}
      - dict:
          w: {uniform: {shape: [3, 4], low: -1.0, high: 1.0}}
      - {npz: {file: weights.npz, key: b}}
mistakes:
  - name: no_bias
    description: forgets the bias
    message: add the bias after the product
"""

DATA_REFERENCE = 'def project(x, weights, bias):\n    return x @ weights["w"] * weights.get("scale", 1.0) + bias\n'


def write_data_exercise(root: Path, *, exercise: str = DATA_EXERCISE) -> Path:
    """Add `project` to the tiny course under `root`: an exercise whose inputs come from a data file
    (`npz`) and from drawn weight dicts (`dict`). Returns its folder."""
    import numpy as np

    folder = root / "exercises" / "project"
    (folder / "mistakes").mkdir(parents=True, exist_ok=True)
    (folder / "exercise.yaml").write_text(exercise)
    (folder / "starter.py").write_text('def project(x, weights, bias):\n    raise NotImplementedError("write project")\n')
    (folder / "reference.py").write_text(DATA_REFERENCE)
    (folder / "mistakes" / "no_bias.py").write_text(
        'def project(x, weights, bias):\n    return x @ weights["w"] * weights.get("scale", 1.0)\n')
    rng = np.random.default_rng(0)
    np.savez(folder / "weights.npz", w=rng.normal(size=(3, 4)), b=rng.normal(size=4))
    return folder
