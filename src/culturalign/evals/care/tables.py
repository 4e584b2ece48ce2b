"""CARE's result tables from one or more runs (paper 000 Tables 1, 2, 3, 4 and 8).

* ``category_table``  rows are runs; columns the five categories and the average; one
  block per culture (Tables 1 and 4);
* ``delta_table``     the same, each run shown as its difference from a baseline run
  (Table 2);
* ``scope_table``     columns are geographic scopes (Table 8);
* ``mode_table``      one block per prompting mode, columns are cultures (Table 3).

Every row says how many items were rated and how many were invalid (judged, but no
usable rating after retries) or skipped (nothing to judge); every cell shows its own n,
and a cell of one item is marked too small (no interval). A change from the baseline is
paired: the same items, rated in both runs, resampled together (``paired_delta``), shown
as ``+0.80 [+0.20, +1.40] (n=30)``, and marked where its interval includes 0. Builders
return plain data (``CareTable``); ``to_markdown``, ``to_csv``, ``to_rich`` and
``block_rows`` (``care_table_render``) render it, so the HTML report reuses the same
numbers. Building is pure; ``load_run`` is the only
function that reads files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from culturalign import uncertainty
from culturalign.errors import ConfigError
from culturalign.evals.care.stats import UNCATEGORISED, CareSummary, CellStats, CultureSummary
from culturalign.evals.care.table_render import (  # noqa: F401  (re-exported: callers import them here)
    Block,
    CareTable,
    Cell,
    Row,
    block_rows,
    to_csv,
    to_markdown,
    to_rich,
)
from culturalign.io import read_json_model
from culturalign.records.question import Category, GeographicScope

SCALE = "mean judge rating (1: poor → 10: excellent)"
CELL_NOTE = "Each cell: mean (n = rated items in it); a cell of one item has no interval."
INVALID_NOTE = (
    "Rated: items with a valid rating. Invalid: the judge gave no usable rating after all retries. "
    "Skipped: nothing to judge (no response or no reference). Unrated items are left out of the means."
)


@dataclass(frozen=True)
class CareRun:
    label: str
    summary: CareSummary
    path: Path | None = None


AVERAGE = "__average__"
AVERAGE_OF_CATEGORIES = "__average_of_categories__"
CATEGORY_MEAN_LABEL = "Mean of categories"
PAIRED_NOTE = (
    "Changes are paired: items rated in both runs, resampled together (percentile bootstrap, "
    "95%); n is the number of such items. A cell of one item gets no interval (too small to conclude)."
)


# -- loading -------------------------------------------------------------------------------
def load_run(path: str | Path, label: str | None = None) -> CareRun:
    """A run directory (its ``summary.json``) or a ``judgments.jsonl`` file.

    A summary that cannot be read or has the wrong shape is a located ``DataError``: the
    report and ``eval care-table`` must not drop a run from a table or end in a traceback."""
    p = Path(path)
    if p.is_dir():
        f = p / "summary.json"
        if not f.is_file():
            raise ConfigError(f"{p}: not a CARE run directory (no summary.json)")
        return CareRun(label or p.name, read_json_model(f, CareSummary), p)
    if p.is_file():
        stem = p.with_suffix("")
        beside = stem.with_name(stem.name + ".summary.json")  # written by `culturalign judge`
        if beside.is_file():
            return CareRun(label or p.stem, read_json_model(beside, CareSummary), p)
        from culturalign.evals.care.stats import summarize
        from culturalign.io import read_records
        from culturalign.records.judgment import Judgment

        judgments = read_records(p, Judgment)
        summary = summarize(judgments, label=label or p.stem, judge=judgments[0].judge if judgments else None)
        return CareRun(label or p.stem, summary, p)
    raise ConfigError(f"{p}: no such run directory or judgments file")


# -- builders --------------------------------------------------------------------------------
CATEGORY_COLUMNS = [(c.value, c.label) for c in Category]
SCOPE_COLUMNS = [(s.value, s.label) for s in GeographicScope]


def judge_label(summary: CareSummary) -> str | None:
    """The judge's spec, marked when it is the embedded stand-in (CSV rows carry it)."""
    if summary.judge is None:
        return None
    weak = summary.judge.split("+")[0].split(":")[0] == "embedded"
    return f"{summary.judge} (weak stand-in judge)" if weak else summary.judge


def _cell(stats: CellStats | None) -> Cell:
    if stats is None:
        return Cell(None)
    ci = (stats.ci_low, stats.ci_high) if stats.ci_low is not None and stats.ci_high is not None else None
    return Cell(stats.mean, stats.n_rated, ci, too_small=stats.too_small)


