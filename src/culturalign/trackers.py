"""Experiment trackers: ``--report-to wandb,mlflow,tensorboard`` (or ``none``).

People who train with TRL already watch their runs in Weights & Biases, MLflow or
TensorBoard; culturalign reports into the same places instead of beside them. One
tracker run per training run or evaluation: it opens, takes a flat dict of numbers,
and closes. During training TRL's own callbacks write the loss curves into the run
this module opened (transformers' W&B and MLflow callbacks reuse an active run, and the
TensorBoard callback gets this run's writer), so the curves and the held-out gap land
in one place. After an evaluation the summary's numbers are logged.

Where the runs go is the tools' own business, read from their usual variables:
``WANDB_PROJECT`` (default ``culturalign``), ``WANDB_MODE=offline``, ``WANDB_DIR``;
``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_NAME`` (default ``culturalign``);
TensorBoard event files go to ``OUT/tensorboard``. Only the main process of a
multi-process run reports. Each tool is imported only when asked for, and a missing one
is a plain error naming the pip command before any work starts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError

log = logging.getLogger(__name__)

#: tracker name -> (module to import, its package; the [trackers] extra installs all three)
TRACKERS: dict[str, tuple[str, str]] = {
    "wandb": ("wandb", "wandb"),
    "mlflow": ("mlflow", "mlflow-skinny"),
    "tensorboard": ("tensorboard", "tensorboard"),
}
REPORT_TO_HELP = (
    "log training curves, the held-out gap and evaluation summaries to wandb, mlflow and/or "
    "tensorboard (comma separated; none: off)"
)
MAX_METRICS = 5000  # a summary with per-item numbers in it is not what a dashboard wants

_active: ContextVar[tuple[str, ...]] = ContextVar("culturalign_report_to", default=())


def parse_report_to(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"wandb,tensorboard"`` -> ``("wandb", "tensorboard")``; ``none`` or empty -> ``()``.

    Unknown names and trackers that are not installed are errors here, so a long run
    does not fail at its very end."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in (str(i).strip().lower() for i in items):
        if not item or item == "none":
            continue
        if item not in TRACKERS:
            raise ConfigError(
                f"--report-to {item!r}: choose from {', '.join(TRACKERS)} or none (comma separated)"
            )
        if item not in names:
            names.append(item)
    if "none" in [str(i).strip().lower() for i in items] and names:
        raise ConfigError("--report-to: 'none' cannot be combined with a tracker")
    from culturalign.extras import require

    for name in names:
        require("trackers", TRACKERS[name][0], why=f"for --report-to {name}")
    return tuple(names)


def report_to_callback(value: str | None) -> str | None:
    """For the CLI option: checked when the command line is parsed, before anything runs."""
    parse_report_to(value)
    return value


@contextlib.contextmanager
def reporting(value: str | Sequence[str] | None) -> Iterator[tuple[str, ...]]:
    """Within the block, every ``train()`` (a study's cells, an experiment's stages)
    reports to these trackers unless it is told otherwise."""
    token = _active.set(parse_report_to(value))
    try:
        yield _active.get()
    finally:
        _active.reset(token)


def active() -> tuple[str, ...]:
    """The trackers ``reporting`` set for this block (none outside one)."""
    return _active.get()


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0") or 0) == 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def flat_metrics(obj: Any, prefix: str = "") -> dict[str, float]:
    """The numbers in a nested summary as ``{"a/b/c": value}``; text and lists are left
    out (lists are per-item values, not metrics), and so are NaN and infinities."""
    out: dict[str, float] = {}

    def walk(value: Any, key: str) -> None:
        if len(out) >= MAX_METRICS:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{key}/{k}" if key else str(k))
        elif (number := _number(value)) is not None and key:
            out[key] = number

    walk(obj, prefix.rstrip("/"))
    return out


def _flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flat_params(value, name))
        elif value is not None:
            out[name] = value if isinstance(value, str) else json.dumps(value, default=str)
    return out


def _mlflow_key(key: str) -> str:
    """MLflow accepts letters, digits, ``_-./`` and spaces in names."""
    return re.sub(r"[^\w\-./ ]", "_", key, flags=re.ASCII)


class _Wandb:
    def __init__(self, name: str, out_dir: Path, kind: str, config: Mapping[str, Any]):
        import wandb

        self._run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "culturalign"),
            name=name,
            job_type=kind,
            dir=os.environ.get("WANDB_DIR") or str(out_dir),
            config={"culturalign": dict(config)},
            reinit="finish_previous",
        )

    def log(self, metrics: Mapping[str, float], step: int | None) -> None:
        self._run.log(dict(metrics))
        self._run.summary.update(dict(metrics))

    def close(self, failed: bool) -> None:
        self._run.finish(exit_code=1 if failed else 0)


class _MLflow:
    def __init__(self, name: str, out_dir: Path, kind: str, config: Mapping[str, Any]):
        import mlflow

        self._mlflow = mlflow
        mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or "culturalign")
        mlflow.start_run(run_name=name, tags={"culturalign.kind": kind, "culturalign.out": str(out_dir)})
        params = {_mlflow_key(f"culturalign.{k}"): v[:6000] for k, v in _flat_params(config).items()}
        if params:  # prefixed, so they never collide with the trainer's own parameters
            mlflow.log_params(params)

    def log(self, metrics: Mapping[str, float], step: int | None) -> None:
        self._mlflow.log_metrics({_mlflow_key(k): v for k, v in metrics.items()}, step=step or 0)

    def close(self, failed: bool) -> None:
        self._mlflow.end_run(status="FAILED" if failed else "FINISHED")


class _TensorBoard:
    def __init__(self, name: str, out_dir: Path, kind: str, config: Mapping[str, Any]):
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = out_dir / "tensorboard"
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self.writer.add_text(
            "culturalign/config", json.dumps({"kind": kind, **config}, indent=1, default=str)
        )

    def log(self, metrics: Mapping[str, float], step: int | None) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, global_step=step or 0)
        self.writer.flush()

    def close(self, failed: bool) -> None:
        self.writer.close()


_BACKENDS = {"wandb": _Wandb, "mlflow": _MLflow, "tensorboard": _TensorBoard}


class TrackerRun:
    """One run in every chosen tracker; ``log`` sends the same numbers to each."""

    def __init__(
        self,
        names: Sequence[str],
        name: str,
        out_dir: str | Path,
        kind: str,
        config: Mapping[str, Any] | None = None,
    ):
        self.names = tuple(names)
        self._backends: dict[str, Any] = {}
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            for tracker in self.names:
                self._backends[tracker] = _BACKENDS[tracker](name, out_dir, kind, dict(config or {}))
        except BaseException:
            self.close(failed=True)
            raise
        log.info("reporting %s %s to %s", kind, name, ", ".join(self.names))

    @property
    def trl_report_to(self) -> list[str]:
        """What TRL's ``report_to`` gets: its W&B and MLflow callbacks find the run open;
        TensorBoard comes in through ``trainer_callbacks`` with this run's writer."""
        return [n for n in self.names if n != "tensorboard"]

    def trainer_callbacks(self) -> list[Any]:
        if "tensorboard" not in self._backends:
            return []
        from transformers.integrations import TensorBoardCallback

        return [TensorBoardCallback(tb_writer=self._backends["tensorboard"].writer)]

    def log(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if not metrics:
            return
        for backend in self._backends.values():
            backend.log(metrics, step)

    def close(self, failed: bool = False) -> None:
        for tracker, backend in list(self._backends.items()):
            try:
                backend.close(failed)
            except Exception as exc:  # one tracker failing to close must not hide the others
                log.warning("closing the %s run failed: %s", tracker, exc)
        self._backends.clear()


def start_run(
    value: str | Sequence[str] | None,
    name: str,
    out_dir: str | Path,
    kind: str,
    config: Mapping[str, Any] | None = None,
) -> TrackerRun | None:
    """A run in the trackers ``value`` names (None: the ones ``reporting`` set); None when
    there are none, or in a process other than the main one."""
    names = parse_report_to(value) if value is not None else active()
    if not names or not _is_main_process():
        return None
    return TrackerRun(names, name, out_dir, kind, config)


def report_summary(
    value: str | Sequence[str] | None,
    out_dir: str | Path,
    kind: str,
    summary: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> dict[str, float]:
    """Open a run, log the numbers of ``summary`` (flattened), close it; returns them."""
    run = start_run(value, name or Path(out_dir).name, out_dir, kind, config)
    metrics = flat_metrics(summary)
    if run is not None:
        try:
            run.log(metrics)
        finally:
            run.close()
    return metrics
