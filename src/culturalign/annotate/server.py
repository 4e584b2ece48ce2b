"""Run the app under uvicorn: in the foreground for ``annotate serve``, or in a
background thread on a free loopback port (tests, notebooks)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from culturalign.annotate.store import Store


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(database: str | Path, host: str = "127.0.0.1", port: int = 8080, **app_options) -> None:
    import uvicorn

    from culturalign.annotate.app import create_app

    uvicorn.run(
        create_app(database, **app_options), host=host, port=port, log_level="info", proxy_headers=False
    )


class BackgroundServer:
    """``with BackgroundServer(db) as srv: srv.url`` serves on loopback until the block ends."""

    def __init__(
        self, database: str | Path | Store, host: str = "127.0.0.1", port: int | None = None, **app_options
    ):
        import uvicorn

        from culturalign.annotate.app import create_app

        self.host = host
        self.port = port or free_port(host)
        self.app = create_app(database, **app_options)
        config = uvicorn.Config(self.app, host=host, port=self.port, log_level="warning", lifespan="off")
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
