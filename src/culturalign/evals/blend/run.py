"""BLEnD short-answer questions, scored as BLEnD's published scorer does (soft exact
match, SEM-B and SEM-W; Myung et al. 2024, ``evaluation/exact_match.py`` in nlee0212/BLEnD).

The model answers each question in the region's own language and in English. Before
matching, the prompt (and the bare question) is deleted from the reply, with a leading
``Word:`` label the prompt used, so a reply that only repeats the question scores 0. A
question is left out, as BLEnD does, when no-answer + not-applicable >= 3, idk >= 5, or
it has no annotation; how many were left out, per region and why, is in the summary.

Accepted answers follow the official rule too: a local-language reply may give any
annotated answer in the local language or in English; an English reply must give an
English one. Answers are tried most-voted cluster first; SEM-W weighs a hit by its
cluster's votes over the top cluster's. Matching is on whole tokens with lemmas or stems
(``blend_match``), not on the official scorer's raw substrings; the summary names it.

A reply that is empty or whitespace only (a failed call to the model interface) counts
as wrong, since BLEnD scores it 0, and is counted apart, as is a reply that was only an
echo of the prompt; replies that failed for other reasons are counted and not scored. Accuracy comes with a
Wilson interval overall, per language and per region x language. For English-speaking
regions the local and the English question are the same, asked once as ``en``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.datasets.blend import LEFT_OUT_REASONS, left_out_reason
from culturalign.evals.blend.match import AnswerMatcher, strip_prompt
from culturalign.evals.choice.prompts import LANGUAGE_NAMES, ChoicePrompts
from culturalign.evals.choice.run import ChoiceRun
from culturalign.lm.cached import LM
from culturalign.records import GenerationParams, ShortAnswerItem
from culturalign.sampling import sample_limit
from culturalign.uncertainty import mean_interval, proportion_interval

LANGUAGES = ("local", "en")
PROTOCOL = (
    "BLEnD soft exact match (Myung et al. 2024; rules of evaluation/exact_match.py in "
    "nlee0212/BLEnD): prompt and question deleted from the reply; questions with "
    "no-answer+not-applicable>=3, idk>=5 or no annotation left out; local replies accept "
    "local or English answers, English replies English answers; SEM-B = share of questions "
    "with a hit, SEM-W = votes of the hit cluster / votes of the top cluster"
)


def answer_sets(item: ShortAnswerItem, lang: str) -> list[tuple[int, list[tuple[str, str]]]]:
    """Per annotation cluster, most votes first: its votes and the (answer, language)
    pairs that count, local answers before English ones, as the official scorer tries them."""
    out = []
    for a in sorted(item.annotations, key=lambda a: -a.count):
        pairs: list[tuple[str, str]] = []
        if lang == "local" and item.language != "en":
            pairs += [(t, item.language) for t in a.answers if t]
        pairs += [(t, "en") for t in a.en_answers if t]
        if item.language == "en":  # an English region's own answers are English too
            pairs += [(t, "en") for t in a.answers if t and (t, "en") not in pairs]
        out.append((a.count, pairs))
    return out


def score_reply(
    item: ShortAnswerItem,
    lang: str,
    reply: str,
    asked: Sequence[str],
    matcher: AnswerMatcher,
) -> dict[str, Any]:
    """One reply's verdict: the reply with the prompt removed, the answer it matched, its
    SEM-W weight, and whether it was empty or only an echo."""
    out: dict[str, Any] = {"empty": not reply.strip(), "echo_only": False}
    cleaned = strip_prompt(reply, asked) if reply.strip() else ""
    out["cleaned"] = cleaned
    if not out["empty"] and not cleaned:
        out["echo_only"] = True
    clusters = answer_sets(item, lang)
    top = max((c for c, _ in clusters), default=0) or 1
    for count, pairs in clusters:
        for answer, language in pairs:
            if cleaned and matcher.contains(cleaned, answer, language):
                out.update(matched=answer, weight=count / top, correct=True)
                return out
    out.update(matched=None, weight=0.0, correct=False)
    return out


def question_units(items: Sequence[ShortAnswerItem], languages: Sequence[str]) -> tuple[list, dict[str, Any]]:
    """(item, language, question text) to ask; what is left out, per region and reason."""
    units: list[tuple[ShortAnswerItem, str, str]] = []
    left: dict[str, dict[str, int]] = {}
    no_local = 0
    for item in items:
        reason = left_out_reason(item)
        if reason is not None:
            block = left.setdefault(item.region, dict.fromkeys(LEFT_OUT_REASONS, 0))
            block[reason] += 1
            continue
        for lang in languages:
            if lang == "local":
                if item.language == "en" and "en" in languages:
                    continue  # same question as the English one
                if not item.question:
                    no_local += 1
                    continue
                units.append((item, lang, item.question))
            else:
                # an English-speaking region's own wording is its English question
                text = item.question if item.language == "en" and item.question else item.question_en
                if text:
                    units.append((item, "en", text))
    return units, {"left_out": dict(sorted(left.items())), "no_local_text": no_local}


# How the model interface marks a reply with no text (``culturalign.lm.cached``): a call
# that failed, but an answer BLEnD scores 0, so it stays in the denominator, counted.
EMPTY_REPLY_ERROR = "empty reply"


def _empty(error: str | None) -> bool:
    return bool(error) and error.startswith(EMPTY_REPLY_ERROR)


def _cell(recs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    hits = sum(1 for r in recs if r["correct"])
    out = proportion_interval(hits, len(recs))
    w = mean_interval([r.get("weight", 0.0) for r in recs])
    out["weighted_accuracy"] = w["mean"]
    out["weighted_ci"] = [w["ci_low"], w["ci_high"]]
    out["empty_replies"] = sum(1 for r in recs if r.get("empty"))
    out["echo_only"] = sum(1 for r in recs if r.get("echo_only"))
    return out


def summarise_blend(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """SEM-B (``accuracy``) and SEM-W with intervals, overall, per language and per
    region x language. Replies the backend failed to give are counted, not scored."""
    scored = [r for r in records if r.get("correct") is not None]
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in scored:
        cells.setdefault((r["region"], r["language"]), []).append(r)
    per: dict[str, dict[str, Any]] = {}
    for (region, lang), recs in sorted(cells.items()):
        per.setdefault(region, {})[lang] = _cell(recs)
    by_lang = {
        lang: _cell([r for r in scored if r["language"] == lang]) for lang in sorted({lg for _, lg in cells})
    }
    overall = _cell(scored)
    return {
        "answered": len(scored),
        "failed": len(records) - len(scored),
        "empty_replies": overall["empty_replies"],
        "echo_only": overall["echo_only"],
        "accuracy": overall["accuracy"],
        "accuracy_interval": overall,
        "weighted_accuracy": overall["weighted_accuracy"],
        "per_language": {lang: cell["accuracy"] for lang, cell in by_lang.items()},
        "per_language_interval": by_lang,
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
    limit_order: str = "stratified",
) -> dict[str, Any]:
    """Generate short answers (greedy) and score them by BLEnD's rules."""
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad:
        from culturalign.errors import ConfigError

        raise ConfigError(f"unknown language choice(s) {bad}; use local and/or en")
    questions = [i for i in items if isinstance(i, ShortAnswerItem)]
    questions = sample_limit(questions, limit, order=limit_order)  # by region unless limit_order="file"
    prompts = ChoicePrompts(template_dir, chat)
    params = GenerationParams(temperature=0, max_new_tokens=max_new_tokens)
    matcher = AnswerMatcher()
    run = ChoiceRun(
        out_dir,
        "eval-blend",
        lm,
        {
            "questions": len(questions),
            "languages": list(languages),
            "chat": chat,
            "limit": limit,
            "limit_order": limit_order if limit is not None else None,
            "params": params.model_dump(mode="json"),
            "matcher": matcher.name,
        },
    )
    run.add_data(data_path)
    units, left = question_units(questions, languages)
    try:
        texts, asked = [], []
        for item, lang, question in units:
            note = ""
            if lang == "local" and item.language != "en":
                note = f" Write the answer in {LANGUAGE_NAMES.get(item.language, item.language)}."
            text = prompts.text("blend", question=question, language_note=note)
            asked.append((text, question))
            texts.append(prompts.prompt("blend", raw_suffix="\n", question=question, language_note=note))
        replies = lm.generate(texts, params, desc="BLEnD answers")
        records = []
        for (item, lang, question), shown, (reply,) in zip(units, asked, replies, strict=True):
            rec: dict[str, Any] = {
                "id": item.id,
                "region": item.region,
                "language": lang,
                "question_language": item.language if lang == "local" else "en",
                "topic": item.topic,
                "question": question,
                "response": reply.text,
            }
            if reply.ok or _empty(reply.error):
                verdict = score_reply(item, lang, reply.text or "", shown, matcher)
                rec.update(response_scored=verdict.pop("cleaned"), **verdict)
                if reply.error:
                    rec["error"] = reply.error
            else:
                rec.update(error=reply.error, correct=None)
            run.write_item(rec)
            records.append(rec)
    except BaseException:
        run.abort()
        raise
    summary = summarise_blend(records)
    summary.update(
        benchmark="blend",
        method="generate-match",
        protocol=PROTOCOL,
        matcher=matcher.name,
        left_out=left["left_out"],
        left_out_total=sum(sum(b.values()) for b in left["left_out"].values()),
        left_out_reasons=LEFT_OUT_REASONS,
        skipped={"no_local_text": left["no_local_text"]},
    )
    return run.finish(
        summary, *_table(summary), prompts=prompts.shas, notes=_notes(summary), title="BLEnD short answers"
    )


