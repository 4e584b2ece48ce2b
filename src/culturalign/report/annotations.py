"""The report's sections on human ratings: the annotation database (progress, agreement
between annotators with its intervals, rating distributions) and the judge against the
human ratings (CARE appendix C.2, Fig. 10).

An annotation database joins a report when it is named with ``report --annotations DB``
or sits in a run directory as ``annotations*.sqlite`` / ``annotations*.db`` (the name
``annotate import`` suggests). Only names are matched: other SQLite files in a run (a
model cache) are never opened.

Agreement figures are ``annotate agreement``'s own (``annotate.agreement``: kappa for
categories, Krippendorff's alpha for ratings, each with its bootstrap interval over
items and a warning under 30 items). The judge-vs-human correlations get their 95%
interval here, by resampling the (human, judge) pairs of the run's ``judgments.jsonl``
(``uncertainty.statistic_interval``), since a correlation on 40 responses can be far
from the paper's 0.93.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from culturalign.io import read_json_object
from culturalign.report.document import Document, Heading, Image, Paragraph, Table

PATTERNS = ("annotations*.sqlite", "annotations*.db")


def find_databases(root: Path) -> list[Path]:
    return sorted({p for pattern in PATTERNS for p in Path(root).rglob(pattern) if p.is_file()})


# -- the annotation database ----------------------------------------------------------------------
def _ratings(judgments: Sequence[Any], items: dict[str, str]) -> dict[str, list[int]]:
    """Every response rating (1-10) an annotator gave, by the item's culture."""
    from culturalign.annotate import vocab

    out: dict[str, list[int]] = {}
    for j in judgments:
        if j.task != vocab.RANK:
            continue
        for entry in j.payload.get("responses") or []:
            if isinstance(entry.get("rating"), int):
                out.setdefault(items.get(j.item_key, "not given"), []).append(entry["rating"])
    return out


def _rating_plot(ratings: dict[str, list[int]], out_png: Path) -> Path:
    from culturalign.annotate import vocab
    from culturalign.report.plots import _plt

    plt = _plt()
    bins = list(range(vocab.RATING_MIN, vocab.RATING_MAX + 1))
    fig, ax = plt.subplots(figsize=(8, 3.4), dpi=100)
    width = 0.8 / max(1, len(ratings))
    for k, (culture, values) in enumerate(sorted(ratings.items())):
        counts = Counter(values)
        xs = [b + (k - (len(ratings) - 1) / 2) * width for b in bins]
        ax.bar(xs, [counts.get(b, 0) for b in bins], width, label=f"{culture} (n={len(values)})")
    ax.set_xticks(bins)
    ax.set_xlabel(f"human rating ({bins[0]}: poor → {bins[-1]}: excellent)")
    ax.set_ylabel("responses")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, not over
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png)
    plt.close(fig)
    return out_png


_READ: dict[tuple[str, float], tuple[list[Any], list[Any], list[Any], Any]] = {}


def _read(db: Path) -> tuple[list[Any], list[Any], list[Any], Any]:
    """Items, current judgments, progress by culture and the agreement report of one
    database, read once per report (the summary and the section both use them)."""
    from culturalign.annotate.agreement import compute_agreement
    from culturalign.annotate.review import progress
    from culturalign.annotate.store import Store

    key = (str(Path(db).resolve()), Path(db).stat().st_mtime)
    if key not in _READ:
        _check_database(Path(db))
        store = Store(db)
        try:
            items = store.items()
            judgments = store.judgments()
            _people, cultures = progress(store)  # per culture only: a report is shared, names stay out
        finally:
            store.dispose()
        _READ.clear()  # one database's worth kept: reports are built one at a time
        _READ[key] = (items, judgments, cultures, compute_agreement(judgments))
    return _READ[key]


def _check_database(db: Path) -> None:
    """A clear error for a file that is not an annotation database, found before the
    store opens it (opening creates missing tables: a report must not write into a file
    it was only asked to read)."""
    import sqlite3

    from culturalign.errors import ConfigError

    try:
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{db}: not an annotation database ({exc})") from None
    missing = {"items", "submissions", "annotators"} - tables
    if missing:
        raise ConfigError(f"{db}: not an annotation database (no {', '.join(sorted(missing))} table)")


def annotation_section(doc: Document, dbs: Sequence[Path], figs: Path) -> None:
    doc.add(Heading("Annotation database"))
    for k, db in enumerate(dbs):
        items, judgments, cultures, report = _read(db)
        doc.add(Paragraph(f"{db}: {len(items)} items, {len(judgments)} current judgments."))
        rows = [
            [
                c.label,
                str(c.items),
                str(c.tasks_done),
                str(c.tasks_skipped),
                str(c.tasks_total),
                f"{c.share:.0%}",
            ]
            for c in cultures
        ]
        if rows:
            doc.add(
                Table(
                    ["culture", "items", "tasks done", "skipped", "assigned", "progress"],
                    rows,
                    caption="Progress by culture",
                    kind="meta",
                )
            )
        rows = []
        for f in report.overall:
            value = "undefined" if f.value is None else f"{f.value:.3f}"
            rows.append(
                [
                    f.name,
                    f.method,
                    f"{value} {f.interval_text()} (n={f.n_items})",
                    str(f.n_units),
                    str(f.n_annotators),
                    "; ".join(n for n in (f.note, f.warning) if n) or "–",
                ]
            )
        if rows:
            doc.add(
                Table(
                    ["what", "method", "agreement [95% CI] (n items)", "compared", "annotators", "note"],
                    rows,
                    caption="Agreement between annotators (bootstrap over items, 95%)",
                )
            )
        ratings = _ratings(judgments, {it.key: str(it.content.get("culture") or "not given") for it in items})
        if ratings:
            png = _rating_plot(ratings, figs / f"annotation-ratings-{k}.png")
            doc.add(Image(png, "Human ratings by culture (every rated response of every annotator)"))


