"""The run directory every choice benchmark writes, and its tables.

::

    items.jsonl        one record per scored unit (question × country, pair × culture, ...)
    summary.json       the headline numbers and breakdowns, plus method and failure counts
    table.md/.csv      the breakdown table a report shows
    run.json           RunLog: model identity, data fingerprint, template shas, call stats
    lm_eval_results.json  the same numbers in lm-evaluation-harness's results shape, under
                       the task names ``culturalign export lm-eval`` writes (``lm_eval_shape``)

Item records stream to ``items.jsonl.partial`` as results arrive (one fsynced line each),
so a run that is killed keeps what it scored, and the call cache makes the rerun pay only
for the rest; ``items.jsonl`` appears when the run finishes, so a folder never holds a
half-written one (nor mixes a new partial file with the last run's summary).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.io import JsonlAppender, atomic_write_text, write_json
from culturalign.lm.cached import LM
from culturalign.runlog import RunLog

INTERVAL_HEADERS = ("95% CI", "stderr")
INTERVAL_NOTE = (
    "95% CI: Wilson score interval for accuracies, percentile bootstrap over scored units for "
    "F1 and similarity; stderr: binomial (accuracy) or bootstrap standard error. A row of one "
    "unit has no interval (too small to conclude)."
)


def interval_text(stats: dict[str, Any] | None, digits: int = 3) -> str:
    """``0.412–0.788`` for an interval from ``culturalign.uncertainty``; ``too small`` for
    a cell of one unit (no interval, never a zero-width one); ``–`` when nothing was scored."""
    if not stats or not stats.get("n"):
        return "–"
    if stats.get("ci_low") is None:
        return f"too small (n={stats['n']})" if stats.get("too_small") else "–"
    return f"{stats['ci_low']:.{digits}f}–{stats['ci_high']:.{digits}f}"


def interval_cells(stats: dict[str, Any] | None) -> list[Any]:
    """The two cells under ``INTERVAL_HEADERS`` for one row of a benchmark table."""
    return [interval_text(stats), None if not stats else stats.get("stderr")]


def interval_fields(stats: dict[str, Any]) -> dict[str, Any]:
    """The interval part of an uncertainty result, to store next to the number it qualifies."""
    return {k: stats.get(k) for k in ("n", "stderr", "ci_low", "ci_high", "too_small")}


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def csv_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


class ChoiceRun:
    """Opens a run directory, streams item records, and writes the closing files."""

    def __init__(self, out_dir: str | Path, kind: str, lm: LM, config: dict[str, Any]):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = RunLog(kind=kind, config=config)
        self.log.add_model("model", lm)
        self.lm = lm
        self._partial = self.out / "items.jsonl.partial"
        self._partial.unlink(missing_ok=True)  # a rerun rewrites it (from the call cache)
        self._items = JsonlAppender(self._partial)
        self._records: list[dict[str, Any]] = []  # for lm_eval_results.json at the end

    def add_data(self, path: str | Path | None) -> None:
        if path is None:
            return
        p = Path(path)
        files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else []
        for f in files:
            self.log.add_data(f)

    def write_item(self, record: dict[str, Any]) -> None:
        self._items.write(record)
        self._records.append(record)

    def finish(
        self,
        summary: dict[str, Any],
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        prompts: dict[str, str],
        notes: Sequence[str] = (),
        title: str = "",
        footnotes: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Write the closing files. ``notes`` are caveats (kept in run.json and the summary,
        and leading the report); ``footnotes`` only explain the table (how its intervals
        are made) and go under it in table.md."""
        self._items.close()
        if self._items.opened:
            os.replace(self._partial, self.out / "items.jsonl")
        else:  # nothing was scored: the appender never made its file
            atomic_write_text(self.out / "items.jsonl", "")
        self.log.prompts.update(prompts)
        self.log.notes.extend(notes)
        summary = {**summary, "model": self.lm.spec, "notes": list(self.log.notes)}
        write_json(self.out / "summary.json", summary)
        self._write_lm_eval_shape(summary)
        head = f"# {title}\n\n" if title else ""
        tail = "".join(f"\n> {n}\n" for n in self.log.notes) + "".join(f"\n{n}\n" for n in footnotes)
        atomic_write_text(self.out / "table.md", head + markdown_table(headers, rows) + tail)
        atomic_write_text(self.out / "table.csv", csv_table(headers, rows))
        self.log.finish(self.out, {"model": self.lm})
        return summary

    def _write_lm_eval_shape(self, summary: dict[str, Any]) -> None:
        from culturalign.evals.choice.lm_eval_shape import lm_eval_results

        shaped = lm_eval_results(summary, self._records, chat=self.log.config.get("chat"))
        if shaped is not None:
            write_json(self.out / "lm_eval_results.json", shaped)

    def abort(self) -> None:
        """Close the salvage file, if any item reached it (a run stopped before its first
        result has none, so it leaves no empty ``items.jsonl.partial``)."""
        self._items.close()


def method_notes(methods: dict[str, int]) -> list[str]:
    """A caveat for every unit answered by generating and parsing instead of probabilities."""
    parsed = methods.get("generate-parse", 0)
    if not parsed:
        return []
    return [
        f"{parsed} answers came from generating and parsing the reply (the backend gave no "
        "log-probabilities): their distributions are one-hot on the parsed option."
    ]
