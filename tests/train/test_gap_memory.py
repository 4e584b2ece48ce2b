"""The held-out gap's memory bound (found by benchmarks/gpu/check.py): answer log-probs
are computed on the answer positions only, and a forward pass holds at most
``max_logits`` logits, so long answers with a large vocabulary go in smaller batches.
The numbers must not change with the batching."""

from __future__ import annotations

import pytest

from culturalign.records import ChatMessage
from culturalign.train.gap import answer_logprobs, split_ids


def _items(n: int):
    items = []
    for i in range(n):
        prompt = [ChatMessage(role="user", content=f"Question {i}: is tea offered to guests?")]
        answer = [ChatMessage(role="assistant", content="Yes, as a sign of respect. " * (1 + i % 4))]
        items.append((prompt, answer))
    return items


def _reference(model, tok, item) -> float:
    """The whole-sequence computation, one item at a time, for comparison."""
    import torch

    ctx, ans = split_ids(tok, *item)
    ids = torch.tensor([ctx + ans])
    with torch.inference_mode():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
    return float(sum(logp[len(ctx) - 1 + k, t] for k, t in enumerate(ans)))


def test_answer_logprobs_bounded_batches_same_numbers(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    items = _items(6)
    rows: list[int] = []
    real = model.forward

    def forward(*args, **kwargs):
        rows.append(kwargs["input_ids"].shape[0])
        return real(*args, **kwargs)

    model.forward = forward
    free = answer_logprobs(model, tok, items, batch_size=8)
    assert rows == [6]
    rows.clear()
    longest = max(sum(len(x) for x in split_ids(tok, *it)) for it in items)
    # room for two rows of the longest sequence: batches of at most two
    bounded = answer_logprobs(model, tok, items, batch_size=8, max_logits=2 * longest * len(tok))
    assert max(rows) == 2 and sum(rows) == 6
    for (a, na), (b, nb), item in zip(free, bounded, items, strict=True):
        assert na == nb
        assert a == pytest.approx(b, abs=1e-4)
        assert a == pytest.approx(_reference(model, tok, item), abs=1e-4)
