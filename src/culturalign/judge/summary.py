"""A judged benchmark's summary on a rubric's scale: the mean rating overall and per
culture, each with its n and a 95% bootstrap interval (``culturalign.uncertainty``), and
the judgments that were not scored counted, never dropped.

Used by the 1-5 rubric evaluations (CultureBank quality, PRISM cultural awareness):
one row per culture, as 002 Tables 5 and 6 lay them out, with ``n`` beside each mean
so a cell of three answers is not read like a cell of three hundred.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from culturalign.io import atomic_write_text, write_json, write_records
from culturalign.judge.rubric import Rubric
from culturalign.records.judgment import Judgment
from culturalign.uncertainty import mean_interval

UNKNOWN_CULTURE = "(unknown)"


class RubricSummary(BaseModel):
    """``summary.json`` of a rubric-judged benchmark."""

    benchmark: str
    label: str
    model: str | None = None
    judge: str | None = None
    rubric: str
    rubric_sha: str
    scale: tuple[int, int]
    score_method: str = "parsed"
    overall: dict[str, Any] = Field(description="mean, n, stderr, ci_low, ci_high, too_small")
    cultures: dict[str, dict[str, Any]] = Field(default_factory=dict, description="culture -> as overall")
    counts: dict[str, int] = Field(default_factory=dict, description="items, ok, invalid, skipped")
    judge_samples: int = 1
    judge_retries: int = 0
    extra: dict[str, Any] = Field(default_factory=dict, description="benchmark-specific counts")
    notes: list[str] = Field(default_factory=list)


def judge_notes(
    judge_spec: str,
    judgments: Sequence[Judgment],
    scale: tuple[int, int] = (1, 10),
    extra: Sequence[str] = (),
) -> list[str]:
    """Caveats every output of a judged run carries: the weak stand-in judge first, then
    ``extra``, then how the ratings were read when they are not the numbers written."""
    notes: list[str] = []
    if judge_spec.strip().split("+")[0].split(":")[0] == "embedded":
        from culturalign.models.embedded import EMBEDDED_JUDGE_WARNING

        notes.append(EMBEDDED_JUDGE_WARNING)
    notes.extend(extra)
    if any(j.score_method == "expected" for j in judgments):
        notes.append(
            f"Ratings are expected ratings (the mean of the judge's probabilities over {scale[0]}-{scale[1]} "
            "after its commentary), not the numbers it wrote; compare only runs scored the same way."
        )
    notes.extend(sorted({j.score_note for j in judgments if j.score_note}))
    from culturalign.judge.stability import judge_stability, judge_stability_note

    if stability := judge_stability_note(judge_stability(judgments)):  # --judge-samples k > 1
        notes.append(stability)
    return notes


def summarize_rubric(
    judgments: Sequence[Judgment],
    rubric: Rubric,
    *,
    benchmark: str,
    label: str,
    model: str | None = None,
    judge: str | None = None,
    judge_samples: int = 1,
    judge_retries: int = 0,
    extra: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> RubricSummary:
    """Means with intervals over the valid ratings, overall and by ``culture``."""
    ok = [j for j in judgments if j.valid and j.rating is not None]
    by_culture: dict[str, list[float]] = {}
    for j in ok:
        by_culture.setdefault(j.culture or UNKNOWN_CULTURE, []).append(float(j.rating or 0.0))
    counts = {
        "items": len(judgments),
        "ok": len(ok),
        "invalid": sum(j.status == "invalid" for j in judgments),
        "skipped": sum(j.status == "skipped" for j in judgments),
    }
    out_notes = list(notes)
    if counts["invalid"] or counts["skipped"]:
        out_notes.append(
            f"{counts['invalid']} judgment(s) gave no usable rating and {counts['skipped']} answer(s) "
            "could not be judged; they are counted here and left out of every mean"
        )
    methods = {j.score_method for j in ok}
    return RubricSummary(
        benchmark=benchmark,
        label=label,
        model=model,
        judge=judge,
        rubric=rubric.name,
        rubric_sha=rubric.sha,
        scale=rubric.scale,
        score_method=methods.pop() if len(methods) == 1 else ("mixed" if methods else "parsed"),
        overall=mean_interval([float(j.rating or 0.0) for j in ok]),
        cultures={c: mean_interval(v) for c, v in sorted(by_culture.items())},
        counts=counts,
        judge_samples=judge_samples,
        judge_retries=judge_retries,
        extra=dict(extra or {}),
        notes=out_notes,
    )


def _cell(stats: dict[str, Any]) -> tuple[str, str, str]:
    mean = "–" if stats.get("mean") is None else f"{stats['mean']:.3f}"
    ci = "–" if stats.get("ci_low") is None else f"[{stats['ci_low']:.2f}, {stats['ci_high']:.2f}]"
    return mean, ci, str(stats.get("n", 0))


def to_markdown(summary: RubricSummary) -> str:
    """The per-culture table: one row per culture and an "all" row, mean, 95% CI, n."""
    low, high = summary.scale
    lines = [
        f"# {summary.benchmark}: {summary.label}",
        "",
        f"Rubric `{summary.rubric}` ({low}-{high}, higher is better); model `{summary.model}`, "
        f"judge `{summary.judge}`.",
        "",
        "| culture | mean | 95% CI | n |",
        "| --- | ---: | :---: | ---: |",
    ]
    for culture, stats in summary.cultures.items():
        lines.append("| " + " | ".join((culture, *_cell(stats))) + " |")
    lines.append("| **all** | " + " | ".join(_cell(summary.overall)) + " |")
    c = summary.counts
    lines += [
        "",
        f"{c.get('ok', 0)} of {c.get('items', 0)} answers rated; "
        f"{c.get('invalid', 0)} invalid, {c.get('skipped', 0)} skipped.",
    ]
    if summary.notes:
        lines += ["", *(f"- {n}" for n in summary.notes)]
    return "\n".join(lines) + "\n"


def write_rubric_outputs(out: Path, judgments: Sequence[Judgment], summary: RubricSummary) -> None:
    """judgments.jsonl, summary.json and table.md of one run."""
    write_records(out / "judgments.jsonl", judgments)
    write_json(out / "summary.json", summary.model_dump(mode="json"))
    atomic_write_text(out / "table.md", to_markdown(summary))
