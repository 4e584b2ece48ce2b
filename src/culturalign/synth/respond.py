"""Stage 3: distinctive responses through cognitive conflict (paper 002 §3.2,
"Distinctive Response Generation").

Seeing how others answer the same question makes people reflect on what is particular
to their own culture. So each question is first answered in isolation by role-played
members of the target culture and of other cultures; then the target culture answers
again with the other cultures' answers in view. The second answer is the sample's
``response``; the isolated answers of the other cultures are kept as
``other_responses`` (selection measures distinctiveness against them, and DPO export
uses them as rejected answers).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from culturalign.io import write_records
from culturalign.lm.cached import LM
from culturalign.records.generation import GenerationParams
from culturalign.records.synth import AdaptedQuestion, CulturalSample
from culturalign.synth import templates
from culturalign.synth.adapt import probe_answers

ISOLATED_PARAMS = GenerationParams(temperature=0.7, max_new_tokens=400)
CONTRAST_PARAMS = GenerationParams(temperature=0.7, max_new_tokens=512)


@dataclass
class RespondStats:
    questions: int = 0
    isolated_calls: int = 0
    failed_isolated: int = 0
    contrast_calls: int = 0
    failed_contrast: int = 0
    samples_ok: int = 0
    skipped_inputs: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def contrast_cultures(target: str, cultures: Sequence[str], k: int | None, rng: random.Random) -> list[str]:
    """The other cultures shown to the target: all of them, or ``k`` drawn with ``rng``
    (kept in the order of ``cultures`` so prompts are stable)."""
    others = [c for c in cultures if c != target]
    if k is None or k >= len(others):
        return others
    chosen = set(rng.sample(others, k))
    return [c for c in others if c in chosen]


def respond(
    lm: LM,
    questions: Sequence[AdaptedQuestion],
    *,
    cultures: Sequence[str],
    contrast_k: int | None = None,
    isolated_params: GenerationParams | None = None,
    params: GenerationParams | None = None,
    seed: int = 0,
    template_dir: str | Path | None = None,
    out: str | Path | None = None,
) -> tuple[list[CulturalSample], RespondStats]:
    """One ``CulturalSample`` per adapted question."""
    from culturalign.errors import ConfigError

    cultures = list(dict.fromkeys(cultures))
    isolated_params = isolated_params or ISOLATED_PARAMS
    params = params or CONTRAST_PARAMS
    stats = RespondStats(questions=len(questions))
    rng = random.Random(seed)
    # each question is answered by its target and by the other cultures it is contrasted with
    panels: list[list[str]] = []
    for a in questions:
        others = contrast_cultures(a.target_culture, cultures, contrast_k, rng)
        if not others:
            raise ConfigError(
                f"question {a.id}: no culture other than its target {a.target_culture!r} among "
                f"--cultures {cultures}; cognitive conflict needs at least one other culture"
            )
        panels.append([a.target_culture, *others])
    # isolated answers: one batched call over all (question, culture) pairs
    texts = [a.question or a.general_question for a in questions]
    by_panel: dict[tuple[str, ...], list[int]] = {}
    for i, panel in enumerate(panels):
        by_panel.setdefault(tuple(panel), []).append(i)
    isolated: list[dict[str, str | None]] = [{} for _ in questions]
    for panel, idxs in by_panel.items():
        answers = probe_answers(
            lm, [texts[i] for i in idxs], panel, isolated_params, template_dir, desc="isolated answers"
        )
        for i, ans in zip(idxs, answers, strict=True):
            isolated[i] = ans
    stats.isolated_calls = sum(len(p) for p in panels)
    stats.failed_isolated = sum(v is None for d in isolated for v in d.values())

    tpl = templates.load("respond_contrast", template_dir)
    prompts, jobs = [], []
    samples: dict[int, CulturalSample] = {}
    for i, a in enumerate(questions):
        others = {c: t for c, t in isolated[i].items() if c != a.target_culture and t is not None}
        base = _sample(a, lm.spec, isolated[i].get(a.target_culture), others)
        if not others:
            samples[i] = base.model_copy(update={"error": "no other culture's answer to contrast with"})
            continue
        prompts.append(
            templates.render_chat(
                tpl,
                culture=a.target_culture,
                question=texts[i],
                answers=templates.labelled_answers(others),
            )
        )
        jobs.append((i, base))
    outs = lm.generate(prompts, params, desc="contrast answers")
    stats.contrast_calls = len(prompts)
    for (i, base), res in zip(jobs, outs, strict=True):
        c = res[0]
        if c.ok and (c.text or "").strip():
            samples[i] = base.model_copy(update={"response": c.text.strip()})
        else:
            stats.failed_contrast += 1
            samples[i] = base.model_copy(update={"error": c.error or "empty answer"})
    result = [samples[i] for i in range(len(questions))]
    stats.samples_ok = sum(s.ok for s in result)
    if out is not None:
        write_records(Path(out), result)
    return result, stats


def _sample(a: AdaptedQuestion, model: str, isolated: str | None, others: dict[str, str]) -> CulturalSample:
    return CulturalSample(
        id=a.id,
        question=a.question or a.general_question,
        target_culture=a.target_culture,
        isolated_response=isolated,
        other_responses=others,
        question_id=a.id,
        general_question=a.general_question,
        topic=a.topic,
        level=a.level,
        qtype=a.qtype,
        source="caredio",
        model=model,
    )
