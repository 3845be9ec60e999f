"""The building blocks of the course models: scalars as YAML authors write them, the base model.

Text takes numbers as written; whole numbers, numbers and booleans are strict (no text
"1" for 1, no "yes" for true); ids and Python names have their patterns. CourseModel is
what every model is: frozen, forbidding unknown keys, positioned (`where`), with its own
checks (`_problems`) reported as Problems that course.diagnose positions. The models
themselves are in lessons.py, quizzes.py, exercises.py and course.py (see
course/model/__init__.py).
"""
import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Union

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

from course.errors import Where

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
            setattr(cls, "_yaml_keys_cache", keys)  # noqa: B010 (past pydantic's private-attribute handling)
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


def instructor_only(description: str) -> dict:
    """Field options for a key the student edition does not get (`course release` drops it)."""
    return {"description": description, "json_schema_extra": {"x-instructor-only": True}}
