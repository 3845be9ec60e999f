"""Pydantic's validation errors as `FILE:LINE:COL: message`, in the author's terms.

A pydantic error has a location path (("sections", 2, "blocks", 0, "code", "code",
"source")) and a type ("missing", "int_type", ...). Here the path is followed through the
model's types and the file's YNodes at once: the types tell a union's tag (which moves
nowhere in the file) from a key or an index (which do), and the models' nouns and
fields for the message; the YNode gives the position and what was written, so a YAML 1.1
surprise (`no`, `1e-6`, `0777`, a date) is explained rather than reported as a wrong type.
"""
from __future__ import annotations

import collections.abc
import types
import typing
from typing import Annotated, Any, Mapping, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo

from course import model as m
from course.errors import Diagnostic, Where, did_you_mean
from course.yamlsafe import YNode, yaml11_surprise

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
}


def explain(error: ValidationError, model: type[BaseModel], root: YNode) -> list[Diagnostic]:
    """Every error of one file's validation, positioned and worded for its author."""
    errors = error.errors()
    locations = [tuple(e["loc"]) for e in errors]
    found: list[Diagnostic] = []
    for item, loc in zip(errors, locations):
        if item["type"] in ("too_short", "too_long") and any(
                other != loc and other[:len(loc)] == loc for other in locations):
            continue  # a list's items failed: its count after validation means nothing
        found.extend(_explain_one(item, loc, model, root))
    unique = dict.fromkeys(found)
    return sorted(unique, key=lambda d: (d.where.line, d.where.column))


# --------------------------------------------------------------------------- walking


class _Step(typing.NamedTuple):
    tp: Any  # the annotated type at this point of the path
    node: YNode | None  # the YAML value there (None: not written)
    key_where: Where | None  # for a mapping key: where the key is written


def _strip(tp: Any) -> tuple[Any, list]:
    """The type without its Annotated metadata and without Optional (a key written is not None),
    and that metadata."""
    meta: list = []
    while True:
        if isinstance(tp, typing.ForwardRef):  # a recursive type ("Input" inside DictInput)
            tp = tp.__forward_arg__
        if isinstance(tp, str):
            tp = getattr(m, tp, Any)
        origin = get_origin(tp)
        if origin in (Union, types.UnionType) and len(get_args(tp)) == 2 and type(None) in get_args(tp):
            tp = next(member for member in get_args(tp) if member is not type(None))  # Optional[X]: X
        elif origin is Annotated:
            tp, *more = get_args(tp)
            meta.extend(more)
        else:
            return tp, meta


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_type(model: type[m.CourseModel], key: Any) -> Any:
    """The annotated type of the field a YAML key holds (Any: no such key, or an index)."""
    name = model.yaml_keys().get(key)
    if name is None:
        return Any
    info = model.model_fields[name]
    if not info.metadata:
        return info.annotation
    arguments = (info.annotation, *info.metadata)
    return Annotated[arguments]  # a type built at run time, for pydantic's errors


def _tags(member: Any) -> list[str]:
    tp, meta = _strip(member)
    tags = [item.tag for item in meta if isinstance(item, Tag)]
    if _is_model(tp) and "kind" in tp.model_fields:
        tags += [t for t in get_args(tp.model_fields["kind"].annotation) if isinstance(t, str)]
    return tags


def _union_members(tp: Any) -> tuple | None:
    bare, _ = _strip(tp)
    if get_origin(bare) in (Union, types.UnionType):
        return get_args(bare)
    return None


def _child(node: YNode | None, key) -> tuple[YNode | None, Where | None]:
    if node is None:
        return None, None
    if node.kind == "map":
        if isinstance(key, int) and not isinstance(key, bool):
            values = list(node.value.values())
            return (values[key], None) if 0 <= key < len(values) else (None, None)
        return node.value.get(key), (node.keys or {}).get(key)
    if node.kind == "seq" and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key], None
    return None, None


def _walk(model: type[BaseModel], root: YNode, loc: tuple) -> list[_Step]:
    """The type and node at each prefix of `loc` (steps[0] is the file itself)."""
    steps = [_Step(model, root, None)]
    tp: Any = model
    node: YNode | None = root
    for element in loc:
        key_where = None
        members = _union_members(tp)
        if members is None:
            tp, node, key_where = _walk_from(tp, node, element)
        else:
            chosen = next((member for member in members if element in _tags(member)), None)
            if chosen is not None:
                tp = chosen  # a tag: the same YAML value, now known to be this member
        steps.append(_Step(tp, node, key_where))
    return steps


