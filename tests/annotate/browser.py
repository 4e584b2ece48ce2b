"""Sign-in for the annotation app's real-Chromium tests; the browser itself is in tests/chromium.py."""

from __future__ import annotations

from chromium import BROWSER_MARKS, launch, screenshot  # noqa: F401  (re-exported for the app's tests)
from culturalign.annotate.auth import issue_login_link


def sign_in(page, store, server, name: str) -> None:
    """Open a fresh one-time link; a first sign-in passes through the guidelines."""
    page.goto(issue_login_link(store, store.annotator(name=name), server.url))
    page.click("#login-button")
    page.wait_for_load_state()
    if "/guidelines" in page.url:
        page.click("#start")
    page.wait_for_url(server.url + ("/coord" if store.annotator(name=name).is_admin else "/"))
