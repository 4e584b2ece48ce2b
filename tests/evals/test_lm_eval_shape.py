"""Every choice run writes lm_eval_results.json: lm-evaluation-harness's results shape
(``results`` with ``<metric>,none`` and ``<metric>_stderr,none``, ``configs``,
``versions``, ``n-samples``) under the task names ``export lm-eval`` writes, with values
recomputed from items.jsonl; hand-computed here through a scripted backend."""

from __future__ import annotations

import json
import math

import pytest

from culturalign.datasets import cali as cali_loader
from culturalign.datasets import culturalbench as cb_loader
from culturalign.datasets import globalopinion
from culturalign.datasets import mcq as mcq_loader
from culturalign.evals.choice.cali import run_cali
from culturalign.evals.choice.culturalbench import run_culturalbench
from culturalign.evals.choice.lm_eval_shape import lm_eval_results, mean_stderr
from culturalign.evals.choice.mcq import run_mcq
from culturalign.evals.choice.opinions import run_opinions
from culturalign.lm.base import Backend, LabelScoreResult
from culturalign.lm.cached import LM
from culturalign.paths import package_data
from culturalign.records import ChoiceItem

SAMPLE = package_data("data", "sample")


class Fixed(Backend):
    """The same option probabilities for every prompt (True/False: P(True) = p_true)."""

    kind = "fixed"

    def __init__(self, probs, p_true: float = 0.9):
        self.probs, self.p_true = probs, p_true

    def identity(self):
        return {"backend": "fixed"}

    def generate(self, requests, on_done):
        raise AssertionError("scored from probabilities only")

    def label_logprobs(self, requests, on_done):
        for i, r in enumerate(requests):
            if r.labels[0].strip() == "True":
                ps = [self.p_true, 1 - self.p_true]
            else:
                ps = self.probs[: len(r.labels)]
            on_done(
                i, LabelScoreResult(logprobs={lab: math.log(p) for lab, p in zip(r.labels, ps, strict=True)})
            )


def _lm(probs, p_true: float = 0.9) -> LM:
    return LM(Fixed(probs, p_true), None, "fixed")


def _shape(folder) -> dict:
    return json.loads((folder / "lm_eval_results.json").read_text())


def test_mcq_accuracy_with_lm_evals_keys_and_sample_stderr(tmp_path):
    items = mcq_loader.load(SAMPLE / "choice_include.csv")
    run_mcq(_lm([0.4, 0.3, 0.2, 0.1]), items, tmp_path)  # always A: right on 2 of 6
    shaped = _shape(tmp_path)
    block = shaped["results"]["culturalign_mcq"]
    assert block["acc,none"] == pytest.approx(2 / 6)
    # lm-eval's mean_stderr: sqrt(p(1-p) · n/(n-1) / n) for 0/1 values
    assert block["acc_stderr,none"] == pytest.approx(math.sqrt((2 / 6) * (4 / 6) / 5))
    assert shaped["n-samples"]["culturalign_mcq"] == {"original": 6, "effective": 6}
    assert shaped["versions"] == {"culturalign_mcq": 1.0} and shaped["n-shot"] == {"culturalign_mcq": 0}
    assert shaped["higher_is_better"] == {"culturalign_mcq": {"acc": True}}
    assert shaped["configs"]["culturalign_mcq"]["task"] == "culturalign_mcq"
    assert shaped["config"]["model_args"] == "fixed" and shaped["config"]["apply_chat_template"] is True


def test_opinions_similarity_is_the_mean_over_pairs(tmp_path):
    items = globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv")
    summary = run_opinions(_lm([0.4, 0.3, 0.2, 0.1, 0.05]), items, tmp_path, chat=False)
    block = _shape(tmp_path)["results"]["culturalign_opinions"]
    sims = [json.loads(x) for x in (tmp_path / "items.jsonl").read_text().splitlines()]
    sims = [r["similarity"] for r in sims if r["kind"] == "steered"]
    assert block["similarity,none"] == pytest.approx(summary["pair_mean"])
    assert block["similarity_stderr,none"] == pytest.approx(mean_stderr(sims))
    assert _shape(tmp_path)["configs"]["culturalign_opinions"]["metadata"]["similarity_measure"] == "distance"


def test_culturalbench_hard_counts_judgements_and_questions(tmp_path):
    items = cb_loader.load(SAMPLE / "culturalbench_easy.csv") + cb_loader.load(
        SAMPLE / "culturalbench_hard.csv"
    )
    summary = run_culturalbench(_lm([0.1, 0.6, 0.2, 0.1], p_true=0.9), items, tmp_path)
    results = _shape(tmp_path)["results"]
    assert results["culturalign_culturalbench_easy"]["acc,none"] == pytest.approx(3 / 8)  # always B
    hard = results["culturalign_culturalbench_hard"]
    # every option judged true: right only on the options that are true
    assert hard["acc,none"] == pytest.approx(summary["hard"]["option_accuracy"])
    assert hard["question_acc,none"] == pytest.approx(summary["hard"]["accuracy"])
    assert hard["question_acc_stderr,none"] == "N/A"  # lm-eval has none for a custom aggregate
    assert _shape(tmp_path)["n-samples"]["culturalign_culturalbench_hard"]["effective"] == 16


def test_cali_one_task_per_culture_with_f1(tmp_path):
    summary = run_cali(_lm([0.7, 0.2, 0.1]), cali_loader.load(SAMPLE / "cali_sample.tsv"), tmp_path)
    results = _shape(tmp_path)["results"]
    india = results["culturalign_cali_india"]
    assert india["macro_f1,none"] == pytest.approx(summary["per_culture"]["India"]["macro_f1"])
    assert india["entailment_f1,none"] == pytest.approx(10 / 17)  # E everywhere; 5 of 12 gold E
    assert india["acc,none"] == pytest.approx(5 / 12)
    assert results["culturalign_cali_united_states"]["sample_len"] == 11  # the tie is left out


def test_blend_multiple_choice_and_text_mode_get_their_own_task_names(tmp_path):
    items = [
        ChoiceItem(id=f"b{k}", question="Q?", options=["x", "y"], answer=k % 2, source="blend-mc")
        for k in range(3)
    ]
    run_mcq(_lm([0.8, 0.2]), items, tmp_path / "b")
    assert list(_shape(tmp_path / "b")["results"]) == ["culturalign_blend_mcq"]
    summary = {"benchmark": "mcq", "mode": "text", "model": "m"}
    records = [{"correct": True, "correct_norm": False}, {"correct": None, "correct_norm": None}]
    shaped = lm_eval_results(summary, records)
    block = shaped["results"]["culturalign_mcq_text"]
    assert (block["acc,none"], block["acc_norm,none"], block["acc_stderr,none"]) == (1.0, 0.0, "N/A")
    assert shaped["n-samples"]["culturalign_mcq_text"] == {"original": 2, "effective": 1}  # a failed call
    assert lm_eval_results({"benchmark": "blend"}, []) is None  # short answers: no lm-eval task


def test_lm_evals_own_table_reads_the_file(tmp_path):
    utils = pytest.importorskip("lm_eval.utils", reason="lm-evaluation-harness is not installed")
    run_mcq(_lm([0.4, 0.3, 0.2, 0.1]), mcq_loader.load(SAMPLE / "choice_include.csv"), tmp_path)
    table = utils.make_table(_shape(tmp_path))
    assert "culturalign_mcq" in table and "0.3333" in table