def _category_mean_cell(cs: CultureSummary) -> Cell:
    n = sum(st.n_rated for c, st in cs.categories.items() if c != UNCATEGORISED)
    return Cell(cs.average_of_categories, n)


def _cultures(runs: Sequence[CareRun]) -> list[str]:
    seen: list[str] = []
    for r in runs:
        seen.extend(c for c in r.summary.cultures if c not in seen)
    return seen


def _notes(runs: Sequence[CareRun]) -> list[str]:
    notes = [INVALID_NOTE, CELL_NOTE]
    judges = sorted({r.summary.judge for r in runs if r.summary.judge})
    if judges:
        notes.insert(0, f"Judge: {', '.join(judges)}.")
    for r in runs:
        if r.summary.aggregate == "max":
            notes.append(
                f"{r.label}: an item's score is the best of its responses (as CARE scores web pages)."
            )
        notes.extend(n for n in r.summary.notes if n not in notes)
    return notes


def _counts(stats: CellStats | None) -> dict[str, int]:
    if stats is None:
        return {"rated": 0, "invalid": 0, "skipped": 0}
    return {"rated": stats.n_rated, "invalid": stats.n_invalid, "skipped": stats.n_skipped}


def _culture_blocks(
    runs: Sequence[CareRun],
    cols: list[tuple[str, str]],
    cells_of: Callable[[CultureSummary], dict[str, CellStats]],
    *,
    category_mean: bool = False,
) -> list[Block]:
    """One block per culture, one row per run: the chosen columns, then the average (and,
    where it differs from the item average, the mean of the category means)."""
    blocks = []
    for culture in _cultures(runs):
        summaries = [r.summary.cultures[culture] for r in runs if culture in r.summary.cultures]
        macro = category_mean and any(cs.averages_differ for cs in summaries)
        keys = [key for key, _ in cols] + [AVERAGE] + ([AVERAGE_OF_CATEGORIES] if macro else [])
        labels = [label for _, label in cols] + ["Average"] + ([CATEGORY_MEAN_LABEL] if macro else [])
        block = Block(culture, labels, keys=keys)
        for r in runs:
            cs = r.summary.cultures.get(culture)
            if cs is None:
                continue
            cells = [_cell(cells_of(cs).get(key)) for key, _ in cols] + [_cell(cs.average)]
            if macro:
                cells.append(_category_mean_cell(cs))
            block.rows.append(Row(r.label, cells, **_counts(cs.average), judge=judge_label(r.summary)))
        blocks.append(block)
    return blocks


def averages_note(blocks: Sequence[Block]) -> list[str]:
    shown = [b.title for b in blocks if CATEGORY_MEAN_LABEL in b.columns]
    if not shown:
        return []
    return [
        f"{', '.join(shown)}: 'Average' is the mean over rated items; '{CATEGORY_MEAN_LABEL}' is the mean "
        "of the CARE category means (each category counts once, uncategorised items left out). They differ here because categories "
        "have unequal numbers of rated items."
    ]


def category_table(runs: Sequence[CareRun], title: str | None = None) -> CareTable:
    """Tables 1 and 4: culture blocks, category columns and the average."""
    has_uncat = any(UNCATEGORISED in cs.categories for r in runs for cs in r.summary.cultures.values())
    cols = CATEGORY_COLUMNS + ([(UNCATEGORISED, "Uncat.")] if has_uncat else [])
    blocks = _culture_blocks(runs, cols, lambda cs: cs.categories, category_mean=True)
    return CareTable(title or f"CARE: {SCALE}", blocks, _notes(runs) + averages_note(blocks))


def _macro(units: Sequence[tuple[str, float]]) -> float | None:
    """Mean of category means over (category, score) units: the statistic behind
    'Mean of categories', so its change can be bootstrapped item by item."""
    by: dict[str, list[float]] = {}
    for cat, score in units:
        if cat != UNCATEGORISED:
            by.setdefault(cat, []).append(score)
    return sum(sum(v) / len(v) for v in by.values()) / len(by) if by else None


def paired_cell(base: CareSummary, run: CareSummary, culture: str, key: str) -> dict | None:
    """The paired change of one cell (culture × category, or the average) from ``base``
    to ``run``, over items rated in both; None when either run kept no per-item scores."""
    if not base.items or not run.items:
        return None
    if key == AVERAGE_OF_CATEGORIES:
        cats = {(it.culture, it.id): it.category for it in base.items}

        def units(s: CareSummary) -> dict:
            return {k: (cats.get(k, UNCATEGORISED), v) for k, v in s.item_scores(culture).items()}

        return uncertainty.paired_statistic_delta(units(base), units(run), _macro)
    category = None if key == AVERAGE else key
    return uncertainty.paired_delta(
        base.item_scores(culture, category=category), run.item_scores(culture, category=category)
    )


