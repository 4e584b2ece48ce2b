"""The stages: list: references, order, located errors, --set, shipped experiments by name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from culturalign.errors import ConfigError, DataError
from culturalign.pipeline.experiment import load_experiment
from culturalign.pipeline.graph import plan
from culturalign.pipeline.overrides import apply_overrides, load_with_overrides, shipped

# listed out of order on purpose: the runner orders by what reads what
GRAPH = """\
name: g
models: {base: embedded}
stages:
  - name: sft
    kind: train
    method: sft
    data: stage:export-sft
  - name: export-sft
    kind: export
    format: sft
    data: stage:picks
  - name: picks
    kind: select
    data: stage:answers
    budget: 2
  - name: answers
    kind: synth-respond
    data: sample:caredio_questions.jsonl
    targets: [China]
  - name: after
    kind: evaluate
    eval: opinions
    data: sample:opinions_wvs
"""


def _write(tmp_path, text: str):
    p = tmp_path / "exp.yaml"
    p.write_text(text)
    return p


def test_stages_run_in_the_order_their_inputs_need(tmp_path):
    exp = load_experiment(_write(tmp_path, GRAPH))
    keys = [u.key for u in plan(exp)]
    assert keys == [
        "synth-respond:answers",
        "select:picks",
        "export:export-sft",
        "train:sft",
        "eval:after:base",  # the base model needs no training: it keeps its place in the file
        "eval:after:sft",
        "report",
    ]
    assert exp.model_names == ["base", "sft"]


def test_old_sections_keep_their_order_and_stage_names(tiny_experiment):
    keys = [u.key for u in plan(load_experiment(tiny_experiment))]
    assert keys == [
        "data:split",
        "data:pairs",
        "eval:care:base",
        "eval:opinions:base",
        "train:dpo",
        "eval:care:dpo",
        "eval:opinions:dpo",
        "report",
    ]


@pytest.mark.parametrize(
    ("edit", "line", "fragment"),
    [
        # a cycle: answers reads the export that (through picks) reads answers
        (
            ("data: sample:caredio_questions.jsonl", "data: stage:export-sft"),
            8,
            "in a cycle: export-sft → picks → answers → export-sft",
        ),
        (("data: stage:picks", "data: stage:pics"), 11, "stage:pics: no stage named 'pics'"),
        (("data: stage:export-sft", "data: stage:export-sft.train"), 7, "has no output 'train'"),
        (("kind: select", "kind: selct"), 13, "unknown stage kind 'selct'; did you mean 'select'?"),
        (("budget: 2", "budget: -1"), 15, "stages.2.budget: Input should be greater than or equal to 0"),
        (
            ("targets: [China]", "targets: [China]\n    generation: {temprature: 1}"),
            20,
            "stages.3.generation.temprature: unknown field; did you mean 'temperature'?",
        ),
        (
            ("eval: opinions", "eval: opinions\n    judge_generation: {top_p: 3}"),
            23,
            "stages.4.judge_generation.top_p: Input should be less than or equal to 1",
        ),
        (("eval: opinions", "eval: opinions\n    models: [base, ghost]"), 23, "unknown model 'ghost'"),
        (("name: picks", "name: answers"), 16, "stage name 'answers' is taken (by stages.2)"),
        (("name: picks", "name: a.b"), 12, "must not contain '.' or ':'"),
        (("method: sft", "method: sft\n    base: sft"), 7, "names itself as its base"),
        (("data: stage:answers", "data: stage:sft"), 14, "stage 'sft' trains a model"),
    ],
)
def test_graph_errors_are_located(tmp_path, edit, line, fragment):
    old, new = edit
    assert old in GRAPH
    p = _write(tmp_path, GRAPH.replace(old, new, 1))
    with pytest.raises(DataError) as err:
        load_experiment(p)
    msg = str(err.value)
    assert f"{p}:{line}:" in msg and fragment in msg, msg


def test_the_report_is_set_in_one_place(tmp_path):
    p = _write(tmp_path, GRAPH + "  - {name: r, kind: report, baseline: base}\nreport: {baseline: base}\n")
    with pytest.raises(DataError) as err:
        load_experiment(p)
    assert f"{p}:25: report: the report is set twice: here and in report stage 'r'" in str(err.value)


def test_an_evaluation_of_several_models_is_referenced_per_model(tmp_path):
    text = GRAPH + "  - name: rows\n    kind: export\n    format: dpo\n    data: stage:after\n"
    with pytest.raises(DataError) as err:
        load_experiment(_write(tmp_path, text))
    assert "name one model of evaluation 'after': stage:after.MODEL, MODEL in ['base', 'sft']" in str(
        err.value
    )
    exp = load_experiment(_write(tmp_path, text.replace("data: stage:after\n", "data: stage:after.base\n")))
    keys = [u.key for u in plan(exp)]
    # reading the base model's run does not wait for training: only that unit is a dependency
    assert keys.index("export:rows") > keys.index("eval:after:base")
    rows = next(u for u in plan(exp) if u.key == "export:rows")
    assert rows.deps == {"eval:after:base"}


def test_overrides_walk_names_and_indices():
    data = {"name": "x", "stages": [{"name": "a", "kind": "select", "data": "f", "budget": 1}]}
    out = apply_overrides(data, ["stages.a.budget=5", "stages.0.options.theta=0.5", "models.base=hf:m"])
    assert out["stages"][0]["budget"] == 5 and out["stages"][0]["options"] == {"theta": 0.5}
    assert out["models"] == {"base": "hf:m"} and data["stages"][0]["budget"] == 1  # the input is untouched
    assert apply_overrides(data, ["stages.a.culture=[a, b]"])["stages"][0]["culture"] == ["a", "b"]


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("stages.nope.budget=1", "no entry named 'nope' (names: a; or use an index)"),
        ("stages.a.budgte=1", "no field 'budgte' there; did you mean 'budget'?"),
        ("stages.3.budget=1", "index 3 is out of range"),
        ("repor.baseline=base", "no field 'repor' there; did you mean 'report'?"),
        ("evaluations.0.limit=1", "evaluations is not set; give the whole list"),
        ("budget", "expected path.to.field=value"),
    ],
)
def test_bad_override_paths_are_clear_errors(override, fragment):
    data = {"name": "x", "stages": [{"name": "a", "kind": "select", "data": "f", "budget": 1}]}
    with pytest.raises(ConfigError) as err:
        apply_overrides(data, [override])
    assert fragment in str(err.value)


def test_shipped_experiments_load_by_name_with_overrides():
    assert {"demo", "care", "caredio", "grounded"} <= set(shipped())
    exp, path, effective = load_with_overrides("caredio", ["stages.select.budget=3"])
    assert path == shipped()["caredio"] and effective.startswith(
        f"# {path} with --set stages.select.budget=3"
    )
    assert next(s for s in exp.stages if s.name == "select").budget == 3
    with pytest.raises(DataError) as err:  # a wrong value is located like any other field
        load_with_overrides("caredio", ["stages.select.budget=lots"])
    assert "stages.3.budget: Input should be a valid number" in str(err.value)


def test_cli_list_name_and_bad_set(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "culturalign", "run", *args], capture_output=True, text=True
        )

    listed = run("--list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == sorted(shipped())
    for args, fragment in [
        (("nosuch",), "no shipped experiment of that name"),
        (("caredio", "--set", "stages.selct.budget=1"), "no entry named 'selct'"),
    ]:
        proc = run(*args, "--out", str(tmp_path / "r"))
        assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr
