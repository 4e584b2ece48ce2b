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


def _alias_bomb(levels: int) -> str:
    """Each level holds nine aliases of the one before: 9**levels values once expanded."""
    lines = ["name: bomb", "generation:", '  l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    for k in range(1, levels + 1):
        lines.append(f"  l{k}: &l{k} [{','.join([f'*l{k - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_alias_expansion_is_bounded_when_the_file_loads(tmp_path):
    p = tmp_path / "bomb.yaml"
    p.write_text(_alias_bomb(8))  # 43 million values from 400 bytes
    with pytest.raises(DataError) as err:
        load_experiment(p)
    # levels 1-3 add 90 + 819 + 7,380 nodes; the first alias on line 7 adds 7,381 more
    assert f"{p}:7: aliases expand to more than 10,000 values (at *l3)" in str(err.value)


def test_a_few_aliases_still_load(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text(
        "name: x\ngeneration: &g {temperature: 0, max_new_tokens: 8}\n"
        "evaluations:\n  - kind: opinions\n    data: o.json\n    generation: *g\n    judge_generation: *g\n"
    )
    exp = load_experiment(p)
    assert exp.evaluations[0].generation == {"temperature": 0, "max_new_tokens": 8}


def test_alias_cycle_is_refused(tmp_path):
    p = tmp_path / "cycle.yaml"
    p.write_text("name: x\ngeneration: &g\n  stop: [*g]\n")
    with pytest.raises(DataError) as err:
        load_experiment(p)
    assert f"{p}:3: alias *g refers to the collection that contains it" in str(err.value)


def test_duplicate_keys_name_both_lines(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: x\njudge: embedded\nmodels: {base: embedded}\njudge: 'openai:gpt-4o'\n")
    with pytest.raises(DataError) as err:
        load_experiment(p)
    assert f"{p}:4: key 'judge' appears twice (first on line 2)" in str(err.value)


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        (
            "generation:\n  temprature: 0\n",
            3,
            "generation.temprature: unknown field; did you mean 'temperature'?",
        ),
        ("generation:\n  top_p: 2\n", 3, "generation.top_p: Input should be less than or equal to 1"),
        (
            "evaluations:\n  - kind: opinions\n    data: o.json\n    judge_generation: {max_new_token: 4}\n",
            5,
            "evaluations.0.judge_generation.max_new_token: unknown field; did you mean 'max_new_tokens'?",
        ),
        (
            "evaluations:\n  - kind: opinions\n    data: o.json\n    generation:\n      seed: one\n",
            6,
            "evaluations.0.generation.seed: Input should be a valid integer",
        ),
    ],
)
def test_generation_settings_are_checked_when_the_file_loads(tmp_path, body, line, fragment):
    p = tmp_path / "gen.yaml"
    p.write_text("name: x\n" + body)
    with pytest.raises(DataError) as err:
        load_experiment(p)
    assert f"{p}:{line}: {fragment}" in str(err.value)


@pytest.mark.parametrize("name", ["../../elsewhere", "/tmp/abs", "a/b", "a\\\\b", "..", "", "~root"])
def test_experiment_name_is_a_plain_name(tmp_path, name):
    p = tmp_path / "name.yaml"
    p.write_text(f"name: {name!r}\n")
    with pytest.raises(DataError) as err:
        load_experiment(p)
    assert f"{p}:1: name: " in str(err.value)


def test_train_and_model_names_are_plain_names(tmp_path):
    p = tmp_path / "names.yaml"
    p.write_text("name: x\nmodels:\n  ../up: embedded\n")
    with pytest.raises(DataError) as err:
        load_experiment(p)
    assert f"{p}:3: models.../up: model name '../up' must be a plain name" in str(err.value)
