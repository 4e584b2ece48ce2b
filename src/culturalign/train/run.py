"""``train(method, model, data, out)``: align a model with SFT, DPO, KTO or SimPO.

The CARE recipe (paper 000 §4.1 and appendix B) and the CultureBank SFT recipe (paper
003 §4.2, §5.3) as one function that the CLI, the studies and ``culturalign run`` all
call. It loads the data into TRL's formats, keeps a held-out set of pairs, measures
the chosen-vs-rejected log-probability gap on them before and after training, runs the
TRL trainer with checkpoints (``resume=True`` continues an interrupted run), and saves a
folder that loads as ``hf:OUT`` everywhere.

The same code runs on one CPU and under ``accelerate launch -m culturalign train ...``
(DDP, DeepSpeed ZeRO-2/3, FSDP; configs in ``culturalign/configs/accelerate/``).
"""

from __future__ import annotations

import logging
import random
import shutil
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.datasets.hub import is_hub_spec
from culturalign.errors import ConfigError
from culturalign.io import stable_hash, write_records
from culturalign.progress import verbose
from culturalign.records import PreferencePair, UnpairedExample
from culturalign.train.gap import GapReport, preference_gap
from culturalign.train.outputs import (
    CHECKPOINTS,
    MANIFEST,
    Manifest,
    TrainResult,
    check_out_dir,
    data_fingerprint,
    is_main_process,
    last_checkpoint,
    peak_rss_mb,
    save_model,
    write_manifest,
)
from culturalign.train.presets import METHODS, TrainConfig, resolve_config

log = logging.getLogger(__name__)
# TRL still calls the old name inside its trainers; nothing for a user to change.
_TRL_NOISE = ".*is_gradient_checkpointing.*"

__all__ = ["TrainResult", "heldout_gap", "load_training_data", "train"]


def heldout_gap(model_dir_or_spec: str | Path, pairs: Sequence[PreferencePair] | str | Path) -> float:
    from culturalign.train.gap import heldout_gap as _gap

    return _gap(model_dir_or_spec, pairs)


def load_training_data(method: str, data_path: Path, cfg: TrainConfig) -> tuple[list[Any], list[Any], str]:
    """(training records, held-out records, description) for ``method``.

    DPO and SimPO read pairs; KTO reads unpaired rows or splits pairs into two rows; SFT
    reads prompt/completion rows, conversations, CARE questions with reference answers, or
    pairs (imitating the chosen answer). Held-out items are split off by question before
    any conversion, unless ``heldout.file`` names them.
    """
    from culturalign.train import data as d

    h = cfg.heldout
    kind = (
        d.data_kind(data_path) if Path(data_path).is_file() or is_hub_spec(str(data_path)) else "preference"
    )

    def sample(items):
        if cfg.max_examples is not None and len(items) > cfg.max_examples:
            keep = sorted(random.Random(cfg.seed).sample(range(len(items)), cfg.max_examples))
            items = [items[i] for i in keep]
        return list(items)

    def split(items):
        if h.file is not None or not h.measure:
            return sample(items), []
        train_part, held_part = d.split_heldout(
            items, fraction=h.fraction, min_n=h.min_pairs, max_n=h.max_pairs, seed=cfg.seed
        )
        return sample(train_part), held_part

    if method in ("dpo", "simpo"):
        train_items, held = split(d.load_pairs(data_path))
        desc = "preference pairs"
    elif method == "kto":
        if kind == "preference":
            pairs_train, held = split(d.load_pairs(data_path))
            train_items, desc = (
                d.unpair(pairs_train),
                "preference pairs split into desirable/undesirable rows",
            )
        else:
            train_items, held = split(d.load_unpaired(data_path))
            desc = "unpaired examples"
    elif method == "sft":
        if kind == "preference":
            pairs_train, held = split(d.load_pairs(data_path))
            train_items = [
                d.SFTExample(id=p.question_id, prompt=p.prompt, completion=p.chosen) for p in pairs_train
            ]
            desc = "the chosen answers of preference pairs"
        else:
            train_items = sample(d.load_sft(data_path, mode=cfg.sft.prompt_mode, lang=cfg.sft.lang))
            held, desc = (
                [],
                "reference answers" if kind in ("questions", None) else "prompt/completion examples",
            )
            if train_items and isinstance(train_items[0], d.KnowledgeText):
                desc = "plain text, trained as continued pre-training"
    else:
        raise ConfigError(f"unknown training method {method!r}; choose one of {', '.join(METHODS)}")
    if h.file is not None and h.measure:
        held = d.load_pairs(h.file) if d.data_kind(h.file) == "preference" else d.load_unpaired(h.file)
    if held and isinstance(held[0], UnpairedExample) and len({e.label for e in held}) < 2:
        if h.file is None:
            train_items = list(train_items) + list(held)
        held = []
        desc += "; no held-out gap: the held-out rows were all desirable or all undesirable"
    return train_items, held, desc


