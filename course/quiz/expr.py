"""A tiny, safe arithmetic language for the answers of seeded quiz questions.

A numeric question may compute its answer from its parameters, e.g.
`12 * n_layers * d_model ** 2`. YAML text is never given to `eval`: it is parsed
with `ast` and only numbers, parameter names, `+ - * / **` and unary `+ -` are
accepted. Exponents and intermediate results are bounded, so `9 ** 9 ** 9` is an
error, not a hung process.

`check_expression` runs at load time (the loader reports its message at the
question's FILE:LINE); `evaluate` runs when a variant is drawn.
"""
from __future__ import annotations

import ast
import math
import operator
from typing import Any, Callable, Iterable, Mapping

MAX_LENGTH = 500  # characters: an answer formula, not a program
MAX_EXPONENT = 64  # |b| in a ** b
MAX_MAGNITUDE = 1e300  # any intermediate result beyond this is an error

_BINARY: dict[type, tuple[str, Callable[[float, float], float]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.Pow: ("**", operator.pow),
}
_UNARY: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class ExpressionError(ValueError):
    """The expression is not in the language, or cannot be computed for these values."""


def _parse(text: str) -> ast.Expression:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not an arithmetic expression: {error.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is nested too deeply") from None


def _check(node: ast.AST, names: frozenset[str]) -> None:
    """Raise ExpressionError at the first construct outside the language."""
    if isinstance(node, ast.Expression):
        _check(node.body, names)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ExpressionError(f"operator not allowed (only + - * / **): {ast.unparse(node)}")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise ExpressionError(f"operator not allowed (only unary + and -): {ast.unparse(node)}")
        _check(node.operand, names)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers are allowed, not {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none declared"
            raise ExpressionError(f"unknown name '{node.id}' (parameters: {known})")
    else:
        raise ExpressionError(f"not allowed in an answer expression: {ast.unparse(node)}")


def check_expression(text: str, names: Iterable[str]) -> str | None:
    """Why `text` is not a valid answer expression over `names`, or None if it is."""
    try:
        _check(_parse(text), frozenset(names))
    except ExpressionError as error:
        return str(error)
    except RecursionError:
        return "expression is nested too deeply"
    return None


def _bounded(value: Any) -> float:
    if isinstance(value, complex):
        raise ExpressionError("the result is not a real number (a fractional power of a negative number?)")
    if abs(value) > MAX_MAGNITUDE or not math.isfinite(value):
        raise ExpressionError("the result is too large")
    return value


def _eval(node: ast.AST, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body, values)
    if isinstance(node, ast.Constant):
        return _bounded(node.value)
    if isinstance(node, ast.Name):
        return _bounded(values[node.id])
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    assert isinstance(node, ast.BinOp)
    symbol, apply = _BINARY[type(node.op)]
    left, right = _eval(node.left, values), _eval(node.right, values)
    if symbol == "**" and abs(right) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {right:g} is larger than {MAX_EXPONENT}")
    if symbol == "/" and right == 0:
        raise ExpressionError("division by zero")
    try:
        return _bounded(apply(left, right))
    except OverflowError:
        raise ExpressionError("the result is too large") from None
    except ZeroDivisionError:
        raise ExpressionError("division by zero (0 to a negative power)") from None


def evaluate(text: str, values: Mapping[str, float]) -> float:
    """The value of `text` with the given parameter values, as a float.

    Integer arithmetic stays exact while it can (parameter counts are large
    integers); the result is converted to float at the end.
    """
    tree = _parse(text)
    try:
        _check(tree, frozenset(values))
        result = _eval(tree, values)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    return float(result)
