"""The measurements of the GPU check: generation, choice scoring, the preference gap.

Each function takes a ready model and returns plain numbers (``name -> value``), so
``check.py`` can print them and store them in one JSON file. Everything goes through
the package's real code paths (``HFBackend.generate`` / ``.score``, ``preference_gap``);
the only code written here is the reference it is checked against: a plain loop that
scores one (prompt, option) sequence per forward pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

QUESTIONS = [
    "Is it polite to open a gift in front of the person who gave it?",
    "What should a visitor know about pouring tea for others in China?",
    "How are business cards exchanged in Japan?",
    "Why do some hosts in the Gulf keep refilling a guest's coffee cup?",
    "Is tipping expected at restaurants in Japan?",
    "Why are gifts in sets of four avoided in parts of East Asia?",
    "What does it mean to leave chopsticks standing upright in a bowl of rice?",
    "Which hand is used for eating and passing food in many Arab countries?",
    "How do people greet elders during the Lunar New Year?",
    "What is a suitable gift when visiting a family for dinner in Egypt?",
]
OPTIONS = (
    " Yes.",
    " No, that would be seen as rude.",
    " It depends on the region and on how well the two people know each other.",
    " Only at formal occasions such as weddings and business dinners, never at home.",
)


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - start, out


def peak_gb(device: str, fn: Callable[[], Any]) -> tuple[float | None, Any]:
    """The GPU allocator's peak while ``fn`` runs (None on a CPU: no per-call peak there)."""
    import torch

    if not device.startswith("cuda"):
        return None, fn()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    out = fn()
    return torch.cuda.max_memory_allocated() / 2**30, out


def prompt(i: int) -> tuple[Any, ...]:
    from culturalign.records import ChatMessage

    q = QUESTIONS[i % len(QUESTIONS)]
    return (ChatMessage(role="user", content=f"{q} (question {i})"),)


def collect(method: Callable, requests: list[Any]) -> list[Any]:
    got: dict[int, Any] = {}
    method(requests, lambda i, r: got.__setitem__(i, r))
    missing = [i for i in range(len(requests)) if i not in got]
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(requests)} requests got no result")
    return [got[i] for i in range(len(requests))]


def gen_requests(n: int, max_new: int) -> list[Any]:
    from culturalign.lm.base import GenRequest
    from culturalign.records import GenerationParams

    params = GenerationParams(temperature=0, max_new_tokens=max_new)
    return [GenRequest(messages=prompt(i), params=params) for i in range(n)]


def generation_throughput(backend: Any, batches: list[int], max_new: int) -> dict[str, float]:
    """Greedy tokens per second at each batch size (one warm-up call first)."""
    out: dict[str, float] = {}
    backend.chunk_size = 1
    collect(backend.generate, gen_requests(1, 2))  # kernels and caches warm
    for b in batches:
        backend.chunk_size = b
        peak, (secs, res) = peak_gb(
            backend.device,
            lambda b=b: timed(backend.device, lambda: collect(backend.generate, gen_requests(b, max_new))),
        )
        if peak is not None:
            out[f"gen_peak_gpu_gb_b{b}"] = peak
        bad = [r.error for r in res if r.error]
        if bad:
            raise RuntimeError(f"generation at batch {b} failed: {bad[0]}")
        tokens = sum(r.completion_tokens for r in res)
        out[f"gen_tokens_per_s_b{b}"] = tokens / secs
        out[f"gen_seconds_b{b}"] = secs
    return out


def greedy_agreement(backend: Any, n: int, max_new: int) -> tuple[int, list[str]]:
    """How many of ``n`` prompts give the same greedy text in one batch as alone."""
    reqs = gen_requests(n, max_new)
    backend.chunk_size = n
    together = [r.text for r in collect(backend.generate, reqs)]
    backend.chunk_size = 1
    alone = [r.text for r in collect(backend.generate, reqs)]
    same = sum(a == b for a, b in zip(together, alone, strict=True))
    return same, [t or "" for t in together]


def score_requests(n: int) -> list[Any]:
    from culturalign.lm.base import ScoreRequest

    return [ScoreRequest(prompt=prompt(i), continuations=OPTIONS) for i in range(n)]


def loop_logprobs(backend: Any, requests: list[Any]) -> list[list[float]]:
    """The reference: each (prompt, option) as its own sequence, one forward pass each."""
    import torch

    out = []
    model, device = backend.model, backend.device
    for r in requests:
        text = backend.render(r.prompt) + r.prefix
        row = []
        for cont in r.continuations:
            ctx, x = backend.encode_pair(text, cont)
            ids = torch.tensor([ctx + x], device=device)
            with torch.inference_mode():
                logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
            steps = torch.arange(len(ctx) - 1, len(ctx) + len(x) - 1, device=device)
            row.append(float(logp[steps, torch.tensor(x, device=device)].sum()))
        out.append(row)
    return out


