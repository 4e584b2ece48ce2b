"""Yes/no checks answered by a model: P(Yes) from next-token log-probabilities, or a
parsed verdict where the backend shows none (paper 003 §4.1 quality checks, §5.2.1
knowledge entailment).

P(Yes) is the probability mass of the "yes" labels (``Yes``, `` Yes``, ``yes``, ...)
renormalised over the yes and no labels together. Two rules keep it honest:

* a label the backend could not see (an API's top log-probabilities that omit it)
  is unknown, not impossible. If a whole side is unseen there is no probability to
  report, so the check falls back to generating a reply and parsing the verdict. The
  CultureBank reference code scores a missing "Yes" as 0; we do not.
* labels are scored by their first token, and a yes label and a no label can share
  it (a bare space, or a newline the chat template left before the label); such a
  token says nothing about the verdict and is left out.

Every score records its ``method`` (``logprob`` or ``parsed verdict``) so tables can say
which kind of number they average.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from culturalign.lm.base import NotSupported
from culturalign.lm.cached import LM
from culturalign.records.generation import ChatMessage, GenerationParams

YES_LABELS = ("Yes", " Yes", "yes", " yes")
NO_LABELS = ("No", " No", "no", " no")
#: text forced at the start of the reply before the label is read; it must not end in
#: whitespace, or the label's first token is that whitespace for every label
ANSWER_PREFIX = "Answer:"
VERDICT_PARAMS = GenerationParams(temperature=0, max_new_tokens=12)

LOGPROB = "logprob"
PARSED = "parsed verdict"


@dataclass(frozen=True)
class YesNoScore:
    """One check's outcome. ``p_yes`` is None when no score could be had (see ``error``)."""

    p_yes: float | None
    method: str | None
    verdict: bool | None = None
    raw_text: str | None = None
    error: str | None = None
    fallback_reason: str | None = None  # why log-probabilities did not settle it

    @property
    def ok(self) -> bool:
        return self.p_yes is not None


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def yes_probability(
    logprobs: dict[str, float | None],
    yes_labels: Sequence[str] = YES_LABELS,
    no_labels: Sequence[str] = NO_LABELS,
) -> tuple[float | None, str | None]:
    """(P(Yes) renormalised over yes+no, None) or (None, why not). Pure.

    The backend scores a label by its first token, and several labels can share one
    (``" Yes"`` and ``" No"`` both start with a bare space in some vocabularies). The
    contract gives no token ids, so equal log-probabilities stand for one token: a
    value seen twice on one side is counted once, and a value seen on both sides says
    nothing about the verdict and is dropped.
    """
    yes_all = {v for k, v in logprobs.items() if k in yes_labels and v is not None}
    no_all = {v for k, v in logprobs.items() if k in no_labels and v is not None}
    if not yes_all and not no_all:
        return None, "neither yes nor no labels were visible in the log-probabilities"
    if not yes_all:
        return None, "no 'yes' label among the visible log-probabilities (unknown, not 0)"
    if not no_all:
        return None, "no 'no' label among the visible log-probabilities (unknown, not 1)"
    shared = yes_all & no_all
    yes, no = sorted(yes_all - shared), sorted(no_all - shared)
    if not yes or not no:
        return None, "the yes and no labels share their first tokens; the log-probabilities say nothing"
    ly, ln = _logsumexp(yes), _logsumexp(no)
    return 1.0 / (1.0 + math.exp(ln - ly)), None


_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def parse_verdict(text: str | None) -> bool | None:
    """The first standalone yes/no word of a reply (after an optional ``Answer:``). Pure."""
    if not text:
        return None
    match = _VERDICT.search(text)
    if match is None:
        return None
    return match.group(1).lower() == "yes"


def _parsed(text: str | None, error: str | None, why: str | None = None) -> YesNoScore:
    if error is not None:
        return YesNoScore(None, PARSED, None, text, error)
    verdict = parse_verdict(text)
    if verdict is None:
        snippet = (text or "")[:80]
        return YesNoScore(None, PARSED, None, text, f"no yes/no verdict in the reply {snippet!r}")
    return YesNoScore(1.0 if verdict else 0.0, PARSED, verdict, text, None)


def ask_yes_no(
    lm: LM,
    prompts: Sequence[Sequence[ChatMessage]],
    *,
    desc: str = "yes/no check",
    use_logprobs: bool = True,
) -> list[YesNoScore]:
    """Score each prompt's yes/no question, one ``YesNoScore`` per prompt, in order.

    Log-probabilities come first; prompts they cannot settle (backend without them,
    an unseen label, a failed call) are asked again as a short greedy generation whose
    verdict is parsed.
    """
    results: list[YesNoScore | None] = [None] * len(prompts)
    pending = list(range(len(prompts)))
    reasons: dict[int, str] = {}
    if use_logprobs and prompts:
        try:
            scored = lm.label_logprobs(
                list(prompts), [*YES_LABELS, *NO_LABELS], prefix=ANSWER_PREFIX, desc=desc
            )
        except NotSupported as exc:
            scored = None
            reasons = dict.fromkeys(pending, str(exc))
        if scored is not None:
            pending = []
            for i, res in enumerate(scored):
                p, why = (None, res.error) if res.error else yes_probability(res.logprobs)
                if p is not None:
                    results[i] = YesNoScore(p, LOGPROB, p >= 0.5, res.raw_text)
                elif res.raw_text is not None and not res.error:
                    results[i] = replace(_parsed(res.raw_text, None), fallback_reason=why)
                else:
                    pending.append(i)
                    reasons[i] = why or "no log-probabilities"
    if pending:
        replies = lm.generate([prompts[i] for i in pending], VERDICT_PARAMS, desc=f"{desc} (verdict)")
        for i, samples in zip(pending, replies, strict=True):
            c = samples[0]
            score = _parsed(c.text, c.error)
            results[i] = replace(score, fallback_reason=reasons.get(i))
    return [r if r is not None else YesNoScore(None, None, error="not scored") for r in results]


def method_of(scores: Sequence[YesNoScore]) -> str | None:
    """One word for a group of scores: the shared method, 'mixed', or None if none scored."""
    methods = {s.method for s in scores if s.ok}
    if not methods:
        return None
    return methods.pop() if len(methods) == 1 else "mixed"
