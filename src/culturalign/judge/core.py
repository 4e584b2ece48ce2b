"""The judging loop of the rubric judge: a judge model reads a rubric filled with an
item's question, response and whatever else the rubric declares (a reference answer,
the knowledge, the culture), writes a short commentary and ends with ``Rating: [[n]]``
on the rubric's scale (``judge/rubric.py``).

CARE (paper 000 §4.1 and appendix C.1) picks one of three 1-10 rubrics by the item's
cultural category (``RubricSet``); questions with no category are judged with
``entities_opinion`` and counted as "uncategorised". The 1-5 rubrics (CultureBank
quality, PRISM cultural awareness, grounded) are one rubric for every item
(``RubricSet.single``). An item lacking a value a rubric needs is skipped, never judged
against an empty slot.

Decoding: one sample per judgment is greedy (temperature 0). A reply without a
usable rating is asked again, up to ``retries`` times, with sampling and a new seed
per attempt, so the call cache cannot hand back the same reply; the same seeds are
used on every run, so a rerun is answered from the cache. ``samples=k`` asks k
sampled judgments (distinct sample indices) and keeps the median of the valid ones.

Scoring: ``score="parsed"`` (CARE's way) takes the number the judge wrote.
``score="expected"`` reads the judge's probabilities for every rating after its
commentary and takes their mean (``judge/expected.py``); the parsed number is kept
beside it. A backend without continuation log-probs keeps the parsed ratings and the
judgments say why.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from culturalign.errors import ConfigError
from culturalign.judge.expected import candidates, expected_rating, rating_prefix
from culturalign.judge.parse import parse_rating
from culturalign.judge.rubric import Rubric, RubricSet, load_rubrics
from culturalign.lm.base import NotSupported
from culturalign.lm.cached import LM
from culturalign.records.generation import ChatMessage, Completion, GenerationParams, ModelResponse
from culturalign.records.judgment import JudgeAttempt, JudgeSample, Judgment

#: Judge decoding: greedy, room for a commentary, and a context long enough for a
#: rubric plus a 1,024-token response (CARE caps responses at 1,024 new tokens).
JUDGE_PARAMS = GenerationParams(temperature=0.0, max_new_tokens=512, max_context=8192)
SAMPLE_TEMPERATURE = 0.7
_RETRY_SEED_STRIDE = 1000
ScoreMethod = Literal["parsed", "expected"]
SCORE_METHODS: tuple[str, ...] = ("parsed", "expected")


@dataclass(frozen=True)
class JudgeItem:
    """One response to judge, with everything the rubric and the tables need."""

    item_id: str
    question: str
    reference: str | None
    response: str | None
    sample_index: int = 0
    response_error: str | None = None
    category: str | None = None
    scope: str | None = None
    culture: str | None = None
    mode: str = "vanilla"
    lang: str = "native"
    model: str | None = None
    human_rating: float | None = None
    #: values for a rubric's own placeholders beyond question/answer/response/culture
    #: (``{knowledge}`` for CultureBank quality, for instance)
    extra: Mapping[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str | None]:
        """What each placeholder a rubric may declare is filled with (None: absent)."""
        return {
            "question": self.question,
            "answer": self.reference,
            "reference": self.reference,
            "response": self.response,
            "culture": self.culture,
            **self.extra,
        }


def items_from_responses(responses: Sequence[ModelResponse]) -> list[JudgeItem]:
    return [
        JudgeItem(
            item_id=r.item_id,
            question=r.question or (r.messages[-1].content if r.messages else ""),
            reference=r.reference_answer,
            response=r.text,
            sample_index=r.sample_index,
            response_error=r.error,
            category=r.category,
            scope=r.geographic_scope,
            culture=r.culture,
            mode=r.mode,
            lang=r.lang,
            model=r.model,
        )
        for r in responses
    ]


@dataclass(frozen=True)
class JudgeConfig:
    samples: int = 1
    retries: int = 2
    params: GenerationParams = JUDGE_PARAMS
    sample_temperature: float = SAMPLE_TEMPERATURE
    score: str = "parsed"

    def __post_init__(self) -> None:
        if self.score not in SCORE_METHODS:
            raise ConfigError(f"judge score must be one of {', '.join(SCORE_METHODS)}, not {self.score!r}")
        if self.samples < 1:
            raise ConfigError(f"judge samples must be at least 1, not {self.samples}")
        if self.retries < 0:
            raise ConfigError(f"judge retries must be 0 or more, not {self.retries}")

    @classmethod
    def build(
        cls, samples: int = 1, retries: int = 2, params: GenerationParams | None = None, score: str = "parsed"
    ) -> JudgeConfig:
        """From command-line style options, where no params means the judge's defaults."""
        return cls(samples=samples, retries=retries, params=params or JUDGE_PARAMS, score=score)

    def log_fields(self) -> dict[str, int | str]:
        """What a run's ``run.json`` records about the judging."""
        return {"judge_samples": self.samples, "judge_retries": self.retries, "judge_score": self.score}

    def attempt_params(self, attempt: int, sample: int) -> GenerationParams:
        """Attempt 0 of a single judgment decodes as configured (greedy by default);
        several samples and every retry sample, each retry with its own seed."""
        temperature = self.params.temperature
        if (self.samples > 1 or attempt > 0) and self.params.greedy:
            temperature = self.sample_temperature
        seed = self.params.seed + (_RETRY_SEED_STRIDE * attempt + sample if attempt > 0 else 0)
        return self.params.model_copy(update={"temperature": temperature, "seed": seed})


