"""The CARE evaluation stage (paper 000 §4.1, §5 and appendix C): the model answers each
culture-specific question, a judge model rates each answer against the human
reference answer from 1 to 10, and the run directory gets the per-item records and
the CARE tables.

Run directory (the report reads it)::

    responses.jsonl   one ModelResponse per (question, sample)
    judgments.jsonl   one Judgment per response: rating or null, validity, replies, attempts
    summary.json      CareSummary: means per culture × category and × scope, counts,
                      invalid counts, bootstrap intervals, model and judge specs, notes
    table.md, table.csv   CARE Table 1 layout (categories × cultures)
    run.json          RunLog: model identities, data fingerprint, rubric shas, call stats

Both model and judge calls go through the call cache, so running the same evaluation
again makes no model calls and writes the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from culturalign.evals.care.stats import Aggregate, CareSummary, summarize
from culturalign.evals.care.tables import CareRun, category_table, to_csv, to_markdown
from culturalign.io import atomic_write_text, write_json, write_records
from culturalign.judge.core import (
    JudgeConfig,
    JudgeItem,
    items_from_responses,
    judge_items,
)
from culturalign.judge.rubric import load_rubrics
from culturalign.lm.cached import LM
from culturalign.records import CulturalQuestion, GenerationParams
from culturalign.records.judgment import Judgment
from culturalign.runlog import RunLog


def run_notes(judge_lm: LM, extra: Sequence[str] = (), judgments: Sequence[Judgment] = ()) -> list[str]:
    """Caveats every output of the run must carry: the rubric judge's notes on CARE's 1-10 scale."""
    from culturalign.judge.summary import judge_notes

    return judge_notes(judge_lm.spec, judgments, (1, 10), extra)


def write_care_outputs(
    out_dir: Path,
    judgments: Sequence[Judgment],
    summary: CareSummary,
) -> None:
    """judgments.jsonl, summary.json, table.md and table.csv for one run."""
    write_records(out_dir / "judgments.jsonl", judgments)
    write_json(out_dir / "summary.json", summary.model_dump(mode="json"))
    table = category_table([CareRun(summary.label, summary, out_dir)])
    atomic_write_text(out_dir / "table.md", to_markdown(table))
    atomic_write_text(out_dir / "table.csv", to_csv(table))


def run_care_eval(
    model_lm: LM,
    judge_lm: LM,
    questions: Sequence[CulturalQuestion],
    out_dir: str | Path,
    *,
    mode: str = "vanilla",
    lang: str = "native",
    n_samples: int = 1,
    judge_samples: int = 1,
    judge_retries: int = 2,
    params: GenerationParams | None = None,
    judge_template_dir: str | Path | None = None,
    limit: int | None = None,
    judge_params: GenerationParams | None = None,
    data_path: str | Path | None = None,
    system_prompt: str | None = None,
    template_dir: str | Path | None = None,
    label: str | None = None,
    judge_score: str = "parsed",
    limit_order: str = "stratified",
    translate_with: LM | str | None = None,
) -> CareSummary:
    """Generate (cached), judge (cached) and tabulate one model on CARE questions.

    ``params`` are the model's decoding settings (CARE's defaults when None);
    ``judge_params`` the judge's (greedy, 512 new tokens when None). ``n_samples``
    responses per question are judged separately and averaged per item;
    ``judge_samples`` judgments per response are reduced to their median; an
    invalid judgment is asked again up to ``judge_retries`` times. ``judge_score``
    is ``parsed`` (the number the judge wrote, CARE's way) or ``expected`` (the mean
    of its 1-10 probabilities: no ties between nearby answers, nothing left unparsed).
    ``limit`` draws a sample (stratified by culture × category unless ``limit_order``
    is ``file``). ``lang='en'`` needs English text for every question: missing ones are
    an error, or are translated by ``translate_with`` (an LM, or a spec loaded with the
    model's call cache) into ``translations.jsonl`` and named in every output's notes.

    Returns the ``CareSummary`` also written to ``summary.json`` (its ``cultures``
    map holds per-category ``CellStats`` with mean, counts and 95% interval).
    """
    from culturalign.generate import generate_responses
    from culturalign.sampling import limit_fields, sample_limit
    from culturalign.translation import lang_notes, prepare_lang, write_translations

    out = Path(out_dir)
    questions = sample_limit(questions, limit, order=limit_order)
    translator = _translator(translate_with, model_lm)
    translation = prepare_lang(questions, lang, translator=translator, source=data_path)
    questions = translation.questions
    out.mkdir(parents=True, exist_ok=True)
    write_translations(out / "translations.jsonl", translation)
    lang_caveats = lang_notes(model_lm, questions, lang, translation)
    rubrics = load_rubrics(judge_template_dir)
    config = JudgeConfig.build(judge_samples, judge_retries, judge_params, judge_score)

    log = RunLog(
        kind="eval-care",
        config={
            "mode": mode,
            "lang": lang,
            "n_samples": n_samples,
            **config.log_fields(),
            **limit_fields(limit, limit_order),
            **translation.log_fields(),
            "items": len(questions),
            "params": (params or GenerationParams()).model_dump(mode="json"),
            "judge_params": config.params.model_dump(mode="json"),
            "judge_template_dir": str(judge_template_dir) if judge_template_dir else None,
        },
        prompts=rubrics.shas,
    )
    log.add_model("model", model_lm)
    log.add_model("judge", judge_lm)
    if translator is not None:
        log.add_model("translator", translator)
    if data_path is not None:
        log.add_data(data_path)

    responses = generate_responses(
        model_lm,
        questions,
        mode=mode,
        lang=lang,
        n_samples=n_samples,
        params=params,
        out=out / "responses.jsonl",
        system_prompt=system_prompt,
        template_dir=template_dir,
    )
    judgments = judge_items(judge_lm, items_from_responses(responses), rubrics, config)

    notes = run_notes(judge_lm, [*lang_caveats, *rubrics.notes], judgments)
    summary = summarize(
        judgments,
        label=label or out.name,
        aggregate="mean",
        model=model_lm.spec,
        judge=judge_lm.spec,
        mode=mode,
        lang=lang,
        n_samples=n_samples,
        judge_samples=judge_samples,
        judge_retries=judge_retries,
        rubrics={name: r.sha for name, r in rubrics.rubrics.items()},
        notes=notes,
    )
    write_care_outputs(out, judgments, summary)
    log.notes.extend(notes)
    log.finish(
        out, {"model": model_lm, "judge": judge_lm, **({"translator": translator} if translator else {})}
    )
    return summary


def _translator(spec: LM | str | None, model_lm: LM) -> LM | None:
    """An LM for ``translate_with``: as given, the model itself, or loaded from a spec with
    the model's call cache (so a rerun pays for no translation twice)."""
    if spec is None or isinstance(spec, LM):
        return spec
    if spec == model_lm.spec:
        return model_lm
    from culturalign.lm import load_lm

    return load_lm(spec, cache=model_lm.cache)


def judge_responses_stage(
    judge_lm: LM,
    items: Sequence[JudgeItem],
    out_file: str | Path,
    *,
    judge_samples: int = 1,
    judge_retries: int = 2,
    judge_params: GenerationParams | None = None,
    judge_template_dir: str | Path | None = None,
    aggregate: Aggregate = "mean",
    label: str | None = None,
    inputs: Sequence[str | Path] = (),
    judge_score: str = "parsed",
) -> tuple[list[Judgment], CareSummary]:
    """Judge responses from any source (``culturalign judge``): writes ``out_file``
    (judgments JSONL), ``<out>.summary.json``, ``<out>.table.md``/``.csv`` and
    ``<out>.run.json`` beside it. ``aggregate='max'`` keeps each item's best
    response, as CARE Table 4 scores the top-10 web pages of a search."""
    out_file = Path(out_file)
    rubrics = load_rubrics(judge_template_dir)
    config = JudgeConfig.build(judge_samples, judge_retries, judge_params, judge_score)
    log = RunLog(
        kind="judge",
        config={**config.log_fields(), "aggregate": aggregate},
        prompts=rubrics.shas,
    )
    log.add_model("judge", judge_lm)
    for p in inputs:
        log.add_data(p)
    judgments = judge_items(judge_lm, items, rubrics, config)
    write_records(out_file, judgments)
    notes = run_notes(judge_lm, rubrics.notes, judgments)
    models = sorted({j.model for j in judgments if j.model})
    summary = summarize(
        judgments,
        label=label or out_file.stem,
        aggregate=aggregate,
        model=", ".join(models) or None,
        judge=judge_lm.spec,
        judge_samples=judge_samples,
        judge_retries=judge_retries,
        rubrics={name: r.sha for name, r in rubrics.rubrics.items()},
        notes=notes,
    )
    stem = out_file.with_suffix("")
    write_json(stem.with_name(stem.name + ".summary.json"), summary.model_dump(mode="json"))
    table = category_table([CareRun(summary.label, summary, out_file)])
    atomic_write_text(stem.with_name(stem.name + ".table.md"), to_markdown(table))
    atomic_write_text(stem.with_name(stem.name + ".table.csv"), to_csv(table))
    log.notes.extend(notes)
    _finish_log(log, stem.with_name(stem.name + ".run.json"), judge_lm)
    return judgments, summary


def _finish_log(log: RunLog, path: Path, judge_lm: LM) -> None:
    import time

    log.calls["judge"] = judge_lm.stats.as_dict()
    log.finished = time.time()
    write_json(path, log.model_dump(mode="json"))
