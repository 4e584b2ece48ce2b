"""Model identity for cache keys: a content hash of the weight files, memoised, or for
a hub model the commit it is loaded at.

Hashing half a gigabyte takes about a second, so the hash is remembered per
(path, size, mtime) in ``~/.cache/culturalign/weight-hashes.json``. A hub id has no
local folder to hash before its first download, so it is named by its commit
(``resolve_hub_revision``), which is known before and after.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
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


_COMMIT = re.compile(r"[0-9a-f]{40}")


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder, read from the environment at call time (the
    ``huggingface_hub`` constant is fixed at import, before a test or user sets HF_HOME)."""
    env = os.environ
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(name):
            return Path(env[name]).expanduser()
    home = env.get("HF_HOME") or str(
        Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    )
    return Path(home).expanduser() / "hub"


def hub_revision(model_id: str, revision: str = "main") -> str | None:
    """The commit ``revision`` names for a hub model in the local HF cache, if downloaded.

    One small file read (``models--OWNER--NAME/refs/REVISION``), never a scan of the cache;
    a full commit hash is its own answer."""
    if _COMMIT.fullmatch(revision):
        return revision
    ref = hub_cache_dir() / f"models--{model_id.replace('/', '--')}" / "refs" / revision
    try:
        sha = ref.read_text().strip()
    except OSError:
        return None
    return sha if _COMMIT.fullmatch(sha) else None


def _revisions_memo() -> Path:
    return cache_home() / "hub-revisions.json"


def resolve_hub_revision(model_id: str, revision: str | None = None) -> str | None:
    """The commit a hub model's ``revision`` (default ``main``) stands for, the same before
    and after its first download, so cache keys made before it match those made after.

    Looked up, in order: the local HF cache's ref (what an offline load would use); our own
    note of an earlier answer (a download pinned to a commit writes no ref); the hub
    itself, once, unless HF_HUB_OFFLINE is set. The caller loads exactly this commit, so
    the identity names the weights that produced the outputs. None when nothing answers
    (offline and never downloaded: the load will fail too)."""
    rev = revision or "main"
    seen = (str(hub_cache_dir()), model_id, rev)
    if seen in _RESOLVED:  # one answer per process: building many LMs reads no more files
        return _RESOLVED[seen]
    sha = _resolve_hub_revision(model_id, rev)
    if sha is not None:
        _RESOLVED[seen] = sha
    return sha


_RESOLVED: dict[tuple[str, str, str], str] = {}


def _resolve_hub_revision(model_id: str, rev: str) -> str | None:
    local = hub_revision(model_id, rev)
    if local is not None:
        return local
    key = f"{model_id}@{rev}"
    try:
        memo = json.loads(_revisions_memo().read_text())
    except (OSError, ValueError):
        memo = {}
    if isinstance(memo.get(key), str) and _COMMIT.fullmatch(memo[key]):
        return memo[key]
    if env_flag("HF_HUB_OFFLINE"):
        return None
    try:
        from huggingface_hub import HfApi

        sha = HfApi().model_info(model_id, revision=rev, timeout=15).sha
    except Exception:  # unreachable, unknown or private: the load says which, with its own error
        return None
    if not sha or not _COMMIT.fullmatch(sha):
        return None
    memo[key] = sha
    with contextlib.suppress(OSError):
        atomic_write_text(_revisions_memo(), json.dumps(memo, indent=1, sort_keys=True))
    return sha


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


_DTYPE_NAMES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}


def _gpu_present() -> bool:
    """Whether a CUDA GPU is visible; a machine with no NVIDIA driver answers without
    importing torch, so a rerun answered by the call cache stays cheap on a CPU box."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if not (Path("/proc/driver/nvidia").exists() or Path("/dev/nvidia0").exists()):
        return False
    import torch

    return torch.cuda.is_available()


def resolve_dtype_name(
    requested: str | None, *, device: str | None = None, gpu_fallback: str = "float32"
) -> str:
    """The dtype a model will really run in, by canonical name (float32, bfloat16, float16).

    It belongs in cache keys: fp32 answers from a CPU and bf16 answers from a GPU are
    different numbers. "auto" (or None) picks bfloat16 only on a GPU that computes it
    natively; GPUs that would emulate it (before Ampere) get ``gpu_fallback``; a CPU
    gets float32. Unknown names are returned unchanged for the caller to reject.
    """
    if requested not in (None, "auto"):
        return _DTYPE_NAMES.get(str(requested), str(requested))
    on_gpu = device.startswith("cuda") if device else _gpu_present()
    if not on_gpu:
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_bf16_supported(including_emulation=False) else gpu_fallback