def prefix_logprobs(backend: Any, requests: list[Any], batch: int) -> list[list[float]]:
    backend.chunk_size = batch
    res = collect(backend.score, requests)
    bad = [r.error for r in res if r.error]
    if bad:
        raise RuntimeError(f"scoring failed: {bad[0]}")
    return [list(r.logprobs) for r in res]


def max_abs_diff(a: list[list[float]], b: list[list[float]]) -> float:
    return max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))


def spread(rows: list[list[float]]) -> float:
    """Standard deviation of the scores: near 0 would mean a check that cannot tell apart."""
    flat = [v for r in rows for v in r]
    mean = sum(flat) / len(flat)
    return math.sqrt(sum((v - mean) ** 2 for v in flat) / len(flat))


def scoring(
    backend: Any, n_items: int, n_loop: int, batch: int
) -> tuple[dict[str, float], list[list[float]]]:
    """Items/s of the shared-prefix path, the batched whole-sequence path and the loop."""
    from culturalign.lm.backends.hf_scoring import score_continuations

    reqs = score_requests(n_items)
    prefix_logprobs(backend, reqs[:2], batch)  # warm-up
    peak_prefix, (secs, prefix) = peak_gb(
        backend.device, lambda: timed(backend.device, lambda: prefix_logprobs(backend, reqs, batch))
    )

    def full() -> None:
        backend.chunk_size = batch
        score_continuations(backend, reqs, lambda i, r: None, strategy="full")

    peak_full, (full_secs, _) = peak_gb(backend.device, lambda: timed(backend.device, full))
    loop_secs, loop = timed(backend.device, lambda: loop_logprobs(backend, reqs[:n_loop]))
    peaks = (
        {}
        if peak_prefix is None
        else {"score_peak_gpu_gb_prefix": peak_prefix, "score_peak_gpu_gb_full": peak_full}
    )
    return {
        **peaks,
        "score_items_per_s_prefix": n_items / secs,
        "score_items_per_s_full": n_items / full_secs,
        "score_items_per_s_loop": n_loop / loop_secs,
        "score_prefix_vs_loop_speedup": (n_items / secs) / (n_loop / loop_secs),
        "score_max_abs_diff_prefix_vs_loop": max_abs_diff(prefix[:n_loop], loop),
        "score_logprob_spread": spread(loop),
    }, prefix


def backoff_settles(backend: Any, start: int, n: int, max_new: int, cap: Callable[[], Any]) -> int:
    """Ask for batch ``start`` under a memory cap; the batch size the back-off keeps."""
    backend.chunk_size = start
    with cap():
        res = collect(backend.generate, gen_requests(n, max_new))
    bad = [r.error for r in res if r.error]
    if bad:
        raise RuntimeError(f"generation under the memory cap failed: {bad[0]}")
    return backend.chunk_size


def pairs(n: int) -> list[dict[str, Any]]:
    """Preference pairs in our JSONL shape: a careful answer against a dismissive one."""
    good = [
        "Customs differ; it is kind to ask your host, and to follow what others around you do.",
        "Many families here would see that as respectful, though younger people care less.",
        "Watch what your hosts do first. A small gift, offered with both hands, is welcome.",
    ]
    return [
        {
            "question_id": f"g{i}",
            "prompt": [{"role": "user", "content": f"{QUESTIONS[i % len(QUESTIONS)]} (case {i})"}],
            "chosen": [{"role": "assistant", "content": good[i % len(good)]}],
            "rejected": [{"role": "assistant", "content": "It does not matter at all; do as you like."}],
        }
        for i in range(n)
    ]


def gap_speed(model: Any, tokenizer: Any, n: int, device: str) -> dict[str, float]:
    """The held-out preference gap on ``n`` pairs: seconds, pairs/s, and its value."""
    from culturalign.records import PreferencePair
    from culturalign.train.gap import preference_gap

    items = [PreferencePair.model_validate(p) for p in pairs(n)]
    preference_gap(model, tokenizer, items[:2])  # warm-up
    secs, report = timed(device, lambda: preference_gap(model, tokenizer, items))
    if not math.isfinite(report.gap):
        raise RuntimeError(f"the preference gap is not finite: {report.gap}")
    return {"gap_pairs_per_s": n / secs, "gap_seconds": secs, "gap_value": report.gap}