def _table(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    headers = ["region"]
    for lang in LANGUAGES:
        headers += [f"{lang} SEM-B", f"{lang} 95% CI", f"{lang} n"]
    headers.append("left out")
    rows = []
    blocks = [*summary["per_region"].items(), ("all", summary["per_language_interval"])]
    for region, block in blocks:
        row: list[Any] = [region]
        for lang in LANGUAGES:
            cell = block.get(lang) or {}
            ci = f"{cell['ci_low']:.3f}-{cell['ci_high']:.3f}" if cell.get("ci_low") is not None else None
            row += [cell.get("accuracy"), ci, cell.get("n")]
        gone = summary["left_out"].get(region, {}) if region != "all" else {"": summary["left_out_total"]}
        row.append(sum(gone.values()))
        rows.append(row)
    return headers, rows


def _notes(summary: dict[str, Any]) -> list[str]:
    notes = [f"Matcher: {summary['matcher']}."]
    if summary["left_out_total"]:
        why = {k: sum(b[k] for b in summary["left_out"].values()) for k in LEFT_OUT_REASONS}
        notes.append(
            f"Left out as BLEnD's scorer does: {summary['left_out_total']} questions ("
            + ", ".join(f"{n} with {LEFT_OUT_REASONS[k]}" for k, n in why.items() if n)
            + ")."
        )
    if summary["skipped"]["no_local_text"]:
        notes.append(
            f"{summary['skipped']['no_local_text']} local prompts skipped: their local text is blank."
        )
    if summary["empty_replies"] or summary["echo_only"]:
        notes.append(
            f"Scored wrong: {summary['empty_replies']} empty replies, {summary['echo_only']} replies "
            "that only repeated the prompt."
        )
    if summary["failed"]:
        notes.append(f"{summary['failed']} replies failed (backend errors) and are not scored.")
    return notes
