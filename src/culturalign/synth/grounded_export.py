"""Training data from a grounded evaluation run (paper 003 §4.2).

* DPO (§4.2.1): the knowledge-augmented answer is *chosen*, the model's plain answer
  *rejected*, for the same plain prompt, so the model learns to bring the knowledge
  in by itself. Written as ``PreferencePair`` records (TRL's conversational preference
  format).
* knowledge SFT (§4.2.2, first step): each knowledge record as its short description,
  one ``KnowledgeText`` (TRL's language-modelling format) per record.
* SFT (§4.2.2, second step): the questions whose plain answer has an entailment score below λ
  (0.6 in the paper) get the knowledge-augmented answer as their target. Written as
  ``SFTExample`` records (TRL's conversational prompt-completion format).

Items are skipped, and counted, when an answer is missing, when the two answers are
the same text, or (SFT) when the plain answer has no score: an unknown score is not
below λ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.io import write_records
from culturalign.records import GroundedEvalItem, KnowledgeText, SFTExample
from culturalign.records.generation import ChatMessage
from culturalign.records.knowledge import KnowledgeCounts, KnowledgeItem, describe, ground_all
from culturalign.records.preference import PreferencePair
from culturalign.synth import grounded_prompts as gp

SOURCE = "culturebank-grounded"
DEFAULT_LAMBDA = 0.6


@dataclass
class ExportCounts:
    dpo: int = 0
    sft: int = 0
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)  # "dpo"/"sft" -> why -> count

    def skip(self, kind: str, why: str) -> None:
        reasons = self.skipped.setdefault(kind, {})
        reasons[why] = reasons.get(why, 0) + 1


def _prompt(item: GroundedEvalItem, template_dir: str | Path | None) -> list[ChatMessage]:
    return gp.render_chat(gp.load("answer", template_dir), question=item.question)


def _both_answers(item: GroundedEvalItem, counts: ExportCounts) -> tuple[str, str] | None:
    aug = item.augmented.text if item.augmented is not None else None
    plain = item.plain.text
    if aug is None or not aug.strip():
        counts.skip("dpo", "no knowledge-augmented answer")
        return None
    if plain is None or not plain.strip():
        counts.skip("dpo", "no plain answer")
        return None
    if aug.strip() == plain.strip():
        counts.skip("dpo", "augmented and plain answers are the same")
        return None
    return aug, plain


def dpo_pairs(
    items: Sequence[GroundedEvalItem],
    counts: ExportCounts | None = None,
    template_dir: str | Path | None = None,
) -> list[PreferencePair]:
    counts = counts if counts is not None else ExportCounts()
    out = []
    for item in items:
        answers = _both_answers(item, counts)
        if answers is None:
            continue
        aug, plain = answers
        out.append(
            PreferencePair(
                question_id=item.question_id,
                prompt=_prompt(item, template_dir),
                chosen=[ChatMessage(role="assistant", content=aug)],
                rejected=[ChatMessage(role="assistant", content=plain)],
                culture=item.cultural_group,
                category=item.topic,
                source=SOURCE,
            )
        )
    counts.dpo = len(out)
    return out


def below_lambda(item: GroundedEvalItem, lam: float) -> bool | None:
    """Whether the plain answer's entailment is below λ; None when it has no score. Pure."""
    if item.plain.entailment is None:
        return None
    return item.plain.entailment < lam


def sft_examples(
    items: Sequence[GroundedEvalItem],
    lam: float = DEFAULT_LAMBDA,
    counts: ExportCounts | None = None,
    template_dir: str | Path | None = None,
) -> list[SFTExample]:
    if not 0.0 <= lam <= 1.0:
        raise ConfigError(f"λ (--lambda) must be between 0 and 1, not {lam:g}")
    counts = counts if counts is not None else ExportCounts()
    out = []
    for item in items:
        low = below_lambda(item, lam)
        if low is None:
            counts.skip("sft", "plain answer has no entailment score")
            continue
        if not low:
            counts.skip("sft", f"plain answer already entailed (≥ λ={lam:g})")
            continue
        aug = item.augmented.text if item.augmented is not None else None
        if aug is None or not aug.strip():
            counts.skip("sft", "no knowledge-augmented answer")
            continue
        out.append(
            SFTExample(
                id=item.question_id,
                prompt=_prompt(item, template_dir),
                completion=[ChatMessage(role="assistant", content=aug)],
                entailment=item.plain.entailment,
                culture=item.cultural_group,
                category=item.topic,
                source=SOURCE,
            )
        )
    counts.sft = len(out)
    return out


def export_training_data(
    items: Sequence[GroundedEvalItem],
    *,
    dpo_out: str | Path | None = None,
    sft_out: str | Path | None = None,
    lam: float = DEFAULT_LAMBDA,
    template_dir: str | Path | None = None,
) -> ExportCounts:
    """Write the DPO pairs and/or the λ-filtered SFT examples; returns what was written
    and what was skipped, and why."""
    counts = ExportCounts()
    if dpo_out is not None:
        write_records(Path(dpo_out), dpo_pairs(items, counts, template_dir))
    if sft_out is not None:
        write_records(Path(sft_out), sft_examples(items, lam, counts, template_dir))
    return counts


def knowledge_texts(items: Sequence[KnowledgeItem]) -> tuple[list[KnowledgeText], KnowledgeCounts]:
    """Every knowledge record grounding may use, as the description the prompts see, and
    the counts of the stance rule (``records.knowledge.RULE``): knowledge most sources
    disagree with is given as its negation or left out, never stated as a norm."""
    kept, _, counts = ground_all(items)
    texts = [
        KnowledgeText(
            text=g.text or describe(i), knowledge_id=i.id, culture=i.cultural_group, category=i.topic, source=SOURCE
        )
        for i, g in kept
    ]
    return texts, counts
