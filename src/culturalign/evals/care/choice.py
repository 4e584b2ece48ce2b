"""CARE without a judge: does the model find the human reference answer among others?

CARE's questions come with a reference answer written by a native speaker (paper 000
§3). This evaluation turns each question into a multiple-choice item: its own reference
against ``k`` references of *other* questions, and reads the model's choice from its
log-probabilities, the way ``eval mcq --mode text`` reads full-text options
(lm-evaluation-harness's ``acc_norm``: the option with the highest log-likelihood per
character wins). No judge is called, so the number means the same thing on every local
backend and cannot be moved by a weak judge.

How distractors are drawn, deterministically (a SHA-256 of seed, question id and
candidate id ranks the candidates, so the same data always gives the same items):

1. references of questions of the same culture **and** category (``pool:
   same-category``) — the hard case the issue asks for: a Chinese norms answer against
   other Chinese norms answers;
2. when that pool holds fewer than ``k``, the rest from the same culture's other
   categories (``pool: same-culture``);
3. an item left with no distractor at all is not asked and is counted.

Every item records its pool and its number of options; chance is the mean of
``1 / options`` over the items asked (``1 / (k + 1)`` when every item is full). The
correct answer's position is drawn by the same hash, so ties (which ``argmax`` breaks
towards the first option) favour no position.

With ``lang="en"`` each question needs both an English question and an English
reference; a run never silently mixes languages (``MissingTranslation``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.records.question import Category, CulturalQuestion

DEFAULT_K = 3
POOLS = ("same-category", "same-culture")


class MissingTranslation(ConfigError):
    """English was asked for but some questions have no English question or reference."""


@dataclass(frozen=True)
class ReferenceChoiceItem:
    """One question as multiple choice over reference answers."""

    id: str
    culture: str
    category: str | None
    question: str
    options: tuple[str, ...]
    answer: int
    pool: str
    distractor_ids: tuple[str, ...]

    @property
    def chance(self) -> float:
        return 1.0 / len(self.options)


def _rank(seed: int, *parts: str) -> str:
    return hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).hexdigest()


def _texts(q: CulturalQuestion, lang: str) -> tuple[str, str | None]:
    if lang == "en":
        return (q.text_en or ""), q.reference_answer_en
    return q.text, q.reference_answer


def check_language(questions: Sequence[CulturalQuestion], lang: str) -> None:
    """Refuse English when some questions lack an English question or reference."""
    if lang != "en":
        return
    missing = [q.id for q in questions if not (q.text_en and q.reference_answer_en)]
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise MissingTranslation(
            f"{len(missing)} of {len(questions)} questions have no English question or reference "
            f"answer (e.g. {shown}); drop --lang en to use the original language"
        )


def build_items(
    questions: Sequence[CulturalQuestion], *, k: int = DEFAULT_K, lang: str = "native", seed: int = 0
) -> tuple[list[ReferenceChoiceItem], dict[str, int]]:
    """The multiple-choice items and the counts of questions left out (and why)."""
    if k < 1:
        raise ConfigError(f"k must be at least 1 (got {k})")
    check_language(questions, lang)
    usable: list[tuple[CulturalQuestion, str, str]] = []
    left_out = {"no_reference": 0, "no_distractor": 0}
    for q in questions:
        text, ref = _texts(q, lang)
        if not ref or not ref.strip():
            left_out["no_reference"] += 1
            continue
        usable.append((q, text, ref.strip()))
    by_cell: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    by_culture: dict[str, list[int]] = defaultdict(list)
    for i, (q, _, _) in enumerate(usable):
        cat = q.category.value if q.category else None
        by_cell[(q.culture, cat)].append(i)
        by_culture[q.culture].append(i)
    items: list[ReferenceChoiceItem] = []
    for i, (q, text, ref) in enumerate(usable):
        cat = q.category.value if q.category else None
        same_cat = [j for j in by_cell[(q.culture, cat)] if j != i and usable[j][2] != ref]
        chosen = sorted(same_cat, key=lambda j: _rank(seed, q.id, usable[j][0].id))[:k]
        pool = "same-category"
        if len(chosen) < k:
            rest = [j for j in by_culture[q.culture] if j != i and j not in same_cat and usable[j][2] != ref]
            extra = sorted(rest, key=lambda j: _rank(seed, q.id, usable[j][0].id))[: k - len(chosen)]
            if extra:
                pool = "same-culture"
            chosen += extra
        if not chosen:
            left_out["no_distractor"] += 1
            continue
        texts = [ref, *(usable[j][2] for j in chosen)]
        order = sorted(range(len(texts)), key=lambda t: _rank(seed, q.id, "order", texts[t]))
        items.append(
            ReferenceChoiceItem(
                id=q.id,
                culture=q.culture,
                category=cat,
                question=text,
                options=tuple(texts[t] for t in order),
                answer=order.index(0),
                pool=pool,
                distractor_ids=tuple(usable[j][0].id for j in chosen),
            )
        )
    return items, left_out


def _category_label(value: str | None) -> str:
    if value is None:
        return "Uncat."
    try:
        return Category(value).label
    except ValueError:
        return value


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy (length-normalised, the headline; and by summed log-probability) per
    culture x category, per culture and overall, each with its Wilson interval and n."""
    from culturalign.uncertainty import proportion_interval

    scored = [r for r in records if r.get("correct_norm") is not None]

    def cell(rs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        block = proportion_interval(sum(1 for r in rs if r["correct_norm"]), len(rs))
        block["accuracy_sum"] = proportion_interval(sum(1 for r in rs if r["correct"]), len(rs))["accuracy"]
        block["chance"] = round(sum(r["chance"] for r in rs) / len(rs), 6) if rs else None
        return block

    cultures: dict[str, dict[str, Any]] = {}
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in scored:
        grouped[r["culture"]][_category_label(r.get("category"))].append(r)
    order = [c.label for c in Category] + ["Uncat."]
    for culture, cats in grouped.items():
        everything = [r for rs in cats.values() for r in rs]
        cultures[culture] = {
            "average": cell(everything),
            "categories": {
                c: cell(cats[c]) for c in sorted(cats, key=lambda c: order.index(c) if c in order else 99)
            },
        }
    pools: dict[str, int] = defaultdict(int)
    for r in records:
        pools[r["pool"]] += 1
    return {
        "benchmark": "care-choice",
        "metric": "accuracy of the reference answer under log-likelihood per character (acc_norm)",
        "questions": len(scored),
        "failed": len(records) - len(scored),
        "overall": cell(scored),
        "cultures": cultures,
        "pools": dict(pools),
    }


def _cell_text(block: dict[str, Any] | None) -> str:
    if not block or block.get("accuracy") is None:
        return "–"
    if block.get("ci_low") is None:
        return f"{block['accuracy']:.2f} (n={block['n']}, too few)"
    return f"{block['accuracy']:.2f} [{block['ci_low']:.2f}, {block['ci_high']:.2f}] n={block['n']}"


def table(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """CARE Table 1's layout: cultures as rows, the five categories and Average as columns."""
    cats = [c.label for c in Category]
    if any("Uncat." in b["categories"] for b in summary["cultures"].values()):
        cats.append("Uncat.")
    headers = ["culture", *cats, "Average", "chance"]
    rows = []
    for culture, block in summary["cultures"].items():
        rows.append(
            [
                culture,
                *[_cell_text(block["categories"].get(c)) for c in cats],
                _cell_text(block["average"]),
                block["average"].get("chance"),
            ]
        )
    rows.append(["all", *["" for _ in cats], _cell_text(summary["overall"]), summary["overall"].get("chance")])
    return headers, rows


def run_care_choice(
    lm: Any,
    questions: Sequence[CulturalQuestion],
    out_dir: str | Path,
    *,
    k: int = DEFAULT_K,
    lang: str = "native",
    seed: int = 0,
    chat: bool = True,
    template_dir: str | Path | None = None,
    data_path: str | Path | None = None,
) -> dict[str, Any]:
    """Score every question's reference against ``k`` others; write the run folder
    (``items.jsonl``, ``summary.json``, ``table.md``/``.csv``, ``run.json``)."""
    from culturalign.evals.choice.prompts import ChoicePrompts
    from culturalign.evals.choice.run import ChoiceRun
    from culturalign.evals.choice.scoring import score_texts

    items, left_out = build_items(questions, k=k, lang=lang, seed=seed)
    prompts = ChoicePrompts(template_dir, chat)
    run = ChoiceRun(
        out_dir,
        "eval-care-choice",
        lm,
        {"questions": len(items), "k": k, "lang": lang, "seed": seed, "chat": chat, "left_out": left_out},
    )
    run.add_data(data_path)
    try:
        scored = score_texts(
            lm,
            [prompts.prompt("mcq_text", raw_suffix="", question=it.question) for it in items],
            [list(it.options) for it in items],
            desc="CARE reference choice",
        )
        records = []
        for it, s in zip(items, scored, strict=True):
            rec: dict[str, Any] = {
                "id": it.id,
                "culture": it.culture,
                "category": it.category,
                "question": it.question,
                "options": list(it.options),
                "answer": it.answer,
                "pool": it.pool,
                "distractor_ids": list(it.distractor_ids),
                "chance": round(it.chance, 6),
                **s.as_record(),
                "correct": None if s.choice is None else s.choice == it.answer,
                "correct_norm": None if s.choice_norm is None else s.choice_norm == it.answer,
            }
            run.write_item(rec)
            records.append(rec)
    except BaseException:
        run.abort()
        raise
    summary = summarise(records)
    summary.update(k=k, lang=lang, left_out=left_out)
    notes = []
    if left_out["no_reference"] or left_out["no_distractor"]:
        notes.append(
            f"Left out: {left_out['no_reference']} questions without a reference answer, "
            f"{left_out['no_distractor']} with no other reference of the same culture to compare with."
        )
    if summary["pools"].get("same-culture"):
        notes.append(
            f"{summary['pools']['same-culture']} items had fewer than {k} other references of their "
            "category; the rest came from the same culture's other categories."
        )
    headers, rows = table(summary)
    return run.finish(
        summary,
        headers,
        rows,
        prompts=prompts.shas,
        notes=notes,
        title=f"CARE reference choice (judge-free, k={k}, chance {summary['overall'].get('chance')})",
    )


def item_scores(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Per-item 1/0 correctness keyed by id: the input of a paired before/after interval."""
    return {r["id"]: float(bool(r["correct_norm"])) for r in records if r.get("correct_norm") is not None}
