"""The one loader: course YAML in, frozen `course.model` objects out.

Every problem is collected, not just the first, and reported as
`FILE:LINE:COL: message` with FILE relative to the course root. `load_course`
raises ContentError when there is any; `validate_course` returns them.

Reading is in two passes: each file is turned into objects on its own (types,
ranges, required and unknown keys), then references between files are checked
(an exercise named by a lesson, a section named by a question, ...).
"""
from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Callable

from course import model as m
from course.errors import ContentError, Diagnostic
from course.model import Where
from course.yamlsafe import YNode, parse_file, yaml11_surprise

LESSON_FILE = "lesson.yaml"
QUIZ_FILE = "quiz.yaml"
EXERCISE_FILE = "exercise.yaml"
MANIFEST_FILE = "course.yaml"
EXPECTED_FILE = "expected.npz"  # a student release's stored expected outputs

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_DIM = 100_000
MAX_ELEMENTS = 10_000_000
MAX_RANK = 8


class _Invalid:
    """Stands in for a value that failed validation, so building can go on."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID = _Invalid()


class Context:
    """Collects diagnostics for one course."""

    def __init__(self, root: Path):
        self.root = root
        self.diagnostics: list[Diagnostic] = []
        self.positions: dict[tuple[str, str], Where] = {}  # (what, id) -> where a reference is written
        self.broken_ids: set[str] = set()  # ids of files that failed: references to them are not errors too

    def error(self, where: Where, message: str) -> None:
        self.diagnostics.append(Diagnostic(where, message))

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def parse(self, path: Path) -> YNode | None:
        try:
            return parse_file(path, self.display(path))
        except ContentError as error:
            self.diagnostics.extend(error.diagnostics)
            return None


# --------------------------------------------------------------------------- scalars


def _describe(node: YNode) -> str:
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.value is None:
        return "nothing (null)"
    kinds = {"str": "text", "int": "a whole number", "float": "a number", "bool": "a boolean", "timestamp": "a date"}
    return f"{kinds.get(node.tag, node.tag)} '{node.raw}'"


def _type_error(ctx: Context, node: YNode, expected: str) -> _Invalid:
    surprise = yaml11_surprise(node)
    if surprise:
        ctx.error(node.where, f"expected {expected}: {surprise}")
    else:
        ctx.error(node.where, f"expected {expected}, got {_describe(node)}")
    return INVALID


Converter = Callable[[Context, YNode], object]


def text(ctx: Context, node: YNode):
    """Text. Plain numbers are taken as written ("2013", "0777"); booleans and null are errors."""
    if node.kind != "scalar" or node.value is None or node.tag == "bool":
        return _type_error(ctx, node, "text")
    if node.tag == "str":
        return node.value
    return node.raw


def nonempty_text(ctx: Context, node: YNode):
    value = text(ctx, node)
    if value is not INVALID and not value.strip():
        ctx.error(node.where, "must not be empty")
        return INVALID
    return value


def identifier(ctx: Context, node: YNode):
    value = text(ctx, node)
    if value is not INVALID and not ID_PATTERN.match(value):
        ctx.error(node.where, f"'{value}' is not a valid id: use lowercase letters, digits, '-' and '_'")
        return INVALID
    return value


def python_name(ctx: Context, node: YNode):
    value = text(ctx, node)
    if value is not INVALID and not PY_NAME.match(value):
        ctx.error(node.where, f"'{value}' is not a valid Python name")
        return INVALID
    return value


def boolean(ctx: Context, node: YNode):
    if node.kind == "scalar" and node.tag == "bool":
        return node.value
    return _type_error(ctx, node, "true or false")


def integer(low: float = -math.inf, high: float = math.inf) -> Converter:
    def convert(ctx: Context, node: YNode):
        if node.kind != "scalar" or node.tag != "int" or yaml11_surprise(node):
            return _type_error(ctx, node, "a whole number")
        return _in_range(ctx, node, node.value, low, high)

    return convert


def number(low: float = -math.inf, high: float = math.inf) -> Converter:
    def convert(ctx: Context, node: YNode):
        if node.kind != "scalar" or node.tag not in ("int", "float") or yaml11_surprise(node):
            return _type_error(ctx, node, "a number")
        value = float(node.value) if node.tag == "float" else node.value
        if not math.isfinite(value):
            ctx.error(node.where, f"must be a finite number, got {node.raw}")
            return INVALID
        return _in_range(ctx, node, value, low, high)

    return convert


def _in_range(ctx: Context, node: YNode, value, low, high):
    if value < low or value > high:
        if high == math.inf:
            ctx.error(node.where, f"must be at least {low:g}, got {node.raw}")
        elif low == -math.inf:
            ctx.error(node.where, f"must be at most {high:g}, got {node.raw}")
        else:
            ctx.error(node.where, f"must be between {low:g} and {high:g}, got {node.raw}")
        return INVALID
    return value


def one_of(*choices: str) -> Converter:
    def convert(ctx: Context, node: YNode):
        value = text(ctx, node)
        if value is INVALID:
            return INVALID
        if value not in choices:
            suggestion = _suggest(value, choices)
            ctx.error(node.where, f"'{value}' is not one of: {', '.join(choices)}{suggestion}")
            return INVALID
        return value

    return convert


def list_of(item: Converter, min_items: int = 0, max_items: int = 100_000) -> Converter:
    def convert(ctx: Context, node: YNode):
        if node.kind != "seq":
            return _type_error(ctx, node, "a list")
        if len(node.value) < min_items:
            ctx.error(node.where, f"needs at least {min_items} item{'s' if min_items != 1 else ''}, got {len(node.value)}")
        if len(node.value) > max_items:
            ctx.error(node.where, f"has {len(node.value)} items, more than the {max_items} allowed")
            return INVALID
        values = [item(ctx, child) for child in node.value]
        if any(v is INVALID for v in values):
            return INVALID
        return tuple(values)

    return convert


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# --------------------------------------------------------------------------- mappings


class Fields:
    """Reads one YAML mapping: required and optional keys, unknown keys reported at once."""

    def __init__(self, ctx: Context, node: YNode, what: str, allowed: tuple[str, ...]):
        self.ctx, self.node, self.what = ctx, node, what
        self.ok = node.kind == "map"
        if not self.ok:
            ctx.error(node.where, f"expected a mapping for the {what}, got {_describe(node)}")
            return
        for key in node.value:
            if key not in allowed:
                where = node.keys[key]
                ctx.error(where, f"unknown key '{key}' in {what}{_suggest(key, allowed)}")

    def has(self, key: str) -> bool:
        return self.ok and key in self.node.value

    def child(self, key: str) -> YNode | None:
        return self.node.value.get(key) if self.ok else None

    def where_of(self, key: str) -> Where:
        if self.ok and key in self.node.keys:
            return self.node.keys[key]
        return self.node.where

    def required(self, key: str, convert: Converter):
        if not self.ok:
            return INVALID
        if key not in self.node.value:
            self.ctx.error(self.node.where, f"missing required key '{key}' in {self.what}")
            return INVALID
        return convert(self.ctx, self.node.value[key])

    def optional(self, key: str, convert: Converter, default):
        if not self.ok or key not in self.node.value:
            return default
        value_node = self.node.value[key]
        if value_node.kind == "scalar" and value_node.value is None and value_node.tag == "null":
            return default
        return convert(self.ctx, value_node)


def _valid(*values) -> bool:
    return all(v is not INVALID for v in values)


def _format_version(fields: Fields) -> None:
    version = fields.required("format_version", integer())
    if version is not INVALID and version != m.FORMAT_VERSION:
        fields.ctx.error(fields.where_of("format_version"), f"format_version {version} is not supported; this engine reads {m.FORMAT_VERSION}")


def _top_mapping(ctx: Context, node: YNode | None, what: str) -> bool:
    if node is None:
        return False
    if node.kind != "map":
        ctx.error(node.where, f"the top level of a {what} file must be a mapping of keys, got {_describe(node)}")
        return False
    return True


# --------------------------------------------------------------------------- lessons


def _block(ctx: Context, node: YNode):
    kinds = ("markdown", "code", "table", "figure")
    if node.kind != "map" or len(node.value) != 1:
        if node.kind == "map" and len(node.value) > 1:
            ctx.error(node.where, f"a block has exactly one of {', '.join(kinds)}; this one has {', '.join(node.value)}")
        else:
            ctx.error(node.where, f"expected a block (a mapping with one of {', '.join(kinds)}), got {_describe(node)}")
        return INVALID
    (kind, body), = node.value.items()
    if kind not in kinds:
        ctx.error(node.keys[kind], f"unknown block kind '{kind}'{_suggest(kind, kinds)}")
        return INVALID
    if kind == "markdown":
        value = nonempty_text(ctx, body)
        return INVALID if value is INVALID else m.MarkdownBlock(value, body.where)
    if kind == "figure":
        value = identifier(ctx, body)
        return INVALID if value is INVALID else m.FigureRef(value, body.where)
    if kind == "code":
        f = Fields(ctx, body, "code block", ("language", "source", "caption", "runnable"))
        block = m.CodeBlock(
            source=f.required("source", nonempty_text),
            language=f.optional("language", identifier, "python"),
            caption=f.optional("caption", text, ""),
            runnable=f.optional("runnable", boolean, False),
            where=body.where,
        )
        return block if _valid(block.source, block.language, block.caption, block.runnable) else INVALID
    f = Fields(ctx, body, "table", ("columns", "rows", "caption"))
    columns = f.required("columns", list_of(nonempty_text, min_items=1))
    rows = f.required("rows", list_of(list_of(text), min_items=1))
    caption = f.optional("caption", text, "")
    if not _valid(columns, rows, caption):
        return INVALID
    rows_node = f.child("rows")
    for row, row_node in zip(rows, rows_node.value):
        if len(row) != len(columns):
            ctx.error(row_node.where, f"row has {len(row)} cells but the table has {len(columns)} columns")
    return m.TableBlock(columns, rows, caption, body.where)


def _section(ctx: Context, node: YNode):
    f = Fields(ctx, node, "section", ("id", "title", "blocks"))
    section = m.Section(
        id=f.required("id", identifier),
        title=f.required("title", nonempty_text),
        blocks=f.required("blocks", list_of(_block, min_items=1)),
        where=node.where,
    )
    return section if _valid(section.id, section.title, section.blocks) else INVALID


def _key_term(ctx: Context, node: YNode):
    f = Fields(ctx, node, "key term", ("term", "definition"))
    term = m.KeyTerm(f.required("term", nonempty_text), f.required("definition", nonempty_text), node.where)
    return term if _valid(term.term, term.definition) else INVALID


def _source(ctx: Context, node: YNode):
    f = Fields(ctx, node, "source", ("id", "title", "authors", "year", "url"))
    source = m.Source(
        id=f.required("id", identifier),
        title=f.required("title", nonempty_text),
        authors=f.required("authors", nonempty_text),
        year=f.required("year", integer(1900, 2100)),
        url=f.optional("url", text, ""),
        where=node.where,
    )
    return source if _valid(*(source.id, source.title, source.authors, source.year, source.url)) else INVALID


def _axis(ctx: Context, node: YNode):
    f = Fields(ctx, node, "axis", ("label", "scale"))
    axis = m.Axis(f.required("label", nonempty_text), f.optional("scale", one_of("linear", "log"), "linear"))
    return axis if _valid(axis.label, axis.scale) else INVALID


def _point(ctx: Context, node: YNode):
    f = Fields(ctx, node, "data point", ("x", "y", "label", "estimate", "source"))
    point = m.DataPoint(
        x=f.required("x", number()),
        y=f.required("y", number()),
        label=f.optional("label", text, ""),
        estimate=f.optional("estimate", boolean, False),
        source=f.optional("source", identifier, ""),
        where=node.where,
    )
    if not _valid(point.x, point.y, point.label, point.estimate, point.source):
        return INVALID
    if not point.estimate and not point.source:
        ctx.error(node.where, "a data point needs a `source` (a source id), or `estimate: true` to be drawn as an estimate")
    return point


def _series(ctx: Context, node: YNode):
    f = Fields(ctx, node, "series", ("name", "points"))
    series = m.Series(f.required("name", nonempty_text), f.required("points", list_of(_point, min_items=1, max_items=10_000)), node.where)
    return series if _valid(series.name, series.points) else INVALID


FIGURE_KINDS = ("line_chart", "scatter_chart", "heatmap", "graph", "image")
_FIGURE_COMMON = ("id", "kind", "title", "caption", "sources")


def _figure(ctx: Context, node: YNode):
    kind_node = node.get("kind")
    if node.kind != "map" or kind_node is None:
        Fields(ctx, node, "figure", _FIGURE_COMMON)  # reports the wrong type
        if node.kind == "map":
            ctx.error(node.where, f"missing required key 'kind' in figure (one of {', '.join(FIGURE_KINDS)})")
        return INVALID
    kind = one_of(*FIGURE_KINDS)(ctx, kind_node)
    if kind is INVALID:
        return INVALID
    extra = {
        "line_chart": ("x", "y", "series", "illustration"),
        "scatter_chart": ("x", "y", "series", "illustration"),
        "heatmap": ("rows", "columns", "values", "row_label", "column_label", "illustration"),
        "graph": ("direction", "nodes", "edges", "clusters"),
        "image": ("file",),
    }[kind]
    f = Fields(ctx, node, f"{kind} figure", _FIGURE_COMMON + extra)
    common = dict(
        id=f.required("id", identifier),
        kind=kind,
        title=f.required("title", nonempty_text),
        caption=f.optional("caption", text, ""),
        sources=f.optional("sources", list_of(identifier), ()),
        where=node.where,
    )
    if kind in ("line_chart", "scatter_chart"):
        figure = m.ChartFigure(
            x=f.required("x", _axis),
            y=f.required("y", _axis),
            series=f.required("series", list_of(_series, min_items=1)),
            illustration=f.optional("illustration", boolean, False),
            **common,
        )
        if _valid(figure.x, figure.y, figure.series):
            for axis_name, axis in (("x", figure.x), ("y", figure.y)):
                if axis.scale == "log":
                    for series in figure.series:
                        for point in series.points:
                            if getattr(point, axis_name) <= 0:
                                ctx.error(point.where, f"{axis_name} = {getattr(point, axis_name):g} cannot be drawn on a log-scale axis (must be > 0)")
    elif kind == "heatmap":
        figure = m.HeatmapFigure(
            rows=f.required("rows", list_of(text, min_items=1, max_items=200)),
            columns=f.required("columns", list_of(text, min_items=1, max_items=200)),
            values=f.required("values", list_of(list_of(number(), max_items=200), min_items=1, max_items=200)),
            row_label=f.optional("row_label", text, ""),
            column_label=f.optional("column_label", text, ""),
            illustration=f.optional("illustration", boolean, False),
            **common,
        )
        if _valid(figure.rows, figure.columns, figure.values):
            values_node = f.child("values")
            if len(figure.values) != len(figure.rows):
                ctx.error(values_node.where, f"values has {len(figure.values)} rows but `rows` names {len(figure.rows)}")
            for row, row_node in zip(figure.values, values_node.value):
                if len(row) != len(figure.columns):
                    ctx.error(row_node.where, f"this row has {len(row)} values but `columns` names {len(figure.columns)}")
    elif kind == "graph":
        figure = m.GraphFigure(
            direction=f.optional("direction", one_of("TB", "BT", "LR", "RL"), "TB"),
            nodes=f.required("nodes", list_of(_graph_node, min_items=1, max_items=500)),
            edges=f.optional("edges", list_of(_graph_edge, max_items=2000), ()),
            clusters=f.optional("clusters", list_of(_graph_cluster, max_items=100), ()),
            **common,
        )
        if _valid(figure.nodes, figure.edges, figure.clusters):
            _check_graph(ctx, figure)
    else:
        figure = m.ImageFigure(file=f.required("file", nonempty_text), **common)
    values = [getattr(figure, name) for name in figure.__dataclass_fields__]
    return figure if _valid(*values) else INVALID


def _graph_node(ctx: Context, node: YNode):
    f = Fields(ctx, node, "graph node", ("id", "label", "shape"))
    graph_node = m.GraphNode(
        id=f.required("id", python_name),
        label=f.optional("label", text, ""),
        shape=f.optional("shape", one_of("box", "ellipse", "oval", "circle", "plaintext", "plain", "note", "component", "cylinder", "diamond", "rect", "rectangle", "square"), "box"),
        where=node.where,
    )
    return graph_node if _valid(graph_node.id, graph_node.label, graph_node.shape) else INVALID


def _graph_edge(ctx: Context, node: YNode):
    f = Fields(ctx, node, "graph edge", ("from", "to", "label", "style"))
    edge = m.GraphEdge(
        source=f.required("from", python_name),
        target=f.required("to", python_name),
        label=f.optional("label", text, ""),
        style=f.optional("style", one_of("", "solid", "dashed", "dotted", "bold"), ""),
        where=node.where,
    )
    return edge if _valid(edge.source, edge.target, edge.label, edge.style) else INVALID


def _graph_cluster(ctx: Context, node: YNode):
    f = Fields(ctx, node, "graph cluster", ("id", "label", "nodes"))
    cluster = m.GraphCluster(
        id=f.required("id", python_name),
        label=f.optional("label", text, ""),
        nodes=f.required("nodes", list_of(python_name, min_items=1)),
        where=node.where,
    )
    return cluster if _valid(cluster.id, cluster.label, cluster.nodes) else INVALID


def _check_graph(ctx: Context, figure: m.GraphFigure) -> None:
    ids = _unique(ctx, figure.nodes, lambda n: n.id, "node id")
    for edge in figure.edges:
        for end in (edge.source, edge.target):
            if end not in ids:
                ctx.error(edge.where, f"edge refers to unknown node '{end}'{_suggest(end, ids)}")
    owner: dict[str, str] = {}
    _unique(ctx, figure.clusters, lambda c: c.id, "cluster id")
    for cluster in figure.clusters:
        for node_id in cluster.nodes:
            if node_id not in ids:
                ctx.error(cluster.where, f"cluster '{cluster.id}' lists unknown node '{node_id}'{_suggest(node_id, ids)}")
            elif node_id in owner:
                ctx.error(cluster.where, f"node '{node_id}' is already in cluster '{owner[node_id]}'")
            else:
                owner[node_id] = cluster.id


def _unique(ctx: Context, items, key, what: str) -> set:
    seen: dict = {}
    for item in items:
        value = key(item)
        if value in seen:
            ctx.error(item.where, f"duplicate {what} '{value}' (first at line {seen[value].line})")
        else:
            seen[value] = item.where
    return set(seen)


def _lesson(ctx: Context, path: Path) -> m.Lesson | None:
    node = ctx.parse(path)
    if not _top_mapping(ctx, node, "lesson"):
        return None
    f = Fields(ctx, node, "lesson", ("format_version", "id", "number", "title", "summary", "objectives", "sections", "key_terms", "figures", "sources", "exercises"))
    _format_version(f)
    lesson = m.Lesson(
        id=f.required("id", identifier),
        number=f.required("number", integer(0, 10_000)),
        title=f.required("title", nonempty_text),
        summary=f.optional("summary", text, ""),
        objectives=f.optional("objectives", list_of(nonempty_text), ()),
        sections=f.required("sections", list_of(_section, min_items=1)),
        key_terms=f.optional("key_terms", list_of(_key_term), ()),
        figures=f.optional("figures", list_of(_figure), ()),
        sources=f.optional("sources", list_of(_source), ()),
        exercises=f.optional("exercises", list_of(_exercise_ref), ()),
        folder=path.parent,
        where=node.where,
    )
    values = [getattr(lesson, name) for name in lesson.__dataclass_fields__]
    if not _valid(*values):
        _remember_broken(ctx, node)
        return None
    _check_lesson(ctx, lesson, f)
    return lesson


def _remember_broken(ctx: Context, node: YNode) -> None:
    id_node = node.get("id")
    if id_node is not None and id_node.kind == "scalar" and isinstance(id_node.value, str):
        ctx.broken_ids.add(id_node.value)


def _exercise_ref(ctx: Context, node: YNode):
    value = identifier(ctx, node)
    if value is not INVALID:
        ctx.positions[("exercise-ref", node.where.file + ":" + value)] = node.where
    return value


def _check_lesson(ctx: Context, lesson: m.Lesson, f: Fields) -> None:
    if lesson.id != lesson.folder.name:
        ctx.error(f.where_of("id"), f"lesson id '{lesson.id}' must match its folder name '{lesson.folder.name}'")
    section_ids = _unique(ctx, lesson.sections, lambda s: s.id, "section id")
    figure_ids = _unique(ctx, lesson.figures, lambda fig: fig.id, "figure id")
    source_ids = _unique(ctx, lesson.sources, lambda s: s.id, "source id")
    del section_ids
    for section in lesson.sections:
        for block in section.blocks:
            if isinstance(block, m.FigureRef) and block.figure_id not in figure_ids:
                ctx.error(block.where, f"unknown figure '{block.figure_id}'{_suggest(block.figure_id, figure_ids)}")
    for figure in lesson.figures:
        for source in figure.sources:
            if source not in source_ids:
                ctx.error(figure.where, f"figure '{figure.id}' cites unknown source '{source}'{_suggest(source, source_ids)}")
        if isinstance(figure, m.ChartFigure):
            for series in figure.series:
                for point in series.points:
                    if point.source and point.source not in source_ids:
                        ctx.error(point.where, f"unknown source '{point.source}'{_suggest(point.source, source_ids)}")
        if isinstance(figure, m.ImageFigure):
            image = (lesson.folder / figure.file).resolve()
            if not image.is_file():
                ctx.error(figure.where, f"image file '{figure.file}' not found in {ctx.display(lesson.folder)}/")
            elif not image.is_relative_to(lesson.folder.resolve()):
                ctx.error(figure.where, f"image file '{figure.file}' is outside the lesson folder")


# --------------------------------------------------------------------------- quizzes

_QUESTION_COMMON = ("id", "kind", "section", "points", "prompt", "hint", "explanation")
_QUESTION_EXTRA = {
    "single": ("choices",),
    "multiple": ("choices",),
    "true_false": ("answer",),
    "numeric": ("answer", "tolerance", "unit", "parameters"),
    "ordering": ("items",),
    "matching": ("pairs",),
    "text": ("accept", "pattern"),
}


def _choice(ctx: Context, node: YNode):
    f = Fields(ctx, node, "choice", ("text", "correct", "explanation"))
    choice = m.Choice(f.required("text", nonempty_text), f.optional("correct", boolean, False), f.optional("explanation", text, ""), node.where)
    return choice if _valid(choice.text, choice.correct, choice.explanation) else INVALID


def _pair(ctx: Context, node: YNode):
    f = Fields(ctx, node, "matching pair", ("left", "right"))
    pair = m.MatchPair(f.required("left", nonempty_text), f.required("right", nonempty_text), node.where)
    return pair if _valid(pair.left, pair.right) else INVALID


def _tolerance(ctx: Context, node: YNode):
    f = Fields(ctx, node, "tolerance", ("absolute", "relative"))
    if f.ok and len(node.value) != 1:
        ctx.error(node.where, "give exactly one of `absolute` or `relative`")
        return INVALID
    tolerance = m.Tolerance(f.optional("absolute", number(0), 0.0), f.optional("relative", number(0, 1), 0.0))
    return tolerance if _valid(tolerance.absolute, tolerance.relative) else INVALID


def _parameters(ctx: Context, node: YNode):
    if node.kind != "map":
        return _type_error(ctx, node, "a mapping of parameter name to {choices: [...]} or {range: [low, high]}")
    parameters = []
    for name, spec in node.value.items():
        where = node.keys[name]
        if not PY_NAME.match(name):
            ctx.error(where, f"parameter name '{name}' must be a Python-style name")
            continue
        f = Fields(ctx, spec, f"parameter '{name}'", ("choices", "range", "step"))
        if not f.ok:
            continue
        if f.has("choices") == f.has("range"):
            ctx.error(spec.where, f"parameter '{name}' needs exactly one of `choices` or `range`")
            continue
        choices = f.optional("choices", list_of(number(), min_items=1, max_items=1000), ())
        bounds = f.optional("range", list_of(number(), min_items=2, max_items=2), (0, 0))
        step = f.optional("step", number(1e-12), 1)
        if not _valid(choices, bounds, step):
            continue
        low, high = bounds
        if low > high:
            ctx.error(f.child("range").where, f"range low {low:g} is above high {high:g}")
            continue
        if (high - low) / step > 1_000_000:
            ctx.error(f.child("range").where, "range has more than a million values; use a larger step")
            continue
        parameters.append(m.Parameter(name, tuple(choices), low, high, step, where))
    return tuple(parameters)


def _question(ctx: Context, node: YNode):
    kind_node = node.get("kind")
    if node.kind != "map" or kind_node is None:
        Fields(ctx, node, "question", _QUESTION_COMMON)
        if node.kind == "map":
            ctx.error(node.where, f"missing required key 'kind' in question (one of {', '.join(m.QUESTION_KINDS)})")
        return INVALID
    kind = one_of(*m.QUESTION_KINDS)(ctx, kind_node)
    if kind is INVALID:
        return INVALID
    f = Fields(ctx, node, f"{kind} question", _QUESTION_COMMON + _QUESTION_EXTRA[kind])
    fields = dict(
        id=f.required("id", identifier),
        kind=kind,
        section=f.required("section", identifier),
        prompt=f.required("prompt", nonempty_text),
        hint=f.required("hint", nonempty_text),
        explanation=f.required("explanation", nonempty_text),
        points=f.optional("points", number(0, 1000), 1),
        where=node.where,
    )
    if kind in ("single", "multiple"):
        fields["choices"] = f.required("choices", list_of(_choice, min_items=2, max_items=26))
        if _valid(fields["choices"]):
            correct = sum(c.correct for c in fields["choices"])
            if kind == "single" and correct != 1:
                ctx.error(f.where_of("choices"), f"a single-choice question needs exactly one correct choice, has {correct}")
            if kind == "multiple" and correct < 1:
                ctx.error(f.where_of("choices"), "a multiple-select question needs at least one correct choice")
            _unique(ctx, fields["choices"], lambda c: c.text.strip().lower(), "choice")
    elif kind == "true_false":
        fields["answer_bool"] = f.required("answer", boolean)
    elif kind == "numeric":
        fields["parameters"] = f.optional("parameters", _parameters, ())
        fields["tolerance"] = f.optional("tolerance", _tolerance, m.Tolerance(0.0, 0.0))
        fields["unit"] = f.optional("unit", text, "")
        fields["answer_expr"] = f.required("answer", _expression)
        if _valid(fields["parameters"], fields["answer_expr"]):
            _check_expression(ctx, f.child("answer"), fields["answer_expr"], fields["parameters"])
            _check_placeholders(ctx, node, fields["prompt"], fields["parameters"])
    elif kind == "ordering":
        fields["items"] = f.required("items", list_of(nonempty_text, min_items=2, max_items=26))
        if _valid(fields["items"]) and len(set(fields["items"])) != len(fields["items"]):
            ctx.error(f.where_of("items"), "ordering items must be distinct")
    elif kind == "matching":
        fields["pairs"] = f.required("pairs", list_of(_pair, min_items=2, max_items=26))
        if _valid(fields["pairs"]):
            _unique(ctx, fields["pairs"], lambda p: p.left, "left side")
            _unique(ctx, fields["pairs"], lambda p: p.right, "right side")
    elif kind == "text":
        fields["accept"] = f.optional("accept", list_of(nonempty_text, max_items=100), ())
        fields["pattern"] = f.optional("pattern", text, "")
        if _valid(fields["accept"], fields["pattern"]):
            if not fields["accept"] and not fields["pattern"]:
                ctx.error(node.where, "a text question needs `accept` (a list of answers) or a `pattern`")
            if fields["pattern"]:
                try:
                    re.compile(fields["pattern"])
                except re.error as error:
                    ctx.error(f.child("pattern").where, f"invalid regular expression: {error}")
    if not _valid(*fields.values()):
        return INVALID
    return m.Question(**fields)


def _expression(ctx: Context, node: YNode):
    """A numeric answer: a number, or arithmetic over the question's parameters (kept as text)."""
    if node.kind == "scalar" and node.tag in ("int", "float") and not yaml11_surprise(node):
        return repr(node.value)
    if node.kind == "scalar" and node.tag == "str":
        return node.value
    return _type_error(ctx, node, "a number or an arithmetic expression")


