"""Find what run directories hold and write the report (issue 10; the results-section
layout of issue 19).

Run directories are recognised by their files: ``run.json`` (every evaluation and
stage that uses the run log; its ``kind`` says what it is), ``culturalign-train.json``
(a training run), ``study.csv`` (a training study), ``annotations*.sqlite`` (an
annotation database). The report opens with ``report.summary`` (what was evaluated,
the findings with their intervals, what is too small to conclude); runs are named by
``report.runs`` (model names, specs on hover, links to training runs). A CARE run is
read through the CARE tables module so the report shows exactly the numbers ``eval
care`` printed; the sections for scores that change between runs live in
``report.results``, the human-rating ones in ``report.annotations``, the rest in
``report.sections``. With a viewer (``build_report(viewer=culturalign.view)``) the
answers page is written beside the report and numbers link to their items.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from culturalign.errors import ConfigError, DataError, Problem
from culturalign.io import atomic_write_text, read_json_object
from culturalign.report.annotations import annotation_section, find_databases, judge_agreement_section
from culturalign.report.document import (
    Document,
    Heading,
    Note,
    Paragraph,
    Preformatted,
    Span,
    Table,
    to_html,
    to_markdown,
)
from culturalign.report.results import (
    care_section,
    choice_changes,
    load_care_runs,
    studies_section,
    train_section,
)
from culturalign.report.runs import RunNames, folder_label, name_runs
from culturalign.report.sections import CHOICE_TITLES, choice_section, other_section, selection_section
from culturalign.report.summary import summary_section


@dataclass
class Found:
    runs: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))  # kind -> dirs
    train: list[Path] = field(default_factory=list)
    studies: list[Path] = field(default_factory=list)
    run_logs: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    annotations: list[Path] = field(default_factory=list)  # annotation databases


def discover(roots: Sequence[Path]) -> Found:
    found = Found()
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise ConfigError(f"{root}: no such run directory")
        if not root.is_dir():
            raise ConfigError(f"{root}: is a file; give the run directory that holds it")
        for rj in sorted(root.rglob("run.json")):
            # a log that cannot be read is an error, not skipped: that would drop a run unseen
            log = read_json_object(rj, "a JSON object (a run log)")
            kind = log.get("kind", "unknown")
            if not isinstance(kind, str):
                raise DataError([Problem(str(rj), None, "kind", f"expected a string, found {kind!r}")])
            found.run_logs.append((rj.parent, log))
            if "checkpoint-" not in str(rj):
                found.runs[kind].append(rj.parent)
        found.train += [
            p.parent for p in sorted(root.rglob("culturalign-train.json")) if "checkpoint-" not in str(p)
        ]
        found.studies += [p.parent for p in sorted(root.rglob("study.csv"))]
        found.annotations += [p for p in find_databases(root) if p not in found.annotations]
    return found


def has_results(found: Found) -> bool:
    return bool(found.run_logs or found.train or found.studies or found.annotations)


def _label(path: Path, roots: Sequence[Path] = ()) -> str:
    """An experiment's folder label (eval/<kind>/<model>/... → '<model>'), for callers
    that have no run logs at hand (the demo's closing screen); the report itself names
    runs with ``runs.name_runs``."""
    return folder_label(path) or path.name


def _model_cell(role: str, m: dict[str, Any]) -> Span:
    """``model=SmolLM2 · 88faa1fa2a`` with the spec and full hashes on hover; no empty
    brackets when a backend has no weights hash (an API model)."""
    from culturalign.report.runs import model_name

    spec = str(m.get("spec", m.get("model", "?")))
    bits = [f"{role}={model_name(spec)}"]
    if m.get("weights"):
        bits.append(str(m["weights"])[:10])
    if m.get("adapter"):
        bits.append("adapter " + str(m["adapter"])[:10])
    full = [spec] + [f"{k} {m[k]}" for k in ("weights", "adapter") if m.get(k)]
    return Span(" · ".join(bits), title="; ".join(full), wrap=True)


def _joined(spans: list[Span]) -> Span | str:
    if not spans:
        return "–"
    return Span(
        "; ".join(s.text for s in spans), title="\n".join(s.title or s.text for s in spans), wrap=True
    )


def _provenance(doc: Document, found: Found, roots: Sequence[Path], label_of: Callable[[Path], str]) -> None:
    doc.add(Heading("Provenance"))
    rows, versions, gits = [], {}, set()
    for d, log in found.run_logs:
        models = _joined([_model_cell(role, m) for role, m in (log.get("models") or {}).items()])
        data = _joined(
            [Span(f"{Path(p).name}:{h[:10]}", title=f"{p}: {h}") for p, h in (log.get("data") or {}).items()]
        )
        calls = log.get("calls") or {}
        n_calls = sum(c.get("calls", 0) for c in calls.values())
        hits = sum(c.get("cache_hits", 0) for c in calls.values())
        tokens = sum(c.get("prompt_tokens", 0) + c.get("completion_tokens", 0) for c in calls.values())
        cost = sum(c.get("cost_usd", 0.0) for c in calls.values())
        usage = f"{n_calls} calls ({hits} cached), {tokens} tokens" + (f", ${cost:.4f}" if cost else "")
        prompts = log.get("prompts") or {}
        prompt_cell = (
            Span(f"{len(prompts)} templates", title="\n".join(f"{k}: {v}" for k, v in prompts.items()))
            if prompts
            else "–"
        )
        rows.append(
            [
                Span(label_of(d), title=str(d)),
                str(log.get("kind", "?")),
                models,
                data,
                prompt_cell,
                usage,
            ]
        )
        versions.update(log.get("versions") or {})
        if log.get("git"):
            gits.add(log["git"])
    if rows:
        doc.add(
            Table(
                [
                    "run",
                    "kind",
                    "models · weights hash",
                    "data · sha256",
                    "prompts",
                    "model calls",
                ],
                rows,
                caption="What produced each result (hashes shortened to 10 characters; full values on hover)",
                kind="meta",
            )
        )
    if versions:
        doc.add(Paragraph("Package versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))))
    if gits:
        doc.add(Paragraph("culturalign git revision: " + ", ".join(sorted(gits))))
    for root in roots:
        exp = Path(root) / "experiment.yaml"
        if exp.exists():
            doc.add(Paragraph(f"Experiment file ({exp}):"), Preformatted(exp.read_text(encoding="utf-8")))


def _decorate(doc: Document, names: RunNames) -> None:
    """Every results table's row labels become the model's name with its spec on hover
    and, for a model trained here, a link to its training run."""
    for b in doc.blocks:
        if isinstance(b, Table) and b.kind == "results":
            for row in b.rows:
                if row and isinstance(row[0], str):
                    row[0] = names.decorate(row[0])


def build_document(
    run_dirs: Sequence[Path],
    *,
    baseline: str | None = None,
    title: str = "culturalign report",
    figs: Path,
    annotations: Sequence[Path] = (),
    view: Callable[..., str | None] | None = None,
) -> Document:
    roots = [Path(p) for p in run_dirs]
    found = discover(roots)
    for db in annotations:
        if not Path(db).is_file():
            raise ConfigError(f"--annotations {db}: no such annotation database")
        if Path(db) not in found.annotations:
            found.annotations.append(Path(db))
    names = name_runs(found.run_logs, found.train)
    label_of = names.label
    baseline = names.baseline(baseline)  # a model's name, its folder or its spec; tables speak names
    doc = Document(title)
    # caveats about evaluations (e.g. a weak stand-in judge) lead the report
    notes = sorted(
        {
            n
            for _, log in found.run_logs
            if str(log.get("kind", "")).startswith("eval")
            for n in (log.get("notes") or [])
        }
    )
    for n in notes:
        doc.add(Note(n))
    if not has_results(found):
        doc.add(Paragraph("No results found in these run directories."))
    care_runs = load_care_runs(found.runs.get("eval-care", []), label_of)
    if has_results(found):
        summary_section(doc, found, care_runs, names, baseline, list(CHOICE_TITLES))
    if care_runs:
        care_section(doc, care_runs, baseline, figs, view)
    from culturalign.report.benchmarks import benchmark_section

    benchmark_section(doc, found.runs, label_of, csv_dir=figs)  # 002 Table 2 layout
    for kind in CHOICE_TITLES:
        if found.runs.get(kind):
            choice_section(doc, kind, found.runs[kind], label_of, view)
            choice_changes(doc, kind, found.runs[kind], label_of, baseline)
    if found.train:
        train_section(doc, found.train, names.train_anchor)
    if found.studies:
        studies_section(doc, found.studies)
    if found.runs.get("judge-agreement"):
        judge_agreement_section(doc, found.runs["judge-agreement"], label_of)
    if found.annotations:
        annotation_section(doc, found.annotations, figs)
    if found.runs.get("select"):
        selection_section(doc, found.runs["select"])
    known = {"eval-care", "judge-agreement", "select", *CHOICE_TITLES}
    for kind, dirs in sorted(found.runs.items()):
        if kind not in known and not kind.startswith("train"):
            other_section(doc, kind, dirs, label_of)
    _provenance(doc, found, roots, label_of)
    _decorate(doc, names)
    return doc


class Viewer(Protocol):
    """What the report needs of ``culturalign.view`` (passed in by the caller, so the
    report does not import the viewer, which imports the report's run naming)."""

    def write_view(self, run_dirs: Sequence[Path], path: Path | None = None) -> Path: ...

    def link(self, run: str | None = None, **filters: Any) -> str: ...


def _view_links(viewer: Viewer, path: Path) -> Callable[..., str | None]:
    """The function that links a cell to its items in the viewer page at ``path``."""

    def link(run_dir: Path, **filters: Any) -> str:
        d = Path(run_dir)
        try:  # the run's folder relative to the report: short, and picks exactly one run
            ref = d.resolve().relative_to(path.parent.resolve()).as_posix()
        except ValueError:
            ref = d.as_posix()
        return path.name + viewer.link(ref, **{"kind": "eval-care", **filters})

    return link


def build_report(
    run_dirs: Sequence[Path],
    *,
    out: Path | None = None,
    formats: Sequence[str] = ("html", "md"),
    baseline: str | None = None,
    title: str = "culturalign report",
    annotations: Sequence[Path] = (),
    viewer: Viewer | None = None,
) -> list[Path]:
    """Write the report as ``OUT.html`` (one self-contained file) and/or ``OUT.md``, with
    the figures it draws in ``OUT_files/``; ``annotations`` adds annotation databases
    that do not sit in a run directory. With ``viewer`` (the ``culturalign.view``
    module), the viewer page is written beside the report as ``view.html`` and every
    CARE number links to the answers behind it."""
    bad = [f for f in formats if f not in ("html", "md")]
    if bad:
        raise ConfigError(f"unknown report format(s) {bad}; use html and/or md")
    out = Path(out) if out else Path(run_dirs[0]) / "report"
    figs = out.with_name(out.name + "_files")  # the Markdown copies its images here too
    view_path = out.with_name("view.html")
    view = _view_links(viewer, view_path) if viewer is not None else None
    doc = build_document(
        run_dirs, baseline=baseline, title=title, figs=figs, annotations=annotations, view=view
    )
    written = []
    if "html" in formats:
        p = out.with_suffix(".html")
        atomic_write_text(p, to_html(doc))
        written.append(p)
    if "md" in formats:
        p = out.with_suffix(".md")
        atomic_write_text(p, to_markdown(doc, p))
        written.append(p)
    if viewer is not None:  # after the report: a report that fails leaves no page behind
        # no run with per-item files (ConfigError): nothing to view, and no cell was linked
        with contextlib.suppress(ConfigError):
            written.append(viewer.write_view(list(run_dirs), view_path))
    return written
