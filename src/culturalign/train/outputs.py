"""What a training run leaves in its output folder, and how a rerun reads it back.

``OUT/`` holds the adapter (``adapter_config.json`` + weights, with the base model's
absolute path) or full weights, the tokenizer, ``train-config.yaml`` (the resolved
config), ``heldout.jsonl`` (the pairs the gap was measured on), ``curves.csv`` and
``curves.png``, ``run.json`` (the shared run log) and ``culturalign-train.json`` (the
manifest: status, method, base model, data fingerprint, result). The folder loads as
``hf:OUT`` in every other command. ``OUT/checkpoints/`` holds the checkpoints while a
run is unfinished; ``--resume`` continues from the newest one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from culturalign.errors import ConfigError
from culturalign.io import fingerprint_file, stable_hash, write_json
from culturalign.runlog import git_revision, package_versions
from culturalign.train.gap import GapReport

MANIFEST = "culturalign-train.json"
CHECKPOINTS = "checkpoints"


class TrainResult(BaseModel):
    """The outcome of one training run (also stored in the manifest)."""

    out_dir: Path
    method: str
    model_spec: str
    base_model: str
    steps: int
    seconds: float
    n_train: int
    n_heldout: int
    effective_batch: int
    metrics: dict[str, float] = Field(default_factory=dict)
    gap_before: GapReport | None = None
    gap_after: GapReport | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def gap_rise(self) -> float | None:
        if self.gap_before is None or self.gap_after is None:
            return None
        return self.gap_after.gap - self.gap_before.gap

    def tracker_metrics(self) -> dict[str, Any]:
        """What the trackers get when training ends (``culturalign.trackers``): the
        held-out gap before and after and its rise, beside the curves TRL logged."""
        held: dict[str, Any] = {}
        for when, report in (("before", self.gap_before), ("after", self.gap_after)):
            if report is not None:
                held[when] = {
                    "gap": report.gap,
                    "gap_per_token": report.gap_per_token,
                    "accuracy": report.accuracy,
                    "n": report.n,
                }
                if report.interval:
                    held[when] |= {k: report.interval.get(k) for k in ("ci_low", "ci_high", "stderr")}
        if self.gap_rise is not None:
            held["gap_rise"] = self.gap_rise
        final = {"steps": self.steps, "seconds": self.seconds, "examples": self.n_train, **self.metrics}
        return {"heldout": held, "final": final}


class Manifest(BaseModel):
    status: Literal["running", "interrupted", "finished"]
    method: str
    model_spec: str
    base_model: str
    data: dict[str, str]
    config: dict[str, Any]
    config_hash: str
    started: float = Field(default_factory=time.time)
    finished: float | None = None
    versions: dict[str, str] = Field(default_factory=package_versions)
    git: str | None = Field(default_factory=git_revision)
    result: TrainResult | None = None


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def data_fingerprint(path: Path) -> str:
    """SHA-256 of a data file, of every file in a dataset folder, or of a hub split's rows."""
    from culturalign.datasets import hub

    if hub.is_hub_spec(str(path)):
        return hub.fingerprint(str(path))
    path = Path(path)
    if path.is_file():
        return fingerprint_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return stable_hash([[str(p.relative_to(path)), fingerprint_file(p)] for p in files])


def read_manifest(out_dir: Path) -> Manifest | None:
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return None
    return Manifest.model_validate_json(path.read_text(encoding="utf-8"))


def write_manifest(out_dir: Path, manifest: Manifest) -> None:
    if is_main_process():
        write_json(Path(out_dir) / MANIFEST, manifest.model_dump(mode="json"))


