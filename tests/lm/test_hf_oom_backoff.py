"""OOM back-off in the hf backend, on the CPU: an out-of-memory error injected in front
of the real tiny model's forward pass for batches above a limit. Generation, continuation
scoring and label scoring must halve their batch until it fits, deliver every result
exactly once, give the same numbers as an unconstrained run, and keep the smaller size."""

from __future__ import annotations

import pytest

from culturalign.lm.backends.hf import HFBackend
from culturalign.lm.base import GenRequest, LabelScoreRequest, ScoreRequest
from culturalign.records import ChatMessage, GenerationParams

QUESTIONS = [
    "Is it polite to bow?",
    "Tea?",
    "What should a guest bring to a dinner in Japan?",
    "Is tipping expected in China?",
    "How do people greet each other in the Gulf?",
    "Why is the number four avoided?",
    "Should I open a gift at once?",
    "What does pouring tea for others mean?",
    "Is coffee offered to guests?",
    "When do people exchange business cards?",
]


def _prompt(q: str) -> tuple[ChatMessage, ...]:
    return (ChatMessage(role="user", content=q),)


def _inject_oom(backend: HFBackend, limit: int, error: Exception, seen: list[int]) -> None:
    """Every forward pass over more than ``limit`` rows raises ``error`` (the real model
    answers the rest)."""
    model = backend.model
    real = model.forward

    def forward(*args, **kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        rows = ids.shape[0] if ids is not None else kwargs["inputs_embeds"].shape[0]
        seen.append(rows)
        if rows > limit:
            raise error
        return real(*args, **kwargs)

    model.forward = forward


def _collect(method, requests) -> dict[int, object]:
    got: dict[int, object] = {}

    def done(i, res):
        assert i not in got, f"request {i} delivered twice"
        got[i] = res

    method(requests, done)
    assert sorted(got) == list(range(len(requests)))
    return got


def _oom_errors():
    import torch

    return [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("out of memory"),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: not enough memory"),
    ]


@pytest.mark.parametrize("which", [0, 1, 2], ids=["OutOfMemoryError", "out-of-memory", "cpu-allocator"])
def test_generation_halves_batch_until_it_fits(tiny_model_dir, which):
    params = GenerationParams(temperature=0, max_new_tokens=4)
    reqs = [GenRequest(messages=_prompt(q), params=params) for q in QUESTIONS]
    plain = _collect(HFBackend(tiny_model_dir, device="cpu", batch_size=16).generate, reqs)

    backend = HFBackend(tiny_model_dir, device="cpu", batch_size=16)
    seen: list[int] = []
    _inject_oom(backend, 3, _oom_errors()[which], seen)
    got = _collect(backend.generate, reqs)
    assert backend.chunk_size == 2  # 16 -> 8 -> 4 -> 2: the first size that fits under 3 rows
    assert [got[i].text for i in range(len(reqs))] == [plain[i].text for i in range(len(reqs))]
    assert max(seen) == 10 and all(r <= 3 for r in seen[3:])  # 10, 8, 4 failed; then only <= 2

    # the settled size is kept: the next call never tries a batch that failed
    seen.clear()
    _collect(backend.generate, reqs[:5])
    assert seen and max(seen) <= 2


def test_scoring_backs_off_and_matches(tiny_model_dir):
    reqs = [
        ScoreRequest(prompt=_prompt(q), continuations=(" Yes, it is.", " No.", " It depends on the region."))
        for q in QUESTIONS
    ]
    plain = _collect(HFBackend(tiny_model_dir, device="cpu", batch_size=8).score, reqs)
    backend = HFBackend(tiny_model_dir, device="cpu", batch_size=8)
    seen: list[int] = []
    _inject_oom(backend, 6, _oom_errors()[0], seen)
    got = _collect(backend.score, reqs)
    # the second (cached) pass has one row per option: 2 questions x 3 options = 6 rows fit
    assert backend.chunk_size == 2
    for i in range(len(reqs)):
        assert got[i].error is None
        assert got[i].logprobs == pytest.approx(plain[i].logprobs, abs=1e-4)


def test_label_scoring_backs_off(tiny_model_dir):
    reqs = [LabelScoreRequest(prompt=_prompt(q), labels=("A", "B"), prefix="Answer:") for q in QUESTIONS]
    plain = _collect(HFBackend(tiny_model_dir, device="cpu", batch_size=8).label_logprobs, reqs)
    backend = HFBackend(tiny_model_dir, device="cpu", batch_size=8)
    _inject_oom(backend, 1, _oom_errors()[1], [])
    got = _collect(backend.label_logprobs, reqs)
    assert backend.chunk_size == 1
    for i in range(len(reqs)):
        assert got[i].logprobs == pytest.approx(plain[i].logprobs, abs=1e-4)


def test_oom_at_batch_one_and_other_errors_are_raised(tiny_model_dir):
    params = GenerationParams(temperature=0, max_new_tokens=2)
    reqs = [GenRequest(messages=_prompt(q), params=params) for q in QUESTIONS[:3]]
    backend = HFBackend(tiny_model_dir, device="cpu", batch_size=4)
    _inject_oom(backend, 0, RuntimeError("out of memory"), [])
    with pytest.raises(RuntimeError, match="out of memory"):
        backend.generate(reqs, lambda i, r: None)
    assert backend.chunk_size == 1

    other = HFBackend(tiny_model_dir, device="cpu", batch_size=4)
    _inject_oom(other, 0, RuntimeError("shape mismatch"), [])
    with pytest.raises(RuntimeError, match="shape mismatch"):
        other.generate(reqs, lambda i, r: None)
    assert other.chunk_size == 4  # not a memory error: no back-off
