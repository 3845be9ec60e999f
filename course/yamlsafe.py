"""Safe YAML parsing that keeps every value's position.

PyYAML's safe loader would give plain dicts without positions, silently keep the
last of two duplicate keys and happily expand an alias bomb. Here the file is only
*composed* (a node graph, aliases shared, nothing expanded), then copied into a
tree of `YNode`s with a budget on the number of nodes visited, so a 2 KB alias
bomb costs microseconds and one error message. Python and unknown tags, merge
keys and duplicate keys are reported with their `FILE:LINE:COL`.

The loader (course.loader) turns YNodes into typed objects; nothing else should
need raw YAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import yaml

from course.errors import ContentError, Diagnostic
from course.model import Where

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
    value: Union[dict, list, str, int, float, bool, None, object]
    where: Where
    tag: str = ""
    raw: str = ""
    plain: bool = False
    keys: "dict[str, Where] | None" = None  # for maps: where each key is written

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
    converter = _Converter(display_name)
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

    def __init__(self, display_name: str):
        self.display_name = display_name
        self.diagnostics: list[Diagnostic] = []
        self.built: dict[int, tuple[YNode, int]] = {}  # id(node) -> (YNode, expanded size)
        self.in_progress: set[int] = set()

    def _error(self, node, message: str) -> None:
        self.diagnostics.append(Diagnostic(_where(self.display_name, node.start_mark), message))

    def convert(self, root) -> YNode:
        tree, size = self._convert(root, 0)
        if size > MAX_NODES:
            self._error(root, f"document expands to {size:,} values through aliases (more than {MAX_NODES:,}): an alias bomb?")
        return tree

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
            for item in node.value:
                child, child_size = self._convert(item, depth + 1)
                items.append(child)
                size = min(size + child_size, MAX_NODES + 1)
            return YNode("seq", items, where), size
        short = tag[len(_STANDARD):] if tag.startswith(_STANDARD) else ""
        if short not in _SCALAR_TAGS:
            self._reject_tag(node, tag)
            return YNode("scalar", node.value, where, "str", node.value, not node.style), 1
        value = self._scalar_value(node, short)
        return YNode("scalar", value, where, short, node.value, not node.style), 1

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
                self._error(key_node, f"duplicate key '{key}' (first defined at line {first.line}); YAML would silently keep only the last one")
                continue
            keys[key] = key_where
            values[key], value_size = self._convert(value_node, depth + 1)
            size = min(size + value_size, MAX_NODES + 1)
        return YNode("map", values, where, keys=keys), size


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
        return f"'{raw}' is read as text by YAML 1.1 (it needs a dot in the mantissa and a sign in the exponent): write {mantissa}e{exponent}"
    if node.tag == "int" and _OCTAL.match(raw) and raw.lstrip("+-") != "0":
        return f"'{raw}' is read as the octal number {node.value} by YAML 1.1: write {raw.lstrip('+-').lstrip('0') or '0'} or quote it"
    if node.tag in ("int", "float") and _SEXAGESIMAL.match(raw):
        return f"'{raw}' is read as the base-60 number {node.value} by YAML 1.1: quote it"
    if node.tag == "bool" and raw.lower() in _YAML11_BOOLEANS - {"true", "false"}:
        return f"'{raw}' is read as the boolean {str(node.value).lower()} by YAML 1.1: quote it ('{raw}') if you mean text"
    if node.tag == "timestamp":
        return f"'{raw}' is read as a date by YAML: quote it ('{raw}')"
    return ""
