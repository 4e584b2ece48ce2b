"""The held-out split and the rows TRL reads, for every kind of training record.

Kept apart from the loaders (``train.data``) so both the loaders and the studies can use
them without reading any file format.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from culturalign.records import ChatMessage, KnowledgeText, PreferencePair, SFTExample, UnpairedExample

TrainRecord = PreferencePair | UnpairedExample | SFTExample | KnowledgeText


def split_heldout(
    items: Sequence[Any], *, fraction: float, min_n: int, max_n: int, seed: int
) -> tuple[list[Any], list[Any]]:
    """(train, held-out), grouped by question so no prompt sits on both sides.

    Holds out ``fraction`` of the questions, at least ``min_n`` and at most ``max_n``
    items, and never more than a third of the data.
    """
    if fraction <= 0 or not items:
        return list(items), []
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        key = item.question_id if hasattr(item, "question_id") else str(i)
        key = key + "|" + json.dumps([m.content for m in item.prompt], ensure_ascii=False)
        groups.setdefault(key, []).append(i)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    target = max(min_n, round(fraction * len(items)))
    target = min(target, max_n, len(items) // 3)
    held: list[int] = []
    for key in keys:
        if len(held) >= target:
            break
        held.extend(groups[key])
    held_set = set(held)
    return [x for i, x in enumerate(items) if i not in held_set], [items[i] for i in sorted(held_set)]


def _msgs(messages: list[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def trl_rows(records: Sequence[TrainRecord]) -> list[dict[str, Any]]:
    """Only the columns TRL reads, as plain message lists (plain text as TRL's ``text``
    language-modelling column: continued pre-training on knowledge paragraphs)."""
    out: list[dict[str, Any]] = []
    for r in records:
        if isinstance(r, KnowledgeText):
            out.append({"text": r.text})
        elif isinstance(r, PreferencePair):
            out.append({"prompt": _msgs(r.prompt), "chosen": _msgs(r.chosen), "rejected": _msgs(r.rejected)})
        elif isinstance(r, UnpairedExample):
            out.append({"prompt": _msgs(r.prompt), "completion": _msgs(r.completion), "label": r.label})
        else:
            out.append({"prompt": _msgs(r.prompt), "completion": _msgs(r.completion)})
    return out


def to_dataset(records: Sequence[TrainRecord]):
    from datasets import Dataset

    return Dataset.from_list(trl_rows(records))
