"""The Python API: load data, evaluate a model, train one, from a notebook or a script.

Each function is a thin front over the library function the matching CLI command calls
(``culturalign eval care`` -> ``evals.care.judged.run_care_eval``, ``culturalign train``
-> ``train.run.train``, ``--data`` -> ``datasets.load_any``), so a number computed here
is the number the command prints. What the API adds is what a notebook wants:

* no ``out_dir`` needed: an evaluation then runs in a temporary folder that is read back
  into memory and removed (the call cache still makes a rerun free);
* results as plain Python objects (``EvalResult``: the summary, per-item records, the
  table), and records or a ``datasets.Dataset`` from ``load``;
* a model or judge given as a spec string or as an ``LM`` already opened.

Everything here imports its heavy parts inside the call, so ``import culturalign``
stays light.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from culturalign.errors import ConfigError

if TYPE_CHECKING:
    from culturalign.lm.cached import LM
    from culturalign.train.outputs import TrainResult

# benchmark -> (items loader, run function), both "module:function"; the CLI's eval
# commands call the same pair. CARE is separate: it needs a judge.
_CHOICE: dict[str, tuple[str, str]] = {
    "opinions": (
        "culturalign.evals.choice.data:opinion_items",
        "culturalign.evals.choice.opinions:run_opinions",
    ),
    "culturalbench": (
        "culturalign.evals.choice.data:culturalbench_items",
        "culturalign.evals.choice.culturalbench:run_culturalbench",
    ),
    "cali": ("culturalign.evals.choice.data:cali_items", "culturalign.evals.choice.cali:run_cali"),
    "mcq": ("culturalign.evals.choice.data:mcq_items", "culturalign.evals.choice.mcq:run_mcq"),
    "blend": ("culturalign.evals.choice.data:blend_items", "culturalign.evals.blend.run:run_blend"),
}
#: the names ``evaluate`` takes
BENCHMARKS: tuple[str, ...] = ("care", *_CHOICE)

# the per-item file each benchmark writes, read back into EvalResult.records
_RECORDS_FILE = {"care": "judgments.jsonl"}


@dataclass
class EvalResult:
    """One evaluation, in memory.

    ``summary`` is what the run wrote to ``summary.json`` (for CARE the per-culture,
    per-category means with their 95% intervals; for choice benchmarks the headline
    metrics and breakdowns); ``records`` the per-item results (CARE: one judgment per
    response; choice: one scored unit per line); ``responses`` the model's answers
    (CARE only); ``table`` the breakdown as Markdown; ``out_dir`` the folder it was
    written to, or None when it ran in a temporary one that is gone."""

    benchmark: str
    summary: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    table: str = ""
    out_dir: Path | None = None

    def __repr__(self) -> str:
        where = str(self.out_dir) if self.out_dir else "in memory"
        return f"EvalResult({self.benchmark!r}, {len(self.records)} records, {where})"


def load(path: str | Path, format: str | None = None, *, as_dataset: bool = False) -> Any:
    """Read a data file (any format ``culturalign data validate`` knows, or
    ``hf:OWNER/NAME[:CONFIG][@SPLIT]``) into records from ``culturalign.records``.

    ``format`` is a ``--format`` name; by default it is detected from the file.
    ``as_dataset=True`` returns a ``datasets.Dataset`` instead, one row per record with
    its fields plus ``record_type`` (the record class), for ``datasets``' map/filter and
    for TRL; it needs the ``[hub]`` extra. Bad rows raise ``DataError`` listing every
    located problem, as the CLI prints them."""
    from culturalign.datasets import load_any

    _, records = load_any(str(path) if isinstance(path, str) else path, format)
    if not as_dataset:
        return records
    from culturalign.extras import require

    require("hub", "datasets", why="for load(..., as_dataset=True)")
    import datasets

    rows = [{"record_type": type(r).__name__, **r.model_dump(mode="json")} for r in records]
    return datasets.Dataset.from_list(rows)


def evaluate(
    benchmark: str,
    model: str | LM,
    data: str | Path,
    *,
    judge: str | LM | None = None,
    out_dir: str | Path | None = None,
    format: str | None = None,
    cache: str | Path | None = "default",
    **options: Any,
) -> EvalResult:
    """Evaluate ``model`` on ``benchmark`` (one of ``BENCHMARKS``) with the items in ``data``.

    ``model`` and ``judge`` are model specs (``openai:gpt-4o``, ``hf:PATH``, ...) or
    ``LM`` objects from ``culturalign.lm.load_lm``. CARE needs a ``judge``; the choice
    benchmarks score the model's own option probabilities and take none. ``options`` go
    to the benchmark's run function unchanged, with the CLI options' names and defaults
    (CARE: ``mode``, ``lang``, ``limit``, ``n_samples``, ``judge_samples``, ``params``,
    ...; choice: ``limit``, ``chat``, ``robustness``, ...), so an unknown one is a
    ``TypeError`` naming it. ``cache`` is the call cache: ``"default"``, a path, or None
    for none. Without ``out_dir`` the run's files live only until this returns."""
    if benchmark != "care" and benchmark not in _CHOICE:
        raise ConfigError(f"unknown benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    if benchmark == "care" and judge is None:
        raise ConfigError("benchmark 'care' needs a judge (a model spec or an LM)")
    if benchmark != "care" and judge is not None:
        raise ConfigError(f"benchmark {benchmark!r} scores option probabilities and takes no judge")
    data = Path(data) if not str(data).startswith("hf:") else data
    if out_dir is not None:
        _run(benchmark, model, judge, data, Path(out_dir), format, cache, options)
        return _read_run(benchmark, Path(out_dir), keep=True)
    if benchmark == "care":
        # the table's row name: by default the out folder's name (as the CLI does), which
        # for a temporary folder says nothing; the model spec does
        options.setdefault("label", model if isinstance(model, str) else model.spec)
    with tempfile.TemporaryDirectory(prefix=f"culturalign-{benchmark}-") as tmp:
        out = Path(tmp) / "run"
        _run(benchmark, model, judge, data, out, format, cache, options)
        return _read_run(benchmark, out, keep=False)


def train(
    method: str,
    model: str,
    data: str | Path | Sequence[Any],
    out_dir: str | Path | None = None,
    **options: Any,
) -> TrainResult:
    """Train ``model`` (an ``hf:`` spec) with ``method`` (sft, dpo, kto or simpo)
    on ``data``: a file or ``hf:`` spec, or records (``PreferencePair``, ``UnpairedExample``,
    ...) already in memory, written first to ``OUT_DIR.input.jsonl`` beside the run folder
    (the run's manifest names and hashes its data file, so the file must stay).

    The trained weights are the result, so they need a folder: without ``out_dir`` a new
    temporary one is made and kept (its path is ``result.out_dir``). ``options`` are
    those of ``culturalign.train.run.train`` (``config``, ``lora``, ``qlora``, ``merge``,
    ``heldout``, ``resume``, ``callbacks``). Needs the ``[train]`` extra."""
    from culturalign.extras import require

    require("train", "torch", "transformers", "trl", "peft", "datasets", "accelerate", why="to train")
    from culturalign.train.run import train as run_train

    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix=f"culturalign-{method}-"))
    if not isinstance(data, str | Path):
        data = _write_input(data, out)
    return run_train(method, model, data, out, **options)


