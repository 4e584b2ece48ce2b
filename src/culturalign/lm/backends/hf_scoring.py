"""Continuation scoring for the transformers backend: log P(continuation | context).

Every (context, continuation) pair is scored in batches with right padding; the
log-probabilities of the continuation tokens are summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from culturalign.lm.base import OnDone, ScoreRequest, ScoreResult

if TYPE_CHECKING:
    from culturalign.lm.backends.hf import HFBackend


def score_continuations(backend: HFBackend, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
    import torch

    pairs: list[tuple[int, int, list[int], list[int]]] = []
    for i, r in enumerate(requests):
        ctx = backend.render(r.prompt)
        for k, cont in enumerate(r.continuations):
            c_ids, x_ids = backend.encode_pair(ctx, cont)
            if not c_ids:  # nothing to condition on: start from the BOS/EOS token
                bos = backend.tokenizer.bos_token_id
                c_ids = [bos if bos is not None else backend.tokenizer.eos_token_id]
            pairs.append((i, k, c_ids, x_ids))
    results = [
        ScoreResult(
            logprobs=[0.0] * len(r.continuations),
            num_tokens=[0] * len(r.continuations),
            num_chars=[len(c) for c in r.continuations],
        )
        for r in requests
    ]
    pad = backend.tokenizer.pad_token_id
    size = max(1, backend.chunk_size)
    pairs.sort(key=lambda p: -(len(p[2]) + len(p[3])))
    for start in range(0, len(pairs), size):
        part = pairs[start : start + size]
        seqs = [c + x for _, _, c, x in part]
        width = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, s in enumerate(seqs):
            input_ids[row, : len(s)] = torch.tensor(s)
            mask[row, : len(s)] = 1
        with torch.inference_mode():
            logits = backend.model(
                input_ids=input_ids.to(backend.device), attention_mask=mask.to(backend.device)
            ).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        for row, (i, k, c, x) in enumerate(part):
            pos = torch.arange(len(c) - 1, len(c) + len(x) - 1)
            toks = torch.tensor(x)
            results[i].logprobs[k] = float(logp[row, pos, toks].sum())
            results[i].num_tokens[k] = len(x)
    for i, res in enumerate(results):
        on_done(i, res)