def heldout_note(held: Sequence[Any], data_path: Path, cfg: TrainConfig) -> str:
    """Where the held-out items came from, for the run's summary: a user should never have
    to guess whether "all the data" lost a share to the gap measurement."""
    h = cfg.heldout
    if not h.measure:
        return "held out: none (heldout.measure is off); every item was trained on"
    if h.file is not None:
        return f"held out: {len(held)} items from {h.file} (--heldout); every item of {data_path.name} was trained on"
    if not held:
        return f"held out: none; every item of {data_path.name} was trained on"
    return (
        f"held out: {len(held)} items split off {data_path.name} by question (heldout.fraction "
        f"{h.fraction:g}) and not trained on; pass --heldout FILE to train on every item"
    )


def _gap(
    model: Any, tokenizer: Any, held: list[Any], cfg: TrainConfig, device: Any = None
) -> GapReport | None:
    """The held-out gap, measured by every process on its own full copy of the model
    (on its GPU when it has one), so no process waits on another; skipped under ZeRO-3
    or FSDP, where no process holds the whole model (``train`` notes why)."""
    from culturalign.train.models import sharded_training

    if not held or not cfg.heldout.measure or sharded_training():
        return None
    if device is not None and not getattr(model, "is_loaded_in_4bit", False):
        model.to(device)  # the trainer moves it there anyway
    return preference_gap(model, tokenizer, held, max_length=cfg.max_length)


def _quiet_libraries() -> None:
    """No "Map" / "Saving the dataset" bars from datasets and transformers unless -v:
    culturalign's own training bar says how far the run is."""
    import transformers

    import datasets
    from culturalign.progress import route_library_logs

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    tlog = transformers.utils.logging
    tlog.get_logger()  # makes transformers set up its own handler, which is then replaced
    route_library_logs("transformers", tlog._default_handler)  # its warnings above the bar


def _result_from(manifest: Manifest, out_dir: Path) -> TrainResult:
    if manifest.result is None:
        raise ConfigError(
            f"{out_dir}/{MANIFEST}: a finished run without a result; delete the folder and rerun"
        )
    return manifest.result.model_copy(update={"out_dir": Path(out_dir)})


