"""What an evaluation run left undone, read back from its files: for ``--strict``.

A run keeps going when a model call fails or a judge writes no usable rating: those
items are recorded and left out of every mean, and the tables say how many. That is
right for a person reading the table, and wrong for a CI job that must not publish a
number resting on fewer items than it asked for. ``run_outcome(OUT)`` reads what the
run wrote (``summary.json`` or ``agreement.json``, and ``run.json``) and lists each
such shortfall in words; an empty list means every item was answered and judged.

The shapes differ by evaluation, so each known block is read by name:

* ``run.json`` ``calls.<role>.failures``: model calls that failed (every evaluation)
* ``counts.invalid`` / ``counts.skipped``: CARE and the rubric judges (PRISM,
  CultureBank quality); ``n_invalid`` / ``n_skipped``: judge agreement
* ``failed``: the choice evaluations, care-choice and BLEnD; ``unsteered.failed`` (opinions),
  ``per_culture.*.failed`` (CALI), ``easy``/``hard`` ``invalid`` and ``errors``
  (CulturalBench), ``robustness.failed``
* ``overall.plain`` / ``overall.augmented``: grounded answers with no entailment score
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError

SUMMARY_FILES = ("summary.json", "agreement.json", "criteria.json")


@dataclass
class Outcome:
    """A run's summary as written, where it is, and what it left undone."""

    summary: dict[str, Any]
    path: Path
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _block(obj: Any, key: str) -> dict[str, Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def summary_problems(summary: dict[str, Any]) -> list[str]:
    """The shortfalls a summary records, in words (``2 judgments without a valid rating``)."""
    found: list[str] = []

    def add(n: int, what: str) -> None:
        if n > 0:
            found.append(f"{n} {what}")

    counts = _block(summary, "counts")
    add(_int(counts.get("invalid")) + _int(summary.get("n_invalid")), "judgments without a valid rating")
    add(_int(counts.get("skipped")) + _int(summary.get("n_skipped")), "answers that could not be judged")
    add(_int(summary.get("failed")), "items without a result")
    add(_int(_block(summary, "unsteered").get("failed")), "unsteered items without a result")
    per_culture = _block(summary, "per_culture")
    add(sum(_int(_block(per_culture, c).get("failed")) for c in per_culture), "items without a result")
    for level in ("easy", "hard"):
        block = _block(summary, level)
        add(_int(block.get("invalid")), f"{level} answers that name no valid option")
        add(_int(block.get("errors")), f"{level} questions whose model call failed")
    add(_int(_block(summary, "robustness").get("failed")), "robustness variants without a result")
    overall = _block(summary, "overall")
    for side in ("plain", "augmented"):
        block = _block(overall, side)
        if "scored" in block:
            add(
                _int(block.get("n")) - _int(block.get("scored")),
                f"{side} answers without an entailment score",
            )
    return found


def call_problems(run_log: dict[str, Any]) -> list[str]:
    """``3 model calls failed (judge)`` for every role whose calls failed."""
    found = []
    for role, stats in sorted(_block(run_log, "calls").items()):
        n = _int(stats.get("failures")) if isinstance(stats, dict) else 0
        if n:
            found.append(f"{n} model call{'s' if n != 1 else ''} failed ({role})")
    return found


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the run's results ({exc})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: not a JSON object")
    return value


def run_outcome(out: str | Path) -> Outcome:
    """The outcome of the run written to ``out``: a run directory, or the judgments file
    of ``culturalign judge`` (whose summary and run log sit beside it)."""
    out = Path(out)
    if out.is_dir():
        summary_path = next((out / name for name in SUMMARY_FILES if (out / name).is_file()), None)
        log_path = out / "run.json"
    else:
        stem = out.with_suffix("")
        summary_path = stem.with_name(stem.name + ".summary.json")
        log_path = stem.with_name(stem.name + ".run.json")
    if summary_path is None or not summary_path.is_file():
        raise ConfigError(f"{out}: no summary to read (looked for {', '.join(SUMMARY_FILES)})")
    summary = _read(summary_path)
    problems = summary_problems(summary)
    if log_path.is_file():
        problems += call_problems(_read(log_path))
    if summary_path.name == "criteria.json":  # one run per criterion, each in its own folder
        for part in sorted(p for p in out.iterdir() if (p / "summary.json").is_file()):
            problems += [f"{part.name}: {problem}" for problem in run_outcome(part).problems]
    return Outcome(summary, summary_path, problems)
