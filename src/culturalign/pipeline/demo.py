"""`culturalign demo`: the packaged demo experiment, then a one-screen summary."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from culturalign.paths import package_data

DEMO_EXPERIMENT = package_data("configs", "experiments", "demo.yaml")


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


def _pooled(summary: Any, category: str | None) -> tuple[float | None, int]:
    """Mean rating over every rated item of a category (None = all), across cultures."""
    total, n = 0.0, 0
    for cs in summary.cultures.values():
        st = cs.average if category is None else cs.categories.get(category)
        if st is not None and st.mean is not None and st.n_rated:
            total += st.mean * st.n_rated
            n += st.n_rated
    return (total / n if n else None), n


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.2f}" if signed else f"{x:.2f}"


def print_summary(run_dir: Path, result: dict[str, Any]) -> None:
    """One screen: before/after by category and by culture, opinions, the held-out gap,
    the judge caveat, and where the report is."""
    import json

    from culturalign.evals import care_tables as ct
    from culturalign.records.question import Category
    from culturalign.report.build import _label, discover

    console = Console()
    found = discover([run_dir])
    care = {
        _label(d, [run_dir]): ct.load_run(d, _label(d, [run_dir])) for d in found.runs.get("eval-care", [])
    }
    if len(care) >= 2:
        (before_name, before), (after_name, after) = list(care.items())[:2]
        if before_name != "base" and "base" in care:
            before_name, before = "base", care["base"]
            after_name, after = next((k, v) for k, v in care.items() if k != "base")
        t = Table(title=f"Judged answers, mean 1-10: {before_name} → {after_name}")
        for col in ("category", before_name, after_name, "change", "rated"):
            t.add_column(col, justify="left" if col == "category" else "right")
        rows = [(c.label, c.value) for c in Category] + [("All", None)]
        for label, key in rows:
            b, nb = _pooled(before.summary, key)
            a, na = _pooled(after.summary, key)
            delta = None if a is None or b is None else a - b
            t.add_row(label, _fmt(b), _fmt(a), _fmt(delta, True), f"{nb}/{na}")
        console.print(t)
        t2 = Table(title="Average by culture")
        for col in ("culture", before_name, after_name, "change"):
            t2.add_column(col, justify="left" if col == "culture" else "right")
        for culture in sorted(before.summary.cultures):
            b = before.summary.cultures[culture].average.mean
            a_cs = after.summary.cultures.get(culture)
            a = a_cs.average.mean if a_cs else None
            t2.add_row(culture, _fmt(b), _fmt(a), _fmt(None if a is None or b is None else a - b, True))
        console.print(t2)
    for d in found.runs.get("eval-opinions", []):
        s = json.loads((d / "summary.json").read_text())
        console.print(
            f"opinion similarity (cultureSim, 1 − JS distance) {_label(d, [run_dir])}: {s['culture_sim']:.4f}"
        )
    for d in found.train:
        r = json.loads((d / "culturalign-train.json").read_text()).get("result") or {}
        gb, ga = (r.get("gap_before") or {}).get("gap"), (r.get("gap_after") or {}).get("gap")
        if gb is not None and ga is not None:
            console.print(
                f"held-out preference gap ({d.name}, log P(chosen) − log P(rejected)): {gb:.2f} → {ga:.2f} ({ga - gb:+.2f})"
            )
    notes = sorted(
        {
            n
            for _, log in found.run_logs
            if str(log.get("kind", "")).startswith("eval")
            for n in (log.get("notes") or [])
        }
    )
    for n in notes:
        console.print(f"[yellow]note:[/] {n}")
    s = result["spend"]
    console.print(
        f"[bold]report:[/] {run_dir / 'report.html'}  (and report.md) · {result['seconds']}s, "
        f"{s['calls']} model calls, {s['cache_hits']} cache hits"
    )
