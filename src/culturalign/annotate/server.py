"""Run the app under uvicorn: in the foreground for ``annotate serve``, or in a
background thread on a free loopback port (tests, notebooks).

Sign-in links carry their one-time token in the path, and uvicorn's access log writes
every path at INFO. Anyone who can read that log could sign in with a link its annotator
has not opened yet, so ``RedactLoginTokens`` rewrites ``/login/<token>`` to
``/login/#<first 8 hex of its SHA-256>`` before any handler sees the record: enough to
match two log lines for the same link, useless for signing in.
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import threading
import time
from pathlib import Path

from culturalign.annotate.store import Store


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def public_url(host: str, port: int) -> str:
    """The address to put in sign-in links for a server listening on ``host:port``: a
    wildcard address is no place to open, so it becomes this machine's name."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return f"http://{host}:{port}"


_LOGIN_PATH = re.compile(r"(/login/)([^/?#\s\"']+)")


def redact_login_tokens(text: str) -> str:
    return _LOGIN_PATH.sub(
        lambda m: m.group(1) + "#" + hashlib.sha256(m.group(2).encode()).hexdigest()[:8], text
    )


class RedactLoginTokens(logging.Filter):
    """Replace login tokens in a log record's message and arguments by a short hash."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_login_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_login_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact_login_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install_log_redaction() -> None:
    """Attach the filter to uvicorn's loggers (after uvicorn configured logging, which
    replaces handlers but keeps logger filters). Idempotent."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLoginTokens) for f in logger.filters):
            logger.addFilter(RedactLoginTokens())


def serve(database: str | Path, host: str = "127.0.0.1", port: int = 8080, **app_options) -> None:
    import uvicorn

    from culturalign.annotate.app import create_app

    config = uvicorn.Config(
        create_app(database, **app_options), host=host, port=port, log_level="info", proxy_headers=False
    )
    install_log_redaction()
    uvicorn.Server(config).run()


class BackgroundServer:
    """``with BackgroundServer(db) as srv: srv.url`` serves on loopback until the block ends."""

    def __init__(
        self,
        database: str | Path | Store,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_level: str = "warning",
        **app_options,
    ):
        import uvicorn

        from culturalign.annotate.app import create_app

        self.host = host
        self.port = port or free_port(host)
        self.app = create_app(database, **app_options)
        config = uvicorn.Config(self.app, host=host, port=self.port, log_level=log_level, lifespan="off")
        install_log_redaction()
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="annotate-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the annotation server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
