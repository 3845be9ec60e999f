"""The course format, declared once: pydantic models of every file and every key.

These classes are THE declaration of what a course file may hold. The loader
(course.loader) validates YAML with them and hands the validated objects to the rest of
the engine; the student edition (course.instructor.release) is written from them; the
JSON Schemas (`course schema`, course/schemas/) and the key reference of
docs/authoring.md are generated from them (course.schema). A key is added, renamed or
documented here and nowhere else.

Conventions:
- every model is frozen and forbids unknown keys; every field has a `description`
  (the key reference is made of them) and, where it has one, its default;
- each kind (question, figure, lesson block, exercise input) is a class of its own with
  a Literal discriminator: `kind` for questions and figures (written in the YAML), the
  one key of the mapping for blocks and inputs (`{markdown: ...}`, `{normal: {...}}`);
- checks within one object (a table's rows as long as its columns, exactly one correct
  choice, ...) are `_problems` methods, run by pydantic when the object is otherwise
  valid, so one run reports every problem of a file; checks across files (an exercise's
  lesson exists, files exist) are the loader's.

Objects read from a file carry `where` (FILE:LINE:COL of their definition); lessons and
exercises their `folder`; a lesson its `quiz`. The loader sets them: they are not keys.
"""
import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Optional, Union, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    Strict,
    Tag,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from course.errors import Where, did_you_mean

FORMAT_VERSION = 1

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
PY_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_DIM = 100_000
MAX_ELEMENTS = 10_000_000
MAX_RANK = 8

NOWHERE = Where("")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """A problem found by a model's own checks.

    `path` leads from the object to the key or item at fault (("rows", 2), ("choices",));
    an empty path is the object itself. `{line}` in the message is replaced by the line
    of `ref`, another path from the object (the first of two duplicates).
    """

    path: tuple
    message: str
    ref: tuple | None = None


PROBLEMS = "course_problems"  # the pydantic error type carrying a list of Problems


def _fail(message: str) -> PydanticCustomError:
    """A scalar's problem with a finished message."""
    return PydanticCustomError("course", message)


def _expected(what: str) -> PydanticCustomError:
    """Wrong type: the loader adds what was written (and what YAML 1.1 made of it)."""
    return PydanticCustomError("course_expected", "expected {expected}", {"expected": what})


# --------------------------------------------------------------------------- scalars


def _as_text(value: Any) -> str:
    """Text; a number or a date is taken as written ("2013", "0777", "1.10")."""
    if isinstance(value, str):
        return value
    raw = getattr(value, "yaml_raw", None)
    if raw is not None:
        return raw
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _expected("text")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _fail("must not be empty")
    return value


