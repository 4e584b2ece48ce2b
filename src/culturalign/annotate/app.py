"""The annotation web app: a FastAPI factory with server-rendered pages.

Defence in depth around untrusted text (model responses are data, never markup):
Jinja2 autoescaping everywhere and no ``|safe`` on data, no markdown rendering, and a
Content-Security-Policy that allows scripts and styles only from ``/static`` (no
inline script can run even if something slipped through). Requests are size-limited
before any handler reads them; cookies are HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from culturalign.annotate.store import Store

DEFAULT_MAX_BODY = 64 * 1024

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class BodyTooLarge(Exception):
    pass


class LimitsMiddleware:
    """Reject bodies over ``max_body`` bytes (by Content-Length, or while streaming) with
    413, and add the security headers to every response."""

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_body
            except ValueError:
                too_big = True
            if too_big:
                await self._reject(send)
                return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = list(SECURITY_HEADERS)
                path = scope.get("path", "")
                if not path.startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send):
        body = f"Request too large (limit {self.max_body} bytes).".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("culturalign.annotate") / name))


def make_templates():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_package_dir("templates"))),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def create_app(
    database: str | Path | Store,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    secure_cookies: bool = False,
    title: str = "culturalign annotate",
) -> Any:
    """Build the app; ``database`` is a path, a SQLAlchemy URL, or an open ``Store``."""
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from culturalign.annotate import coord, views

    store = database if isinstance(database, Store) else Store(database)
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.templates = make_templates()
    app.state.secure_cookies = secure_cookies
    app.state.title = title
    app.mount("/static", StaticFiles(directory=str(_package_dir("static"))), name="static")
    views.install(app)
    coord.install(app)
    app.add_middleware(LimitsMiddleware, max_body=max_body)
    return app
