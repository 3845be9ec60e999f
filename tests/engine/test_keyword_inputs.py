"""Keyword array arguments are inputs too: changing the caller's mask in place is caught."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MASK_CHANGER = '''
import numpy as np


def self_attention(query, key, value, mask=None):
    d_k = query.shape[-1]
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
        mask[...] = True  # "tidies up" the caller's mask
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ value
'''


def test_changing_the_callers_mask_in_place_fails_inputs_unchanged(tmp_path):
    submission = tmp_path / "self_attention.py"
    submission.write_text(MASK_CHANGER)
    result = subprocess.run(
        [sys.executable, "-m", "course", "check", "self_attention", str(submission), "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    masked_public = [c for c in report["cases"] if c["visibility"] == "public" and c["check"] == "inputs_unchanged"]
    assert masked_public, report["cases"]
    assert "modified its input 'mask' in place" in masked_public[0]["message"]
    unmasked = [c for c in report["cases"] if c["name"] in ("single_sequence", "batch_of_sequences")]
    assert all(c["passed"] for c in unmasked)
