"""How well a judge agrees with native speakers (CARE paper 000 appendix C.2, Figure 10).

CARE validated GPT-4o as its judge on responses that native speakers had rated 1-10:
Pearson 0.933, Spearman 0.901, Kendall's tau 0.733. Here any judge is run on responses
that carry human ratings (the CARE preference release's shape) and compared the same
way, with both rating histograms side by side.

Pairs are (human rating, judge rating) for responses with both. Responses the judge
could not rate are counted, not paired. A response whose text *is* the question's
reference answer (the human-written row doubles as the reference when a release has
no separate answer column) is left out: it would be compared with itself.

The statistics and the histograms take any rubric's scale (``scale=(1, 5)`` for the
1-5 rubrics); ``agreement_of`` pairs the judgments of any rubric run whose items carry
a human rating.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from culturalign.errors import ConfigError
from culturalign.io import write_json, write_records
from culturalign.judge.core import JudgeConfig, JudgeItem, judge_items
from culturalign.judge.rubric import load_rubrics
from culturalign.lm.cached import LM
from culturalign.records import CulturalQuestion, GenerationParams
from culturalign.records.judgment import Judgment
from culturalign.runlog import RunLog

BINS = list(range(1, 11))


class AgreementStats(BaseModel):
    n_pairs: int
    pearson: float | None = None
    pearson_p: float | None = None
    spearman: float | None = None
    spearman_p: float | None = None
    kendall_tau: float | None = None
    kendall_p: float | None = None
    human_histogram: dict[int, int] = Field(default_factory=dict)
    judge_histogram: dict[int, int] = Field(default_factory=dict)
    note: str | None = None


class AgreementReport(BaseModel):
    judge: str
    stats: AgreementStats
    n_responses: int
    n_invalid: int
    n_skipped: int
    n_self_reference: int = Field(description="responses left out because they are the reference answer")
    notes: list[str] = Field(default_factory=list)
    histogram_png: str | None = None


def rating_bin(rating: float, scale: tuple[int, int] = (1, 10)) -> int:
    """Nearest whole rating (halves round up), for histograms only."""
    return min(scale[1], max(scale[0], math.floor(rating + 0.5)))


def histogram(ratings: Sequence[float], scale: tuple[int, int] = (1, 10)) -> dict[int, int]:
    counts = dict.fromkeys(range(scale[0], scale[1] + 1), 0)
    for r in ratings:
        counts[rating_bin(r, scale)] += 1
    return counts


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def agreement(
    human: Sequence[float], judge: Sequence[float], scale: tuple[int, int] = (1, 10)
) -> AgreementStats:
    """Pearson, Spearman and Kendall's tau-b (scipy) between paired ratings."""
    if len(human) != len(judge):
        raise ValueError(f"{len(human)} human ratings but {len(judge)} judge ratings")
    stats = AgreementStats(
        n_pairs=len(human), human_histogram=histogram(human, scale), judge_histogram=histogram(judge, scale)
    )
    if len(human) < 2 or len(set(human)) < 2 or len(set(judge)) < 2:
        stats.note = (
            "correlation is undefined: fewer than 2 pairs, or one side gives every response the same rating"
        )
        return stats
    from scipy import stats as st

    p = st.pearsonr(human, judge)
    s = st.spearmanr(human, judge)
    k = st.kendalltau(human, judge)
    stats.pearson, stats.pearson_p = _finite(p.statistic), _finite(p.pvalue)
    stats.spearman, stats.spearman_p = _finite(s.statistic), _finite(s.pvalue)
    stats.kendall_tau, stats.kendall_p = _finite(k.statistic), _finite(k.pvalue)
    return stats


def agreement_of(judgments: Sequence[Judgment], scale: tuple[int, int] = (1, 10)) -> AgreementStats:
    """Agreement between the judge and the human ratings its items carried (judgments
    with no valid rating or no human rating are not paired)."""
    pairs = [(j.human_rating, j.rating) for j in judgments if j.valid and j.human_rating is not None]
    return agreement([h for h, _ in pairs], [float(r or 0.0) for _, r in pairs], scale)


