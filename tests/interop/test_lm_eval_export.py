"""``export lm-eval``: the exported tasks send the prompts culturalign's evaluators send,
their utils.py metrics equal culturalign's, and lm-evaluation-harness itself (when
installed) reads the folder and gets culturalign's per-option log-probabilities."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from culturalign.datasets import cali as cali_loader
from culturalign.datasets import culturalbench as cb_loader
from culturalign.datasets import globalopinion
from culturalign.datasets import mcq as mcq_loader
from culturalign.errors import ConfigError
from culturalign.evals.choice.cali import run_cali
from culturalign.evals.choice.culturalbench import run_culturalbench
from culturalign.evals.choice.mcq import run_mcq
from culturalign.evals.choice.opinions import run_opinions
from culturalign.evals.metrics import f1_scores, opinion_similarity
from culturalign.interop.lm_eval import export_lm_eval, load_items
from culturalign.lm.base import Backend, LabelScoreResult
from culturalign.lm.cached import LM
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


class Recorder(Backend):
    """Remembers every (context, labels) culturalign asks about; answers uniformly."""

    kind = "recorder"

    def __init__(self) -> None:
        self.asked: set[tuple[str, tuple[str, ...]]] = set()

    def identity(self):
        return {"backend": "recorder"}

    def generate(self, requests, on_done):
        raise AssertionError("every choice benchmark here is scored from probabilities")

    def label_logprobs(self, requests, on_done):
        for i, r in enumerate(requests):
            assert isinstance(r.prompt, str)  # --no-chat: the raw text lm-eval also sends
            self.asked.add((r.prompt + r.prefix, tuple(r.labels)))
            on_done(i, LabelScoreResult(logprobs={lab: math.log(1 / len(r.labels)) for lab in r.labels}))


def _docs(folder: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (folder / f"{task}.jsonl").read_text().splitlines()]


def _blend_mcq_csv(path: Path) -> Path:
    header = ["MCQID", "ID", "country", "prompt", "choices", "choice_countries", "answer_idx"]
    options = {"A": ("crisps", "UK"), "B": ("rice cakes", "South Korea"), "C": ("samosa", "India")}
    prompt = (
        "What is a common snack for preschool kids in the UK? Without any explanation, choose only one "
        'from the given alphabet choices(e.g., A, B, C). Provide as JSON format: {"answer_choice":""}\n\n'
        + "".join(f"{k}. {t}\n" for k, (t, _) in options.items())
        + "\nAnswer:"
    )
    row = ["Al-en-06_0", "Al-en-06", "UK", prompt, json.dumps({k: t for k, (t, _) in options.items()})]
    row += [json.dumps({k: c for k, (_, c) in options.items()}), "A"]
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, row])
    return path


def _function_loader() -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: f"function:{loader.construct_scalar(node)}")
    return Loader


def test_every_benchmark_exports_the_prompts_culturalign_scores(tmp_path):
    out = tmp_path / "tasks"
    sources = {
        "opinions": globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv"),
        "culturalbench": cb_loader.load(SAMPLE / "culturalbench_easy.csv")
        + cb_loader.load(SAMPLE / "culturalbench_hard.csv"),
        "cali": cali_loader.load(SAMPLE / "cali_sample.tsv"),
        "mcq": mcq_loader.load(SAMPLE / "choice_mcq.jsonl"),
        "blend-mcq": load_items("blend-mcq", _blend_mcq_csv(tmp_path / "blend.csv")),
    }
    for benchmark, items in sources.items():
        export_lm_eval(out, benchmark, items)
    manifest = json.loads((out / "export.json").read_text())
    counts = {name: t["docs"] for name, t in manifest["tasks"].items()}
    assert counts == {
        "culturalign_opinions": 12,  # 4 questions × 3 countries
        "culturalign_culturalbench_easy": 8,
        "culturalign_culturalbench_hard": 16,  # one true/false judgement per option
        "culturalign_cali_united_states": 11,  # one pair's US annotators tie: dropped, as in eval cali
        "culturalign_cali_india": 12,
        "culturalign_mcq": 4,
        "culturalign_blend_mcq": 1,
    }
    # every exported (prompt, options) is one culturalign's evaluator asks with --no-chat
    rec = Recorder()
    lm = LM(rec, None, "recorder")
    run_opinions(lm, sources["opinions"], tmp_path / "op", chat=False, unsteered=False)
    run_culturalbench(lm, sources["culturalbench"], tmp_path / "cb", chat=False)
    run_cali(lm, sources["cali"], tmp_path / "cali", chat=False)
    run_mcq(lm, sources["mcq"], tmp_path / "mcq", chat=False)
    run_mcq(lm, sources["blend-mcq"], tmp_path / "bmcq", chat=False)
    for task in counts:
        for doc in _docs(out, task):
            assert (doc["prompt"], tuple(doc["choices"])) in rec.asked, (task, doc["prompt"])
    assert _docs(out, "culturalign_mcq")[0]["prompt"].endswith("\n\nAnswer: (")
    hard = _docs(out, "culturalign_culturalbench_hard")[0]
    assert hard["choices"] == [" True", " False"] and hard["prompt"].endswith("\n\nAnswer:")

    config = yaml.load((out / "culturalign_opinions.yaml").read_text(), Loader=_function_loader())
    assert config["process_results"] == "function:utils.process_opinion"
    assert config["custom_dataset"] == "function:utils.load_docs"
    assert config["dataset_kwargs"] == {"data_file": "culturalign_opinions.jsonl"}  # beside the YAML
    assert config["target_delimiter"] == "" and config["output_type"] == "multiple_choice"
    assert {"culturalign", "culturalign_cali"} <= set(
        yaml.load((out / "culturalign_cali_india.yaml").read_text(), Loader=_function_loader())["tag"]
    )
    assert (out / "utils.py").is_file() and len(manifest["exports"]) == 5


def _utils(folder: Path):
    spec = importlib.util.spec_from_file_location("exported_utils", folder / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exported_metrics_equal_culturalign_metrics(tmp_path):
    export_lm_eval(tmp_path, "mcq", mcq_loader.load(SAMPLE / "choice_mcq.jsonl"))
    utils = _utils(tmp_path)
    pairs = [
        ([0.7, 0.2, 0.1], [0.5, 0.5, 0.0]),
        ([0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]),
        ([0.1, 0.9], [0.1, 0.9]),
        ([0.0, 1.0], [1.0, 0.0]),
    ]
    for p, q in pairs:
        for measure in ("distance", "divergence"):
            assert utils.opinion_similarity(p, q, measure) == pytest.approx(
                opinion_similarity(p, q, measure), abs=1e-9
            )
    # lm-eval hands (loglikelihood, is_greedy) pairs; the letters are renormalised first
    lls = [(math.log(0.2), False), (math.log(0.6), True), (math.log(0.2), False)]
    doc = {"target": [0.2, 0.6, 0.2], "measure": "distance"}
    assert utils.process_opinion(doc, lls)["similarity"] == pytest.approx(1.0)

    gold = list("EENCCNEN")
    pred = list("ENNCEEEC")
    pairs_ = list(zip(gold, pred, strict=True))
    ours = f1_scores(gold, pred, ("E", "N", "C"))
    assert utils.macro_f1(pairs_) == pytest.approx(ours["macro"])
    assert utils.entailment_f1(pairs_) == pytest.approx(ours["E"])
    assert utils.macro_f1([("E", "E")]) == pytest.approx(1 / 3)  # unseen labels score 0, as sklearn's

    # a question counts only when every option's judgement is right
    judged = [("q1", True), ("q1", True), ("q2", True), ("q2", False), ("q3", True)]
    assert utils.question_accuracy(judged) == pytest.approx(2 / 3)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_exports_and_refuses_bad_input_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from culturalign.cli import app

    args = ["export", "lm-eval", str(tmp_path / "t"), "-b", "opinions", "-d", str(SAMPLE / "opinions_wvs")]
    result = CliRunner().invoke(app, [*args, "-n", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tasks"]["culturalign_opinions"]["docs"] > 0
    assert (tmp_path / "t" / "culturalign_opinions.yaml").is_file()

    with pytest.raises(ConfigError, match="unknown benchmark 'nope'"):
        load_items("nope", SAMPLE / "choice_mcq.jsonl")
    with pytest.raises(ConfigError, match="unknown mode"):
        export_lm_eval(tmp_path / "m", "mcq", load_items("mcq", SAMPLE / "choice_mcq.jsonl"), mode="words")
    proc = _cli(*args, "--country", "Atlantis")  # the real entry point: exit 2, no traceback
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "Traceback" not in out and "--country Atlantis" in out, out


def test_real_wvs_and_cali_export_one_document_per_scored_unit(shared_data, tmp_path):
    wvs = load_items("opinions", shared_data / "wvs")
    export_lm_eval(tmp_path, "opinions", wvs)
    docs = _docs(tmp_path, "culturalign_opinions")
    assert len(docs) == sum(len(q.target_distributions) for q in wvs if q.target_distributions)
    for doc in docs[:: max(1, len(docs) // 200)]:
        assert f"from {doc['country']} " in doc["prompt"] and sum(doc["target"]) == pytest.approx(1, abs=1e-3)
        assert len(doc["choices"]) == len(doc["target"])

    cali = load_items("cali", shared_data / "cali" / "data.tsv")
    export_lm_eval(tmp_path, "cali", cali)
    for culture, task in [
        ("United States", "culturalign_cali_united_states"),
        ("India", "culturalign_cali_india"),
    ]:
        golds = [p.gold(culture) for p in cali if culture in p.labels]
        assert [d["choices"][d["gold"]] for d in _docs(tmp_path, task)] == [g for g in golds if g is not None]
