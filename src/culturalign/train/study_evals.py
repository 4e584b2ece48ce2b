"""The evaluation step of a training study, chosen by name from the study config.

An evaluation takes a model spec, a folder for its outputs and an optional subset
(``native`` / ``foreign``: only items whose ``associated_culture`` matches, for the
culture-mixing study of CARE §4.5) and returns named numbers.

* ``care``: CARE's LM-as-a-judge scores (paper 000 §4.1, appendix C) through
  ``culturalign.evals.care.judged.run_care_eval``: the average and one mean per category.
* ``gap``: the held-out chosen-vs-rejected log-probability gap on the study's
  held-out pairs (cheap, no judge; what the tests and CPU demos use).

* ``opinions``, ``culturalbench``, ``cali``, ``blend``, ``mcq``: the choice and
  distribution benchmarks on ``eval.data`` (no judge), reported by their headline
  numbers (``culturalign.evals.headline``).

``register_evaluation`` adds more. ``metric_units`` reads back, from an evaluation's
output folder, the per-item values behind each metric, so that the studies can give
every change over the vanilla cell a paired interval over the same items.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from culturalign.errors import ConfigError

Subset = Literal["native", "foreign"] | None
Evaluation = Callable[[str, Path, Subset], dict[str, float]]


class EvalSettings(BaseModel):
    """Which evaluation a study runs, on what, with which judge."""

    model_config = ConfigDict(extra="forbid")

    name: str = "gap"
    data: Path | None = None
    judge: str = "embedded"
    mode: Literal["vanilla", "cot", "roleplay"] = "vanilla"
    lang: str = "native"
    limit: int | None = None
    max_new_tokens: int | None = None  # the answers (CARE's default: 1024)
    judge_max_new_tokens: int | None = None  # the judge's commentary (the judge's default: 512)
    judge_retries: int = 2
    judge_score: Literal["parsed", "expected"] = "parsed"
    cache: str | None = None  # call cache path; None = the default cache


_FACTORIES: dict[str, Callable[[EvalSettings, Path], Evaluation]] = {}


def register_evaluation(name: str, factory: Callable[[EvalSettings, Path], Evaluation]) -> None:
    """``factory(settings, heldout_pairs_path) -> evaluation``."""
    _FACTORIES[name] = factory


def make_evaluation(settings: EvalSettings, heldout_path: Path) -> Evaluation:
    if settings.name not in _FACTORIES:
        raise ConfigError(
            f"eval.name: unknown evaluation {settings.name!r}; available: {', '.join(sorted(_FACTORIES))}"
        )
    return _FACTORIES[settings.name](settings, heldout_path)


def _gap_evaluation(settings: EvalSettings, heldout_path: Path) -> Evaluation:
    from culturalign.train.data import load_pairs

    pairs = load_pairs(settings.data or heldout_path)

    def evaluate(spec: str, out_dir: Path, subset: Subset) -> dict[str, float]:
        from culturalign.train.gap import gap_report

        chosen = [p for p in pairs if subset is None or (p.associated_culture or "").lower() == subset]
        if not chosen:
            raise ConfigError(f"no held-out pairs with associated_culture {subset!r} to measure the gap on")
        report = gap_report(spec, chosen)
        from culturalign.io import write_json

        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "gap.json", report.model_dump(mode="json"))  # per-pair diffs: paired intervals
        out = {"gap": report.gap, "gap_per_token": report.gap_per_token}
        if report.accuracy is not None:
            out["accuracy"] = report.accuracy
        return out

    return evaluate


def care_metrics(summary: Any) -> dict[str, float]:
    """The average and per-category means of a ``CareSummary`` (one culture: bare labels)."""
    from culturalign.records.question import Category

    out: dict[str, float] = {}
    if summary.overall.mean is not None:
        out["average"] = float(summary.overall.mean)
    # how many answers got a valid rating: a weak judge can leave cells empty
    out["rated"] = float(summary.overall.n_rated)
    out["invalid"] = float(summary.overall.n_invalid)
    single = len(summary.cultures) == 1
    for culture, cs in summary.cultures.items():
        prefix = "" if single else f"{culture}/"
        if not single and cs.average.mean is not None:
            out[f"{prefix}average"] = float(cs.average.mean)
        for cat, stats in cs.categories.items():
            if stats.mean is None:
                continue
            try:
                label = Category(cat).label
            except ValueError:
                label = cat
            out[f"{prefix}{label}"] = float(stats.mean)
    return out


def care_units(summary: Any) -> dict[str, Any]:
    """Per-item scores behind each name ``care_metrics`` gives (an empty dict for
    summaries written before per-item scores were kept)."""
    from culturalign.evals.headline import MetricUnits
    from culturalign.records.question import Category

    if not summary.items:
        return {}
    out = {"average": MetricUnits(summary.item_scores())}
    single = len(summary.cultures) == 1
    for culture, cs in summary.cultures.items():
        prefix = "" if single else f"{culture}/"
        if not single:
            out[f"{prefix}average"] = MetricUnits(summary.item_scores(culture))
        for cat in cs.categories:
            try:
                label = Category(cat).label
            except ValueError:
                label = cat
            out[f"{prefix}{label}"] = MetricUnits(summary.item_scores(culture, category=cat))
    return out


def metric_units(name: str, eval_dir: Path) -> dict[str, Any]:
    """``{metric: MetricUnits}`` for the output folder of evaluation ``name``; {} when the
    folder holds no per-item values (an evaluation registered elsewhere, or older runs)."""
    import json

    from culturalign.evals.headline import MetricUnits, headline_units

    eval_dir = Path(eval_dir)
    if name == "gap":
        f = eval_dir / "gap.json"
        if not f.is_file():
            return {}
        report = json.loads(f.read_text(encoding="utf-8"))
        diffs, per_token = report.get("diffs") or [], report.get("per_token_diffs") or []
        if not diffs:
            return {}
        # pair accuracy is the share of pairs whose difference is positive
        out = {
            "gap": MetricUnits(dict(enumerate(diffs))),
            "accuracy": MetricUnits({i: float(d > 0) for i, d in enumerate(diffs)}),
        }
        if per_token:
            out["gap_per_token"] = MetricUnits(dict(enumerate(per_token)))
        return out
    if name == "care":
        f = eval_dir / "summary.json"
        if not f.is_file():
            return {}
        from culturalign.evals.care.stats import CareSummary

        return care_units(CareSummary.model_validate(json.loads(f.read_text(encoding="utf-8"))))
    if name in _CHOICE_KINDS:
        return headline_units(name, eval_dir)
    return {}


def _care_evaluation(settings: EvalSettings, heldout_path: Path) -> Evaluation:
    from culturalign.datasets import load_any
    from culturalign.records import CulturalQuestion, GenerationParams

    if settings.data is None:
        raise ConfigError("eval.data: the CARE evaluation needs questions (--eval-data FILE)")
    questions = [q for q in load_any(settings.data)[1] if isinstance(q, CulturalQuestion)]
    if not questions:
        raise ConfigError(f"eval.data: {settings.data} holds no culture-specific questions")
    state: dict[str, Any] = {}

    def cache_arg():
        return (
            "default"
            if settings.cache is None
            else (None if settings.cache == "off" else Path(settings.cache))
        )

    def evaluate(spec: str, out_dir: Path, subset: Subset) -> dict[str, float]:
        from culturalign.evals.care.judged import run_care_eval
        from culturalign.lm import load_lm

        items = [
            q
            for q in questions
            if subset is None or (q.associated_culture is not None and q.associated_culture.value == subset)
        ]
        if not items:
            raise ConfigError(f"{settings.data}: no questions with associated_culture {subset!r}")
        if "judge" not in state:
            state["judge"] = load_lm(settings.judge, cache=cache_arg())
        params = GenerationParams(max_new_tokens=settings.max_new_tokens) if settings.max_new_tokens else None
        judge_params = None
        if settings.judge_max_new_tokens:
            from culturalign.judge.core import JudgeConfig

            judge_params = JudgeConfig().params.model_copy(
                update={"max_new_tokens": settings.judge_max_new_tokens}
            )
        lm = load_lm(spec, cache=cache_arg())
        try:
            summary = run_care_eval(
                lm,
                state["judge"],
                items,
                out_dir,
                mode=settings.mode,
                lang=settings.lang,
                limit=settings.limit,
                params=params,
                judge_params=judge_params,
                judge_retries=settings.judge_retries,
                judge_score=settings.judge_score,
                data_path=settings.data,
            )
        finally:
            close = getattr(lm, "close", None)
            if close is not None:
                close()
        return care_metrics(summary)

    return evaluate


def _choice_evaluation(kind: str) -> Callable[[EvalSettings, Path], Evaluation]:
    def factory(settings: EvalSettings, heldout_path: Path) -> Evaluation:
        from culturalign.datasets import load_any

        if settings.data is None:
            raise ConfigError(f"eval.data: the {kind} evaluation needs its benchmark file (--eval-data PATH)")
        items = load_any(settings.data)[1]

        def evaluate(spec: str, out_dir: Path, subset: Subset) -> dict[str, float]:
            from importlib import import_module

            from culturalign.evals.headline import headline_metrics
            from culturalign.lm import load_lm

            if subset is not None:
                raise ConfigError(f"the {kind} evaluation has no native/foreign subsets; use care or gap")
            run = getattr(import_module("culturalign.evals"), f"run_{kind}")  # the package's lazy index
            cache = (
                "default"
                if settings.cache is None
                else (None if settings.cache == "off" else Path(settings.cache))
            )
            summary = run(
                load_lm(spec, cache=cache), items, out_dir, limit=settings.limit, data_path=settings.data
            )
            return headline_metrics(kind, summary)

        return evaluate

    return factory


_CHOICE_KINDS = ("opinions", "culturalbench", "cali", "blend", "mcq")
register_evaluation("gap", _gap_evaluation)
register_evaluation("care", _care_evaluation)
for _kind in _CHOICE_KINDS:
    register_evaluation(_kind, _choice_evaluation(_kind))
