"""Inter-annotator agreement for the annotation tool (pure: numbers in, numbers out).

* Categories (the classification of paper 000 §3.1/appendix A.1): Cohen's kappa when
  exactly two annotators labelled the items (CARE reports 0.90 for its categories),
  otherwise Fleiss' kappa. Fleiss' kappa is computed for a varying number of raters per
  item: each item's agreement is the share of agreeing rater pairs, and the chance
  term uses the pooled label shares; with a constant number of raters this is exactly
  Fleiss (1971).
* Ratings (1-10, paper 000 §3.2), rubric scores (1-5, paper 003 §6.2) and ranks:
  Krippendorff's alpha at the ordinal level, which tolerates missing values (a
  response flagged "not an answer" has no rating).

Agreement is undefined when there is nothing to compare or no variation at all; it is
then reported as ``None`` with a note, never as a made-up number.

Every overall figure carries a 95% percentile bootstrap interval over items (items are
resampled with replacement, all of an item's responses together, ``BOOTSTRAP`` times
with a fixed seed) and the number of items it rests on; below ``SMALL_N`` items the
figure says it is too few to read, since a kappa on a dozen items can land anywhere.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from culturalign.annotate import vocab

Unit = tuple[str, int]  # (item key, item version)


@dataclass(frozen=True)
class Judgment:
    """One annotator's current submission for one task on one item version."""

    item_key: str
    item_version: int
    annotator: str
    task: str
    payload: Mapping[str, Any]


@dataclass
class Figure:
    """One agreement figure, with what it was computed on."""

    name: str
    method: str
    value: float | None
    n_units: int
    n_annotators: int
    note: str = ""
    n_items: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    warning: str = ""

    def interval_text(self) -> str:
        if self.ci_low is None or self.ci_high is None:
            return "–"
        return f"[{self.ci_low:.2f}, {self.ci_high:.2f}]"


BOOTSTRAP = 400
SMALL_N = 30
CI_LEVEL = 0.95


def bootstrap_interval(
    stat: Callable[[list[Any]], float | None],
    groups: Sequence[Any],
    *,
    seed: int = 0,
    rounds: int = BOOTSTRAP,
) -> tuple[float | None, float | None]:
    """Percentile interval of ``stat`` over resamples of ``groups`` (None when fewer than
    half the resamples give a defined value, or there are fewer than two groups)."""
    if len(groups) < 2:
        return None, None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        picked = rng.integers(0, len(groups), len(groups))
        v = stat([groups[i] for i in picked])
        if v is not None:
            values.append(v)
    if len(values) * 2 < rounds:
        return None, None
    tail = (1 - CI_LEVEL) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def small_n_warning(n_items: int) -> str:
    if n_items >= SMALL_N:
        return ""
    return f"only {n_items} item(s): too few to read (wanted at least {SMALL_N}); see the interval"


