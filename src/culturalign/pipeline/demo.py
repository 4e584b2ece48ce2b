"""`culturalign demo`: the packaged demo experiment, then a one-screen summary.

Every change on that screen (CARE by category and culture, cultureSim, the held-out
gap) is paired over the items both runs scored, with its 95% interval and n, and the
screen ends with one plain sentence per signal: improved or worsened only when the
interval excludes 0.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from culturalign.paths import package_data
from culturalign.uncertainty import describe_delta, mean_interval, paired_delta, verdict

DEMO_EXPERIMENT = package_data("configs", "experiments", "demo.yaml")
# measured by benchmarks/bench_judge_discrimination.py (reference answer vs another
# question's, 40 sample questions): the judged table is shown with it
JUDGE_DISCRIMINATION = "ROC AUC 0.52 telling a right answer from a wrong one; chance 0.5"


def run_demo(out: str | Path = "runs/demo", *, cache: Any = "default", force: bool = False) -> dict[str, Any]:
    from culturalign.pipeline.experiment import load_experiment
    from culturalign.pipeline.runner import Runner

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exp_file = out / "experiment.yaml"
    shutil.copyfile(DEMO_EXPERIMENT, exp_file)
    result = Runner(load_experiment(exp_file), exp_file, out, cache=cache, force=force).run()
    print_summary(out, result)
    return result


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.2f}" if signed else f"{x:.2f}"


def _change_cell(d: dict[str, Any] | None) -> str:
    """``+0.40 [+0.10, +0.70]``; ``+1.00 (too small)`` for one shared item; ``–`` for none."""
    if d is None or d.get("delta") is None:
        return "–"
    if d.get("ci_low") is None:
        return f"{d['delta']:+.2f} (too small)"
    text = f"{d['delta']:+.2f} [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]"
    return text + (" ~0" if d.get("includes_zero") else "")


def _mean_of(scores: dict) -> float | None:
    return sum(scores.values()) / len(scores) if scores else None


@dataclass
class Signal:
    """One before/after comparison the demo reports, with its paired change."""

    name: str
    before: float | None
    after: float | None
    change: dict[str, Any] | None  # uncertainty.paired_delta, or None without per-item values
    n_before: int = 0
    n_after: int = 0
    label: str = ""  # the row label in the demo's tables
    digits: int = 2  # cultureSim lives in [0, 1]: it needs more than the ratings' two decimals

    def sentence(self) -> str:
        if self.change is None:
            return f"{self.name}: too few items to tell (no per-item values to pair)."
        word = verdict(self.change)
        if word in ("improved", "worsened"):
            word += " (interval excludes 0)"
        return f"{self.name}: {word}; change {describe_delta(self.change, digits=self.digits)}."


@dataclass
class DemoSummary:
    before_name: str | None = None
    after_name: str | None = None
    categories: list[Signal] = field(default_factory=list)  # CARE, pooled over cultures; last is "All"
    cultures: list[Signal] = field(default_factory=list)  # CARE average per culture
    opinions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (run, mean_interval)
    opinion_measure: str = "distance"
    opinion_change: Signal | None = None
    gaps: list[Signal] = field(default_factory=list)  # held-out gap, before -> after training
    # judge-free CARE: (run, proportion_interval of the reference-choice accuracy)
    care_choice: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    care_choice_change: Signal | None = None

    def signals(self) -> list[Signal]:
        """The headline comparisons, one plain sentence each at the end of the summary:
        the judge-free signals first, the judged CARE rating last."""
        out = list(self.gaps)
        if self.care_choice_change is not None:
            out.append(self.care_choice_change)
        if self.opinion_change is not None:
            out.append(self.opinion_change)
        return out + [s for s in self.categories if s.name.endswith("(all categories)")]


def _care_signals(out: DemoSummary, care: dict[str, Any]) -> None:
    from culturalign.evals.care.tables import AVERAGE, paired_cell
    from culturalign.records.question import Category

    (before_name, before), (after_name, after) = list(care.items())[:2]
    if before_name != "base" and "base" in care:
        before_name, before = "base", care["base"]
        after_name, after = next((k, v) for k, v in care.items() if k != "base")
    out.before_name, out.after_name = before_name, after_name
    b, a = before.summary, after.summary
    for label, key in [(c.label, c.value) for c in Category] + [("All", None)]:
        sb, sa = b.item_scores(category=key), a.item_scores(category=key)
        change = paired_delta(sb, sa) if b.items and a.items else None
        name = f"CARE judge rating ({'all categories' if key is None else label})"
        out.categories.append(Signal(name, _mean_of(sb), _mean_of(sa), change, len(sb), len(sa), label))
        if not b.items or not a.items:  # older summaries: pooled means, no pairing possible
            out.categories[-1].before, out.categories[-1].after = _pooled(b, key), _pooled(a, key)
    for culture in sorted(b.cultures):
        cb, ca = b.cultures[culture].average, a.cultures.get(culture)
        out.cultures.append(
            Signal(
                culture,
                cb.mean,
                ca.average.mean if ca else None,
                paired_cell(b, a, culture, AVERAGE) if ca else None,
                cb.n_rated,
                ca.average.n_rated if ca else 0,
            )
        )


def _paired_signal(name: str, units: dict[str, dict]) -> Signal | None:
    """The change from the base run (or the first) to the next, paired over their items."""
    names = list(units)
    if len(names) < 2:
        return None
    before = "base" if "base" in names else names[0]
    after = next(n for n in names if n != before)
    b, a = units[before], units[after]
    return Signal(
        name.format(change=f"{before} → {after}"), _mean_of(b), _mean_of(a), paired_delta(b, a), len(b), len(a), digits=3
    )


def _choice_signals(out: DemoSummary, found: Any, run_dir: Path) -> None:
    """Judge-free CARE: each run's reference-choice accuracy, and its paired change."""
    from culturalign.evals.headline import headline_units
    from culturalign.report.build import _label

    units = {}
    for d in found.runs.get("eval-care-choice", []):
        s = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        label = _label(d, [run_dir])
        out.care_choice.append((label, s.get("overall") or {}))
        per_item = headline_units("care-choice", d).get("accuracy_norm")
        if per_item:
            units[label] = per_item.units
    out.care_choice_change = _paired_signal("CARE reference choice, judge-free ({change})", units)


