"""The generation stage: questions in, one ``ModelResponse`` per (question, sample) out.

Every call goes through the cached ``LM``; new responses are streamed to ``OUT.partial``
as they arrive (for a user to watch) and the final file is written atomically at the
end, so a run killed at any point and started again pays only for what is missing and
ends with exactly one record per item. The call cache is what makes a rerun cheap: the
partial file is flushed per record (it survives a killed process) but fsynced only
when there is no cache to hold the answers, since an fsync per answer costs more than
a small model's answer itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import DataError, Problem
from culturalign.io import JsonlAppender, write_json, write_records
from culturalign.lm.cached import LM
from culturalign.prompting import build_messages, load_mode
from culturalign.records import CulturalQuestion, GenerationParams, ModelResponse, ShortAnswerItem
from culturalign.sampling import limit_fields


def generate_responses(
    lm: LM,
    questions: Sequence[CulturalQuestion],
    *,
    mode: str = "vanilla",
    lang: str = "native",
    n_samples: int = 1,
    params: GenerationParams | None = None,
    out: str | Path | None = None,
    system_prompt: str | None = None,
    template_dir: str | Path | None = None,
) -> list[ModelResponse]:
    """Answer each question ``n_samples`` times; ``lang='en'`` uses English translations
    where the data has them (CARE's cross-lingual comparison, paper 000 §5.2)."""
    if lang not in ("native", "en"):
        from culturalign.errors import ConfigError

        raise ConfigError(f"--lang must be 'native' or 'en', not {lang!r}")
    params = params or GenerationParams()
    template = load_mode(mode, template_dir)
    prompts = [
        build_messages(
            q.text_in(lang), mode=mode, culture=q.culture, system_prompt=system_prompt, template=template
        )
        for q in questions
    ]

    def record(i: int, k: int, c) -> ModelResponse:
        q = questions[i]
        return ModelResponse(
            item_id=q.id,
            model=lm.spec,
            mode=mode,
            lang=lang,
            sample_index=k,
            messages=prompts[i],
            text=c.text,
            error=c.error,
            prompt_tokens=c.prompt_tokens,
            completion_tokens=c.completion_tokens,
            cached=c.cached,
            culture=q.culture,
            category=q.category.value if q.category else None,
            geographic_scope=q.geographic_scope.value if q.geographic_scope else None,
            question=q.text_in(lang),
            reference_answer=q.reference_in(lang),
        )

    partial = None
    if out is not None:
        out = Path(out)
        # with a call cache the partial file can be rebuilt from it: flush, skip fsync
        partial = JsonlAppender(out.with_name(out.name + ".partial"), fsync=lm.cache is None)
    try:
        completions = lm.generate(
            prompts,
            params,
            n=n_samples,
            desc=f"generate ({mode}, {lang})",
            # answers served from the cache are already safe there: only new ones are streamed
            on_result=(lambda i, k, c: c.cached or partial.write(record(i, k, c))) if partial else None,
        )
    finally:
        if partial is not None:
            partial.close()
    responses = [record(i, k, c) for i, samples in enumerate(completions) for k, c in enumerate(samples)]
    if out is not None:
        write_records(out, responses)
        out.with_name(out.name + ".partial").unlink(missing_ok=True)
    return responses


def load_questions(
    path: str | Path,
    fmt: str | None = None,
    limit: int | None = None,
    limit_order: str = "stratified",
) -> list[CulturalQuestion]:
    """Questions to answer from any loadable file: culture-specific questions as they are,
    BLEnD-style short-answer items as questions in their region's language.

    ``limit`` draws a sample (``culturalign.sampling``: stratified by culture × category
    or region unless ``limit_order='file'``); a limited JSONL file is streamed, so the
    memory used does not grow with the file."""
    from culturalign.datasets import detect_format, load_any
    from culturalign.datasets.rows import container
    from culturalign.sampling import sample_limit

    records: Iterable[Any]
    local = not str(path).startswith("hf:") and fmt != "hub"
    if (
        limit is not None
        and local
        and Path(path).is_file()
        and container(Path(path)) == "jsonl"
        and ((fmt or detect_format(path)) == "jsonl")
    ):
        from culturalign.datasets.jsonl_stream import iter_records

        name, records = "jsonl", iter_records(path)
    else:
        name, records = load_any(path, fmt)
    return sample_limit((_as_question(rec, name, path) for rec in records), limit, order=limit_order)


def _as_question(rec: Any, name: str, path: str | Path) -> CulturalQuestion:
    if isinstance(rec, CulturalQuestion):
        return rec
    if isinstance(rec, ShortAnswerItem):
        if not rec.question.strip():
            en = f" (its English text: {rec.question_en!r})" if rec.question_en else ""
            raise DataError(
                [Problem(str(path), f"item {rec.id}", "question", f"empty in {rec.language}{en}")]
            )
        return CulturalQuestion(
            id=rec.id,
            text=rec.question,
            text_en=rec.question_en,
            language=rec.language,
            culture=rec.region,
            source=rec.source,
        )
    kind = type(rec).__name__
    raise DataError(
        [Problem(str(path), None, None, f"{name} data holds {kind} records; generate answers questions")]
    )


def summarize(lm: LM, responses: Sequence[ModelResponse], elapsed: float, **extra: Any) -> dict[str, Any]:
    """What a run did and cost: calls made, cache hits, failures, tokens, cost, retries."""
    failed = sum(r.error is not None for r in responses)
    return {
        **extra,
        "responses": len(responses),
        "answered": len(responses) - failed,
        "failed": failed,
        "elapsed_s": round(elapsed, 3),
        "identity": lm.identity,
        **lm.summary(),
    }


def generate_file(
    lm: LM,
    data: str | Path,
    out: str | Path,
    *,
    fmt: str | None = None,
    limit: int | None = None,
    limit_order: str = "stratified",
    mode: str = "vanilla",
    lang: str = "native",
    n_samples: int = 1,
    params: GenerationParams | None = None,
    system_prompt: str | None = None,
    template_dir: str | Path | None = None,
    questions: Sequence[CulturalQuestion] | None = None,
    translate_with: LM | None = None,
) -> dict[str, Any]:
    """``culturalign generate``: answer a data file's questions into ``out`` and write
    ``OUT.summary.json`` beside it (``questions`` = already loaded from ``data``).

    With ``lang='en'`` every question needs English text: questions without it are an
    error, or are translated by ``translate_with`` (written to
    ``OUT.translations.jsonl``, and named in the summary's notes). Returns the summary."""
    from culturalign.translation import lang_notes, prepare_lang, write_translations

    started = time.monotonic()
    if questions is None:
        questions = load_questions(data, fmt, limit, limit_order)
    translation = prepare_lang(questions, lang, translator=translate_with, source=data)
    questions = translation.questions
    write_translations(Path(out).with_name(Path(out).name + ".translations.jsonl"), translation)
    notes = lang_notes(lm, questions, lang, translation)
    params = params or GenerationParams()
    responses = generate_responses(
        lm,
        questions,
        mode=mode,
        lang=lang,
        n_samples=n_samples,
        params=params,
        out=out,
        system_prompt=system_prompt,
        template_dir=template_dir,
    )
    out = Path(out)
    summary = summarize(
        lm,
        responses,
        time.monotonic() - started,
        data=str(data),
        out=str(out),
        items=len(questions),
        **limit_fields(limit, limit_order),
        mode=mode,
        lang=lang,
        **translation.log_fields(),
        n_samples=n_samples,
        params=params.model_dump(mode="json"),
        template_sha=load_mode(mode, template_dir).sha,
        system_prompt=system_prompt,
        notes=notes,
    )
    write_json(summary_path(out), summary)
    return summary


def summary_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".summary.json")
