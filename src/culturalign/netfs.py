"""Is this path on a network filesystem? (NFS, Lustre, GPFS, CIFS, BeeGFS, Ceph, ...)

SQLite's WAL mode keeps its index in shared memory, which processes on different hosts
do not share, and the SQLite documentation says WAL does not work over a network
filesystem; its file locks are unreliable on several of them too. Clusters often put
home folders (and so ``~/.cache/culturalign``) on exactly such a filesystem. The caches
ask here first: on a network filesystem the call cache writes one file per process
(``culturalign.lm.cache_parts``) and the others leave WAL for a rollback journal.

The filesystem is read from ``/proc/mounts`` (Linux): the mount point that is the
longest prefix of the resolved path gives its type. Elsewhere nothing is detected and
``CULTURALIGN_CACHE_MODE`` decides.
"""

from __future__ import annotations

import os
from pathlib import Path

from culturalign.errors import ConfigError

#: filesystem types (the third column of /proc/mounts) that are shared over a network
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "lustre",
        "gpfs",
        "cifs",
        "smb3",
        "smbfs",
        "beegfs",
        "ceph",
        "fuse.ceph",
        "glusterfs",
        "fuse.glusterfs",
        "fuse.sshfs",
        "9p",
        "afs",
        "panfs",
        "orangefs",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.juicefs",
        "fuse.rclone",
        "wekafs",
    }
)
MODES = ("auto", "shared", "per-process")
MODE_ENV = "CULTURALIGN_CACHE_MODE"


def _unescape(field: str) -> str:
    """/proc/mounts writes a space in a mount point as ``\\040`` (octal escapes)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def read_mounts(text: str | None = None) -> list[tuple[str, str]]:
    """``(mount point, filesystem type)`` for each line of a mounts table (``/proc/mounts``
    when ``text`` is None; empty where there is none, as on macOS)."""
    if text is None:
        try:
            text = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
    table = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            table.append((_unescape(parts[1]), parts[2]))
    return table


def filesystem_of(path: str | Path, mounts: str | None = None) -> str | None:
    """The type of the filesystem ``path`` is (or would be created) on; None if unknown."""
    p = Path(path).expanduser().absolute()
    while not p.exists() and p != p.parent:  # a cache file not made yet: its nearest folder
        p = p.parent
    p = p.resolve()
    best: tuple[int, str] | None = None
    for point, fstype in read_mounts(mounts):
        inside = p == Path(point) or Path(point) in p.parents
        if inside and (best is None or len(point) >= best[0]):  # a later mount over one point wins
            best = (len(point), fstype)
    return None if best is None else best[1]


def is_network(path: str | Path, mounts: str | None = None) -> bool:
    fstype = filesystem_of(path, mounts)
    return fstype is not None and (
        fstype in NETWORK_FILESYSTEMS or fstype.split(".")[0] in NETWORK_FILESYSTEMS
    )


def cache_mode(path: str | Path, mounts: str | None = None) -> str:
    """``shared`` (one SQLite file in WAL mode) or ``per-process`` (one file per process,
    merged later): ``CULTURALIGN_CACHE_MODE`` when it says so, else by the filesystem."""
    mode = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ConfigError(f"{MODE_ENV}={mode!r}: choose one of {', '.join(MODES)}")
    if mode != "auto":
        return mode
    return "per-process" if str(path) != ":memory:" and is_network(path, mounts) else "shared"
