"""BLEnD short-answer questions: the model answers in the region's own language and in
English, and an answer counts as right when it contains one of the annotated answers.

Matching folds case, Unicode forms, punctuation and English articles on both sides
(``metrics.normalise_answer``); answers in either language count, whatever language the
question was asked in. Words in Latin, Greek or Cyrillic script must match whole;
other scripts match as substrings (Chinese has no spaces; Korean and Arabic attach
particles and articles to words).

Questions no annotator could answer, and local prompts whose local text is blank, are
skipped and counted. Accuracy is reported per region and language (``local``, ``en``);
for English-speaking regions the two are the same question, asked once as ``en``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.evals.choice_prompts import LANGUAGE_NAMES, ChoicePrompts
from culturalign.evals.choice_run import ChoiceRun
from culturalign.evals.metrics import accuracy, answer_matches
from culturalign.lm.cached import LM
from culturalign.records import GenerationParams, ShortAnswerItem

LANGUAGES = ("local", "en")


def accepted_answers(item: ShortAnswerItem) -> list[str]:
    """Every annotated answer in both languages, most frequently given first."""
    out: list[str] = []
    for a in sorted(item.annotations, key=lambda a: -a.count):
        for text in [*a.answers, *a.en_answers]:
            if text and text not in out:
                out.append(text)
    return out


def _units(items: Sequence[ShortAnswerItem], languages: Sequence[str]) -> tuple[list, dict[str, int]]:
    units: list[tuple[ShortAnswerItem, str, str]] = []
    skipped = {"no_annotations": 0, "no_local_text": 0}
    for item in items:
        if not item.annotations:
            skipped["no_annotations"] += 1
            continue
        for lang in languages:
            if lang == "local":
                if item.language == "en" and "en" in languages:
                    continue  # same question as the English one
                if not item.question:
                    skipped["no_local_text"] += 1
                    continue
                units.append((item, lang, item.question))
            else:
                # an English-speaking region's own wording is its English question
                text = item.question if item.language == "en" and item.question else item.question_en
                if text:
                    units.append((item, "en", text))
    return units, skipped


def summarise_blend(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    cells: dict[tuple[str, str], list[bool]] = {}
    failed = 0
    for r in records:
        if r.get("correct") is None:
            failed += 1
            continue
        cells.setdefault((r["region"], r["language"]), []).append(r["correct"])
    per: dict[str, dict[str, Any]] = {}
    for (region, lang), flags in sorted(cells.items()):
        per.setdefault(region, {})[lang] = {"accuracy": accuracy(flags), "n": len(flags)}
    by_lang = {
        lang: accuracy(f for (_, lg), flags in cells.items() if lg == lang for f in flags)
        for lang in sorted({lg for _, lg in cells})
    }
    return {
        "answered": sum(len(v) for v in cells.values()),
        "failed": failed,
        "accuracy": accuracy(f for flags in cells.values() for f in flags),
        "per_language": by_lang,
        "per_region": per,
    }


def run_blend(
    lm: LM,
    items: Sequence[Any],
    out_dir: str | Path,
    *,
    languages: Sequence[str] = LANGUAGES,
    max_new_tokens: int = 48,
    chat: bool = True,
    template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
) -> dict[str, Any]:
    """Generate short answers (greedy) and match them against the annotations."""
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad:
        from culturalign.errors import ConfigError

        raise ConfigError(f"unknown language choice(s) {bad}; use local and/or en")
    questions = [i for i in items if isinstance(i, ShortAnswerItem)]
    if limit is not None:
        questions = questions[:limit]
    prompts = ChoicePrompts(template_dir, chat)
    params = GenerationParams(temperature=0, max_new_tokens=max_new_tokens)
    run = ChoiceRun(
        out_dir,
        "eval-blend",
        lm,
        {
            "questions": len(questions),
            "languages": list(languages),
            "chat": chat,
            "limit": limit,
            "params": params.model_dump(mode="json"),
        },
    )
    run.add_data(data_path)
    units, skipped = _units(questions, languages)
    try:
        texts = []
        for item, lang, question in units:
            note = ""
            if lang == "local" and item.language != "en":
                note = f" Write the answer in {LANGUAGE_NAMES.get(item.language, item.language)}."
            texts.append(prompts.prompt("blend", raw_suffix="\n", question=question, language_note=note))
        replies = lm.generate(texts, params, desc="BLEnD answers")
        records = []
        for (item, lang, question), (reply,) in zip(units, replies, strict=True):
            rec: dict[str, Any] = {
                "id": item.id,
                "region": item.region,
                "language": lang,
                "question_language": item.language if lang == "local" else "en",
                "topic": item.topic,
                "question": question,
                "response": reply.text,
            }
            if reply.ok:
                hit = answer_matches(reply.text or "", accepted_answers(item))
                rec.update(matched=hit, correct=hit is not None)
            else:
                rec.update(error=reply.error, correct=None)
            run.write_item(rec)
            records.append(rec)
    except BaseException:
        run.abort()
        raise
    summary = summarise_blend(records)
    summary.update(benchmark="blend", skipped=skipped, method="generate-match")
    headers = ["region", *[f"{lang} accuracy" for lang in LANGUAGES], *[f"{lang} n" for lang in LANGUAGES]]
    rows = []
    for region, block in summary["per_region"].items():
        rows.append(
            [
                region,
                *[(block.get(lang) or {}).get("accuracy") for lang in LANGUAGES],
                *[(block.get(lang) or {}).get("n") for lang in LANGUAGES],
            ]
        )
    rows.append(["all", *[summary["per_language"].get(lang) for lang in LANGUAGES], None, None])
    notes = []
    if skipped["no_annotations"] or skipped["no_local_text"]:
        notes.append(
            f"Skipped: {skipped['no_annotations']} questions without any annotated answer, "
            f"{skipped['no_local_text']} local prompts whose local text is blank."
        )
    return run.finish(summary, headers, rows, prompts=prompts.shas, notes=notes, title="BLEnD short answers")
