"""Safe YAML parsing that keeps every value's position.

PyYAML's safe loader would give plain dicts without positions, silently keep the
last of two duplicate keys and happily expand an alias bomb. Here the file is only
*composed* (a node graph, aliases shared, nothing expanded), then copied into a
tree of `YNode`s with a budget on the number of nodes visited, so a 2 KB alias
bomb costs microseconds and one error message. Python and unknown tags, merge
keys and duplicate keys are reported with their `FILE:LINE:COL`.

`to_data` turns a YNode tree into plain Python data for the models (course.model) to
validate, keeping what YAML 1.1 hides: a number's text as written, and dates, octal and
base-60 numbers as `Unusual` values that no number field takes. The loader
(course.loader) does the rest; nothing else should need raw YAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from course.errors import ContentError, Diagnostic, Where

try:  # the C parser is several times faster where libyaml is present
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

# A node budget: the largest course file is a few thousand nodes.
MAX_NODES = 100_000
MAX_DEPTH = 64
# Files larger than this are not course content.
MAX_BYTES = 4 << 20

_STANDARD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {"str", "int", "float", "bool", "null", "timestamp"}
_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class YNode:
    """A YAML value with its position.

    kind is "map" (value: dict[str, YNode]), "seq" (value: list[YNode]) or "scalar"
    (value: str, int, float, bool, None or a date). For scalars, `tag` is what YAML
    resolved ("str", "int", "float", "bool", "null", "timestamp"), `raw` the text as
    written and `plain` whether it was unquoted: the loader uses them to explain
    YAML 1.1 surprises (`no` is false, `1e-6` is a string, `0777` is octal).
    """

    kind: str
    value: Any  # by kind: dict[str, YNode], list[YNode], or the scalar (see above)
    where: Where
    tag: str = ""
    raw: str = ""
    plain: bool = False
    keys: "dict[str, Where] | None" = None  # for maps: where each key is written
    style: str = ""  # for scalars: "" plain, "'" or '"' quoted, "|" or ">" a block scalar

    def get(self, key: str) -> "YNode | None":
        return self.value.get(key) if self.kind == "map" else None


def _where(display_name: str, mark) -> Where:
    return Where(display_name, mark.line + 1, mark.column + 1)


def parse_text(text: str, display_name: str) -> YNode:
    """Parse one YAML document; raise ContentError listing every problem found."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise ContentError([Diagnostic(Where(display_name, 1, 1), f"file is larger than {MAX_BYTES >> 20} MiB")])
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise ContentError([Diagnostic(Where(display_name, 1, 1), "file is empty")])
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        raise ContentError([_syntax_diagnostic(error, text, display_name)]) from None
    except yaml.YAMLError as error:  # pragma: no cover - errors without marks are rare
        raise ContentError([Diagnostic(Where(display_name, 1, 1), f"YAML error: {error}")]) from None
    if root is None:
        raise ContentError([Diagnostic(Where(display_name, 1, 1), "file is empty")])
    converter = _Converter(display_name, text)
    tree = converter.convert(root)
    if converter.diagnostics:
        raise ContentError(converter.diagnostics)
    return tree


