"""Write loaded records as our JSONL, a ``datasets`` folder, or Parquet.

JSONL is what every later stage reads. The ``hf`` folder is what ``datasets.load_from_disk``
(and so TRL's trainers) read; a ``culturalign.json`` note beside it names the record type
so ``data validate DIR`` reads it back as the same records. Parquet is for anyone else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturalign.datasets.hub import SIDECAR
from culturalign.errors import ConfigError, MissingDependency
from culturalign.io import write_json, write_records

TARGETS = ("jsonl", "hf", "parquet")


def convert(records: list[Any], to: str, out_dir: str | Path, *, name: str = "data") -> Path:
    """Write ``records`` under ``out_dir``; returns the file or folder written."""
    if to not in TARGETS:
        raise ConfigError(f"--to must be one of {', '.join(TARGETS)}, not {to!r}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    record_type = type(records[0]).__name__ if records else None
    if to == "jsonl":
        target = out_dir / f"{name}.jsonl"
        write_records(target, records)
        return target
    rows = [r.model_dump(mode="json") for r in records]
    try:
        import datasets
    except ImportError:
        raise MissingDependency("datasets", extra="hub", why=f"to write --to {to}") from None
    datasets.disable_progress_bars()
    ds = datasets.Dataset.from_list(rows)
    if to == "parquet":
        target = out_dir / f"{name}.parquet"
        ds.to_parquet(str(target))
        return target
    ds.save_to_disk(str(out_dir))
    write_json(out_dir / SIDECAR, {"record_type": record_type, "records": len(records)})
    return out_dir
