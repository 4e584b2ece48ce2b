"""The report's opening: what was evaluated, what changed (with intervals) and what is
too small to conclude, in plain sentences, before any table.

A reader who stops after the summary should still know: which models (by name, with
their specs), which data (items per culture and category), which judge and decoding
settings, and the few findings that hold up. Every finding is a paired change over the
items both runs scored (``culturalign.uncertainty``), worded by its interval: a change
whose interval excludes 0 is "raised"/"lowered"; one whose interval includes 0 is "no
measurable change"; one with fewer than two shared items is "too small to conclude".
Nothing is recomputed another way: the same functions build the tables below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from culturalign import uncertainty
from culturalign.io import read_json_object
from culturalign.report.document import Bullets, Document, Heading, Paragraph, Span, Table
from culturalign.report.runs import RunNames


def _params_text(p: dict[str, Any] | None) -> str:
    if not p:
        return "?"
    bits = [f"temperature {p.get('temperature', '?')}"]
    if p.get("top_p") not in (None, 1, 1.0):
        bits.append(f"top-p {p['top_p']}")
    if p.get("max_new_tokens") is not None:
        bits.append(f"up to {p['max_new_tokens']} new tokens")
    if p.get("seed") is not None:
        bits.append(f"seed {p['seed']}")
    return ", ".join(bits)


def _short(h: str | None, n: int = 10) -> Span | str:
    if not h:
        return "–"
    return Span(h[:n], title=h) if len(h) > n else h


def _evaluated(doc: Document, logs: list[tuple[Path, dict[str, Any]]], names: RunNames) -> None:
    """One row per evaluated model: name, spec, weights, and which evaluations ran."""
    models: dict[str, dict[str, Any]] = {}
    judges: set[str] = set()
    decoding: dict[str, set[str]] = {"model": set(), "judge": set()}
    for d, log in logs:
        kind = str(log.get("kind", "?"))
        if not kind.startswith("eval"):
            continue
        roles = log.get("models") or {}
        m = roles.get("model")
        if m:
            row = models.setdefault(names.label(d), {"m": m, "kinds": set(), "dir": d})
            row["kinds"].add(kind.removeprefix("eval-"))
        if roles.get("judge"):
            judges.add(str(roles["judge"].get("spec")))
        cfg = log.get("config") or {}
        if cfg.get("params"):
            decoding["model"].add(_params_text(cfg["params"]))
        if cfg.get("judge_params"):
            decoding["judge"].add(_params_text(cfg["judge_params"]))
    if not models:
        return
    link = names.link_of_label()
    rows = []
    for label, row in models.items():
        m = row["m"]
        trained = Span("training run", href=link[label]) if label in link else "–"
        rows.append(
            [
                names.decorate(label),
                str(m.get("spec", "?")),
                _short(m.get("weights")),
                _short(m.get("adapter")),
                ", ".join(sorted(row["kinds"])),
                trained,
            ]
        )
    doc.add(
        Table(
            ["model", "spec", "weights", "adapter", "evaluated on", "trained here"],
            rows,
            caption="Models evaluated (hashes shortened; the full value on hover)",
            kind="meta",
        )
    )
    lines: list[Span | str] = []
    for spec in sorted(judges):
        weak = spec.split("+")[0].split(":")[0] == "embedded"
        lines.append(
            f"Judge: {spec}" + (" (a weak stand-in judge: read its ratings as a smoke test)" if weak else "")
        )
    for role, texts in decoding.items():
        if texts:
            lines.append(
                f"Decoding ({'answers' if role == 'model' else 'judge'}): " + "; ".join(sorted(texts))
            )
    if lines:
        doc.add(Bullets(lines))


def _care_data(doc: Document, runs: Sequence[Any]) -> None:
    """Items per culture and category, from the run that saw the most items."""
    from culturalign.evals.care.tables import CATEGORY_COLUMNS

    if not runs:
        return
    widest = max(runs, key=lambda r: r.summary.overall.n_items)
    cats = [(k, lab) for k, lab in CATEGORY_COLUMNS]
    rows = []
    for culture, cs in widest.summary.cultures.items():
        counts = [cs.categories[k].n_items if k in cs.categories else 0 for k, _ in cats]
        rows.append([culture, *map(str, counts), str(cs.average.n_items)])
    totals = [sum(int(r[i + 1]) for r in rows) for i in range(len(cats) + 1)]
    rows.append(["all", *map(str, totals)])
    doc.add(
        Table(
            ["culture", *[lab for _, lab in cats], "questions"],
            rows,
            caption=f"CARE questions per culture and category (as evaluated, run {widest.label})",
            kind="meta",
        )
    )


def _care_findings(
    runs: Sequence[Any], baseline: str | None, found: list[str], zero: list[str], small: list[str]
) -> None:
    from collections import defaultdict

    from culturalign.evals.care.tables import CATEGORY_COLUMNS

    names = dict(CATEGORY_COLUMNS)
    by_setting: dict[tuple, list] = defaultdict(list)
    for r in runs:
        by_setting[(r.summary.mode, r.summary.lang)].append(r)
    for (mode, lang), group in by_setting.items():
        setting = f" (mode {mode}, language {lang})" if len(by_setting) > 1 else ""
        base = next((r for r in group if baseline and baseline in (r.label, r.summary.model)), None)
        tiny: dict[tuple[str, str], int] = {}  # one entry per cell, not one per run
        for r in group:
            for culture, cs in r.summary.cultures.items():
                for cat, st in cs.categories.items():
                    if st.too_small:
                        key = (culture, names.get(cat, cat))
                        tiny[key] = min(tiny.get(key, st.n_rated), st.n_rated)
        small.extend(f"CARE {c} {cat}{setting}: n={n} rated" for (c, cat), n in tiny.items())
        if base is None:
            for r in group:
                parts = [
                    f"{c} {cs.average.mean:.2f}"
                    + (
                        f" [{cs.average.ci_low:.2f}, {cs.average.ci_high:.2f}]"
                        if cs.average.ci_low is not None
                        else ""
                    )
                    + f" (n={cs.average.n_rated})"
                    for c, cs in r.summary.cultures.items()
                    if cs.average.mean is not None
                ]
                if parts:
                    found.append(f"{r.label} averaged, per culture{setting}: " + "; ".join(parts) + ".")
            continue
        for r in group:
            if r is base:
                continue
            pooled = uncertainty.paired_delta(base.summary.item_scores(), r.summary.item_scores())
            scopes = [("all-culture", pooled)] + [
                (c, uncertainty.paired_delta(base.summary.item_scores(c), r.summary.item_scores(c)))
                for c in r.summary.cultures
            ]
            for where, d in scopes:
                _sentence(
                    f"{r.label}",
                    f"the {where} average",
                    base.label,
                    d,
                    "questions",
                    setting,
                    found,
                    zero,
                    small,
                )


def _sentence(
    who: str,
    what: str,
    base: str,
    d: dict[str, Any],
    unit: str,
    setting: str,
    found: list[str],
    zero: list[str],
    small: list[str],
    digits: int = 2,
) -> None:
    """Sort one paired change into findings, no-measurable-change or too small."""
    if d.get("delta") is None or not d.get("n"):
        return
    ci = (
        f"{d['delta']:+.{digits}f} [{d['ci_low']:+.{digits}f}, {d['ci_high']:+.{digits}f}]"
        if d.get("ci_low") is not None
        else ""
    )
    if d.get("ci_low") is None:
        small.append(f"{who}, change in {what}{setting}: n={d['n']} shared {unit}")
    elif d.get("includes_zero"):
        zero.append(f"{who}, {what}{setting}: {ci} on {d['n']} {unit}")
    else:
        verb = "raised" if d["delta"] > 0 else "lowered"
        found.append(
            f"{who} {verb} {what}{setting} by {ci} on {d['n']} {unit} "
            f"({base} {d['before']:.{digits}f} → {d['after']:.{digits}f})."
        )


def _choice_findings(
    runs: dict[str, list[Path]],
    kinds: Sequence[str],
    label_of: Callable[[Path], str],
    baseline: str | None,
    found: list[str],
    zero: list[str],
    small: list[str],
) -> None:
    from culturalign.evals.headline import headline_units
    from culturalign.train.study_changes import paired_changes

    for kind in kinds:
        dirs = runs.get(kind) or []
        base = next((d for d in dirs if label_of(d) == baseline), None)
        if base is None:
            continue
        name = kind.removeprefix("eval-")
        base_units = headline_units(name, base)
        for d in dirs:
            if d == base:
                continue
            for metric, c in paired_changes(base_units, headline_units(name, d)).items():
                _sentence(
                    label_of(d), f"{name} {metric}", baseline or "", c, "items", "", found, zero, small, 3
                )


def _train_findings(
    dirs: Sequence[Path], names: RunNames, found: list[str], zero: list[str], small: list[str]
) -> None:
    from culturalign.train.gap import GapReport, gap_change

    for d in dirs:
        m = read_json_object(d / "culturalign-train.json")
        r = m.get("result") or {}
        if not (r.get("gap_before") and r.get("gap_after")):
            continue
        change = gap_change(
            GapReport.model_validate(r["gap_before"]), GapReport.model_validate(r["gap_after"])
        )
        if change:
            who = f"{str(m.get('method', '?')).upper()} training ({d.name})"
            _sentence(who, "the held-out gap", "before", change, "held-out pairs", "", found, zero, small, 3)


def _study_findings(dirs: Sequence[Path], found: list[str], zero: list[str], small: list[str]) -> None:
    """Each study row's paired change against the study's reference row (``study.json``)."""
    from culturalign.report.results import study_table

    for d in dirs:
        table = study_table(d)
        if table is None:
            continue
        for row, per_metric in (table.changes or {}).items():
            for metric, change in per_metric.items():
                who = f"{table.title} ({d.name}), {table.key}={row}"
                ref = f"{table.key}={table.reference}"
                _sentence(who, metric, ref, change, "items", "", found, zero, small, 3)


def _scored_items(d: Path) -> int | None:
    f = d / "items.jsonl"
    if not f.is_file():
        return None
    with f.open(encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def _other_text(kind: str, dirs: Sequence[Path], names: RunNames) -> str:
    """``opinions: base 8 scored items, dpo 8`` (what each run's numbers rest on)."""
    parts = []
    for d in dirs:
        n = _scored_items(d)
        parts.append(names.label(d) + (f" ({n} per-item records)" if n is not None else ""))
    return f"{kind.removeprefix('eval-')}: " + ", ".join(parts)


def _unrated(runs: Sequence[Any]) -> list[str]:
    """CARE answers without a valid rating: a run whose judge rated none says nothing."""
    out = []
    for r in runs:
        counts = r.summary.counts or {}
        items, invalid = counts.get("items", 0), counts.get("invalid", 0) + counts.get("skipped", 0)
        where = f"{r.label}, CARE ({r.summary.mode}, {r.summary.lang})"
        if items and invalid >= items:
            out.append(f"{where}: none of its {items} answers has a valid rating: nothing to conclude")
        elif items and invalid:
            out.append(
                f"{where}: {invalid} of {items} answers have no valid rating; the means leave them out"
            )
    return out


def summary_section(
    doc: Document,
    found_runs: Any,
    care_runs: Sequence[Any],
    names: RunNames,
    baseline: str | None,
    choice_kinds: Sequence[str],
) -> None:
    """``found_runs`` is ``build.Found``; ``care_runs`` the loaded CARE runs (``CareRun``);
    ``choice_kinds`` the run kinds whose headline metrics have per-item units."""
    from culturalign.report.annotations import agreement_lines

    doc.add(Heading("Summary", anchor="summary"))
    if any(str(log.get("kind", "")).startswith("eval") for _, log in found_runs.run_logs) or care_runs:
        doc.add(Heading("What was evaluated", level=3))
    _evaluated(doc, found_runs.run_logs, names)
    _care_data(doc, care_runs)
    others = sorted(k for k in found_runs.runs if k.startswith("eval") and k != "eval-care")
    if others:
        doc.add(Bullets([_other_text(k, found_runs.runs[k], names) for k in others]))
    settings = sorted({f"{r.summary.mode or 'vanilla'}/{r.summary.lang or '?'}" for r in care_runs})
    if len(settings) > 1:
        doc.add(Paragraph(f"CARE prompting mode/language settings: {', '.join(settings)}."))
    if found_runs.train:
        doc.add(Paragraph(f"Training runs: {', '.join(t.name for t in found_runs.train)} (see Training)."))
    if found_runs.studies:
        doc.add(
            Paragraph(
                f"Training studies: {', '.join(t.name for t in found_runs.studies)} (see Training studies)."
            )
        )
    found: list[str] = []
    zero: list[str] = []
    small: list[str] = []
    _care_findings(care_runs, baseline, found, zero, small)
    _choice_findings(found_runs.runs, choice_kinds, names.label, baseline, found, zero, small)
    _train_findings(found_runs.train, names, found, zero, small)
    _study_findings(found_runs.studies, found, zero, small)
    doc.add(Heading("Findings", level=3))
    comparable = any(len(d) > 1 for k, d in found_runs.runs.items() if k.startswith("eval"))
    if not baseline and comparable:
        found.append("No baseline was named (report --baseline MODEL): no changes between runs are computed.")
    if found or zero or small:  # there are changes between runs to read
        doc.add(
            Paragraph(
                "Changes are paired over the items both runs scored, with 95% bootstrap intervals; "
                "only changes whose interval excludes 0 are stated as findings."
            )
        )
    found.extend(
        agreement_lines(found_runs.runs.get("judge-agreement", []), found_runs.annotations, names.label)
    )
    doc.add(Bullets(found or ["No change between runs has an interval that excludes 0."]))
    if zero:
        doc.add(Paragraph(f"No measurable change (the interval includes 0), {len(zero)}:"))
        doc.add(Bullets(zero))
    unrated = _unrated(care_runs)
    if unrated:
        doc.add(
            Paragraph("Not rated (the judge gave no usable rating after its retries, or nothing to judge):")
        )
        doc.add(Bullets(unrated))
    if small:
        doc.add(
            Paragraph(
                f"Too small to conclude (fewer than {uncertainty.MIN_ITEMS} items, no interval), {len(small)}:"
            )
        )
        doc.add(
            Bullets(
                small[:12]
                + (
                    [f"… and {len(small) - 12} more, marked 'too small' in the tables"]
                    if len(small) > 12
                    else []
                )
            )
        )