# -- the judge against humans (CARE Fig. 10) ------------------------------------------------------
def _correlation(kind: str) -> Callable[[Sequence[tuple[float, float]]], float | None]:
    """The statistic resampled for an interval: Pearson and Spearman (Pearson on average
    ranks) in numpy, Kendall's tau-b from scipy; None where one side does not vary."""
    import numpy as np
    from scipy import stats as st

    def stat(pairs: Sequence[tuple[float, float]]) -> float | None:
        a = np.asarray(pairs, dtype=float)
        h, j = a[:, 0], a[:, 1]
        if h.min() == h.max() or j.min() == j.max():
            return None
        if kind == "kendall":
            return float(st.kendalltau(h, j).statistic)
        if kind == "spearman":
            h, j = st.rankdata(h), st.rankdata(j)
        return float(np.corrcoef(h, j)[0, 1])

    return stat


def _pairs(d: Path) -> list[tuple[float, float]]:
    from culturalign.io import read_records
    from culturalign.records.judgment import Judgment

    f = d / "judgments.jsonl"
    if not f.is_file():
        return []
    return [
        (float(j.human_rating), float(j.rating))
        for j in read_records(f, Judgment)
        if j.valid and j.human_rating is not None and j.rating is not None
    ]


_CI: dict[tuple, dict[str, Any]] = {}


def _with_interval(value: Any, pairs: list[tuple[float, float]], kind: str) -> str:
    from culturalign.uncertainty import statistic_interval

    if not isinstance(value, int | float):
        return "undefined"
    if len(pairs) < 2:
        return f"{value:.3f} (n={len(pairs)}, too small)"
    key = (kind, tuple(pairs))
    if key not in _CI:  # the summary and the section ask for the same interval
        _CI.clear() if len(_CI) > 64 else None
        _CI[key] = statistic_interval(pairs, _correlation(kind), resamples=500)
    ci = _CI[key]
    if ci["ci_low"] is None:
        return f"{value:.3f} (n={len(pairs)})"
    return f"{value:.3f} [{ci['ci_low']:.3f}, {ci['ci_high']:.3f}] (n={len(pairs)})"


def judge_agreement_section(doc: Document, dirs: list[Path], label_of: Callable[[Path], str]) -> None:
    doc.add(Heading("Judge vs. human ratings"))
    rows = []
    for d in dirs:
        f = d / "agreement.json"
        if not f.exists():
            continue
        a = read_json_object(f)
        st = a.get("stats") or {}
        pairs = _pairs(d)
        rows.append(
            [
                label_of(d),
                str(a.get("judge", "?")),
                str(st.get("n_pairs", 0)),
                _with_interval(st.get("pearson"), pairs, "pearson"),
                _with_interval(st.get("spearman"), pairs, "spearman"),
                _with_interval(st.get("kendall_tau"), pairs, "kendall"),
                str(a.get("n_invalid", 0)),
            ]
        )
    if rows:
        doc.add(
            Table(
                ["run", "judge", "pairs", "Pearson", "Spearman", "Kendall's tau", "invalid judgments"],
                rows,
                caption="Correlation of judge and native-speaker ratings (CARE appendix C.2; the paper's "
                "GPT-4o: Pearson 0.933, Spearman 0.901, Kendall 0.733); 95% CI: bootstrap over the pairs",
            )
        )
    for d in dirs:
        for png in sorted(d.glob("*.png")):
            doc.add(Image(png, f"{label_of(d)}: rating distributions, judge vs. humans (CARE Fig. 10)"))


def agreement_lines(
    judge_runs: Sequence[Path], dbs: Sequence[Path], label_of: Callable[[Path], str]
) -> list[str]:
    """The summary's sentences on human ratings: the judge's correlation with them (with
    the paper's value beside it) and the annotators' agreement with each other."""
    out = []
    for d in judge_runs:
        f = d / "agreement.json"
        if not f.is_file():
            continue
        a = read_json_object(f)
        st = a.get("stats") or {}
        if isinstance(st.get("pearson"), int | float):
            text = _with_interval(st["pearson"], _pairs(d), "pearson")
            out.append(
                f"Judge {a.get('judge', '?')} against native-speaker ratings ({label_of(d)}): Pearson {text} "
                "(CARE's GPT-4o judge: 0.933)."
            )
        else:
            out.append(
                f"Judge {a.get('judge', '?')} ({label_of(d)}): the correlation with human ratings is undefined."
            )
    for db in dbs:
        _, _, _, report = _read(db)
        for f in report.overall:
            if f.value is None:
                continue
            warn = f"; {f.warning}" if f.warning else ""
            out.append(
                f"Annotators' agreement on {f.name} ({Path(db).name}): {f.method} {f.value:.3f} "
                f"{f.interval_text()} over {f.n_items} items{warn}."
            )
    return out
