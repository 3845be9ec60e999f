"""The course from a notebook: the sample notebook run headless (nbclient, a real kernel),
the quiz widget driven headless (values set, buttons clicked), and the plain-Python
fallbacks (the text report, the terminal quiz)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import course
from course.paths import builtin_root
from course.progress.store import ProgressStore, open_store
from test_quiz_interactive import SEED, right_inputs, write_tiny_course

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "examples" / "student-notebook.ipynb"


def outputs(cell) -> tuple[dict, str]:
    """(mime type -> data of its display outputs, its printed text) of one executed cell."""
    data: dict = {}
    text = ""
    for output in cell.outputs:
        if output.output_type == "stream":
            text += output.text
        elif output.output_type == "error":
            raise AssertionError(f"{output.ename}: {output.evalue}")
        else:
            data.update(output.get("data", {}))
    return data, text


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The sample notebook run headless in a kernel of this Python, with one cell added that
    answers the quiz's first question through its widgets, as a click would."""
    why = "running the sample notebook needs nbclient, nbformat and ipykernel: pip install '.[test-slow]'"
    nbformat = pytest.importorskip("nbformat", reason=why)
    nbclient = pytest.importorskip("nbclient", reason=why)
    pytest.importorskip("ipykernel", reason=why)
    pytest.importorskip("ipywidgets")
    folder = tmp_path_factory.mktemp("notebook")
    home = folder / "home"
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(textwrap.dedent("""\
        number, question = quiz.current
        quiz.skip_button.click()
        print(number, question.id, quiz.run.attempt_id is not None)
        print(quiz.feedback.value)
        """)))
    env = {"COURSE_HOME": str(home)}
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # the kernel inherits the environment
    try:
        client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(folder)}})
        client.execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return code, home


@pytest.mark.slow  # a real kernel runs the notebook: the end-to-end tier
def test_the_sample_notebook_grades_a_function_defined_in_a_cell(executed):
    cells, _ = executed
    data, _ = outputs(cells[1])  # def my_softmax ...; course.check("softmax", my_softmax)
    page, text = data["text/html"], data["text/plain"]
    assert "<table>" in page and page.count('<tr class="passed">') == 9 and '<tr class="failed">' not in page
    assert '<span class="status passed">passed</span>' in page
    assert text.startswith("softmax (notebook function my_softmax): passed, 9/9 points")
    assert "✓ small_vector" in text and "CheckResult(" not in text


@pytest.mark.slow  # a real kernel runs the notebook: the end-to-end tier
def test_print_of_a_result_is_the_text_report(executed):
    cells, _ = executed
    _, printed = outputs(cells[2])
    assert printed.startswith("softmax (notebook function my_softmax): passed, 9/9 points\n  ✓ small_vector\n")
    assert "kept as an attempt" in printed  # a function never sets the exercise's status


@pytest.mark.slow  # a real kernel runs the notebook: the end-to-end tier
def test_a_hint_by_number_shows_as_markdown_and_is_recorded(executed):
    cells, home = executed
    data, _ = outputs(cells[3])
    assert data["text/markdown"].startswith("**Hint 2 of 4**")
    assert "Which constant makes the largest exponent" in data["text/plain"]
    with ProgressStore(home / "progress.sqlite3") as store:
        assert store.hints_used("softmax") == 1 and store.next_hint_index("softmax") == 0


@pytest.mark.slow  # a real kernel runs the notebook: the end-to-end tier
def test_the_quiz_is_a_widget_that_saves_to_the_same_progress(executed):
    cells, home = executed
    data, _ = outputs(cells[4])
    assert "application/vnd.jupyter.widget-view+json" in data
    _, printed = outputs(cells[5])
    first, feedback = printed.split("\n", 1)
    number, question_id, saved = first.split()
    assert (number, saved) == ("1", "True")
    assert "Skipped. The answer:" in feedback and "Why:" in feedback
    with ProgressStore(home / "progress.sqlite3") as store:
        attempt = store.unfinished_attempt("lesson-3")  # resumable from the terminal too
        assert [a["question_id"] for a in store.attempt_answers(attempt["id"])] == [question_id]
        summary = store.exercise_summary("softmax")
        assert summary["status"] == "not started" and summary["other_checks"]["count"] == 1


# --------------------------------------------------------------------------- the widget, in-process


# The quiz widget is the `notebook` extra. Its tests are in the end-to-end tier, whose extra (test-slow)
# installs ipywidgets: in the `test` extra it was a quarter of what `pip install '.[test]'` installs.
WIDGETS = pytest.mark.slow


@pytest.fixture
def tiny(tmp_path):
    pytest.importorskip("ipywidgets", reason="the quiz widget needs ipywidgets (pip install '.[test-slow]')")
    return write_tiny_course(tmp_path / "course")


def click_answer(widget, text_inputs: dict, question_id: str) -> None:
    """Set the inputs of the question on screen to the right answer, then click Check."""
    number, instance = widget.current
    assert instance.id == question_id
    kind = instance.kind
    if kind == "single":
        widget.answer_widget.value = "Transformer"
    elif kind == "true_false":
        widget.answer_widget.value = True
    elif kind == "numeric":
        widget.answer_widget.value = text_inputs[question_id]
    elif kind == "ordering":
        for dropdown, item in zip(widget.answer_widgets, instance.question.items):
            dropdown.value = item
    elif kind == "text":
        widget.answer_widget.value = "  SOFTMAX "
    widget.check_button.click()


