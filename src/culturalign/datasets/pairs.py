"""Preference pairs from rated responses, in TRL's conversational format (paper 000 §4.1).

CARE trains on one pair per question: the highest-rated response as ``chosen`` and the
lowest-rated as ``rejected`` (``best-worst``). ``all`` makes every pair whose ratings
differ by at least a margin; ``unpaired_examples`` labels each rated response for KTO
(desirable when its rating reaches a threshold). Responses without a rating, whether
unrated or flagged "not an answer" (CARE §3.2), never enter a pair; ties never form one.
A human-written response is a candidate like any other when the data rates it.

Every question that yields nothing is counted under its reason, so a user can see why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from culturalign.errors import ConfigError, DataError, Problem
from culturalign.records import (
    ChatMessage,
    CulturalQuestion,
    PreferencePair,
    RatedResponse,
    UnpairedExample,
)

STRATEGIES = ("best-worst", "all")

NO_RESPONSES = "no responses"
NONE_RATED = "no rated response (all unrated or not an answer)"
ONE_RATED = "only one rated response"
ALL_TIED = "all ratings tied"


def below_margin(margin: float) -> str:
    return f"no two ratings differ by at least {margin:g}"


@dataclass
class PairsResult:
    records: list  # PreferencePair or UnpairedExample
    questions: int
    used_questions: int
    no_pair: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        return {
            "records": len(self.records),
            "questions": self.questions,
            "questions_used": self.used_questions,
            "questions_without_output": dict(self.no_pair.most_common()),
        }

    def require_records(self, source: str, what: str = "pairs") -> None:
        """An empty result is an error, raised before anything is written: an empty output
        file (or one truncated over an earlier good one) would only fail later, in training."""
        if self.records:
            return
        reasons = "; ".join(f"{n} {reason}" for reason, n in self.no_pair.most_common()) or "none given"
        noun = "question" if self.questions == 1 else "questions"
        raise DataError(
            [
                Problem(
                    source, None, None, f"no {what} from {self.questions} {noun} ({reasons}); nothing written"
                )
            ]
        )


def _check_english(questions: Sequence[CulturalQuestion], lang: str) -> None:
    """``--lang en`` must not quietly build native-language prompts."""
    if lang == "en":
        from culturalign.translation import require_english

        require_english(questions)


def prompt_messages(question: CulturalQuestion, lang: str = "native") -> list[ChatMessage]:
    """The question as a single user turn (in its own language, or English when asked)."""
    return [ChatMessage(role="user", content=question.text_in(lang))]


def rated(question: CulturalQuestion) -> list[RatedResponse]:
    return [r for r in question.responses if r.rating is not None and not r.not_an_answer]


def _no_pair_reason(question: CulturalQuestion, candidates: list[RatedResponse]) -> str | None:
    if not question.responses:
        return NO_RESPONSES
    if not candidates:
        return NONE_RATED
    if len(candidates) == 1:
        return ONE_RATED
    if len({r.rating for r in candidates}) == 1:
        return ALL_TIED
    return None


def best_worst(
    candidates: list[RatedResponse], min_margin: float = 0.0
) -> tuple[RatedResponse, RatedResponse] | None:
    """Highest and lowest rated (the first of equals, in file order), if far enough apart."""
    best = max(candidates, key=lambda r: r.rating)  # max/min keep the first of equals
    worst = min(candidates, key=lambda r: r.rating)
    gap = best.rating - worst.rating
    return (best, worst) if gap > 0 and gap >= min_margin else None


def every_pair(
    candidates: list[RatedResponse], min_margin: float = 0.0
) -> list[tuple[RatedResponse, RatedResponse]]:
    """Every (higher, lower) pair whose ratings differ by at least ``min_margin`` (and by more than 0)."""
    out = []
    for a, b in combinations(candidates, 2):
        hi, lo = (a, b) if a.rating >= b.rating else (b, a)
        gap = hi.rating - lo.rating
        if gap > 0 and gap >= min_margin:
            out.append((hi, lo))
    return out


def make_pairs(
    questions: Sequence[CulturalQuestion],
    *,
    strategy: str = "best-worst",
    min_margin: float = 0.0,
    lang: str = "native",
) -> PairsResult:
    if strategy not in STRATEGIES:
        raise ConfigError(f"--strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if min_margin < 0:
        raise ConfigError(f"--min-margin must not be negative, not {min_margin:g}")
    _check_english(questions, lang)
    result = PairsResult([], len(questions), 0)
    for q in questions:
        candidates = rated(q)
        reason = _no_pair_reason(q, candidates)
        if reason is not None:
            result.no_pair[reason] += 1
            continue
        if strategy == "best-worst":
            found = best_worst(candidates, min_margin)
            chosen_rejected = [found] if found else []
        else:
            chosen_rejected = every_pair(candidates, min_margin)
        if not chosen_rejected:
            result.no_pair[below_margin(min_margin)] += 1
            continue
        result.used_questions += 1
        prompt = prompt_messages(q, lang)
        for chosen, rejected in chosen_rejected:
            result.records.append(
                PreferencePair(
                    question_id=q.id,
                    prompt=prompt,
                    chosen=[ChatMessage(role="assistant", content=chosen.text)],
                    rejected=[ChatMessage(role="assistant", content=rejected.text)],
                    chosen_rating=chosen.rating,
                    rejected_rating=rejected.rating,
                    culture=q.culture,
                    category=q.category.value if q.category else None,
                    associated_culture=q.associated_culture.value if q.associated_culture else None,
                    source=q.source,
                )
            )
    return result


def unpaired_examples(
    questions: Sequence[CulturalQuestion], *, threshold: float, lang: str = "native"
) -> PairsResult:
    """One KTO example per rated response: desirable when ``rating >= threshold``."""
    if not 1 <= threshold <= 10:
        raise ConfigError(f"--threshold must be a rating from 1 to 10, not {threshold:g}")
    _check_english(questions, lang)
    result = PairsResult([], len(questions), 0)
    for q in questions:
        candidates = rated(q)
        if not candidates:
            result.no_pair[NO_RESPONSES if not q.responses else NONE_RATED] += 1
            continue
        result.used_questions += 1
        prompt = prompt_messages(q, lang)
        for r in candidates:
            result.records.append(
                UnpairedExample(
                    question_id=q.id,
                    prompt=prompt,
                    completion=[ChatMessage(role="assistant", content=r.text)],
                    label=r.rating >= threshold,
                    rating=r.rating,
                    culture=q.culture,
                    category=q.category.value if q.category else None,
                )
            )
    return result
