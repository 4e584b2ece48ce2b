"""A choice run's numbers in lm-evaluation-harness's results shape (``lm_eval_results.json``).

Leaderboard tooling reads lm-eval's JSON: ``results[task]["<metric>,none"]`` with
``"<metric>_stderr,none"`` beside it, plus ``configs``, ``versions``, ``n-shot``,
``higher_is_better`` and ``n-samples``. The task names and metrics are those
``culturalign export lm-eval`` writes (``interop.lm_eval``), so a culturalign run and an
lm-eval run of the exported task land in the same columns. The values are recomputed
from ``items.jsonl`` the way lm-eval aggregates per-document values: a plain mean with
the sample standard error (n − 1 in the variance), and ``N/A`` where lm-eval reports no
standard error (corpus-level F1 and question accuracy). A failed call has no document
value, so it is left out of ``effective`` in ``n-samples``.

Pure: no lm-eval import; culturalign's own summary.json stays the reference."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

TASK_VERSION = 1.0  # bumped with interop.lm_eval.TASK_VERSION when a task's prompts change
NA = "N/A"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def mean_stderr(values: Sequence[float]) -> float | str:
    """lm-eval's ``mean_stderr``: sample standard deviation over √n."""
    n = len(values)
    if n < 2:
        return NA
    mu = sum(values) / n
    return math.sqrt(sum((v - mu) ** 2 for v in values) / (n - 1)) / math.sqrt(n)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class _Tasks:
    """Collects each task's metrics, then lays them out as lm-eval does."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.n: dict[str, dict[str, int]] = {}
        self.tags: dict[str, list[str]] = {}

    def add(
        self,
        task: str,
        original: int,
        metrics: dict[str, tuple[float | None, float | str]],
        tags: Sequence[str] = ("culturalign",),
        effective: int | None = None,
    ) -> None:
        effective = original if effective is None else effective
        block: dict[str, Any] = {"name": task, "alias": task, "sample_len": effective}
        for name, (value, stderr) in metrics.items():
            block[f"{name},none"] = value
            block[f"{name}_stderr,none"] = stderr
        self.results[task] = block
        self.n[task] = {"original": original, "effective": effective}
        self.tags[task] = list(tags)

    def flags(
        self, task: str, flags: Sequence[bool | None], original: int, tags: Sequence[str] = ("culturalign",)
    ):
        values = [float(f) for f in flags if f is not None]
        self.add(task, original, {"acc": (_mean(values), mean_stderr(values))}, tags, len(values))


def _opinions(records: list[dict[str, Any]], out: _Tasks) -> None:
    steered = [r for r in records if r.get("kind") == "steered"]
    sims = [float(r["similarity"]) for r in steered if r.get("similarity") is not None]
    out.add(
        "culturalign_opinions",
        len(steered),
        {"similarity": (_mean(sims), mean_stderr(sims))},
        effective=len(sims),
    )


def _culturalbench(records: list[dict[str, Any]], out: _Tasks) -> None:
    tags = ("culturalign", "culturalign_culturalbench")
    easy = [r for r in records if r.get("variant") == "easy"]
    if easy:
        out.flags("culturalign_culturalbench_easy", [r.get("correct") for r in easy], len(easy), tags)
    hard = [r for r in records if r.get("variant") == "hard"]
    if hard:
        judgements = [float(ok) for r in hard if r.get("correct") is not None for ok in r["option_correct"]]
        questions = [float(r["correct"]) for r in hard if r.get("correct") is not None]
        out.add(
            "culturalign_culturalbench_hard",
            sum(len(r["options"]) for r in hard),
            {"acc": (_mean(judgements), mean_stderr(judgements)), "question_acc": (_mean(questions), NA)},
            tags,
            len(judgements),
        )


def _cali(records: list[dict[str, Any]], out: _Tasks) -> None:
    from culturalign.evals.metrics import f1_scores

    labels = ("E", "N", "C")
    by_culture: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("gold") is not None:  # a tie among annotators has no gold, in both tools
            by_culture.setdefault(r["culture"], []).append(r)
    for culture, rs in sorted(by_culture.items()):
        scored = [r for r in rs if r.get("pred") is not None]
        gold, pred = [r["gold"] for r in scored], [r["pred"] for r in scored]
        hits = [float(g == p) for g, p in zip(gold, pred, strict=True)]
        f1 = f1_scores(gold, pred, labels) if scored else {"macro": None, "E": None}
        out.add(
            f"culturalign_cali_{_slug(culture)}",
            len(rs),
            {
                "acc": (_mean(hits), mean_stderr(hits)),
                "macro_f1": (f1["macro"], NA),
                "entailment_f1": (f1["E"], NA),
            },
            ("culturalign", "culturalign_cali"),
            len(scored),
        )


def _mcq(records: list[dict[str, Any]], summary: dict[str, Any], out: _Tasks) -> None:
    blend = bool(records) and all(r.get("source") == "blend-mc" for r in records)
    task = "culturalign_blend_mcq" if blend else "culturalign_mcq"
    if summary.get("mode") == "text":
        acc = [float(r["correct"]) for r in records if r.get("correct") is not None]
        norm = [float(r["correct_norm"]) for r in records if r.get("correct_norm") is not None]
        out.add(
            f"{task}_text",
            len(records),
            {"acc": (_mean(acc), mean_stderr(acc)), "acc_norm": (_mean(norm), mean_stderr(norm))},
            effective=len(acc),
        )
    else:
        out.flags(task, [r.get("correct") for r in records], len(records))


def lm_eval_results(
    summary: dict[str, Any], records: list[dict[str, Any]], *, chat: bool | None = None
) -> dict[str, Any] | None:
    """The lm-eval-shaped results of one choice run; None for a benchmark without an
    lm-eval task (BLEnD short answers, CARE choice)."""
    benchmark = summary.get("benchmark")
    tasks = _Tasks()
    if benchmark == "opinions":
        _opinions(records, tasks)
    elif benchmark == "culturalbench":
        _culturalbench(records, tasks)
    elif benchmark == "cali":
        _cali(records, tasks)
    elif benchmark == "mcq":
        _mcq(records, summary, tasks)
    else:
        return None
    hib = {
        name: {m.split(",")[0]: True for m in block if m.endswith(",none") and "_stderr" not in m}
        for name, block in tasks.results.items()
    }
    configs = {
        name: {
            "task": name,
            "tag": tasks.tags[name],
            "output_type": "multiple_choice",
            "num_fewshot": 0,
            "metric_list": [
                {
                    "metric": m,
                    "aggregation": "mean" if m in ("acc", "acc_norm", "similarity") else m,
                    "higher_is_better": True,
                }
                for m in hib[name]
            ],
            "metadata": {
                "version": TASK_VERSION,
                "scored_by": "culturalign",
                "benchmark": benchmark,
                **(
                    {"similarity_measure": summary["similarity_measure"]}
                    if "similarity_measure" in summary
                    else {}
                ),
            },
        }
        for name in tasks.results
    }
    from culturalign import __version__

    return {
        "results": tasks.results,
        "group_subtasks": {name: [] for name in tasks.results},
        "configs": configs,
        "versions": {name: TASK_VERSION for name in tasks.results},
        "n-shot": {name: 0 for name in tasks.results},
        "higher_is_better": hib,
        "n-samples": tasks.n,
        "config": {
            "model": "culturalign",
            "model_args": summary.get("model"),
            "apply_chat_template": chat,
            "limit": None,
            "bootstrap_iters": 0,
        },
        "model_source": "culturalign",
        "model_name": summary.get("model"),
        "culturalign_version": __version__,
        "date": datetime.now(UTC).timestamp(),
    }
