"""Training data from selected samples (paper 002 §3.4): SFT rows, and DPO pairs in which
the target culture's answer is chosen and another culture's answer to the same question
is rejected (the paper notes such dispreferred answers come for free). Human samples
use their own rejected answers. Rows are in TRL's conversational formats, ready for
``culturalign train``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from culturalign.io import iter_jsonl, read_records, write_records
from culturalign.records import CulturalSample, PreferencePair, SelectionPick, SFTExample
from culturalign.records.generation import ChatMessage


def load_for_export(path: str | Path) -> list[CulturalSample]:
    """Samples from a picks file (in rank order), a samples file or a hub dataset of
    either (``hf:OWNER/NAME``); unusable ones dropped."""
    from culturalign.datasets import hub

    if hub.is_hub_spec(str(path)):
        return _hub_samples(str(path))
    path = Path(path)
    keys: set[str] = set()
    for _, obj in iter_jsonl(path):
        keys = set(obj)
        break
    if {"rank", "sample"} <= keys:
        picks = read_records(path, SelectionPick)
        return [p.sample for p in picks if p.sample.ok]
    return [s for s in read_records(path, CulturalSample) if s.ok]


def _hub_samples(spec: str) -> list[CulturalSample]:
    """Hub rows validated like JSONL lines, bad ones reported by row."""
    from culturalign.datasets import hub, jsonl
    from culturalign.datasets.rows import Row, drop_nested_nones
    from culturalign.errors import DataError, Problem, Problems

    rows = [Row(loc, drop_nested_nones(r)) for loc, r in hub.load_rows(spec)]
    if not rows:
        raise DataError([Problem(spec, None, None, "the dataset holds no rows")])
    if {"rank", "sample"} <= set(rows[0].data):
        return [p.sample for p in jsonl.validate_rows(rows, SelectionPick, Problems(spec)) if p.sample.ok]
    return [s for s in jsonl.validate_rows(rows, CulturalSample, Problems(spec)) if s.ok]


def _prompt(s: CulturalSample, system: str | None) -> list[ChatMessage]:
    msgs = [ChatMessage(role="system", content=system.format(culture=s.target_culture))] if system else []
    return [*msgs, ChatMessage(role="user", content=s.question)]


def to_sft(samples: Sequence[CulturalSample], system: str | None = None) -> list[SFTExample]:
    """One prompt-completion row per sample. ``system`` (optional, may hold ``{culture}``)
    is added as a system turn; by default the model learns the culture without being told."""
    return [
        SFTExample(
            id=s.id,
            prompt=_prompt(s, system),
            completion=[ChatMessage(role="assistant", content=s.response or "")],
            culture=s.target_culture,
            source=s.source or "caredio",
        )
        for s in samples
    ]


def to_dpo(
    samples: Sequence[CulturalSample],
    *,
    pairs_per_sample: int | None = None,
    seed: int = 0,
    system: str | None = None,
) -> list[PreferencePair]:
    """Chosen: the target culture's answer. Rejected: each other culture's answer (in
    culture order) and each human-rejected answer; ``pairs_per_sample`` draws that many
    with a generator seeded per sample."""
    out: list[PreferencePair] = []
    for s in samples:
        rejected = [(c, t) for c, t in sorted(s.other_responses.items()) if t and t.strip()]
        rejected += [(None, t) for t in s.rejected if t.strip()]
        rejected = [(c, t) for c, t in rejected if t.strip() != (s.response or "").strip()]
        if pairs_per_sample is not None and len(rejected) > pairs_per_sample:
            rng = random.Random(f"{seed}:{s.id}")
            keep = sorted(rng.sample(range(len(rejected)), pairs_per_sample))
            rejected = [rejected[k] for k in keep]
        for other, text in rejected:
            out.append(
                PreferencePair(
                    question_id=s.id,
                    prompt=_prompt(s, system),
                    chosen=[ChatMessage(role="assistant", content=s.response or "")],
                    rejected=[ChatMessage(role="assistant", content=text)],
                    culture=s.target_culture,
                    category=s.topic,
                    source=f"caredio:rejected={other}" if other else (s.source or "human"),
                )
            )
    return out


def export(
    samples: Sequence[CulturalSample],
    *,
    sft: str | Path | None = None,
    dpo: str | Path | None = None,
    pairs_per_sample: int | None = None,
    seed: int = 0,
    system: str | None = None,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    if sft is not None:
        counts["sft"] = write_records(Path(sft), to_sft(samples, system))
    if dpo is not None:
        counts["dpo"] = write_records(
            Path(dpo), to_dpo(samples, pairs_per_sample=pairs_per_sample, seed=seed, system=system)
        )
    return counts
