"""The per-model × benchmark table of paper 002 Table 2, and its per-culture Tables 3–6.

CAReDiO reports one row per model or baseline and one column per benchmark, each cell
the score averaged over the cultures it aligned to, and in the appendix one table per
benchmark with a column per culture. When the report finds several benchmark runs it
builds both from the runs' own ``summary.json`` files:

* ``BENCHMARKS`` says, for each run kind, which benchmark columns it gives, where its
  per-culture scores are and on which scale; a benchmark without a per-culture split
  gives its overall score, and the table says so.
* A cell is the unweighted mean over cultures (the paper's "averaged across multiple
  cultures"); the mean column averages a row's 0–1 benchmarks only, since a 1–5 judge
  rating and an accuracy do not share a scale. Both means say how many values they hold.

Rows are labelled as the rest of the report labels runs (the model's folder name), so
the baseline and the aligned models line up the way they do in the paper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.io import read_json_object
from culturalign.report.document import Document, Heading, Paragraph, Table


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _per(block: Any, key: str) -> dict[str, float]:
    """``{culture: value}`` from ``{culture: {key: value, ...}}`` (or bare numbers)."""
    out = {}
    for culture, b in (block or {}).items():
        v = _num(b.get(key)) if isinstance(b, dict) else _num(b)
        if v is not None:
            out[str(culture)] = v
    return out


def _per_n(block: Any) -> dict[str, int]:
    """``{culture: n}`` where the summary says how many items each culture's value rests on."""
    out = {}
    for culture, b in (block or {}).items():
        n = b.get("n", b.get("n_items")) if isinstance(b, dict) else None
        if isinstance(n, int) and not isinstance(n, bool):
            out[str(culture)] = n
    return out


def _overall_n(s: dict[str, Any], *blocks: Any) -> int | None:
    for b in (*blocks, s):
        if isinstance(b, dict):
            for key in ("n", "n_items", "questions", "items"):
                v = b.get(key)
                if isinstance(v, int) and not isinstance(v, bool):
                    return v
    return None


@dataclass
class Score:
    benchmark: str
    overall: float | None
    per_culture: dict[str, float] = field(default_factory=dict)
    scale: str = "0-1"
    per_culture_n: dict[str, int] = field(default_factory=dict)
    n: int | None = None  # items behind the overall score, where the summary says

    @property
    def cell_n(self) -> int | None:
        """Items behind ``cell``: summed over cultures (a unit per item and culture)."""
        if self.per_culture:
            if set(self.per_culture) <= set(self.per_culture_n):
                return sum(self.per_culture_n[c] for c in self.per_culture)
            return None
        return self.n

    @property
    def cell(self) -> float | None:
        """The culture mean where there are cultures (002 Table 2), else the overall score."""
        if self.per_culture:
            return sum(self.per_culture.values()) / len(self.per_culture)
        return self.overall


def _opinions(s: dict[str, Any]) -> list[Score]:
    return [
        Score(
            "GlobalOpinionQA/WVS cultureSim",
            _num(s.get("culture_sim")),
            _per(s.get("per_country"), "mean"),
            per_culture_n=_per_n(s.get("per_country")),
            n=_overall_n(s, s.get("culture_sim_interval")),
        )
    ]


def _culturalbench(s: dict[str, Any]) -> list[Score]:
    out = []
    for variant in ("easy", "hard"):
        block = s.get(variant)
        if isinstance(block, dict):
            out.append(
                Score(
                    f"CulturalBench-{variant.capitalize()}",
                    _num(block.get("accuracy")),
                    _per(block.get("per_country"), "accuracy"),
                    per_culture_n=_per_n(block.get("per_country")),
                    n=_overall_n(block),
                )
            )
    return out


def _mcq(s: dict[str, Any]) -> list[Score]:
    per = s.get("per_culture")
    return [
        Score(
            "multiple choice",
            _num(s.get("accuracy")),
            _per(per, "accuracy"),
            "0-1",
            _per_n(per),
            _overall_n(s),
        )
    ]


def _cali(s: dict[str, Any]) -> list[Score]:
    per = s.get("per_culture")
    return [Score("CALI macro-F1", None, _per(per, "macro_f1"), "0-1", _per_n(per), _overall_n(s))]


def _blend(s: dict[str, Any]) -> list[Score]:
    per = s.get("per_language")
    return [Score("BLEnD", _num(s.get("accuracy")), _per(per, "accuracy"), "0-1", _per_n(per), _overall_n(s))]


def _grounded(s: dict[str, Any]) -> list[Score]:
    overall = (s.get("overall") or {}).get("plain") or {}
    per = {
        str(g.get("key")): v
        for g in s.get("by_group") or []
        if (v := _num((g.get("plain") or {}).get("mean"))) is not None
    }
    per_n = {
        str(g.get("key")): n
        for g in s.get("by_group") or []
        if isinstance(n := (g.get("plain") or {}).get("n"), int)
    }
    return [
        Score(
            "CultureBank grounded entailment",
            _num(overall.get("mean")),
            per,
            "0-1",
            per_n,
            _overall_n(overall),
        )
    ]


def _rubric(s: dict[str, Any]) -> list[Score]:
    """A rubric-judged benchmark (CultureBank quality, PRISM: 002 Tables 5-6), on its own scale."""
    if "rubric" not in s or not isinstance(s.get("overall"), dict):
        return []
    scale = s.get("scale") or [1, 5]
    name = {"culturebank-quality": "CultureBank quality", "prism": "PRISM"}.get(str(s.get("benchmark")))
    return [
        Score(
            f"{name or s.get('benchmark', 'rubric')} (judge {scale[0]}-{scale[1]})",
            _num(s["overall"].get("mean")),
            _per(s.get("cultures"), "mean"),
            scale=f"{scale[0]}-{scale[1]}",
            per_culture_n=_per_n(s.get("cultures")),
            n=_overall_n(s["overall"]),
        )
    ]


