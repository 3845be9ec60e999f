"""The course as typed, frozen objects: what the loader (course.loader) builds from YAML.

Code after the loader works only with these classes; it never sees a raw dict and
never re-checks what the loader validated. Every object that came from a YAML file
carries `where`, the `FILE:LINE:COL` of its definition, so later stages (verify,
quiz grading) can point authors at the right place.

Field docs here are the reference for docs/authoring.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Union

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Where:
    """A position in a course file: FILE relative to the course root, 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


# --------------------------------------------------------------------------- lessons


@dataclass(frozen=True)
class MarkdownBlock:
    """Prose: paragraphs, `-`/`1.` lists, **bold**, *italic*, `code`, ### headings."""

    text: str
    where: Where


@dataclass(frozen=True)
class CodeBlock:
    """A code example. `runnable` examples are executed by the content tests."""

    source: str
    language: str
    caption: str
    runnable: bool
    where: Where


@dataclass(frozen=True)
class TableBlock:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str
    where: Where


@dataclass(frozen=True)
class FigureRef:
    """Places a figure (declared in the lesson's `figures`) in the text."""

    figure_id: str
    where: Where


Block = Union[MarkdownBlock, CodeBlock, TableBlock, FigureRef]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...]
    where: Where


@dataclass(frozen=True)
class KeyTerm:
    term: str
    definition: str
    where: Where


@dataclass(frozen=True)
class Source:
    """A citation. Data points and facts name the source they come from by `id`."""

    id: str
    title: str
    authors: str
    year: int
    url: str
    where: Where


@dataclass(frozen=True)
class Axis:
    label: str
    scale: str  # "linear" | "log"


@dataclass(frozen=True)
class DataPoint:
    x: float
    y: float
    label: str
    estimate: bool  # True: not a published figure; drawn hollow and labelled "estimate"
    source: str  # a Source id, or "" for estimates that are labelled as such
    where: Where


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[DataPoint, ...]
    where: Where


@dataclass(frozen=True)
class ChartFigure:
    """A line or scatter chart described as data (kind: line_chart | scatter_chart)."""

    id: str
    kind: str
    title: str
    caption: str
    x: Axis
    y: Axis
    series: tuple[Series, ...]
    illustration: bool  # True: not measured data; the picture says so in its title
    sources: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class HeatmapFigure:
    """A matrix of values with row/column labels (kind: heatmap), e.g. attention weights."""

    id: str
    kind: str
    title: str
    caption: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    row_label: str
    column_label: str
    illustration: bool
    sources: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class GraphNode:
    id: str
    label: str
    shape: str  # graphviz shape name, default "box"
    where: Where


@dataclass(frozen=True)
class GraphEdge:
    source: str  # node id ("from" in YAML)
    target: str  # node id ("to" in YAML)
    label: str
    style: str  # "" | "dashed" | "dotted" | "bold"
    where: Where


@dataclass(frozen=True)
class GraphCluster:
    id: str
    label: str
    nodes: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class GraphFigure:
    """A diagram as nodes and edges, drawn with graphviz (kind: graph)."""

    id: str
    kind: str
    title: str
    caption: str
    direction: str  # "TB" | "BT" | "LR" | "RL"
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    clusters: tuple[GraphCluster, ...]
    sources: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class ImageFigure:
    """A ready-made image file shipped with the lesson (kind: image), e.g. a scanned sketch."""

    id: str
    kind: str
    title: str
    caption: str
    file: str  # relative to the lesson folder; must exist
    sources: tuple[str, ...]
    where: Where


Figure = Union[ChartFigure, HeatmapFigure, GraphFigure, ImageFigure]


@dataclass(frozen=True)
class Lesson:
    id: str
    number: int
    title: str
    summary: str
    objectives: tuple[str, ...]
    sections: tuple[Section, ...]
    key_terms: tuple[KeyTerm, ...]
    figures: tuple[Figure, ...]
    sources: tuple[Source, ...]
    exercises: tuple[str, ...]  # exercise ids practised with this lesson
    folder: Path
    where: Where
    quiz: "Quiz | None" = None

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def figure(self, figure_id: str) -> Figure | None:
        return next((f for f in self.figures if f.id == figure_id), None)


# --------------------------------------------------------------------------- quizzes

QUESTION_KINDS = ("single", "multiple", "true_false", "numeric", "ordering", "matching", "text")


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    explanation: str
    where: Where


@dataclass(frozen=True)
class MatchPair:
    left: str
    right: str
    where: Where


@dataclass(frozen=True)
class Parameter:
    """A seeded variant parameter: drawn from `choices`, or from `range` [low, high] by `step`."""

    name: str
    choices: tuple[float, ...]  # empty when a range is used
    low: float
    high: float
    step: float
    where: Where


