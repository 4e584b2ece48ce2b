"""``--report-to``: training curves, the held-out gap and evaluation summaries reach
TensorBoard, W&B and MLflow, read back from each tool's offline files (never the network)."""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
from pathlib import Path

import pytest

from culturalign import trackers
from culturalign.errors import ConfigError, MissingDependency

SUMMARY = {
    "overall": {"average": 3.5, "n": 4, "interval": {"ci_low": 2.9, "ci_high": 4.1}},
    "per_culture": {"Arab (Gulf)": {"average": 2.0, "too_small": True}},
    "model": "hf:tiny",  # text: not a metric
    "scores": [1, 2, 3],  # per-item values: not a metric
    "missing": float("nan"),
}
FLAT = {
    "overall/average": 3.5,
    "overall/n": 4.0,
    "overall/interval/ci_low": 2.9,
    "overall/interval/ci_high": 4.1,
    "per_culture/Arab (Gulf)/average": 2.0,
    "per_culture/Arab (Gulf)/too_small": 1.0,
}


def needs(module: str):
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None, reason=f"{module} is not installed (pip install {module})"
    )


@pytest.fixture()
def offline(tmp_path, monkeypatch):
    """Every tool writes below tmp_path and talks to no server."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 wants a database otherwise
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    return tmp_path


def tensorboard_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def tensorboard_config(log_dir: Path) -> str:
    """The run's configuration, written as TensorBoard text."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return acc.Tensors("culturalign/config/text_summary")[0].tensor_proto.string_val[0].decode()


def wandb_records(out_dir: Path) -> list:
    """The records of the one offline W&B run under ``out_dir``: the ``.wandb`` file is a
    header plus LevelDB-log framing (32 KiB blocks, 7-byte record headers) of protobufs."""
    from wandb.proto import wandb_internal_pb2 as pb

    (run_file,) = out_dir.glob("wandb/offline-run-*/run-*.wandb")
    raw = run_file.read_bytes()
    assert raw[:4] == b":W&B"
    pos, block, chunk, records = 7, 32768, b"", []
    while pos + 7 <= len(raw):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", raw[pos : pos + 7])
        chunk += raw[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            record = pb.Record()
            record.ParseFromString(chunk)
            records.append(record)
            chunk = b""
    return records


def wandb_history(out_dir: Path) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for record in wandb_records(out_dir):
        if record.WhichOneof("record_type") == "history":
            for item in record.history.item:
                key = item.key or "/".join(item.nested_key)
                if not key.startswith("_"):
                    values.setdefault(key, []).append(json.loads(item.value_json))
    return values


def mlflow_runs(root: Path) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"file:{root / 'mlruns'}")
    experiment = client.get_experiment_by_name("culturalign")
    return client.search_runs([experiment.experiment_id]) if experiment else []


def test_report_to_names_are_checked_before_any_work(monkeypatch):
    assert trackers.parse_report_to(None) == ()
    assert trackers.parse_report_to("none") == ()
    assert trackers.parse_report_to(" ") == ()
    with pytest.raises(
        ConfigError, match="--report-to 'neptune': choose from wandb, mlflow, tensorboard or none"
    ):
        trackers.parse_report_to("tensorboard,neptune")
    with pytest.raises(ConfigError, match="'none' cannot be combined"):
        trackers.parse_report_to("none,wandb")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a)
    )
    with pytest.raises(MissingDependency, match=r"wandb is needed for --report-to wandb; .*\[trackers\]"):
        trackers.parse_report_to("wandb")


