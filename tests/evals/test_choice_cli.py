"""``culturalign eval opinions|culturalbench|cali|blend|mcq`` as a user runs them: run
directories on sample data, located errors with exit code 2, and smoke runs of the
embedded model on the real public files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")
runner = CliRunner()


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_eval_mcq_command_writes_a_run_directory(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["eval", "mcq", "--model", f"hf:{tiny_model_dir}", "--data", str(SAMPLE / "choice_include.csv"),
         "--out", str(out), "--limit", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["questions"] == 3 and summary["mode"] == "letters"
    assert "| all | 3 |" in result.output


@pytest.mark.parametrize(
    ("command", "data", "extra"),
    [
        ("culturalbench", "culturalbench_hard.csv", []),
        ("culturalbench", "culturalbench_easy.csv", []),
        ("opinions", "opinions_wvs", ["--country", "JPN", "--country", "Mexico"]),
        ("cali", "cali_sample.tsv", ["--tune-threshold"]),
        ("blend", "blend_sample", ["--max-new-tokens", "4", "--language", "local"]),
    ],
)
def test_eval_commands_on_sample_data(tiny_model_dir, tmp_path, command, data, extra):
    out = tmp_path / "run"
    args = [
        "eval",
        command,
        "--model",
        f"hf:{tiny_model_dir}",
        "--data",
        str(SAMPLE / data),
        "--out",
        str(out),
    ]
    result = runner.invoke(app, [*args, "--limit", "3", *extra])
    assert result.exit_code == 0, result.output
    assert (out / "items.jsonl").read_text().strip() and (out / "table.csv").exists()
    summary = json.loads((out / "summary.json").read_text())
    if command == "opinions":
        assert set(summary["per_country"]) == {"Japan", "Mexico"}  # JPN given as a WVS code
    if command == "blend":
        assert set(summary["per_language"]) == {"local"}


def test_bad_data_exits_2_with_located_lines(tmp_path):
    bad = tmp_path / "data.tsv"
    bad.write_text("premise\thypothesis\tus_ratings\tin_ratings\np\th\t['E', 'Q']\t['E']\n")
    proc = _cli(
        "eval", "cali", "--data", str(bad), "--out", str(tmp_path / "o"), "--model", "hf:/nonexistent"
    )
    assert proc.returncode == 2
    assert f"{bad}:2: us_ratings: unknown label" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_data_without_what_the_benchmark_needs_exits_2(tmp_path):
    proc = _cli("eval", "opinions", "--data", str(SAMPLE / "cali_sample.tsv"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "holds no questions with per-country answer shares" in proc.stderr


def test_cali_culture_without_labels_exit_2(tmp_path):
    out = tmp_path / "o"
    proc = _cli(
        "eval", "cali", "-d", str(SAMPLE / "cali_sample.tsv"), "-o", str(out), "--culture", "Atlantis"
    )
    assert (proc.returncode, "Traceback" in proc.stderr) == (2, False), proc.stderr
    assert "--culture Atlantis: no annotator labels for it in the data" in proc.stderr
    assert not out.exists()  # it used to write a table with a row of zeros


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--country", "Atlantis"], "--country Atlantis: not in the survey data; its countries are Germany"),
        (["--templates", "/no/such/folder"], "/no/such/folder: --templates needs a folder of template files"),
    ],
)
def test_unknown_country_and_missing_template_folder_exit_2(tiny_model_dir, tmp_path, extra, message):
    """Both used to be ignored: the run went on with every country, or the built-in prompts."""
    out = tmp_path / "o"
    data = str(SAMPLE / "opinions_wvs")
    proc = _cli("eval", "opinions", "-d", data, "-o", str(out), "-m", f"hf:{tiny_model_dir}", *extra)
    assert (proc.returncode, "Traceback" in proc.stderr) == (2, False), proc.stderr
    assert message in proc.stderr
    assert not out.exists()


@pytest.mark.slow
def test_embedded_model_on_the_real_files(shared_data, embedded_dir, tmp_path):
    """The commands whose data is in the shared folder, with the embedded SmolLM2 and
    --limit 3 (CulturalBench and generic MCQ files are not there: see the sample runs)."""
    runs = {
        "opinions": ["--data", str(shared_data / "wvs"), "--country", "United States", "--country", "China"],
        "cali": ["--data", str(shared_data / "cali" / "data.tsv")],
        "blend": ["--data", str(shared_data / "blend" / "annotations" / "China_data.json"),
                  "--max-new-tokens", "8"],
    }  # fmt: skip
    for name, args in runs.items():
        out = tmp_path / name
        result = runner.invoke(
            app, ["eval", name, "--model", "embedded", "--limit", "3", "--out", str(out), *args]
        )
        assert result.exit_code == 0, f"{name}: {result.output}"
        summary = json.loads((out / "summary.json").read_text())
        assert summary["model"].startswith("embedded")
        records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
        assert records and not [r for r in records if r.get("error")], name
    opinions = json.loads((tmp_path / "opinions" / "summary.json").read_text())
    assert set(opinions["per_country"]) == {"United States", "China"}
    assert opinions["questions"] == 3 and 0 < opinions["culture_sim"] < 1
    cali = json.loads((tmp_path / "cali" / "summary.json").read_text())
    assert cali["per_culture"]["India"]["pairs"] == 3
    blend = json.loads((tmp_path / "blend" / "summary.json").read_text())
    assert set(blend["per_region"]["China"]) == {"local", "en"}
