"""Representativeness by in-context performance (paper 002 §3.3): a sample that carries
more about a culture should teach a model more about it. Each cluster centre and its
closest cluster members are given as few-shot conversations, and the model answers a
small validation set of multiple-choice cultural questions; ``r`` is its accuracy.

The validation set is a JSONL file of ``ChoiceItem`` with gold answers; items whose
``culture`` matches the target culture are used (all items when none match). A small
set written for this project ships as ``data/sample/caredio_validation.jsonl``; the
paper drew its sets from CulturalBench. Answers are read from next-token log-
probabilities of the option letters (``LM.label_logprobs``), so no text is parsed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from culturalign.errors import ConfigError
from culturalign.io import read_records
from culturalign.lm.cached import LM
from culturalign.paths import package_data
from culturalign.prompting import split_sections
from culturalign.records import ChoiceItem
from culturalign.records.generation import ChatMessage
from culturalign.records.synth import CulturalSample

SAMPLE_VALIDATION = package_data("data", "sample", "caredio_validation.jsonl")
LETTERS = "ABCDEFGHIJ"
SHOTS = 3


@dataclass
class InContextResult:
    accuracy: np.ndarray  # per centre
    gold_prob: np.ndarray  # mean normalised probability of the gold letter, per centre
    baseline_accuracy: float  # zero-shot, for reference
    items: int
    failed_calls: int


def load_validation(path: str | Path | None, culture: str) -> tuple[list[ChoiceItem], bool]:
    """(items for this culture, whether they matched the culture rather than all items)."""
    items = [i for i in read_records(Path(path or SAMPLE_VALIDATION), ChoiceItem) if i.answer is not None]
    if not items:
        raise ConfigError(f"{path or SAMPLE_VALIDATION}: no multiple-choice items with a gold answer")
    for it in items:
        if len(it.options) > len(LETTERS):
            raise ConfigError(
                f"validation item {it.id} has {len(it.options)} options; at most {len(LETTERS)}"
            )
    mine = [i for i in items if (i.culture or "").casefold() == culture.casefold()]
    return (mine, True) if mine else (items, False)


def _question(item: ChoiceItem) -> tuple[str, str]:
    options = "\n".join(f"{LETTERS[k]}. {opt}" for k, opt in enumerate(item.options))
    return item.question, options


def build_prompt(
    template, culture: str, shots: Sequence[CulturalSample], item: ChoiceItem
) -> list[ChatMessage]:
    sections = split_sections(template)
    question, options = _question(item)
    msgs = []
    if sections.get("system"):
        msgs.append(ChatMessage(role="system", content=sections["system"].format(culture=culture).strip()))
    for ex in shots:
        msgs.append(ChatMessage(role="user", content=ex.question))
        msgs.append(ChatMessage(role="assistant", content=ex.response or ""))
    user = sections["user"].format(culture=culture, question=question, options=options).strip()
    msgs.append(ChatMessage(role="user", content=user))
    return msgs


def incontext_scores(
    lm: LM,
    shot_groups: Sequence[Sequence[CulturalSample]],
    culture: str,
    items: Sequence[ChoiceItem],
    template_dir: str | Path | None = None,
) -> InContextResult:
    """Accuracy on ``items`` with each group of samples as few-shot examples."""
    from culturalign.synth import templates

    template = templates.load("incontext", template_dir)
    groups = [[], *[list(g) for g in shot_groups]]  # group 0: zero-shot baseline
    prompts, golds, widths = [], [], []
    for g in groups:
        for it in items:
            prompts.append(build_prompt(template, culture, g, it))
            golds.append(it.answer)
            widths.append(len(it.options))
    # one call per distinct option count, since the label set is part of the request
    results: list = [None] * len(prompts)
    for width in sorted(set(widths)):
        idx = [i for i, w in enumerate(widths) if w == width]
        out = lm.label_logprobs(
            [prompts[i] for i in idx],
            list(LETTERS[:width]),
            desc=f"in-context representativeness ({culture})",
        )
        for i, r in zip(idx, out, strict=True):
            results[i] = r
    correct = np.zeros(len(prompts))
    gold_prob = np.zeros(len(prompts))
    failed = 0
    for i, res in enumerate(results):
        if not res.ok:
            failed += 1
            continue
        lps = [res.logprobs.get(LETTERS[k]) for k in range(widths[i])]
        vals = np.array([-math.inf if v is None else v for v in lps], dtype=np.float64)
        if not np.isfinite(vals).any():
            failed += 1
            continue
        probs = np.exp(vals - vals.max())
        probs /= probs.sum()
        correct[i] = float(int(np.argmax(vals)) == golds[i])
        gold_prob[i] = probs[golds[i]]
    n = len(items)
    acc = correct.reshape(len(groups), n).mean(axis=1)
    gp = gold_prob.reshape(len(groups), n).mean(axis=1)
    return InContextResult(acc[1:], gp[1:], float(acc[0]), n, failed)
