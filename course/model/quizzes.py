"""`content/<lesson>/quiz.yaml`: a quiz and its questions, one class per kind.

Imported when a quiz is first needed (course.model loads this module on demand).
"""
import math
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional, Union, get_args

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr

from course.errors import did_you_mean
from course.model.base import (
    _AS_WRITTEN,
    Bool,
    CourseModel,
    FormatVersion,
    Id,
    NonEmptyText,
    Number,
    Problem,
    PyName,
    Text,
    _duplicates,
    _expected,
    _fail,
)


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


if TYPE_CHECKING:  # what a question holds once validated: its parameters, each knowing its name
    Parameters = tuple[Parameter, ...]
else:
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
if TYPE_CHECKING:  # the same union, spelled for the type checker
    AnyQuestion = Union[SingleQuestion, MultipleQuestion, TrueFalseQuestion, NumericQuestion, OrderingQuestion,
                        MatchingQuestion, TextQuestion]
else:
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


