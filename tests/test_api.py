"""The Python API (``culturalign.load``, ``evaluate``, ``train``): results in memory
without an out folder, the same numbers as the CLI command that runs the same library
function, and ``import culturalign`` as light as before. Models: the scripted
OpenAI-compatible server on loopback (``tests/lm/_fake_openai_server.py``) for CARE, the
tiny random model for a choice benchmark and one short training run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import culturalign
from culturalign.errors import ConfigError
from culturalign.paths import package_data

sys.path.insert(0, str(Path(__file__).parent / "lm"))
from _fake_openai_server import scripted_server

SAMPLE = package_data("data", "sample")
CARE = Path(__file__).parent / "evals" / "fixtures" / "care_sample.json"


@pytest.fixture(scope="module")
def api_server():
    with scripted_server() as (url, counts):
        yield url, counts


def test_import_culturalign_stays_light_and_exports_the_api():
    code = (
        "import sys, culturalign;"
        "print(sorted(m for m in ('culturalign.api', 'torch', 'transformers', 'datasets', 'numpy',"
        " 'matplotlib', 'culturalign.train') if m in sys.modules));"
        "print(sorted(culturalign.__all__))"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, names = lines.splitlines()
    assert loaded == "[]"
    assert names == str(sorted(["BENCHMARKS", "EvalResult", "__version__", "evaluate", "load", "train"]))
    assert callable(culturalign.train) and culturalign.train.__name__ == "culturalign.train"
    from culturalign.train import TrainConfig  # still the training package

    assert TrainConfig.__name__ == "TrainConfig"


def test_load_gives_records_or_a_dataset():
    questions = culturalign.load(CARE)
    assert len(questions) == 10 and type(questions[0]).__name__ == "CulturalQuestion"
    ds = culturalign.load(str(CARE), "care-test", as_dataset=True)
    assert len(ds) == 10 and set(ds["record_type"]) == {"CulturalQuestion"}
    assert ds[0]["text"] == questions[0].text and ds[0]["culture"] == "Japanese"


def test_evaluate_care_in_memory_matches_the_cli(api_server, tmp_path):
    url, counts = api_server
    model, judge = f"openai:writer@{url}", f"openai:judge@{url}"
    result = culturalign.evaluate("care", model, CARE, judge=judge, limit=4)
    assert result.out_dir is None and len(result.records) == 4 and len(result.responses) == 4
    assert result.summary["label"] == model and result.summary["overall"]["n_rated"] == 4
    assert "| Japanese" in result.table or "Japanese" in result.table
    assert all(1 <= r["rating"] <= 10 for r in result.records)

    # the command runs the same function: the same requests (all answered by the call
    # cache, none reach the server again), the same means
    asked = sum(counts.values())
    out = tmp_path / "cli"
    from culturalign.cli import app

    args = ["eval", "care", "--model", model, "--judge", judge, "--data", str(CARE), "--limit", "4"]
    proc = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert proc.exit_code == 0, proc.output
    assert sum(counts.values()) == asked
    cli_summary = json.loads((out / "summary.json").read_text())
    assert cli_summary["overall"] == result.summary["overall"]
    assert cli_summary["cultures"] == result.summary["cultures"]

    kept = culturalign.evaluate("care", model, CARE, judge=judge, limit=4, out_dir=tmp_path / "kept")
    assert kept.out_dir == tmp_path / "kept" and (kept.out_dir / "judgments.jsonl").exists()
    assert kept.summary["overall"] == result.summary["overall"]


def test_evaluate_refuses_what_it_cannot_run(api_server):
    url, _ = api_server
    with pytest.raises(ConfigError, match="unknown benchmark 'carr'"):
        culturalign.evaluate("carr", "openai:x@" + url, CARE)
    with pytest.raises(ConfigError, match="needs a judge"):
        culturalign.evaluate("care", "openai:x@" + url, CARE)
    with pytest.raises(ConfigError, match="takes no judge"):
        culturalign.evaluate("mcq", "openai:x@" + url, CARE, judge="openai:y@" + url)
    with pytest.raises(TypeError, match="no_such_option"):
        culturalign.evaluate("care", "openai:x@" + url, CARE, judge="openai:y@" + url, no_such_option=1)


def test_evaluate_a_choice_benchmark_with_an_lm_object(tiny_model_dir):
    from culturalign.lm import load_lm

    lm = load_lm(f"hf:{tiny_model_dir}")
    result = culturalign.evaluate("mcq", lm, SAMPLE / "choice_include.csv", limit=3)
    assert result.summary["questions"] == 3 and len(result.records) == 3
    assert "| all | 3 |" in result.table


def test_train_on_records_in_memory(tiny_model_dir, tmp_path):
    from culturalign.records import PreferencePair

    sys.path.insert(0, str(Path(__file__).parent / "train"))
    from train_helpers import make_pairs

    pairs = [PreferencePair.model_validate(row) for row in make_pairs(8)]
    out = tmp_path / "dpo"
    config = {"preset": "tiny-test", "epochs": 1, "heldout": {"fraction": 0}}
    result = culturalign.train("dpo", f"hf:{tiny_model_dir}", pairs, out, config=config)
    assert result.out_dir == out and result.steps >= 1 and result.n_train == 8
    assert (tmp_path / "dpo.input.jsonl").read_text().count("\n") == 8
    from culturalign.train.outputs import read_manifest

    manifest = read_manifest(out)
    assert manifest is not None and manifest.status == "finished"
    assert manifest.data["path"] == str((tmp_path / "dpo.input.jsonl").resolve())
