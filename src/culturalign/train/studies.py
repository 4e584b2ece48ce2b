"""The papers' training studies as grids of train + evaluate (paper 000 §4.3, §4.5, Table 2).

* ``run_scaling``: align on nested shares of the pairs (0/25/50/75/100%; 0% is the
  vanilla model) and evaluate each (CARE §4.3, Fig. 4).
* ``run_mixing``: align on native, foreign, or half-and-half pairs in equal counts and
  evaluate on native and on foreign questions (CARE §4.5, Fig. 6).
* ``run_algorithms``: DPO / KTO / SimPO on the same pairs, reported as changes over
  the vanilla model (CARE Table 2).

Every study first splits off one held-out set shared by all cells, writes the data
of each cell to ``OUT/data/``, trains into ``OUT/cells/NAME/model`` and evaluates into
``OUT/cells/NAME/eval``. A cell that finished is not redone, and an interrupted
training resumes from its checkpoint, so rerunning a study picks up where it stopped.

Every change over the reference cell (vanilla, or 0% of the pairs) carries a paired
interval over the evaluation items scored in both cells (``study_changes``), and the
table says where an interval includes 0.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from culturalign.errors import ConfigError, DataError, Problems
from culturalign.io import write_json, write_records
from culturalign.records import PreferencePair
from culturalign.train.presets import METHODS, TrainConfig, deep_merge, preset, validate_config
from culturalign.train.study_evals import EvalSettings, Evaluation, Subset, make_evaluation
from culturalign.train.study_report import StudyTable, write_study


class StudyConfig(BaseModel):
    """What a study YAML holds: the algorithm, training settings, the evaluation."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    method: str = "dpo"
    seed: int = 42
    train: TrainConfig = Field(default_factory=lambda: validate_config(preset("care-paper")))
    eval: EvalSettings = Field(default_factory=EvalSettings)


def load_study_config(
    path: str | Path | None = None,
    *,
    eval_name: str | None = None,
    eval_data: str | Path | None = None,
    judge: str | None = None,
    eval_limit: int | None = None,
    train_overrides: dict[str, Any] | None = None,
    lora: bool = False,
    method: str | None = None,
) -> StudyConfig:
    """The study YAML (``method``, ``seed``, ``train:`` settings, ``eval:``) plus CLI options."""
    from culturalign.train.presets import read_yaml_mapping

    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    source = Path(path) if path else "study config"
    if path is not None:
        data, lines = read_yaml_mapping(Path(path))
    train_map = dict(data.pop("train", None) or {})
    train_overrides = dict(train_overrides or {})
    name = train_overrides.pop("preset", None) or train_map.pop("preset", "care-paper")
    train_map.pop("preset", None)
    merged = deep_merge(preset(name), train_map)
    if train_overrides:
        merged = deep_merge(merged, train_overrides)
    if lora:
        merged = deep_merge(merged, {"lora": {"enabled": True}})
    sub = {k.removeprefix("train."): v for k, v in lines.items() if k.startswith("train.")}
    train_cfg = validate_config(merged, source=source, lines=sub)
    ev = dict(data.pop("eval", None) or {})
    for key, value in (("name", eval_name), ("data", eval_data), ("judge", judge), ("limit", eval_limit)):
        if value is not None:
            ev[key] = value
    if method is not None:
        data["method"] = method
    problems = Problems(source)

    def collect(exc: ValidationError, prefix: str) -> None:
        for err in exc.errors():
            key = prefix + ".".join(str(p) for p in err["loc"])
            msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
            problems.add(lines.get(key), key, msg)

    settings = EvalSettings()
    try:
        settings = EvalSettings.model_validate(ev)
    except ValidationError as exc:
        collect(exc, "eval.")
    try:
        cfg = StudyConfig(train=train_cfg, eval=settings, **data)
    except ValidationError as exc:
        collect(exc, "")
    problems.raise_if_any()
    if cfg.method not in METHODS:
        raise ConfigError(f"{source}: method: unknown {cfg.method!r}; choose one of {', '.join(METHODS)}")
    return cfg


# -- the grid machinery ----------------------------------------------------------------------


