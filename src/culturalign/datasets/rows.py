"""Rows of a table-shaped file (JSON list, JSONL, CSV/TSV, Parquet), each with its location.

Published datasets ship the same rows in many containers; loaders that only care about
the rows read them through ``read_rows`` and get back where each row came from, so every
later problem can be reported as ``PATH:LINE: field: message``:

* JSONL and CSV: the 1-based line where the row starts;
* a JSON list: ``item I (line L)``, with ``I`` counted from 0 as in ``data[I]``;
* Parquet: ``row I``, counted from 0.

Syntax problems (bad JSON, a CSV row with the wrong number of fields) are added to the
caller's ``Problems`` and reading goes on, so a user sees every problem in one pass.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturalign.errors import Problems
from culturalign.io import (  # the nesting bound lives with the JSONL reader; re-exported here
    MAX_NESTING,  # noqa: F401  (re-exported)
    TOO_DEEP,
    deep_nesting_line,
    jsonl_lines,
    jsonl_objects,
    read_text_utf8,
)

TABLE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet")


@dataclass(frozen=True)
class Row:
    where: str | int
    data: dict[str, Any]


def is_missing(value: Any) -> bool:
    """None, NaN (pandas' empty cell) and blank strings all mean "no value"."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def drop_nested_nones(row: dict[str, Any]) -> dict[str, Any]:
    """Arrow stores dicts with differing keys as one struct, filling absent keys with None;
    drop those again below the top level so records validate as they were written."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return {k: clean(v) for k, v in row.items()}


def container(path: Path) -> str:
    """``json`` | ``jsonl`` | ``csv`` | ``tsv`` | ``parquet`` from the file name."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".json", ".csv", ".tsv", ".parquet"):
        return suffix[1:]
    return "unknown"


def head_text(path: Path, limit: int = 65536) -> str:
    """The start of a file as text, for cheap sniffing (bad bytes replaced, never raises)."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(limit).decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError:
        return ""


def first_row_keys(path: Path) -> set[str] | None:
    """Field names of a table file from its header or first record, without reading it all."""
    path = Path(path)
    kind = container(path)
    if not path.is_file():
        return None
    if kind == "parquet":
        try:
            import pyarrow.parquet as pq

            return set(pq.read_schema(path).names)
        except Exception:
            return None
    head = head_text(path)
    if kind in ("csv", "tsv"):
        first = head.splitlines()[0] if head.strip() else ""
        delim = "\t" if kind == "tsv" else ","
        return {c.strip() for c in next(csv.reader([first], delimiter=delim), [])} or None
    if kind == "jsonl":
        for _, line in jsonl_lines(head):  # not splitlines: U+2028 inside a string is no line end
            if line.strip():
                try:
                    obj = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    return None
                return set(obj) if isinstance(obj, dict) else None
        return None
    if kind == "json":
        # the first object of a list: keys are quoted strings followed by a colon
        start = head.find("{")
        end = head.find("}", start)
        if start < 0:
            return None
        chunk = head[start : end if end > 0 else len(head)]
        return set(re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', chunk)) or None
    return None


def read_rows(path: Path, problems: Problems) -> list[Row]:
    """Every row of a table file, with syntax problems added to ``problems``."""
    path = Path(path)
    kind = container(path)
    if path.is_dir():
        problems.add(None, None, "is a folder; this format is read from a single file")
        return []
    if not path.is_file():
        problems.add(None, None, "no such file")
        return []
    if kind == "parquet":
        return _parquet_rows(path, problems)
    text = read_text_utf8(path)
    if not text.strip():
        problems.add(None, None, "the file is empty")
        return []
    if kind == "jsonl":
        rows = _jsonl_rows(text, problems)
    elif kind == "json":
        rows = _json_list_rows(text, problems)
    elif kind in ("csv", "tsv"):
        rows = _csv_rows(text, problems, delimiter="\t" if kind == "tsv" else ",")
    else:
        problems.add(
            None, None, f"cannot read {path.suffix or 'this'} files here; use one of {TABLE_SUFFIXES}"
        )
        return []
    if not rows and not problems:
        problems.add(None, None, "the file holds no records")
    return rows


def _jsonl_rows(text: str, problems: Problems) -> list[Row]:
    return [Row(lineno, obj) for lineno, obj in jsonl_objects(text, problems)]


def _json_list_rows(text: str, problems: Problems) -> list[Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return []
    except RecursionError:
        problems.add(deep_nesting_line(text), None, f"invalid JSON: {TOO_DEEP}")
        return []
    if not isinstance(data, list):
        problems.add(1, None, f"expected a JSON list of objects, found {_json_type(data)}")
        return []
    lines = _item_lines(text, len(data))
    rows = []
    for i, obj in enumerate(data):
        where = f"item {i} (line {lines[i]})" if i < len(lines) else f"item {i}"
        if not isinstance(obj, dict):
            problems.add(where, None, f"expected a JSON object, found {_json_type(obj)}")
            continue
        rows.append(Row(where, obj))
    return rows


def _item_lines(text: str, n: int) -> list[int]:
    """1-based line where each element of a top-level JSON list starts (text is valid JSON)."""
    decoder = json.JSONDecoder()
    out: list[int] = []
    idx = text.index("[") + 1
    line, counted_to = 1, 0
    length = len(text)
    while len(out) < n:
        while idx < length and text[idx] in " \t\r\n,":
            idx += 1
        if idx >= length or text[idx] == "]":
            break
        line += text.count("\n", counted_to, idx)
        counted_to = idx
        out.append(line)
        _, idx = decoder.raw_decode(text, idx)
    return out


def _csv_rows(text: str, problems: Problems, delimiter: str) -> list[Row]:
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        problems.add(1, None, f"cannot read the header: {exc}")
        return []
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.add(1, name, "column appears twice in the header")
        seen.add(name)
    rows = []
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(start, None, f"invalid {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}")
            start = reader.line_num + 1
            continue
        if values and any(v.strip() for v in values):
            if len(values) != len(header):
                problems.add(
                    start, None, f"expected {len(header)} fields as in the header, found {len(values)}"
                )
            else:
                rows.append(Row(start, dict(zip(header, values, strict=True))))
        start = reader.line_num + 1
    return rows


def _parquet_rows(path: Path, problems: Problems) -> list[Row]:
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    except Exception as exc:
        problems.add(None, None, f"not a readable Parquet file ({type(exc).__name__}: {exc})")
        return []
    records = table.to_pylist()
    if not records:
        problems.add(None, None, "the file holds no records")
    return [Row(f"row {i}", rec) for i, rec in enumerate(records)]


def _json_type(obj: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(obj), type(obj).__name__)
