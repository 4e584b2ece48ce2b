"""The held-out preference gap: does the model now prefer the chosen answers?

For each held-out pair we sum the log-probabilities of the chosen and of the rejected
answer given the prompt, tokenised exactly the way TRL's DPO trainer does it (the chat
template applied to the prompt, then to prompt + answer; the answer starts where the
two token sequences part). The gap is the mean of log P(chosen) - log P(rejected).
Training on preferences should raise it on pairs the model never saw; unlike the
logged losses (noisy, and for KTO only logged on mixed batches) it is comparable
before and after training and across algorithms.

The report keeps every pair's difference (``diffs``, in held-out order), so the gap has
a bootstrap interval and a change in it, before against after training, a paired one
(``culturalign.uncertainty``): the same pairs, resampled together.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from culturalign.records import ChatMessage, PreferencePair, UnpairedExample


class GapReport(BaseModel):
    """Mean chosen-minus-rejected log-probability over held-out pairs."""

    n: int
    gap: float  # mean of summed log-prob differences
    gap_per_token: float  # the same on per-token means (the quantity SimPO optimises)
    accuracy: float | None  # share of pairs where the chosen answer is more likely (pairs only)
    chosen_logp: float
    rejected_logp: float
    diffs: list[float] = Field(
        default_factory=list, description="per held-out pair log P(chosen) - log P(rejected), in order"
    )
    per_token_diffs: list[float] = Field(default_factory=list, description="the same on per-token means")
    interval: dict[str, Any] | None = Field(
        default=None, description="bootstrap interval of the gap over pairs (uncertainty.mean_interval)"
    )


def _with_interval(report: GapReport) -> GapReport:
    from culturalign.uncertainty import mean_interval

    if report.diffs:
        stats = mean_interval(report.diffs)
        report.interval = {k: stats[k] for k in ("n", "stderr", "ci_low", "ci_high", "too_small")}
    return report


def gap_change(before: GapReport, after: GapReport) -> dict[str, Any] | None:
    """The paired change in the gap over the same held-out pairs; None when either report
    kept no per-pair differences (older training runs) or they cover different pairs."""
    from culturalign.uncertainty import paired_delta

    if not before.diffs or len(before.diffs) != len(after.diffs):
        return None
    return paired_delta(dict(enumerate(before.diffs)), dict(enumerate(after.diffs)))


LOGITS_BUDGET = 2**28  # logits per forward pass in the gap (1 GiB in float32)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _ids(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(
        messages, tokenize=True, add_generation_prompt=generation_prompt, return_dict=False
    )
    return list(out)


def split_ids(
    tokenizer: Any, prompt: list[ChatMessage], answer: list[ChatMessage]
) -> tuple[list[int], list[int]]:
    """(context ids, answer ids) as TRL builds them for conversational data."""
    p = [m.model_dump() for m in prompt]
    prompt_ids = _ids(tokenizer, p, True)
    full = _ids(tokenizer, p + [m.model_dump() for m in answer], False)
    cut = _common_prefix(prompt_ids, full)
    return full[:cut], full[cut:]


def answer_logprobs(
    model: Any,
    tokenizer: Any,
    items: Sequence[tuple[list[ChatMessage], list[ChatMessage]]],
    *,
    batch_size: int = 8,
    max_length: int = 2048,
    max_logits: int = LOGITS_BUDGET,
) -> list[tuple[float, int]]:
    """(summed log-prob, token count) of each answer given its prompt.

    A batch holds at most ``batch_size`` sequences and at most ``max_logits`` logits
    (rows x length x vocabulary): the model returns one per position and vocabulary
    entry, so eight 2048-token sequences of a 150k-token vocabulary would need 5 GB in
    bf16 for the logits alone; long sequences go in smaller batches instead.
    """
    import torch

    seqs = []
    for prompt, answer in items:
        ctx, ans = split_ids(tokenizer, prompt, answer)
        seq = (ctx + ans)[-max_length:]
        n_ans = min(len(ans), len(seq) - 1)
        seqs.append((seq, n_ans))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    results: list[tuple[float, int]] = [(0.0, 0)] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
    vocab = int(getattr(getattr(model, "config", None), "vocab_size", None) or len(tokenizer))
    start = 0
    try:
        while start < len(order):
            # the longest sequence comes first in each batch and sets its width
            fits = max(1, max_logits // max(1, len(seqs[order[start]][0]) * vocab))
            part = order[start : start + min(batch_size, fits)]
            start += len(part)
            width = max(len(seqs[i][0]) for i in part)
            ids = torch.full((len(part), width), pad, dtype=torch.long)
            mask = torch.zeros((len(part), width), dtype=torch.long)
            for row, i in enumerate(part):
                s = seqs[i][0]
                ids[row, : len(s)] = torch.tensor(s)
                mask[row, : len(s)] = 1
            with torch.inference_mode():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
                for row, i in enumerate(part):
                    s, n_ans = seqs[i]
                    if n_ans <= 0:
                        continue
                    # float32 and the softmax on the answer's positions only: over the whole
                    # [batch, length, vocabulary] block they cost gigabytes at long answers
                    first = len(s) - n_ans - 1
                    logp = torch.log_softmax(logits[row, first : len(s) - 1].float(), dim=-1)
                    toks = torch.tensor(s[len(s) - n_ans :], device=logp.device)
                    results[i] = (float(logp[torch.arange(n_ans, device=logp.device), toks].sum()), n_ans)
            del logits
    finally:
        if was_training:
            model.train()
    return results


def preference_gap(
    model: Any, tokenizer: Any, items: Sequence[PreferencePair | UnpairedExample], *, max_length: int = 2048
) -> GapReport:
    """Gap on pairs; for unpaired examples, desirable mean minus undesirable mean."""
    if not items:
        raise ValueError("no held-out items to measure the preference gap on")
    if isinstance(items[0], PreferencePair):
        pairs = [p for p in items if isinstance(p, PreferencePair)]
        scored = answer_logprobs(
            model,
            tokenizer,
            [(p.prompt, p.chosen) for p in pairs] + [(p.prompt, p.rejected) for p in pairs],
            max_length=max_length,
        )
        chosen, rejected = scored[: len(pairs)], scored[len(pairs) :]
        diffs = [c[0] - r[0] for c, r in zip(chosen, rejected, strict=True)]
        per_tok = [c[0] / max(c[1], 1) - r[0] / max(r[1], 1) for c, r in zip(chosen, rejected, strict=True)]
        return _with_interval(
            GapReport(
                n=len(pairs),
                gap=sum(diffs) / len(diffs),
                gap_per_token=sum(per_tok) / len(per_tok),
                accuracy=sum(d > 0 for d in diffs) / len(diffs),
                chosen_logp=sum(c[0] for c in chosen) / len(chosen),
                rejected_logp=sum(r[0] for r in rejected) / len(rejected),
                diffs=[round(d, 6) for d in diffs],
                per_token_diffs=[round(d, 6) for d in per_tok],
            )
        )
    examples = [e for e in items if isinstance(e, UnpairedExample)]
    scored = answer_logprobs(
        model, tokenizer, [(e.prompt, e.completion) for e in examples], max_length=max_length
    )
    good = [s for s, e in zip(scored, examples, strict=True) if e.label]
    bad = [s for s, e in zip(scored, examples, strict=True) if not e.label]
    if not good or not bad:
        raise ValueError("held-out unpaired examples need both desirable and undesirable ones")

    def mean(xs):
        return sum(xs) / len(xs)

    g, b = mean([s[0] for s in good]), mean([s[0] for s in bad])
    return GapReport(
        n=len(examples),
        gap=g - b,
        gap_per_token=mean([s[0] / max(s[1], 1) for s in good]) - mean([s[0] / max(s[1], 1) for s in bad]),
        accuracy=None,
        chosen_logp=g,
        rejected_logp=b,
    )


def heldout_gap(model_dir_or_spec: str | Path, pairs: Sequence[PreferencePair] | str | Path) -> float:
    """Mean held-out gap of a saved model (``hf:DIR``, ``embedded``, or a folder).

    ``pairs`` is a list of pairs or a pairs file. A folder holding only a LoRA adapter
    (what ``culturalign train --lora`` writes) is loaded on top of its base model.
    """
    return gap_report(model_dir_or_spec, pairs).gap


def gap_report(model_dir_or_spec: str | Path, pairs: Sequence[PreferencePair] | str | Path) -> GapReport:
    from culturalign.train.data import load_pairs
    from culturalign.train.models import load_model

    if isinstance(pairs, str | Path):
        pairs = load_pairs(pairs)
    spec = str(model_dir_or_spec)
    if Path(spec).is_dir():
        spec = f"hf:{spec}"
    loaded = load_model(spec, for_training=False)
    return preference_gap(loaded.model, loaded.tokenizer, list(pairs))
