"""World Values Survey wave 7 answer shares by country, as prepared for CultureSPA.

A folder holds two files:

* ``wvs_questions.json``: a list of ``{Q_id, question, option_lst}``;
* ``proportions_group_by_country.json``: ``{country code: {Q_id: {option number: share}}}``.

Each question with answer shares becomes one ``ChoiceItem(kind="opinion")`` whose
``target_distributions`` map a country name to shares over the options: the same shape
of task as GlobalOpinionQA (paper 002 §4.1, paper 003 §5.2).

Quirks of the published files, handled here:

* Option numbers are the survey's answer codes. Most questions count from 1, but some
  (membership Q94-Q105, agreement Q119 and Q122-Q129, the 0-10 scales Q241-Q249) count
  from 0. A question counts from 0 when any country reports a share for option ``0``.
* A country that never chose an option has no entry for it: that share is 0.
* Shares exclude non-response (don't know, refused), so they sum to less than 1 (as low
  as 0.23). They are **renormalised over the listed options**, so each distribution is
  "among those who answered"; ``describe`` counts how many needed it.
* Some questions have no options (year of birth, household size) or no shares in any
  country; they cannot be scored and are left out (``describe`` counts them). An empty
  share table for one country leaves that country out of that question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from culturalign.errors import DataError, Problems
from culturalign.io import pydantic_problems, read_text_utf8
from culturalign.records import ChoiceItem

NAME = "wvs"
DESCRIPTION = (
    "World Values Survey answer shares by country (CultureSPA layout): a folder with "
    "wvs_questions.json and proportions_group_by_country.json"
)

QUESTIONS_FILE = "wvs_questions.json"
SHARES_FILE = "proportions_group_by_country.json"

# ISO 3166 alpha-3 codes used by the survey → the names a prompt says and a report shows.
COUNTRY_NAMES = {
    "AND": "Andorra",
    "ARG": "Argentina",
    "ARM": "Armenia",
    "AUS": "Australia",
    "BGD": "Bangladesh",
    "BOL": "Bolivia",
    "BRA": "Brazil",
    "CAN": "Canada",
    "CHL": "Chile",
    "CHN": "China",
    "COL": "Colombia",
    "CYP": "Cyprus",
    "CZE": "Czechia",
    "DEU": "Germany",
    "ECU": "Ecuador",
    "EGY": "Egypt",
    "ETH": "Ethiopia",
    "GBR": "Great Britain",
    "GRC": "Greece",
    "GTM": "Guatemala",
    "HKG": "Hong Kong",
    "IDN": "Indonesia",
    "IND": "India",
    "IRN": "Iran",
    "IRQ": "Iraq",
    "JOR": "Jordan",
    "JPN": "Japan",
    "KAZ": "Kazakhstan",
    "KEN": "Kenya",
    "KGZ": "Kyrgyzstan",
    "KOR": "South Korea",
    "LBN": "Lebanon",
    "LBY": "Libya",
    "MAC": "Macau",
    "MAR": "Morocco",
    "MDV": "Maldives",
    "MEX": "Mexico",
    "MMR": "Myanmar",
    "MNG": "Mongolia",
    "MYS": "Malaysia",
    "NGA": "Nigeria",
    "NIC": "Nicaragua",
    "NLD": "Netherlands",
    "NZL": "New Zealand",
    "PAK": "Pakistan",
    "PER": "Peru",
    "PHL": "Philippines",
    "PRI": "Puerto Rico",
    "ROU": "Romania",
    "RUS": "Russia",
    "SGP": "Singapore",
    "SRB": "Serbia",
    "SVK": "Slovakia",
    "THA": "Thailand",
    "TJK": "Tajikistan",
    "TUN": "Tunisia",
    "TUR": "Turkey",
    "TWN": "Taiwan",
    "UKR": "Ukraine",
    "USA": "United States",
    "VEN": "Venezuela",
    "VNM": "Vietnam",
    "ZWE": "Zimbabwe",
}


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code.upper(), code)


@dataclass
class WVSReport:
    """What loading found, for ``data validate`` and run logs."""

    questions: int = 0
    countries: list[str] = field(default_factory=list)
    items: int = 0
    distributions: int = 0
    renormalised: int = 0
    lowest_answered_share: float = 1.0
    without_options: list[str] = field(default_factory=list)
    without_shares: list[str] = field(default_factory=list)
    empty_country_tables: int = 0

    def line(self) -> str:
        return (
            f"{self.questions} questions over {len(self.countries)} countries: {self.items} with answer "
            f"shares ({self.distributions} question-country distributions, {self.renormalised} renormalised "
            f"over the listed options because non-response is excluded; lowest answered share "
            f"{self.lowest_answered_share:.2f}); left out: {len(self.without_options)} without options, "
            f"{len(self.without_shares)} without shares in any country"
        )


def _folder(path: Path) -> Path:
    path = Path(path)
    return path if path.is_dir() else path.parent


def sniff(path: Path) -> bool:
    path = Path(path)
    if path.is_file() and path.name not in (QUESTIONS_FILE, SHARES_FILE):
        return False
    folder = _folder(path)
    return (folder / QUESTIONS_FILE).is_file() and (folder / SHARES_FILE).is_file()


def load(path: Path) -> list[ChoiceItem]:
    return load_with_report(path)[0]


def describe(path: Path) -> str:
    """One line on what the folder holds, e.g. ``291 questions over 19 countries: ...``."""
    return load_with_report(path)[1].line()


def _read_json(path: Path, problems: Problems) -> Any:
    if not path.is_file():
        problems.add(None, None, "missing (the WVS layout needs both files in one folder)")
        return None
    try:
        return json.loads(read_text_utf8(path))
    except json.JSONDecodeError as exc:
        problems.add(exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return None


def _raise_if_any(*groups: Problems) -> None:
    found = [p for g in groups for p in g.items]
    if found:
        raise DataError(found)


def load_with_report(path: Path) -> tuple[list[ChoiceItem], WVSReport]:
    """The items and a report of what was renormalised or left out."""
    folder = _folder(path)
    qprob, sprob = Problems(folder / QUESTIONS_FILE), Problems(folder / SHARES_FILE)
    questions = _read_json(folder / QUESTIONS_FILE, qprob)
    shares = _read_json(folder / SHARES_FILE, sprob)
    _raise_if_any(qprob, sprob)
    qlist = _parse_questions(questions, qprob)
    if not isinstance(shares, dict):
        sprob.add(
            None,
            None,
            f"expected an object mapping country codes to question tables, found {type(shares).__name__}",
        )
        _raise_if_any(qprob, sprob)
    report = WVSReport(questions=len(qlist), countries=sorted(shares))
    items = _build_items(qlist, shares, sprob, report)
    _raise_if_any(qprob, sprob)
    return items, report


def _parse_questions(data: Any, problems: Problems) -> list[tuple[str, str, list[str]]]:
    out: list[tuple[str, str, list[str]]] = []
    if not isinstance(data, list):
        problems.add(None, None, f"expected a JSON list of questions, found {type(data).__name__}")
        return out
    seen: set[str] = set()
    for i, q in enumerate(data):
        where = f"item {i}"
        if not isinstance(q, dict):
            problems.add(where, None, "expected an object with Q_id, question and option_lst")
            continue
        qid, text, options = q.get("Q_id"), q.get("question"), q.get("option_lst")
        if not isinstance(qid, str) or not qid.strip():
            problems.add(where, "Q_id", "required text is missing")
            continue
        if qid in seen:
            problems.add(where, "Q_id", f"duplicate question id {qid!r}")
            continue
        seen.add(qid)
        if not isinstance(text, str) or not text.strip():
            problems.add(where, "question", "required text is missing")
            continue
        if not isinstance(options, list) or not all(isinstance(o, str | int | float) for o in options):
            problems.add(where, "option_lst", "expected a list of option texts")
            continue
        out.append((qid, text.strip(), [str(o).strip() for o in options]))
    return out


def _build_items(
    questions: list[tuple[str, str, list[str]]],
    shares: dict[str, Any],
    problems: Problems,
    report: WVSReport,
) -> list[ChoiceItem]:
    by_question: dict[str, dict[str, dict[str, Any]]] = {}
    for code, table in shares.items():
        if not isinstance(table, dict):
            problems.add(code, None, "expected an object mapping question ids to option shares")
            continue
        for qid, dist in table.items():
            if not isinstance(dist, dict):
                problems.add(f"{code}/{qid}", None, "expected an object mapping option numbers to shares")
                continue
            by_question.setdefault(qid, {})[code] = dist
    known = {qid for qid, _, _ in questions}
    for qid in sorted(set(by_question) - known):
        problems.add(qid, None, f"shares for question {qid!r}, which {QUESTIONS_FILE} does not list")

    items: list[ChoiceItem] = []
    for qid, text, options in questions:
        tables = by_question.get(qid, {})
        if len(options) < 2:
            report.without_options.append(qid)
            continue
        if not any(tables.values()):
            report.without_shares.append(qid)
            continue
        zero_based = any("0" in d for d in tables.values())
        targets: dict[str, list[float]] = {}
        for code, dist in sorted(tables.items()):
            if not dist:
                report.empty_country_tables += 1
                continue
            vector = _vector(dist, len(options), zero_based, problems, f"{code}/{qid}")
            if vector is None:
                continue
            total = sum(vector)
            if total <= 0:
                report.empty_country_tables += 1
                continue
            report.distributions += 1
            report.lowest_answered_share = min(report.lowest_answered_share, total)
            if abs(total - 1.0) > 1e-9:
                report.renormalised += 1
            targets[country_name(code)] = [v / total for v in vector]
        if not targets:
            report.without_shares.append(qid)
            continue
        try:
            items.append(
                ChoiceItem(
                    id=qid,
                    question=text,
                    options=options,
                    target_distributions=targets,
                    source="wvs",
                    language="en",
                    kind="opinion",
                )
            )
        except ValidationError as exc:
            pydantic_problems(problems, qid, exc)
    report.items = len(items)
    return items


def _vector(
    dist: dict[str, Any], n: int, zero_based: bool, problems: Problems, where: str
) -> list[float] | None:
    vector = [0.0] * n
    ok = True
    for key, share in dist.items():
        try:
            number = int(str(key).strip())
        except ValueError:
            problems.add(where, f"option {key!r}", "option numbers must be whole numbers")
            ok = False
            continue
        index = number if zero_based else number - 1
        if not 0 <= index < n:
            first = 0 if zero_based else 1
            problems.add(
                where, f"option {key!r}", f"outside the {n} options (numbered from {first} for this question)"
            )
            ok = False
            continue
        if not isinstance(share, int | float) or isinstance(share, bool) or share < 0 or share != share:
            problems.add(where, f"option {key!r}", f"share must be a number ≥ 0, not {share!r}")
            ok = False
            continue
        vector[index] += float(share)
    return vector if ok else None