def _check_expression(ctx: Context, node: YNode, expression: str, parameters) -> None:
    from course.quiz.expr import check_expression

    problem = check_expression(expression, [p.name for p in parameters])
    if problem:
        surprise = yaml11_surprise(node)
        ctx.error(node.where, surprise or f"invalid answer expression: {problem}")


def _check_placeholders(ctx: Context, node: YNode, prompt: str, parameters) -> None:
    names = {p.name for p in parameters}
    for placeholder in re.findall(r"\{([^{}]*)\}", prompt):
        if placeholder not in names:
            ctx.error(node.get("prompt").where, f"prompt uses {{{placeholder}}} but the question has no such parameter{_suggest(placeholder, names)}")


def _quiz(ctx: Context, path: Path, lesson: m.Lesson | None) -> m.Quiz | None:
    node = ctx.parse(path)
    if not _top_mapping(ctx, node, "quiz"):
        return None
    f = Fields(ctx, node, "quiz", ("format_version", "lesson", "title", "pass_fraction", "questions"))
    _format_version(f)
    quiz = m.Quiz(
        lesson_id=f.required("lesson", identifier),
        title=f.optional("title", text, "Quiz"),
        pass_fraction=f.optional("pass_fraction", number(0, 1), 0.7),
        questions=f.required("questions", list_of(_question, min_items=1, max_items=1000)),
        where=node.where,
    )
    if not _valid(quiz.lesson_id, quiz.title, quiz.pass_fraction, quiz.questions):
        return None
    _unique(ctx, quiz.questions, lambda q: q.id, "question id")
    if lesson is not None:
        if quiz.lesson_id != lesson.id:
            ctx.error(f.where_of("lesson"), f"quiz names lesson '{quiz.lesson_id}' but sits beside lesson '{lesson.id}'")
        section_ids = [s.id for s in lesson.sections]
        for question in quiz.questions:
            if question.section not in section_ids:
                ctx.error(question.where, f"question '{question.id}' names unknown section '{question.section}'{_suggest(question.section, section_ids)}")
    return quiz


