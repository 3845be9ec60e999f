"""JSON Schemas and the key reference, generated from the models (course.model).

- `json_schema(kind)`: the JSON Schema of one file type (course, lesson, quiz, exercise),
  for editors: the first line of a course file,
  `# yaml-language-server: $schema=<path>`, points VS Code's YAML extension at it.
- `write_schemas(DIR)`: `course schema --out DIR`.
- `key_reference()`: the "Key reference" section of docs/authoring.md, a table per
  model built from the schemas (so from the models' fields and descriptions).

The package ships the schemas in course/schemas/ (a student edition gets a copy), and
docs/authoring.md holds the key reference; tests fail when either differs from what the
models generate. After changing course/model/, regenerate both:

    python -m course.schema
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
KINDS = ("course", "lesson", "quiz", "exercise")
FILE_NAMES = {"course": "course.yaml", "lesson": "content/<lesson>/lesson.yaml",
              "quiz": "content/<lesson>/quiz.yaml", "exercise": "exercises/<id>/exercise.yaml"}
HEADER_PREFIX = "# yaml-language-server: $schema="
DOC_BEGIN = "<!-- BEGIN KEY REFERENCE (generated from course/model/ by `python -m course.schema`: do not edit) -->"
DOC_END = "<!-- END KEY REFERENCE -->"
INSTRUCTOR_ONLY = "x-instructor-only"


def schema_file(kind: str) -> str:
    return f"{kind}.schema.json"


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind of course file."""
    from course.model import FILE_MODELS

    _build_models()
    schema = FILE_MODELS[kind].model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": FILE_NAMES[kind], **{
        key: value for key, value in schema.items() if key != "title"}}


def _build_models() -> None:
    """Build every model now: the models defer it to their first use, and a default that is a
    model (`limits`) can only be written into a schema once its class is built."""
    from course.model import CourseModel

    pending = [CourseModel]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if not cls.__pydantic_complete__:
            cls.model_rebuild()


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def write_schemas(out: Path | str) -> list[Path]:
    """Write `<kind>.schema.json` for every kind of course file into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = out / schema_file(kind)
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


def header(schema_path: str) -> str:
    """The first line of a course file: where editors find its schema."""
    return f"{HEADER_PREFIX}{schema_path}"


def with_header(text: str, schema_path: str) -> str:
    """`text` whose first line is the schema header for `schema_path` (replaced or added)."""
    line = header(schema_path)
    if text.startswith(HEADER_PREFIX):
        return line + text[text.index("\n"):] if "\n" in text else line + "\n"
    return f"{line}\n{text}"


# --------------------------------------------------------------------------- key reference


def key_reference() -> str:
    """The generated section of docs/authoring.md: one table per model, file by file."""
    out = [DOC_BEGIN, "", "## Key reference", "",
           "Every key of every file, generated from the models in `course/model/` (the same declaration the "
           "loader validates with and the JSON Schemas come from). *Required* keys have no default. "
           "Keys marked *instructor edition only* are not written to the student edition.", ""]
    seen: set[str] = set()
    for kind in KINDS:
        schema = json_schema(kind)
        defs = schema.get("$defs", {})
        out += [f"### `{FILE_NAMES[kind]}`", ""]
        out += _model_table(schema, defs)
        for name in _nested(schema, defs):
            if name in seen:
                continue
            seen.add(name)
            out += [f"#### `{name}`", ""]
            out += _model_table(defs[name], defs)
    out += [DOC_END]
    return "\n".join(out) + "\n"


def _nested(schema: dict, defs: dict) -> list[str]:
    """The $defs a schema uses, in order of first use (depth first)."""
    order: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.rsplit("/", 1)[1]
                if name not in order:
                    order.append(name)
                    visit(defs[name])
            for key, value in node.items():
                if key != "$defs":
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return order


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _model_table(schema: dict, defs: dict) -> list[str]:
    lines = []
    if schema.get("description"):
        lines += [_cell(schema["description"]), ""]
    properties = schema.get("properties", {})
    if not properties:
        return lines
    required = set(schema.get("required", ()))
    lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, prop in properties.items():
        default = "*required*" if key in required else _default(prop)
        meaning = prop.get("description", "")
        if prop.get(INSTRUCTOR_ONLY):
            meaning += " *(instructor edition only)*"
        lines.append(f"| `{key}` | {_cell(_type(prop, defs))} | {_cell(default)} | {_cell(meaning)} |")
    lines.append("")
    return lines


def _default(prop: dict) -> str:
    if "default" not in prop:
        return "none"
    value = prop["default"]
    if value is None:
        return "none"
    if value == "":
        return '`""`'
    if value == [] or value == {}:
        return "none"
    return f"`{json.dumps(value, ensure_ascii=False)}`".replace('`"', "`").replace('"`', "`") \
        if isinstance(value, str) else f"`{_flow(value)}`"


def _flow(value: Any) -> str:
    """A value as YAML flow text: {rtol: 1e-07, atol: 0.0}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_PATTERNS = {r"^[a-z0-9][a-z0-9_-]*$": "id", r"^[A-Za-z_][A-Za-z0-9_]*$": "Python name"}


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _range(prop: dict) -> str:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum")
    if low is not None and high is not None:
        return f" {_number(low)}–{_number(high)}"
    if "exclusiveMinimum" in prop:
        return f" > {_number(prop['exclusiveMinimum'])}"
    if low is not None:
        return f" ≥ {_number(low)}"
    if high is not None:
        return f" ≤ {_number(high)}"
    return ""


