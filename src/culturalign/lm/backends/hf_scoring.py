"""Continuation scoring for the transformers backend: log P(continuation | context).

Choice benchmarks ask for several continuations after the same prompt (four option
texts after one question). Scoring each (prompt, option) pair as its own sequence
repeats the prompt's computation once per option. Here the prompt is encoded once:

1. the contexts of a batch of requests run through the model together (left-padded,
   with explicit position ids so padding does not shift positions), which yields
   their key/value cache and the distribution of each continuation's first token;
2. the cache rows are repeated once per continuation, and every continuation's
   remaining tokens run in one second pass on top of its prompt's cache.

The context/continuation token split is ``HFBackend.encode_pair``'s, which follows
lm-evaluation-harness (trailing spaces of the context move to the continuation, the
pair is tokenised whole), so the numbers match that tool's log-likelihoods; the
benchmark ``benchmarks/bench_choice_vs_lm_eval.py`` measures the difference.

``strategy="full"`` scores every pair as one right-padded sequence instead: it is the
fallback for models whose forward pass takes no cache or position ids.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from culturalign.lm.base import OnDone, Prompt, ScoreRequest, ScoreResult

log = logging.getLogger(__name__)


class HFBackend(Protocol):
    """What scoring needs from the transformers backend. A protocol, not an import of
    ``hf.HFBackend``: ``hf`` imports this module, and this module never imports ``hf``."""

    model: Any
    tokenizer: Any
    device: str
    chunk_size: int

    def render(self, prompt: Prompt) -> str: ...

    def _encode(self, text: str) -> list[int]: ...

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]: ...


@dataclass
class _Prepared:
    """One request as token ids: a shared context and its continuations."""

    index: int
    context: list[int]
    continuations: list[list[int]]
    num_chars: list[int]
    error: str | None = None


def _prepare(backend: HFBackend, index: int, request: ScoreRequest) -> _Prepared:
    text = backend.render(request.prompt) + request.prefix
    ctx: list[int] | None = None
    conts: list[list[int]] = []
    for cont in request.continuations:
        c_ids, x_ids = backend.encode_pair(text, cont)
        if ctx is None:
            ctx = c_ids
        conts.append(x_ids)
    ctx = ctx if ctx is not None else backend._encode(text)
    if not ctx:  # nothing to condition on: start from the BOS (or EOS) token, as lm-eval does
        bos = backend.tokenizer.bos_token_id
        ctx = [bos if bos is not None else backend.tokenizer.eos_token_id]
    prep = _Prepared(index, ctx, conts, [len(c) for c in request.continuations])
    limit = _context_limit(backend)
    longest = len(ctx) + max((len(x) for x in conts), default=0)
    if limit is not None and longest > limit:
        prep.error = f"prompt plus continuation has {longest} tokens; the model's context is {limit}"
    return prep


def _context_limit(backend: HFBackend) -> int | None:
    cfg = getattr(backend.model, "config", None)
    limit = getattr(cfg, "max_position_embeddings", None)
    return int(limit) if isinstance(limit, int) and limit > 0 else None


def score_continuations(
    backend: HFBackend,
    requests: Sequence[ScoreRequest],
    on_done: OnDone,
    strategy: str | None = None,
) -> None:
    """Score every continuation of every request; ``on_done(i, ScoreResult)`` per request."""
    strategy = strategy or getattr(backend, "score_strategy", "prefix")
    prepared = [_prepare(backend, i, r) for i, r in enumerate(requests)]
    ready: list[_Prepared] = []
    for p in prepared:
        if p.error is not None:
            on_done(p.index, ScoreResult(error=p.error, num_chars=p.num_chars))
        elif not any(p.continuations):  # only empty continuations: log P = 0, no model call
            on_done(p.index, _result(p, [0.0] * len(p.continuations)))
        else:
            ready.append(p)
    if not ready:
        return
    size = max(1, backend.chunk_size)
    ready.sort(key=lambda p: -len(p.context))
    for start in range(0, len(ready), size):
        batch = ready[start : start + size]
        if strategy == "prefix":
            try:
                scores = _score_with_shared_prefix(backend, batch)
            except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
                log.warning("prefix-cache scoring failed (%s); scoring whole sequences instead", exc)
                backend.score_strategy = "full"
                strategy = "full"
                scores = _score_full_sequences(backend, batch)
            else:
                # a non-finite score means the cached pass went wrong for this model: redo it whole
                bad = [k for k, s in enumerate(scores) if not all(math.isfinite(v) for v in s)]
                if bad:
                    redo = _score_full_sequences(backend, [batch[k] for k in bad])
                    for k, s in zip(bad, redo, strict=True):
                        scores[k] = s
        else:
            scores = _score_full_sequences(backend, batch)
        for p, s in zip(batch, scores, strict=True):
            on_done(p.index, _result(p, s))


def _result(p: _Prepared, logprobs: list[float]) -> ScoreResult:
    return ScoreResult(
        logprobs=[float(v) for v in logprobs],
        num_tokens=[len(x) for x in p.continuations],
        num_chars=p.num_chars,
    )


def _score_with_shared_prefix(backend: HFBackend, batch: list[_Prepared]) -> list[list[float]]:
    import torch

    device = backend.device
    pad = backend.tokenizer.pad_token_id
    pad = pad if pad is not None else 0
    # pass 1: the contexts, left-padded so every one ends in the last column
    width = max(len(p.context) for p in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, p in enumerate(batch):
        ids[row, width - len(p.context) :] = torch.tensor(p.context)
        mask[row, width - len(p.context) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    inputs = {
        "input_ids": ids.to(device),
        "attention_mask": mask.to(device),
        "position_ids": positions.to(device),
        "use_cache": True,
    }
    with torch.inference_mode():
        # only the last position's logits are needed: skip the vocabulary projection elsewhere
        try:
            out = backend.model(**inputs, logits_to_keep=1)
        except TypeError:  # a model without ``logits_to_keep``
            out = backend.model(**inputs)
    first = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)  # [batch, vocab]
    # transformers 5.24 renamed ``past_key_values`` to ``cache`` (the old name warns on every call)
    cache_name = "cache" if "cache" in out else "past_key_values"
    cache = out.get(cache_name)
    if cache is None or not hasattr(cache, "reorder_cache"):
        raise AttributeError("the model returned no reorderable key/value cache")

    # one row per (request, non-empty continuation)
    pairs = [(row, k) for row, p in enumerate(batch) for k, x in enumerate(p.continuations) if x]
    scores = [[0.0] * len(p.continuations) for p in batch]
    for row, k in pairs:
        scores[row][k] = float(first[row, batch[row].continuations[k][0]])
    rest = max(len(batch[row].continuations[k]) - 1 for row, k in pairs)
    if rest == 0:  # every continuation is a single token: one pass was enough
        return scores

    # pass 2: every continuation's tokens after its own context's cache
    rows = torch.tensor([row for row, _ in pairs], dtype=torch.long)
    cache.reorder_cache(rows.to(device))
    cont_ids = torch.full((len(pairs), rest), pad, dtype=torch.long)
    cont_mask = torch.zeros((len(pairs), rest), dtype=torch.long)
    for r, (row, k) in enumerate(pairs):
        x = batch[row].continuations[k][:-1]
        if x:
            cont_ids[r, : len(x)] = torch.tensor(x)
            cont_mask[r, : len(x)] = 1
    ctx_mask = mask[rows]
    cont_positions = ctx_mask.sum(-1, keepdim=True) + torch.arange(rest).unsqueeze(0)
    with torch.inference_mode():
        out2 = backend.model(
            input_ids=cont_ids.to(device),
            attention_mask=torch.cat([ctx_mask, cont_mask], dim=1).to(device),
            position_ids=cont_positions.to(device),
            use_cache=True,
            **{cache_name: cache},
        )
    logp = torch.log_softmax(out2.logits.float(), dim=-1)  # [pairs, rest, vocab]
    for r, (row, k) in enumerate(pairs):
        x = batch[row].continuations[k]
        if len(x) > 1:
            targets = torch.tensor(x[1:], device=logp.device)
            steps = torch.arange(len(x) - 1, device=logp.device)
            scores[row][k] += float(logp[r, steps, targets].sum())
    return scores


def _score_full_sequences(backend: HFBackend, batch: list[_Prepared]) -> list[list[float]]:
    """Each (context, continuation) pair as one right-padded sequence (lm-eval's way)."""
    import torch

    pairs = [(row, k) for row, p in enumerate(batch) for k, x in enumerate(p.continuations) if x]
    scores = [[0.0] * len(p.continuations) for p in batch]
    pad = backend.tokenizer.pad_token_id
    pad = pad if pad is not None else 0
    size = max(1, backend.chunk_size)
    pairs.sort(key=lambda rk: -(len(batch[rk[0]].context) + len(batch[rk[0]].continuations[rk[1]])))
    for start in range(0, len(pairs), size):
        part = pairs[start : start + size]
        seqs = [batch[row].context + batch[row].continuations[k] for row, k in part]
        width = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            input_ids[r, : len(s)] = torch.tensor(s)
            mask[r, : len(s)] = 1
        with torch.inference_mode():
            logits = backend.model(
                input_ids=input_ids.to(backend.device), attention_mask=mask.to(backend.device)
            ).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        for r, (row, k) in enumerate(part):
            c, x = batch[row].context, batch[row].continuations[k]
            steps = torch.arange(len(c) - 1, len(c) + len(x) - 1, device=logp.device)
            scores[row][k] = float(logp[r, steps, torch.tensor(x, device=logp.device)].sum())
    return scores
