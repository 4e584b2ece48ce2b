"""From prompts to a probability for each option, the way each backend can give it.

* Letter options: ``LM.label_logprobs`` reads the next-token log-probability of every
  option letter after the answer prefix: one forward pass per prompt, batched. The
  letters' probabilities are renormalised over the options.
* Full-text options: ``LM.score`` gives log P(option text | prompt); the transformers
  backend encodes the prompt once and scores every option from its cached prefix.
* A backend that shows no log-probabilities (a chat server without ``logprobs``) is
  answered by generating and parsing the letter: the distribution is then one-hot on the
  parsed option, and every record says ``method: "generate-parse"``.

Over an API a forced answer prefix needs assistant prefill, which chat servers lack, so
for the ``openai`` backend the prompt ends at the question and the label is read from
the first reply token's ``top_logprobs``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from culturalign.evals.metrics import argmax, renormalise
from culturalign.lm.base import NotSupported, Prompt
from culturalign.lm.cached import LM

GENERATE_PARSE = "generate-parse"


@dataclass
class OptionScores:
    """One prompt's answer over its options."""

    probs: list[float] | None = None  # renormalised over the options; None when unknown
    logprobs: list[float | None] = field(default_factory=list)
    choice: int | None = None  # the option picked (most probable, or parsed)
    method: str = "logits"
    raw_text: str | None = None
    error: str | None = None
    cached: bool = False
    # full-text options only: the pick under log-probabilities per character of the option
    choice_norm: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.choice is not None

    def as_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "probs": self.probs,
            "logprobs": self.logprobs,
            "choice": self.choice,
            "method": self.method,
        }
        if self.choice_norm is not None:
            out["choice_norm"] = self.choice_norm
        if self.raw_text is not None:
            out["raw_text"] = self.raw_text
        if self.error is not None:
            out["error"] = self.error
        return out


def prefill_supported(lm: LM) -> bool:
    """Whether an answer prefix can be forced at the start of the assistant turn."""
    return getattr(lm.backend, "kind", "") not in ("openai",)


def score_labels(
    lm: LM,
    prompts: Sequence[Prompt],
    labels: Sequence[Sequence[str]],
    *,
    prefix: str = "",
    desc: str = "score options",
) -> list[OptionScores]:
    """Probabilities of each prompt's labels as the next token after ``prefix``.

    Prompts are grouped by their label set (``LM.label_logprobs`` takes one set per
    call), then answers come back in the order of ``prompts``."""
    if len(prompts) != len(labels):
        raise ValueError("one label list per prompt")
    if not prefill_supported(lm):
        prefix = ""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, labs in enumerate(labels):
        groups.setdefault(tuple(labs), []).append(i)
    out: list[OptionScores | None] = [None] * len(prompts)
    for labs, idxs in groups.items():
        results = lm.label_logprobs(
            [prompts[i] for i in idxs], list(labs), prefix=prefix, desc=desc, fallback=GENERATE_PARSE
        )
        for i, res in zip(idxs, results, strict=True):
            out[i] = _from_label_result(res, labs)
    # an API's top_logprobs that show none of the labels: ask again, generate and parse
    unseen = [
        i for i, o in enumerate(out) if o is not None and o.method == "top_logprobs" and o.probs is None
    ]
    if unseen:
        again = _generate_parse(lm, [prompts[i] for i in unseen], [labels[i] for i in unseen], desc)
        for i, scores in zip(unseen, again, strict=True):
            out[i] = scores
    return [o if o is not None else OptionScores(error="no result") for o in out]


def _generate_parse(
    lm: LM, prompts: Sequence[Prompt], labels: Sequence[Sequence[str]], desc: str
) -> list[OptionScores]:
    from culturalign.lm.labels import FALLBACK_PARAMS, parse_label
    from culturalign.records.generation import ChatMessage

    chats = [(ChatMessage(role="user", content=p),) if isinstance(p, str) else p for p in prompts]
    replies = lm.generate(chats, FALLBACK_PARAMS, desc=f"{desc} (generate-parse)")
    out = []
    for (reply,), labs in zip(replies, labels, strict=True):
        scores = OptionScores(
            logprobs=[None] * len(labs), method=GENERATE_PARSE, raw_text=reply.text, cached=reply.cached
        )
        picked = parse_label(reply.text or "", list(labs)) if reply.ok else None
        if picked is None:
            scores.error = reply.error or "no option could be parsed from the reply"
        else:
            scores.choice = list(labs).index(picked)
            scores.probs = [1.0 if k == scores.choice else 0.0 for k in range(len(labs))]
        out.append(scores)
    return out


def _from_label_result(res: Any, labels: Sequence[str]) -> OptionScores:
    lps = [res.logprobs.get(lab) for lab in labels]
    scores = OptionScores(logprobs=lps, method=res.method, raw_text=res.raw_text, cached=res.cached)
    if res.error is not None:
        scores.error = res.error
        return scores
    if res.method == GENERATE_PARSE:
        if res.choice in labels:
            scores.choice = list(labels).index(res.choice)
            scores.probs = [1.0 if k == scores.choice else 0.0 for k in range(len(labels))]
        else:
            scores.error = "no option could be parsed from the reply"
        return scores
    try:
        scores.probs = renormalise(lps)
    except ValueError:
        scores.error = "none of the option labels has a visible log-probability"
        return scores
    scores.choice = argmax(scores.probs)
    return scores


def score_texts(
    lm: LM,
    prompts: Sequence[Prompt],
    options: Sequence[Sequence[str]],
    *,
    delimiter: str = " ",
    desc: str = "score option texts",
) -> list[OptionScores]:
    """log P(delimiter + option | prompt) for every option (lm-evaluation-harness's
    multiple-choice scoring); ``choice`` is the highest sum, ``choice_norm`` the highest
    per character of the option text (its ``acc_norm``)."""
    try:
        results = lm.score(prompts, [[delimiter + o for o in opts] for opts in options], desc=desc)
    except NotSupported as exc:
        from culturalign.errors import ConfigError

        raise ConfigError(f"{exc}; score letters instead (--mode letters)") from None
    out = []
    for res, opts in zip(results, options, strict=True):
        scores = OptionScores(logprobs=list(res.logprobs), method="continuation", cached=res.cached)
        if not res.ok or len(res.logprobs) != len(opts) or not all(math.isfinite(v) for v in res.logprobs):
            scores.error = res.error or "the backend returned no usable log-probabilities"
            out.append(scores)
            continue
        scores.probs = renormalise(res.logprobs)
        scores.choice = argmax(res.logprobs)
        per_char = [lp / max(1, len(o)) for lp, o in zip(res.logprobs, opts, strict=True)]
        scores.choice_norm = argmax(per_char)
        out.append(scores)
    return out
