"""Who is who in a report: each run directory's label (the model's name), its model spec,
and the training run that made its model, if culturalign trained it.

Runs are labelled by model name: an experiment's ``eval/<kind>/<model>/`` folder already
is the model's name; a single ``eval`` run keeps the name its user gave its folder
(``--out runs/smol-dpo``), unless that name says nothing about the model (``out``,
``vanilla-en``, ``run``), when the model in its ``run.json`` names it
(``hf:/models/SmolLM2-135M`` → ``SmolLM2-135M``). The folder is the better default since
a base model and its adapter share the base's path. The full spec goes on hover. A model whose weights or adapter is a training folder found among the report's
inputs links to that run's section (``#train-<name>``), where its data, preset, curves
and held-out gap are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.report.document import Span

_BACKEND = re.compile(r"^[a-z][a-z0-9_-]*:")
# folder names that say nothing about the model in them
_GENERIC = re.compile(
    r"^(out|output|outputs|run|runs|result|results|eval|evals|tmp|\d+|(vanilla|cot|roleplay)(-[\w-]+)?)$"
)


def model_path(spec: str) -> str:
    """The model part of a spec: ``hf:/m/x@url+opt=1`` → ``/m/x``; ``embedded`` stays."""
    core = spec.split("+", 1)[0]
    core = _BACKEND.sub("", core, count=1)
    return core.split("@", 1)[0] if "://" not in core.split("@", 1)[0] else core


def model_name(spec: str) -> str:
    """A short, readable name for a spec: the last component of its path or hub id."""
    path = model_path(spec).rstrip("/")
    return path.rsplit("/", 1)[-1] or spec


def spec_options(spec: str) -> dict[str, str]:
    """``+key=value`` options of a spec (``+adapter=DIR`` names a LoRA adapter)."""
    out = {}
    for part in spec.split("+")[1:]:
        key, _, value = part.partition("=")
        out[key] = value
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"


@dataclass
class RunNames:
    """Labels, specs and training links of every run directory in one report."""

    labels: dict[Path, str] = field(default_factory=dict)
    specs: dict[Path, str] = field(default_factory=dict)  # eval run -> its model's spec
    train_anchor: dict[Path, str] = field(default_factory=dict)  # training folder -> anchor
    trained_by: dict[Path, Path] = field(default_factory=dict)  # eval run -> training folder

    def label(self, d: Path) -> str:
        return self.labels.get(d, d.name)

    def baseline(self, name: str | None) -> str | None:
        """``--baseline`` as a label: it may name the label, the run's folder or its spec."""
        if name is None:
            return None
        for d, label in self.labels.items():
            if name in (label, d.name, self.specs.get(d)):
                return label
        return name

    def spec_of_label(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for d, spec in self.specs.items():
            out.setdefault(self.label(d), spec)
        return out

    def link_of_label(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for d, t in self.trained_by.items():
            out.setdefault(self.label(d), "#" + self.train_anchor[t])
        return out

    def decorate(self, label: str) -> Span | str:
        """A table's row label as the model's name, its spec on hover, linked to the
        training run that made it."""
        spec = self.spec_of_label().get(label)
        link = self.link_of_label().get(label)
        if spec is None and link is None:
            return label
        return Span(label, title=spec, href=link)


def folder_label(d: Path) -> str | None:
    """eval/<kind>/<model>/<mode>-<lang> → '<model>' (an experiment's layout)."""
    parts = d.parts
    if "eval" in parts:
        i = len(parts) - 1 - parts[::-1].index("eval")
        rest = parts[i + 2 :]
        if len(rest) >= 2:
            return rest[0]
    return None


def _resolved(p: str | Path) -> Path | None:
    try:
        return Path(p).expanduser().resolve()
    except (OSError, RuntimeError):
        return None


def name_runs(run_logs: Iterable[tuple[Path, dict[str, Any]]], train_dirs: Sequence[Path]) -> RunNames:
    names = RunNames()
    used: set[str] = set()
    for t in train_dirs:
        anchor = "train-" + slug(t.name)
        while anchor in used:
            anchor += "-2"
        used.add(anchor)
        names.train_anchor[t] = anchor
    trains = {_resolved(t): t for t in train_dirs}
    for d, log in run_logs:
        model = (log.get("models") or {}).get("model") or {}
        spec = model.get("spec")
        if isinstance(spec, str):
            names.specs[d] = spec
            for candidate in (model_path(spec), spec_options(spec).get("adapter")):
                hit = trains.get(_resolved(candidate)) if candidate else None
                if hit is not None:
                    names.trained_by[d] = hit
        label = folder_label(d) or d.name
        if _GENERIC.match(d.name) and isinstance(spec, str) and not folder_label(d):
            label = model_name(spec)
        names.labels[d] = label
    # two different folders with the same name: tell them apart by their folder
    by_label: dict[tuple[str, str], list[Path]] = {}
    for d, log in run_logs:
        by_label.setdefault((str(log.get("kind")), names.labels[d]), []).append(d)
    for (_, label), dirs in by_label.items():
        if len(dirs) > 1 and len({names.specs.get(d) for d in dirs}) > 1:
            for d, tail in zip(dirs, _distinct_tails(dirs), strict=True):
                names.labels[d] = f"{label} ({tail})"
    return names


def _distinct_tails(dirs: Sequence[Path]) -> list[str]:
    """The shortest trailing parts of the folders that tell them apart (``a/out`` and
    ``c/out``, not ``out`` twice)."""
    for k in range(1, max(len(d.parts) for d in dirs) + 1):
        tails = ["/".join(d.parts[-k:]) for d in dirs]
        if len(set(tails)) == len(tails):
            return tails
    return [d.as_posix() for d in dirs]