def _delta_cell(paired: dict | None, cell: Cell, base: Cell) -> Cell:
    if paired is None:  # summaries from before per-item scores were kept
        value = None if cell.value is None or base.value is None else cell.value - base.value
        return Cell(value, min(cell.n, base.n), unpaired=True)
    ci = (paired["ci_low"], paired["ci_high"]) if paired["ci_low"] is not None else None
    return Cell(
        paired["delta"], paired["n"], ci, too_small=paired["too_small"], includes_zero=paired["includes_zero"]
    )


def _delta_notes(table: CareTable) -> list[str]:
    cells = [
        (b, r, col, c)
        for b in table.blocks
        for r in b.rows
        if r.delta
        for col, c in zip(b.columns, r.cells, strict=True)
    ]
    notes = [PAIRED_NOTE]
    with_ci = [x for x in cells if x[3].ci is not None]
    zero = [x for x in with_ci if x[3].includes_zero]
    if with_ci:
        notes.append(
            f"{len(zero)} of {len(with_ci)} changes have a 95% interval that includes 0 (marked 'includes 0'): "
            "no measurable change there."
        )
    for b, r, col, _ in zero:
        if col == "Average":
            notes.append(f"{r.label}, {b.title}: the average's interval includes 0; no measurable change.")
    if any(x[3].unpaired for x in cells):
        notes.append(
            "Some runs kept no per-item scores (older summary.json): their changes are plain differences "
            "of means, without an interval."
        )
    return notes


def delta_table(runs: Sequence[CareRun], baseline: CareRun, title: str | None = None) -> CareTable:
    """Table 2: the baseline's scores, then every other run as a paired difference from
    them, with an interval over the items rated in both runs."""
    absolute = category_table([baseline, *runs])
    by_label = {r.label: r for r in runs}
    for block in absolute.blocks:
        base = block.rows[0] if block.rows and block.rows[0].label == baseline.label else None
        if base is None:
            absolute.notes.append(
                f"{block.title}: {baseline.label} has no results here; absolute scores shown."
            )
        for row in block.rows[1:] if base else []:
            run = by_label[row.label].summary
            row.delta = True
            row.cells = [
                _delta_cell(paired_cell(baseline.summary, run, block.title, key), c, b)
                for key, c, b in zip(block.keys, row.cells, base.cells, strict=True)
            ]
    absolute.title = title or f"CARE: difference from {baseline.label} ({SCALE})"
    absolute.ci_column = None
    absolute.notes.insert(0, f"First row: {baseline.label}, absolute; other rows: difference from it.")
    absolute.notes.extend(n for n in _delta_notes(absolute) if n not in absolute.notes)
    return absolute


def scope_table(runs: Sequence[CareRun], title: str | None = None) -> CareTable:
    """Table 8: culture blocks, geographic-scope columns."""
    present = {s for r in runs for cs in r.summary.cultures.values() for s in cs.scopes}
    cols = [(key, label) for key, label in SCOPE_COLUMNS if key in present]
    cols += [(s, s) for s in sorted(present - {k for k, _ in SCOPE_COLUMNS})]
    blocks = _culture_blocks(runs, cols, lambda cs: cs.scopes)
    return CareTable(title or f"CARE by geographic scope: {SCALE}", blocks, _notes(runs))


def mode_table(runs: Sequence[CareRun], title: str | None = None) -> CareTable:
    """Table 3: one block per prompting mode; columns are each culture's average."""
    cultures = _cultures(runs)
    modes: list[str] = []
    for r in runs:
        m = r.summary.mode or "vanilla"
        if m not in modes:
            modes.append(m)
    blocks = []
    for mode in modes:
        block = Block(f"{mode} prompting", list(cultures), keys=[AVERAGE] * len(cultures))
        for r in runs:
            if (r.summary.mode or "vanilla") != mode:
                continue
            stats = [r.summary.cultures.get(c) for c in cultures]
            totals = [_counts(s.average if s else None) for s in stats]
            block.rows.append(
                Row(
                    r.label,
                    [_cell(s.average if s else None) for s in stats],
                    rated=sum(t["rated"] for t in totals),
                    invalid=sum(t["invalid"] for t in totals),
                    skipped=sum(t["skipped"] for t in totals),
                    judge=judge_label(r.summary),
                )
            )
        blocks.append(block)
    table = CareTable(title or f"CARE by prompting mode: {SCALE}", blocks, _notes(runs))
    table.ci_column, table.inline_ci = None, True
    return table
