"""Write exercises/tiny_gpt/showcase.npz: the reference model's greedy continuations of the
tiny_gpt exercise's public prompts, which `course check tiny_gpt` shows beside the student's.

    python tools/tiny_gpt_showcase.py

Run it again after retraining the weights (tools/train_tiny_gpt.py) or changing a public
prompt; tests/content/test_tiny_gpt_weights.py fails until the stored continuations match. No
PyTorch: the numpy reference (exercises/tiny_gpt/reference.py) generates them, with the
greedy loop of exercises/tiny_gpt/feedback.py, N_NEW characters after each prompt.
Hidden prompts are never continued: the file ships with the student edition.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def continuations(root: Path = ROOT) -> dict[str, np.ndarray]:
    """Public case name -> the reference's tokens (the prompt, then N_NEW generated ones)."""
    from course.grading.expected import case_arguments, load_trusted
    from course.grading.hooks import feedback_module
    from course.loader import load_course

    exercise = load_course(root).exercise("tiny_gpt")
    feedback = feedback_module(exercise)
    reference = load_trusted(exercise.reference_path, exercise.function)
    public = [case for case in exercise.cases if case.visibility == "public"]
    out = {}
    for name, (args, _) in case_arguments(public).items():
        params, prompt = args
        out[name] = feedback.generate(params, prompt, feedback.N_NEW, forward=reference).astype(np.int32)
    return out


def main() -> None:
    sys.path.insert(0, str(ROOT))
    target = ROOT / "exercises" / "tiny_gpt" / "showcase.npz"
    if not target.exists():  # the exercise declares it under `data`: it must exist for the course to load
        np.savez_compressed(target)
    arrays = continuations()
    np.savez_compressed(target, **arrays)
    print(f"{target}: {len(arrays)} continuations, {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