def train(
    method: str,
    model_spec: str,
    data_path: str | Path,
    out_dir: str | Path,
    *,
    config: TrainConfig | dict[str, Any] | str | Path | None = None,
    lora: bool = False,
    qlora: bool = False,
    resume: bool = False,
    merge: bool = False,
    heldout: str | Path | None = None,
    callbacks: list[Any] | None = None,
    report_to: str | Sequence[str] | None = None,
) -> TrainResult:
    """Train ``model_spec`` on ``data_path`` with ``method``; write everything to ``out_dir``.

    ``config`` is a TrainConfig, a mapping or a YAML path layered on a preset (default
    ``care-paper``). ``callbacks`` are extra ``transformers.TrainerCallback`` objects.
    ``report_to``: trackers for TRL's logs and the held-out gap (``culturalign.trackers``;
    None: those ``trackers.reporting`` set, else none).
    A finished folder with ``resume=True`` returns its stored result without training.
    """
    from culturalign.extras import require

    method = method.lower()
    if method not in METHODS:
        raise ConfigError(f"unknown training method {method!r}; choose one of {', '.join(METHODS)}")
    require("train", "torch", "transformers", "trl", "peft", "datasets", "accelerate", why="to train")
    overrides: dict[str, Any] = {}
    if lora or qlora:
        overrides["lora"] = {"enabled": True}
    if qlora:
        overrides["qlora"] = {"enabled": True}
    if merge:
        overrides["merge_adapter"] = True
    if heldout is not None:
        overrides["heldout"] = {"file": str(heldout)}
    cfg = resolve_config(config, overrides=overrides)
    if method == "kto" and cfg.per_device_batch_size < 2:
        raise ConfigError(
            f"{cfg.where('per_device_batch_size')}: per_device_batch_size: KTO needs at least 2"
        )
    from culturalign.train.models import resolve_spec

    starts_from_adapter = resolve_spec(model_spec)[1] is not None
    if starts_from_adapter and cfg.lora.enabled and not cfg.merge_adapter:
        cfg.merge_adapter = True  # an adapter saved over the old base would lose the first adapter
    data_path, out_dir = Path(data_path), Path(out_dir)
    hub_data = is_hub_spec(str(data_path))
    fingerprint = data_fingerprint(data_path) if data_path.exists() or hub_data else ""
    old = check_out_dir(
        out_dir, resume=resume, method=method, fingerprint=fingerprint, config=cfg.model_dump(mode="json")
    )
    if old is not None and old.status == "finished":
        log.info("%s already holds a finished run; nothing to do", out_dir)
        return _result_from(old, out_dir)
    if cfg.qlora.enabled:
        from culturalign.train.models import check_qlora

        check_qlora()

    if not verbose():
        _quiet_libraries()
    train_items, held, desc = load_training_data(method, data_path, cfg)
    from culturalign.train import data as d
    from culturalign.train.models import load_model, sharded_training
    from culturalign.train.trainers import (
        build_trainer,
        file_backed,
        plan_batches,
        trl_args,
        wait_for_everyone,
    )

    notes = [
        f"training data: {len(train_items)} examples ({desc}) from {data_path.name}",
        heldout_note(held, data_path, cfg),
    ]
    plan = plan_batches(cfg, len(train_items))
    for note in (plan.note, plan.warmup_note):
        if note:
            notes.append(note)
            log.warning(note)
    # the training arguments before the model: building them starts the processes and
    # switches on ZeRO-3's sharded initialisation and FSDP's rank-0-only loading, which
    # from_pretrained reads (built after it, every process loaded all the weights)
    from culturalign import trackers

    tracker_names = trackers.parse_report_to(report_to) if report_to is not None else trackers.active()
    trl_trackers = [n for n in tracker_names if n != "tensorboard"]  # TensorBoard: our writer, below
    args = trl_args(method, cfg, plan, out_dir / CHECKPOINTS, notes, report_to=trl_trackers)
    wait_for_everyone(args)  # every process has checked the folder before the main one writes
    loaded = load_model(model_spec, qlora=cfg.qlora, master_fp32=not cfg.lora.enabled)
    notes.extend(loaded.notes)
    if starts_from_adapter and cfg.lora.enabled:
        notes.append("saving merged weights: the starting model already carried an adapter")
    if held and cfg.heldout.measure and (sharded := sharded_training()):
        notes.append(f"no held-out gap: under {sharded} no process holds the whole model to measure it")

    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = old or Manifest(
        status="running",
        method=method,
        model_spec=model_spec,
        base_model=loaded.base_path,
        data={
            "path": str(data_path) if hub_data else str(data_path.resolve()),
            "sha256": fingerprint,
            "format": desc,
        },
        config=cfg.model_dump(mode="json"),
        config_hash=stable_hash(cfg.model_dump(mode="json")),
    )
    manifest.status = "running"
    write_manifest(out_dir, manifest)
    if is_main_process():
        (out_dir / "train-config.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
        if held:
            write_records(out_dir / "heldout.jsonl", held)

    gap_before = _gap(loaded.model, loaded.tokenizer, held, cfg, args.device)
    dataset = file_backed(d.to_dataset(train_items), out_dir / CHECKPOINTS / "train-data", args)
    from culturalign.train.progress_callback import TrainingProgress

    shown = TrainingProgress(out_dir / "train.log", f"{method.upper()} training")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_TRL_NOISE, category=FutureWarning)
        trainer = build_trainer(
            method,
            model=loaded.model,
            tokenizer=loaded.tokenizer,
            train_dataset=dataset,
            args=args,
            cfg=cfg,
            callbacks=[*(callbacks or []), shown],
            notes=notes,
            model_spec=model_spec,
        )
    tracked = trackers.start_run(
        tracker_names,
        # a study's cells train into CELL/model: name the run after the cell
        out_dir.name if out_dir.name != "model" else f"{out_dir.parent.name}/model",
        out_dir,
        f"train-{method}",
        {"method": method, "model": model_spec, "data": str(data_path), "train": cfg.model_dump(mode="json")},
    )
    for callback in tracked.trainer_callbacks() if tracked else []:
        trainer.add_callback(callback)
    checkpoint = last_checkpoint(out_dir) if resume else None
    if resume and checkpoint is None:
        notes.append("--resume found no checkpoint; started from the beginning")
    elif checkpoint:
        notes.append(f"resumed from {Path(checkpoint).name}")
    title = f"{method.upper()} {model_spec} on {data_path.name}"
    started = time.time()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_TRL_NOISE, category=FutureWarning)
            output = trainer.train(resume_from_checkpoint=checkpoint)
    except BaseException:
        shown.close()
        if tracked:
            tracked.close(failed=True)
        if is_main_process():
            from culturalign.train.curves import write_curves

            write_curves(trainer.state.log_history, out_dir, title + " (interrupted)")
            manifest.status = "interrupted"
            write_manifest(out_dir, manifest)
        raise
    seconds = time.time() - started

    saved = save_model(
        trainer,
        loaded.tokenizer,
        out_dir,
        merge=cfg.merge_adapter,
        base_path=loaded.base_path,
        model_spec=model_spec,
    )
    notes.append(f"saved {saved}")
    gap_after = _gap(trainer.accelerator.unwrap_model(trainer.model), loaded.tokenizer, held, cfg)
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
    rss = peak_rss_mb()
    if rss is not None:
        metrics["peak_rss_mb"] = rss
    result = TrainResult(
        out_dir=out_dir,
        method=method,
        model_spec=model_spec,
        base_model=loaded.base_path,
        steps=int(output.global_step),
        seconds=seconds,
        n_train=len(train_items),
        n_heldout=len(held),
        effective_batch=plan.effective,
        metrics=metrics,
        gap_before=gap_before,
        gap_after=gap_after,
        notes=notes,
    )
    if tracked:
        tracked.log(trackers.flat_metrics(result.tracker_metrics()), step=result.steps)
        tracked.close()
    if is_main_process():
        _finish(trainer, out_dir, manifest, result, cfg, title, data_path)
    return result


def _finish(
    trainer, out_dir: Path, manifest: Manifest, result: TrainResult, cfg: TrainConfig, title, data_path
):
    from culturalign.runlog import RunLog
    from culturalign.train.curves import write_curves

    write_curves(trainer.state.log_history, out_dir, title)
    manifest.status = "finished"
    manifest.finished = time.time()
    manifest.result = result
    write_manifest(out_dir, manifest)
    run = RunLog(kind=f"train-{result.method}", config=cfg.model_dump(mode="json"), notes=result.notes)
    run.models["base"] = {"spec": result.model_spec, "path": result.base_model}
    run.add_data(data_path)
    run.finish(out_dir)
    if not cfg.keep_checkpoints:
        shutil.rmtree(out_dir / CHECKPOINTS, ignore_errors=True)
