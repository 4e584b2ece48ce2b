"""Stage 2: culture-adaptive question refinement (paper 002 §3.2, "Cultural Question
Adaptation").

A general question ("How much does family mean to you?") tends to get the same answer
from every culture. So, for each general question, members of several cultures answer
it in role-play; the model then compares those answers, names what each one reveals,
and rewrites the question into a version aimed at the target culture, reasoning step by
step and ending with a "Final question:" line. Outputs without a parseable final
question are retried with fresh samples; what still fails is kept with ``error`` set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from culturalign.io import write_records
from culturalign.lm.cached import LM
from culturalign.records.generation import GenerationParams
from culturalign.records.synth import AdaptedQuestion, SynthQuestion
from culturalign.synth import templates
from culturalign.synth.parse import parse_final_question
from culturalign.synth.stage import retry_params, slug

PROBE_PARAMS = GenerationParams(temperature=0.7, max_new_tokens=320)
ADAPT_PARAMS = GenerationParams(temperature=0.7, max_new_tokens=768)
MIN_PROBES = 2  # comparing needs at least two cultures' answers


@dataclass
class AdaptStats:
    questions: int = 0
    probe_calls: int = 0
    failed_probes: int = 0
    adapted: int = 0
    retried: int = 0
    unparseable: int = 0
    too_few_probes: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def probe_answers(
    lm: LM,
    questions: Sequence[str],
    cultures: Sequence[str],
    params: GenerationParams,
    template_dir: str | Path | None = None,
    desc: str = "role-play answers",
) -> list[dict[str, str | None]]:
    """For each question, each culture's role-played answer (None where the call failed)."""
    tpl = templates.load("roleplay", template_dir)
    prompts = [templates.render_chat(tpl, culture=c, question=q) for q in questions for c in cultures]
    outs = lm.generate(prompts, params, desc=desc)
    n = len(cultures)
    return [
        {c: (outs[i * n + j][0].text if outs[i * n + j][0].ok else None) for j, c in enumerate(cultures)}
        for i in range(len(questions))
    ]


def adapt_questions(
    lm: LM,
    questions: Sequence[SynthQuestion],
    *,
    cultures: Sequence[str],
    targets: Sequence[str] | None = None,
    probe_params: GenerationParams | None = None,
    params: GenerationParams | None = None,
    retries: int = 2,
    template_dir: str | Path | None = None,
    out: str | Path | None = None,
) -> tuple[list[AdaptedQuestion], AdaptStats]:
    """One ``AdaptedQuestion`` per (general question, target culture)."""
    from culturalign.errors import ConfigError

    cultures = list(dict.fromkeys(cultures))
    targets = list(dict.fromkeys(targets or cultures))
    if len(cultures) < MIN_PROBES:
        raise ConfigError(f"adaptation compares answers from at least {MIN_PROBES} cultures; got {cultures}")
    probe_params = probe_params or PROBE_PARAMS
    params = params or ADAPT_PARAMS
    stats = AdaptStats(questions=len(questions))
    probes = probe_answers(lm, [q.text for q in questions], cultures, probe_params, template_dir)
    stats.probe_calls = len(questions) * len(cultures)
    stats.failed_probes = sum(v is None for p in probes for v in p.values())

    tpl = templates.load("adapt", template_dir)
    jobs: list[tuple[SynthQuestion, str, dict[str, str]]] = []
    results: dict[int, AdaptedQuestion] = {}
    for q, probe in zip(questions, probes, strict=True):
        answered = {c: t for c, t in probe.items() if t is not None}
        for t in targets:
            jobs.append((q, t, answered))

    def record(q: SynthQuestion, t: str, answered: dict[str, str], **kw) -> AdaptedQuestion:
        return AdaptedQuestion(
            id=f"{q.id}@{slug(t)}",
            general_question_id=q.id,
            general_question=q.text,
            target_culture=t,
            probe_answers=answered,
            topic=q.topic,
            level=q.level,
            qtype=q.qtype,
            model=lm.spec,
            **kw,
        )

    pending: list[int] = []
    for i, (q, t, answered) in enumerate(jobs):
        if len(answered) < MIN_PROBES:
            stats.too_few_probes += 1
            results[i] = record(
                q, t, answered, error=f"only {len(answered)} culture(s) answered the general question"
            )
        else:
            pending.append(i)
    last_text: dict[int, str] = {}
    last_error: dict[int, str] = {}
    for attempt in range(retries + 1):
        if not pending:
            break
        if attempt:
            stats.retried += len(pending)
        prompts = [
            templates.render_chat(
                tpl,
                question=jobs[i][0].text,
                answers=templates.labelled_answers(jobs[i][2]),
                target=jobs[i][1],
            )
            for i in pending
        ]
        outs = lm.generate(prompts, retry_params(params, attempt), desc=f"adapt (attempt {attempt + 1})")
        still: list[int] = []
        for i, samples in zip(pending, outs, strict=True):
            c = samples[0]
            if not c.ok:
                last_error[i] = c.error or "empty output"
                still.append(i)
                continue
            question, reasoning = parse_final_question(c.text or "")
            if question is None:
                last_text[i] = c.text or ""
                last_error[i] = "no 'Final question:' line could be parsed"
                still.append(i)
                continue
            q, t, answered = jobs[i]
            results[i] = record(q, t, answered, question=question, reasoning=reasoning, attempts=attempt + 1)
        pending = still
    for i in pending:
        q, t, answered = jobs[i]
        if last_error.get(i, "").startswith("no 'Final"):
            stats.unparseable += 1
        results[i] = record(
            q,
            t,
            answered,
            reasoning=last_text.get(i) or None,
            attempts=retries + 1,
            error=f"{last_error.get(i, 'failed')} (after {retries + 1} attempts)",
        )
    adapted = [results[i] for i in range(len(jobs))]
    stats.adapted = sum(a.ok for a in adapted)
    if out is not None:
        write_records(Path(out), adapted)
    return adapted, stats
