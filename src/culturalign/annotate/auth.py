"""Logins by one-time link, server-side sessions and CSRF tokens.

A coordinator creates an annotator on the command line and hands them a link. The
link's token is stored only as a SHA-256 hash, works once, and expires. Redeeming it
opens a session: a random cookie value (also stored hashed) tied to a CSRF token that
every form of that session must send back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from culturalign.annotate import db
from culturalign.annotate.store import Annotator, Store, now

# Cookie names live here, not in ``app``, so that ``views`` needs nothing from ``app``
# (``app`` builds the routes from ``views``; the other direction was an import cycle).
SESSION_COOKIE = "ca_session"
LOGIN_CSRF_COOKIE = "ca_login_csrf"
LINK_HOURS = 7 * 24
SESSION_HOURS = 14 * 24
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="microseconds")


def well_formed(token: str | None) -> bool:
    return bool(token) and bool(_TOKEN_RE.match(token))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def issue_login_link(store: Store, annotator: Annotator, base_url: str, hours: float = LINK_HOURS) -> str:
    token = new_token()
    with store.write() as conn:
        conn.execute(
            insert(db.login_tokens).values(
                annotator_id=annotator.id,
                token_hash=_digest(token),
                created_at=now(),
                expires_at=_later(hours),
            )
        )
    return f"{base_url.rstrip('/')}/login/{token}"


def redeem_login_token(store: Store, token: str) -> Annotator | None:
    """Use up a login token; None if it is unknown, already used or expired."""
    if not well_formed(token):
        return None
    t = db.login_tokens
    with store.write() as conn:
        row = conn.execute(
            select(t.c.id, t.c.annotator_id, t.c.expires_at, t.c.used_at).where(
                t.c.token_hash == _digest(token)
            )
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= now():
            return None
        conn.execute(update(t).where(t.c.id == row.id).values(used_at=now()))
        annotator_id = row.annotator_id
    return store.annotator(id=annotator_id)


def login_failure(store: Store, token: str) -> str:
    """Why a login token did not work, in words for the person holding the link."""
    t = db.login_tokens
    row = None
    if well_formed(token):
        with store.read() as conn:
            row = conn.execute(
                select(t.c.expires_at, t.c.used_at).where(t.c.token_hash == _digest(token))
            ).first()
    if row is None:
        return "This login link is not known here"
    if row.used_at is not None:
        return "This login link has already been used"
    return "This login link has expired"


@dataclass(frozen=True)
class Session:
    annotator: Annotator
    csrf_token: str


def open_session(store: Store, annotator: Annotator, hours: float = SESSION_HOURS) -> str:
    """Returns the cookie value; only its hash is stored."""
    token = new_token()
    with store.write() as conn:
        conn.execute(
            insert(db.sessions).values(
                session_hash=_digest(token),
                annotator_id=annotator.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now(),
                expires_at=_later(hours),
                revoked=0,
            )
        )
    return token


def find_session(store: Store, token: str | None) -> Session | None:
    if not well_formed(token):
        return None
    s, a = db.sessions, db.annotators
    with store.read() as conn:
        row = conn.execute(
            select(a.c.id, a.c.name, a.c.role, s.c.csrf_token, s.c.expires_at, s.c.revoked)
            .join(a, a.c.id == s.c.annotator_id)
            .where(s.c.session_hash == _digest(token))
        ).first()
    if row is None or row.revoked or row.expires_at <= now():
        return None
    return Session(Annotator(row.id, row.name, row.role), row.csrf_token)


def close_session(store: Store, token: str | None) -> None:
    if not well_formed(token):
        return
    with store.write() as conn:
        conn.execute(
            update(db.sessions).where(db.sessions.c.session_hash == _digest(token)).values(revoked=1)
        )


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing value never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
