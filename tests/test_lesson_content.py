"""Lesson 3 as shipped: its examples run, its numbers match their sources, its quiz covers it."""
from __future__ import annotations

import subprocess
import sys

import pytest

from course import model as m
from course.loader import load_course
from course.paths import builtin_root

LESSON = load_course(builtin_root()).lesson("lesson-3")


def blocks(kind):
    return [(section.id, block) for section in LESSON.sections for block in section.blocks if isinstance(block, kind)]


def table(caption_word: str) -> m.TableBlock:
    [found] = [b for _, b in blocks(m.TableBlock) if caption_word.lower() in b.caption.lower()]
    return found


RUNNABLE = [b for _, b in blocks(m.CodeBlock) if b.runnable]


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"line-{b.where.line}" for b in RUNNABLE])
def test_every_runnable_example_runs_with_numpy_alone(block, tmp_path):
    result = subprocess.run([sys.executable, "-I", "-c", block.source], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "a runnable example prints what it shows"
    assert "matplotlib" not in block.source


def test_the_attention_example_is_numerically_stable_and_batch_safe():
    [attention] = [b for section, b in blocks(m.CodeBlock) if section == "attention" and b.runnable]
    code = "\n".join(line.split("#")[0] for line in attention.source.splitlines())  # comments aside
    assert "swapaxes" in code and ".T" not in code
    assert "max(" in code  # subtracts the max before exp
    assert "np.sqrt(d_k)" in code


def test_the_milestones_are_the_published_years():
    rows = {row[1]: row[0] for row in table("milestones").rows}
    assert rows == {
        "Word2Vec": "2013", "Seq2seq with LSTMs": "2014", "Transformer": "2017", "BERT": "2018",
        "GPT-2": "2019", "GPT-3": "2020", "ChatGPT": "2022", "GPT-4": "2023",
    }


def test_depth_width_and_scale_match_the_papers():
    rows = {row[0]: row for row in table("configurations").rows}
    assert rows["BERT-base"][1:3] == ("12", "768") and rows["BERT-base"][4] == "110M"
    assert rows["BERT-large"][1:3] == ("24", "1,024") and rows["BERT-large"][4] == "340M"
    assert rows["GPT-3 175B"][1:3] == ("96", "12,288") and rows["GPT-3 175B"][4] == "175B"
    assert rows["Transformer base"][2:4] == ("512", "8")
    assert set(rows["GPT-4"][1:5]) == {"undisclosed"}, "GPT-4's size is not published"


def test_the_size_chart_shows_only_published_sizes():
    figure = LESSON.figure("parameter-growth")
    points = {p.label: p for s in figure.series for p in s.points}
    assert not any("GPT-4" in label for label in points), "GPT-4's size is undisclosed: not data"
    assert all(p.source and not p.estimate for p in points.values())
    sizes = {label: p.y for label, p in points.items()}
    assert sizes["BERT-base"] == 110e6 and sizes["BERT-large"] == 340e6
    assert sizes["GPT-3 175B"] == 175e9 and sizes["GPT-2 largest (1.5B)"] == 1542e6
    assert figure.y.scale == "log" and not figure.illustration


def test_the_scaling_chart_is_kaplans_published_fit():
    figure = LESSON.figure("scaling-law")
    assert "Kaplan" in figure.caption and "fitted power law" in figure.caption
    for point in figure.series[0].points:
        assert point.y == pytest.approx((8.8e13 / point.x) ** 0.076, abs=1e-3)


def test_made_up_attention_weights_are_labelled_illustrations():
    heatmaps = [f for f in LESSON.figures if isinstance(f, m.HeatmapFigure)]
    assert heatmaps
    for figure in heatmaps:
        assert figure.illustration
        for row in figure.values:
            assert sum(row) == pytest.approx(1.0, abs=0.01)


def test_the_quiz_covers_every_section_with_at_least_five_kinds():
    quiz = LESSON.quiz
    assert len(quiz.questions) >= 30
    assert len({q.kind for q in quiz.questions}) >= 5
    taught = {q.section for q in quiz.questions}
    assert taught == {s.id for s in LESSON.sections}
    assert all(q.explanation and q.hint for q in quiz.questions)


def test_the_papers_are_cited():
    titles = {s.title for s in LESSON.sources}
    for title in ("Attention Is All You Need", "Language Models are Few-Shot Learners",
                  "Language Models are Unsupervised Multitask Learners"):
        assert title in titles
    assert any(t.startswith("BERT") for t in titles)
