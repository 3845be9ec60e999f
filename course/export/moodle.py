"""Moodle XML (https://docs.moodle.org/en/Moodle_XML_format): one <question> per item.

    single, true_false  multichoice (single=true) / truefalse, the right answer at fraction 100
    multiple            multichoice (single=false): each right choice +100/k, each wrong one -100/k
                        (Moodle adds them up and stops at 0: the course's own scoring)
    numeric             numerical: the answer, its tolerance (the course's accepted interval)
    matching, ordering  matching: a subquestion per left (item), its answer the right (position)
    text                shortanswer: each accepted text at fraction 100, case-insensitive

The explanation is the general feedback, each choice's explanation that answer's
feedback, the hint a <hint> (shown in Moodle's interactive mode). A question with
seeded variants becomes a category of its own holding the variants: add "a random
question from" that category to the Moodle quiz and each student gets one.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from course import untrusted
from course.export import Entry, Item, markdown_html, number, numeric_range
from course.model import Lesson


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attributes.items()})
    if text is not None:
        element.text = untrusted.xml(text)
    return element


def _text(parent: ET.Element, tag: str, html_text: str, **attributes) -> ET.Element:
    element = _sub(parent, tag, format="html", **attributes)
    _sub(element, "text", html_text)
    return element


def _fraction(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".") if value else "0"


def _category(quiz: ET.Element, path: str) -> None:
    question = _sub(quiz, "question", type="category")
    _sub(_sub(question, "category"), "text", f"$course$/top/{path}")


def _question(quiz: ET.Element, item: Item, name: str) -> None:
    q = item.question
    kind = {"single": "multichoice", "multiple": "multichoice", "true_false": "truefalse", "numeric": "numerical",
            "matching": "matching", "text": "shortanswer"}[item.kind]
    element = _sub(quiz, "question", type=kind)
    _sub(_sub(element, "name"), "text", name)
    _text(element, "questiontext", item.prompt_html)
    _text(element, "generalfeedback", markdown_html(q.explanation) if q.explanation else "")
    _sub(element, "defaultgrade", number(q.points))
    _sub(element, "penalty", "0")
    _sub(element, "hidden", "0")
    _sub(element, "idnumber", item.ident)
    if item.kind in ("single", "multiple"):
        _sub(element, "single", "true" if item.kind == "single" else "false")
        _sub(element, "shuffleanswers", "true")
        _sub(element, "answernumbering", "abc")
        correct = sum(1 for c in q.choices if c.correct)
        for choice in q.choices:
            if item.kind == "single":
                fraction = 100.0 if choice.correct else 0.0
            else:
                fraction = (100.0 if choice.correct else -100.0) / correct
            answer = _text(element, "answer", markdown_html(choice.text), fraction=_fraction(fraction))
            _text(answer, "feedback", markdown_html(choice.explanation) if choice.explanation else "")
    elif item.kind == "true_false":
        for value in (True, False):
            answer = _sub(element, "answer", fraction="100" if q.answer_bool is value else "0", format="moodle_auto_format")
            _sub(answer, "text", "true" if value else "false")
            _text(answer, "feedback", "")
    elif item.kind == "numeric":
        exact, low, high = numeric_range(item)
        answer = _sub(element, "answer", fraction="100", format="moodle_auto_format")
        _sub(answer, "text", number(exact))
        _sub(answer, "tolerance", number(high - exact))
        _text(answer, "feedback", "")
        _sub(element, "unitgradingtype", "0")
        _sub(element, "unitpenalty", "0")
        _sub(element, "showunits", "3")  # no unit input: the unit is in the question text
        _sub(element, "unitsleft", "0")
    elif item.kind == "matching":
        _sub(element, "shuffleanswers", "true")
        for left, right in item.pairs:
            pair = _text(element, "subquestion", markdown_html(left))
            _sub(_sub(pair, "answer"), "text", right)
    else:  # text
        _sub(element, "usecase", "0")
        for text in item.accept:
            answer = _sub(element, "answer", fraction="100", format="moodle_auto_format")
            _sub(answer, "text", text)
            _text(answer, "feedback", "")
    if q.hint:
        _text(element, "hint", markdown_html(q.hint))


def write(lesson: Lesson, entries: list[Entry], title: str) -> str:
    quiz = ET.Element("quiz")
    base = title.replace("/", "-")
    _category(quiz, base)
    for entry in entries:
        if not entry.grouped:
            _question(quiz, entry.items[0], entry.question.id)
    for entry in entries:  # each question with variants in a category of its own, after the others
        if entry.grouped:
            _category(quiz, f"{base}/{entry.question.id} (variants)")
            for number_, item in enumerate(entry.items, 1):
                _question(quiz, item, f"{entry.question.id} (variant {number_})")
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
