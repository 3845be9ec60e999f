"""Lesson 3 as shipped: its examples run, its numbers match their sources, its quiz covers it.

The facts pinned here were checked against the papers (and, for GPT-2, against OpenAI's gpt-2
repository, whose README says the paper's original parameter counts were wrong). Where a
number can be computed from a published configuration, the test computes it.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from course import model as m
from course.loader import load_course
from course.paths import builtin_root

ROOT = builtin_root()
LESSON = load_course(ROOT).lesson("lesson-3")
SOURCE_IDS = {s.id for s in LESSON.sources}

GPT2_RELEASED = {  # name: (layers, d_model, exact count, as released by OpenAI)
    "GPT-2 small": (12, 768, 124_439_808, "124M"),
    "GPT-2 medium": (24, 1024, 354_823_168, "355M"),
    "GPT-2 large": (36, 1280, 774_030_080, "774M"),
    "GPT-2 XL": (48, 1600, 1_557_611_200, "1.5B"),
}
LLAMA_7B = 6_738_415_616


def blocks(kind, section: str | None = None):
    return [(s.id, block) for s in LESSON.sections for block in s.blocks
            if isinstance(block, kind) and (section is None or s.id == section)]


def table(caption_word: str) -> m.TableBlock:
    [found] = [b for _, b in blocks(m.TableBlock) if caption_word.lower() in b.caption.lower()]
    return found


def prose(section: str) -> str:
    return " ".join(" ".join(b.text.split()) for _, b in blocks(m.MarkdownBlock, section))


def everything_a_student_reads() -> str:
    """Every text of the course content: lessons, quizzes, exercises and the demo's samples."""
    folders = [ROOT / "content", ROOT / "exercises", ROOT / "demo"]
    return "\n".join(p.read_text(encoding="utf-8") for folder in folders if folder.is_dir()
                     for p in sorted(folder.rglob("*")) if p.suffix in (".yaml", ".py", ".md"))