@dataclass
class _Slot:
    item: int
    sample: int
    scale: tuple[int, int] = (1, 10)
    attempts: list[JudgeAttempt] = field(default_factory=list)
    rating: float | None = None
    parsed: float | None = None
    distribution: tuple[float, ...] | None = None
    coverage: float | None = None
    score_error: str | None = None


def _attempt(attempt: int, params: GenerationParams, c: Completion, scale: tuple[int, int]) -> JudgeAttempt:
    if not c.ok:
        return JudgeAttempt(
            attempt=attempt,
            seed=params.seed,
            temperature=params.temperature,
            error=c.error or "no text",
            parse_status="call_failed",
            parse_detail=c.error or "no text",
        )
    parsed = parse_rating(c.text, scale=scale[1], low=scale[0])
    return JudgeAttempt(
        attempt=attempt,
        seed=params.seed,
        temperature=params.temperature,
        reply=c.text,
        parse_status=parsed.status,
        parse_detail=parsed.detail,
        rating=parsed.rating,
    )


def judge_items(
    judge: LM,
    items: Sequence[JudgeItem],
    rubrics: RubricSet | None = None,
    config: JudgeConfig | None = None,
) -> list[Judgment]:
    """Rate every item; returns one ``Judgment`` per item, in order."""
    rubrics = rubrics or load_rubrics()
    config = config or JudgeConfig()
    chosen = [rubrics.for_category(it.category) for it in items]
    prompts: dict[int, list[ChatMessage]] = {}
    skipped: dict[int, str] = {}
    for i, it in enumerate(items):
        if it.response is None or not it.response.strip():
            # a failed call, or an empty reply (a failure too, e.g. in a file written before
            # the LM layer classified empty replies): nothing to judge, so it is skipped
            why = it.response_error or ("an empty reply" if it.response is not None else "no text")
            skipped[i] = f"no response to judge ({why})"
        elif lacking := _lacking(chosen[i], it):
            skipped[i] = lacking
        else:
            values = it.values()
            text = chosen[i].render({p: values[p] or "" for p in chosen[i].placeholders})
            prompts[i] = [ChatMessage(role="user", content=text)]

    slots = [_Slot(i, k, chosen[i].scale) for i in prompts for k in range(config.samples)]
    method_note = None
    if config.score == "expected":
        # any reply can be scored, so only failed calls are asked again
        _ask(judge, prompts, slots, config, done=lambda s: s.attempts[-1].reply is not None)
        method_note = _expected_ratings(judge, prompts, slots)
    if config.score == "parsed" or method_note is not None:
        _ask(judge, prompts, slots, config, done=lambda s: s.rating is not None)

    by_item_slots: dict[int, list[_Slot]] = {}
    for s in slots:
        by_item_slots.setdefault(s.item, []).append(s)
    method = "expected" if config.score == "expected" and method_note is None else "parsed"
    return [
        _judgment(it, chosen[i], judge.spec, by_item_slots.get(i, []), skipped.get(i), method, method_note)
        for i, it in enumerate(items)
    ]


def _lacking(rubric: Rubric, item: JudgeItem) -> str | None:
    """Why ``item`` cannot fill ``rubric`` (a placeholder with no value), or None."""
    values = item.values()
    for p in rubric.placeholders:
        if p == "response":
            continue
        value = values.get(p)
        if value is None or not str(value).strip():
            return (
                "the item has no reference answer" if p == "answer" else f"the item has no {p} for the rubric"
            )
    return None


