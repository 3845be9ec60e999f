"""How the engine writes numbers for people: one module, one function per way of writing.

    count(124439808)      '124,439,808'   (a non-integer keeps two decimals: '1,234.50')
    short(124439808)      '124.4M'        (4 significant digits, k/M/B/T)
    quantity(1.5e9)       '1.5B'          (as a lesson's chart says it: K/M/B/T)
    number(10000000000)   '10,000,000,000' (integers grouped; others to `significant` digits)
    points(2.5)           '2.5'           (scores and limits: no trailing .0)

Kept free of imports: anything may use it, `course --help` included.
"""
from __future__ import annotations

import math


def count(n: float) -> str:
    """124,439,808; a non-integer keeps two decimals; inf and NaN as Python writes them."""
    if not math.isfinite(n):
        return str(n)
    return f"{int(n):,}" if float(n).is_integer() else f"{n:,.2f}"


def short(n: float) -> str:
    """124.4M, 3.2k: a count in a picture's label (four significant digits)."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.4g}{suffix}"
    return f"{n:g}"


def quantity(value: float) -> str:
    """1.5B, 65M, 12K: a count as people say it (a chart's log-scale axis)."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def number(value: float, significant: int = 12, *, grouped: bool = True) -> str:
    """A number as a person reads it in a prompt or an answer: integers without a trailing .0 and with
    thousands separators (10,000,000,000 rather than 10000000000); other values with up to
    `significant` significant digits (grouped too unless grouped=False)."""
    if float(value).is_integer() and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:,.{significant}g}" if grouped else f"{value:.{significant}g}"


def points(value: float) -> str:
    """A score or a limit: 2, 2.5, 0.333333 (no trailing .0)."""
    return f"{value:g}"
