"""cultureSim's two definitions (1 − JS distance, 1 − JS divergence), named in every output,
with bootstrap intervals whose units are questions. Numbers are computed by hand."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from culturalign.errors import ConfigError
from culturalign.evals.choice.opinions import run_opinions, summarise_opinions
from culturalign.evals.metrics import js_divergence, jsd_similarity, opinion_similarity
from culturalign.lm.base import Backend, LabelScoreResult
from culturalign.lm.cached import LM
from culturalign.paths import package_data
from culturalign.records import ChoiceItem


class Uniform(Backend):
    """Equal probability for every option, whoever the model speaks for."""

    kind = "scripted"

    def identity(self):
        return {"backend": "scripted", "id": "uniform"}

    def generate(self, requests, on_done):  # never asked: the scores come from probabilities
        raise AssertionError("opinions are scored from probabilities")

    def label_logprobs(self, requests, on_done):
        for i, r in enumerate(requests):
            on_done(i, LabelScoreResult(logprobs={lab: math.log(1 / len(r.labels)) for lab in r.labels}))


ITEMS = [
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


def test_divergence_and_distance_by_hand():
    # (1, 0) against (0.5, 0.5): m = (0.75, 0.25)
    #   KL(p‖m) = log2(4/3) = 0.4150375 ; KL(q‖m) = ½ log2(2/3) + ½ log2(2) = 0.2075187
    #   JSD = ½ (0.4150375 + 0.2075187) = 0.3112781 bits ; distance = sqrt = 0.5579230
    assert js_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(0.3112781, abs=1e-7)
    assert opinion_similarity([1.0, 0.0], [0.5, 0.5], "divergence") == pytest.approx(0.6887219, abs=1e-7)
    assert opinion_similarity([1.0, 0.0], [0.5, 0.5], "distance") == pytest.approx(0.4420770, abs=1e-7)
    assert jsd_similarity([1.0, 0.0], [0.5, 0.5]) == opinion_similarity([1.0, 0.0], [0.5, 0.5])
    # disjoint supports: both measures reach 0; identical: both 1 (base 2 bounds the divergence by 1)
    assert opinion_similarity([1, 0], [0, 1], "divergence") == pytest.approx(0.0, abs=1e-12)
    assert opinion_similarity([0.2, 0.8], [0.2, 0.8], "divergence") == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="choose distance or divergence"):
        opinion_similarity([1, 0], [0, 1], "js")


def test_divergence_cultureSim_hand_computed_and_named_everywhere(tmp_path):
    s = run_opinions(LM(Uniform(), None, "scripted"), ITEMS, tmp_path, similarity="divergence")
    # q1/Japan: (0.5, 0.5) vs (0.6, 0.4): JSD = 0.0072992 bits → 0.9927008
    # q1/Mexico: JSD 0.3112781 → 0.6887219 ; q2/Japan: identical → 1
    assert s["per_country"]["Japan"]["mean"] == pytest.approx((0.9927008 + 1.0) / 2, abs=1e-6)
    assert s["per_country"]["Mexico"]["mean"] == pytest.approx(0.6887219, abs=1e-6)
    # cultureSim: q1 → (0.9927008 + 0.6887219) / 2 = 0.8407114 ; q2 → 1 ; mean 0.9203557
    assert s["culture_sim"] == pytest.approx(0.9203557, abs=1e-6)
    assert s["similarity_measure"] == "divergence"
    assert s["similarity_label"] == "1 − Jensen–Shannon divergence (base 2)"
    assert "1 − Jensen–Shannon divergence" in (tmp_path / "table.md").read_text().splitlines()[0]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["config"]["similarity_measure"] == "divergence"
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert {r["similarity_measure"] for r in items} == {"divergence"}


def test_default_is_distance_and_intervals_have_questions_as_units(tmp_path):
    s = run_opinions(LM(Uniform(), None, "scripted"), ITEMS, tmp_path, unsteered=False)
    assert s["similarity_measure"] == "distance"
    assert s["culture_sim"] == pytest.approx(0.8391605, abs=1e-6)  # tests/evals/test_choice_evals.py
    ci = s["culture_sim_interval"]
    # two questions, per-question values 0.6783210 and 1: a resample takes both from one
    # question with probability ½, so the 2.5th and 97.5th percentiles are the two values
    assert ci["n"] == 2 and ci["units"] == "questions" and not ci["too_small"]
    assert ci["ci_low"] == pytest.approx(0.678321, abs=1e-6) and ci["ci_high"] == pytest.approx(1.0)
    japan, mexico = s["per_country"]["Japan"], s["per_country"]["Mexico"]
    assert japan["n"] == 2 and japan["ci_low"] == pytest.approx(0.914565, abs=1e-6)
    assert mexico["n"] == 1 and mexico["too_small"] and mexico["ci_low"] is None  # one question: no interval
    assert s["country_std_interval"]["n"] == 2
    table = (tmp_path / "table.md").read_text()
    assert "1 − Jensen–Shannon distance" in table.splitlines()[0] and "[0.6783, 1.0000]" in table


def test_summary_rejects_an_unknown_measure():
    with pytest.raises(ConfigError):
        summarise_opinions([], [], measure="cosine")


def test_cli_similarity_option_rejects_a_typo_with_exit_2(tmp_path):
    data = str(package_data("data", "sample") / "opinions_wvs")
    args = ["eval", "opinions", "--data", data, "--out", str(tmp_path / "x"), "--similarity", "kl"]
    done = subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "choose distance or divergence" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x").exists()


def test_on_the_real_wvs_shares_divergence_is_the_square_of_distance_and_scores_higher(shared_data):
    from culturalign.datasets import wvs

    items, _ = wvs.load_with_report(shared_data / "wvs")
    pairs = [(i, t) for i in items for t in (i.target_distributions or {}).values()]
    assert len(pairs) > 1000
    for item, target in pairs:
        p = [1 / len(item.options)] * len(item.options)  # a model with no opinion
        dist = 1 - opinion_similarity(p, target, "distance")
        div = 1 - opinion_similarity(p, target, "divergence")
        assert div == pytest.approx(dist * dist, abs=1e-12) and 0 <= div <= dist <= 1
