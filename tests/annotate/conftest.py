"""A real PostgreSQL server for the annotation store tests.

``CULTURALIGN_TEST_POSTGRES`` names a server of your own (a database the tests may
wipe). Without it, the ``postgres_url`` fixture starts a throwaway cluster from
Debian's ``postgresql`` package (``make test`` installs it): one ``initdb`` in a temp
folder, a postmaster on 127.0.0.1 and a free port with a random password, one
database, all stopped and deleted at the end of the session.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DATABASE = "annotate_test"
SERVER_USER = "postgres"  # the system user Debian's package creates; postgres refuses root


def _server_bin() -> Path | None:
    """Newest ``/usr/lib/postgresql/<version>/bin`` that holds both initdb and pg_ctl."""
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        version = re.match(r"\d+", initdb.parent.parent.name)
        if version and (initdb.parent / "pg_ctl").exists():
            found.append((int(version.group()), initdb.parent))
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    """Run the server's tools as the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SERVER_USER, "--", *argv]


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(_as_server_user(argv), cwd=cwd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database the tests may wipe: yours, or a throwaway cluster."""
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[dev]' (make test does)")
    own = os.environ.get("CULTURALIGN_TEST_POSTGRES")
    if own:
        yield own
        return
    bin_dir = _server_bin()
    if bin_dir is None:
        pytest.skip(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install Debian's postgresql "
            "(make test does) or set CULTURALIGN_TEST_POSTGRES to a database URL"
        )
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists(SERVER_USER)):
        pytest.skip(f"running as root needs runuser and the {SERVER_USER!r} system user to start PostgreSQL")

    # Not pytest's tmp_path: its parent is private to root, and the server user must reach it.
    # Short, too: the unix socket's path has to fit in about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix="culturalign-pg-"))
    data, log, pwfile = root / "data", root / "server.log", root / "pw"
    password = secrets.token_urlsafe(18)
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, user=SERVER_USER)
        shutil.chown(pwfile, user=SERVER_USER)
    pwfile.chmod(0o600)
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D", str(data),
                "-U", "postgres",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=root,
        )  # fmt: skip
        # Durability settings off: the cluster dies with the session, and the tests are
        # about concurrency and SQL, not about surviving a power cut.
        for attempt in range(3):
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=300 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            argv = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
            try:
                _run([*argv, "-o", options, "start"], cwd=root)
                started = True
                break
            except RuntimeError as err:
                if attempt == 2 or "already in use" not in _log_tail(log):
                    raise RuntimeError(f"{err}\nserver log:\n{_log_tail(log)}") from None
        import psycopg

        admin = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield f"postgresql://postgres:{password}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            # immediate: no checkpoint to wait for, everything is deleted next
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                cwd=root,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# --- real Chromium (tests/annotate/browser.py) ------------------------------------------


@pytest.fixture(scope="module")
def playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright, tmp_path):
    from .browser import launch

    context = launch(playwright, tmp_path / "profile", viewport={"width": 1200, "height": 900})
    yield context
    context.close()
