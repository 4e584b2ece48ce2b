"""The help reads on an 80-column terminal: no type noise after every option, model
specs never cut in half, and the whole spec grammar in one place; completion installs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COMMANDS = [
    ["eval", "care"],
    ["eval", "opinions"],
    ["train", "dpo"],
    ["generate"],
    ["judge"],
    ["run"],
    ["models"],
]


def _cli(*args: str, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_help_has_no_type_noise_at_80_columns(args):
    proc = _cli(*args, "--help")
    assert proc.returncode == 0, proc.stderr
    for noise in ("<bool>", "<str>", "<path>", "<int>"):
        assert noise not in proc.stdout, (noise, args)
    assert "model spec: embedded," not in proc.stdout or "hf:ID" in proc.stdout  # the short form, whole
    assert "…" not in proc.stdout  # nothing cut off
    assert all(len(line) <= 80 for line in proc.stdout.splitlines())


def test_spec_grammar_lives_in_models_help():
    out = _cli("models", "--help").stdout
    for piece in ("+adapter=DIR", "+revision=COMMIT", "+device_map=auto", "openai:MODEL@BASE_URL", "vllm:"):
        assert piece in out, piece
    assert "…" not in out


def test_paths_and_numbers_keep_their_names():
    out = _cli("eval", "care", "--help", columns=120).stdout
    care_line = next(line for line in out.splitlines() if "--data" in line)
    assert "PATH" in care_line
    limit_line = next(line for line in out.splitlines() if "--limit " in line)
    assert " N " in limit_line


def test_shell_completion_script_is_offered():
    proc = _cli("--show-completion", "bash")
    assert proc.returncode == 0, proc.stderr
    assert "_culturalign_completion" in proc.stdout and "complete" in proc.stdout
    assert "--install-completion" in _cli("--help").stdout
