"""Model identity for cache keys: a content hash of the weight files, memoised.

Hashing half a gigabyte takes about a second, so the hash is remembered per
(path, size, mtime) in ``~/.cache/culturalign/weight-hashes.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from culturalign.io import atomic_write_text
from culturalign.paths import cache_home

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


def _memo_path() -> Path:
    return cache_home() / "weight-hashes.json"


def _file_hash(path: Path, memo: dict[str, str]) -> str:
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    if key not in memo:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
        memo[key] = h.hexdigest()
    return memo[key]


def weights_fingerprint(folder: str | Path) -> str | None:
    """A short hash over every weight file in a local folder; None for hub ids."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))
    if not files:
        return None
    memo_file = _memo_path()
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    before = len(memo)
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode())
        h.update(_file_hash(p, memo).encode())
    if len(memo) != before:
        with contextlib.suppress(OSError):
            atomic_write_text(memo_file, json.dumps(memo))
    return h.hexdigest()[:16]


def hub_revision(model_id: str) -> str | None:
    """The snapshot commit of a hub model already in the local HF cache, if any."""
    try:
        from huggingface_hub import scan_cache_dir

        for repo in scan_cache_dir().repos:
            if repo.repo_id == model_id:
                revs = sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)
                return revs[0].commit_hash if revs else None
    except Exception:
        return None
    return None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
