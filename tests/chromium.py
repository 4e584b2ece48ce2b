"""Real headless Chromium for every browser test: where it is, how it starts, screenshots.

One place for the launch flags, so the annotation app's tests, the report's and the
viewer's start the same browser.  Screenshots go to the test's folder and, when
``CULTURALIGN_SCREENSHOTS`` names a folder, there as well (the README uses them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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
        reason="Debian's chromium is not installed (`make test-deps` installs it)",
    ),
]


def launch(playwright, profile: Path, **options):
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, **options
    )
    context.set_default_timeout(10_000)
    return context


def screenshot(page, tmp_path: Path, name: str, *, full_page: bool = True) -> Path:
    """(A full-page shot of an emulated phone drops its touch media queries: use the viewport.)"""
    target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target), full_page=full_page)
    folder = os.environ.get("CULTURALIGN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(folder) / target.name)
    return target
