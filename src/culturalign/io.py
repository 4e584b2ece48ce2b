"""Reading and writing record files: JSONL first, with located errors.

Writers are append-friendly (results are written as they arrive, so a killed run
keeps what it paid for) and ``atomic_write_text`` replaces whole files safely.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from culturalign.errors import DataError, Problem, Problems

M = TypeVar("M", bound=BaseModel)


def read_text_utf8(path: Path) -> str:
    """Read a file as UTF-8, reporting the byte offset and line of the first bad byte."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder; a file was expected here" if path.is_dir() else "no such file"
        raise DataError([Problem(str(path), None, None, what)])
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            [
                Problem(
                    str(path),
                    line,
                    None,
                    f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                )
            ]
        ) from None


def jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of JSONL text, split on ``\n`` only (a ``\r`` before it is dropped).

    ``str.splitlines`` also breaks at U+2028, U+2029, U+0085, \x1c-\x1e and more, which
    JSON allows raw inside strings and which our own writer (and scraped web text) puts
    there; splitting on them would cut a record in half."""
    for lineno, line in enumerate(text.split("\n"), start=1):
        yield lineno, line.removesuffix("\r")


MAX_NESTING = 200
TOO_DEEP = f"nested more than {MAX_NESTING} levels deep (no record of ours nests like this)"


def deep_nesting_line(text: str, limit: int = MAX_NESTING) -> int | None:
    """1-based line where JSON brackets first nest deeper than ``limit`` (strings skipped),
    so a file Python's parser gives up on is still reported at a line."""
    depth, line, in_string, escaped = 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        elif in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth -= 1
    return None


def jsonl_object(lineno: int, line: str, problems: Problems) -> dict[str, Any] | None:
    """One JSONL line as an object, or None with the reason added to ``problems`` (the
    one place every JSONL reader, whole-file or streamed, turns a line into a record)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.add(lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return None
    except RecursionError:  # the parser gave up; the line is known, so say where
        problems.add(lineno, None, f"invalid JSON: {TOO_DEEP}")
        return None
    if not isinstance(obj, dict):
        kind = "list" if isinstance(obj, list) else type(obj).__name__
        problems.add(lineno, None, f"expected a JSON object, found {kind}")
        return None
    return obj


def jsonl_objects(text: str, problems: Problems) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; bad lines go to ``problems``."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in jsonl_lines(text):
        if line.strip() and (obj := jsonl_object(lineno, line, problems)) is not None:
            rows.append((lineno, obj))
    return rows


def read_json_object(path: Path, what: str = "a JSON object") -> dict[str, Any]:
    """One JSON file that must hold an object (a run's ``summary.json``, ``run.json``...).

    Files a stage wrote can still be truncated by a full disk, edited by hand or replaced;
    skipping one would drop a run from a report unseen, and a traceback names no file, so
    every way it can be wrong is a located ``DataError``."""
    path = Path(path)
    text = read_text_utf8(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            [Problem(str(path), exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")]
        ) from None
    except RecursionError:
        raise DataError(
            [Problem(str(path), deep_nesting_line(text), None, f"invalid JSON: {TOO_DEEP}")]
        ) from None
    if not isinstance(obj, dict):
        kind = "list" if isinstance(obj, list) else "null" if obj is None else type(obj).__name__
        raise DataError([Problem(str(path), None, None, f"expected {what}, found {kind}")])
    return obj


def read_json_model(path: Path, model: type[M]) -> M:
    """``read_json_object`` validated as ``model``: each wrong field a located problem."""
    obj = read_json_object(path, f"a JSON object ({model.__name__})")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        problems = Problems(path)
        pydantic_problems(problems, None, exc)
        raise DataError(problems.items) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; collect every bad line."""
    problems = Problems(path)
    rows = jsonl_objects(read_text_utf8(path), problems)
    problems.raise_if_any()
    yield from rows


def describe_validation_error(err: dict[str, Any]) -> tuple[str | None, str]:
    """(dotted field path, plain message) for one pydantic error."""
    loc = ".".join(str(p) for p in err["loc"]) or None
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        msg = "unexpected field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return loc, msg


def pydantic_problems(problems: Problems, where: str | int | None, exc: ValidationError) -> None:
    """Turn a pydantic error into located problems, one per field."""
    for err in exc.errors():
        problems.add(where, *describe_validation_error(err))


def read_records(path: Path, model: type[M]) -> list[M]:
    """Read a JSONL file of ``model`` records, reporting every problem with its line."""
    path = Path(path)
    problems = Problems(path)
    out: list[M] = []
    for lineno, obj in iter_jsonl(path):
        try:
            out.append(model.model_validate(obj))
        except ValidationError as exc:
            pydantic_problems(problems, lineno, exc)
    problems.raise_if_any()
    return out


def write_records(path: Path, records: Iterable[BaseModel]) -> int:
    """Write records as JSONL atomically; returns the count."""
    lines = [r.model_dump_json(exclude_none=False) for r in records]
    atomic_write_text(Path(path), "".join(line + "\n" for line in lines))
    return len(lines)


class JsonlAppender:
    """Append records one at a time, each flushed to the OS so a killed process loses
    nothing written; ``fsync=True`` also survives a machine crash, at a cost per record
    (skip it where the records can be rebuilt, e.g. from the call cache).

    The file is opened by the first ``write``, not before: a run that stops before its
    first result (a rejected API key, a bad input found late) leaves no empty salvage
    file behind. ``opened`` tells a caller whether anything was written at all."""

    def __init__(self, path: Path, *, fsync: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._fh: TextIO | None = None

    @property
    def opened(self) -> bool:
        return self._fh is not None

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        line = (
            record.model_dump_json()
            if isinstance(record, BaseModel)
            else json.dumps(record, ensure_ascii=False)
        )
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(line + "\n")
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    if path.is_dir():  # else os.replace would name its temporary file in the error
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # name the file the user asked for, not our temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        # mkstemp creates owner-only files; results are meant to be shared like any file
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(Path(path), json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def fingerprint_file(path: Path) -> str:
    """SHA-256 of a file's bytes (data fingerprints in run logs and training outputs)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stable_hash(obj: Any) -> str:
    """SHA-256 of a canonical JSON rendering (sorted keys): cache keys and config hashes."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
