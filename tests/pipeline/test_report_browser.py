"""The HTML report in a real headless Chromium: not blank, every image loaded, the
summary first, nothing wider than a 1280 px window, no request leaving the file, and
every number in a results table next to its n.

Two reports: one from a real (tiny) experiment run, and one from a hand-made run folder
with enough CARE items for intervals and findings, whose full-page screenshot is the
README's: its summary box as ``report-summary.png`` (``CULTURALIGN_SCREENSHOTS=docs/img``)."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

from chromium import BROWSER_MARKS, launch

pytestmark = BROWSER_MARKS

# every results table: a number in a cell says its n, or the row has a count column
N_IN_EVERY_CELL = """() => {
  const counts = /^(n|rated|invalid|skipped|pairs|items|questions)$/i;
  const bad = [];
  for (const t of document.querySelectorAll('table.results')) {
    const heads = Array.from(t.querySelectorAll('th')).map(h => h.textContent.trim());
    if (heads.some(h => counts.test(h))) continue;
    for (const tr of t.querySelectorAll('tbody tr')) {
      Array.from(tr.cells).slice(1).forEach(td => {
        const s = td.textContent;
        if (/^\\s*[-+−]?\\d/.test(s) && !/n=\\d|\\(of \\d/.test(s)) bad.push(s);
      });
    }
  }
  return bad;
}"""

LAYOUT = """() => ({
  page: document.documentElement.scrollWidth,
  tables: Array.from(document.querySelectorAll('.tw')).filter(w => w.scrollWidth > w.clientWidth + 1).length,
  first: document.querySelector('h2').textContent,
  summaryFirst: document.querySelector('section.summary') !== null &&
    document.querySelector('section.summary h2') === document.querySelector('h2'),
  images: Array.from(document.images).map(i => [i.complete, i.naturalWidth]),
})"""


def _open(html: Path, tmp_path: Path, shot: str):
    """Load the report at 1280 px, record every request that is not the file itself or
    an embedded image, and take a full-page screenshot."""
    from playwright.sync_api import sync_playwright

    external: list[str] = []
    with sync_playwright() as p:
        browser = launch(p, tmp_path / "profile", viewport={"width": 1280, "height": 900})
        page = browser.new_page()
        page.on(
            "request",
            lambda r: None if r.url.startswith(("data:", html.as_uri())) else external.append(r.url),
        )
        page.goto(html.as_uri())
        layout = page.evaluate(LAYOUT)
        missing_n = page.evaluate(N_IN_EVERY_CELL)
        headings = page.locator("h2").all_inner_texts()
        target = tmp_path / f"{shot}.png"  # the whole page: checked here, too long for the README
        page.screenshot(path=str(target), full_page=True)
        _summary_shot(page, tmp_path, shot + "-summary", readme=shot == "report")
        browser.close()
    return layout, missing_n, headings, external, target


# resolved now: a test below changes the working directory
SHOTS = (
    Path(os.environ["CULTURALIGN_SCREENSHOTS"]).resolve()
    if os.environ.get("CULTURALIGN_SCREENSHOTS")
    else None
)


def _summary_shot(page, tmp_path: Path, name: str, readme: bool) -> Path:
    """The summary box alone (the README shows it; the full page is several screens)."""
    target = tmp_path / f"{name}.png"
    page.locator("section.summary").screenshot(path=str(target))
    if readme and SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, SHOTS / target.name)
    return target


def _check(layout, missing_n, external, target: Path) -> None:
    from PIL import Image

    assert layout["summaryFirst"] and layout["first"] == "Summary"
    assert layout["page"] <= 1280 and layout["tables"] == 0, layout  # nothing wider than the window
    assert external == []  # one self-contained file
    assert missing_n == []
    assert all(done and width > 0 for done, width in layout["images"])  # every image loaded
    img = Image.open(target).convert("L")
    lo, hi = img.getextrema()
    assert target.stat().st_size > 10_000 and hi - lo > 100  # not a blank page


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
    html = report_html.read_text()
    assert "<script" not in html
    # the tiny random judge rates nothing: the report says so instead of drawing empty panels
    assert "no answer has a valid rating (see Invalid), so there is no chart" in html
    layout, missing_n, headings, external, target = _open(report_html, tmp_path, "report-tiny")
    _check(layout, missing_n, external, target)
    assert any("CARE" in h for h in headings) and any("Opinion" in h for h in headings)
    assert not (report_html.parent / "report_figures").exists()  # one figures folder: report_files/
    assert (report_html.parent / "view.html").is_file()  # the experiment's answers, beside the report


# -- a hand-made folder with enough items for findings --------------------------------------------
CULTURES = ("Japanese", "Chinese", "Arab")
CATEGORIES = ("cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy")


def _run_log(d: Path, kind: str, spec: str, adapter: str | None = None) -> None:
    model = {"spec": spec, "backend": "hf", "weights": "88faa1fa2aabad0c5e11", "adapter": adapter}
    log = {
        "kind": kind,
        "notes": [],
        "models": {"model": model, "judge": {"spec": "openai:gpt-4o@http://127.0.0.1:8000/v1"}},
        "config": {
            "params": {"temperature": 0.0, "top_p": 1.0, "max_new_tokens": 256, "seed": 0},
            "judge_params": {"temperature": 0.0, "top_p": 1.0, "max_new_tokens": 512, "seed": 0},
        },
        "data": {"/data/care/test.jsonl": "57f02894a29acd272d1df11384a3e607b67244413e201546b42c344e8e7fa836"},
        "prompts": {"judge/entities_opinion": "164b715c2c78", "judge/literacy": "2018462b0bc2"},
        "calls": {"model": {"calls": 90, "prompt_tokens": 9000, "completion_tokens": 12000}},
    }
    (d / "run.json").write_text(json.dumps(log), encoding="utf-8")


def _care(root: Path, model: str, spec: str, lift: dict[str, int], adapter: str | None = None) -> None:
    from culturalign.evals.care.stats import summarize
    from culturalign.records.judgment import Judgment

    rnd = random.Random(0)  # the same base ratings for both models: the lift is the change
    js = []
    for culture in CULTURES:
        for cat in CATEGORIES:
            for i in range(1 if (culture, cat) == ("Arab", "literacy") else 6):
                base = rnd.randint(3, 7)
                bump = rnd.choice([0, 1, 1, 2]) * lift.get(culture, 0) + rnd.choice([-1, 0, 0, 1]) * (
                    model != "base"
                )
                js.append(
                    Judgment(
                        item_id=f"{culture[:2]}-{cat}-{i}",
                        question="q",
                        reference="a",
                        response="r",
                        category=cat,
                        scope="national",
                        culture=culture,
                        judge="openai:gpt-4o",
                        rating=max(1, min(10, base + bump)),
                        valid=True,
                        status="ok",
                    )
                )
    d = root / "eval" / "care" / model / "vanilla-en"
    d.mkdir(parents=True)
    s = summarize(js, label=model, judge="openai:gpt-4o", mode="vanilla", lang="en", model=spec)
    (d / "summary.json").write_text(s.model_dump_json(), encoding="utf-8")
    (d / "judgments.jsonl").write_text("".join(j.model_dump_json() + "\n" for j in js), encoding="utf-8")
    _run_log(d, "eval-care", spec, adapter)


def _train(root: Path) -> Path:
    from culturalign.train.curves import write_curves

    d = root / "train" / "dpo"
    d.mkdir(parents=True)
    history = [
        {
            "step": s,
            "epoch": s / 6,
            "loss": 0.69 - 0.04 * s,
            "rewards/margins": 0.1 * s,
            "learning_rate": 5e-6 * (7 - s) / 6,
        }
        for s in range(1, 7)
    ]
    write_curves(history, d, "DPO SmolLM2-135M on care_prefs.jsonl")

    def gap(diffs: list[float]) -> dict:
        return {"n": len(diffs), "gap": sum(diffs) / len(diffs), "gap_per_token": 0.0, "accuracy": 0.6,
                "chosen_logp": 0.0, "rejected_logp": 0.0, "diffs": diffs}  # fmt: skip

    before = [0.2, -0.4, 0.1, 0.5, -0.2, 0.3, 0.0, -0.1]
    manifest = {
        "status": "finished",
        "method": "dpo",
        "model_spec": "hf:/models/SmolLM2-135M-Instruct",
        "data": {"path": "/data/care_prefs.jsonl", "sha256": "938f68ddec363c9c", "format": "preference pairs"},
        "config": {"preset": "care-dpo", "learning_rate": 5e-6, "epochs": 1, "dpo": {"beta": 0.1}},
        "result": {"steps": 6, "seconds": 41.0, "gap_before": gap(before), "gap_after": gap([x + 0.6 + 0.2 * ((i % 3) - 1) for i, x in enumerate(before)])},
    }  # fmt: skip
    (d / "culturalign-train.json").write_text(json.dumps(manifest), encoding="utf-8")
    return d


def test_report_summary_layout_and_screenshot(tmp_path, monkeypatch):
    from culturalign import view
    from culturalign.report.build import build_report

    monkeypatch.chdir(tmp_path)  # the trained model's spec is relative, as typed (and in the screenshot)
    root = tmp_path / "runs"
    _train(root)
    _care(root, "base", "hf:/models/SmolLM2-135M-Instruct", {})
    _care(root, "dpo", "hf:runs/train/dpo", {"Japanese": 1, "Chinese": 1}, adapter="ad8654e57d1988fe")
    html_path, _, view_path = build_report([root], out=root / "report", baseline="base", viewer=view)
    layout, missing_n, headings, external, target = _open(html_path, tmp_path, "report")
    _check(layout, missing_n, external, target)
    assert len(layout["images"]) == 2  # the CARE bars and the training curves
    assert (root / "report_files" / "care-vanilla-en.png").is_file() and not (
        root / "report_figures"
    ).exists()
    assert view_path == root / "view.html" and view_path.is_file()
    html = html_path.read_text()
    assert "dpo raised the Japanese average by +" in html and "(n=1, too small)" in html
    assert "<a href='#train-dpo'>" in html and "id='train-dpo'" in html
    assert headings[:3] == ["Summary", "CARE: judged answers to culture-specific questions", "Training"]


def test_a_cell_opens_its_items_in_the_viewer(tmp_path):
    """Clicking a CARE number opens view.html on exactly the items behind it."""
    from playwright.sync_api import sync_playwright

    from culturalign import view
    from culturalign.report.build import build_report

    root = tmp_path / "runs"
    _care(root, "base", "hf:/models/SmolLM2-135M-Instruct", {})
    html_path, *_ = build_report([root], out=root / "report", formats=["html"], viewer=view)
    with sync_playwright() as p:
        browser = launch(p, tmp_path / "profile", viewport={"width": 1280, "height": 900})
        page = browser.new_page()
        page.goto(html_path.as_uri())
        cell = page.locator("table.results td a[href^='view.html#']").first
        assert "(n=6)" in cell.inner_text()  # Japanese, Entities: six items
        cell.click()
        page.wait_for_url("**/view.html#*")
        counts = page.locator("#counts").inner_text()
        browser.close()
    assert "culture=Japanese" in page.url and "category=cultural_entities" in page.url
    assert counts.startswith("6 of 85 items match"), counts
