"""How the engine writes numbers for people: one module, one function per way of writing.

    count(124439808)      '124,439,808'   (a non-integer keeps two decimals: '1,234.50')
    short(124439808)      '124.4M'        (4 significant digits, k/M/B/T)
    quantity(1.5e9)       '1.5B'          (as a lesson's chart says it: K/M/B/T)
    number(10000000000)   '10,000,000,000' (integers grouped; others to `significant` digits)
    points(2.5)           '2.5'           (scores and limits: no trailing .0)
    power_of_ten(1e-6)    '10⁻⁶'          (a log axis's tick at a power of ten; other values as short())

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


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def power_of_ten(value: float) -> str:
    """10⁶, 10⁻⁶, 1 (10⁰): a tick of a log-scale axis, in plain text; a value that is not a power
    of ten as short() writes it. (matplotlib's own log ticks are TeX, parsed per tick and per size.)"""
    if not math.isfinite(value) or value <= 0:
        return f"{value:g}"
    exponent = round(math.log10(value))
    if not math.isclose(value, 10.0 ** exponent, rel_tol=1e-9):
        return short(value)
    return "1" if exponent == 0 else "10" + str(exponent).translate(_SUPERSCRIPTS)
