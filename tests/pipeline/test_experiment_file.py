"""Experiment files are validated with errors located at their line, exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from culturalign.errors import DataError
from culturalign.pipeline.experiment import load_experiment


def test_valid_file_loads(tiny_experiment):
    exp = load_experiment(tiny_experiment)
    assert exp.model_names == ["base", "dpo"]
    assert exp.evaluations[0].kind == "care"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "name: x\nevaluations:\n  - kind: care\n    modes: [vanila]\n    data: q.jsonl\n",
            4,
            "unknown mode",
        ),
        ("name: x\nevaluations:\n  - kind: opinion\n    data: q\n", 3, "kind"),
        ("name: x\nmodels: {base: embedded}\ntrain:\n  - name: t\n    base: nope\n", 5, "base 'nope'"),
        ("name: x\nbogus: 1\n", 2, "unexpected field"),
        ("name: [unclosed\n", 2, "invalid YAML"),
        # model specs are checked when the file loads, even for models no stage uses yet
        ("name: x\nmodels:\n  base: embedded\n  other: foo:bar\n", 4, "models.other: unknown model spec"),
        ("name: x\njudge: 'hf:'\n", 2, "judge: model spec 'hf:' names no model"),
        ("name: x\nevaluations:\n  - kind: care\n    data: q\n    judge: 'openai:'\n", 5, "names no model"),
    ],
)
def test_bad_files_are_located(tmp_path, text, line, fragment):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(DataError) as err:
        load_experiment(p)
    msg = str(err.value)
    assert f"{p}:{line}:" in msg and fragment in msg


def test_cli_exit_code_two_without_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nreport: {baseline: ghost}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "culturalign", "run", str(p)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "ghost" in proc.stderr and "Traceback" not in proc.stderr
