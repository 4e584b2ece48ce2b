"""Rows of a training-data file, each with where it came from, before any format is decided.

JSONL, a JSON list (or a ``{split: [...]}`` object), Parquet, CSV, plain text (one row per
paragraph) or a folder written by ``datasets``' ``save_to_disk``. ``train.data`` decides
what the rows are; this module only reads them and locates problems.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError, DataError, Problems
from culturalign.io import iter_jsonl, read_text_utf8

_SPLITS = ("train", "train_prefs", "train_sft")


def read_rows(path: str | Path, split: str | None = None) -> list[tuple[str | int, dict[str, Any]]]:
    """(location, row) for every row of a data file, ``save_to_disk`` folder or hub split
    (``hf:OWNER/NAME[:CONFIG][@SPLIT]``)."""
    from culturalign.datasets import hub

    if hub.is_hub_spec(str(path)):
        return hub.load_rows(str(path))
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: data file not found")
    if path.is_dir():
        return _read_dataset_dir(path, split)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return list(iter_jsonl(path))
    if suffix == ".json":
        text = read_text_utf8(path)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(one_problem(path, exc.lineno, f"invalid JSON: {exc.msg}")) from None
        if isinstance(obj, dict):
            obj = obj.get(split or "train", obj.get("data"))
        if not isinstance(obj, list):
            raise DataError(one_problem(path, None, "expected a list of objects (or JSONL)"))
        problems = Problems(path)
        for i, row in enumerate(obj):
            if not isinstance(row, dict):
                problems.add(f"item {i}", None, f"expected a JSON object, found {type(row).__name__}")
        problems.raise_if_any()
        return [(f"item {i}", row) for i, row in enumerate(obj)]
    if suffix in (".parquet", ".csv"):
        return _read_table(path, suffix)
    if suffix in (".txt", ".md"):
        return _paragraphs(path)
    raise ConfigError(
        f"{path}: unsupported data file type {suffix!r}; use .jsonl, .json, .parquet, .csv or .txt"
    )


def _paragraphs(path: Path) -> list[tuple[str | int, dict[str, Any]]]:
    """A plain-text file as ``text`` rows, one per paragraph (blank-line separated), each
    located by the line it starts on: knowledge paragraphs for continued pre-training."""
    rows: list[tuple[str | int, dict[str, Any]]] = []
    start, lines = 0, []
    for n, line in enumerate([*read_text_utf8(path).splitlines(), ""], start=1):
        if line.strip():
            start, lines = (start or n), [*lines, line.strip()]
        elif lines:
            rows.append((start, {"text": " ".join(lines)}))
            start, lines = 0, []
    return rows


def _read_table(path: Path, suffix: str) -> list[tuple[str | int, dict[str, Any]]]:
    from datasets import Dataset

    if suffix == ".csv":
        read_text_utf8(path)  # a bad byte is reported with its line, not as a datasets failure
        with path.open(encoding="utf-8-sig") as fh:
            if sum(1 for line in fh if line.strip()) <= 1:
                return []  # a header and no rows (datasets refuses to build an empty split)
    try:
        ds = Dataset.from_parquet(str(path)) if suffix == ".parquet" else Dataset.from_csv(str(path))
    except Exception as exc:  # pyarrow and datasets raise many types for a file they cannot parse
        cause = exc.__cause__ or exc
        raise DataError(
            one_problem(path, None, f"cannot read as {suffix[1:]}: {type(cause).__name__}: {cause}")
        ) from None
    return [(f"row {i + 1}", dict(row)) for i, row in enumerate(ds)]


def one_problem(path: Path, where: Any, msg: str) -> list:
    p = Problems(path)
    p.add(where, None, msg)
    return p.items


def _read_dataset_dir(path: Path, split: str | None) -> list[tuple[str | int, dict[str, Any]]]:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        ds = load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as exc:
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".json", ".parquet"))
        if files:
            return [row for f in files for row in read_rows(f, split)]
        raise ConfigError(f"{path}: not a dataset folder or a folder of data files ({exc})") from None
    if isinstance(ds, DatasetDict):
        name = split or next((s for s in _SPLITS if s in ds), None)
        if name is None or name not in ds:
            raise ConfigError(f"{path}: choose a split with `split` (found {', '.join(ds)})")
        ds = ds[name]
    assert isinstance(ds, Dataset)
    return [(f"row {i + 1}", dict(row)) for i, row in enumerate(ds)]