# --------------------------------------------------------------------------- exercises


def _shape(ctx: Context, node: YNode):
    dims = list_of(integer(0, MAX_DIM), max_items=MAX_RANK)(ctx, node)
    if dims is INVALID:
        return INVALID
    total = math.prod(dims) if dims else 1
    if total > MAX_ELEMENTS:
        ctx.error(node.where, f"shape {list(dims)} has {total:,} elements; at most {MAX_ELEMENTS:,} are allowed")
        return INVALID
    return tuple(dims)


_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
_PARAM_CONVERTERS: dict[str, Converter] = {
    "shape": _shape,
    "loc": number(),
    "scale": number(0),
    "low": number(),
    "high": number(),
    "fill": number(),
    "dtype": one_of(*_DTYPES),
    "pattern": one_of("causal", "random", "padding", "none", "all"),
    "density": number(0, 1),
}
_REQUIRED_PARAMS = {"normal": ("shape",), "uniform": ("shape",), "integers": ("shape", "low", "high"), "constant": ("shape", "fill"), "mask": ("shape", "pattern")}


def _literal(ctx: Context, node: YNode, depth: int = 0):
    """A literal value for `value:` / `array:` inputs: scalars, lists and mappings of them."""
    if node.kind == "map":
        result = {key: _literal(ctx, child, depth + 1) for key, child in node.value.items()}
        return INVALID if any(v is INVALID for v in result.values()) else result
    if node.kind == "seq":
        result = [_literal(ctx, child, depth + 1) for child in node.value]
        return INVALID if any(v is INVALID for v in result) else result
    surprise = yaml11_surprise(node)
    if surprise and node.tag != "bool":
        ctx.error(node.where, surprise)
        return INVALID
    if node.tag == "timestamp":
        return _type_error(ctx, node, "a number, text or boolean")
    return node.value