def items_from_preferences(questions: Sequence[CulturalQuestion]) -> tuple[list[JudgeItem], int]:
    """One judge item per human-rated response; returns (items, self-reference count)."""
    items: list[JudgeItem] = []
    self_ref = 0
    for q in questions:
        for k, r in enumerate(q.responses):
            if r.rating is None:
                continue
            if q.reference_answer is not None and r.text.strip() == q.reference_answer.strip():
                self_ref += 1
                continue
            items.append(
                JudgeItem(
                    item_id=q.id,
                    question=q.text,
                    reference=q.reference_answer,
                    response=r.text,
                    sample_index=k,
                    category=q.category.value if q.category else None,
                    scope=q.geographic_scope.value if q.geographic_scope else None,
                    culture=q.culture,
                    model=r.producer,
                    human_rating=r.rating,
                )
            )
    return items, self_ref


def plot_histograms(human: dict[int, int], judge: dict[int, int], path: Path, judge_name: str) -> Path:
    """Side-by-side bars of the two rating distributions (CARE Figure 10) as a PNG; the
    bars are the histograms' own bins, so a 1-5 rubric gets five."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    width = 0.4
    bins = sorted({int(b) for b in (*human, *judge)}) or BINS
    ax.bar([b - width / 2 for b in bins], [human.get(b, 0) for b in bins], width, label="native human raters")
    ax.bar(
        [b + width / 2 for b in bins], [judge.get(b, 0) for b in bins], width, label=f"judge: {judge_name}"
    )
    ax.set_xticks(bins)
    ax.set_xlabel(f"rating ({bins[0]}: poor → {bins[-1]}: excellent)")
    ax.set_ylabel("responses")
    weak = judge_name.split("+")[0].split(":")[0] == "embedded"
    ax.set_title("Rating distributions: judge vs. humans" + (" (weak stand-in judge)" if weak else ""))
    ax.legend(frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def run_judge_agreement(
    judge_lm: LM,
    questions: Sequence[CulturalQuestion],
    out_dir: str | Path,
    *,
    judge_samples: int = 1,
    judge_retries: int = 2,
    judge_params: GenerationParams | None = None,
    judge_template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
    judge_score: str = "parsed",
    limit_order: str = "stratified",
) -> AgreementReport:
    """Judge human-rated responses and compare; writes judgments.jsonl, agreement.json,
    histograms.png and run.json to ``out_dir``. ``limit`` counts questions (a sample
    stratified by culture × category unless ``limit_order`` is ``file``)."""
    from culturalign.judge.summary import judge_notes
    from culturalign.sampling import limit_fields, sample_limit

    questions = sample_limit(questions, limit, order=limit_order)
    if not any(r.rating is not None for q in questions for r in q.responses):
        # e.g. a CARE test file: judging would run, but there is nothing to agree with
        raise ConfigError(
            f"{data_path or 'the data'}: holds no human-rated responses; judge agreement needs "
            "rated answers (a CARE preference file, or CulturalQuestion JSONL with responses)"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rubrics = load_rubrics(judge_template_dir)
    config = JudgeConfig.build(judge_samples, judge_retries, judge_params, judge_score)
    log = RunLog(
        kind="judge-agreement",
        config={**config.log_fields(), **limit_fields(limit, limit_order)},
        prompts=rubrics.shas,
    )
    log.add_model("judge", judge_lm)
    if data_path is not None:
        log.add_data(data_path)

    items, self_ref = items_from_preferences(questions)
    judgments = judge_items(judge_lm, items, rubrics, config)
    write_records(out / "judgments.jsonl", judgments)
    stats = agreement_of(judgments)
    png = plot_histograms(stats.human_histogram, stats.judge_histogram, out / "histograms.png", judge_lm.spec)
    notes = judge_notes(judge_lm.spec, judgments, extra=rubrics.notes)
    report = AgreementReport(
        judge=judge_lm.spec,
        stats=stats,
        n_responses=len(items),
        n_invalid=sum(1 for j in judgments if j.status == "invalid"),
        n_skipped=sum(1 for j in judgments if j.status == "skipped"),
        n_self_reference=self_ref,
        notes=notes,
        histogram_png=png.name,
    )
    write_json(out / "agreement.json", report.model_dump(mode="json"))
    log.notes.extend(notes)
    log.finish(out, {"judge": judge_lm})
    return report
