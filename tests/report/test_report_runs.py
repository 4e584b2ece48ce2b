"""How the report names runs: the model's folder in an experiment, the user's folder
name for a single run unless it is a generic one, then the model's name; clashes told
apart by folder; --baseline by label, folder or spec; training runs found from the spec
or the adapter option."""

from __future__ import annotations

from culturalign.report.runs import model_name, model_path, name_runs, spec_options


def test_model_names_from_specs():
    assert model_name("hf:/models/SmolLM2-135M-Instruct") == "SmolLM2-135M-Instruct"
    assert model_name("hf:HuggingFaceTB/SmolLM2-135M@main+device_map=auto") == "SmolLM2-135M"
    assert model_name("openai:gpt-4o@http://127.0.0.1:8000/v1+rpm=60") == "gpt-4o"
    assert model_name("embedded") == "embedded"
    assert model_path("hf:/m/x+adapter=/runs/train/dpo") == "/m/x"
    assert spec_options("hf:/m/x+adapter=/runs/train/dpo+load_in_4bit") == {
        "adapter": "/runs/train/dpo",
        "load_in_4bit": "",
    }


def _log(spec: str, kind: str = "eval-care") -> dict:
    return {"kind": kind, "models": {"model": {"spec": spec}}}


def test_labels_baseline_and_training_links(tmp_path):
    train = tmp_path / "train" / "dpo"
    train.mkdir(parents=True)
    logs = [
        (tmp_path / "eval" / "care" / "base" / "vanilla-en", _log("hf:/m/SmolLM2")),  # an experiment's layout
        (tmp_path / "smol-dpo", _log(f"hf:/m/SmolLM2+adapter={train}")),  # the user's folder name
        (tmp_path / "a" / "out", _log("hf:/m/Qwen2.5-0.5B")),  # generic: the model names it
        (tmp_path / "b" / "vanilla-en", _log("openai:gpt-4o@http://127.0.0.1:9/v1")),
        (tmp_path / "c" / "out", _log("hf:/other/Qwen2.5-0.5B")),  # same name, other model
    ]
    names = name_runs(logs, [train])
    labels = [names.label(d) for d, _ in logs]
    # two models that share a name, in folders that share theirs: told apart by the folders above
    assert labels == ["base", "smol-dpo", "Qwen2.5-0.5B (a/out)", "gpt-4o", "Qwen2.5-0.5B (c/out)"]
    assert names.trained_by == {tmp_path / "smol-dpo": train}  # through +adapter=
    assert names.train_anchor[train] == "train-dpo"
    assert names.decorate("smol-dpo").href == "#train-dpo"
    assert names.decorate("base").title == "hf:/m/SmolLM2" and names.decorate("base").href is None
    assert names.decorate("not a run") == "not a run"
    # --baseline takes the label, the run's folder name or its spec
    assert names.baseline("base") == names.baseline("vanilla-en") == "base"
    assert names.baseline("openai:gpt-4o@http://127.0.0.1:9/v1") == "gpt-4o"
    assert names.baseline(None) is None and names.baseline("nothing") == "nothing"
