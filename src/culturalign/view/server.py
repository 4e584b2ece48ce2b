"""``culturalign view --serve``: the page over HTTP on the loopback address only.

The standard library's server is enough: the page is one immutable document and does
not call back. Binding 127.0.0.1 (not 0.0.0.0) keeps model outputs and judge replies
off the network; anyone who wants to share them copies the file.
"""

from __future__ import annotations

import errno
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from culturalign.errors import ConfigError

HOST = "127.0.0.1"


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: a port is 0 (any free one) to 65535")


def make_server(html: str, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    body = html.encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/", "/view.html"):
                self.send_error(404, "the viewer is at /")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: one line per request is noise
            return

    check_port(port)
    try:
        server = ThreadingHTTPServer((HOST, port), Handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"--port {port}: already in use on {HOST}; pick another or 0 for any free port"
            ) from None
        raise
    server.daemon_threads = True
    return server, f"http://{HOST}:{server.server_address[1]}/"
