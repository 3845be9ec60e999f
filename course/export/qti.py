"""Canvas: a QTI 1.2 zip, laid out as Canvas itself exports a quiz (and as text2qti writes one).

    imsmanifest.xml                         the package: one imsqti_xmlv1p2 resource and its metadata
    <assessment>/<assessment>.xml           questestinterop: the items, question groups as sections
    <assessment>/assessment_meta.xml        Canvas's quiz settings (title, points, shuffling)
    non_cc_assessments/

Each item names its Canvas kind in itemmetadata (question_type), scores with SCORE set
to 100 on the right response (varequal on a choice; for numbers varequal on the exact
value or vargte/varlte on the accepted range; for matching one Add per right pair) and
carries the explanation as general feedback (general_fb), each choice's explanation as
that choice's feedback. tests/engine/test_export.py compares this with text2qti's output for
the same questions. XML is built with ElementTree, so every text is escaped.
"""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

from course import untrusted
from course.export import Entry, Item, markdown_html, number, numeric_range
from course.model import Lesson

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
KINDS = {"single": "multiple_choice_question", "multiple": "multiple_answers_question",
         "true_false": "true_false_question", "numeric": "numerical_question",
         "matching": "matching_question", "text": "short_answer_question"}


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attributes.items()})
    if text is not None:
        element.text = untrusted.xml(text)
    return element


def _mattext(parent: ET.Element, html_text: str) -> None:
    material = _sub(parent, "material")
    _sub(material, "mattext", html_text, texttype="text/html")


def _metadata(item: ET.Element, fields: list[tuple[str, str]]) -> None:
    metadata = _sub(_sub(item, "itemmetadata"), "qtimetadata")
    for label, entry in fields:
        field = _sub(metadata, "qtimetadatafield")
        _sub(field, "fieldlabel", label)
        _sub(field, "fieldentry", entry)


def _condition(resprocessing: ET.Element, *, stop: bool) -> tuple[ET.Element, ET.Element]:
    condition = _sub(resprocessing, "respcondition", **{"continue": "No" if stop else "Yes"})
    return condition, _sub(condition, "conditionvar")


def _feedback(item: ET.Element, ident: str, text: str) -> None:
    feedback = _sub(item, "itemfeedback", ident=ident)
    _mattext(_sub(feedback, "flow_mat"), markdown_html(text))


def _choices(item: Item) -> list[tuple[str, str, bool, str]]:
    """(ident, html, correct, explanation) per choice, in the author's order."""
    if item.kind == "true_false":
        truth = bool(item.question.answer_bool)
        return [(f"{item.ident}_true", "True", truth, ""), (f"{item.ident}_false", "False", not truth, "")]
    return [(f"{item.ident}_c{i + 1}", markdown_html(c.text), c.correct, c.explanation)
            for i, c in enumerate(item.question.choices)]


