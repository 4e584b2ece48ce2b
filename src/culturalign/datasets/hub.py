"""Datasets from the Hugging Face hub, and folders written by ``datasets.save_to_disk``.

A hub id is written ``hf:OWNER/NAME[:CONFIG][@SPLIT]`` (split defaults to ``train``),
e.g. ``hf:geyang627/CARE:chinese``. It is loaded through ``datasets.load_dataset`` only
when asked, never at import time; when the hub cannot be reached (no network, or
``HF_DATASETS_OFFLINE=1``) the error says so and suggests passing local files instead.

Rows are turned into records by their columns: CARE preference rows
(question/response/rating), CARE test rows (question/answer/culture_type), or any of our
own record types (as ``data convert --to hf`` writes them, with a ``culturalign.json``
note naming the record type).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from culturalign.datasets import care, care_prefs, jsonl
from culturalign.datasets.rows import Row, drop_nested_nones
from culturalign.errors import CulturalignError, DataError, MissingDependency, Problem, Problems
from culturalign.io import stable_hash

NAME = "hub"
DESCRIPTION = "a Hugging Face hub dataset (hf:OWNER/NAME[:CONFIG][@SPLIT]) or a save_to_disk folder"
SIDECAR = "culturalign.json"

_SPEC = re.compile(
    r"^(?:hf|hub):(?P<id>[\w.\-]+(?:/[\w.\-]+)?)(?::(?P<config>[\w.\-]+))?(?:@(?P<split>[\w.\-]+))?$"
)


def is_hub_spec(text: str) -> bool:
    return str(text).startswith(("hf:", "hub:"))


def parse_spec(spec: str) -> tuple[str, str | None, str]:
    m = _SPEC.match(spec.strip())
    if not m:
        raise CulturalignError(
            f"{spec!r} is not a hub dataset id; write hf:OWNER/NAME[:CONFIG][@SPLIT], e.g. hf:geyang627/CARE:chinese"
        )
    return m.group("id"), m.group("config"), m.group("split") or "train"


def is_saved_folder(path: Path) -> bool:
    path = Path(path)
    return path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file())


def sniff(path: Path) -> bool:
    return is_saved_folder(Path(path))


def _datasets():
    try:
        import datasets
    except ImportError:
        raise MissingDependency("datasets", extra="hub", why="to read hub datasets") from None
    return datasets


def load(path: str | Path) -> list[Any]:
    """A hub id (``hf:...``) or a saved folder → records."""
    if is_hub_spec(str(path)):
        return load_hub(str(path))
    return load_saved(Path(path))


def load_hub(spec: str) -> list[Any]:
    dataset_id, _, _ = parse_spec(spec)
    rows = [Row(loc, row) for loc, row in load_rows(spec)]
    return rows_to_records(rows, spec, source=dataset_id)


def load_rows(spec: str) -> list[tuple[str, dict[str, Any]]]:
    """(location, row) for every row of a hub split, as ``train`` reads its data files."""
    return [(f"row {i + 1}", dict(r)) for i, r in enumerate(_load_dataset(spec.strip()))]


def fingerprint(spec: str) -> str:
    """A SHA-256 over a hub split's rows: the data hash a run log and a card record, the
    same whether the rows came from the network or the local cache."""
    return stable_hash([row for _, row in load_rows(spec)])


@functools.lru_cache(maxsize=8)
def _load_dataset(spec: str) -> Any:
    """One load per spec per process: ``train`` reads its data several times (its kind,
    its rows, its fingerprint), and each ``load_dataset`` call re-resolves the cache."""
    dataset_id, config, split = parse_spec(spec)
    datasets = _datasets()
    try:
        return datasets.load_dataset(dataset_id, config, split=split)
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]
        raise CulturalignError(
            f"could not load {dataset_id!r}"
            + (f" (config {config!r})" if config else "")
            + f" from the Hugging Face hub: {type(exc).__name__}: {reason}. "
            "If this machine is offline (or HF_DATASETS_OFFLINE=1), download the dataset where the "
            "network allows and pass the local file or folder instead."
        ) from None


def load_saved(path: Path) -> list[Any]:
    datasets = _datasets()
    datasets.disable_progress_bars()
    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DataError([Problem(str(path), None, None, f"not a readable saved dataset ({exc})")]) from None
    if isinstance(ds, datasets.DatasetDict):
        if "train" not in ds:
            raise DataError(
                [Problem(str(path), None, None, f"holds splits {sorted(ds)}; none is called 'train'")]
            )
        ds = ds["train"]
    record_type = None
    note = path / SIDECAR
    if note.is_file():
        record_type = json.loads(note.read_text(encoding="utf-8")).get("record_type")
    rows = [Row(f"row {i}", drop_nested_nones(dict(r))) for i, r in enumerate(ds)]
    return rows_to_records(rows, str(path), record_type=record_type)


def rows_to_records(
    rows: list[Row], label: str, *, source: str | None = None, record_type: str | None = None
) -> list[Any]:
    """Pick the shape from the columns of the first row, then parse every row."""
    problems = Problems(label)
    if not rows:
        raise DataError([Problem(label, None, None, "the dataset holds no rows")])
    keys = set(rows[0].data)
    if (
        record_type is None
        and "question" in keys
        and "response" in keys
        and keys & set(care_prefs.RATING_FIELDS)
    ):
        return care_prefs.rows_to_questions(rows, Path(label), problems, source=source)
    if record_type is None and {"question", "answer"} <= keys and keys & {"culture_type", "cul_type"}:
        return care.rows_to_questions(rows, Path(label), problems, source=source)
    model = None
    if record_type is not None:
        model = next((m for m, _ in jsonl.SIGNATURES if m.__name__ == record_type), None)
    model = model or jsonl.record_type(keys)
    if model is None:
        raise DataError(
            [
                Problem(
                    label,
                    None,
                    None,
                    f"columns {sorted(keys)} match no known shape (CARE or culturalign records)",
                )
            ]
        )
    return jsonl.validate_rows(rows, model, problems)
