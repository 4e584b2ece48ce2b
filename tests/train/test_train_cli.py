"""The train and study commands: end to end on the tiny model, bad input as located
errors with exit code 2, and no heavy imports for --help."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from culturalign.cli import app


def test_train_dpo_command_end_to_end(tiny_spec, pairs_file, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "dpo",
            "--model",
            tiny_spec,
            "--data",
            str(pairs_file),
            "--out",
            str(out),
            "--preset",
            "tiny-test",
            "--lora",
            "--set",
            "learning_rate=0.02",
            "--set",
            "lora.r=4",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "held-out preference gap (5 items):" in result.output
    assert f"use it as --model hf:{out}" in result.output
    cfg = json.loads((out / "culturalign-train.json").read_text())["config"]
    assert (cfg["learning_rate"], cfg["lora"]["r"], cfg["lora"]["enabled"]) == (0.02, 4, True)


def _run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=120, **kw
    )


def test_bad_config_is_a_located_error_with_exit_2(pairs_file, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: tiny-test\nepochs: -1\n")
    proc = _run("train", "dpo", "--data", str(pairs_file), "--out", str(tmp_path / "o"), "--config", str(cfg))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{cfg}:2: epochs: Input should be greater than 0"
    assert "Traceback" not in proc.stderr


def test_bad_data_is_a_located_error_with_exit_2(tiny_spec, tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text('{"prompt": "q", "chosen": "a", "rejected": "b"}\n{"prompt": "q", "chosen": "a"\n')
    proc = _run("train", "simpo", "--model", tiny_spec, "--data", str(data), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith(f"{data}:2: invalid JSON")


def test_empty_data_and_missing_adapter_are_plain_errors(tiny_spec, pairs_file, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    proc = _run("train", "dpo", "--model", tiny_spec, "--data", str(empty), "--out", str(tmp_path / "o"))
    assert (proc.returncode, proc.stderr.strip()) == (2, f"{empty}: the file holds no rows")
    spec = f"{tiny_spec}+adapter={tmp_path}/missing"
    proc = _run("train", "dpo", "--model", spec, "--data", str(pairs_file), "--out", str(tmp_path / "o"))
    assert (proc.returncode, proc.stderr.strip()) == (
        2,
        f"adapter={tmp_path}/missing: no such adapter folder",
    )
    assert not (tmp_path / "o").exists()


def test_study_fractions_that_are_not_numbers(pairs_file, tmp_path):
    out = tmp_path / "s"
    proc = _run("study", "scaling", "--data", str(pairs_file), "--out", str(out), "--fractions", "0,half")
    assert (proc.returncode, proc.stderr.strip()) == (
        2,
        "--fractions '0,half': write comma-separated shares, e.g. 0,0.5,1",
    )
    assert not out.exists()


def test_qlora_without_gpu_says_what_is_missing(tiny_spec, pairs_file, tmp_path):
    proc = _run(
        "train",
        "sft",
        "--model",
        tiny_spec,
        "--data",
        str(pairs_file),
        "--out",
        str(tmp_path / "o"),
        "--qlora",
    )
    assert proc.returncode == 2
    assert "bitsandbytes" in proc.stderr or "CUDA GPU" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_and_config_commands_stay_light():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from culturalign.cli import app\n"
        "r = CliRunner()\n"
        "for args in (['train', '--help'], ['train', 'dpo', '--help'], ['study', 'scaling', '--help'],\n"
        "             ['train', 'presets'], ['train', 'config', '--preset', 'cpu-demo'],\n"
        "             ['train', 'accelerate-config', 'deepspeed-zero3']):\n"
        "    res = r.invoke(app, args)\n"
        "    assert res.exit_code == 0, (args, res.output)\n"
        "    print(res.output)\n"
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'peft', 'datasets', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "care-paper" in proc.stdout and "learning_rate: 0.0005" in proc.stdout
    assert "deepspeed-zero3.yaml" in proc.stdout