def _ask(
    judge: LM,
    prompts: dict[int, list[ChatMessage]],
    slots: list[_Slot],
    config: JudgeConfig,
    done: Callable[[_Slot], bool],
) -> None:
    """Ask the judge until every slot is ``done`` or has used its retries.

    Attempt 0 asks all samples of an item in one call (sample indices 0..k-1); each
    retry samples with its own seed, so the cache cannot hand back the same reply."""
    while True:
        pending = [s for s in slots if (not s.attempts or not done(s)) and len(s.attempts) <= config.retries]
        if not pending:
            return
        attempt = min(len(s.attempts) for s in pending)
        pending = [s for s in pending if len(s.attempts) == attempt]
        if attempt == 0:
            params = config.attempt_params(0, 0)
            order = [i for i in prompts if any(s.item == i for s in pending)]
            out = judge.generate([prompts[i] for i in order], params, n=config.samples, desc="judge")
            by_item = dict(zip(order, out, strict=True))
            for s in pending:
                s.attempts.append(_attempt(0, params, by_item[s.item][s.sample], s.scale))
        else:
            for sample in sorted({s.sample for s in pending}):
                group = [s for s in pending if s.sample == sample]
                params = config.attempt_params(attempt, sample)
                out = judge.generate(
                    [prompts[s.item] for s in group], params, n=1, desc=f"judge (retry {attempt})"
                )
                for s, samples in zip(group, out, strict=True):
                    s.attempts.append(_attempt(attempt, params, samples[0], s.scale))
        for s in pending:
            s.rating = s.attempts[-1].rating


def _expected_ratings(judge: LM, prompts: dict[int, list[ChatMessage]], slots: list[_Slot]) -> str | None:
    """Replace each slot's rating by the judge's expected rating after its last reply.

    Returns None, or why the parsed ratings were kept (the backend cannot score)."""
    ready = [s for s in slots if s.attempts and s.attempts[-1].reply is not None]
    if not ready:
        return None
    try:
        results = judge.score(
            [prompts[s.item] for s in ready],
            [candidates(*s.scale) for s in ready],
            desc="judge (expected rating)",
            prefixes=[rating_prefix(s.attempts[-1].reply or "") for s in ready],
        )
    except NotSupported as exc:
        return f"expected ratings need continuation log-probs; kept the parsed ratings ({exc})"
    for s, res in zip(ready, results, strict=True):
        s.parsed = s.rating
        exp = expected_rating(res.logprobs, *s.scale) if res.ok else None
        s.rating = exp.rating if exp is not None else None
        if exp is not None:
            s.distribution, s.coverage = exp.distribution, exp.coverage
        else:
            s.score_error = res.error or "no candidate rating had a finite log-probability"
    return None


def _judgment(
    item: JudgeItem,
    rubric: Rubric,
    judge: str,
    slots: list[_Slot],
    skip: str | None,
    method: str = "parsed",
    method_note: str | None = None,
) -> Judgment:
    samples = [
        JudgeSample(
            sample=s.sample,
            rating=s.rating,
            attempts=s.attempts,
            parsed_rating=s.parsed,
            distribution=list(s.distribution) if s.distribution is not None else None,
            coverage=s.coverage,
        )
        for s in slots
    ]
    ratings = [s.rating for s in slots if s.rating is not None]
    if skip is not None:
        status, rating, reason = "skipped", None, skip
    elif ratings:
        status, rating, reason = "ok", float(statistics.median(ratings)), None
    else:
        last = slots[0].attempts[-1]
        status, rating = "invalid", None
        reason = f"no valid rating after {len(slots[0].attempts)} attempt(s): {last.parse_detail}"
        if method == "expected" and last.reply is not None:
            reason = f"the judge's rating log-probabilities could not be read: {slots[0].score_error}"
    return Judgment(
        item_id=item.item_id,
        sample_index=item.sample_index,
        question=item.question,
        reference=item.reference,
        response=item.response,
        category=item.category,
        scope=item.scope,
        culture=item.culture,
        mode=item.mode,
        lang=item.lang,
        model=item.model,
        judge=judge,
        rubric=rubric.name,
        rubric_sha=rubric.sha,
        rating=rating,
        valid=status == "ok",
        status=status,
        reason=reason,
        judge_reply=samples[0].reply if samples else None,
        samples=samples,
        attempts=sum(len(s.attempts) for s in slots),
        human_rating=item.human_rating,
        score_method=method,
        score_note=method_note,
    )
