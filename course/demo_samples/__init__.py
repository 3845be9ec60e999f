"""Sample material for `course demo`: a quiz answers file and four students' files.

Shipped as package data (setup.py lists *.py and *.yaml here), so the demo works after
a plain `pip install .` from any folder. The .py files are read as text and graded in
the sandbox like any submission; nothing imports them. They are written the way a
student would write them, mistakes included:

    softmax.py           right
    softmax_overflow.py  exponentiates the raw logits: inf/NaN for large inputs
    self_attention.py    transposes the keys with .T, which breaks batch axes
    param_count.py       counts the weight matrices but forgets every bias
    answers-lesson-3.yaml  lesson 3's quiz, mostly right (seed 0)
"""
from pathlib import Path

FOLDER = Path(__file__).resolve().parent

# file name -> (exercise id, what the demo says about it)
SUBMISSIONS = {
    "softmax.py": ("softmax", "a correct softmax"),
    "softmax_overflow.py": ("softmax", "a softmax that overflows on large logits"),
    "self_attention.py": ("self_attention", "self-attention that transposes the keys with .T"),
    "param_count.py": ("param_count", "a parameter counter that forgets the biases"),
}
ANSWERS = {"lesson-3": "answers-lesson-3.yaml"}  # lesson id -> answers file (seed 0)