class Study:
    """Shared held-out split, per-cell training and evaluation, skipping finished cells."""

    def __init__(
        self, kind: str, model: str, data: Path, out: Path, cfg: StudyConfig, heldout: Path | None = None
    ):
        from culturalign.train.data import load_pairs

        self.kind, self.model, self.out, self.cfg = kind, model, Path(out), cfg
        self.pairs = load_pairs(data)
        if heldout is not None:  # given up front: every pair of --data is in the training pool
            self.pool, self.held = list(self.pairs), load_pairs(heldout)
            where = f"{len(self.held)} held out from {Path(heldout).name} (--heldout) for every cell"
            shared = {p.question_id for p in self.held} & {p.question_id for p in self.pairs}
            if shared:
                where += f" ({len(shared)} of its questions are also in the training data)"
        else:
            self._carve(kind, data)
            where = (
                f"{len(self.held)} held out for every cell, split off {Path(data).name} by question "
                f"before any share was drawn; pass --heldout FILE to train on all {len(self.pairs)}"
            )
        (self.out / "data").mkdir(parents=True, exist_ok=True)
        self.held_path = self.out / "data" / "heldout.jsonl"
        if self.held:
            write_records(self.held_path, self.held)
        self.evaluate: Evaluation = make_evaluation(cfg.eval, self.held_path)
        self.cell_dirs: dict[str, tuple[Path, tuple[Subset, ...]]] = {}
        self.notes: list[str] = [
            f"{len(self.pool)} pairs to train on, {where}",
            f"training: {cfg.method}, preset {cfg.train.preset}, lr {cfg.train.learning_rate:g}"
            + (", LoRA" if cfg.train.lora.enabled else ""),
        ]

    def _carve(self, kind: str, data: Path) -> None:
        from culturalign.train.data import split_heldout

        cfg = self.cfg
        h = cfg.train.heldout
        fraction = h.fraction if h.fraction > 0 else 0.1
        # the mixing study scores native and foreign separately: hold out some of each
        groups = [[p for p in self.pairs if _culture_of(p) == c] for c in ("native", "foreign")]
        groups.append([p for p in self.pairs if _culture_of(p) not in ("native", "foreign")])
        if kind != "mixing":
            groups = [self.pairs]
        self.pool, self.held = [], []
        for group in groups:
            pool, held = split_heldout(
                group, fraction=fraction, min_n=max(h.min_pairs, 2), max_n=h.max_pairs, seed=cfg.seed
            )
            self.pool += pool
            self.held += held
        if not self.pool:
            raise DataError([_problem(data, "no pairs left to train on after the held-out split")])

    def cell(
        self,
        name: str,
        pairs: Sequence[PreferencePair] | None,
        *,
        method: str | None = None,
        subsets: Sequence[Subset] = (None,),
    ) -> dict[str, Any]:
        """Train on ``pairs`` (None: the vanilla model) and evaluate; cached on disk."""
        from culturalign.train.run import train

        cell_dir = self.out / "cells" / name
        self.cell_dirs[name] = (cell_dir, tuple(subsets))
        done = cell_dir / "metrics.json"
        if done.exists():
            return json.loads(done.read_text(encoding="utf-8"))
        row: dict[str, Any] = {"pairs": len(pairs) if pairs is not None else 0}
        spec = self.model
        if pairs:
            data_path = self.out / "data" / f"{name}.jsonl"
            write_records(data_path, pairs)
            train_cfg = self.cfg.train.model_copy(deep=True)
            train_cfg.heldout.file = self.held_path if self.held else None
            train_cfg.heldout.measure = bool(self.held)
            result = train(
                method or self.cfg.method,
                self.model,
                data_path,
                cell_dir / "model",
                config=train_cfg,
                resume=True,
            )
            spec = f"hf:{cell_dir / 'model'}"
            row["train_seconds"] = round(result.seconds, 1)
            row["steps"] = result.steps
        for subset in subsets:
            metrics = self.evaluate(spec, cell_dir / ("eval" if subset is None else f"eval-{subset}"), subset)
            for key, value in metrics.items():
                row[key if subset is None else f"{subset}/{key}"] = value
        write_json(done, row)
        return row

    def metric_names(self, rows: list[dict[str, Any]], skip: set[str]) -> list[str]:
        names: list[str] = []
        for row in rows:
            names.extend(
                k for k, v in row.items() if k not in skip and k not in names and isinstance(v, float)
            )
        preferred = [n for n in names if n.split("/")[-1] in ("average", "gap")]
        return preferred + [n for n in names if n not in preferred]

    def units(self, name: str) -> dict[str, Any]:
        """Per-item values of every metric of one cell, named as in its row."""
        from culturalign.train.study_evals import metric_units

        cell_dir, subsets = self.cell_dirs[name]
        out: dict[str, Any] = {}
        for subset in subsets:
            folder = cell_dir / ("eval" if subset is None else f"eval-{subset}")
            for metric, units in metric_units(self.cfg.eval.name, folder).items():
                out[metric if subset is None else f"{subset}/{metric}"] = units
        return out

    def changes(self, cells: Sequence[str], labels: Sequence[str], reference: str) -> dict[str, Any]:
        """``{row label: {metric: paired change over the reference cell}}``."""
        from culturalign.train.study_changes import paired_changes

        base = self.units(reference)
        return {
            label: paired_changes(base, self.units(name))
            for name, label in zip(cells, labels, strict=True)
            if name != reference
        }

    def finish(
        self,
        title: str,
        key: str,
        rows: list[dict[str, Any]],
        metrics: list[str] | None = None,
        *,
        cells: Sequence[str] = (),
        reference: str | None = None,
    ) -> StudyTable:
        """The study's table (metrics found in the rows unless given), with the paired
        change of every cell over ``reference`` (a cell name), written to its folder."""
        labels = [str(r[key]) for r in rows]
        changes = self.changes(cells, labels, reference) if reference in cells else {}
        table = StudyTable(
            study=self.kind,
            title=title,
            key=key,
            rows=rows,
            metrics=metrics if metrics is not None else self.metric_names(rows, BOOKKEEPING),
            evaluation=self.cfg.eval.name,
            notes=self.notes,
            reference=labels[list(cells).index(reference)] if reference in cells else None,
            changes=changes,
        )
        write_study(table, self.out)
        return table


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value is not None else None