def _item(section: ET.Element, item: Item, title: str) -> None:
    question = item.question
    element = _sub(section, "item", ident=item.ident, title=title)
    kind = KINDS[item.kind]
    choices = _choices(item) if item.kind in ("single", "multiple", "true_false") else []
    lefts = [(f"{item.ident}_l{i + 1}", left) for i, (left, _) in enumerate(item.pairs)]
    rights = list(dict.fromkeys(right for _, right in item.pairs))
    right_ids = {right: f"{item.ident}_r{i + 1}" for i, right in enumerate(rights)}
    if choices:
        answer_ids = ",".join(c[0] for c in choices)
    elif item.kind == "matching":
        answer_ids = ",".join(ident for ident, _ in lefts)
    elif item.kind == "numeric":
        answer_ids = f"{item.ident}_numerical"
    else:
        answer_ids = ",".join(f"{item.ident}_a{i + 1}" for i in range(len(item.accept)))
    _metadata(element, [("question_type", kind), ("points_possible", number(question.points)),
                        ("original_answer_ids", answer_ids),
                        ("assessment_question_identifierref", f"{item.ident}_ref")])
    presentation = _sub(element, "presentation")
    _mattext(presentation, item.prompt_html)
    if choices:
        response = _sub(presentation, "response_lid", ident="response1",
                        rcardinality="Multiple" if item.kind == "multiple" else "Single")
        render = _sub(response, "render_choice")
        for ident, text, _, _ in choices:
            _mattext(_sub(render, "response_label", ident=ident), text)
    elif item.kind == "matching":
        for ident, left in lefts:
            response = _sub(presentation, "response_lid", ident=f"response_{ident}")
            _mattext(response, markdown_html(left))
            render = _sub(response, "render_choice")
            for right in rights:
                _mattext(_sub(render, "response_label", ident=right_ids[right]), markdown_html(right))
    else:
        response = _sub(presentation, "response_str", ident="response1", rcardinality="Single")
        render = _sub(response, "render_fib", **({"fibtype": "Decimal"} if item.kind == "numeric" else {}))
        _sub(render, "response_label", ident="answer1", **({} if item.kind == "numeric" else {"rshuffle": "No"}))

    resprocessing = _sub(element, "resprocessing")
    _sub(_sub(resprocessing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    if question.explanation:
        condition, variables = _condition(resprocessing, stop=False)
        _sub(variables, "other")
        _sub(condition, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    if choices:
        for ident, _, _, explanation in choices:
            if explanation:
                condition, variables = _condition(resprocessing, stop=False)
                _sub(variables, "varequal", ident, respident="response1")
                _sub(condition, "displayfeedback", feedbacktype="Response", linkrefid=f"{ident}_fb")
        condition, variables = _condition(resprocessing, stop=True)
        if item.kind == "multiple":
            both = _sub(variables, "and")
            for ident, _, correct, _ in choices:
                if correct:
                    _sub(both, "varequal", ident, respident="response1")
                else:
                    _sub(_sub(both, "not"), "varequal", ident, respident="response1")
        else:
            right = next(ident for ident, _, correct, _ in choices if correct)
            _sub(variables, "varequal", right, respident="response1")
        _sub(condition, "setvar", "100", action="Set", varname="SCORE")
    elif item.kind == "numeric":
        exact, low, high = numeric_range(item)
        condition, variables = _condition(resprocessing, stop=True)
        either = _sub(variables, "or")
        _sub(either, "varequal", number(exact), respident="response1")
        within = _sub(either, "and")
        _sub(within, "vargte", number(low), respident="response1")
        _sub(within, "varlte", number(high), respident="response1")
        _sub(condition, "setvar", "100", action="Set", varname="SCORE")
    elif item.kind == "text":
        condition, variables = _condition(resprocessing, stop=True)
        for text in item.accept:
            _sub(variables, "varequal", text, respident="response1")
        _sub(condition, "setvar", "100", action="Set", varname="SCORE")
    else:  # matching: each right pair adds its share
        share = number(round(100 / len(lefts), 4))
        for (ident, _), (_, right) in zip(lefts, item.pairs):
            condition, variables = _condition(resprocessing, stop=False)
            _sub(variables, "varequal", right_ids[right], respident=f"response_{ident}")
            _sub(condition, "setvar", share, action="Add", varname="SCORE")
    if question.explanation:
        _feedback(element, "general_fb", question.explanation)
    for ident, _, _, explanation in choices:
        if explanation:
            _feedback(element, f"{ident}_fb", explanation)


def assessment_xml(lesson: Lesson, entries: list[Entry], title: str, ident: str) -> bytes:
    root = ET.Element("questestinterop", xmlns=QTI_NS)
    assessment = _sub(root, "assessment", ident=ident, title=title)
    field = _sub(_sub(assessment, "qtimetadata"), "qtimetadatafield")
    _sub(field, "fieldlabel", "cc_maxattempts")
    _sub(field, "fieldentry", "1")
    section = _sub(assessment, "section", ident="root_section")
    for entry in entries:
        question = entry.question
        if entry.grouped:
            group = _sub(section, "section", ident=f"{entry.items[0].ident.rsplit('_v', 1)[0]}_group",
                         title=f"{question.id} ({len(entry.items)} variants)")
            selection = _sub(_sub(group, "selection_ordering"), "selection")
            _sub(selection, "selection_number", "1")
            _sub(_sub(selection, "selection_extension"), "points_per_item", number(question.points))
            for number_, item in enumerate(entry.items, 1):
                _item(group, item, f"{question.id} (variant {number_})")
        else:
            _item(section, entry.items[0], question.id)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def meta_xml(lesson: Lesson, entries: list[Entry], title: str, ident: str) -> bytes:
    root = ET.Element("quiz", identifier=ident, xmlns=CANVAS_NS)
    points = sum(e.question.points for e in entries)
    for tag, text in (("title", title), ("description", markdown_html(lesson.summary)),
                      ("shuffle_answers", "true"), ("scoring_policy", "keep_highest"), ("quiz_type", "assignment"),
                      ("points_possible", f"{points:.1f}"), ("allowed_attempts", "1"),
                      ("show_correct_answers", "true"), ("one_question_at_a_time", "false"),
                      ("cant_go_back", "false"), ("available", "false")):
        _sub(root, tag, text)
    assignment = _sub(root, "assignment", identifier=f"{ident}_assignment")
    for tag, text in (("title", title), ("workflow_state", "unpublished"), ("quiz_identifierref", ident),
                      ("points_possible", f"{points:.1f}"), ("grading_type", "points"),
                      ("submission_types", "online_quiz")):
        _sub(assignment, tag, text)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def manifest_xml(ident: str, title: str) -> bytes:
    root = ET.Element("manifest", identifier=f"{ident}_manifest", xmlns=CP_NS)
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", "IMS Content")
    _sub(metadata, "schemaversion", "1.1.3")
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    resource = _sub(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
    _sub(resource, "file", href=f"{ident}/{ident}.xml")
    _sub(resource, "dependency", identifierref=f"{ident}_meta")
    meta = _sub(resources, "resource", identifier=f"{ident}_meta",
                type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
                href=f"{ident}/assessment_meta.xml")
    _sub(meta, "file", href=f"{ident}/assessment_meta.xml")
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def write(lesson: Lesson, entries: list[Entry], title: str) -> bytes:
    """The zip's bytes (deterministic: fixed dates, fixed order)."""
    ident = "course_assessment_" + "".join(ch if ch.isalnum() else "_" for ch in lesson.id)
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("imsmanifest.xml", manifest_xml(ident, title)), ("non_cc_assessments/", b""),
                           (f"{ident}/assessment_meta.xml", meta_xml(lesson, entries, title, ident)),
                           (f"{ident}/{ident}.xml", assessment_xml(lesson, entries, title, ident))):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o40755 if name.endswith("/") else 0o100644) << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return stream.getvalue()