def reference_count(config: dict) -> int:
    path = ROOT / "exercises" / "param_count" / "reference.py"
    spec = importlib.util.spec_from_file_location("param_count_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.count_parameters(config)


RUNNABLE = [b for _, b in blocks(m.CodeBlock) if b.runnable]


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"line-{b.where.line}" for b in RUNNABLE])
def test_every_runnable_example_runs_with_numpy_alone(block, tmp_path):
    result = subprocess.run([sys.executable, "-I", "-c", block.source], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "a runnable example prints what it shows"
    assert "Warning" not in result.stderr, result.stderr
    assert "matplotlib" not in block.source


def run(block: m.CodeBlock, tmp_path) -> str:
    return subprocess.run([sys.executable, "-I", "-c", block.source], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60).stdout


def test_the_attention_example_is_numerically_stable_and_batch_safe(tmp_path):
    [attention] = [b for section, b in blocks(m.CodeBlock) if section == "attention" and b.runnable]
    code = "\n".join(line.split("#")[0] for line in attention.source.splitlines())  # comments aside
    assert "swapaxes" in code and ".T" not in code
    assert "max(" in code  # subtracts the max before exp
    assert "np.sqrt(d_k)" in code
    out = run(attention, tmp_path)
    assert "weights: [[0.731, 0.269], [0.5, 0.5]]" in out  # the worked example of the text
    assert "outputs: [12.69, 15.0]" in out
    assert "fully masked row gets: [0.0, 0.0]" in out  # zeros, as the exercises define it, not NaN


def test_the_lesson_explains_the_fully_masked_row_and_masked_weights():
    text = prose("attention")
    assert "(−∞) − (−∞) is NaN" in text
    assert "row of zeros" in text and "self_attention" in text
    assert "exactly 0 for a masked one" in text
    assert "Every weight is positive" not in text


def test_the_scaling_argument_is_reported_as_the_paper_states_it():
    text = prose("attention")
    assert "suspect" in text and "argue" not in text


# --------------------------------------------------------------------------- history


def test_the_milestones_are_the_published_years():
    rows = {row[1]: row[0] for row in table("milestones").rows}
    assert rows == {
        "Word2Vec": "2013", "Seq2seq with LSTMs": "2014", "Attention for translation": "2014",
        "Transformer": "2017", "RL from human preferences": "2017", "GPT-1": "2018", "BERT": "2018",
        "GPT-2": "2019", "T5": "2019", "GPT-3": "2020", "Chinchilla": "2022", "ChatGPT": "2022",
        "GPT-4": "2023", "LLaMA": "2023",
    }
    for row in table("milestones").rows:
        assert row[-1] in SOURCE_IDS, row


def test_gpt1_t5_and_chinchilla_are_in_the_history_with_their_facts():
    text = prose("history")
    # GPT-1 (Radford et al. 2018): the first decoder-only Transformer pre-trained, then fine-tuned
    assert "### 2018: GPT-1" in "\n".join(b.text for _, b in blocks(m.MarkdownBlock, "history"))
    assert "12-layer *decoder-only* Transformer" in text and "BooksCorpus" in text and "9 of the 12" in text
    assert '"was chosen to have the same model size as OpenAI GPT"' in text  # the BERT paper's words
    # T5 (Raffel et al. 2019): an encoder-decoder that writes every task as text-to-text
    assert "### 2019: T5" in "\n".join(b.text for _, b in blocks(m.MarkdownBlock, "history"))
    assert "text in, text out" in text and "about 11 billion parameters" in text
    # Chinchilla (Hoffmann et al. 2022)
    assert "70-billion-parameter Chinchilla, trained on 1.4 trillion tokens" in text
    assert "280-billion-parameter Gopher" in text and "175-billion-parameter GPT-3" in text
    configurations = {row[0]: row for row in table("configurations").rows}
    assert configurations["GPT-1"][1:4] == ("12", "768", "12") and configurations["GPT-1"][5] == "radford2018"
    assert configurations["T5-11B"][4] == "about 11B" and configurations["T5-11B"][5] == "raffel2019"
    assert configurations["Chinchilla"][4] == "70B" and configurations["Chinchilla"][5] == "hoffmann2022"


def test_the_2017_transformer_is_not_called_pre_trained():
    text = prose("history")
    assert "The model was not pre-trained" in text and "about 4.5 million sentence pairs" in text
    families = {row[0]: row for row in table("encoder-only").rows}
    assert "not pre-trained" in families["Encoder-decoder"][2] and "T5, BART" in families["Encoder-decoder"][2]


def test_rlhf_is_dated_to_2017_and_its_use_on_language_models_to_later():
    text = prose("history")
    assert "Christiano et al." in text and "Atari games and simulated robot locomotion, not language" in text
    assert "Ziegler et al. (2019)" in text
    quiz_text = (ROOT / "content" / "lesson-3" / "quiz.yaml").read_text(encoding="utf-8")
    assert "RLHF came later" not in quiz_text


def test_king_queen_is_credited_to_mikolov_yih_and_zweig():
    text = prose("history")
    assert "The word2vec paper quotes an earlier finding by Mikolov, Yih and Zweig (2013)" in text
    assert "mikolov2013b" in SOURCE_IDS


def test_the_gpt4_report_is_quoted_for_what_it_does_say():
    text = prose("history")
    assert "Transformer-style model pre-trained to predict the next token" in text and "RLHF" in text
    assert "no further details about the architecture (including model size)" in text


# --------------------------------------------------------------------------- GPT-2's parameter counts


def test_the_withdrawn_gpt2_figures_appear_nowhere():
    text = everything_a_student_reads()
    for withdrawn in ("117M", "117 million", "117,000,000", "1,542M", "1542M", "1,542", "1542e6", "345M"):
        assert withdrawn not in text, withdrawn


@pytest.mark.parametrize("name", GPT2_RELEASED)
def test_the_four_gpt2_counts_are_computed_from_their_configurations(name):
    layers, d_model, exact, released = GPT2_RELEASED[name]
    config = dict(arch="gpt", n_layers=layers, d_model=d_model, n_heads=12, d_ff=4 * d_model, vocab_size=50257,
                  max_positions=1024)
    assert reference_count(config) == exact  # the param_count exercise's reference agrees
    row = {row[0]: row for row in table("configurations").rows}[name]
    assert row[1:3] == (str(layers), f"{d_model:,}")
    assert row[4] == f"{exact:,} ({released})" and "openai2019" in row[5]
    points = {p.label: p for s in LESSON.figure("parameter-growth").series for p in s.points}
    assert points[f"{name} ({released})"].y == exact


def test_the_discrepancy_is_explained_and_linked_to_the_exercise():
    text = prose("characteristics")
    assert "**124,439,808**" in text and "354,823,168, 774,030,080 and 1,557,611,200" in text
    assert "original parameter counts were wrong" in text
    assert "`course start param_count`" in text
    intro = prose("introduction")
    assert '"our original parameter counts were wrong"' in intro and "param_count" in intro


# --------------------------------------------------------------------------- characteristics


def test_the_llama_7b_count_is_a_sourced_fact_of_the_characteristics_section():
    row = {row[0]: row for row in table("configurations").rows}["LLaMA-7B"]
    assert row[1:4] == ("32", "4,096", "32") and row[4] == f"{LLAMA_7B:,} (6.7B)"
    assert "touvron2023" in row[5] and {"touvron2023", "meta2023"} <= SOURCE_IDS
    assert f"**{LLAMA_7B:,}**" in prose("characteristics")
    # the count the text derives: no biases, RMSNorm scale only, SwiGLU (3 matrices of 11,008), untied head
    d, layers, vocab, d_ff = 4096, 32, 32000, 11008
    assert d_ff == 256 * -(-(2 * 4 * d // 3) // 256)
    assert 2 * vocab * d + layers * (4 * d * d + 3 * d * d_ff + 2 * d) + d == LLAMA_7B


def test_dff_and_layernorm_are_not_claimed_to_be_universal():
    text = prose("characteristics")
    assert "d_ff is usually 4·d_model" not in text and "but not everywhere" in text and "SwiGLU" in text
    reading = prose("further-reading")
    assert "used in every Transformer sublayer" not in reading and "RMSNorm" in reading


def test_depth_width_and_scale_match_the_papers():
    rows = {row[0]: row for row in table("configurations").rows}
    assert rows["BERT-base"][1:3] == ("12", "768") and rows["BERT-base"][4] == "110M"
    assert rows["BERT-large"][1:3] == ("24", "1,024") and rows["BERT-large"][4] == "340M"
    assert rows["GPT-3 175B"][1:3] == ("96", "12,288") and rows["GPT-3 175B"][4] == "175B"
    assert rows["Transformer base"][2:4] == ("512", "8")
    assert rows["GPT-4"][1:5] == ("?", "?", "?", "undisclosed"), "GPT-4's size is not published"
    for row in rows.values():
        assert {part.strip() for part in row[5].split(",")} <= SOURCE_IDS, row


def test_chinchilla_and_training_compute_are_taught_with_their_numbers():
    text = prose("characteristics")
    assert "**C ≈ 6·N·D**" in text and "3.14 × 10²³" in text
    assert "**20 tokens per parameter**" in text and 1.4e12 / 70e9 == 20
    assert "N ≈ √(C / 120)" in text and (5.88e23 / 120) ** 0.5 == pytest.approx(70e9)
    assert 6 * 175e9 * 300e9 == pytest.approx(3.15e23)


def test_the_shuffle_claim_is_limited_to_unmasked_attention():
    text = prose("transformer")
    assert "In an encoder, where attention is unmasked (bidirectional)" in text
    assert "With a causal mask this is no longer true" in text and "Haviv et al. (2022)" in text
    assert "haviv2022" in SOURCE_IDS


def test_pre_ln_post_ln_training_versus_generation_and_the_kv_cache_are_taught():
    text = prose("transformer")
    assert "**post-LN**" in text and "**pre-LN**" in text and "Xiong et al. (2020)" in text
    assert "**one** forward pass" in text and "generating 100 tokens takes 100 steps" in text
    assert "2 · 32 · 2,048 · 4,096 · 2 bytes = 1,073,741,824 bytes" in text
    assert 2 * 32 * 2048 * 4096 * 2 == 1_073_741_824 == 2**30


# --------------------------------------------------------------------------- figures and sources


def test_the_size_chart_shows_only_published_or_computed_sizes():
    figure = LESSON.figure("parameter-growth")
    points = {p.label: p for s in figure.series for p in s.points}
    assert not any("GPT-4" in label for label in points), "GPT-4's size is undisclosed: not data"
    assert all(p.source in SOURCE_IDS and not p.estimate for p in points.values())
    sizes = {label: p.y for label, p in points.items()}
    assert sizes["BERT-base"] == 110e6 and sizes["BERT-large"] == 340e6
    assert sizes["GPT-3 175B"] == 175e9 and sizes["GPT-2 XL (1.5B)"] == 1_557_611_200
    assert sizes["T5-11B"] == 11e9 and sizes["Chinchilla (70B)"] == 70e9 and sizes["LLaMA-7B (6.7B)"] == LLAMA_7B
    assert figure.y.scale == "log" and not figure.illustration
    assert set(figure.sources) <= SOURCE_IDS


def test_the_scaling_chart_is_kaplans_published_fit():
    figure = LESSON.figure("scaling-law")
    assert "Kaplan" in figure.caption and "fitted power law" in figure.caption
    for point in figure.series[0].points:
        assert point.y == pytest.approx((8.8e13 / point.x) ** 0.076, abs=1e-3)


def test_made_up_attention_weights_are_labelled_illustrations_and_cite_no_paper():
    heatmaps = [f for f in LESSON.figures if isinstance(f, m.HeatmapFigure)]
    assert heatmaps
    for figure in heatmaps:
        assert figure.illustration and figure.title.startswith("Illustration")
        assert figure.sources == (), f"{figure.id}: an illustration is not data from a paper"
        for row in figure.values:
            assert sum(row) == pytest.approx(1.0, abs=0.01)


def test_the_papers_are_cited():
    titles = {s.title for s in LESSON.sources}
    for title in ("Attention Is All You Need", "Language Models are Few-Shot Learners",
                  "Language Models are Unsupervised Multitask Learners",
                  "Improving Language Understanding by Generative Pre-Training",
                  "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
                  "Training Compute-Optimal Large Language Models",
                  "Deep Reinforcement Learning from Human Preferences",
                  "Linguistic Regularities in Continuous Space Word Representations",
                  "Transformer Language Models without Positional Encodings Still Learn Positional Information",
                  "LLaMA: Open and Efficient Foundation Language Models"):
        assert title in titles, title
    assert any(t.startswith("BERT") for t in titles)
    years = {s.id: s.year for s in LESSON.sources}
    assert (years["radford2018"], years["raffel2019"], years["hoffmann2022"], years["christiano2017"]) == (
        2018, 2019, 2022, 2017)


def test_every_source_is_cited_somewhere_in_the_lesson():
    text = "\n".join([b.text for _, b in blocks(m.MarkdownBlock)] + [" ".join(r) for _, t in blocks(m.TableBlock)
                                                                    for r in t.rows])
    cited = set(re.findall(r"[a-z]+20\d\d[a-z]?", text))
    cited |= {src for f in LESSON.figures for src in f.sources}
    cited |= {p.source for f in LESSON.figures if isinstance(f, m.ChartFigure) for s in f.series for p in s.points}
    named = {s.id for s in LESSON.sources if s.authors.split(",")[0].replace(" et al.", "").split()[-1] in text}
    assert SOURCE_IDS - cited - named == set()


# --------------------------------------------------------------------------- the quiz


def test_the_quiz_covers_every_section_with_at_least_five_kinds():
    quiz = LESSON.quiz
    assert len(quiz.questions) >= 60
    assert len({q.kind for q in quiz.questions}) >= 5
    taught = {q.section for q in quiz.questions}
    assert taught == {s.id for s in LESSON.sections}
    assert all(q.explanation and q.hint for q in quiz.questions)
