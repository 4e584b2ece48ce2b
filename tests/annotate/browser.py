"""Shared pieces of the real-Chromium tests: marks, sign-in, screenshots.

Screenshots go to the test's folder and, when ``CULTURALIGN_SCREENSHOTS`` names a
folder, there as well (the README's walk-through uses them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from culturalign.annotate.auth import issue_login_link

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (`make browser` installs it)",
    ),
]


def launch(playwright, profile: Path, **options):
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, **options
    )
    context.set_default_timeout(10_000)
    return context


def sign_in(page, store, server, name: str) -> None:
    """Open a fresh one-time link; a first sign-in passes through the guidelines."""
    page.goto(issue_login_link(store, store.annotator(name=name), server.url))
    page.click("#login-button")
    page.wait_for_load_state()
    if "/guidelines" in page.url:
        page.click("#start")
    page.wait_for_url(server.url + ("/coord" if store.annotator(name=name).is_admin else "/"))


def screenshot(page, tmp_path: Path, name: str, *, full_page: bool = True) -> Path:
    """(A full-page shot of an emulated phone drops its touch media queries: use the viewport.)"""
    target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target), full_page=full_page)
    folder = os.environ.get("CULTURALIGN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(folder) / target.name)
    return target