def _keep_int(value: Any, handler) -> Any:
    """A number field keeps a whole number written without a dot as an int (points: 1)."""
    result = handler(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return result


# Constraints come before the BeforeValidator so that they land in the JSON Schema too.
Text = Annotated[str, BeforeValidator(_as_text, json_schema_input_type=Union[str, float])]
NonEmptyText = Annotated[str, Field(min_length=1), AfterValidator(_not_blank), BeforeValidator(_as_text)]
Id = Annotated[str, Field(pattern=ID_PATTERN), BeforeValidator(_as_text)]
PyName = Annotated[str, Field(pattern=PY_NAME_PATTERN), BeforeValidator(_as_text)]
Bool = Annotated[bool, Strict()]
_AS_WRITTEN = PlainSerializer(lambda value: value, return_type=Any)


@functools.lru_cache(maxsize=None)
def Int(ge: int | None = None, le: int | None = None) -> Any:
    """A whole number (no dot), optionally within [ge, le]."""
    return Annotated[int, Strict(), Field(ge=ge, le=le)]


@functools.lru_cache(maxsize=None)
def Number(ge: float | None = None, le: float | None = None, gt: float | None = None) -> Any:
    """A finite number; written without a dot it stays a whole number."""
    return Annotated[float, Strict(), Field(ge=ge, le=le, gt=gt), WrapValidator(_keep_int), _AS_WRITTEN]


def _relative_path(value: str) -> str:
    path = Path(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        raise _fail(f"'{value}' must be a path inside the folder (no '..', no leading '/')")
    return value


RelPath = Annotated[NonEmptyText, AfterValidator(_relative_path)]


def _supported_version(version: int) -> int:
    if version > FORMAT_VERSION:
        raise _fail(f"format_version {version} is newer than this engine reads ({FORMAT_VERSION}): "
                    "update the course engine")
    if version < FORMAT_VERSION:
        raise _fail(f"format_version {version} is older than this engine reads ({FORMAT_VERSION}): "
                    f"migrate the file to format_version {FORMAT_VERSION}")
    return version


FormatVersion = Annotated[int, Strict(), AfterValidator(_supported_version),
                          Field(description=f"The version of the course format: {FORMAT_VERSION}.",
                                json_schema_extra={"const": FORMAT_VERSION})]


def _literal_data(value: Any, path: tuple = ()) -> Any:
    """A literal as plain Python: numbers, text, booleans, null, lists and mappings of them."""
    if isinstance(value, dict):
        return {key: _literal_data(item, path + (key,)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_literal_data(item, path + (i,)) for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "yaml_raw") and not isinstance(value, (int, float)):  # a date, an octal number, ...
        raise PydanticCustomError(PROBLEMS, "unusual value", {"problems": [Problem(path, "@surprise")]})
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PydanticCustomError(PROBLEMS, "not finite", {"problems": [Problem(path, "must be a finite number")]})
        return float(value)
    raise _expected("a number, text, a boolean, a list or a mapping")


def _rectangular(data: Any) -> bool:
    if isinstance(data, (bool, int, float)):
        return True
    if not isinstance(data, list) or not data:
        return False
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in data):
        return True
    if all(isinstance(x, bool) for x in data):
        return True
    if all(isinstance(x, list) for x in data):
        return len({len(x) for x in data}) == 1 and all(_rectangular(x) for x in data)
    return False


def _array_data(value: Any) -> Any:
    data = _literal_data(value)
    if not _rectangular(data):
        raise _fail("array data must be a number or a rectangular nested list of numbers")
    return data


LiteralData = Annotated[Any, BeforeValidator(_literal_data)]
ArrayData = Annotated[Any, BeforeValidator(_array_data,
                                           json_schema_input_type=Union[float, bool, list[Any]])]


def _element_budget(shape: tuple[int, ...]) -> tuple[int, ...]:
    total = math.prod(shape)
    if total > MAX_ELEMENTS:
        raise _fail(f"shape {list(shape)} has {total:,} elements; at most {MAX_ELEMENTS:,} are allowed")
    return shape


Shape = Annotated[tuple[Int(0, MAX_DIM), ...], Field(max_length=MAX_RANK), AfterValidator(_element_budget)]


# --------------------------------------------------------------------------- the base


class CourseModel(BaseModel):
    """Frozen, strict about unknown keys, and positioned (`where`) once loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True,
                              allow_inf_nan=False, defer_build=True, revalidate_instances="never",
                              use_attribute_docstrings=False)

    noun: ClassVar[str] = ""  # how messages name an object of this class ("section", "line_chart figure")

    _where: Where = PrivateAttr()  # no default: pydantic would deep-copy it for every object

    def __eq__(self, other: object) -> bool:
        """Equal values are equal wherever they are written (`where` and the like do not count)."""
        if type(self) is not type(other):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), tuple(_hashable(value) for value in self.__dict__.values())))

    @property
    def where(self) -> Where:
        """FILE:LINE:COL of this object's definition (set by the loader)."""
        return self._private("_where", NOWHERE)

    def _private(self, name: str, default: Any) -> Any:
        return (self.__pydantic_private__ or {}).get(name, default)

    @classmethod
    def yaml_keys(cls) -> dict[str, str]:
        """YAML key -> field name."""
        keys = cls.__dict__.get("_yaml_keys_cache")
        if keys is None:
            keys = {(info.alias or name): name for name, info in cls.model_fields.items()}
            setattr(cls, "_yaml_keys_cache", keys)
        return keys

    def placed(self, where: Where) -> Any:
        """This object, positioned at `where` (what the loader does for every object it reads)."""
        self._where = where
        return self

    @classmethod
    def describe(cls) -> str:
        """The noun messages use for this class."""
        if cls.noun:
            return cls.noun
        return re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        """`key:` with nothing after it means the default, as if the key were absent."""
        if isinstance(data, dict) and any(value is None for value in data.values()):
            fields = cls.model_fields
            keys = cls.yaml_keys()
            data = {key: value for key, value in data.items()
                    if value is not None or key not in keys or fields[keys[key]].is_required()}
        return data

    @model_validator(mode="after")
    def _check(self) -> Any:
        problems = list(self._problems())
        if problems:
            raise PydanticCustomError(PROBLEMS, "{first}", {"first": problems[0].message, "problems": problems})
        return self._complete()

    def _problems(self) -> Iterator[Problem]:
        """Checks of this object as a whole (its fields are already valid)."""
        return iter(())

    def _complete(self) -> Any:
        """The object the rest of the engine sees (defaults that depend on other keys)."""
        return self


def _hashable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple((key, _hashable(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


def _duplicates(items, key, what: str, path: str) -> Iterator[Problem]:
    """Problems for items whose key was already seen: '(first at line N)'."""
    seen: dict = {}
    for index, item in enumerate(items):
        value = key(item)
        if value in seen:
            yield Problem((path, index), f"duplicate {what} '{value}' (first at line {{line}})", (path, seen[value]))
        else:
            seen[value] = index


@dataclass(frozen=True)
class OneKey:
    """Marks a union of one-key mappings (`{markdown: ...}`, `{normal: {...}}`) for messages."""

    noun: str  # what one value is: "block", "argument"
    kind_word: str  # what its key names: "block kind", "input generator"
    expected: str  # what a value of the union is, for "expected ..." messages


def _single_key(value: Any) -> str | None:
    if isinstance(value, dict):
        return next(iter(value)) if len(value) == 1 else None
    if isinstance(value, BaseModel):
        return getattr(value, "kind", None)
    return "literal" if value is not None and not isinstance(value, (list, tuple)) else None


def _one_key_union(classes: tuple, marker: OneKey, *extra: Any) -> Any:
    members = tuple(Annotated[cls, Tag(cls.kind)] for cls in classes) + extra
    return Annotated[Union[members], Discriminator(_single_key), marker]


# --------------------------------------------------------------------------- course.yaml


class Manifest(CourseModel):
    """`course.yaml`: the course root's manifest (optional; without it the defaults apply)."""

    noun: ClassVar[str] = "course manifest"

    format_version: FormatVersion
    title: NonEmptyText = Field("LLM Fundamentals", description="The course's title, shown by `course lessons`.")
    edition: Literal["instructor", "student"] = Field(
        "instructor", description="`course release` writes `student`: exercises then hold `expected.npz` "
                                  "instead of `reference.py` and the known mistakes' code.")


# --------------------------------------------------------------------------- lessons


class Code(CourseModel):
    """A code example."""

    noun: ClassVar[str] = "code block"

    source: NonEmptyText = Field(description="The code (a `|` block keeps its lines).")
    language: Id = Field("python", description="The language, for highlighting.")
    caption: Text = Field("", description="A line under the code.")
    runnable: Bool = Field(False, description="`true`: an example that runs with numpy alone, fast, printing "
                                              "something; `course validate` runs it in the sandbox and reports "
                                              "it if it raises.")


class Table(CourseModel):
    """A table of text cells."""

    columns: tuple[NonEmptyText, ...] = Field(min_length=1, description="The column headings.")
    rows: tuple[tuple[Text, ...], ...] = Field(min_length=1, description="One list of cells per row, each as "
                                                                         "long as `columns`.")
    caption: Text = Field("", description="A line above the table.")

    def _problems(self) -> Iterator[Problem]:
        for index, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                yield Problem(("rows", index), f"row has {len(row)} cells but the table has {len(self.columns)} columns")


class MarkdownBlock(CourseModel):
    """Prose: paragraphs, `- ` bullets, `1. ` lists, `### ` headings, **bold**, *italic*, `code`."""

    kind: ClassVar[Literal["markdown"]] = "markdown"
    noun: ClassVar[str] = "markdown block"

    markdown: NonEmptyText = Field(description="The text. No HTML, images or pipe tables (use `table`).")

    @property
    def text(self) -> str:
        return self.markdown


class CodeBlock(CourseModel):
    """A code example (see Code)."""

    kind: ClassVar[Literal["code"]] = "code"

    code: Code = Field(description="The example.")

    @property
    def source(self) -> str:
        return self.code.source

    @property
    def language(self) -> str:
        return self.code.language

    @property
    def caption(self) -> str:
        return self.code.caption

    @property
    def runnable(self) -> bool:
        return self.code.runnable


class TableBlock(CourseModel):
    """A table (see Table)."""

    kind: ClassVar[Literal["table"]] = "table"

    table: Table = Field(description="The table.")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.table.columns

    @property
    def rows(self) -> tuple[tuple[str, ...], ...]:
        return self.table.rows

    @property
    def caption(self) -> str:
        return self.table.caption


class FigureRef(CourseModel):
    """Places a figure declared under the lesson's `figures`."""

    kind: ClassVar[Literal["figure"]] = "figure"
    noun: ClassVar[str] = "figure block"

    figure: Id = Field(description="The figure's id.")

    @property
    def figure_id(self) -> str:
        return self.figure


BLOCK_KINDS = (MarkdownBlock, CodeBlock, TableBlock, FigureRef)
Block = _one_key_union(BLOCK_KINDS, OneKey("block", "block kind", "a block (a mapping with one of "
                                                                  + ", ".join(k.kind for k in BLOCK_KINDS) + ")"))


class Section(CourseModel):
    """A part of the lesson; quiz questions and exercises name it."""

    id: Id = Field(description="Unique in the lesson.")
    title: NonEmptyText = Field(description="The section's heading.")
    blocks: tuple[Block, ...] = Field(min_length=1, description="The content in reading order; each block is a "
                                                                "mapping with exactly one key: `markdown`, `code`, "
                                                                "`table` or `figure`.")


class KeyTerm(CourseModel):
    """A glossary entry."""

    term: NonEmptyText = Field(description="The term.")
    definition: NonEmptyText = Field(description="What it means.")


class Source(CourseModel):
    """A citation; figures and data points name it by `id`."""

    id: Id = Field(description="Unique in the lesson.")
    title: NonEmptyText = Field(description="The work's title.")
    authors: NonEmptyText = Field(description="Its authors, e.g. `Vaswani et al.`.")
    year: Int(1900, 2100) = Field(description="The year it was published.")
    url: Text = Field("", description="Where to read it.")


class Axis(CourseModel):
    """A chart axis."""

    label: NonEmptyText = Field(description="The axis label.")
    scale: Literal["linear", "log"] = Field("linear", description="On a `log` axis every value must be > 0.")


class DataPoint(CourseModel):
    """One point of a series. Nothing invented may be shown as data: a point names its
    source, or is marked as an estimate (drawn hollow, labelled "(estimate)")."""

    x: Number() = Field(description="The x value.")
    y: Number() = Field(description="The y value.")
    label: Text = Field("", description="Written beside the point.")
    estimate: Bool = Field(False, description="`true`: not a published figure.")
    source: Id = Field("", description="The id of the source the value comes from (required unless `estimate`).")

    def _problems(self) -> Iterator[Problem]:
        if not self.estimate and not self.source:
            yield Problem((), "a data point needs a `source` (a source id), or `estimate: true` to be drawn as an estimate")


class Series(CourseModel):
    """A named series of points."""

    name: NonEmptyText = Field(description="Shown in the legend.")
    points: tuple[DataPoint, ...] = Field(min_length=1, max_length=10_000, description="The points.")


class FigureBase(CourseModel):
    """What every figure has. `course figures LESSON --out DIR` draws each one as
    `DIR/<lesson>-<figure id>.png` and `.svg`."""

    id: Id = Field(description="Unique in the lesson; a `figure` block places it.")
    kind: str = Field(description="Which kind of figure.")
    title: NonEmptyText = Field(description="The figure's title.")
    caption: Text = Field("", description="A line under the figure.")
    sources: tuple[Id, ...] = Field((), description="Ids of the sources the figure draws on.")

    @classmethod
    def describe(cls) -> str:
        kinds = get_args(cls.model_fields["kind"].annotation)
        return f"{kinds[0]} figure" if len(kinds) == 1 else "figure"


class ChartFigure(FigureBase):
    """A line or scatter chart described as data."""

    kind: Literal["line_chart", "scatter_chart"] = Field(description="Which kind of figure.")
    x: Axis = Field(description="The horizontal axis.")
    y: Axis = Field(description="The vertical axis.")
    series: tuple[Series, ...] = Field(min_length=1, description="The data.")
    illustration: Bool = Field(False, description="`true` when the data is not measured: the title then says "
                                                  "\"Illustration\".")

    def _problems(self) -> Iterator[Problem]:
        for axis_name, axis in (("x", self.x), ("y", self.y)):
            if axis.scale != "log":
                continue
            for s, series in enumerate(self.series):
                for p, point in enumerate(series.points):
                    value = getattr(point, axis_name)
                    if value <= 0:
                        yield Problem(("series", s, "points", p),
                                      f"{axis_name} = {value:g} cannot be drawn on a log-scale axis (must be > 0)")


class LineChartFigure(ChartFigure):
    """A line chart: each series' points joined in x order."""

    kind: Literal["line_chart"] = Field(description="`line_chart`.")


class ScatterChartFigure(ChartFigure):
    """A scatter chart: points, each labelled."""

    kind: Literal["scatter_chart"] = Field(description="`scatter_chart`.")


class HeatmapFigure(FigureBase):
    """A matrix of values with row and column labels, e.g. attention weights."""

    kind: Literal["heatmap"] = Field(description="`heatmap`.")
    rows: tuple[Text, ...] = Field(min_length=1, max_length=200, description="The row labels.")
    columns: tuple[Text, ...] = Field(min_length=1, max_length=200, description="The column labels.")
    values: tuple[tuple[Number(), ...], ...] = Field(min_length=1, max_length=200, description="One list per row, "
                                                                                              "as long as `columns`.")
    row_label: Text = Field("", description="What the rows are.")
    column_label: Text = Field("", description="What the columns are.")
    illustration: Bool = Field(False, description="`true` when the values are made up to illustrate.")

    def _problems(self) -> Iterator[Problem]:
        if len(self.values) != len(self.rows):
            yield Problem(("values",), f"values has {len(self.values)} rows but `rows` names {len(self.rows)}")
        for index, row in enumerate(self.values):
            if len(row) > 200:
                yield Problem(("values", index), f"has {len(row)} items, more than the 200 allowed")
            elif len(row) != len(self.columns):
                yield Problem(("values", index), f"this row has {len(row)} values but `columns` names {len(self.columns)}")


GRAPH_SHAPES = ("box", "ellipse", "oval", "circle", "plaintext", "plain", "note", "component", "cylinder",
                "diamond", "rect", "rectangle", "square")


class GraphNode(CourseModel):
    """A node of a diagram."""

    id: PyName = Field(description="Unique in the figure; edges and clusters name it.")
    label: Text = Field("", description="The text in the node (default: the id).")
    shape: Literal[GRAPH_SHAPES] = Field("box", description="A Graphviz shape.")


class GraphEdge(CourseModel):
    """An arrow between two nodes."""

    source: PyName = Field(alias="from", description="The node it starts at.")
    target: PyName = Field(alias="to", description="The node it points to.")
    label: Text = Field("", description="Written beside the arrow.")
    style: Literal["", "solid", "dashed", "dotted", "bold"] = Field("", description="How the arrow is drawn.")


class GraphCluster(CourseModel):
    """A box around a group of nodes."""

    id: PyName = Field(description="Unique in the figure.")
    label: Text = Field("", description="The box's title.")
    nodes: tuple[PyName, ...] = Field(min_length=1, description="The nodes inside; a node belongs to at most one "
                                                                "cluster.")


class GraphFigure(FigureBase):
    """A diagram as nodes and edges, drawn with Graphviz."""

    kind: Literal["graph"] = Field(description="`graph`.")
    direction: Literal["TB", "BT", "LR", "RL"] = Field("TB", description="Top to bottom, left to right, ...")
    nodes: tuple[GraphNode, ...] = Field(min_length=1, max_length=500, description="The nodes.")
    edges: tuple[GraphEdge, ...] = Field((), max_length=2000, description="Arrows between declared nodes.")
    clusters: tuple[GraphCluster, ...] = Field((), max_length=100, description="Boxes around declared nodes.")

    def _problems(self) -> Iterator[Problem]:
        yield from _duplicates(self.nodes, lambda n: n.id, "node id", "nodes")
        yield from _duplicates(self.clusters, lambda c: c.id, "cluster id", "clusters")
        ids = {node.id for node in self.nodes}
        for index, edge in enumerate(self.edges):
            for end in (edge.source, edge.target):
                if end not in ids:
                    yield Problem(("edges", index), f"edge refers to unknown node '{end}'{did_you_mean(end, ids)}")
        owner: dict[str, str] = {}
        for index, cluster in enumerate(self.clusters):
            for node_id in cluster.nodes:
                if node_id not in ids:
                    yield Problem(("clusters", index),
                                  f"cluster '{cluster.id}' lists unknown node '{node_id}'{did_you_mean(node_id, ids)}")
                elif node_id in owner:
                    yield Problem(("clusters", index), f"node '{node_id}' is already in cluster '{owner[node_id]}'")
                else:
                    owner[node_id] = cluster.id


class ImageFigure(FigureBase):
    """A ready-made picture shipped in the lesson folder."""

    kind: Literal["image"] = Field(description="`image`.")
    file: RelPath = Field(description="The image file, relative to the lesson folder (it must exist there).")


FIGURE_KINDS = (LineChartFigure, ScatterChartFigure, HeatmapFigure, GraphFigure, ImageFigure)
Figure = Annotated[Union[FIGURE_KINDS], Field(discriminator="kind")]


class Lesson(CourseModel):
    """`content/<lesson>/lesson.yaml`: one lesson."""

    format_version: FormatVersion
    id: Id = Field(description="Equal to the folder's name; `course read <id>` (the `number` works too).")
    number: Int(0, 10_000) = Field(description="Unique; lessons are listed in this order.")
    title: NonEmptyText = Field(description="The lesson's title.")
    summary: Text = Field("", description="One paragraph under the title.")
    objectives: tuple[NonEmptyText, ...] = Field((), description="\"By the end of this lesson you will be able "
                                                                 "to\" ...")
    sections: tuple[Section, ...] = Field(min_length=1, description="The lesson's sections, in reading order.")
    key_terms: tuple[KeyTerm, ...] = Field((), description="A glossary at the end.")
    figures: tuple[Figure, ...] = Field((), description="Pictures described as data; a `figure` block places one.")
    sources: tuple[Source, ...] = Field((), description="Citations.")
    exercises: tuple[Id, ...] = Field((), description="Ids of the exercises practised with this lesson; each must "
                                                      "exist.")

    _folder: Path = PrivateAttr()
    _quiz: Optional["Quiz"] = PrivateAttr()

    @property
    def folder(self) -> Path:
        """The lesson's folder (content/<id>)."""
        return self._private("_folder", Path("."))

    @property
    def quiz(self) -> "Quiz | None":
        """The quiz beside the lesson, if any."""
        return self._private("_quiz", None)

    def with_quiz(self, quiz: "Quiz | None") -> "Lesson":
        """This lesson with `quiz` beside it (what the loader does with quiz.yaml)."""
        lesson = self.model_copy()
        lesson._quiz = quiz
        return lesson

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def figure(self, figure_id: str) -> Any:
        return next((f for f in self.figures if f.id == figure_id), None)

    def _problems(self) -> Iterator[Problem]:
        yield from _duplicates(self.sections, lambda s: s.id, "section id", "sections")
        yield from _duplicates(self.figures, lambda f: f.id, "figure id", "figures")
        yield from _duplicates(self.sources, lambda s: s.id, "source id", "sources")
        figure_ids = {figure.id for figure in self.figures}
        source_ids = {source.id for source in self.sources}
        for s, section in enumerate(self.sections):
            for b, block in enumerate(section.blocks):
                if isinstance(block, FigureRef) and block.figure not in figure_ids:
                    yield Problem(("sections", s, "blocks", b, "figure"),
                                  f"unknown figure '{block.figure}'{did_you_mean(block.figure, figure_ids)}")
        for f, figure in enumerate(self.figures):
            for source in figure.sources:
                if source not in source_ids:
                    yield Problem(("figures", f), f"figure '{figure.id}' cites unknown source "
                                                  f"'{source}'{did_you_mean(source, source_ids)}")
            for s, series in enumerate(getattr(figure, "series", ())):
                for p, point in enumerate(series.points):
                    if point.source and point.source not in source_ids:
                        yield Problem(("figures", f, "series", s, "points", p),
                                      f"unknown source '{point.source}'{did_you_mean(point.source, source_ids)}")


# --------------------------------------------------------------------------- quizzes


class Choice(CourseModel):
    """An answer to pick."""

    text: NonEmptyText = Field(description="The choice as shown.")
    correct: Bool = Field(False, description="`true` for a right answer.")
    explanation: Text = Field("", description="Shown after answering when this choice was picked.")


class MatchPair(CourseModel):
    """A left side and the right side it matches."""

    noun: ClassVar[str] = "matching pair"

    left: NonEmptyText = Field(description="Shown in the author's order.")
    right: NonEmptyText = Field(description="Shown shuffled.")


class Tolerance(CourseModel):
    """How far a numeric answer may be off: exactly one of the two keys."""

    absolute: Number(ge=0) = Field(0.0, description="|answer - expected| <= absolute.")
    relative: Number(0, 1) = Field(0.0, description="|answer - expected| <= relative * |expected|.")

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    def _problems(self) -> Iterator[Problem]:
        if len(self.model_fields_set) != 1:
            yield Problem((), "give exactly one of `absolute` or `relative`")


NO_TOLERANCE = Tolerance.model_construct(absolute=0.0, relative=0.0)


class Parameter(CourseModel):
    """A seeded variant's parameter: drawn from `choices`, or from `range` by `step`."""

    choices: tuple[Number(), ...] = Field((), max_length=1000, description="The values to draw from.")
    range: Optional[tuple[Number(), Number()]] = Field(None, description="`[low, high]`, both included.")
    step: Number(gt=0) = Field(1, description="The step through `range`.")

    _name: str = PrivateAttr()

    @property
    def name(self) -> str:
        """The parameter's name (its key under `parameters`)."""
        return self._private("_name", "")

    @property
    def low(self) -> float:
        return self.range[0] if self.range else 0

    @property
    def high(self) -> float:
        return self.range[1] if self.range else 0

    def _problems(self) -> Iterator[Problem]:
        if bool(self.choices) == (self.range is not None):
            yield Problem((), "a parameter needs exactly one of `choices` or `range`")
        elif self.range is not None:
            low, high = self.range
            if low > high:
                yield Problem(("range",), f"range low {low:g} is above high {high:g}")
            elif (high - low) / self.step > 1_000_000:
                yield Problem(("range",), "range has more than a million values; use a larger step")


def _named(parameters: Mapping[str, Parameter]) -> tuple[Parameter, ...]:
    """The mapping name -> parameter as the tuple of named parameters the engine uses."""
    named = []
    for name, parameter in parameters.items():
        parameter = parameter.model_copy()
        parameter._name = name
        named.append(parameter)
    return tuple(named)


def _by_name(parameters: tuple[Parameter, ...]) -> dict[str, Parameter]:
    return {parameter.name: parameter for parameter in parameters}


Parameters = Annotated[Mapping[PyName, Parameter], AfterValidator(_named), PlainSerializer(_by_name)]


def _expression(value: Any) -> Union[int, float, str]:
    """A number, or an arithmetic expression over the question's parameters (text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise _fail("must be a finite number")
        return int(value) if isinstance(value, int) else float(value)
    raise _expected("a number or an arithmetic expression")


Expression = Annotated[Union[int, float, str], BeforeValidator(_expression), _AS_WRITTEN]


class Question(CourseModel):
    """What every question has. Which other keys it takes depends on `kind`."""

    id: Id = Field(description="Unique in the quiz.")
    kind: str = Field(description="Which kind of question.")
    section: Id = Field(description="The lesson section that teaches it: the quiz sends students there to re-read.")
    prompt: NonEmptyText = Field(description="The question; may use `{name}` placeholders for parameters.")
    hint: NonEmptyText = Field(description="Shown on `?`.")
    explanation: NonEmptyText = Field(description="Shown after answering.")
    points: Number(0, 1000) = Field(1, description="What a right answer scores.")

    @classmethod
    def describe(cls) -> str:
        kinds = get_args(cls.model_fields["kind"].annotation)
        return f"{kinds[0]} question" if len(kinds) == 1 else "question"

    @property
    def answer_bool(self) -> bool | None:
        """true_false: the answer; None for other kinds."""
        return None

    @property
    def answer_expr(self) -> str:
        """numeric: the answer as an expression; '' for other kinds."""
        return ""

    def __getattr__(self, name: str) -> Any:
        """A key of another kind reads as empty (`question.parameters` of a single-choice
        question is ()), so code may ask any question for any kind's keys."""
        for kind in QUESTION_KINDS:
            info = kind.model_fields.get(name)
            if info is not None:
                return _empty(info)
        return super().__getattr__(name)


def _empty(info) -> Any:
    if not info.is_required():
        return info.get_default(call_default_factory=True)
    return () if "tuple" in str(info.annotation) else ""


class SingleQuestion(Question):
    """One right choice out of several."""

    kind: Literal["single"] = Field(description="`single`. Answer in an answers file: the choice's text.")
    choices: tuple[Choice, ...] = Field(min_length=2, max_length=26, description="Exactly one is correct.")

    def _problems(self) -> Iterator[Problem]:
        correct = sum(choice.correct for choice in self.choices)
        if correct != 1:
            yield Problem(("choices",), f"a single-choice question needs exactly one correct choice, has {correct}")
        yield from _duplicates(self.choices, lambda c: c.text.strip().lower(), "choice", "choices")


class MultipleQuestion(Question):
    """Every right choice out of several (partial credit)."""

    kind: Literal["multiple"] = Field(description="`multiple`. Answer in an answers file: a list of choice texts.")
    choices: tuple[Choice, ...] = Field(min_length=2, max_length=26, description="One or more are correct.")

    def _problems(self) -> Iterator[Problem]:
        if not any(choice.correct for choice in self.choices):
            yield Problem(("choices",), "a multiple-select question needs at least one correct choice")
        yield from _duplicates(self.choices, lambda c: c.text.strip().lower(), "choice", "choices")


class TrueFalseQuestion(Question):
    """A statement that is true or false."""

    kind: Literal["true_false"] = Field(description="`true_false`. Answer in an answers file: a boolean.")
    answer: Bool = Field(description="`true` or `false`.")

    @property
    def answer_bool(self) -> bool:
        return self.answer


class NumericQuestion(Question):
    """A number, within a tolerance; with `parameters`, a seeded variant per attempt."""

    kind: Literal["numeric"] = Field(description="`numeric`. Answer in an answers file: a number.")
    answer: Expression = Field(description="A number, or an arithmetic expression over the parameters (numbers, "
                                           "names, `+ - * / **`, parentheses; parsed, never evaluated as Python).")
    tolerance: Tolerance = Field(default_factory=lambda: NO_TOLERANCE, description="How far an answer may be off "
                                                                                   "(default: exactly).")
    unit: Text = Field("", description="The unit, shown with the answer.")
    parameters: Parameters = Field(default_factory=tuple, description="Name -> parameter; each attempt's seed picks "
                                                                     "the values, and the prompt's `{name}` shows "
                                                                     "them.")

    @property
    def answer_expr(self) -> str:
        return self.answer if isinstance(self.answer, str) else repr(self.answer)

    def _problems(self) -> Iterator[Problem]:
        from course.quiz.expr import check_expression

        names = [parameter.name for parameter in self.parameters]
        problem = check_expression(self.answer_expr, names)
        if problem:
            yield Problem(("answer",), f"@surprise:invalid answer expression: {problem}")
        for placeholder in re.findall(r"\{([^{}]*)\}", self.prompt):
            if placeholder not in names:
                yield Problem(("prompt",), f"prompt uses {{{placeholder}}} but the question has no such parameter"
                                           f"{did_you_mean(placeholder, names)}")


class OrderingQuestion(Question):
    """Put items in order (shown shuffled)."""

    kind: Literal["ordering"] = Field(description="`ordering`. Answer in an answers file: the items in order.")
    items: tuple[NonEmptyText, ...] = Field(min_length=2, max_length=26, description="In the correct order.")

    def _problems(self) -> Iterator[Problem]:
        if len(set(self.items)) != len(self.items):
            yield Problem(("items",), "ordering items must be distinct")


class MatchingQuestion(Question):
    """Match each left side to its right side."""

    kind: Literal["matching"] = Field(description="`matching`. Answer in an answers file: a mapping left -> right.")
    pairs: tuple[MatchPair, ...] = Field(min_length=2, max_length=26, description="Lefts distinct, rights "
                                                                                  "distinct.")

    def _problems(self) -> Iterator[Problem]:
        yield from _duplicates(self.pairs, lambda p: p.left, "left side", "pairs")
        yield from _duplicates(self.pairs, lambda p: p.right, "right side", "pairs")


class TextQuestion(Question):
    """A short typed answer."""

    kind: Literal["text"] = Field(description="`text`. Answer in an answers file: a string.")
    accept: tuple[NonEmptyText, ...] = Field((), max_length=100, description="Right answers, compared ignoring case "
                                                                             "and repeated spaces.")
    pattern: Text = Field("", description="A regular expression a right answer matches in full (ignoring case).")

    def _problems(self) -> Iterator[Problem]:
        if not self.accept and not self.pattern:
            yield Problem((), "a text question needs `accept` (a list of answers) or a `pattern`")
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as error:
                yield Problem(("pattern",), f"invalid regular expression: {error}")


QUESTION_KINDS = (SingleQuestion, MultipleQuestion, TrueFalseQuestion, NumericQuestion, OrderingQuestion,
                  MatchingQuestion, TextQuestion)
AnyQuestion = Annotated[Union[QUESTION_KINDS], Field(discriminator="kind")]


class Quiz(CourseModel):
    """`content/<lesson>/quiz.yaml`: the lesson's quiz."""

    format_version: FormatVersion
    lesson_id: Id = Field(alias="lesson", description="The lesson beside it.")
    title: Text = Field("Quiz", description="The quiz's title.")
    pass_fraction: Number(0, 1) = Field(0.7, description="`course quiz --answers` exits 0 at or above this score.")
    questions: tuple[AnyQuestion, ...] = Field(min_length=1, max_length=1000, description="The questions, in order.")

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def _problems(self) -> Iterator[Problem]:
        yield from _duplicates(self.questions, lambda q: q.id, "question id", "questions")


# --------------------------------------------------------------------------- exercise inputs

Dtype = Literal["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
MaskPattern = Literal["causal", "random", "padding", "none", "all"]


class InputSpec(CourseModel):
    """How to make one argument of a case: a one-key mapping naming the generator."""

    kind: ClassVar[str]

    @property
    def body(self) -> Any:
        """The generator's parameters (a model), or the literal data."""
        return getattr(self, type(self).yaml_keys()[self.kind])

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a mapping ({"data": ...} for literals)."""
        body = self.body
        if isinstance(body, BaseModel):
            return {name: getattr(body, name) for name in type(body).model_fields}
        return {"data": body}


class NormalParams(CourseModel):
    """Normally distributed values."""

    noun: ClassVar[str] = "normal input"

    shape: Shape = Field(description="The array's shape, e.g. `[4, 8]`.")
    loc: Number() = Field(0.0, description="The mean.")
    scale: Number(ge=0) = Field(1.0, description="The standard deviation.")
    dtype: Dtype = Field("float64", description="The array's dtype.")


class UniformParams(CourseModel):
    """Uniformly distributed values in [low, high)."""

    noun: ClassVar[str] = "uniform input"

    shape: Shape = Field(description="The array's shape.")
    low: Number() = Field(0.0, description="The lowest value.")
    high: Number() = Field(1.0, description="Above every value; must be above `low`.")
    dtype: Dtype = Field("float64", description="The array's dtype.")

    def _problems(self) -> Iterator[Problem]:
        if self.low >= self.high:
            yield Problem((), f"low ({self.low:g}) must be below high ({self.high:g})")


class IntegersParams(CourseModel):
    """Random integers in [low, high)."""

    noun: ClassVar[str] = "integers input"

    shape: Shape = Field(description="The array's shape.")
    low: Number() = Field(description="The lowest value.")
    high: Number() = Field(description="Exclusive, as in numpy; must be above `low`.")
    dtype: Dtype = Field("int64", description="The array's dtype.")

    def _problems(self) -> Iterator[Problem]:
        if self.low >= self.high:
            yield Problem((), f"low ({self.low:g}) must be below high ({self.high:g})")


class ConstantParams(CourseModel):
    """Every element the same."""

    noun: ClassVar[str] = "constant input"

    shape: Shape = Field(description="The array's shape.")
    fill: Number() = Field(description="The value.")
    dtype: Dtype = Field("float64", description="The array's dtype.")


class MaskParams(CourseModel):
    """A boolean attention mask of shape (..., seq_q, seq_k); True where attention is allowed."""

    noun: ClassVar[str] = "mask input"

    shape: Shape = Field(description="At least two axes: `..., seq_q, seq_k`.")
    pattern: MaskPattern = Field(description="`causal` (query i sees keys j <= i), `random` (each entry True with "
                                             "probability `density`, no empty row), `padding` (the last keys of each "
                                             "sequence masked), `all` (nothing masked), `none` (everything masked).")
    density: Number(0, 1) = Field(0.5, description="For `random`: the fraction of True entries.")

    def _problems(self) -> Iterator[Problem]:
        if len(self.shape) < 2:
            yield Problem(("shape",), "a mask needs at least two axes (..., seq_q, seq_k)")


class NpzParams(CourseModel):
    """Arrays from a data file of the exercise, loaded without pickle."""

    noun: ClassVar[str] = "npz input"

    file: RelPath = Field(description="A `.npz` file the exercise declares under `data`.")
    key: Optional[NonEmptyText] = Field(None, description="One array of the file; without it, the whole file as a "
                                                          "mapping name -> array.")


class NormalInput(InputSpec):
    """`{normal: {...}}`: normally distributed values."""

    kind: ClassVar[Literal["normal"]] = "normal"

    normal: NormalParams = Field(description="The parameters.")


class UniformInput(InputSpec):
    """`{uniform: {...}}`: uniform values."""

    kind: ClassVar[Literal["uniform"]] = "uniform"

    uniform: UniformParams = Field(description="The parameters.")


class IntegersInput(InputSpec):
    """`{integers: {...}}`: random integers."""

    kind: ClassVar[Literal["integers"]] = "integers"

    integers: IntegersParams = Field(description="The parameters.")


class ConstantInput(InputSpec):
    """`{constant: {...}}`: one value everywhere."""

    kind: ClassVar[Literal["constant"]] = "constant"

    constant: ConstantParams = Field(description="The parameters.")


class ArrayInput(InputSpec):
    """`{array: [[1.0, 2.0]]}`: the data itself."""

    kind: ClassVar[Literal["array"]] = "array"

    array: ArrayData = Field(description="A number or a rectangular nested list of numbers.")


class MaskInput(InputSpec):
    """`{mask: {...}}`: a boolean attention mask."""

    kind: ClassVar[Literal["mask"]] = "mask"

    mask: MaskParams = Field(description="The parameters.")


class ValueInput(InputSpec):
    """`{value: ...}` or a plain literal: passed as is (a number, text or a mapping such as a model config)."""

    kind: ClassVar[Literal["value"]] = "value"

    value: LiteralData = Field(description="The value.")


class NpzInput(InputSpec):
    """`{npz: {file: weights.npz}}`: a mapping name -> array of the whole file; with `key`, one array."""

    kind: ClassVar[Literal["npz"]] = "npz"

    npz: NpzParams = Field(description="The file and key.")

    _folder: Path = PrivateAttr()

    @property
    def path(self) -> Path:
        """The data file (the loader sets the exercise folder)."""
        return self._private("_folder", Path(".")) / self.npz.file


class DictInput(InputSpec):
    """`{dict: {name: input, ...}}`: a mapping of names to inputs, e.g. weight matrices.

    Entry number k draws from its own stream (case seed, argument index, k), so adding an
    entry at the end never changes the others."""

    kind: ClassVar[Literal["dict"]] = "dict"

    entries: Mapping[NonEmptyText, "Input"] = Field(alias="dict", description="Name -> input (any generator, a "
                                                                              "literal, or another `dict`).")


def _scalar_literal(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        raise _expected("a literal")
    return ValueInput.model_construct(value=_literal_data(value))


ScalarLiteral = Annotated[Any, BeforeValidator(_scalar_literal,
                                               json_schema_input_type=Union[float, bool, str])]
INPUT_KINDS = (NormalInput, UniformInput, IntegersInput, ConstantInput, ArrayInput, MaskInput, ValueInput, NpzInput,
               DictInput)
Input = _one_key_union(INPUT_KINDS, OneKey("argument", "input generator",
                                           "an argument: a literal or a mapping with one generator ("
                                           + ", ".join(k.kind for k in INPUT_KINDS) + ")"),
                       Annotated[ScalarLiteral, Tag("literal")])


@functools.lru_cache(maxsize=None)
def _input_adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(Input)


def input_spec(data: Any) -> InputSpec:
    """An input as written in exercise.yaml (`{"normal": {"shape": [3]}}`, `3`), validated."""
    return _input_adapter().validate_python(data)


# --------------------------------------------------------------------------- exercises

Check = Literal["sums_to_one", "non_negative", "shift_invariant", "inputs_unchanged", "exact_integer"]
PROPERTY_CHECKS = get_args(Check)
VISIBILITIES = ("public", "hidden")


def instructor_only(description: str) -> dict:
    """Field options for a key the student edition does not get (`course release` drops it)."""
    return {"description": description, "json_schema_extra": {"x-instructor-only": True}}


class CaseTolerance(CourseModel):
    """How close a result must be to the expected one: |got - expected| <= atol + rtol * |expected|."""

    noun: ClassVar[str] = "tolerance"

    rtol: Number(0, 1) = Field(1.0e-7, description="Relative tolerance.")
    atol: Number(ge=0) = Field(0.0, description="Absolute tolerance.")


class Case(CourseModel):
    """One graded call of the student's function."""

    name: Id = Field(description="Unique in the exercise.")
    visibility: Literal["public", "hidden"] = Field(
        description="`public`: inputs and expected values are shown to the student; `hidden`: only the case's name "
                    "and which check failed (hidden cases are not in the student edition).")
    points: Number(0, 1000) = Field(1, description="What passing it scores.")
    seed: Int(0, 2**32 - 1) = Field(0, description="Seeds the inputs: argument i draws from "
                                                   "`numpy.random.default_rng([seed, i])`.")
    args: tuple[Input, ...] = Field((), max_length=16, description="The positional arguments: inputs.")
    kwargs: Mapping[PyName, Input] = Field(default_factory=dict, description="Keyword arguments: name -> input "
                                                                             "(numbered after the positional ones).")
    tolerance: Optional[CaseTolerance] = Field(None, description="Overrides the exercise's `tolerance`.")
    checks: tuple[Check, ...] = Field((), description="Property checks added to the exercise's `checks`.")
    description: Text = Field("", description="What the case probes.")
    hint: Int(1, 100) = Field(0, description="The 1-based index of the hint that helps when this case fails; it "
                                             "must exist.")


class Mistake(CourseModel):
    """A known-wrong implementation the cases must catch (`course verify` runs it); a student
    whose output matches its output gets its `message`."""

    name: Id = Field(description="Unique in the exercise.")
    file: Optional[RelPath] = Field(None, **instructor_only("Its code, relative to the exercise folder "
                                                            "(default `mistakes/<name>.py`)."))
    description: NonEmptyText = Field(description="What the student did.")
    message: NonEmptyText = Field(description="The advice shown when a student's output matches this mistake's.")

    def _complete(self) -> "Mistake":
        if self.file is None:
            return self.model_copy(update={"file": f"mistakes/{self.name}.py"})
        return self


class ExerciseLimits(CourseModel):
    """Sandbox limits for one check."""

    noun: ClassVar[str] = "limits"

    wall_seconds: Number(0.5, 600) = Field(10.0, description="Wall-clock time for all the cases together.")
    memory_mb: Int(256, 16384) = Field(1024, description="Address space of the sandboxed process.")


class Exercise(CourseModel):
    """`exercises/<id>/exercise.yaml`: one exercise."""

    format_version: FormatVersion
    id: Id = Field(description="Equal to the folder's name; the student's file is `<id>.py`.")
    title: NonEmptyText = Field(description="The exercise's title.")
    lesson: Id = Field(description="The lesson it belongs to; it must exist.")
    section: Id = Field("", description="The section of that lesson it practises.")
    function: PyName = Field(description="The function the submission must define.")
    signature: NonEmptyText = Field(description="e.g. `softmax(x, axis=-1)`; starts with the function's name.")
    instructions: NonEmptyText = Field(description="The contract (Markdown), shown by `course start`.")
    hints: tuple[NonEmptyText, ...] = Field(min_length=1, description="Progressive: `course hint` shows the next "
                                                                      "one.")
    starter: RelPath = Field("starter.py", description="What the student starts from; it must exist.")
    reference: RelPath = Field("reference.py", **instructor_only("The reference solution; it must exist in an "
                                                                 "instructor edition."))
    data: tuple[RelPath, ...] = Field((), description="Data files the inputs read (e.g. `weights.npz` for `npz` "
                                                      "inputs); they must exist, and ship with the student edition.")
    limits: ExerciseLimits = Field(ExerciseLimits.model_construct(), description="Sandbox limits.")
    tolerance: CaseTolerance = Field(CaseTolerance.model_construct(), description="The default for every case.")
    checks: tuple[Check, ...] = Field((), description="Property checks added to every case.")
    cases: tuple[Case, ...] = Field(min_length=1, max_length=500, description="The graded calls.")
    mistakes: tuple[Mistake, ...] = Field((), description="Known mistakes the cases must catch.")

    _folder: Path = PrivateAttr()

    @property
    def folder(self) -> Path:
        """The exercise's folder (exercises/<id>)."""
        return self._private("_folder", Path("."))

    @property
    def starter_path(self) -> Path:
        return self.folder / self.starter

    @property
    def reference_path(self) -> Path:
        return self.folder / self.reference

    def case(self, name: str) -> Case | None:
        return next((c for c in self.cases if c.name == name), None)

    def _problems(self) -> Iterator[Problem]:
        yield from _duplicates(self.cases, lambda c: c.name, "case name", "cases")
        yield from _duplicates(self.mistakes, lambda mk: mk.name, "mistake name", "mistakes")
        yield from _duplicates(self.data, lambda name: name, "data file", "data")
        if not self.signature.startswith(self.function + "("):
            yield Problem(("signature",), f"signature should start with '{self.function}(' (the function name)")
        for index, case in enumerate(self.cases):
            if case.hint > len(self.hints):
                yield Problem(("cases", index), f"case '{case.name}' points at hint {case.hint} but the exercise has "
                                                f"{len(self.hints)} hint(s)")
            for path, spec in _case_inputs(case):
                if isinstance(spec, NpzInput) and spec.npz.file not in self.data:
                    yield Problem(("cases", index) + path + ("npz", "file"),
                                  f"'{spec.npz.file}' is not one of the exercise's `data` files"
                                  f"{did_you_mean(spec.npz.file, self.data)}")

    def _complete(self) -> "Exercise":
        """Each case with the exercise's tolerance (unless its own) and checks merged in."""
        cases = tuple(case.model_copy(update={"tolerance": case.tolerance or self.tolerance,
                                              "checks": tuple(dict.fromkeys(self.checks + case.checks))})
                      for case in self.cases)
        return self.model_copy(update={"cases": cases})


def _case_inputs(case: Case) -> Iterator[tuple[tuple, InputSpec]]:
    """Every input of a case with its path from the case, `dict` entries included."""
    def walk(path: tuple, spec: InputSpec) -> Iterator[tuple[tuple, InputSpec]]:
        yield path, spec
        if isinstance(spec, DictInput):
            for name, entry in spec.entries.items():
                yield from walk(path + ("dict", name), entry)

    for index, spec in enumerate(case.args):
        yield from walk(("args", index), spec)
    for name, spec in case.kwargs.items():
        yield from walk(("kwargs", name), spec)


def case_inputs(case: Case) -> Iterator[tuple[tuple, InputSpec]]:
    """Every input of `case` (and every entry of its `dict` inputs), with its path in the case."""
    return _case_inputs(case)


# --------------------------------------------------------------------------- the course


@dataclass(frozen=True)
class Course:
    """A loaded course root: its manifest, lessons (with quizzes) and exercises."""

    root: Path
    manifest: Manifest
    lessons: tuple[Lesson, ...]
    exercises: tuple[Exercise, ...]

    @property
    def title(self) -> str:
        return self.manifest.title

    @property
    def edition(self) -> str:
        return self.manifest.edition

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((l for l in self.lessons if l.id == lesson_id), None)

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)


# The files of a course root and the model that declares each.
FILE_MODELS: dict[str, type[CourseModel]] = {
    "course": Manifest,
    "lesson": Lesson,
    "quiz": Quiz,
    "exercise": Exercise,
}