def _problem(path: Path, msg: str):
    from culturalign.errors import Problem

    return Problem(str(path), None, None, msg)


BOOKKEEPING = {"pairs", "train_seconds", "steps", "fraction", "native_pairs", "foreign_pairs"}


def run_scaling(
    model: str,
    data: str | Path,
    out: str | Path,
    fractions: Sequence[float],
    cfg: StudyConfig,
    heldout: str | Path | None = None,
) -> StudyTable:
    """CARE §4.3 / Fig. 4: nested random shares of the pairs, the vanilla model at 0%.

    With ``heldout`` (a pairs file) 100% is every pair of ``data``; without it the held-out
    pairs are split off first and the notes say so."""
    bad = [f for f in fractions if not 0 <= f <= 1]
    if bad or not fractions:
        raise ConfigError(
            f"--fractions: shares must lie in [0, 1]; got {', '.join(map(str, fractions)) or 'none'}"
        )
    study = Study("scaling", model, Path(data), Path(out), cfg, _path(heldout))
    order = list(study.pool)
    random.Random(cfg.seed).shuffle(order)
    rows, names = [], []
    for f in sorted(set(fractions)):
        n = round(f * len(order))
        name = f"{round(100 * f):03d}pct"
        row = study.cell(name, order[:n] if n else None)
        rows.append({"fraction": f, **row})
        names.append(name)
    title = f"Data scaling: {cfg.method.upper()} on shares of {len(order)} pairs ({model})"
    return study.finish(title, "fraction", rows, cells=names, reference=names[0] if 0 in fractions else None)


def _culture_of(p: PreferencePair) -> str | None:
    value = (p.associated_culture or "").strip().lower()
    for kind in ("native", "foreign", "general"):
        if value.startswith(kind):
            return kind
    return None


def run_mixing(
    model: str,
    data: str | Path,
    out: str | Path,
    count: int | None,
    cfg: StudyConfig,
    heldout: str | Path | None = None,
) -> StudyTable:
    """CARE §4.5 / Fig. 6: native, foreign and mixed pairs in equal counts."""
    study = Study("mixing", model, Path(data), Path(out), cfg, _path(heldout))
    native = [p for p in study.pool if _culture_of(p) == "native"]
    foreign = [p for p in study.pool if _culture_of(p) == "foreign"]
    unknown = sum(_culture_of(p) is None for p in study.pairs)
    if len(native) < 2 or len(foreign) < 2:
        raise DataError(
            [
                _problem(
                    Path(data),
                    f"the mixing study needs pairs marked associated_culture native and foreign; found "
                    f"{len(native)} native, {len(foreign)} foreign and {unknown} unmarked in the training pool",
                )
            ]
        )
    n = count or min(len(native), len(foreign))
    if n > min(len(native), len(foreign)):
        raise ConfigError(
            f"--count {n}: only {len(native)} native and {len(foreign)} foreign pairs to draw from"
        )
    rng = random.Random(cfg.seed)
    rng.shuffle(native)
    rng.shuffle(foreign)
    half = n // 2
    conditions = {
        "vanilla": None,
        "native": native[:n],
        "foreign": foreign[:n],
        "mixed": native[:half] + foreign[: n - half],
    }
    rows = []
    for name, pairs in conditions.items():
        row = study.cell(name, pairs, subsets=("native", "foreign"))
        rows.append({"training data": name, **row})
    study.notes.append(f"{n} pairs per condition; mixed = {half} native + {n - half} foreign")
    if unknown:
        study.notes.append(f"{unknown} pairs carry no native/foreign mark and were not used")
    title = f"Culture mixing: {cfg.method.upper()} on native / foreign / mixed pairs ({model})"
    return study.finish(title, "training data", rows, cells=list(conditions), reference="vanilla")


def run_algorithms(
    model: str,
    data: str | Path,
    out: str | Path,
    methods: Sequence[str],
    cfg: StudyConfig,
    heldout: str | Path | None = None,
) -> StudyTable:
    """CARE Table 2: each algorithm's change over the vanilla model on the same pairs."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ConfigError(
            f"--methods: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(METHODS)}"
        )
    study = Study("algorithms", model, Path(data), Path(out), cfg, _path(heldout))
    base = study.cell("vanilla", None)
    rows = [{"method": "vanilla", **base}]
    for method in methods:
        rows.append({"method": method, **study.cell(method, study.pool, method=method)})
    metrics = study.metric_names(rows, BOOKKEEPING)
    for row in rows[1:]:
        for m in metrics:
            if isinstance(row.get(m), float) and isinstance(base.get(m), float):
                row["delta/" + m] = row[m] - base[m]
    title = f"Preference algorithms on {len(study.pool)} pairs: change over vanilla ({model})"
    return study.finish(title, "method", rows, metrics, cells=["vanilla", *methods], reference="vanilla")