def _input_spec(ctx: Context, node: YNode):
    """An argument: a plain literal scalar, or {generator: params}."""
    if node.kind == "scalar":
        value = _literal(ctx, node)
        return INVALID if value is INVALID else m.InputSpec("value", {"data": value}, node.where)
    if node.kind != "map" or len(node.value) != 1:
        ctx.error(node.where, f"an argument is a literal or a mapping with one generator ({', '.join(m.INPUT_KINDS)})")
        return INVALID
    (kind, body), = node.value.items()
    if kind not in m.INPUT_KINDS:
        ctx.error(node.keys[kind], f"unknown input generator '{kind}'{_suggest(kind, m.INPUT_KINDS)}")
        return INVALID
    if kind in ("value", "array"):
        data = _literal(ctx, body)
        if data is INVALID:
            return INVALID
        if kind == "array":
            if not _rectangular(data):
                ctx.error(body.where, "array data must be a number or a rectangular nested list of numbers")
                return INVALID
        return m.InputSpec(kind, {"data": data}, node.where)
    f = Fields(ctx, body, f"{kind} input", m.INPUT_KINDS[kind])
    if not f.ok:
        return INVALID
    params = {}
    for name in m.INPUT_KINDS[kind]:
        if name in _REQUIRED_PARAMS.get(kind, ()):
            params[name] = f.required(name, _PARAM_CONVERTERS[name])
        elif f.has(name):
            params[name] = f.optional(name, _PARAM_CONVERTERS[name], None)
    if not _valid(*params.values()):
        return INVALID
    if "low" in params and "high" in params and params["low"] >= params["high"]:
        ctx.error(body.where, f"low ({params['low']:g}) must be below high ({params['high']:g})")
        return INVALID
    if kind == "mask" and len(params["shape"]) < 2:
        ctx.error(f.child("shape").where, "a mask needs at least two axes (..., seq_q, seq_k)")
        return INVALID
    return m.InputSpec(kind, params, node.where)