def test_a_missing_tracker_ends_the_command_with_exit_2(monkeypatch, capsys, tmp_path):
    from culturalign.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    args = ["eval", "mcq", "-m", "embedded", "-d", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o")]
    monkeypatch.setattr(sys, "argv", ["culturalign", *args, "--report-to", "mlflow"])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    assert exited.value.code == 2, out
    assert "mlflow-skinny is needed for --report-to mlflow" in out.err and "Traceback" not in out.err
    assert "pip install 'culturalign[trackers]'" in out.err


def test_summaries_flatten_to_numbers():
    assert trackers.flat_metrics(SUMMARY) == FLAT
    assert trackers.flat_metrics({"a": {"b": 1}}, prefix="eval/") == {"eval/a/b": 1.0}
    assert trackers._mlflow_key("per_culture/Arab (Gulf)/average") == "per_culture/Arab _Gulf_/average"


def _commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_that_trains_or_evaluates_takes_report_to():
    from culturalign.cli import command

    options = {" ".join(p): {o for param in c.params for o in param.opts} for p, c in _commands(command())}
    wanted = [p for p in options if p.split()[0] in ("train", "study", "eval") or p in ("run", "judge")]
    not_runs = {"train presets", "train config", "train accelerate-config", "eval care-table"}
    missing = [p for p in wanted if p not in not_runs and "--report-to" not in options[p]]
    assert not missing
    assert {"train dpo", "study scaling", "study care-effect", "eval care", "eval mcq", "run"} <= set(wanted)


@needs("tensorboard")
def test_an_eval_command_logs_its_summary(tiny_model_dir, tmp_path, monkeypatch, capsys):
    from culturalign.cli import main
    from culturalign.paths import package_data

    out = tmp_path / "mcq"
    data = package_data("data", "sample", "choice_include.csv")
    args = ["eval", "mcq", "-m", f"hf:{tiny_model_dir}", "-d", str(data), "-o", str(out), "-n", "3"]
    monkeypatch.setattr(sys, "argv", ["culturalign", "-q", *args, "--report-to", "tensorboard"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in (0, None), capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    logged = {k: v[-1][1] for k, v in tensorboard_scalars(out / "tensorboard").items()}
    assert logged["questions"] == summary["questions"] == 3
    assert logged == pytest.approx(
        trackers.flat_metrics(summary)
        | {k: v for k, v in logged.items() if k.startswith(("calls/", "problems"))}
    )
    assert logged["calls/model/calls"] >= 1 and logged["problems"] == 0
    config = json.loads(tensorboard_config(out / "tensorboard"))
    assert config["kind"] == "eval mcq" and config["models"]["model"] == f"hf:{tiny_model_dir}"


@needs("tensorboard")
@needs("wandb")
@needs("mlflow")
def test_training_logs_trl_curves_and_the_heldout_gap_in_one_run(offline, tiny_model_dir, tmp_path):
    """One training run reaches all three trackers: TRL's loss per step and our held-out gap
    share a run in each (the trainer's W&B and MLflow callbacks join the run we opened)."""
    sys.path.insert(0, str(Path(__file__).parent / "train"))
    from train_helpers import make_pairs, write_jsonl

    from culturalign.train.run import train

    pairs = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(24))
    out = tmp_path / "dpo-run"
    config = {"preset": "tiny-test", "logging_steps": 1, "max_steps": 3}
    result = train(
        "dpo", f"hf:{tiny_model_dir}", pairs, out, config=config, report_to="tensorboard,mlflow,wandb"
    )
    final = trackers.flat_metrics(result.tracker_metrics())
    assert final["heldout/gap_rise"] == pytest.approx(result.gap_rise)

    scalars = tensorboard_scalars(out / "tensorboard")
    assert len(scalars["train/loss"]) == result.steps  # TRL's own logging, every step
    assert scalars["heldout/after/gap"] == [(result.steps, pytest.approx(result.gap_after.gap))]

    (ml,) = mlflow_runs(offline)
    assert ml.info.status == "FINISHED" and ml.info.run_name == "dpo-run"
    assert ml.data.metrics["heldout/before/gap"] == pytest.approx(result.gap_before.gap)
    assert "loss" in ml.data.metrics  # the trainer's callback logged into the same run
    assert ml.data.params["culturalign.method"] == "dpo" and ml.data.params["learning_rate"]

    history = wandb_history(out)
    assert len(history["train/loss"]) == result.steps
    assert history["heldout/after/gap"] == [pytest.approx(result.gap_after.gap)]
    run = next(r.run for r in wandb_records(out) if r.WhichOneof("record_type") == "run")
    assert (run.display_name, run.project, run.job_type) == ("dpo-run", "culturalign", "train-dpo")


@needs("tensorboard")
def test_reporting_reaches_runs_opened_inside_it_and_ends_with_the_block(tmp_path):
    """``study`` and ``run`` wrap their work in ``reporting``: every ``train()`` inside
    opens its own run there without being told; outside the block nothing reports."""
    with trackers.reporting("tensorboard"):
        assert trackers.active() == ("tensorboard",)
        run = trackers.start_run(None, "cell-a/model", tmp_path / "cell-a", "train-dpo")
        assert run is not None and run.trl_report_to == [] and len(run.trainer_callbacks()) == 1
        run.log({"heldout/after/gap": 1.5}, step=4)
        run.close()
    assert trackers.active() == () and trackers.start_run(None, "x", tmp_path / "x", "eval") is None
    assert tensorboard_scalars(tmp_path / "cell-a" / "tensorboard") == {"heldout/after/gap": [(4, 1.5)]}


def test_an_experiment_reports_every_stage_summary(tmp_path):
    from culturalign.cli.run import _stage_summaries

    (tmp_path / "eval-before").mkdir()
    (tmp_path / "eval-before" / "summary.json").write_text('{"overall": {"average": 2.5}}', encoding="utf-8")
    (tmp_path / "train" / "eval").mkdir(parents=True)
    (tmp_path / "train" / "eval" / "summary.json").write_text('{"gap": 0.75}', encoding="utf-8")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json", encoding="utf-8")
    found = _stage_summaries(tmp_path, {"spend": {"calls": 3, "cost_usd": 0.0}})
    assert trackers.flat_metrics(found) == {
        "spend/calls": 3.0,
        "spend/cost_usd": 0.0,
        "eval-before/overall/average": 2.5,
        "train/eval/gap": 0.75,
    }
