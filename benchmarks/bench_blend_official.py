"""BLEnD short answers: our scorer against a re-implementation of BLEnD's published rules,
item by item, on the same replies over the real files in ``../shared/data/blend``.

Run: ``python benchmarks/bench_blend_official.py [--data PATH] [--regions UK,China]``.

The reference (``official_*`` below, kept here and not in the product) follows the rules
of ``evaluation/exact_match.py`` and ``evaluation_utils.py`` in nlee0212/BLEnD:
the prompt is deleted from the reply and a leading ``Word:`` label whose word the prompt
used is removed, the reply is lower-cased and stripped of dots; questions with
no-answer + not-applicable >= 3, idk >= 5 or no annotation are left out; clusters are
tried in file order, local answers then English ones for a local-language reply and
English ones only for an English reply; an answer is found when it, or it with hyphens
and spaces swapped, is a raw substring of the reply, or else when every one of its tokens
(lower-cased, combining acute removed, punctuation dropped) is among the reply's tokens.
The official tokens are lemmas from Okt, spaCy, Spark NLP, qalsadi, hazm and CLTK, which
cannot be installed here; the reference uses whitespace tokens instead, except for
Chinese, where it uses jieba as the official scorer does. So the reference is exact on
the rules and approximate on the lemmas.

Replies are cheap and known (no model): the question echoed, the whole prompt echoed,
the top annotated answer, that answer in a sentence, in the plural or without accents,
and another region's top answer to the same question. Printed (``name: value``): per
region the scored-question count under both (they must be equal), and per reply source
and region x language our SEM-B, the reference's, and the share of items on which the
two agree, with the disagreements counted by direction.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from string import punctuation

from culturalign.datasets import blend as blend_data
from culturalign.evals.blend.match import AnswerMatcher, fold
from culturalign.evals.blend.run import answer_sets, question_units, score_reply
from culturalign.evals.choice.prompts import LANGUAGE_NAMES, ChoicePrompts

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = (REPO / ".." / "shared" / "data" / "blend").resolve()
_ACUTE = {ord("\N{COMBINING ACUTE ACCENT}"): None}


# -- the reference: BLEnD's rules ---------------------------------------------------------


def official_excluded(entry: dict) -> bool:
    idks = entry.get("idks") or {}
    return (
        idks.get("no-answer", 0) + idks.get("not-applicable", 0) >= 3
        or idks.get("idk", 0) >= 5
        or len(entry.get("annotations") or []) == 0
    )


def _official_punct(text: str) -> str:
    return text.replace("：", ":").replace("、", ",").replace("，", ",").replace("。", ".")


def official_clean(reply: str, prompt: str) -> str:
    text = _official_punct(reply.replace(prompt, "")).lower()
    prompt = _official_punct(prompt).lower()
    best = ""
    for label in re.findall(r"^(\w+:)\s", text):
        if len(label) > len(best) and label.replace(":", "") in prompt:
            best = label
    text = text.replace(best, "").strip() if best else text.strip()
    return text.strip(".").lower()


def _official_tokens(text: str, language: str) -> list[str]:
    if language == "zh":
        import jieba

        toks = list(jieba.cut(text))
    else:
        toks = text.split()
    return [
        unicodedata.normalize("NFD", t).translate(_ACUTE).lower() for t in toks if t not in punctuation and t
    ]


def official_found(answer: str, reply: str, language: str) -> bool:
    if answer in reply or answer.replace("-", " ") in reply or answer.replace(" ", "-") in reply:
        return True
    have = _official_tokens(reply, language)
    return all(a in have for a in _official_tokens(answer, language))


def official_correct(entry: dict, reply: str, language: str, local: bool) -> bool:
    if not reply:
        return False
    for cluster in entry["annotations"]:
        local_answers = cluster["answers"] if local and language != "en" else []
        if any(official_found(a, reply, language) for a in local_answers):
            return True
        if any(official_found(a, reply, "en") for a in cluster["en_answers"]):
            return True
    return False


# -- replies ------------------------------------------------------------------------------

_STRIP_ACCENTS = re.compile(r"[\u0300-\u036f]")


def _plural(answer: str, language: str) -> str | None:
    """A one-word English or Spanish answer in the plural, by the regular rules."""
    if language not in ("en", "es") or not re.fullmatch(r"[^\W\d_]{3,}", answer) or answer.endswith("s"):
        return None
    low = answer.lower()
    if language == "en":
        if low.endswith(("x", "z", "ch", "sh")):
            return answer + "es"
        if low.endswith("y") and low[-2] not in "aeiou":
            return answer[:-1] + "ies"
        return answer + "s"
    if low.endswith("z"):
        return answer[:-1] + "ces"
    return answer + ("s" if low[-1] in "aeiouáéíóú" else "es")


def _top_answer(item, lang: str) -> tuple[str, str] | None:
    for _, pairs in answer_sets(item, lang):
        if pairs:
            return pairs[0]
    return None


def replies_for(item, lang: str, question: str, prompt: str, others: dict) -> dict[str, str]:
    out = {"echo_question": question, "echo_prompt": prompt}
    top = _top_answer(item, lang)
    if top:
        answer, language = top
        out["gold"] = answer
        out["gold_in_sentence"] = {
            "en": f"I think it is {answer}, mostly.",
            "es": f"Creo que es {answer}, sobre todo.",
        }.get(language, f"{answer} ...")
        plural = _plural(answer, language)
        if plural:
            out["gold_plural"] = plural
        plain = _STRIP_ACCENTS.sub("", unicodedata.normalize("NFD", answer))
        if plain != unicodedata.normalize("NFD", answer):
            out["gold_no_accents"] = unicodedata.normalize("NFC", plain)
    other = others.get((item.id.split("/", 1)[1], lang, item.region))
    if other:
        out["other_region_answer"] = other
    return out


def _model_sample(args, units, shown, raw, prompts, matcher) -> dict:
    """Real replies: the first ``--model-sample`` units of each region x language, asked
    as ``eval blend`` asks them (chat template, greedy, 48 new tokens)."""
    from culturalign.lm.registry import load_lm
    from culturalign.records import ChatMessage, GenerationParams

    taken: dict[tuple[str, str], int] = defaultdict(int)
    chosen = []
    for k, (item, lang, _) in enumerate(units):
        if taken[(item.region, lang)] < args.model_sample:
            taken[(item.region, lang)] += 1
            chosen.append(k)
    lm = load_lm(args.model, cache="default")
    params = GenerationParams(temperature=0, max_new_tokens=48)
    t = time.perf_counter()
    replies = lm.generate(
        [(ChatMessage(role="user", content=shown[k]),) for k in chosen], params, desc="replies"
    )
    print(f"model_sample_generation_s: {time.perf_counter() - t:.1f}")
    out: dict[tuple[str, str, str], list[tuple[bool, bool]]] = defaultdict(list)
    for k, (reply,) in zip(chosen, replies, strict=True):
        item, lang, question = units[k]
        text = reply.text or ""
        ours = score_reply(item, lang, text, (shown[k], question), matcher)["correct"]
        ref = official_correct(
            raw[item.id][1], official_clean(text, shown[k]), item.language, lang == "local"
        )
        out[(f"model:{args.model}", item.region, lang)].append((ours, ref))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--regions", default="", help="comma-separated; default: every region in the folder")
    ap.add_argument(
        "--model-sample",
        type=int,
        default=0,
        help="also score this many real replies per region x language from --model (greedy)",
    )
    ap.add_argument("--model", default="embedded", help="model spec for --model-sample")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} is absent (it exists only on the team's machines)")
        return 0
    t0 = time.perf_counter()
    items = blend_data.load(args.data)
    wanted = {r.strip().replace("_", " ") for r in args.regions.split(",") if r.strip()}
    if wanted:
        items = [i for i in items if i.region in wanted]
    raw = {}
    for f in sorted((args.data / "annotations").glob("*_data.json")):
        region = blend_data.display_region(blend_data.region_of(f))
        for qid, entry in json.loads(f.read_text(encoding="utf-8")).items():
            raw[f"{blend_data.region_of(f)}/{qid}"] = (region, entry)

    # counts of scored questions: ours against the official rule
    units, _ = question_units(items, ("local", "en"))
    ours_q: dict[str, set] = defaultdict(set)
    for item, _, _ in units:
        ours_q[item.region].add(item.id)
    ours_q_kept = defaultdict(int)
    for item in items:
        if blend_data.left_out_reason(item) is None:
            ours_q_kept[item.region] += 1
    official_q = defaultdict(int)
    for region, entry in raw.values():
        if not official_excluded(entry) and (not wanted or region in wanted):
            official_q[region] += 1
    for region in sorted(official_q):
        print(f"scored_questions/{region}: ours={ours_q_kept[region]} official={official_q[region]}")
    print(f"scored_questions_equal: {dict(ours_q_kept) == dict(official_q)}")

    # other regions' top English answers to the same question id (BLEnD shares ids)
    top_en: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in items:
        top = _top_answer(item, "en")
        if top:
            top_en[item.id.split("/", 1)[1]].append((item.region, top[0]))
    others = {}
    for item in items:
        qid = item.id.split("/", 1)[1]
        for region, ans in top_en.get(qid, []):
            if region != item.region:
                others[(qid, "en", item.region)] = ans
                break

    prompts = ChoicePrompts(None, True)
    matcher = AnswerMatcher()
    cells: dict[tuple[str, str, str], list[tuple[bool, bool]]] = defaultdict(list)
    shown = []
    for item, lang, question in units:
        note = ""
        if lang == "local" and item.language != "en":
            note = f" Write the answer in {LANGUAGE_NAMES.get(item.language, item.language)}."
        prompt = prompts.text("blend", question=question, language_note=note)
        shown.append(prompt)
        entry = raw[item.id][1]
        for source, reply in replies_for(item, lang, question, prompt, others).items():
            ours = score_reply(item, lang, reply, (prompt, question), matcher)["correct"]
            ref = official_correct(entry, official_clean(reply, prompt), item.language, lang == "local")
            cells[(source, item.region, lang)].append((ours, ref))
    if args.model_sample:
        for key, pairs in _model_sample(args, units, shown, raw, prompts, matcher).items():
            cells[key] = pairs

    print(f"matcher: {matcher.name}")
    by_source: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for (source, region, lang), pairs in sorted(cells.items()):
        by_source[source].extend(pairs)
        n = len(pairs)
        ours = sum(o for o, _ in pairs) / n
        ref = sum(r for _, r in pairs) / n
        agree = sum(o == r for o, r in pairs) / n
        only_ours = sum(o and not r for o, r in pairs)
        only_ref = sum(r and not o for o, r in pairs)
        print(
            f"{source}/{region}/{lang}: n={n} ours={ours:.3f} official={ref:.3f} agreement={agree:.3f} "
            f"only_ours={only_ours} only_official={only_ref}"
        )
    for source, pairs in sorted(by_source.items()):
        n = len(pairs)
        print(
            f"{source}/all: n={n} ours={sum(o for o, _ in pairs) / n:.3f} "
            f"official={sum(r for _, r in pairs) / n:.3f} agreement={sum(o == r for o, r in pairs) / n:.3f}"
        )
    print(f"folded_example: {fold('Μουσακάς')}")
    print(f"elapsed_s: {time.perf_counter() - t0:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
