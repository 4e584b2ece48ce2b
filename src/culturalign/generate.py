"""The generation stage: questions in, one ``ModelResponse`` per (question, sample) out.

Every call goes through the cached ``LM``; responses are streamed to ``OUT.partial``
as they arrive and the final file is written atomically at the end, so a run killed
at any point and started again pays only for what is missing and ends with exactly
one record per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from culturalign.io import JsonlAppender, write_records
from culturalign.lm.cached import LM
from culturalign.prompting import build_messages
from culturalign.records import CulturalQuestion, GenerationParams, ModelResponse


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
    prompts = [
        build_messages(
            q.text_in(lang),
            mode=mode,
            culture=q.culture,
            system_prompt=system_prompt,
            template_dir=template_dir,
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
        partial = JsonlAppender(out.with_name(out.name + ".partial"))
    try:
        completions = lm.generate(
            prompts,
            params,
            n=n_samples,
            desc=f"generate ({mode}, {lang})",
            on_result=(lambda i, k, c: partial.write(record(i, k, c))) if partial else None,
        )
    finally:
        if partial is not None:
            partial.close()
    responses = [record(i, k, c) for i, samples in enumerate(completions) for k, c in enumerate(samples)]
    if out is not None:
        write_records(out, responses)
        out.with_name(out.name + ".partial").unlink(missing_ok=True)
    return responses
