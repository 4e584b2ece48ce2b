"""The report's sections for the choice benchmarks (their own tables, robustness and
figures), the CAReDiO data selection and any other run kind, each as the run wrote it.

A choice benchmark's table is the run's ``table.csv`` (it has an ``n`` column); with the
viewer written beside the report, a culture's row opens that culture's items there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from culturalign.io import read_json_object
from culturalign.report.document import Document, Heading, Image, Paragraph, Preformatted, Span, Table
from culturalign.report.results import read_csv

CHOICE_TITLES = {
    "eval-care-choice": "CARE reference choice (judge-free: the human reference among others, by log-likelihood)",
    "eval-opinions": "Opinion distributions (cultureSim; each table names its Jensen–Shannon measure)",
    "eval-culturalbench": "CulturalBench",
    "eval-cali": "Culturally-aware NLI (CALI)",
    "eval-blend": "BLEnD short answers",
    "eval-mcq": "Multiple choice",
    "eval-grounded": "Situation-grounded questions (knowledge entailment)",
}


def _item_cultures(d: Path) -> set[str]:
    """The culture values the viewer filters a choice run's items by (its ``culture``,
    else ``country``, else ``region``), so only rows it can open are linked."""
    import json

    f = d / "items.jsonl"
    out: set[str] = set()
    if not f.is_file():
        return out
    with f.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            v = next(
                (rec[k] for k in ("culture", "country", "region") if isinstance(rec, dict) and rec.get(k)),
                None,
            )
            if isinstance(v, str):
                out.add(v)
    return out


def choice_section(
    doc: Document,
    kind: str,
    dirs: list[Path],
    label_of: Callable[[Path], str],
    view: Callable[..., str | None] | None = None,
) -> None:
    doc.add(Heading(CHOICE_TITLES.get(kind, kind)))
    for d in dirs:
        label = label_of(d)
        if (d / "table.csv").exists():
            headers, rows = read_csv(d / "table.csv")
            cells: list[list[Any]] = [list(r) for r in rows]
            cultures = _item_cultures(d) if view is not None else set()
            for row in cells:  # a culture's row opens its items in the viewer
                if view is not None and row and row[0] in cultures:
                    row[0] = Span(row[0], href=view(d, kind=kind, culture=row[0]))
            doc.add(Table(headers, cells, caption=label))
            if any(h.endswith("95% CI") for h in headers):
                from culturalign.evals.choice.run import INTERVAL_NOTE

                doc.add(Paragraph(INTERVAL_NOTE))
        elif (d / "table.md").exists():
            doc.add(Paragraph(label), Preformatted((d / "table.md").read_text(encoding="utf-8")))
        if (d / "robustness.md").exists():  # the run was scored under option orders × wordings
            from culturalign.evals.robustness.compare import stability_lines

            for line in stability_lines(read_json_object(d / "summary.json", "a run summary")):
                doc.add(Paragraph(f"Stability ({label}): {line}"))
        for png in sorted(d.glob("*.png")):
            doc.add(Image(png, f"{label}: {png.stem}"))


def selection_section(doc: Document, dirs: list[Path]) -> None:
    doc.add(Heading("CAReDiO data selection"))
    for d in dirs:
        f = d / "summary.json"
        if f.exists():
            s = read_json_object(f)
            rows = [
                [
                    c,
                    str(b.get("samples", "")),
                    str(b.get("clusters", "")),
                    str(b.get("largest_cluster", "")),
                    str(b.get("picked", "")),
                    str(b.get("tokens_picked", "")),
                ]
                for c, b in (s.get("cultures") or {}).items()
            ]
            cfg = s.get("config") or {}
            doc.add(
                Table(
                    ["culture", "samples", "clusters", "largest cluster", "picked", "tokens picked"],
                    rows,
                    caption=f"{d.name}: θ={cfg.get('theta')}, linkage {cfg.get('linkage')}, "
                    f"r={cfg.get('representativeness')}, budget {cfg.get('budget')} {cfg.get('budget_unit')}",
                    kind="meta",  # counts of the data, not scores
                )
            )
            for n in s.get("notes") or []:
                doc.add(Paragraph(n))
        for png, what in (
            ("pca.png", "PCA of the selected data by culture (CAReDiO Fig. 3a)"),
            ("tfidf.png", "top tf-idf phrases per culture (CAReDiO Fig. 3b)"),
        ):
            if (d / png).exists():
                doc.add(Image(d / png, f"{d.name}: {what}"))


def other_section(doc: Document, kind: str, dirs: list[Path], label_of: Callable[[Path], str]) -> None:
    """Tables and figures of runs no section above reads; no heading when they have none
    (a rubric run's numbers are already in the models × benchmarks tables)."""
    blocks: list[Table | Image] = []
    for d in dirs:
        for f in ("table.csv",):
            if (d / f).exists():
                headers, rows = read_csv(d / f)
                blocks.append(Table(headers, rows, caption=label_of(d)))
        blocks += [Image(png, f"{label_of(d)}: {png.stem}") for png in sorted(d.glob("*.png"))]
    if blocks:
        doc.add(Heading(kind))
        for block in blocks:
            doc.add(block)