# run kind -> the benchmark scores its summary.json gives
BENCHMARKS: dict[str, Callable[[dict[str, Any]], list[Score]]] = {
    "eval-opinions": _opinions,
    "eval-culturalbench": _culturalbench,
    "eval-mcq": _mcq,
    "eval-cali": _cali,
    "eval-blend": _blend,
    "eval-grounded": _grounded,
    "eval-culturebank-quality": _rubric,
    "eval-prism": _rubric,
}


def collect(runs: dict[str, list[Path]], label_of: Callable[[Path], str]) -> dict[str, dict[str, Score]]:
    """``{row label: {benchmark: score}}`` over every benchmark run found."""
    rows: dict[str, dict[str, Score]] = {}
    for kind, extract in BENCHMARKS.items():
        for d in runs.get(kind, []):
            f = d / "summary.json"
            if not f.is_file():
                continue
            for score in extract(read_json_object(f, "a run summary")):
                if score.cell is not None:
                    rows.setdefault(label_of(d), {})[score.benchmark] = score
    return rows


def _fmt(v: float | None, n: int | None = None) -> str:
    """``0.627 (n=8)``; a value on one item is marked too small; n is said as unknown
    when the run's summary did not record it, never left out silently."""
    from culturalign.uncertainty import MIN_ITEMS

    if v is None:
        return "-"
    if n is None:
        return f"{v:.3f} (n not recorded)"
    return f"{v:.3f} (n={n}, too small)" if n < MIN_ITEMS else f"{v:.3f} (n={n})"


def overall_table(rows: dict[str, dict[str, Score]]) -> Table:
    """002 Table 2: a row per model, a column per benchmark, the 0–1 benchmarks' mean."""
    benchmarks = sorted({b for r in rows.values() for b in r})
    out = []
    for label, scores in rows.items():
        unit = [s.cell for s in scores.values() if s.scale == "0-1" and s.cell is not None]
        mean = (
            f"{sum(unit) / len(unit):.3f} (of {len(unit)} benchmark{'s' * (len(unit) != 1)})" if unit else "-"
        )
        out.append(
            [
                label,
                *[_fmt(scores[b].cell, scores[b].cell_n) if b in scores else "-" for b in benchmarks],
                mean,
            ]
        )
    return Table(["model", *benchmarks, "mean"], out, caption="By benchmark (paper 002 Table 2 layout)")


def culture_tables(rows: dict[str, dict[str, Score]]) -> list[Table]:
    """002 Tables 3–6: per benchmark, a row per model and a column per culture."""
    tables = []
    for b in sorted({b for r in rows.values() for b in r}):
        scores = {label: r[b] for label, r in rows.items() if b in r and r[b].per_culture}
        cultures = sorted({c for s in scores.values() for c in s.per_culture})
        if not cultures:
            continue
        body = [
            [
                label,
                *[_fmt(s.per_culture.get(c), s.per_culture_n.get(c)) for c in cultures],
                f"{s.cell:.3f} (of {len(s.per_culture)} culture{'s' * (len(s.per_culture) != 1)})",
            ]
            for label, s in scores.items()
        ]
        tables.append(Table(["model", *cultures, "mean"], body, caption=f"{b} by culture"))
    return tables


def benchmark_section(
    doc: Document,
    runs: dict[str, list[Path]],
    label_of: Callable[[Path], str],
    csv_dir: Path | None = None,
    min_runs: int = 2,
) -> bool:
    """Add both layouts when at least ``min_runs`` benchmark runs are present (and the
    Table 2 layout as ``csv_dir/benchmarks.csv``); says whether it did."""
    n = sum(len(runs.get(kind, [])) for kind in BENCHMARKS)
    rows = collect(runs, label_of)
    if n < min_runs or not rows:
        return False
    doc.add(Heading("Models × benchmarks"))
    doc.add(
        Paragraph(
            "One row per model or baseline, one column per benchmark. A cell is the unweighted mean "
            "over the cultures (countries, groups or languages) the benchmark scored, as in paper 002 "
            "Table 2; a benchmark without a per-culture split shows its overall score. The mean column "
            "averages the row's benchmarks on a 0–1 scale and says how many it holds."
        )
    )
    doc.add(overall_table(rows))
    if csv_dir is not None:
        path = write_csv(rows, Path(csv_dir) / "benchmarks.csv")
        doc.add(Paragraph(f"The same table as CSV: {path}"))
    for table in culture_tables(rows):
        doc.add(table)
    return True


def write_csv(rows: dict[str, dict[str, Score]], path: Path, benchmarks: Sequence[str] | None = None) -> Path:
    """The Table 2 layout as a CSV a spreadsheet opens (plain numbers, no counts)."""
    import csv
    import io

    from culturalign.io import atomic_write_text

    names = list(benchmarks or sorted({b for r in rows.values() for b in r}))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", *names, "mean"])
    for label, scores in rows.items():
        unit = [s.cell for s in scores.values() if s.scale == "0-1" and s.cell is not None]
        cells = [scores[b].cell if b in scores else "" for b in names]
        w.writerow([label, *cells, sum(unit) / len(unit) if unit else ""])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(path), buf.getvalue())
    return Path(path)