def _rectangular(data) -> bool:
    if isinstance(data, bool) or isinstance(data, (int, float)):
        return True
    if not isinstance(data, list) or not data:
        return False
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in data):
        return True
    if all(isinstance(x, bool) for x in data):
        return True
    if all(isinstance(x, list) for x in data):
        lengths = {len(x) for x in data}
        return len(lengths) == 1 and all(_rectangular(x) for x in data)
    return False


def _case_tolerance(ctx: Context, node: YNode):
    f = Fields(ctx, node, "tolerance", ("rtol", "atol"))
    tolerance = m.CaseTolerance(f.optional("rtol", number(0, 1), 1e-7), f.optional("atol", number(0), 0.0))
    return tolerance if _valid(tolerance.rtol, tolerance.atol) else INVALID


def _kwargs(ctx: Context, node: YNode):
    if node.kind != "map":
        return _type_error(ctx, node, "a mapping of keyword argument names to inputs")
    result = {}
    for name, child in node.value.items():
        if not PY_NAME.match(name):
            ctx.error(node.keys[name], f"'{name}' is not a valid keyword argument name")
            result[name] = INVALID
            continue
        result[name] = _input_spec(ctx, child)
    return INVALID if any(v is INVALID for v in result.values()) else result


def _case(defaults: dict) -> Converter:
    def convert(ctx: Context, node: YNode):
        f = Fields(ctx, node, "case", ("name", "visibility", "points", "seed", "description", "args", "kwargs", "tolerance", "checks", "hint"))
        extra_checks = f.optional("checks", list_of(one_of(*m.PROPERTY_CHECKS)), ())
        checks = INVALID if extra_checks is INVALID else tuple(dict.fromkeys(defaults["checks"] + extra_checks))
        case = m.Case(
            name=f.required("name", identifier),
            visibility=f.required("visibility", one_of(*m.VISIBILITIES)),
            points=f.optional("points", number(0, 1000), 1),
            seed=f.optional("seed", integer(0, 2**32 - 1), 0),
            args=f.optional("args", list_of(_input_spec, max_items=16), ()),
            kwargs=f.optional("kwargs", _kwargs, {}),
            tolerance=f.optional("tolerance", _case_tolerance, defaults["tolerance"]),
            checks=checks,
            description=f.optional("description", text, ""),
            hint=f.optional("hint", integer(1, 100), 0),
            where=node.where,
        )
        values = [getattr(case, name) for name in case.__dataclass_fields__]
        return case if _valid(*values) else INVALID

    return convert


