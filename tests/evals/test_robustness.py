"""--robustness K: option orders × wordings. Hand-made models whose behaviour is known
(one always says "(A)", one always picks the same option text) show what the figures must
say; the call cache makes a larger K pay only for new variants; the report marks what is
stable and which comparisons flip; the judge's own spread reaches the CARE notes. The
tiny-model and real-data runs are in test_robustness_real.py."""

from __future__ import annotations

import json
import math
import re

import pytest

from culturalign.datasets import cali as cali_loader
from culturalign.datasets import culturalbench as cb_loader
from culturalign.evals.choice.cali import run_cali
from culturalign.evals.choice.culturalbench import run_culturalbench
from culturalign.evals.choice.mcq import run_mcq
from culturalign.evals.choice.opinions import run_opinions
from culturalign.evals.robustness.core import agreement, permutations, spread
from culturalign.evals.robustness.opinions import extrapolability, steerability
from culturalign.lm.base import Backend, LabelScoreResult
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.paths import package_data
from culturalign.records import ChoiceItem

SAMPLE = package_data("data", "sample")


def _text(prompt) -> str:
    return prompt if isinstance(prompt, str) else "\n".join(m.content for m in prompt)


class ByPrompt(Backend):
    """Letter probabilities from a function of the prompt text; counts the prompts."""

    kind = "scripted"

    def __init__(self, probs):
        self.probs, self.calls = probs, 0

    def identity(self):
        return {"backend": "scripted-robustness"}

    def generate(self, requests, on_done):  # pragma: no cover - never asked to generate
        raise AssertionError("no generation in these tests")

    def label_logprobs(self, requests, on_done):
        for i, r in enumerate(requests):
            self.calls += 1
            ps = self.probs(_text(r.prompt), list(r.labels))
            on_done(
                i, LabelScoreResult(logprobs={lab: math.log(p) for lab, p in zip(r.labels, ps, strict=True)})
            )


def always_a(text: str, labels: list[str]) -> list[float]:
    """The model that answers "(A)" whatever the question."""
    return [0.97 if k == 0 else 0.03 / (len(labels) - 1) for k in range(len(labels))]


def likes(word: str):
    """A model that always picks the option whose text starts with ``word``, wherever it
    is listed: its answers do not depend on the order or the wording."""

    def probs(text: str, labels: list[str]) -> list[float]:
        shown = dict(re.findall(r"^\(([A-Z])\) (.*)$", text, flags=re.M))
        hit = [shown.get(lab, "").startswith(word) for lab in labels]
        return (
            [0.9 if h else 0.1 / max(1, len(labels) - sum(hit)) for h in hit]
            if any(hit)
            else [1 / len(labels)] * len(labels)
        )

    return probs


def _mcq_items(n: int = 8) -> list[ChoiceItem]:
    return [
        ChoiceItem(
            id=f"q{i}",
            question=f"Question {i}?",
            options=["Right", "Wrong one", "Wrong two", "Wrong three"],
            answer=0,
        )
        for i in range(n)
    ]


def test_permutations_are_deterministic_distinct_and_start_with_the_file_order():
    perms = permutations(4, 4, "q1")
    assert perms[0] == [0, 1, 2, 3] and perms[1] == [3, 2, 1, 0]
    assert len({tuple(p) for p in perms}) == 4 and all(sorted(p) == [0, 1, 2, 3] for p in perms)
    assert perms == permutations(4, 4, "q1")
    assert permutations(4, 6, "q1")[:4] == perms  # a larger K keeps the earlier orders
    assert len(permutations(2, 4, "q1")) == 2  # only 2! orders exist


