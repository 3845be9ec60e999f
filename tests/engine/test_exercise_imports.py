"""A submission is one file, except for the student's own files an exercise lets it import.

self_attention may `from softmax import softmax` (its exercise.yaml says `imports: [softmax]`): the
student's softmax.py beside the submission then runs, in the same sandbox. Anything else is the
one-file rule, said plainly.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import numpy as np

import courserunner
from course.grading import sandbox
from course.grading.sandbox.records import Call
from coursefactory import write_course

QUADRUPLE = """\
# yaml-language-server: $schema=../../course/schemas/exercise.schema.json
format_version: 1
id: quadruple
title: Four times
lesson: intro
section: basics
function: quadruple
signature: quadruple(x)
imports: [double]
instructions: Return 4 * x (you may use your double).
hints:
  - Double twice.
cases:
  - name: small
    visibility: public
    seed: 1
    args:
      - {normal: {shape: [3]}}
  - name: secret
    visibility: hidden
    seed: 2
    args:
      - {normal: {shape: [2, 2]}}
"""

MINE_DOUBLE = "import numpy as np\n\ndef double(x):\n    return 2 * np.asarray(x)\n"
REUSES = "from double import double\n\ndef quadruple(x):\n    return double(double(x))\n"


def two_exercise_course(root: Path) -> Path:
    write_course(root)
    folder = root / "exercises" / "quadruple"
    folder.mkdir(parents=True)
    (folder / "exercise.yaml").write_text(QUADRUPLE)
    (folder / "starter.py").write_text("def quadruple(x):\n    raise NotImplementedError\n")
    (folder / "reference.py").write_text("def quadruple(x):\n    return 4 * x\n")
    lesson = root / "content" / "intro" / "lesson.yaml"
    lesson.write_text(lesson.read_text().replace("exercises: [double]", "exercises: [double, quadruple]"))
    return root


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=120)


def test_a_submission_may_import_the_students_own_file_the_exercise_allows(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    (tmp_path / "double.py").write_text(MINE_DOUBLE)
    (tmp_path / "quadruple.py").write_text(REUSES)
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "quadruple (quadruple.py): passed, 2/2 points" in done.stdout


def test_the_imported_file_is_the_students_own_with_its_own_mistakes(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    (tmp_path / "double.py").write_text("def double(x):\n    return 3 * x\n")
    (tmp_path / "quadruple.py").write_text(REUSES)
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    assert json.loads(done.stdout)["score"] == 0


def test_a_missing_allowed_file_is_named_and_anything_else_is_the_one_file_rule(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    (tmp_path / "quadruple.py").write_text(REUSES)
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", cwd=tmp_path)
    flat = " ".join(done.stdout.split())
    assert done.returncode == 1 and "Traceback (most recent call last)" not in done.stderr
    assert "lets you import your own double.py, but there is no double.py beside this file" in flat
    (tmp_path / "quadruple.py").write_text("from helpers import four\n\ndef quadruple(x):\n    return four(x)\n")
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", cwd=tmp_path)
    flat = " ".join(done.stdout.split())
    assert "a submission is one file: 'helpers' is not available to it; of your other files it may import only " \
           "double. Put the helper functions you need inside this file." in flat
    (tmp_path / "double.py").write_text("from quadruple import quadruple\n\ndef double(x):\n    return x\n")
    done = run_course("--course", str(root), "check", "double", "double.py", cwd=tmp_path)
    assert "a submission is one file: 'quadruple' is not available to it; it may not import your other files" \
           in " ".join(done.stdout.split())


def test_an_error_in_the_imported_file_shows_its_own_lines(home):
    broken = "import numpy as np\n\ndef double(x):\n    return np.asarray(x) * undefined_name\n"
    run = sandbox.run(REUSES, filename="quadruple.py", function="quadruple", calls=[Call((np.ones(2),))],
                      modules={"double": broken}, allowed=("double",))
    error = run.outcomes[0].error
    assert error.startswith("NameError: name 'undefined_name' is not defined")
    assert 'File "quadruple.py", line 4' in error and 'File "double.py", line 4' in error


def test_grade_gives_each_student_their_own_imported_file(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    subs = tmp_path / "subs"
    for name, double in (("ann", MINE_DOUBLE), ("bob", "def double(x):\n    return x\n")):
        (subs / name).mkdir(parents=True)
        (subs / name / "double.py").write_text(double)
        (subs / name / "quadruple.py").write_text(REUSES)
    out = tmp_path / "out"
    done = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--exercise", "quadruple",
                      cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(line for line in f if not line.startswith("#"))}
    assert rows["ann"]["quadruple status"] == "passed" and rows["bob"]["quadruple status"] == "failed"
    # bob fixes his double.py only: the unassigned file still counts, so bob is graded again
    (subs / "bob" / "double.py").write_text(MINE_DOUBLE)
    again = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--exercise", "quadruple",
                       cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 graded, 1 unchanged" in again.stdout


def test_an_exercise_may_import_only_exercises_that_exist(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    path = root / "exercises" / "quadruple" / "exercise.yaml"
    path.write_text(path.read_text().replace("imports: [double]", "imports: [dubble]"))
    done = run_course("validate", str(root), cwd=tmp_path)
    assert done.returncode == 2
    assert "exercises/quadruple/exercise.yaml:9:11: exercise 'quadruple' imports unknown exercise 'dubble'" \
           in done.stdout + done.stderr
    assert "did you mean 'double'" in done.stdout + done.stderr


# --------------------------------------------------------------------------- the chain to a tiny GPT

CHAIN = {
    "self_attention": """\