def _mistake(ctx: Context, node: YNode):
    f = Fields(ctx, node, "mistake", ("name", "file", "description", "message"))
    name = f.required("name", identifier)
    mistake = m.Mistake(
        name=name,
        file=f.optional("file", nonempty_text, f"mistakes/{name}.py" if name is not INVALID else ""),
        description=f.required("description", nonempty_text),
        message=f.required("message", nonempty_text),
        where=node.where,
    )
    values = [getattr(mistake, field) for field in mistake.__dataclass_fields__]
    return mistake if _valid(*values) else INVALID


def _limits(ctx: Context, node: YNode):
    f = Fields(ctx, node, "limits", ("wall_seconds", "memory_mb"))
    limits = m.ExerciseLimits(f.optional("wall_seconds", number(0.5, 600), 10.0), f.optional("memory_mb", integer(256, 16384), 1024))
    return limits if _valid(limits.wall_seconds, limits.memory_mb) else INVALID


def _exercise(ctx: Context, path: Path, edition: str) -> m.Exercise | None:
    node = ctx.parse(path)
    if not _top_mapping(ctx, node, "exercise"):
        return None
    f = Fields(ctx, node, "exercise", ("format_version", "id", "title", "lesson", "section", "function", "signature", "instructions", "starter", "reference", "limits", "tolerance", "checks", "hints", "cases", "mistakes"))
    _format_version(f)
    defaults = {
        "tolerance": f.optional("tolerance", _case_tolerance, m.CaseTolerance(1e-7, 0.0)),
        "checks": f.optional("checks", list_of(one_of(*m.PROPERTY_CHECKS)), ()),
    }
    if not _valid(*defaults.values()):
        defaults = {"tolerance": m.CaseTolerance(1e-7, 0.0), "checks": ()}
    exercise = m.Exercise(
        id=f.required("id", identifier),
        title=f.required("title", nonempty_text),
        lesson=f.required("lesson", identifier),
        section=f.optional("section", identifier, ""),
        function=f.required("function", python_name),
        signature=f.required("signature", nonempty_text),
        instructions=f.required("instructions", nonempty_text),
        hints=f.required("hints", list_of(nonempty_text, min_items=1)),
        starter=f.optional("starter", nonempty_text, "starter.py"),
        reference=f.optional("reference", nonempty_text, "reference.py"),
        cases=f.required("cases", list_of(_case(defaults), min_items=1, max_items=500)),
        mistakes=f.optional("mistakes", list_of(_mistake), ()),
        limits=f.optional("limits", _limits, m.ExerciseLimits(10.0, 1024)),
        folder=path.parent,
        where=node.where,
    )
    values = [getattr(exercise, name) for name in exercise.__dataclass_fields__]
    if not _valid(*values):
        _remember_broken(ctx, node)
        return None
    _check_exercise(ctx, exercise, f, edition)
    return exercise