def test_agreement_and_spread_by_hand():
    recs = [
        {
            "unit": "u",
            "variant": v,
            "wording": w,
            "order": o,
            "choice": c,
            "shown_choice": 0,
            "permutation": [0, 1],
        }
        for v, (w, o, c) in enumerate([("w1", 0, 0), ("w1", 1, 1), ("w2", 0, 0), ("w2", 1, 0)])
    ]
    a = agreement(recs)
    assert a["overall"] == 0.75 and a["all_agree"] == 0.0
    assert a["order"] == pytest.approx((0.5 + 1.0) / 2)  # w1: 0 vs 1; w2: 0 vs 0
    assert a["wording"] == pytest.approx((1.0 + 0.5) / 2)  # order 0: 0, 0; order 1: 1, 0
    assert a["first_position"] == 1.0 and a["first_position_chance"] == 0.5
    s = spread([0.2, 0.4, 0.6])
    assert (s["min"], s["max"], s["std"]) == (0.2, 0.6, pytest.approx(0.2))
    assert s["range"] == pytest.approx(0.4)


def test_a_model_that_always_says_a_is_flagged(tmp_path):
    s = run_mcq(LM(ByPrompt(always_a), None, "always-a"), _mcq_items(), tmp_path, robustness=4)
    rb = s["robustness"]
    assert not rb["stable"]
    assert rb["agreement"]["first_position"] == 1.0 and rb["agreement"]["first_position_chance"] == 0.25
    assert rb["agreement"]["order"] == pytest.approx(0.25)  # four orders, four different picks
    assert any("option-order effect" in f for f in rb["flags"]) and any(
        "position bias" in f for f in rb["flags"]
    )
    # the gold option is shown first in order 0 only: accuracy 1 there, 0 under the others
    by_order = {(v["wording"], v["order"]): v["score"] for v in rb["variants"]}
    assert by_order[("mcq", 0)] == 1.0 and by_order[("mcq", 1)] == 0.0
    assert rb["spread"]["range"] == 1.0 and rb["range_by_factor"]["wording"] == 0.0
    assert len(rb["variants"]) == 12
    lines = (tmp_path / "robustness.jsonl").read_text().splitlines()
    assert len(lines) == 8 * 12
    assert "NOT STABLE" in (tmp_path / "table.md").read_text()
    assert "position bias" in (tmp_path / "robustness.md").read_text()


def test_a_model_that_reads_the_options_is_stable(tmp_path):
    s = run_mcq(LM(ByPrompt(likes("Right")), None, "reader"), _mcq_items(), tmp_path, robustness=4)
    rb = s["robustness"]
    assert rb["stable"] and rb["flags"] == []
    assert rb["agreement"]["overall"] == 1.0 and rb["spread"]["range"] == 0.0
    assert rb["agreement"]["first_position"] == pytest.approx(0.25)  # the gold option moves


def test_a_larger_k_pays_only_for_the_new_orders(tmp_path):
    cache = CallCache(tmp_path / "calls.sqlite")
    items = _mcq_items(5)
    b2 = ByPrompt(always_a)
    run_mcq(LM(b2, cache, "a"), items, tmp_path / "k2", robustness=2)
    assert b2.calls == 5 * 3 * 2  # the headline prompt is variant 0: asked once
    b4 = ByPrompt(always_a)
    run_mcq(LM(b4, cache, "a"), items, tmp_path / "k4", robustness=4)
    assert b4.calls == 5 * 3 * 2  # only orders 2 and 3 of each wording are new


def _opinion_items() -> list[ChoiceItem]:
    return [
        ChoiceItem(
            id=f"o{i}",
            question=f"Opinion {i}?",
            options=["Agree", "Neutral", "Disagree"],
            target_distributions={
                "Aland": [0.8, 0.1, 0.1],
                "Borea": [0.5, 0.3, 0.2],
                "Cresta": [0.2, 0.3, 0.5],
                "Dunmor": [0.1, 0.1, 0.8],
            },
        )
        for i in range(6)
    ]


