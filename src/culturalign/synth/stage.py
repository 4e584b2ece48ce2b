"""What the three synthesis stages share: reading their inputs, retry settings, and the
run log each stage writes beside its output (``OUT.run.json``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.io import iter_jsonl, read_records, write_json
from culturalign.records.generation import GenerationParams
from culturalign.records.synth import AdaptedQuestion, SynthQuestion
from culturalign.runlog import RunLog

DEFAULT_CULTURES = ("United Kingdom", "China", "South Korea", "India", "Singapore")  # paper 002 §4.3


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _first_keys(path: Path) -> set[str]:
    for _, obj in iter_jsonl(path):
        return set(obj)
    return set()


def read_questions(path: str | Path) -> list[SynthQuestion]:
    """General questions: ``SynthQuestion`` rows (``id`` and ``text`` suffice), or CARE-style
    ``CulturalQuestion`` rows, whose English text is used where they have one."""
    path = Path(path)
    keys = _first_keys(path)
    if {"language", "culture"} <= keys:
        from culturalign.records import CulturalQuestion

        return [
            SynthQuestion(id=q.id, text=q.text_en or q.text, source=q.source or "user")
            for q in read_records(path, CulturalQuestion)
        ]
    return read_records(path, SynthQuestion)


def read_adapted(path: str | Path, targets: list[str] | None) -> tuple[list[AdaptedQuestion], int]:
    """Questions to answer: adapted ones (failed adaptations skipped and counted), or general
    questions paired with each of ``targets``."""
    path = Path(path)
    if "general_question" in _first_keys(path):
        rows = read_records(path, AdaptedQuestion)
        ok = [a for a in rows if a.ok and (not targets or a.target_culture in targets)]
        return ok, sum(not a.ok for a in rows)
    if not targets:
        raise ConfigError(
            f"{path} holds general questions, not adapted ones; pass --targets to name the "
            "cultures that should answer them"
        )
    out = []
    for q in read_questions(path):
        for t in targets:
            out.append(
                AdaptedQuestion(
                    id=f"{q.id}@{slug(t)}",
                    general_question_id=q.id,
                    general_question=q.text,
                    target_culture=t,
                    question=q.text,
                    topic=q.topic,
                    level=q.level,
                    qtype=q.qtype,
                )
            )
    return out, 0


def retry_params(params: GenerationParams, attempt: int) -> GenerationParams:
    """Settings for the ``attempt``-th retry of an unparseable answer: a fresh seed, and
    sampling (a greedy retry would repeat the same text from the cache)."""
    if attempt == 0:
        return params
    return params.model_copy(
        update={"seed": params.seed + 7919 * attempt, "temperature": max(params.temperature, 0.7)}
    )


def write_stage_log(
    kind: str, out: Path, config: dict[str, Any], lm: Any, stats: dict[str, Any], prompts: dict[str, str]
) -> Path:
    log = RunLog(kind=kind, config=config, prompts=prompts)
    log.add_model("generator", lm)
    log.calls["generator"] = lm.stats.as_dict()
    log.notes.extend(stats.pop("notes", []))
    doc = log.model_dump(mode="json")
    doc["stats"] = stats
    import time

    doc["finished"] = time.time()
    target = out.with_name(out.name + ".run.json")
    write_json(target, doc)
    return target
