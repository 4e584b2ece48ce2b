"""What selection reads: synthesized samples, earlier picks, or human data.

Everything becomes ``CulturalSample`` records. Human data rarely has other cultures'
answers to the same question, so distinctiveness falls back to what it does have
(paper 002 §7 suggests the selection extends to manually curated data):

* CARE-style preference pairs (``PreferencePair``): the chosen answer is the target
  culture's, the rejected answers of the same prompt go to ``rejected``, and ``d`` is
  measured against them (``d_method = "rejected"``);
* CARE-style questions (``CulturalQuestion``): the human reference answer is the target
  answer and the rated model responses are ``rejected``; without a reference, the
  best-rated response is the target answer and those rated below it are ``rejected``;
* anything else a ``culturalign.datasets`` loader reads into those two records.
"""

from __future__ import annotations

from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.io import iter_jsonl, read_records
from culturalign.records import CulturalQuestion, PreferencePair
from culturalign.records.synth import CulturalSample, SelectionPick


def _keys(path: Path) -> set[str]:
    for _, obj in iter_jsonl(path):
        return set(obj)
    return set()


def load_selection_input(
    path: str | Path, fmt: str | None = None, culture: str | None = None
) -> tuple[list[CulturalSample], str]:
    """(samples, kind) where kind names what the file held."""
    path = Path(path)
    if fmt is None and path.suffix.lower() == ".jsonl":
        keys = _keys(path)
        if {"rank", "sample", "s"} <= keys:
            return [p.sample for p in read_records(path, SelectionPick)], "picks"
        if {"target_culture", "question"} <= keys:
            return read_records(path, CulturalSample), "samples"
        if {"prompt", "chosen", "rejected"} <= keys:
            return from_pairs(read_records(path, PreferencePair), culture, str(path)), "preference pairs"
        if {"text", "culture", "language"} <= keys:
            return from_questions(read_records(path, CulturalQuestion), culture), "questions"
    from culturalign.datasets import load_any

    name, records = load_any(path, fmt)
    pairs = [r for r in records if isinstance(r, PreferencePair)]
    questions = [r for r in records if isinstance(r, CulturalQuestion)]
    if pairs:
        return from_pairs(pairs, culture, str(path)), f"{name} preference pairs"
    if questions:
        return from_questions(questions, culture), f"{name} questions"
    raise ConfigError(
        f"{path}: selection needs samples, preference pairs or questions with answers; "
        f"the {name} loader gave {type(records[0]).__name__ if records else 'nothing'}"
    )


def _text(messages) -> str:
    return "\n".join(m.content for m in messages if m.role != "system").strip()


def from_pairs(pairs: list[PreferencePair], culture: str | None, where: str = "") -> list[CulturalSample]:
    """One sample per (prompt, chosen answer); its rejected answers gathered from all pairs."""
    groups: dict[tuple[str, str], CulturalSample] = {}
    per_question: dict[str, int] = {}
    for p in pairs:
        target = p.culture or culture
        if not target:
            raise ConfigError(
                f"{where}: pair {p.question_id} names no culture; pass --culture to say whose answers these are"
            )
        question = next((m.content for m in reversed(p.prompt) if m.role == "user"), "").strip()
        chosen, rejected = _text(p.chosen), _text(p.rejected)
        key = (p.question_id, chosen)
        if key not in groups:
            per_question[p.question_id] = per_question.get(p.question_id, 0) + 1
            groups[key] = CulturalSample(
                id=f"{p.question_id}#{per_question[p.question_id]}",
                question=question or p.question_id,
                target_culture=target,
                response=chosen,
                question_id=p.question_id,
                source=p.source or "preference-pairs",
            )
        if rejected and rejected not in groups[key].rejected:
            groups[key].rejected.append(rejected)
    return list(groups.values())


def from_questions(questions: list[CulturalQuestion], culture: str | None) -> list[CulturalSample]:
    out = []
    for q in questions:
        rated = [r for r in q.responses if r.rating is not None and not r.not_an_answer]
        best = max(rated, key=lambda r: r.rating or 0, default=None)
        answer = q.reference_answer or (best.text if best else None)
        if not answer:
            continue  # nothing to train on
        top = best.rating if best and not q.reference_answer else None
        rejected = [
            r.text
            for r in sorted(rated, key=lambda r: -(r.rating or 0))
            if r.text != answer and (top is None or (r.rating or 0) < top)
        ]
        out.append(
            CulturalSample(
                id=q.id,
                question=q.text,
                target_culture=culture or q.culture,
                response=answer,
                rejected=list(dict.fromkeys(rejected)),
                question_id=q.id,
                topic=q.category.value if q.category else None,
                source=q.source or "questions",
            )
        )
    return out