def test_opinions_robustness_ranks_steerability_and_extrapolability(tmp_path):
    s = run_opinions(
        LM(ByPrompt(likes("Agree")), None, "agreeable"), _opinion_items(), tmp_path, robustness=3
    )
    rb = s["robustness"]
    assert rb["agreement"]["overall"] == 1.0 and rb["spread"]["range"] == pytest.approx(0.0, abs=1e-12)
    assert rb["country_rank_tau"]["mean"] == pytest.approx(1.0)
    assert rb["unsteered"]["same_closest"] == 1.0
    assert rb["unsteered"]["closest_by_variant"][0][0] == "Aland"  # (0.9, .05, .05) is nearest Aland
    assert rb["stable"]
    # the model ignores the country it is told about: naming it gains nothing
    for c in ("Aland", "Borea", "Cresta", "Dunmor"):
        assert s["steerability"]["per_country"][c]["mean"] == pytest.approx(0.0, abs=1e-12)
    assert s["extrapolability"]["countries"] == 4
    table = (tmp_path / "table.md").read_text()
    assert "Steering gain: naming the country changes the similarity to its shares by +0.0000" in table
    assert "Extrapolability: closeness to each country on 3 training questions against 3 held-out" in table
    flagged = run_opinions(
        LM(ByPrompt(always_a), None, "always-a"), _opinion_items(), tmp_path / "a", robustness=3
    )
    assert not flagged["robustness"]["stable"]
    assert any("option-order" in f for f in flagged["robustness"]["flags"])


def test_steerability_and_extrapolability_by_hand():
    steered = [
        {"id": "q1", "country": "X", "similarity": 0.9},
        {"id": "q2", "country": "X", "similarity": 0.5},
        {"id": "q1", "country": "Y", "similarity": 0.4},
    ]
    plain = [
        {"id": "q1", "similarity_by_country": {"X": 0.7, "Y": 0.6}},
        {"id": "q2", "similarity_by_country": {"X": 0.6, "Y": 0.6}},
    ]
    st = steerability(steered, plain)
    assert st["per_country"]["X"]["mean"] == pytest.approx((0.2 - 0.1) / 2)
    assert st["per_country"]["X"]["moved_closer"] == 0.5
    assert st["per_country"]["Y"]["mean"] == pytest.approx(-0.2)
    # closeness that keeps its order across the halves correlates perfectly; one that
    # reverses on the held-out questions correlates at -1
    qs = [
        ChoiceItem(id=f"q{i}", question="?", options=["a", "b"], target_distributions={"X": [1, 0]})
        for i in range(10)
    ]
    from culturalign.datasets.survey_export import split_questions

    held = {q.id for q in split_questions(qs, 0.5, 0)[1]}
    same = {"X": 0.9, "Y": 0.7, "Z": 0.5, "W": 0.2}
    rows = [{"id": q.id, "similarity_by_country": same} for q in qs]
    ex = extrapolability(rows, qs)
    assert ex["questions"] == {"training": 5, "held_out": 5}
    assert ex["spearman"] == pytest.approx(1.0) and ex["closest_training"] == ex["closest_held_out"] == "X"
    flipped = {"X": 0.2, "Y": 0.5, "Z": 0.7, "W": 0.9}
    rows = [{"id": q.id, "similarity_by_country": flipped if q.id in held else same} for q in qs]
    assert extrapolability(rows, qs)["spearman"] == pytest.approx(-1.0)
    assert extrapolability(rows[:1], qs[:1])["spearman"] is None


def test_culturalbench_easy_and_cali_robustness(tmp_path):
    lm = LM(ByPrompt(always_a), None, "always-a")
    s = run_culturalbench(
        lm, cb_loader.load(SAMPLE / "culturalbench_easy.csv"), tmp_path / "cb", robustness=2
    )
    assert not s["robustness"]["stable"] and s["robustness"]["agreement"]["first_position"] == 1.0
    c = run_cali(lm, cali_loader.load(SAMPLE / "cali_sample.tsv"), tmp_path / "cali", robustness=3)
    rb = c["robustness"]
    assert set(rb["per_culture"]) == {"United States", "India"} and not rb["stable"]
    recs = [json.loads(x) for x in (tmp_path / "cali" / "robustness.jsonl").read_text().splitlines()]
    assert {r["pred"] for r in recs} == {"E", "N", "C"}  # "(A)" is a different relation per order


def test_text_mode_refuses_robustness(tmp_path):
    from culturalign.errors import ConfigError

    with pytest.raises(ConfigError, match="--mode letters"):
        run_mcq(LM(ByPrompt(always_a), None, "a"), _mcq_items(), tmp_path, mode="text", robustness=2)