@dataclass
class Report:
    overall: list[Figure] = field(default_factory=list)
    # per item (key, version): figure name → value (None when undefined)
    per_item: dict[Unit, dict[str, float | None]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": [asdict(f) for f in self.overall],
            "per_item": [
                {"item": key, "version": version, **values}
                for (key, version), values in sorted(self.per_item.items())
            ],
        }


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's kappa of two annotators' labels on the same items (via scikit-learn)."""
    if len(a) != len(b):
        raise ValueError("both annotators must label the same items")
    if not a:
        return None
    from sklearn.metrics import cohen_kappa_score

    if len(set(a) | set(b)) < 2:
        return None  # chance agreement is 1: kappa is 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _clean(cohen_kappa_score([str(x) for x in a], [str(x) for x in b]))


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa from an items x categories matrix of label counts.

    Items with fewer than two labels are ignored; the number of raters may vary.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        raise ValueError("counts must be a 2-D items x categories matrix")
    n_i = counts.sum(axis=1)
    counts, n_i = counts[n_i >= 2], n_i[n_i >= 2]
    if counts.shape[0] == 0:
        return None
    p_item = ((counts * (counts - 1)).sum(axis=1)) / (n_i * (n_i - 1))
    p_bar = p_item.mean()
    shares = counts.sum(axis=0) / n_i.sum()
    p_e = float((shares**2).sum())
    if math.isclose(p_e, 1.0):
        return None
    return float((p_bar - p_e) / (1 - p_e))


def pairwise_agreement(labels: Sequence[Any]) -> float | None:
    """Share of annotator pairs that gave one item the same label (Fleiss' per-item P_i)."""
    n = len(labels)
    if n < 2:
        return None
    same = sum(1 for i in range(n) for j in range(i + 1, n) if labels[i] == labels[j])
    return same / (n * (n - 1) / 2)


def alpha_ordinal(data: np.ndarray, domain: Sequence[int]) -> float | None:
    """Krippendorff's alpha, ordinal level, of a coders x units matrix (NaN = missing)."""
    data = np.asarray(data, dtype=float)
    if data.size == 0:
        return None
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        return None
    values = data[:, pairable]
    values = values[~np.isnan(values)]
    if len(set(values.tolist())) < 2:
        return None  # no variation: expected disagreement is 0
    import krippendorff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _clean(
            krippendorff.alpha(
                reliability_data=data[:, pairable], value_domain=list(domain), level_of_measurement="ordinal"
            )
        )


def coincidences(data: np.ndarray, domain: Sequence[int]) -> np.ndarray:
    """Krippendorff's coincidence matrix (values x values) of a coders x units block.

    It adds up over units, so a bootstrap resample's matrix is a weighted sum of per-item
    matrices and its alpha costs a few array operations instead of a full recount."""
    index = {int(v): i for i, v in enumerate(domain)}
    out = np.zeros((len(domain), len(domain)))
    for column in np.asarray(data, dtype=float).T:
        values = column[~np.isnan(column)]
        if len(values) < 2:
            continue
        counts = np.zeros(len(domain))
        for v in values:
            counts[index[int(v)]] += 1
        out += (np.outer(counts, counts) - np.diag(counts)) / (len(values) - 1)
    return out


def alpha_from_coincidences(o: np.ndarray) -> float | None:
    """Ordinal alpha from a coincidence matrix: 1 - (n-1) sum(o d) / sum(n_c n_k d), with
    d the ordinal distance from the value totals (the same figure ``alpha_ordinal`` gives)."""
    n_v = o.sum(axis=1)
    n = n_v.sum()
    if n <= 1:
        return None
    cum = np.cumsum(n_v)
    c, k = np.meshgrid(np.arange(len(n_v)), np.arange(len(n_v)), indexing="ij")
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    d = (cum[hi] - cum[lo] + (n_v[lo] - n_v[hi]) / 2) ** 2
    expected = (np.outer(n_v, n_v) * d).sum()
    if expected == 0:
        return None
    return float(1 - (n - 1) * (o * d).sum() / expected)


# --- from judgments to figures -------------------------------------------------------


def _as_label(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def classification_labels(judgments: Iterable[Judgment]) -> dict[str, dict[Unit, dict[str, Any]]]:
    """field → unit → annotator → label. Later dimensions exist only for culture-related votes."""
    out: dict[str, dict[Unit, dict[str, Any]]] = {f: defaultdict(dict) for f in vocab.CLASSIFY_FIELDS}
    for j in judgments:
        if j.task != vocab.CLASSIFY:
            continue
        unit = (j.item_key, j.item_version)
        for name in vocab.CLASSIFY_FIELDS:
            value = j.payload.get(name)
            if value is not None:
                out[name][unit][j.annotator] = _as_label(value)
    return out


def _kappa(rows: list[Mapping[str, Any]], coders: list[str]) -> float | None:
    """Cohen's kappa for exactly two coders, else Fleiss' kappa, over label rows."""
    if len(coders) == 2:
        a, b = coders
        return cohen_kappa([r[a] for r in rows], [r[b] for r in rows])
    cats = sorted({str(v) for labels in rows for v in labels.values()})
    counts = np.zeros((len(rows), len(cats)))
    for i, labels in enumerate(rows):
        for v in labels.values():
            counts[i, cats.index(str(v))] += 1
    return fleiss_kappa(counts)


def categorical_figure(name: str, by_unit: Mapping[Unit, Mapping[str, Any]]) -> Figure:
    units = {u: labels for u, labels in by_unit.items() if len(labels) >= 2}
    coders = sorted({a for labels in units.values() for a in labels})
    if not units:
        return Figure(name, "kappa", None, 0, len(coders), "fewer than two labels on every item")
    rows = [units[u] for u in sorted(units)]
    value = _kappa(rows, coders)
    method = "Cohen's kappa" if len(coders) == 2 else "Fleiss' kappa"
    note = "" if value is not None else "no variation in the labels: kappa is undefined"
    lo, hi = bootstrap_interval(lambda sample: _kappa(sample, coders), rows)
    return Figure(
        name, method, value, len(units), len(coders), note, len(units), lo, hi, small_n_warning(len(units))
    )


def ordinal_table(
    judgments: Iterable[Judgment], task: str, key: str
) -> tuple[list[str], list[tuple[Unit, str]], np.ndarray]:
    """Coders x (unit, response) matrix of ``key`` values for a per-response task."""
    cells: dict[tuple[Unit, str], dict[str, float]] = defaultdict(dict)
    for j in judgments:
        if j.task != task:
            continue
        for entry in j.payload.get("responses", []):
            value = entry.get(key)
            if value is not None:
                cells[((j.item_key, j.item_version), entry["rid"])][j.annotator] = float(value)
    coders = sorted({a for by in cells.values() for a in by})
    columns = sorted(cells)
    data = np.full((len(coders), len(columns)), np.nan)
    for c, col in enumerate(columns):
        for a, v in cells[col].items():
            data[coders.index(a), c] = v
    return coders, columns, data


def _ordinal_specs(judgments: Sequence[Judgment]) -> list[tuple[str, str, str, list[int] | None]]:
    """(figure name, task, payload key, value domain or None for ranks)."""
    specs = [("rating", vocab.RANK, "rating", list(range(vocab.RATING_MIN, vocab.RATING_MAX + 1)))]
    specs.append(("rank", vocab.RANK, "rank", None))
    for key, _, _ in vocab.RUBRIC_CRITERIA:
        specs.append((key, vocab.RUBRIC, key, list(range(vocab.RUBRIC_MIN, vocab.RUBRIC_MAX + 1))))
    tasks = {j.task for j in judgments}
    return [s for s in specs if s[1] in tasks]


def compute_agreement(judgments: Sequence[Judgment]) -> Report:
    """Overall and per-item agreement for every task that has judgments."""
    report = Report()
    if any(j.task == vocab.CLASSIFY for j in judgments):
        for name, by_unit in classification_labels(judgments).items():
            report.overall.append(categorical_figure(name, by_unit))
            for unit, labels in by_unit.items():
                report.per_item.setdefault(unit, {})[name] = pairwise_agreement(list(labels.values()))
    for name, task, key, domain in _ordinal_specs(judgments):
        coders, columns, data = ordinal_table(judgments, task, key)
        dom = domain or list(range(1, int(np.nanmax(data)) + 1 if data.size else 2))
        value = alpha_ordinal(data, dom)
        pairable = (~np.isnan(data)).sum(axis=0) >= 2 if data.size else np.zeros(0, dtype=bool)
        n_units = int(pairable.sum())
        note = "" if value is not None else "nothing to compare or no variation: alpha is undefined"
        by_unit: dict[Unit, list[int]] = defaultdict(list)
        for c, (unit, _rid) in enumerate(columns):
            by_unit[unit].append(c)
        groups = [coincidences(data[:, cols], dom) for cols in by_unit.values() if pairable[cols].any()]
        lo, hi = bootstrap_interval(lambda sample: alpha_from_coincidences(np.sum(sample, axis=0)), groups)
        report.overall.append(
            Figure(
                name,
                "Krippendorff's alpha (ordinal)",
                value,
                n_units,
                len(coders),
                note,
                len(groups),
                lo,
                hi,
                small_n_warning(len(groups)),
            )
        )
        for unit, cols in by_unit.items():
            report.per_item.setdefault(unit, {})[name] = alpha_ordinal(data[:, cols], dom)
    return report