def _check_exercise(ctx: Context, exercise: m.Exercise, f: Fields, edition: str) -> None:
    folder_name = exercise.folder.name
    if exercise.id != folder_name:
        ctx.error(f.where_of("id"), f"exercise id '{exercise.id}' must match its folder name '{folder_name}'")
    _unique(ctx, exercise.cases, lambda c: c.name, "case name")
    _unique(ctx, exercise.mistakes, lambda mk: mk.name, "mistake name")
    if exercise.function and exercise.signature and not exercise.signature.startswith(exercise.function + "("):
        ctx.error(f.where_of("signature"), f"signature should start with '{exercise.function}(' (the function name)")
    files = [("starter", exercise.starter, f.where_of("starter"))]
    if edition == "student":
        files.append(("expected outputs", EXPECTED_FILE, f.node.where))
    else:
        files.append(("reference", exercise.reference, f.where_of("reference")))
        files += [(f"mistake '{mk.name}'", mk.file, mk.where) for mk in exercise.mistakes]
    for what, name, where in files:
        if not (exercise.folder / name).is_file():
            ctx.error(where, f"{what} file '{name}' not found in {ctx.display(exercise.folder)}/")
    for case in exercise.cases:
        if case.hint > len(exercise.hints):
            ctx.error(case.where, f"case '{case.name}' points at hint {case.hint} but the exercise has {len(exercise.hints)} hint(s)")