# -- helpers -------------------------------------------------------------------------------


def _function(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _lm(spec: str | LM, cache: str | Path | None) -> LM:
    if not isinstance(spec, str):
        return spec
    from culturalign.lm import load_lm

    return load_lm(spec, cache=cache)


def _run(
    benchmark: str,
    model: str | LM,
    judge: str | LM | None,
    data: str | Path,
    out: Path,
    fmt: str | None,
    cache: str | Path | None,
    options: dict[str, Any],
) -> None:
    if benchmark == "care":
        from culturalign.datasets import load_any
        from culturalign.evals.care.judged import run_care_eval
        from culturalign.records import CulturalQuestion

        _, records = load_any(data, fmt)
        questions = [r for r in records if isinstance(r, CulturalQuestion)]
        if not questions:
            raise ConfigError(f"{data}: no culture-specific questions to evaluate on CARE")
        assert judge is not None  # checked by evaluate
        run_care_eval(_lm(model, cache), _lm(judge, cache), questions, out, data_path=data, **options)
        return
    load_items, run_fn = (_function(t) for t in _CHOICE[benchmark])
    items = load_items(data, fmt)
    run_fn(_lm(model, cache), items, out, data_path=data, **options)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _read_run(benchmark: str, out: Path, *, keep: bool) -> EvalResult:
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    table = out / "table.md"
    return EvalResult(
        benchmark=benchmark,
        summary=summary,
        records=_read_jsonl(out / _RECORDS_FILE.get(benchmark, "items.jsonl")),
        responses=_read_jsonl(out / "responses.jsonl") if benchmark == "care" else [],
        table=table.read_text(encoding="utf-8") if table.exists() else "",
        out_dir=out if keep else None,
    )


def _write_input(records: Sequence[Any], out: Path) -> Path:
    from culturalign.io import write_records

    if not records:
        raise ConfigError("train: no records to train on")
    # beside the run folder, not in it: the trainer only takes an empty or its own folder
    path = out.with_name(out.name + ".input.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_records(path, list(records))
    return path