def test_report_marks_stability_and_a_comparison_that_flips(tmp_path):
    """Two models with the same headline accuracy on the file's order: one reads the
    options, one always says "(A)". The report says which is stable, and that their
    order flips between variants (the reader is ahead once the gold option moves)."""
    from culturalign.evals.robustness.compare import ordering_verdicts
    from culturalign.report.build import build_report

    root = tmp_path / "runs"
    items = _mcq_items(6)
    reader = run_mcq(LM(ByPrompt(likes("Right")), None, "r"), items, root / "reader", robustness=3)
    biased = run_mcq(LM(ByPrompt(always_a), None, "a"), items, root / "always-a", robustness=3)
    (line,) = ordering_verdicts(reader, biased, "reader", "always-a")
    assert "NOT ROBUST" in line and "level under 3 of 9" in line  # order 0 of each wording
    same = run_mcq(LM(ByPrompt(likes("Wrong one")), None, "w"), items, root / "wrong", robustness=3)
    (line,) = ordering_verdicts(reader, same, "reader", "wrong")
    assert "robust: wrong is behind reader under all 9 variants" in line
    _, md_path = build_report([root], out=tmp_path / "report", baseline="reader")
    md = md_path.read_text()
    assert "Stability (always-a): accuracy under 3 option orders × 3 wordings: NOT STABLE" in md
    assert "Stability (reader): accuracy under 3 option orders × 3 wordings: stable" in md
    assert "always-a vs reader on accuracy: NOT ROBUST" in md


def test_judge_stability_by_hand():
    from culturalign.judge.stability import judge_stability, judge_stability_note

    def judged(*ratings):
        return {"samples": [{"sample": k, "rating": r} for k, r in enumerate(ratings)]}

    s = judge_stability([judged(7, 7, 8), judged(3, 6, 5), judged(9), judged(None, 4, 4)])
    assert s["responses"] == 3 and s["single_sample"] == 1
    assert s["mean_spread"] == pytest.approx((1 + 3 + 0) / 3) and s["max_spread"] == 3
    assert s["moved_by_2_or_more"] == pytest.approx(1 / 3)
    assert "33% of responses moved by 2 points" in judge_stability_note(s)
    assert judge_stability_note(judge_stability([judged(5)])) is None


def test_judge_samples_put_the_judges_own_spread_in_the_run_notes():
    """A scripted judge whose k = 3 samples disagree by 4 points on one of two answers:
    the CARE run notes (summary.json, table.md, report) say so."""
    from _care_scripted import scripted_lm

    from culturalign.evals.care.judged import run_notes
    from culturalign.judge.core import JudgeConfig, JudgeItem, judge_items

    ratings = {("q0", 0): 5, ("q0", 1): 5, ("q0", 2): 6, ("q1", 0): 3, ("q1", 1): 7, ("q1", 2): 5}

    def script(req):
        q = "q0" if "Question 0" in req.messages[-1].content else "q1"
        return f"Rating: [[{ratings[(q, req.sample_index)]}]]"

    items = [
        JudgeItem(item_id=f"q{i}", question=f"Question {i}?", reference="Ref.", response="An answer.",
                  category="opinion", culture="Chinese")
        for i in range(2)
    ]  # fmt: skip
    lm = scripted_lm(script, None)
    judgments = judge_items(lm, items, config=JudgeConfig(samples=3, retries=0))
    notes = run_notes(lm, (), judgments)
    assert any("differ by 2.50 on average (at most 4); 50% of responses moved by 2" in n for n in notes)


def test_report_sentences_survive_a_malformed_robustness_block():
    from culturalign.evals.robustness.compare import ordering_verdicts, stability_lines

    bad = {
        "robustness": {
            "score": "accuracy",
            "variants": [1, {"wording": "w"}, None],
            "spread": 3,
            "flags": [4],
        }
    }
    assert stability_lines(bad) == ["accuracy under None option orders × 0 wordings: NOT STABLE; range –––"
                                    " (std –), argmax agreement –."]  # fmt: skip
    assert ordering_verdicts(bad, bad, "a", "b") == []
    assert stability_lines({"robustness": "yes"}) == [] and stability_lines({}) == []
