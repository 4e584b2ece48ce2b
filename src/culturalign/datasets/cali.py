"""Culturally Aware NLI (CALI): premise/hypothesis pairs labelled by annotators in the
United States and in India (paper 003 §5.2.3).

``data.tsv`` has the header ``premise hypothesis us_ratings in_ratings``; each ratings
cell is a Python-style list of five labels from ``E``, ``N``, ``C``. Some sentences hold
quote characters, so the file must be split on tabs with quoting turned off: a CSV
reader with default quoting silently merges about 30 lines into their neighbours.

The published file has one pair with an empty hypothesis (line 584) that was labelled
anyway; it is kept as published (``describe`` counts such pairs).

Each data line becomes one ``NLIItem`` with ``labels = {"United States": [...],
"India": [...]}``; ids are ``cali-<line number>`` so they point back into the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from culturalign.errors import Problems
from culturalign.io import pydantic_problems, read_text_utf8
from culturalign.records import NLIItem

NAME = "cali"
DESCRIPTION = "CALI (culturally aware NLI): TSV with premise, hypothesis, us_ratings, in_ratings"

HEADER = ("premise", "hypothesis", "us_ratings", "in_ratings")
CULTURES = {"us_ratings": "United States", "in_ratings": "India"}
LABELS = ("E", "N", "C")
_LABEL_LIST = re.compile(r"^\[\s*(.*?)\s*\]$")
_ONE_LABEL = re.compile(r"^['\"]?\s*([A-Za-z]+)\s*['\"]?$")


def _header(line: str) -> list[str]:
    return [c.strip().lower() for c in line.rstrip("\r\n").split("\t")]


def sniff(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".tsv", ".txt", ".csv"):
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            first = fh.readline().lstrip("\ufeff")
    except OSError:
        return False
    cols = _header(first)
    return "premise" in cols and "hypothesis" in cols and ("us_ratings" in cols or "in_ratings" in cols)


def parse_labels(cell: str) -> list[str]:
    """``"['E', 'N', 'C']"`` → ``["E", "N", "C"]``; raises ValueError on anything else."""
    m = _LABEL_LIST.match(cell.strip())
    if not m:
        raise ValueError(f"expected a list like ['E', 'N', 'C'], found {cell.strip()[:40]!r}")
    inner = m.group(1)
    if not inner:
        return []
    out = []
    for part in inner.split(","):
        one = _ONE_LABEL.match(part.strip())
        label = one.group(1).upper() if one else None
        if label not in LABELS:
            raise ValueError(f"unknown label {part.strip()!r}; labels are E, N and C")
        out.append(label)
    return out


def load(path: Path) -> list[NLIItem]:
    path = Path(path)
    problems = Problems(path)
    lines = read_text_utf8(path).splitlines()
    if not lines:
        problems.add(None, None, "the file is empty")
        problems.raise_if_any()
    cols = _header(lines[0])
    missing = [h for h in ("premise", "hypothesis") if h not in cols]
    ratings = [c for c in CULTURES if c in cols]
    if missing or not ratings:
        need = missing + ([] if ratings else ["us_ratings or in_ratings"])
        problems.add(1, None, f"header lacks {', '.join(need)}; expected: {' '.join(HEADER)} (tab-separated)")
        problems.raise_if_any()
    items: list[NLIItem] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(cols):
            problems.add(lineno, None, f"has {len(cells)} tab-separated fields; the header has {len(cols)}")
            continue
        row = dict(zip(cols, cells, strict=True))
        labels: dict[str, list[str]] = {}
        bad = False
        for col in ratings:
            try:
                labels[CULTURES[col]] = parse_labels(row[col])
            except ValueError as exc:
                problems.add(lineno, col, str(exc))
                bad = True
        if bad:
            continue
        try:
            items.append(
                NLIItem(
                    id=f"cali-{lineno}",
                    premise=row["premise"].strip(),
                    hypothesis=row["hypothesis"].strip(),
                    labels=labels,
                    source="cali",
                )
            )
        except ValidationError as exc:
            pydantic_problems(problems, lineno, exc)
            continue
    if not items and not problems:
        problems.add(None, None, "the file holds no pairs")
    problems.raise_if_any()
    return items


def describe(path: Path) -> str:
    """One line on what the file holds (pairs, ties per culture, empty sentences)."""
    items = load(path)
    cultures = sorted({c for i in items for c in i.labels})
    ties = ", ".join(f"{c}: {sum(i.gold(c) is None for i in items)}" for c in cultures)
    empty = sum(1 for i in items if not i.premise or not i.hypothesis)
    counts = [len(v) for i in items for v in i.labels.values()]
    return (
        f"{len(items)} premise-hypothesis pairs labelled in {', '.join(cultures)} "
        f"({min(counts, default=0)}-{max(counts, default=0)} labels per culture, mostly 5); "
        f"pairs without a majority label ({ties}); {empty} with an empty sentence (kept)"
    )