def _walk_from(tp: Any, node: YNode | None, element) -> tuple[Any, YNode | None, Where | None]:
    bare, _ = _strip(tp)
    origin = get_origin(bare)
    if _is_model(bare):
        child, key_where = _child(node, element)
        return _field_type(bare, element), child, key_where
    if origin in (tuple, list):
        args = get_args(bare)
        if len(args) == 2 and args[1] is Ellipsis or len(args) == 1:
            item = args[0]
        else:
            item = args[element] if isinstance(element, int) and element < len(args) else Any
        child, _ = _child(node, element)
        return item, child, None
    if origin in (dict, collections.abc.Mapping, typing.Mapping):
        # a key that failed ("[key]") is reported at the key, one step up: see _explain_one
        child, key_where = _child(node, element)
        return get_args(bare)[1], child, key_where
    child, key_where = _child(node, element)
    return Any, child, key_where


def node_at(node: YNode | None, path: tuple) -> tuple[YNode | None, Where | None]:
    """Follow YAML keys and indexes; returns the node and, for a last key, where it is written."""
    key_where = None
    for element in path:
        node, key_where = _child(node, element)
    return node, key_where


# --------------------------------------------------------------------------- messages


def describe(node: YNode | None) -> str:
    """What was written, in words: "a list", "text 'one'", "nothing (null)"."""
    if node is None:
        return "nothing"
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.value is None:
        return "nothing (null)"
    kinds = {"str": "text", "int": "a whole number", "float": "a number", "bool": "a boolean",
             "timestamp": "a date"}  # every tag yamlsafe reads a scalar with (null aside)
    return f"{kinds[node.tag]} '{node.raw}'"


def _type_message(expected: str, node: YNode | None) -> str:
    container = expected.startswith(("a list", "a mapping", "an argument", "a block"))
    surprise = yaml11_surprise(node) if node is not None and not container else ""
    if surprise:
        return f"expected {expected}: {surprise}"
    return f"expected {expected}, got {describe(node)}"


def _raw(node: YNode | None, fallback: Any) -> str:
    if node is not None and node.kind == "scalar":
        return node.raw
    return str(fallback)


def _bounds(tp: Any) -> dict[str, float]:
    """ge / le / gt / lt of a type's constraints (its Field and annotated_types metadata)."""
    _, meta = _strip(tp)
    bounds: dict[str, float] = {}
    pending = list(meta)
    while pending:
        item = pending.pop()
        if isinstance(item, FieldInfo):  # Field(ge=..., le=...) holds them as annotated_types.Ge, Le, ...
            pending.extend(item.metadata)
        for name in ("ge", "le", "gt", "lt"):
            value = getattr(item, name, None)
            if isinstance(item, (annotated_types.Ge, annotated_types.Le, annotated_types.Gt, annotated_types.Lt)) \
                    and value is not None:
                bounds[name] = value
    return bounds


def _range_message(tp: Any, ctx: dict, node: YNode | None, value: Any) -> str:
    bounds = {**_bounds(tp), **{k: v for k, v in ctx.items() if k in ("ge", "le", "gt", "lt")}}
    raw = _raw(node, value)
    low, high = bounds.get("ge"), bounds.get("le")
    if low is not None and high is not None:
        return f"must be between {low:g} and {high:g}, got {raw}"
    if "gt" in bounds:
        return f"must be greater than {bounds['gt']:g}, got {raw}"
    if low is not None:
        return f"must be at least {low:g}, got {raw}"
    if high is not None:
        return f"must be at most {high:g}, got {raw}"
    return f"must be below {bounds.get('lt', '?')}, got {raw}"


def _noun(tp: Any) -> str:
    bare, _ = _strip(tp)
    if _is_model(bare) and issubclass(bare, m.CourseModel):
        return bare.describe()
    members = _union_members(tp)
    if members:
        first, _ = _strip(members[0])
        if _is_model(first) and issubclass(first.__mro__[1], m.CourseModel):
            return first.__mro__[1].describe()
    return "value"


def _one_key(tp: Any) -> m.OneKey | None:
    _, meta = _strip(tp)
    return next((item for item in meta if isinstance(item, m.OneKey)), None)


def _where(step: _Step, fallback: Where) -> Where:
    if step.node is not None:
        return step.node.where
    return fallback