import numpy as np
from softmax import softmax


def self_attention(query, key, value, mask=None):
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores, axis=-1) @ value
""",
    "multi_head_attention": """\
import numpy as np
from self_attention import self_attention


def multi_head_attention(x, params, n_heads, mask=None):
    *lead, seq, d = x.shape
    d_head = d // n_heads

    def split(y):
        return np.swapaxes(y.reshape(*lead, seq, n_heads, d_head), -2, -3)

    q, k, v = (split(x @ params["W_" + n] + params["b_" + n]) for n in "qkv")
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads = self_attention(q, k, v, mask)
    return np.swapaxes(heads, -2, -3).reshape(*lead, seq, d) @ params["W_o"] + params["b_o"]
""",
    "transformer_block": """\
import numpy as np
from layer_norm import layer_norm
from multi_head_attention import multi_head_attention


def gelu(z):
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z * z * z)))  # not z ** 3: see the references


def transformer_block(x, params, n_heads, mask=None):
    h = x + multi_head_attention(layer_norm(x, **params["ln1"]), params["attn"], n_heads, mask)
    mlp = params["mlp"]
    return h + gelu(layer_norm(h, **params["ln2"]) @ mlp["W_1"] + mlp["b_1"]) @ mlp["W_2"] + mlp["b_2"]
""",
    "tiny_gpt": """\
import numpy as np
from causal_mask import causal_mask
from layer_norm import layer_norm
from transformer_block import transformer_block


def tiny_gpt(params, tokens):
    p = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}
    x = p["tok_emb"][tokens] + p["pos_emb"][: len(tokens)]
    for i in range(int(params["config.n_layers"])):
        block = {}
        for name, value in p.items():
            if name.startswith(f"blocks.{i}."):
                part, key = name[len(f"blocks.{i}."):].split(".")
                block.setdefault(part, {})[key] = value
        x = transformer_block(x, block, int(params["config.n_heads"]), causal_mask(len(tokens)))
    return layer_norm(x, p["ln_f.gamma"], p["ln_f.beta"]) @ p["tok_emb"].T
""",
}


def test_a_student_builds_a_working_tiny_gpt_from_their_own_files(tmp_path, home):
    """softmax -> self_attention -> multi_head_attention -> transformer_block -> tiny_gpt, each
    importing the student's own files beside it (every file a chain needs is declared: imports are
    not transitive), each passing its own exercise; the tiny GPT then writes the reference's text."""
    from course.paths import builtin_root

    exercises = builtin_root() / "exercises"
    for name in ("softmax", "layer_norm", "causal_mask"):  # the first pieces, as the references write them
        (tmp_path / f"{name}.py").write_text((exercises / name / "reference.py").read_text())
    for name, source in CHAIN.items():
        (tmp_path / f"{name}.py").write_text(source)
    for name in CHAIN:
        done = run_course("check", name, f"{name}.py", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{name} ({name}.py): passed" in done.stdout
    assert done.stdout.count("identical: your model generates the reference's text") == 3
    (tmp_path / "layer_norm.py").write_text((exercises / "layer_norm" / "mistakes" / "unbiased_variance.py").read_text())
    broken = run_course("check", "tiny_gpt", "tiny_gpt.py", cwd=tmp_path)  # a mistake far down the chain shows
    assert broken.returncode == 1 and "tiny_gpt (tiny_gpt.py): failed" in broken.stdout
