"""Lesson 3's quiz as a teacher reads it: it asks students to compute, predict and reason
(not only to recall), covers every section, explains every wrong choice, and no hint gives
the answer away.

Which questions compute, predict or reason is a judgement, so it is recorded here, beside
the checks that depend on it, rather than in the quiz format: the YAML stays as the loader
accepts it. A question added to the quiz is counted as recall until it is listed here.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from course.loader import load_course
from course.paths import builtin_root
from course.quiz.variants import format_number, instantiate

LESSON = load_course(builtin_root()).lesson("lesson-3")
QUIZ = LESSON.quiz
QUESTIONS = {q.id: q for q in QUIZ.questions}
SEEDS = range(40)

# The questions that ask the student to compute, predict or reason (apply the lesson to a case
# it does not spell out), by section. Everything else is recall.
COMPUTE_PREDICT_REASON = {
    "introduction": ["published-count-conflict", "gpt4-size-claim"],
    "history": ["gpt1-vs-bert", "word2vec-bank", "seq2seq-bottleneck", "t5-text-to-text"],
    "applications": ["task-for-scenario", "unsupported-claim", "plausible-answer"],
    "attention": ["attention-by-hand", "attention-2x2-weights", "no-scaling-effect", "dot-product-spread",
                  "causal-zero-count", "fully-masked-row", "stable-softmax", "softmax-large-logits",
                  "score-matrix-size"],
    "transformer": ["attention-block-params", "ffn-params", "shuffle-bidirectional", "shuffle-causal",
                    "post-ln-warmup", "pre-ln-final-norm", "train-vs-generate", "shifted-targets",
                    "kv-cache-bytes", "kv-cache-why"],
    "characteristics": ["gpt3-width-from-count", "gpt2-count-from-config", "rough-param-count", "gpt3-estimate",
                        "llama-ffn-ratio", "llama-conventions", "kaplan-loss", "kaplan-doubling",
                        "chinchilla-tokens", "training-flops", "compute-optimal-size", "chinchilla-vs-gopher",
                        "attention-memory", "context-length-limit"],
    "capabilities": ["few-shot-budget", "fine-tune-vs-icl", "prompt-setting-matching"],
    "further-reading": ["verify-claim-source", "which-source-gpt2-count", "unsupported-in-summary"],
}
REASONING = [qid for ids in COMPUTE_PREDICT_REASON.values() for qid in ids]

# Topics the quiz must ask about, each with the questions that do.
REQUIRED_TOPICS = {
    "a plausible answer is not necessarily correct": ["plausible-answer", "unsupported-claim"],
    "context length": ["context-length-limit", "few-shot-budget", "attention-memory"],
    "training on shifted targets versus generating one token at a time": ["train-vs-generate", "shifted-targets"],
    "pre-LN versus post-LN": ["post-ln-warmup", "pre-ln-final-norm", "ln-placement-matching"],
    "the properties of positional encodings": ["positional-properties", "shuffle-bidirectional", "shuffle-causal"],
    "the seq2seq bottleneck": ["seq2seq-bottleneck"],
    "a 2x2 attention output by hand": ["attention-by-hand", "attention-2x2-weights"],
    "the effect of dropping sqrt(d_k)": ["no-scaling-effect"],
    "GPT-2 small's count from its configuration": ["gpt2-count-from-config"],
    "attention memory at 2k versus 4k tokens": ["attention-memory"],
    "Chinchilla's compute-optimal tokens": ["chinchilla-tokens", "compute-optimal-size"],
    "the bytes of a KV cache": ["kv-cache-bytes"],
    "training FLOPs = 6ND": ["training-flops"],
    "spotting an unsupported claim in a summary": ["unsupported-claim", "unsupported-in-summary"],
}


def normalized(text: str) -> str:
    """Lower case, typographic quotes and dashes made plain, punctuation and runs of spaces folded."""
    text = text.lower().replace("’", "'").replace("“", '"').replace("”", '"').replace("−", "-")
    text = re.sub(r"[^\w\s'+-]", " ", text)
    return " ".join(text.split())


def contains(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack` as whole words, ignoring case and punctuation."""
    needle = normalized(needle)
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", normalized(haystack)) is not None


NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(match.replace(",", "")) for match in NUMBER.findall(text)]


# --------------------------------------------------------------------------- size and balance


def test_the_quiz_has_at_least_sixty_questions():
    assert len(QUIZ.questions) >= 60


def test_at_least_half_of_the_questions_compute_predict_or_reason():
    assert len(REASONING) == len(set(REASONING)), "a question is listed twice"
    assert 2 * len(REASONING) >= len(QUIZ.questions), f"{len(REASONING)} of {len(QUIZ.questions)}"


