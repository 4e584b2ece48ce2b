"""CARE's train/test split: N questions per category per culture for test, the rest for
training (paper 000 §3.2: 30 per category, 150 per culture). CultureBank's train/dev/test
split by counts (paper 003: 10k / 1k / 1k) is ``split_knowledge`` below.

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
from culturalign.records.knowledge import KnowledgeItem

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


# -- CultureBank: train/dev/test by counts (paper 003 §5.1: 10k / 1k / 1k) ------------------

CULTUREBANK_SIZES = (10_000, 1_000, 1_000)


@dataclass
class KnowledgeSplit:
    """Paper 003's split of CultureBank knowledge, with what each cultural group gave."""

    train: list[KnowledgeItem]
    dev: list[KnowledgeItem]
    test: list[KnowledgeItem]
    seed: int
    asked: dict[str, int]
    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    unused: int = 0  # records beyond the train size asked for

    def summary(self) -> dict:
        return {
            "seed": self.seed,
            "asked": self.asked,
            "train": len(self.train),
            "dev": len(self.dev),
            "test": len(self.test),
            "unused": self.unused,
            "groups": self.groups,
        }


def _quotas(sizes: dict[str, int], total: int) -> dict[str, int]:
    """``total`` shared out in proportion to ``sizes`` (largest remainders), never more than a group has."""
    n = sum(sizes.values())
    if n == 0 or total <= 0:
        return dict.fromkeys(sizes, 0)
    exact = {g: total * s / n for g, s in sizes.items()}
    out = {g: min(int(v), sizes[g]) for g, v in exact.items()}
    # the remainder goes to the largest fractional parts; a tie goes to the group with the
    # smaller share so far (a small group keeps a place), then by name for determinism
    for g in sorted(sizes, key=lambda g: (-(exact[g] - int(exact[g])), int(exact[g]), g)):
        if sum(out.values()) >= total:
            break
        if out[g] < sizes[g]:
            out[g] += 1
    return out


def split_knowledge(
    items: Sequence[KnowledgeItem], *, train: int = 10_000, dev: int = 1_000, test: int = 1_000, seed: int = 0
) -> KnowledgeSplit:
    """Test and dev drawn first, then train, each stratified by cultural group.

    Each group gives test and dev in proportion to its size, so small groups stay in every
    part where the counts allow; within a group the draw depends only on the seed and the
    records' ids, never on file order. When fewer records remain than ``train`` asks for,
    train takes all of them; when more remain, the rest are counted as unused.
    """
    for name, value in (("--train", train), ("--dev", dev), ("--test", test)):
        if value < 0:
            raise ConfigError(f"{name} must be 0 or more, not {value}")
    if dev + test > len(items):
        raise ConfigError(
            f"--dev {dev} and --test {test} ask for {dev + test} records; the file holds {len(items)}"
        )
    by_group: dict[str, list[KnowledgeItem]] = defaultdict(list)
    for item in items:
        by_group[item.cultural_group or ""].append(item)
    shuffled = {}
    for group, members in sorted(by_group.items()):
        members = sorted(members, key=lambda i: i.id)
        random.Random(f"{seed}|{group}").shuffle(members)
        shuffled[group] = members
    sizes = {g: len(m) for g, m in shuffled.items()}
    test_q = _quotas(sizes, test)
    left = {g: sizes[g] - test_q[g] for g in sizes}
    dev_q = _quotas(left, dev)
    left = {g: left[g] - dev_q[g] for g in sizes}
    train_q = _quotas(left, min(train, sum(left.values())))
    parts: dict[str, list[KnowledgeItem]] = {"train": [], "dev": [], "test": []}
    report: dict[str, dict[str, int]] = {}
    for g, members in shuffled.items():
        a, b = test_q[g], test_q[g] + dev_q[g]
        parts["test"] += members[:a]
        parts["dev"] += members[a:b]
        parts["train"] += members[b : b + train_q[g]]
        report[g or "(no group)"] = {
            "records": sizes[g],
            "train": train_q[g],
            "dev": dev_q[g],
            "test": test_q[g],
        }
    unused = len(items) - sum(len(p) for p in parts.values())
    asked = {"train": train, "dev": dev, "test": test}
    return KnowledgeSplit(parts["train"], parts["dev"], parts["test"], seed, asked, report, unused)
