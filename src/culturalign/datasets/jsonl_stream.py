"""Our JSONL record files read one line at a time, for runs that keep only a few records.

``datasets.jsonl.load`` reads a whole file into memory (a 200 MB file became 1.5 GB of
records for ``generate --limit 2``). This reader yields each validated record as its line
is read, so a sampler that keeps a bounded number of them runs in bounded memory. Every
bad line is still reported, all together and located, once the file has been read; ids
are not checked for uniqueness here (that needs every id in memory; ``data validate``
does it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ValidationError

from culturalign.errors import DataError, Problem, Problems
from culturalign.io import describe_validation_error, jsonl_object


def iter_records(path: str | Path) -> Iterator[BaseModel]:
    """Each record of a JSONL file of one record type, as its line is read."""
    from culturalign.datasets.jsonl import record_type

    path = Path(path)
    if not path.is_file():
        what = "is a folder; a file was expected here" if path.is_dir() else "no such file"
        raise DataError([Problem(str(path), None, None, what)])
    problems = Problems(path)
    model: type[BaseModel] | None = None
    seen_any = False
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                problems.add(lineno, None, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} in this line)")
                continue
            if not line.strip():
                continue
            obj = jsonl_object(lineno, line, problems)
            if obj is None:
                continue
            if model is None:
                if seen_any:
                    continue  # the first record already said it cannot be typed
                seen_any = True
                model = record_type(set(obj))
                if model is None:
                    problems.add(
                        lineno,
                        None,
                        "cannot tell which record type this is from its fields "
                        f"({', '.join(sorted(obj)) or 'none'})",
                    )
                    continue
            try:
                yield model.model_validate(obj)
            except ValidationError as exc:
                for err in exc.errors():
                    loc, msg = describe_validation_error(err)
                    problems.add(lineno, loc, msg)
    if not seen_any and not problems:
        problems.add(None, None, "the file holds no records")
    problems.raise_if_any()