def test_every_listed_question_exists_in_the_section_it_is_listed_under():
    for section, ids in COMPUTE_PREDICT_REASON.items():
        for qid in ids:
            assert qid in QUESTIONS, f"{qid} is listed but not in the quiz"
            assert QUESTIONS[qid].section == section, f"{qid} is in section {QUESTIONS[qid].section}"


def test_every_section_has_at_least_three_questions():
    per_section = Counter(q.section for q in QUIZ.questions)
    for section in LESSON.sections:
        assert per_section[section.id] >= 3, f"section {section.id} has {per_section[section.id]} question(s)"


def test_every_section_has_a_question_that_asks_for_more_than_recall():
    assert set(COMPUTE_PREDICT_REASON) == {s.id for s in LESSON.sections}
    assert all(COMPUTE_PREDICT_REASON.values())


@pytest.mark.parametrize("topic", sorted(REQUIRED_TOPICS))
def test_each_required_topic_is_asked(topic):
    missing = [qid for qid in REQUIRED_TOPICS[topic] if qid not in QUESTIONS]
    assert missing == [], f"{topic}: {missing}"


def test_every_question_kind_of_the_format_is_used():
    assert {q.kind for q in QUIZ.questions} == {"single", "multiple", "true_false", "numeric", "ordering",
                                                 "matching", "text"}


# --------------------------------------------------------------------------- feedback


@pytest.mark.parametrize("question", [q for q in QUIZ.questions if q.kind in ("single", "multiple")],
                         ids=lambda q: q.id)
def test_every_wrong_choice_explains_why_it_is_wrong(question):
    assert [c.text for c in question.choices if not c.correct and not c.explanation.strip()] == []


# --------------------------------------------------------------------------- hints


@pytest.mark.parametrize("question", QUIZ.questions, ids=lambda q: q.id)
def test_no_hint_gives_the_answer_away(question):
    hint = question.hint
    if question.kind in ("single", "multiple"):
        for choice in question.choices:
            if choice.correct:
                assert not contains(hint, choice.text), f"the hint contains the answer {choice.text!r}"
    elif question.kind == "text":
        for accepted in question.accept:
            assert not contains(hint, accepted), f"the hint contains the accepted answer {accepted!r}"
    elif question.kind == "numeric":
        hinted = numbers_in(hint)
        tolerance = question.tolerance
        for seed in SEEDS:
            answer = instantiate(question, seed).answer
            allowed = max(tolerance.absolute, tolerance.relative * abs(answer), 1e-9 * abs(answer))
            given = [x for x in hinted if abs(x - answer) <= allowed]
            assert given == [], f"seed {seed}: the hint contains the answer {format_number(answer)}"
    elif question.kind == "true_false":
        assert not re.search(r"\b(true|false)\b", hint, re.I), "the hint names a truth value"
    elif question.kind == "ordering":
        found = [item for item in question.items if contains(hint, item)]
        assert len(found) < 3, f"the hint names {found}, giving away part of the order"
    elif question.kind == "matching":
        both = [p for p in question.pairs if contains(hint, p.left) and contains(hint, p.right)]
        assert both == [], f"the hint pairs {[(p.left, p.right) for p in both]}"


def test_the_hint_check_catches_what_it_should():
    assert contains("It is a residual connection.", "residual connection")
    assert not contains("Think of what remains.", "residual")
    assert contains("So the result is 0.75 · v.", "0.75")
    assert not contains("lstms are recurrent", "lstm")  # whole words only
    assert numbers_in("about 1,024 tokens, or 0.5 of them, and 12,288² = 150,994,944") == [1024, 0.5, 12288, 150994944]


# --------------------------------------------------------------------------- rendered prompts


NUMERIC_WITH_PARAMETERS = [q for q in QUIZ.questions if q.kind == "numeric" and q.parameters]


@pytest.mark.parametrize("question", NUMERIC_WITH_PARAMETERS, ids=lambda q: q.id)
def test_no_drawn_value_makes_a_prompt_ungrammatical_or_hard_to_read(question):
    follows = dict(re.findall(r"\{(\w+)\} ([A-Za-z]+)", question.prompt))  # parameter -> the word after it
    for seed in SEEDS:
        instance = instantiate(question, seed)
        for name, word in follows.items():
            if instance.values[name] == 1:
                assert not word.endswith("s"), f"seed {seed}: '1 {word}'"
        assert not re.search(r"\d{5,}", instance.prompt), f"seed {seed}: digits without separators: {instance.prompt}"
        assert "{" not in instance.prompt


def test_fixed_prompts_and_choices_write_large_numbers_with_separators():
    for question in QUIZ.questions:
        texts = [question.prompt, *(c.text for c in question.choices)]
        for text in texts:
            assert not re.search(r"(?<![\w.^])\d{5,}", text), f"{question.id}: {text}"
