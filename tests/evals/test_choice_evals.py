"""The five choice evaluations: hand-computed results through a scripted backend, the
generate-and-parse fallback, and real runs on the sample data with a tiny model."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

import pytest

from culturalign.datasets import blend as blend_loader
from culturalign.datasets import cali as cali_loader
from culturalign.datasets import culturalbench as cb_loader
from culturalign.datasets import globalopinion
from culturalign.datasets import mcq as mcq_loader
from culturalign.evals.blend.run import run_blend
from culturalign.evals.choice.cali import predict, run_cali, split_of, tune_threshold
from culturalign.evals.choice.culturalbench import hard_question_correct, run_culturalbench
from culturalign.evals.choice.mcq import run_mcq
from culturalign.evals.choice.opinions import run_opinions
from culturalign.lm.base import Backend, LabelScoreResult, NotSupported
from culturalign.lm.cached import LM
from culturalign.paths import package_data
from culturalign.records import ChoiceItem, Completion

SAMPLE = package_data("data", "sample")


def _text(prompt) -> str:
    return prompt if isinstance(prompt, str) else "\n".join(m.content for m in prompt)


class Scripted(Backend):
    """Answers from functions of the prompt text: for testing the logic around a model."""

    kind = "scripted"

    def __init__(
        self,
        probs: Callable[[str, Sequence[str]], Sequence[float]] | None = None,
        reply: Callable[[str], str] | None = None,
    ):
        self.probs, self.reply = probs, reply
        self.prompts: list[str] = []

    def identity(self):
        return {"backend": "scripted", "id": id(self)}

    def generate(self, requests, on_done):
        for i, r in enumerate(requests):
            self.prompts.append(_text(r.messages))
            on_done(i, Completion(text=self.reply(_text(r.messages)) if self.reply else ""))

    def label_logprobs(self, requests, on_done):
        if self.probs is None:
            raise NotSupported("no log-probabilities here")
        for i, r in enumerate(requests):
            self.prompts.append(_text(r.prompt))
            ps = self.probs(_text(r.prompt), r.labels)
            on_done(
                i, LabelScoreResult(logprobs={lab: math.log(p) for lab, p in zip(r.labels, ps, strict=True)})
            )


def _lm(backend: Backend) -> LM:
    return LM(backend, None, "scripted")


def _items(path) -> list[dict]:
    return [json.loads(line) for line in (path / "items.jsonl").read_text().splitlines()]


# -- opinions -------------------------------------------------------------------------------


def test_opinions_hand_computed(tmp_path):
    items = [
        ChoiceItem(
            id="q1",
            question="Should taxes rise?",
            options=["Yes", "No"],
            target_distributions={"Japan": [0.6, 0.4], "Mexico": [1.0, 0.0]},
        ),
        ChoiceItem(
            id="q2",
            question="Pick one",
            options=["a", "b", "c"],
            target_distributions={"Japan": [1 / 3, 1 / 3, 1 / 3]},
        ),
    ]
    # the model is indifferent: equal probability for every option, whoever it speaks for
    lm = _lm(Scripted(probs=lambda text, labels: [0.2] * len(labels)))
    s = run_opinions(lm, items, tmp_path)
    # q1/Japan: m = (0.55, 0.45); KL(p‖m) = 0.0072498, KL(q‖m) = 0.0073485
    #   JSD = 0.0072992 bits, distance = 0.0854351, similarity = 0.9145649
    # q1/Mexico: similarity of (0.5, 0.5) to (1, 0) = 1 − sqrt(0.3112781) = 0.4420770
    # q2/Japan: identical distributions, similarity 1
    assert s["per_country"]["Japan"]["mean"] == pytest.approx((0.9145649 + 1.0) / 2, abs=1e-6)
    assert s["per_country"]["Mexico"]["mean"] == pytest.approx(0.4420770, abs=1e-6)
    # cultureSim: q1 → (0.9145649 + 0.4420770)/2 = 0.6783210 ; q2 → 1 ; mean 0.8391605
    assert s["culture_sim"] == pytest.approx(0.8391605, abs=1e-6)
    # balance: country means 0.9572825 and 0.4420770 → population std 0.2576027
    assert s["country_std"] == pytest.approx(0.2576027, abs=1e-6)
    assert s["unsteered"]["closest"] == ["Japan", "Mexico"]
    records = _items(tmp_path)
    assert {r["kind"] for r in records} == {"steered", "unsteered"}
    assert sum(r["kind"] == "steered" for r in records) == 3
    assert (tmp_path / "run.json").exists() and "cultureSim" in (tmp_path / "table.md").read_text()


def test_opinion_prompts_name_the_country_and_list_lettered_options(tmp_path):
    backend = Scripted(probs=lambda text, labels: [1.0 / len(labels)] * len(labels))
    run_opinions(_lm(backend), globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv")[:1], tmp_path)
    steered = [p for p in backend.prompts if "Japan" in p]
    assert steered and "(A) A lot" in steered[0] and "(D) Not at all" in steered[0]
    unsteered = [p for p in backend.prompts if not any(c in p for c in ("Japan", "Mexico", "Germany"))]
    assert len(unsteered) == 1


def test_generate_parse_fallback_is_named_in_items_and_summary(tmp_path):
    items = globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv")[2:3]  # Yes / No
    lm = _lm(Scripted(probs=None, reply=lambda text: "I would pick (B)."))
    s = run_opinions(lm, items, tmp_path, unsteered=False)
    rec = _items(tmp_path)[0]
    assert rec["method"] == "generate-parse" and rec["probs"] == [0.0, 1.0]
    assert s["methods"] == {"generate-parse": 3}
    assert any("generating and parsing" in n for n in s["notes"])


# -- CulturalBench ------------------------------------------------------------------------

P_TRUE = {  # P(True) the scripted model gives each proposed answer
    "Itadakimasu": 0.9, "Sayonara": 0.2, "Konbanwa": 0.1, "Moshi moshi": 0.3,
    "Chopsticks": 0.9, "A porcelain spoon for soup": 0.6, "Only their hands": 0.3,
    "A knife and fork for every dish": 0.45,
    "Naan": 0.2, "Injera": 0.8, "Tortilla": 0.7, "Pita": 0.1,
    "Nowruz": 0.4, "Diwali": 0.1, "Hanukkah": 0.1, "Thanksgiving": 0.1,
}  # fmt: skip


def _p_true(text: str, labels: Sequence[str]) -> list[float]:
    proposed = text.split("Proposed answer: ", 1)[1].split("\n", 1)[0]
    return [P_TRUE[proposed], 1 - P_TRUE[proposed]]


def test_culturalbench_hard_hand_computed(tmp_path):
    # Japan:    0.9 T ✓, 0.2 F ✓, 0.1 F ✓, 0.3 F ✓            → right
    # China:    0.9 T ✓, 0.6 T ✓ (two true options), 0.3 ✓, 0.45 ✓ → right
    # Ethiopia: Tortilla 0.7 judged true but false              → wrong (3 of 4 options right)
    # Iran:     Nowruz 0.4 judged false but true                → wrong (3 of 4 options right)
    # question accuracy 2/4 = 0.5 ; option accuracy 14/16 = 0.875
    s = run_culturalbench(
        _lm(Scripted(probs=_p_true)), cb_loader.load(SAMPLE / "culturalbench_hard.csv"), tmp_path
    )
    hard = s["hard"]
    assert hard["accuracy"] == 0.5 and hard["option_accuracy"] == 0.875 and hard["options"] == 16
    assert {c: v["accuracy"] for c, v in hard["per_country"].items()} == {
        "China": 1.0,
        "Ethiopia": 0.0,
        "Iran": 0.0,
        "Japan": 1.0,
    }
    ethiopia = next(r for r in _items(tmp_path) if r["country"] == "Ethiopia")
    assert ethiopia["judged_true"] == [False, True, True, False]
    assert ethiopia["option_correct"] == [True, True, False, True]


def test_hard_question_rule():
    assert hard_question_correct([True, True, False, False], [True, True, False, False])
    assert not hard_question_correct([True, False, False, False], [True, True, False, False])
    assert not hard_question_correct([True, None, False, False], [True, False, False, False])


def test_culturalbench_easy_accuracy(tmp_path):
    easy = cb_loader.load(SAMPLE / "culturalbench_easy.csv")
    # the scripted model always prefers option B: right on China, India, Ethiopia (3 of 8)
    lm = _lm(Scripted(probs=lambda text, labels: [0.1, 0.6, 0.2, 0.1]))
    s = run_culturalbench(lm, easy, tmp_path)
    assert s["easy"]["accuracy"] == pytest.approx(3 / 8)
    china = s["easy"]["per_country"]["China"]
    assert (china["accuracy"], china["n"]) == (1.0, 1)
    assert china["ci_low"] is None and china["too_small"]  # one question: no interval


# -- CALI -----------------------------------------------------------------------------------


def test_cali_per_culture_f1_and_ties(tmp_path):
    items = cali_loader.load(SAMPLE / "cali_sample.tsv")

    def probs(text, labels):  # the "India" persona always says E, the US one always N
        return [0.7, 0.2, 0.1] if "India" in text else [0.1, 0.7, 0.2]

    s = run_cali(_lm(Scripted(probs=probs)), items, tmp_path)
    us, india = s["per_culture"]["United States"], s["per_culture"]["India"]
    assert us["ties_dropped"] == 1 and us["n"] == 11 and india["n"] == 12
    # India's majority labels in the sample: E on pairs 1, 3, 5, 9, 10 (5 of 12)
    # predicting E everywhere: precision 5/12, recall 1 → F1 = 2·(5/12)/(5/12 + 1) = 10/17
    # N and C are never predicted → F1 0 → macro-F1 = (10/17)/3
    assert india["entailment_f1"] == pytest.approx(10 / 17)
    assert india["macro_f1"] == pytest.approx(10 / 17 / 3)
    assert us["entailment_f1"] == 0.0
    records = _items(tmp_path)
    assert len(records) == 24 and all(r["method"] == "logits" for r in records)


def test_cali_threshold_is_tuned_on_dev_only(tmp_path):
    items = cali_loader.load(SAMPLE / "cali_sample.tsv")
    s = run_cali(
        _lm(Scripted(probs=lambda t, labels: [0.4, 0.35, 0.25])), items, tmp_path, tune=True, dev_fraction=0.5
    )
    records = _items(tmp_path)
    dev_ids = {r["id"] for r in records if r["split"] == "dev"}
    test_ids = {r["id"] for r in records if r["split"] == "test"}
    assert dev_ids and test_ids and not dev_ids & test_ids
    india = s["per_culture"]["India"]
    assert india["n"] == len(test_ids)  # reported numbers count test pairs only
    assert india["dev_pairs"] == len(dev_ids)
    assert split_of("cali-5", 0.5) == split_of("cali-5", 0.5)  # stable


def test_threshold_helpers():
    assert predict([0.3, 0.5, 0.2]) == "N"
    assert predict([0.3, 0.5, 0.2], threshold=0.25) == "E"
    assert predict([0.1, 0.3, 0.6], threshold=0.25) == "C"
    # dev items: E has P(E) 0.4 and 0.35, the non-E item 0.3 → any t in (0.3, 0.35] is perfect
    probs = [[0.4, 0.5, 0.1], [0.35, 0.6, 0.05], [0.3, 0.6, 0.1]]
    assert tune_threshold([p[0] for p in probs], probs, ["E", "E", "N"]) == pytest.approx(0.35)


# -- BLEnD ----------------------------------------------------------------------------------

REPLIES = {
    "Sunday lunch": "A Sunday roast, usually.",
    "Easter": "They hunt for sweets.",
    "village greens": "Cricket!",
    "年夜饭": "饺子",
    "中秋节": "汤圆",
    "国球": "乒乓球。",
    "Spring Festival": "Dumplings",
    "Mid-Autumn": "Mooncakes",
    "national ball game": "Table tennis",
}


def _reply(text: str) -> str:
    return next(v for k, v in REPLIES.items() if k in text)


def test_blend_matching_per_region_and_language(tmp_path):
    backend = Scripted(reply=_reply)
    s = run_blend(_lm(backend), blend_loader.load(SAMPLE / "blend_sample"), tmp_path)
    # UK (English, asked once): roast ✓, sweets ✗, cricket ✓ → 2/3 ; its 4th question has no answers
    # China local: 饺子 ✓, 汤圆 ✗, 乒乓球 ✓ → 2/3 ; China en: all three ✓
    uk = s["per_region"]["UK"]
    assert set(uk) == {"en"} and (uk["en"]["accuracy"], uk["en"]["n"]) == (pytest.approx(2 / 3), 3)
    assert s["per_region"]["China"]["local"]["accuracy"] == pytest.approx(2 / 3)
    assert s["per_region"]["China"]["en"]["accuracy"] == 1.0
    assert s["per_language"]["en"] == pytest.approx(5 / 6)
    assert s["skipped"] == {"no_local_text": 0}
    assert s["left_out"] == {"UK": {"not_answerable": 0, "idk": 0, "no_annotation": 1}}
    local_prompt = next(p for p in backend.prompts if "年夜饭" in p)
    assert "Chinese" in local_prompt


# -- generic multiple choice ----------------------------------------------------------------


def test_mcq_letters_with_scripted_model(tmp_path):
    items = mcq_loader.load(SAMPLE / "choice_include.csv")
    # always "A": right on Japan and Iran (answers 0) → 2/6
    s = run_mcq(_lm(Scripted(probs=lambda t, labels: [0.4, 0.3, 0.2, 0.1])), items, tmp_path)
    assert s["accuracy"] == pytest.approx(2 / 6)
    assert s["per_culture"]["Iran"]["accuracy"] == 1.0


def test_an_interrupted_run_leaves_a_partial_file_not_a_half_items_file(tmp_path):
    items = mcq_loader.load(SAMPLE / "choice_include.csv")
    done = run_mcq(_lm(Scripted(probs=lambda t, labels: [0.4, 0.3, 0.2, 0.1])), items, tmp_path)
    finished = (tmp_path / "items.jsonl").read_text()

    def stop_after_two(text, labels, seen=[]):  # noqa: B006 (counts calls across the run)
        seen.append(text)
        if len(seen) > 2:
            raise KeyboardInterrupt
        return [0.1, 0.2, 0.3, 0.4]

    with pytest.raises(KeyboardInterrupt):
        run_mcq(_lm(Scripted(probs=stop_after_two)), items, tmp_path)
    assert not (tmp_path / "items.jsonl.partial").exists()  # stopped before its first record: no empty file
    assert (tmp_path / "items.jsonl").read_text() == finished  # the last finished run, untouched
    assert json.loads((tmp_path / "summary.json").read_text())["accuracy"] == done["accuracy"]
    run_mcq(_lm(Scripted(probs=lambda t, labels: [0.4, 0.3, 0.2, 0.1])), items, tmp_path)
    assert not (tmp_path / "items.jsonl.partial").exists()


# -- real runs with a tiny model ------------------------------------------------------------


def test_every_eval_runs_on_the_sample_data_with_a_tiny_model(tiny_model_dir, tmp_path):
    from culturalign.lm import load_lm

    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    s = run_opinions(lm, globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv"), tmp_path / "op")
    recs = [r for r in _items(tmp_path / "op") if r["kind"] == "steered"]
    assert len(recs) == 12 and all(sum(r["probs"]) == pytest.approx(1.0) for r in recs)
    assert 0.0 <= s["culture_sim"] <= 1.0 and s["methods"] == {"logits": 16}

    s = run_culturalbench(lm, cb_loader.load(SAMPLE / "culturalbench_easy.csv"), tmp_path / "cb")
    recs = _items(tmp_path / "cb")
    assert s["easy"]["accuracy"] == pytest.approx(sum(r["correct"] for r in recs) / len(recs))

    s = run_cali(lm, cali_loader.load(SAMPLE / "cali_sample.tsv"), tmp_path / "cali")
    from sklearn.metrics import f1_score

    us = [r for r in _items(tmp_path / "cali") if r["culture"] == "United States" and r["gold"]]
    expected = f1_score(
        [r["gold"] for r in us], [r["pred"] for r in us], labels=["E", "N", "C"], average="macro"
    )
    assert s["per_culture"]["United States"]["macro_f1"] == pytest.approx(expected)

    s = run_blend(lm, blend_loader.load(SAMPLE / "blend_sample"), tmp_path / "bl", max_new_tokens=4)
    assert s["answered"] == 9 and s["failed"] == 0

    s = run_mcq(lm, mcq_loader.load(SAMPLE / "choice_mcq.jsonl"), tmp_path / "mcq", mode="text", chat=False)
    recs = _items(tmp_path / "mcq")
    assert s["methods"] == {"continuation": 4} and all(len(r["logprobs"]) == 4 for r in recs)
    assert s["accuracy_norm"] == pytest.approx(sum(r["correct_norm"] for r in recs) / 4)
    for name in ("op", "cb", "cali", "bl", "mcq"):
        assert {"items.jsonl", "summary.json", "table.md", "table.csv", "run.json"} <= {
            p.name for p in (tmp_path / name).iterdir()
        }
    run = json.loads((tmp_path / "mcq" / "run.json").read_text())
    assert run["kind"] == "eval-mcq" and "choice/mcq_text" in run["prompts"]


class TopLogprobsMissing(Scripted):
    """An API whose top_logprobs list none of the labels (every log-probability None)."""

    def label_logprobs(self, requests, on_done):
        for i, r in enumerate(requests):
            on_done(i, LabelScoreResult(logprobs=dict.fromkeys(r.labels), method="top_logprobs"))


def test_labels_missing_from_top_logprobs_are_asked_again_by_generation(tmp_path):
    items = mcq_loader.load(SAMPLE / "choice_mcq.jsonl")
    backend = TopLogprobsMissing(reply=lambda text: "The answer is B.")
    s = run_mcq(_lm(backend), items, tmp_path)
    assert s["methods"] == {"generate-parse": 4}
    assert s["accuracy"] == pytest.approx(2 / 4)  # answers B on mcq-2 and mcq-3
    rec = _items(tmp_path)[1]
    assert rec["raw_text"] == "The answer is B." and rec["choice"] == 1 and rec["correct"]
