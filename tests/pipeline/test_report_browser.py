"""The HTML report opens in a real headless Chromium: not blank, every image loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from chromium import BROWSER_MARKS, launch

pytestmark = BROWSER_MARKS


@pytest.fixture
def report_html(tiny_experiment, tmp_path) -> Path:
    from culturalign.pipeline.experiment import load_experiment
    from culturalign.pipeline.runner import Runner

    exp = load_experiment(tiny_experiment)
    exp.train = []
    exp.data.preferences = None
    exp.evaluations[0].limit = 2
    out = tmp_path / "run"
    Runner(exp, tiny_experiment, out, cache=None).run()
    return out / "report.html"


def test_report_renders_with_all_images(report_html, tmp_path):
    from playwright.sync_api import sync_playwright

    html = report_html.read_text()
    assert "data:image/png;base64," in html and "<script" not in html
    with sync_playwright() as p:
        browser = launch(p, tmp_path / "profile", viewport={"width": 1200, "height": 900})
        page = browser.new_page()
        page.goto(report_html.as_uri())
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        shot = page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        headings = page.locator("h2").all_inner_texts()
        browser.close()
    assert images and all(done and width > 0 for done, width in images)
    assert any("CARE" in h for h in headings) and any("Opinion" in h for h in headings)
    from PIL import Image

    img = Image.open(tmp_path / "report.png").convert("L")
    lo, hi = img.getextrema()
    assert len(shot) > 10_000 and hi - lo > 100  # not a blank page
