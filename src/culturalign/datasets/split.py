"""CARE's train/test split: N questions per category per culture for test, the rest for
training (paper 000 §3.2: 30 per category, 150 per culture).

Stratified by (culture, category); within a cell the draw depends only on the seed and
the cell's question ids, so the same input and seed give the same split whatever the
file order. Only questions about the native culture (or with no associated culture) are
drawn for test, as CARE's culture-specific test sets are; questions about foreign or
no particular culture, and questions without a category, all go to training. A cell
with fewer than N eligible questions gives all of them to test and is reported.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from culturalign.errors import ConfigError
from culturalign.records import AssociatedCulture, CulturalQuestion

ELIGIBLE = ("native", "all")


@dataclass
class SplitResult:
    test: list[CulturalQuestion]
    train: list[CulturalQuestion]
    seed: int
    per_category: int
    cells: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    short_cells: list[str] = field(default_factory=list)
    repeated_in_test: int = 0  # copies of test questions (same text, other id) kept out of train

    def summary(self) -> dict:
        return {
            "seed": self.seed,
            "per_category": self.per_category,
            "test": len(self.test),
            "train": len(self.train),
            "cells": self.cells,
            "short_cells": self.short_cells,
            "repeated_in_test": self.repeated_in_test,
        }


def split_questions(
    questions: Sequence[CulturalQuestion], *, per_category: int, seed: int = 0, eligible: str = "native"
) -> SplitResult:
    if per_category < 1:
        raise ConfigError(f"--per-category must be at least 1, not {per_category}")
    if eligible not in ELIGIBLE:
        raise ConfigError(f"--eligible must be one of {', '.join(ELIGIBLE)}, not {eligible!r}")
    cells: dict[tuple[str, str], list[CulturalQuestion]] = defaultdict(list)
    for q in questions:
        if q.category is None:
            continue
        if eligible == "native" and q.associated_culture not in (None, AssociatedCulture.NATIVE):
            continue
        cells[(q.culture, q.category.value)].append(q)
    test_ids: set[str] = set()
    report: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    short: list[str] = []
    for (culture, category), members in sorted(cells.items()):
        members = sorted(members, key=lambda q: q.id)
        rng = random.Random(f"{seed}|{culture}|{category}")
        chosen = members if len(members) <= per_category else rng.sample(members, per_category)
        test_ids.update(q.id for q in chosen)
        report[culture][category] = {"eligible": len(members), "test": len(chosen)}
        if len(members) < per_category:
            short.append(f"{culture} × {category}: {len(members)} eligible, fewer than {per_category}")
    # a question repeated under another id is the same question: keep it out of training
    test_texts = {_norm(q.text) for q in questions if q.id in test_ids}
    test = [q for q in questions if q.id in test_ids or _norm(q.text) in test_texts]
    train = [q for q in questions if q.id not in test_ids and _norm(q.text) not in test_texts]
    result = SplitResult(test, train, seed, per_category, dict(report), short)
    result.repeated_in_test = len(test) - len(test_ids)
    return result


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()
