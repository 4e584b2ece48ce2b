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


def print_summary(run_dir: Path, result: dict[str, Any]) -> None:
    """Before/after by category, the opinion similarity, and where the report is."""
    from culturalign.evals import care_tables as ct
    from culturalign.report.build import _label, discover

    console = Console()
    found = discover([run_dir])
    care = [ct.load_run(d, _label(d, [run_dir])) for d in found.runs.get("eval-care", [])]
    if care:
        table = ct.category_table(care, title="CARE-style judged answers (mean 1-10)")
        for block in table.blocks:
            headers, rows = ct.block_rows(table, block)
            t = Table(*headers, title=f"{table.title}: {block.title}")
            for row in rows:
                t.add_row(*[str(c) for c in row])
            console.print(t)
    for d in found.runs.get("eval-opinions", []):
        import json

        s = json.loads((d / "summary.json").read_text())
        sim = s.get("culture_sim", s.get("overall"))
        console.print(f"opinion similarity (cultureSim) {_label(d, [run_dir])}: {sim}")
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
