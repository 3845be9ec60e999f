"""`exercises/<id>/exercise.yaml`: an exercise, its cases, their inputs (one class per kind), known mistakes.

Everything `course check` needs of the format; lessons and quizzes are not imported for it.
"""
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Optional, Union, get_args

from pydantic import BaseModel, BeforeValidator, Field, PrivateAttr, Tag

from course.errors import did_you_mean
from course.model.base import (
    ArrayData,
    CourseModel,
    FormatVersion,
    Id,
    Int,
    LiteralData,
    NonEmptyText,
    Number,
    OneKey,
    Problem,
    PyName,
    RelPath,
    Shape,
    Text,
    _duplicates,
    _expected,
    _literal_data,
    _one_key_union,
    instructor_only,
)

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
    imports: tuple[Id, ...] = Field((), description="Other exercises whose file the student's submission may import "
                                                    "by name (e.g. `softmax`: `from softmax import softmax` runs the "
                                                    "student's own softmax.py, found beside the submission). A "
                                                    "submission is otherwise one file.")
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
        yield from _duplicates(self.imports, lambda name: name, "import", "imports")
        if self.id in self.imports:
            yield Problem(("imports",), f"an exercise cannot import itself ('{self.id}')")
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