def last_checkpoint(out_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(out_dir) / CHECKPOINTS
    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


_RESUME_FREE = ("keep_checkpoints", "save_total_limit", "logging_steps")


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "trl":
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[prefix + k] = v
    return out


def config_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Settings that differ between two resolved configs (those that do not matter on resume left out)."""
    a, b = _flat(old), _flat(new)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in _RESUME_FREE)


class ResumeMismatch(ConfigError):
    """The folder holds a run of another method, data or settings than the one asked for."""


def check_out_dir(
    out_dir: Path, *, resume: bool, method: str, fingerprint: str, config: dict[str, Any]
) -> Manifest | None:
    """Refuse to mix runs in one folder; return the earlier manifest when resuming."""
    out_dir = Path(out_dir)
    old = read_manifest(out_dir)
    if old is None:
        if out_dir.exists() and any(out_dir.iterdir()):
            raise ConfigError(
                f"{out_dir}: the output folder is not empty and holds no training run; choose another --out"
            )
        return None
    if old.status == "finished" and not resume:
        raise ConfigError(
            f"{out_dir}: already holds a finished {old.method} run; choose another --out or delete it"
        )
    if not resume:
        ckpt = last_checkpoint(out_dir)
        where = f" (last checkpoint: {Path(ckpt).name})" if ckpt else ""
        raise ConfigError(
            f"{out_dir}: holds an unfinished {old.method} run{where}; pass --resume to continue it, "
            "or choose another --out"
        )
    differences = []
    if old.method != method:
        differences.append(f"method {old.method} -> {method}")
    if old.data.get("sha256") != fingerprint:
        differences.append("the training data changed")
    changed = config_changes(old.config, config)
    if changed:
        differences.append(f"settings changed: {', '.join(changed)}")
    if differences:
        # a finished run trained on other data or settings is not this run's result either
        what = "reuse the finished run" if old.status == "finished" else "resume"
        raise ResumeMismatch(f"{out_dir}: cannot {what}: {'; '.join(differences)}")
    return old


def fix_adapter_base(out_dir: Path, base_path: str) -> None:
    """Record the base model as an absolute path when it is a local folder, so
    ``hf:OUT`` loads from any working directory."""
    cfg_path = Path(out_dir) / "adapter_config.json"
    if not cfg_path.exists():
        return
    data = json.loads(cfg_path.read_text())
    local = Path(base_path)
    data["base_model_name_or_path"] = str(local.resolve()) if local.exists() else base_path
    write_json(cfg_path, data)


def save_model(
    trainer: Any,
    tokenizer: Any,
    out_dir: Path,
    *,
    merge: bool,
    base_path: str,
    model_spec: str | None = None,
) -> str:
    """Save the adapter, or merged/full weights, with the tokenizer; returns what was saved.

    The trainer always saves (it gathers ZeRO-3 and FSDP shards). A merge is done after
    that, on the main process, from what is on disk: the starting model loaded again in
    full precision and the saved adapter applied and folded in. Merging in memory would
    act on partitioned or DTensor weights, or fold the adapter into 4-bit ones."""
    from accelerate.utils import is_peft_model

    model = trainer.accelerator.unwrap_model(trainer.model)
    if is_peft_model(model) and merge:
        adapter_dir = Path(out_dir) / CHECKPOINTS / "adapter-to-merge"
        trainer.save_model(str(adapter_dir))
        trainer.accelerator.wait_for_everyone()
        if is_main_process():
            merge_saved_adapter(model_spec or base_path, adapter_dir, out_dir)
            tokenizer.save_pretrained(out_dir)
        trainer.accelerator.wait_for_everyone()
        return "merged weights"
    trainer.save_model(str(out_dir))
    if is_main_process():
        tokenizer.save_pretrained(out_dir)
        fix_adapter_base(out_dir, base_path)
    return "adapter" if is_peft_model(model) else "full weights"


def merge_saved_adapter(model_spec: str, adapter_dir: Path, out_dir: Path) -> None:
    """The starting model of ``model_spec`` (with any adapter it named already merged),
    with the adapter saved in ``adapter_dir`` folded into its weights, saved in ``out_dir``."""
    from culturalign.lm.backends.hf_folders import load_adapter
    from culturalign.train.models import load_model

    spec = model_spec if ":" in model_spec or model_spec == "embedded" else f"hf:{model_spec}"
    start = load_model(spec).model
    merged = load_adapter(start, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out_dir, safe_serialization=True)


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process (Linux), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
