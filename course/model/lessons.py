"""`content/<lesson>/lesson.yaml`: a lesson, its sections and blocks, its figures and sources.

Imported when a lesson is first needed (course.model loads this module on demand), so
that grading an exercise does not build the lesson models.
"""
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional, Union, get_args

from pydantic import Field, PrivateAttr

from course.errors import did_you_mean

if TYPE_CHECKING:  # a lesson's quiz: quizzes.py is imported only when a quiz is read
    from course.model.quizzes import Quiz
from course.model.base import (
    Bool,
    CourseModel,
    FormatVersion,
    Id,
    Int,
    NonEmptyText,
    Number,
    OneKey,
    Problem,
    PyName,
    RelPath,
    Text,
    _duplicates,
    _one_key_union,
)


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
if TYPE_CHECKING:  # the same union, spelled for the type checker
    Block = Union[MarkdownBlock, CodeBlock, TableBlock, FigureRef]
else:
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
if TYPE_CHECKING:  # the same union, spelled for the type checker
    Figure = Union[LineChartFigure, ScatterChartFigure, HeatmapFigure, GraphFigure, ImageFigure]
else:
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


