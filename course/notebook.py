"""The quiz in a Jupyter notebook, as ipywidgets: `course.quiz("lesson-3")`.

One question at a time, with a widget that fits its kind (radio buttons, check boxes,
drop-downs, a text box), and Check, Skip and Hint buttons. Everything else is the
terminal quiz's: a course.quiz.run.QuizRun chooses the questions (resuming an
unfinished attempt), course.quiz.grading scores, and every answer is saved to the
same SQLite progress store before its feedback is shown, so a notebook and a terminal
can take turns on one attempt.

ipywidgets is the optional extra `course[notebook]`. Where there is no widget manager
(plain Python, IPython in a terminal, or ipywidgets missing), `course.quiz` runs the
terminal quiz instead (course.api.quiz decides, with `widgets_available`).

The progress file is opened for each answer and closed again: widget callbacks may
run on another thread than the one that made the widget, and an open SQLite
connection must stay on its thread.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable

from course.quiz import grading, typed
from course.quiz.grading import AnswerResult, fmt_points
from course.quiz.run import QuizRun
from course.quiz.session import section_title, summary_lines

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Lesson
    from course.progress.store import ProgressStore
    from course.quiz.variants import QuestionInstance

COLOURS = {"right": "#1a7f37", "partly": "#9a6700", "wrong": "#cf222e", "note": "#57606a", "hint": "#0969da"}


def widgets_available() -> bool:
    """True inside a Jupyter kernel with ipywidgets installed (a front end can show widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def markdown_html(text: str) -> str:
    """Course Markdown (prompts, explanations) as escaped HTML."""
    from course.reports.html import markdown_html as render

    return render(text)


class QuizWidget:
    """A lesson's quiz as widgets. `box` is what the notebook shows; the other attributes
    are the parts a test (or a curious student) can drive: set `answer_widget.value`
    (or the values of `answer_widgets`), then `check_button.click()`."""

    def __init__(self, lesson: "Lesson", open_store: Callable[[], "ProgressStore"], *, seed: int | None = None,
                 restart: bool = False, new_seed: Callable[[], int] | None = None):
        import ipywidgets as w

        self.lesson = lesson
        self._open_store = open_store
        with self._store() as store:
            self.run = QuizRun.open(lesson, store, seed=seed, restart=restart, new_seed=new_seed)
        self.title = w.HTML()
        self.question = w.HTML()
        self.inputs = w.VBox()
        self.feedback = w.HTML()
        self.check_button = w.Button(description="Check", button_style="primary", tooltip="Grade and save this answer")
        self.skip_button = w.Button(description="Skip", tooltip="Skip this question (it scores 0)")
        self.hint_button = w.Button(description="Hint", tooltip="Show the question's hint")
        self.next_button = w.Button(description="Next question", button_style="info")
        self.check_button.on_click(lambda _: self._submit(skip=False))
        self.skip_button.on_click(lambda _: self._submit(skip=True))
        self.hint_button.on_click(lambda _: self._hint())
        self.next_button.on_click(lambda _: self._show_next())
        self.buttons = w.HBox([self.check_button, self.skip_button, self.hint_button, self.next_button])
        self.box = w.VBox([self.title, self.question, self.inputs, self.buttons, self.feedback],
                          layout=w.Layout(max_width="60em"))
        self.answer_widget: Any = None  # the input of the question on screen (kinds with one input)
        self.answer_widgets: list[Any] = []  # every input of the question on screen
        self.current: tuple[int, "QuestionInstance"] | None = None
        self.hinted = False
        self.last_result: AnswerResult | None = None
        quiz = lesson.quiz
        note = ""
        if self.run.resumed:
            done = self.run.total - len(self.run.pending())
            note = (f"<br/><span style='color:{COLOURS['note']}'>Resuming your unfinished attempt: {done} of "
                    f"{self.run.total} answered (<code>course.quiz(\"{lesson.id}\", restart=True)</code> "
                    f"starts over).</span>")
        self.title.value = (f"<b>{html.escape(quiz.title)}</b> · {self.run.total} questions · "
                            f"seed {self.run.seed}{note}")
        self._show_next()

    # ------------------------------------------------------------------ display

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        number = self.current[0] if self.current else None
        where = f"question {number} of {self.run.total}" if number else "finished"
        return f"<quiz {self.lesson.id}, seed {self.run.seed}: {where}>"

    def _store(self):
        return self._open_store()

    # ------------------------------------------------------------------ one question

    def _show_next(self) -> None:
        self.current = self.run.next()
        self.feedback.value = ""
        self.hinted = False
        if self.current is None:
            self._show_summary()
            return
        number, instance = self.current
        section = section_title(self.lesson, instance.question.section)
        self.question.value = (f"<p><b>Question {number}/{self.run.total}</b> · {html.escape(section)}</p>"
                               f"{markdown_html(instance.prompt)}")
        self.answer_widgets = self._inputs_for(instance)
        self.answer_widget = self.answer_widgets[0] if len(self.answer_widgets) == 1 else None
        self.inputs.children = tuple(self.answer_widgets)
        for button in (self.check_button, self.skip_button, self.hint_button):
            button.disabled = False
            button.layout.display = None
        self.next_button.layout.display = "none"

    def _inputs_for(self, instance: "QuestionInstance") -> list[Any]:
        import ipywidgets as w

        wide = w.Layout(width="auto")
        kind = instance.kind
        if kind == "single":
            options = [(f"{letter}) {c.text}", c.text) for letter, c in zip(typed.LETTERS, instance.choices)]
            return [w.RadioButtons(options=options, value=None, layout=wide)]
        if kind == "multiple":
            return [w.Checkbox(value=False, description=f"{letter}) {c.text}", indent=False, layout=wide)
                    for letter, c in zip(typed.LETTERS, instance.choices)]
        if kind == "true_false":
            return [w.RadioButtons(options=[("true", True), ("false", False)], value=None)]
        if kind == "numeric":
            unit = f" (in {instance.question.unit})" if instance.question.unit else ""
            return [w.Text(placeholder=f"a number{unit}, like 42 or 1.75e11", layout=wide)]
        if kind == "ordering":
            return [w.Dropdown(options=list(instance.items), value=item, description=f"{position}.", layout=wide)
                    for position, item in enumerate(instance.items, 1)]
        if kind == "matching":  # one row per left item: its text, then a drop-down of the right items
            return [w.HBox([w.HTML(f"{letter}) {html.escape(left)}&#160;&#8596;&#160;"),
                            w.Dropdown(options=list(instance.rights), value=None)])
                    for letter, left in zip(typed.LETTERS, instance.lefts)]
        return [w.Text(placeholder="your answer", layout=wide)]

    def answer(self) -> grading.Answer | typed.ParseError:
        """The canonical answer the inputs on screen hold, or why they do not hold one."""
        assert self.current is not None
        instance = self.current[1]
        kind = instance.kind
        inputs = self.answer_widgets
        if kind in ("single", "true_false"):
            value = inputs[0].value
            return typed.ParseError("choose one") if value is None else value
        if kind == "multiple":
            picked = [c.text for c, box in zip(instance.choices, inputs) if box.value]
            return picked or typed.ParseError("tick every choice that applies")
        if kind == "numeric":
            parsed = typed.parse_number(inputs[0].value, instance.question.unit)
            if isinstance(parsed, typed.ParseError):
                return parsed
            return int(parsed) if parsed.is_integer() and abs(parsed) < 1e16 else parsed
        if kind == "ordering":
            order = [box.value for box in inputs]
            twice = sorted({item for item in order if order.count(item) > 1})
            if twice:
                return typed.ParseError("each item goes in one place; twice: " + "; ".join(twice))
            return order
        if kind == "matching":
            chosen = {left: row.children[1].value for left, row in zip(instance.lefts, inputs)}
            missing = [left for left, right in chosen.items() if right is None]
            if missing:
                return typed.ParseError("match every item; not yet: " + "; ".join(missing))
            return chosen
        text = inputs[0].value.strip()
        return text or typed.ParseError("type an answer (or skip)")

    def _submit(self, *, skip: bool) -> None:
        if self.current is None:
            return
        given = None if skip else self.answer()
        if isinstance(given, typed.ParseError):
            self.feedback.value = f"<p style='color:{COLOURS['partly']}'>{html.escape(given.reason)}.</p>"
            return
        number, instance = self.current
        with self._store() as store:
            self.run.store = store
            result = self.run.answer(instance, given, hinted=self.hinted)
        self.last_result = result
        for box in self.answer_widgets:
            box.disabled = True
            for child in getattr(box, "children", ()):
                child.disabled = True
        for button in (self.check_button, self.skip_button, self.hint_button):
            button.disabled = True
            button.layout.display = "none"
        self.feedback.value = self._feedback_html(instance, result)
        self.next_button.description = "Next question" if not self.run.finished else "See the score"
        self.next_button.layout.display = None

    def _hint(self) -> None:
        if self.current is None:
            return
        self.hinted = True
        hint = self.current[1].question.hint or "no hint for this question."
        self.feedback.value = f"<div style='color:{COLOURS['hint']}'><b>Hint:</b> {markdown_html(hint)}</div>"

    def _feedback_html(self, instance: "QuestionInstance", result: AnswerResult) -> str:
        points = f"({fmt_points(result.score)}/{fmt_points(result.max_score)})"
        if result.correct:
            mark, colour = "&#10003;", COLOURS["right"]
        elif result.score > 0:
            mark, colour = "&#9680;", COLOURS["partly"]
        else:
            mark, colour = "&#10007;", COLOURS["wrong"]
        parts = [f"<p style='color:{colour}'><b>{mark} {html.escape(result.feedback)} {points}</b></p>"]
        for choice, explanation in result.notes:
            parts.append(f"<div><i>{html.escape(choice)}</i>: {markdown_html(explanation)}</div>")
        if result.explanation:
            parts.append(f"<div><b>Why:</b> {markdown_html(result.explanation)}</div>")
        section = section_title(self.lesson, result.section)
        parts.append(f"<p style='color:{COLOURS['note']}'>Re-read: {html.escape(section)} "
                     f"(<code>course read {html.escape(self.lesson.id)}</code>)</p>")
        return "".join(parts)

    def _show_summary(self) -> None:
        result = self.run.result()
        self.question.value = f"<p><b>Done: {result.answered} of {result.total} answered.</b></p>"
        self.inputs.children = ()
        self.answer_widgets, self.answer_widget = [], None
        for button in (self.check_button, self.skip_button, self.hint_button, self.next_button):
            button.layout.display = "none"
        parts, items = [], []
        for line, style in summary_lines(result, self.lesson):
            if line.startswith("  "):
                items.append(f"<li>{html.escape(line.strip().lstrip('- '))}</li>")
                continue
            if items:
                parts.append("<ul>" + "".join(items) + "</ul>")
                items = []
            text = html.escape(line)
            parts.append(f"<p><b>{text}</b></p>" if style.get("bold") else f"<p>{text}</p>")
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
        self.feedback.value = "".join(parts)