@dataclass(frozen=True)
class Tolerance:
    absolute: float
    relative: float


@dataclass(frozen=True)
class Question:
    """One quiz question. Which fields matter depends on `kind`:

    single / multiple: `choices` (single: exactly one correct; multiple: one or more).
    true_false: `answer_bool`.
    numeric: `answer_expr` (a number, or an arithmetic expression over `parameters`),
        `tolerance`, `unit`.
    ordering: `items`, listed in the correct order (shown shuffled).
    matching: `pairs` (rights shown shuffled).
    text: `accept` (normalized for case and white space) and/or `pattern` (a regex, full match).
    """

    id: str
    kind: str
    section: str  # the lesson section that teaches it
    prompt: str  # may hold {name} placeholders for parameters
    hint: str
    explanation: str
    points: float
    choices: tuple[Choice, ...] = ()
    answer_bool: bool | None = None
    answer_expr: str = ""
    tolerance: Tolerance = Tolerance(0.0, 0.0)
    unit: str = ""
    parameters: tuple[Parameter, ...] = ()
    items: tuple[str, ...] = ()
    pairs: tuple[MatchPair, ...] = ()
    accept: tuple[str, ...] = ()
    pattern: str = ""
    where: Where = Where("")


@dataclass(frozen=True)
class Quiz:
    lesson_id: str
    title: str
    pass_fraction: float
    questions: tuple[Question, ...]
    where: Where

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


# --------------------------------------------------------------------------- exercises

# Input generators an exercise case may use, and the parameters each takes.
# Implemented in course/grading/inputs.py; the loader validates against this table.
INPUT_KINDS: Mapping[str, tuple[str, ...]] = {
    "normal": ("shape", "loc", "scale", "dtype"),
    "uniform": ("shape", "low", "high", "dtype"),
    "integers": ("shape", "low", "high", "dtype"),
    "constant": ("shape", "fill", "dtype"),
    "array": ("data",),  # the YAML value is the data itself
    "mask": ("shape", "pattern", "density"),  # pattern: causal | random | padding | none | all
    "value": ("data",),  # a literal scalar, string or mapping (e.g. a model config)
}

# Property checks a case may ask for, implemented in course/grading/compare.py.
PROPERTY_CHECKS = (
    "sums_to_one",  # values along the case's `axis` kwarg (default -1) sum to 1
    "non_negative",
    "shift_invariant",  # f(x + c) == f(x): softmax-style invariance
    "inputs_unchanged",  # the caller's arrays are not modified in place
    "exact_integer",  # an integer dtype and exactly equal (no tolerance)
)

VISIBILITIES = ("public", "hidden")


@dataclass(frozen=True)
class InputSpec:
    """How to make one argument: a generator `kind` and its parameters (see INPUT_KINDS)."""

    kind: str
    params: Mapping[str, object]
    where: Where


@dataclass(frozen=True)
class CaseTolerance:
    rtol: float
    atol: float


@dataclass(frozen=True)
class Case:
    name: str
    visibility: str  # public: inputs and expected values shown; hidden: only name and kind of check
    points: float
    seed: int
    args: tuple[InputSpec, ...]
    kwargs: Mapping[str, InputSpec]
    tolerance: CaseTolerance
    checks: tuple[str, ...]
    description: str
    hint: int  # 1-based index of the exercise hint that helps when this case fails; 0: none
    where: Where


@dataclass(frozen=True)
class Mistake:
    """A known-wrong implementation that the cases must catch (`course verify` runs it)."""

    name: str
    file: str  # relative to the exercise folder
    description: str  # what the student did
    message: str  # the advice shown when a student's output matches this mistake
    where: Where


@dataclass(frozen=True)
class ExerciseLimits:
    wall_seconds: float
    memory_mb: int


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    lesson: str  # lesson id
    section: str  # lesson section id, or ""
    function: str
    signature: str
    instructions: str
    hints: tuple[str, ...]
    starter: str  # file name in the exercise folder
    reference: str  # file name; absent in a student release
    cases: tuple[Case, ...]
    mistakes: tuple[Mistake, ...]
    limits: ExerciseLimits
    folder: Path
    where: Where

    @property
    def starter_path(self) -> Path:
        return self.folder / self.starter

    @property
    def reference_path(self) -> Path:
        return self.folder / self.reference

    def case(self, name: str) -> Case | None:
        return next((c for c in self.cases if c.name == name), None)


# --------------------------------------------------------------------------- course


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    lessons: tuple[Lesson, ...]
    exercises: tuple[Exercise, ...]
    edition: str = "instructor"  # "instructor" | "student" (written by `course release`)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((l for l in self.lessons if l.id == lesson_id), None)

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