def _explain_one(item: Mapping[str, Any], loc: tuple, model: type[BaseModel], root: YNode) -> list[Diagnostic]:
    steps = _walk(model, root, loc)
    here = steps[-1]
    parent = steps[-2] if len(steps) > 1 else here
    # the nearest position actually written in the file
    written = next((s.node for s in reversed(steps) if s.node is not None), root)
    kind, ctx = item["type"], item.get("ctx") or {}

    def at(message: str, where: Where | None = None) -> list[Diagnostic]:
        return [Diagnostic(where or _where(here, written.where), message)]

    if kind == m.PROBLEMS:
        return [_problem(problem, written) for problem in ctx["problems"]]
    if kind == "missing":
        return at(f"missing required key '{loc[-1]}' in {_noun(parent.tp)}")  # at the mapping that lacks it
    if kind == "extra_forbidden":
        allowed = _strip(parent.tp)[0].yaml_keys() if _is_model(_strip(parent.tp)[0]) else ()
        return at(f"unknown key '{loc[-1]}' in {_noun(parent.tp)}{did_you_mean(loc[-1], allowed)}",
                  here.key_where or _where(parent, written.where))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return at(*_union_message(kind, ctx, here))
    if loc and loc[-1] == "[key]":  # a mapping's key is not a valid name
        key = loc[-2]
        what = ("a name must not be empty" if kind in ("string_too_short", "course") and not str(key).strip()
                else f"'{key}' is not a valid name here (use a Python-style name: letters, digits and '_')")
        return at(what, parent.key_where or _where(parent, written.where))
    if kind == "course_expected":
        return at(_type_message(ctx["expected"], here.node))
    if kind in _EXPECTED:
        return at(_type_message(_EXPECTED[kind], here.node))
    if kind in ("model_type", "model_attributes_type"):
        return at(_type_message(f"a mapping for the {_noun(here.tp)}", here.node))
    if kind == "literal_error":
        choices = [str(c) for c in get_args(_strip(here.tp)[0])] or [ctx.get("expected", "")]
        node = here.node
        if node is None or node.kind != "scalar" or node.tag != "str":
            return at(_type_message("one of: " + ", ".join(choices), node))
        return at(f"'{node.value}' is not one of: {', '.join(choices)}{did_you_mean(node.value, choices)}")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return at(_range_message(here.tp, ctx, here.node, item.get("input")))
    if kind == "finite_number":
        return at(f"must be a finite number, got {_raw(here.node, item.get('input'))}")
    if kind == "too_short":
        n = ctx["min_length"]
        return at(f"needs at least {n} item{'s' if n != 1 else ''}, got {ctx['actual_length']}")
    if kind == "too_long":
        return at(f"has {ctx['actual_length']} items, more than the {ctx['max_length']} allowed")
    if kind == "string_too_short":
        return at("must not be empty")
    if kind == "string_pattern_mismatch":
        value = _raw(here.node, item.get("input"))
        if ctx.get("pattern") == m.ID_PATTERN:
            return at(f"'{value}' is not a valid id: use lowercase letters, digits, '-' and '_'")
        return at(f"'{value}' is not a valid Python name")
    return at(item["msg"])  # a model's own check ("course"): its message is already in the author's terms


def _union_message(kind: str, ctx: dict, here: _Step) -> tuple[str, Where | None]:
    node = here.node
    members = _union_members(here.tp) or ()
    tags = [tag for member in members for tag in _tags(member) if tag != "literal"]
    one_key = _one_key(here.tp)
    noun = one_key.noun if one_key else _noun(here.tp)
    if one_key is not None:
        if node is not None and node.kind == "map" and len(node.value) > 1:
            article = "an" if noun[0] in "aeiou" else "a"
            return f"{article} {noun} has exactly one of {', '.join(tags)}; this one has {', '.join(node.value)}", None
        if kind == "union_tag_invalid" and node is not None and node.kind == "map":
            key = ctx["tag"]
            return f"unknown {one_key.kind_word} '{key}'{did_you_mean(key, tags)}", (node.keys or {}).get(key)
        return _type_message(one_key.expected, node), None
    if node is None or node.kind != "map":
        return _type_message(f"a mapping for the {noun}", node), None
    kind_node = node.value.get("kind")
    if kind_node is None:  # union_tag_not_found
        return f"missing required key 'kind' in {noun} (one of {', '.join(tags)})", None
    if kind_node.kind != "scalar" or kind_node.tag != "str":
        return _type_message("one of: " + ", ".join(tags), kind_node), kind_node.where
    value = kind_node.value
    return f"'{value}' is not one of: {', '.join(tags)}{did_you_mean(value, tags)}", kind_node.where


def _problem(problem: m.Problem, node: YNode) -> Diagnostic:
    """A model's own problem, positioned at its path from the object's node."""
    target, key_where = node_at(node, problem.path)
    last = problem.path[-1] if problem.path else None
    if isinstance(last, str) and key_where is not None:
        where = key_where
    elif target is not None:
        where = target.where
    else:
        where = node.where
    message = problem.message
    if message.startswith("@surprise"):
        surprise = yaml11_surprise(target) if target is not None else ""
        fallback = message.partition(":")[2] or f"expected a number, text or boolean, got {describe(target)}"
        message = surprise or fallback
    if problem.ref is not None and "{line}" in message:
        ref, _ = node_at(node, problem.ref)
        message = message.replace("{line}", str(ref.where.line if ref is not None else "?"))
    return Diagnostic(where, message)
