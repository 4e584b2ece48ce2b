"""Reading OpenAI-shaped replies: pure functions, unit-tested on the documented shapes.

Each either returns what it found or raises ``ResponseError`` for a body that parsed but
cannot be used, which ``culturalign.lm.http.post_json`` retries like a 5xx.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from culturalign.lm.http import ResponseError


def _has_choices(data: dict[str, Any]) -> None:
    if not isinstance(data.get("choices"), list) or not data["choices"]:
        raise ResponseError("no 'choices' in the reply")


#: finish reasons after which an empty reply would come back the same on a retry
_FINAL_EMPTY = ("length", "content_filter")


def _has_text(data: dict[str, Any]) -> None:
    """A chat reply must carry text; an empty, whitespace-only or null ``content`` is a
    retryable fault like a 5xx. Not retried, and left to ``parse_chat`` and the LM to
    record as failed: a refusal, or a reply whose finish reason says the same request
    would end the same way (the token budget spent on hidden reasoning, a content filter)."""
    _has_choices(data)
    choice = data["choices"][0]
    if not isinstance(choice, dict):
        raise ResponseError("the first choice is not an object")
    message = choice.get("message") or {}
    text = message.get("content")
    if isinstance(text, str) and text.strip():
        return
    if message.get("refusal") or choice.get("finish_reason") in _FINAL_EMPTY:
        return
    what = "null" if text is None else "whitespace only" if text else "empty"
    raise ResponseError(f"the reply's content is {what}", kind="empty_reply")


def chat_top_logprobs(data: dict[str, Any]) -> dict[str, float] | None:
    """First generated token's alternatives from a chat reply; None when absent."""
    lp = data["choices"][0].get("logprobs")
    content = (lp or {}).get("content") or []
    if not content or not content[0].get("top_logprobs"):
        return None
    return {alt["token"]: float(alt["logprob"]) for alt in content[0]["top_logprobs"]}


def completion_top_logprobs(data: dict[str, Any]) -> dict[str, float] | None:
    lp = data["choices"][0].get("logprobs")
    tops = (lp or {}).get("top_logprobs") or []
    if not tops or not tops[0]:
        return None
    return {tok: float(v) for tok, v in tops[0].items()}


def match_labels(top: dict[str, float], labels: Sequence[str]) -> dict[str, float | None]:
    """Each label's log-probability among the returned alternatives.

    Tokens that equal the label up to surrounding whitespace (``"A"``, ``" A"``) all mean
    that label, so their probabilities are added. A label not among the alternatives is
    None: its probability is below what the server showed, not zero.
    """
    out: dict[str, float | None] = {}
    for label in labels:
        hits = [v for tok, v in top.items() if tok.strip() == label.strip()]
        if not hits:
            out[label] = None
            continue
        m = max(hits)
        out[label] = m + math.log(sum(math.exp(v - m) for v in hits))
    return out


def echo_logprobs(data: dict[str, Any], start: int, end: int) -> tuple[float, int] | None:
    """Sum of the echoed prompt's token log-probs for characters [start, end)."""
    lp = data["choices"][0].get("logprobs") or {}
    offsets, values = lp.get("text_offset"), lp.get("token_logprobs")
    if not offsets or not values:
        return None
    total, count = 0.0, 0
    for off, v in zip(offsets, values, strict=False):
        if start <= off < end:
            if v is None:
                return None
            total += float(v)
            count += 1
    return total, count