def _pooled(summary: Any, category: str | None) -> float | None:
    """Mean rating over every rated item of a category (None = all), across cultures."""
    total, n = 0.0, 0
    for cs in summary.cultures.values():
        st = cs.average if category is None else cs.categories.get(category)
        if st is not None and st.mean is not None and st.n_rated:
            total += st.mean * st.n_rated
            n += st.n_rated
    return total / n if n else None


def collect_summary(run_dir: Path) -> DemoSummary:
    """Everything the demo's closing screen shows, read from its run folder: CARE before
    and after by category and culture, cultureSim per run and its change, the held-out
    gap before and after training, each change with a paired interval over the same
    items (``culturalign.uncertainty``)."""
    from culturalign.evals.care import tables as ct
    from culturalign.evals.headline import headline_units
    from culturalign.report.build import _label, discover
    from culturalign.train.gap import GapReport, gap_change

    out = DemoSummary()
    found = discover([run_dir])
    care = {
        _label(d, [run_dir]): ct.load_run(d, _label(d, [run_dir])) for d in found.runs.get("eval-care", [])
    }
    if len(care) >= 2:
        _care_signals(out, care)
    _choice_signals(out, found, run_dir)
    units = {}
    for d in found.runs.get("eval-opinions", []):
        s = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        out.opinion_measure = str(s.get("similarity_measure", s.get("similarity", "distance")))
        per_q = headline_units("opinions", d).get("culture_sim")
        stats = mean_interval(list(per_q.units.values())) if per_q else {"n": 0}
        stats["mean"] = s.get("culture_sim")  # the run's own number; the interval is over its questions
        label = _label(d, [run_dir])
        out.opinions.append((label, stats))
        if per_q:
            units[label] = per_q.units
    out.opinion_change = _paired_signal("opinion similarity (cultureSim, {change})", units)
    for d in found.train:
        r = json.loads((d / "culturalign-train.json").read_text(encoding="utf-8")).get("result") or {}
        if not r.get("gap_before") or not r.get("gap_after"):
            continue
        gb, ga = GapReport.model_validate(r["gap_before"]), GapReport.model_validate(r["gap_after"])
        out.gaps.append(
            Signal(f"held-out preference gap ({d.name})", gb.gap, ga.gap, gap_change(gb, ga), gb.n, ga.n)
        )
    return out