def _count(prop: dict) -> str:
    low, high = prop.get("minItems"), prop.get("maxItems")
    if low and high:
        return f" ({low}–{high} items)" if low != high else f" ({low} items)"
    if low:
        return f" (at least {low})"
    if high:
        return f" (at most {high})"
    return ""


def _type(prop: dict, defs: dict) -> str:
    if "$ref" in prop:
        return f"`{prop['$ref'].rsplit('/', 1)[1]}`"
    if "const" in prop:
        return f"`{_flow(prop['const'])}`"
    if "enum" in prop:
        return " | ".join(f"`{value}`" if value != "" else '`""`' for value in prop["enum"])
    for combiner in ("oneOf", "anyOf"):
        if combiner in prop:
            options = [option for option in prop[combiner] if option.get("type") != "null"]
            types = [_type(option, defs).replace("whole number", "number") for option in options]
            if types == ["text", "number"]:  # text fields take numbers as written
                return "text"
            return " or ".join(dict.fromkeys(types))
    kind = prop.get("type")
    if kind == "string":
        if prop.get("pattern") in _PATTERNS:
            return _PATTERNS[prop["pattern"]]
        return "text (not empty)" if prop.get("minLength") else "text"
    if kind == "integer":
        return "whole number" + _range(prop)
    if kind == "number":
        return "number" + _range(prop)
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        items = prop.get("items")
        if items is None and "prefixItems" in prop:
            return "[" + ", ".join(_type(item, defs) for item in prop["prefixItems"]) + "]"
        if not items:
            return "list"
        return f"list of {_type(items, defs)}{_count(prop)}"
    if kind == "object":
        for pattern, values in prop.get("patternProperties", {}).items():
            return f"mapping: {_PATTERNS.get(pattern, 'name')} → {_type(values, defs)}"
        values = prop.get("additionalProperties")
        if isinstance(values, dict):
            return f"mapping: text → {_type(values, defs)}"
        return "mapping"
    if not prop or set(prop) <= {"description", "title", "default"}:
        return "any literal (number, text, boolean, list, mapping)"
    return "value"


# --------------------------------------------------------------------------- regenerating


def generated_section(text: str) -> str | None:
    """The generated section of a document's text (markers included), or None."""
    match = _SECTION.search(text)
    return match.group(0) if match else None


_SECTION = re.compile(re.escape(DOC_BEGIN) + r".*?" + re.escape(DOC_END) + r"\n?", re.S)


def update_docs(path: Path) -> bool:
    """Replace the generated section of `path` (docs/authoring.md), or append one; True if it changed."""
    text = path.read_text(encoding="utf-8")
    if _SECTION.search(text):
        new = _SECTION.sub(lambda _: key_reference(), text, count=1)
    else:
        new = text.rstrip("\n") + "\n\n" + key_reference()
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main() -> None:
    """Regenerate course/schemas/*.schema.json and the key reference of docs/authoring.md."""
    write_schemas(SCHEMA_DIR)
    docs = Path(__file__).resolve().parents[1] / "docs" / "authoring.md"
    if docs.is_file():
        update_docs(docs)
    print(f"wrote {SCHEMA_DIR}/*.schema.json" + (f" and the key reference of {docs}" if docs.is_file() else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