@WIDGETS
def test_the_widget_grades_each_kind_saves_each_answer_and_ends_with_the_score(tiny, home):
    inputs = right_inputs(tiny)
    quiz = course.quiz("intro", course_dir=str(tiny), seed=SEED, widgets=True)
    assert quiz.run.seed == SEED and "Tiny quiz" in quiz.title.value
    assert "Question 1/5" in quiz.question.value
    quiz.check_button.click()  # nothing chosen yet: told, nothing saved
    assert "choose one" in quiz.feedback.value and quiz.run.attempt_id is None
    quiz.hint_button.click()
    assert "Attention is all you need." in quiz.feedback.value
    click_answer(quiz, inputs, "pick")
    assert "Correct." in quiz.feedback.value and "Vaswani et al., 2017." in quiz.feedback.value
    assert quiz.next_button.layout.display is None and quiz.check_button.layout.display == "none"
    assert all(box.disabled for box in quiz.answer_widgets)
    quiz.next_button.click()
    for question_id in ("static", "head-size", "order", "weights"):
        if question_id == "head-size":
            quiz.answer_widget.value = "many"  # not a number: the reason, and the same question again
            quiz.check_button.click()
            assert "number" in quiz.feedback.value and quiz.current[1].id == "head-size"
        click_answer(quiz, inputs, question_id)
        assert "Correct." in quiz.feedback.value, quiz.feedback.value
        quiz.next_button.click()
    assert quiz.current is None
    assert "Done: 5 of 5 answered." in quiz.question.value
    assert "Score: 5 of 5 answered, 5 points of 5 (100%)" in quiz.feedback.value
    with open_store() as store:
        [attempt] = store.attempts("intro")
        assert (attempt["status"], attempt["score"], attempt["seed"]) == ("finished", 5.0, SEED)
        rows = {row["question_id"]: row for row in store.attempt_answers(attempt["id"])}
        assert set(rows) == {"pick", "static", "head-size", "order", "weights"}
        assert rows["pick"]["hinted"] is True and rows["static"]["hinted"] is False


@WIDGETS
def test_a_wrong_matching_and_a_skip_are_explained(tiny, home):
    quiz = course.quiz("intro", course_dir=str(tiny), seed=SEED, widgets=True)
    quiz.skip_button.click()
    assert "Skipped. The answer: “Transformer”" in quiz.feedback.value
    quiz.next_button.click()
    quiz.answer_widget.value = False
    quiz.check_button.click()
    assert "Not quite" in quiz.feedback.value and "(0/1)" in quiz.feedback.value


@WIDGETS
def test_the_terminal_resumes_what_the_widget_started(tiny, home):
    pexpect = pytest.importorskip("pexpect")
    inputs = right_inputs(tiny)
    quiz = course.quiz("intro", course_dir=str(tiny), widgets=True)  # a random seed
    seed = quiz.run.seed
    click_answer(quiz, right_inputs(tiny, seed), "pick")
    quiz.next_button.click()
    quiz.answer_widget.value = True
    quiz.check_button.click()
    again = course.quiz("intro", course_dir=str(tiny), widgets=True)  # the notebook re-run: resumed
    assert again.run.seed == seed and again.current[0] == 3 and "Resuming" in again.title.value
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    child = pexpect.spawn(sys.executable, ["-m", "course", "--course", str(tiny), "quiz", "intro"], env=env,
                          encoding="utf-8", timeout=30, dimensions=(40, 80))
    child.expect_exact(f"seed {seed}")
    child.expect_exact("Resuming your unfinished attempt: 2 of 5 answered, going on at question 3")
    child.expect_exact("Question 3/5")
    child.expect_exact("> ")
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert inputs  # the default seed's inputs are not the ones used above


@WIDGETS
def test_without_a_widget_manager_the_quiz_is_the_terminal_one(tiny, home, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    script = f"import course\nresult = course.quiz('intro', course_dir={str(tiny)!r}, seed={SEED})\nprint(repr(result))\n"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    child = pexpect.spawn(sys.executable, ["-c", script], env=env, encoding="utf-8", timeout=30, dimensions=(40, 80))
    child.expect_exact("Question 1/5")
    child.expect_exact("> ")
    child.sendline(right_inputs(tiny)["pick"])
    child.expect_exact("✓ Correct.")
    child.expect_exact("> ")
    child.sendline("q")
    child.expect_exact("Stopped: 1 of 5 answered, all saved; 4 to go.")
    child.expect_exact(f"<quiz intro, seed {SEED}: 1 of 5 answered, score 1/5>")
    child.expect(pexpect.EOF)


def test_print_of_course_check_in_plain_python_is_the_report_of_course_check(tmp_path, home):
    (tmp_path / "softmax.py").write_text((builtin_root() / "exercises" / "softmax" / "mistakes" /
                                          "wrong_axis.py").read_text())
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "PYTHONIOENCODING": "utf-8"}
    api = subprocess.run([sys.executable, "-c", "import course; print(course.check('softmax', 'softmax.py'), end='')"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    cli = subprocess.run([sys.executable, "-m", "course", "check", "softmax", "softmax.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert api.returncode == 0 and cli.returncode == 1, api.stderr + cli.stderr
    assert api.stdout == cli.stdout
    assert api.stdout.startswith("softmax (softmax.py): failed, 7/9 points")
    shown = subprocess.run([sys.executable, "-c", "import course; r = course.check('softmax', 'softmax.py'); "
                            "print(repr(r) == str(r))"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
    assert shown.stdout.strip() == "True"