def print_summary(run_dir: Path, result: dict[str, Any]) -> None:
    """One screen that leads with the signals that need no judge (held-out gap,
    judge-free CARE reference choice, cultureSim), then the judged CARE tables labelled
    with how well this judge discriminates; every change with its paired interval and n,
    one sentence per signal, and where the report is."""
    console = Console()
    found_notes = _eval_notes(run_dir)
    summary = collect_summary(run_dir)
    console.print("[bold]Signals that need no judge[/]")
    for sig in summary.gaps:
        console.print(
            f"{sig.name}, log P(chosen) − log P(rejected): {_fmt(sig.before)} → {_fmt(sig.after)} "
            f"({_change_cell(sig.change)}, n={sig.n_after} pairs)"
        )
    for label, st in summary.care_choice:
        ci = f" [{st['ci_low']:.3f}, {st['ci_high']:.3f}]" if st.get("ci_low") is not None else ""
        value = "–" if st.get("accuracy") is None else f"{st['accuracy']:.3f}"
        chance = "" if st.get("chance") is None else f", chance {st['chance']:.3f}"
        console.print(
            f"CARE reference choice (judge-free accuracy) {label}: {value}{ci} (n={st.get('n', 0)}{chance})"
        )
    for label, st in summary.opinions:
        ci = f" [{st['ci_low']:.4f}, {st['ci_high']:.4f}]" if st.get("ci_low") is not None else ""
        value = "–" if st.get("mean") is None else f"{st['mean']:.4f}"
        console.print(
            f"opinion similarity (cultureSim, 1 − JS {summary.opinion_measure}) {label}: "
            f"{value}{ci} (n={st.get('n', 0)} questions)"
        )
    if summary.categories:
        t = Table(
            title=f"Judged answers, mean 1-10: {summary.before_name} → {summary.after_name} "
            f"(judge: the embedded model, {JUDGE_DISCRIMINATION})"
        )
        for col in ("category", summary.before_name, summary.after_name, "change [95% CI]", "n"):
            t.add_column(col, justify="left" if col == "category" else "right")
        for sig in summary.categories:
            n = f"{sig.change['n']} paired" if sig.change else f"{sig.n_before}/{sig.n_after}"
            t.add_row(sig.label, _fmt(sig.before), _fmt(sig.after), _change_cell(sig.change), n)
        console.print(t)
        t2 = Table(title="Judged average by culture")
        for col in ("culture", summary.before_name, summary.after_name, "change [95% CI]", "n"):
            t2.add_column(col, justify="left" if col == "culture" else "right")
        for sig in summary.cultures:
            n = str(sig.change["n"]) if sig.change else f"{sig.n_before}/{sig.n_after}"
            t2.add_row(sig.name, _fmt(sig.before), _fmt(sig.after), _change_cell(sig.change), n)
        console.print(t2)
        console.print("[dim]~0: the interval includes 0. Changes pair the items rated in both runs.[/]")
    for n in found_notes:
        console.print(f"[yellow]note:[/] {n}")
    for sig in summary.signals():
        console.print(f"[bold]{sig.sentence()}[/]")
    s = result["spend"]
    console.print(
        f"[bold]report:[/] {run_dir / 'report.html'}  (and report.md) · {result['seconds']}s, "
        f"{s['calls']} model calls, {s['cache_hits']} cache hits"
    )


def _eval_notes(run_dir: Path) -> list[str]:
    from culturalign.report.build import discover

    return sorted(
        {
            n
            for _, log in discover([run_dir]).run_logs
            if str(log.get("kind", "")).startswith("eval")
            for n in (log.get("notes") or [])
        }
    )