def parse_file(path: Path, display_name: str | None = None) -> YNode:
    """Read and parse a file; a missing or undecodable file is a ContentError too."""
    name = display_name or str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ContentError([Diagnostic(Where(name), "file not found")]) from None
    except OSError as error:
        raise ContentError([Diagnostic(Where(name), f"cannot read file: {error.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ContentError([Diagnostic(Where(name, line, 1), "file is not valid UTF-8 text")]) from None
    return parse_text(text, name)


def _syntax_diagnostic(error: yaml.MarkedYAMLError, text: str, display_name: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    where = _where(display_name, mark) if mark else Where(display_name, 1, 1)
    problem = error.problem or "invalid YAML"
    lines = text.splitlines()
    line_text = lines[where.line - 1] if mark and 0 < where.line <= len(lines) else ""
    if "\t" in problem or ("\t" in line_text[: len(line_text) - len(line_text.lstrip())]):
        tab_column = line_text.find("\t") + 1 if "\t" in line_text else where.column
        return Diagnostic(Where(display_name, where.line, tab_column), "tab character in indentation: YAML needs spaces")
    message = f"YAML syntax error: {problem}"
    if error.context and error.context_mark and error.context_mark is not mark:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return Diagnostic(where, message)


class _Converter:
    """Copies a composed node graph into YNodes, checking tags, keys, depth and size.

    An alias is not expanded: it reuses the YNode already built for its anchor
    (YNodes are immutable), so an alias bomb costs as much as its text. What an
    alias would expand to is still counted, because whoever walks the tree later
    walks every repetition: past MAX_NODES the file is rejected.
    """

    def __init__(self, display_name: str, text: str = ""):
        self.display_name = display_name
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self.built: dict[int, tuple[YNode, int]] = {}  # id(node) -> (YNode, expanded size)
        self.in_progress: set[int] = set()
        # where the budget was first crossed: (parent node, index or key, child node, child is an alias)
        self.crossing: tuple | None = None

    def _error(self, node, message: str) -> None:
        self.diagnostics.append(Diagnostic(_where(self.display_name, node.start_mark), message))

    def convert(self, root) -> YNode:
        tree, size = self._convert(root, 0)
        if size > MAX_NODES:
            self.diagnostics.append(Diagnostic(
                self._crossing_where(root),
                f"document expands to more than {MAX_NODES:,} values through aliases: an alias bomb? "
                "(the budget is crossed here)"))
        return tree

    def _child(self, parent, index, child, depth: int, size: int) -> tuple[YNode, int]:
        """Convert one item of a collection; remember the first item that takes it past the budget."""
        alias = id(child) in self.built
        built, child_size = self._convert(child, depth + 1)
        if self.crossing is None and size + child_size > MAX_NODES:
            self.crossing = (parent, index, child, alias)
        return built, min(size + child_size, MAX_NODES + 1)

    def _crossing_where(self, root) -> Where:
        """The alias (or value) that took the document past MAX_NODES, else the document's start."""
        if self.crossing is None:
            return _where(self.display_name, root.start_mark)
        parent, index, child, alias = self.crossing
        mark = _alias_mark(self.text, parent.start_mark.index, index) if alias else None
        return _where(self.display_name, mark or child.start_mark)

    def _convert(self, node, depth: int) -> tuple[YNode, int]:
        key = id(node)
        if key in self.built:
            return self.built[key]
        where = _where(self.display_name, node.start_mark)
        if key in self.in_progress:
            self._error(node, "recursive alias: an anchor refers to itself")
            return YNode("scalar", None, where, "null"), 1
        if depth > MAX_DEPTH:
            self._error(node, f"nested deeper than {MAX_DEPTH} levels")
            return YNode("scalar", None, where, "null"), 1
        self.in_progress.add(key)
        try:
            result = self._build(node, where, depth)
        finally:
            self.in_progress.discard(key)
        self.built[key] = result
        return result

    def _build(self, node, where: Where, depth: int) -> tuple[YNode, int]:
        tag = node.tag or ""
        if isinstance(node, yaml.MappingNode):
            if tag != _STANDARD + "map":
                self._reject_tag(node, tag)
            return self._mapping(node, where, depth)
        if isinstance(node, yaml.SequenceNode):
            if tag != _STANDARD + "seq":
                self._reject_tag(node, tag)
            items, size = [], 1
            for index, item in enumerate(node.value):
                child, size = self._child(node, index, item, depth, size)
                items.append(child)
            return YNode("seq", items, where), size
        short = tag[len(_STANDARD):] if tag.startswith(_STANDARD) else ""
        style = node.style or ""
        if short not in _SCALAR_TAGS:
            self._reject_tag(node, tag)
            return YNode("scalar", node.value, where, "str", node.value, not style, style=style), 1
        value = self._scalar_value(node, short)
        return YNode("scalar", value, where, short, node.value, not style, style=style), 1

    def _scalar_value(self, node, short: str):
        if short == "str":
            return node.value
        try:
            return getattr(_constructor, f"construct_yaml_{short}")(node)
        except (ValueError, yaml.constructor.ConstructorError, OverflowError):
            self._error(node, f"'{node.value}' is not a valid {short}")
            return node.value

    def _reject_tag(self, node, tag: str) -> None:
        if "python/" in tag:
            self._error(node, f"Python tags are not allowed ({_short_tag(tag)}): course files are data, not code")
        elif tag == _STANDARD + "merge" or getattr(node, "value", None) == "<<":
            self._error(node, "merge keys (<<) are not supported: write the keys out")
        else:
            self._error(node, f"unsupported tag {_short_tag(tag)}")

    def _mapping(self, node, where: Where, depth: int) -> tuple[YNode, int]:
        values: dict[str, YNode] = {}
        keys: dict[str, Where] = {}
        size = 1
        for key_node, value_node in node.value:
            key_where = _where(self.display_name, key_node.start_mark)
            if key_node.tag == _STANDARD + "merge":
                self._reject_tag(key_node, key_node.tag)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._error(key_node, "keys must be plain text, not a list or a mapping")
                continue
            key_tag = key_node.tag[len(_STANDARD):] if key_node.tag.startswith(_STANDARD) else ""
            if key_tag not in _SCALAR_TAGS:
                self._reject_tag(key_node, key_node.tag)
                continue
            key = str(key_node.value)
            if key in values:
                first = keys[key]
                self._error(key_node, f"duplicate key '{key}' (first defined at line {first.line}); "
                                      "YAML would silently keep only the last one")
                continue
            keys[key] = key_where
            values[key], size = self._child(node, key, value_node, depth, size)
        return YNode("map", values, where, keys=keys), size


def _alias_mark(text: str, parent_offset: int, index):
    """Where the alias that is item `index` (a position or a key) of the collection at
    `parent_offset` is written. Composed nodes forget their aliases' positions, so the
    text is composed once more by the pure-Python composer, which records them; this
    only happens for a document that is rejected anyway."""
    marks: dict = {}

    class Recorder(yaml.SafeLoader):
        def compose_node(self, parent, item):
            if parent is not None and self.check_event(yaml.AliasEvent):
                key = item.value if isinstance(item, yaml.Node) else item
                marks.setdefault((parent.start_mark.index, key), self.peek_event().start_mark)
            return super().compose_node(parent, item)

    try:
        yaml.compose(text, Loader=Recorder)
    except yaml.YAMLError:  # pragma: no cover - the C composer accepted the same text
        return None
    return marks.get((parent_offset, index))


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


_FLOAT_WITHOUT_DOT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n", "true", "false"}


def yaml11_surprise(node: YNode) -> str:
    """Explain a plain scalar that YAML 1.1 reads differently from what it looks like, or ''."""
    if node.kind != "scalar" or not node.plain:
        return ""
    raw = node.raw
    if node.tag == "str" and _FLOAT_WITHOUT_DOT.match(raw):
        mantissa, _, exponent = raw.lower().partition("e")
        mantissa = mantissa if "." in mantissa else mantissa + ".0"
        exponent = exponent if exponent[0] in "+-" else "+" + exponent
        return (f"'{raw}' is read as text by YAML 1.1 (it needs a dot in the mantissa and a sign in the exponent): "
                f"write {mantissa}e{exponent}")
    if node.tag == "int" and _OCTAL.match(raw) and raw.lstrip("+-") != "0":
        return f"'{raw}' is read as the octal number {node.value} by YAML 1.1: write {raw.lstrip('+-').lstrip('0') or '0'} or quote it"
    if node.tag in ("int", "float") and _SEXAGESIMAL.match(raw):
        return f"'{raw}' is read as the base-60 number {node.value} by YAML 1.1: quote it"
    if node.tag == "bool" and raw.lower() in _YAML11_BOOLEANS - {"true", "false"}:
        return f"'{raw}' is read as the boolean {str(node.value).lower()} by YAML 1.1: quote it ('{raw}') if you mean text"
    if node.tag == "timestamp":
        return f"'{raw}' is read as a date by YAML: quote it ('{raw}')"
    return ""


# --------------------------------------------------------------------------- plain data


class RawInt(int):
    """An integer written otherwise than Python prints it ('1_000', '+5', '0x1F')."""

    yaml_raw: str


class RawFloat(float):
    """A float written otherwise than Python prints it ('1.0e-6', '.inf')."""

    yaml_raw: str


@dataclass(frozen=True)
class Unusual:
    """A scalar YAML 1.1 reads as something other than it looks: a date, an octal or a
    base-60 number. No number, boolean or id field takes it; text fields take its text."""

    value: object
    yaml_raw: str


def _raw(cls, value, raw: str):
    result = cls(value)
    result.yaml_raw = raw
    return result


def _plain_scalar(node: YNode):
    if node.tag in ("str", "bool", "null"):
        return node.value
    if node.tag in ("int", "float"):
        if yaml11_surprise(node) or isinstance(node.value, str):
            return Unusual(node.value, node.raw)
        if node.raw == str(node.value):
            return node.value
        return _raw(RawInt if node.tag == "int" else RawFloat, node.value, node.raw)
    if node.tag == "timestamp":
        return Unusual(node.value, node.raw)
    return node.raw


def to_data(node: YNode):
    """The YNode tree as dicts, lists and scalars (see RawInt, RawFloat, Unusual).

    An alias is converted once and shared, as in the YNode tree, so this costs what the
    text costs.
    """
    memo: dict[int, object] = {}

    def convert(item: YNode):
        key = id(item)
        if key in memo:
            return memo[key]
        result: Any
        if item.kind == "map":
            result = {name: convert(child) for name, child in item.value.items()}
        elif item.kind == "seq":
            result = [convert(child) for child in item.value]
        else:
            result = _plain_scalar(item)
        memo[key] = result
        return result

    return convert(node)
