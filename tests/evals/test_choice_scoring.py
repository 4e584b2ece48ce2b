"""Continuation scoring with a shared prompt prefix (``lm/backends/hf_scoring.py``): the
numbers must equal scoring each (prompt, option) sequence on its own, token by token."""

from __future__ import annotations

import math

import pytest

from culturalign.lm import load_lm
from culturalign.lm.backends.hf_scoring import score_continuations
from culturalign.lm.base import ScoreRequest


@pytest.fixture(scope="module")
def tiny_lm(tiny_model_dir):
    return load_lm(f"hf:{tiny_model_dir}", cache=None)


def _reference(backend, context: str, continuation: str) -> float:
    """log P(continuation | context), one unpadded sequence at a time."""
    import torch

    ctx, cont = backend.encode_pair(context, continuation)
    ids = torch.tensor([ctx + cont])
    with torch.inference_mode():
        logp = torch.log_softmax(backend.model(ids).logits.float(), dim=-1)[0]
    return sum(float(logp[len(ctx) - 1 + j, t]) for j, t in enumerate(cont))


REQUESTS = [
    ScoreRequest(
        "In Japan, people bow when they greet each other. Answer:", (" Yes", " No", " Rating: [[7]]")
    ),
    ScoreRequest("Q: Is tea served to guests?\nA:", (" Yes.", " No, never.", " Entailment, neutral")),
    ScoreRequest("Short", (" a", " The answer is C.")),
    ScoreRequest("在中国，客人来了要先奉茶。", ("春节", "是最重要的节日。")),
]


def _run(backend, requests, strategy):
    out = [None] * len(requests)
    score_continuations(backend, requests, lambda i, r: out.__setitem__(i, r), strategy=strategy)
    return out


@pytest.mark.parametrize("strategy", ["prefix", "full"])
def test_batched_scores_equal_one_sequence_at_a_time(tiny_lm, strategy):
    backend = tiny_lm.backend
    results = _run(backend, REQUESTS, strategy)
    for req, res in zip(REQUESTS, results, strict=True):
        assert res.ok
        for cont, lp, n in zip(req.continuations, res.logprobs, res.num_tokens, strict=True):
            assert lp == pytest.approx(_reference(backend, req.prompt, cont), abs=1e-4)
            assert n == len(backend.encode_pair(req.prompt, cont)[1])


def test_prefix_and_full_agree_and_edge_cases(tiny_lm):
    backend = tiny_lm.backend
    reqs = [
        *REQUESTS,
        ScoreRequest("Trailing space ", ("x", "")),  # the space moves into the continuation
        ScoreRequest("", (" hello",)),  # nothing to condition on: starts from BOS
        ScoreRequest("Only empty", ("",)),
    ]
    prefix, full = _run(backend, reqs, "prefix"), _run(backend, reqs, "full")
    for a, b in zip(prefix, full, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
    # after a context ending in a space, even "" scores that space (lm-eval's split)
    assert prefix[4].num_tokens[1] == 1 and prefix[4].logprobs[1] < 0
    assert math.isfinite(prefix[5].logprobs[0])
    assert prefix[6].logprobs == [0.0]


def test_too_long_for_the_model_is_a_recorded_error(tiny_lm):
    backend = tiny_lm.backend
    limit = backend.model.config.max_position_embeddings
    res = _run(backend, [ScoreRequest("word " * (limit + 10), (" x",))], "prefix")[0]
    assert not res.ok and "context" in res.error


def test_lm_score_goes_through_the_cache(tiny_model_dir, tmp_path):
    from culturalign.lm.cache import CallCache

    lm = load_lm(f"hf:{tiny_model_dir}", cache=CallCache(tmp_path / "c.sqlite"))
    first = lm.score(["Question: tea?\nAnswer:"], [[" yes", " no"]])
    again = lm.score(["Question: tea?\nAnswer:"], [[" yes", " no"]])
    assert again[0].cached and again[0].logprobs == pytest.approx(first[0].logprobs)
    assert lm.stats.calls == 1 and lm.stats.cache_hits == 1