# --------------------------------------------------------------------------- the course


def _manifest(ctx: Context, root: Path) -> tuple[str, str]:
    path = root / MANIFEST_FILE
    if not path.exists():
        return "LLM Fundamentals", "instructor"
    node = ctx.parse(path)
    if not _top_mapping(ctx, node, "course manifest"):
        return "LLM Fundamentals", "instructor"
    f = Fields(ctx, node, "course manifest", ("format_version", "title", "edition"))
    _format_version(f)
    title = f.optional("title", nonempty_text, "LLM Fundamentals")
    edition = f.optional("edition", one_of("instructor", "student"), "instructor")
    return (title if title is not INVALID else "LLM Fundamentals", edition if edition is not INVALID else "instructor")


def _read_course(root: Path) -> tuple[m.Course | None, list[Diagnostic]]:
    root = Path(root).resolve()
    ctx = Context(root)
    if not root.is_dir():
        ctx.error(Where(str(root)), "course folder not found")
        return None, ctx.diagnostics
    title, edition = _manifest(ctx, root)
    for folder in ("content", "exercises"):
        if not (root / folder).is_dir():
            ctx.error(Where(folder + "/"), f"missing folder '{folder}/': a course root holds content/ and exercises/")
    lessons = []
    for folder in sorted(p for p in (root / "content").glob("*") if p.is_dir()):
        lesson_path = folder / LESSON_FILE
        if not lesson_path.is_file():
            ctx.error(Where(ctx.display(folder) + "/"), f"lesson folder has no {LESSON_FILE}")
            continue
        lesson = _lesson(ctx, lesson_path)
        if lesson is None:
            ctx.broken_ids.add(folder.name)
        quiz_path = folder / QUIZ_FILE
        quiz = _quiz(ctx, quiz_path, lesson) if quiz_path.exists() else None
        if lesson is not None:
            lessons.append(_with_quiz(lesson, quiz))
    exercises = []
    for folder in sorted(p for p in (root / "exercises").glob("*") if p.is_dir() and not p.name.startswith((".", "_"))):
        exercise_path = folder / EXERCISE_FILE
        if not exercise_path.is_file():
            ctx.error(Where(ctx.display(folder) + "/"), f"exercise folder has no {EXERCISE_FILE}")
            continue
        exercise = _exercise(ctx, exercise_path, edition)
        if exercise is None:
            ctx.broken_ids.add(folder.name)
        else:
            exercises.append(exercise)
    lessons.sort(key=lambda lesson: (lesson.number, lesson.id))
    _check_course(ctx, lessons, exercises)
    course = m.Course(root=root, title=title, lessons=tuple(lessons), exercises=tuple(exercises), edition=edition)
    return course, ctx.diagnostics


def _with_quiz(lesson: m.Lesson, quiz: m.Quiz | None) -> m.Lesson:
    from dataclasses import replace

    return replace(lesson, quiz=quiz)


def _check_course(ctx: Context, lessons: list[m.Lesson], exercises: list[m.Exercise]) -> None:
    lesson_ids = _unique(ctx, lessons, lambda lesson: lesson.id, "lesson id")
    _unique(ctx, lessons, lambda lesson: lesson.number, "lesson number")
    exercise_ids = _unique(ctx, exercises, lambda e: e.id, "exercise id")
    by_id = {lesson.id: lesson for lesson in lessons}
    for lesson in lessons:
        for exercise_id in lesson.exercises:
            if exercise_id not in exercise_ids and exercise_id not in ctx.broken_ids:
                where = ctx.positions.get(("exercise-ref", lesson.where.file + ":" + exercise_id), lesson.where)
                ctx.error(where, f"lesson '{lesson.id}' lists unknown exercise '{exercise_id}'{_suggest(exercise_id, exercise_ids)}")
    for exercise in exercises:
        if exercise.lesson in ctx.broken_ids:
            continue
        if exercise.lesson not in lesson_ids:
            ctx.error(exercise.where, f"exercise '{exercise.id}' names unknown lesson '{exercise.lesson}'{_suggest(exercise.lesson, lesson_ids)}")
        elif exercise.section and by_id[exercise.lesson].section(exercise.section) is None:
            sections = [s.id for s in by_id[exercise.lesson].sections]
            ctx.error(exercise.where, f"exercise '{exercise.id}' names unknown section '{exercise.section}'{_suggest(exercise.section, sections)}")


def preview_exercise(root: Path, exercise_id: str) -> m.Exercise | None:
    """One exercise read from its own exercise.yaml, or None when absent or broken.

    No cross-file checks: `course check` uses it to start the sandbox child before the
    whole course is loaded and validated (which then happens as usual).
    """
    root = Path(root).resolve()
    path = root / "exercises" / exercise_id / EXERCISE_FILE
    if not ID_PATTERN.match(exercise_id) or not path.is_file():
        return None
    ctx = Context(root)
    _, edition = _manifest(ctx, root)
    exercise = _exercise(ctx, path, edition)
    return exercise if exercise is not None and not ctx.diagnostics else None


def validate_course(root: Path) -> list[Diagnostic]:
    """Every content problem of the course at `root`, in file order."""
    _, diagnostics = _read_course(root)
    return sorted(diagnostics, key=lambda d: (d.where.file, d.where.line, d.where.column))


def load_course(root: Path) -> m.Course:
    """The course at `root` as typed objects; ContentError lists every problem."""
    course, diagnostics = _read_course(root)
    if diagnostics or course is None:
        raise ContentError(sorted(diagnostics, key=lambda d: (d.where.file, d.where.line, d.where.column)))
    return course
