"""The viewer on 10,000 items in headless Chromium: time to the first rows, and to apply a filter.

Run: ``python benchmarks/bench_view.py [--items 10000] [--runs 2]``. Writes ``--runs``
synthetic CARE run folders (``judgments.jsonl`` and ``run.json``, the files a real run
writes) of ``--items`` questions each, so the page holds ``--items`` items with ``--runs``
answers side by side: answers of about 400 characters, judge replies of about 250, one
item in eight with three attempts and no valid rating. Then ``culturalign.view.write_view``
builds the page and Chromium (the tests' launcher, ``tests/chromium.py``) opens it.

Measured, in the page (``performance.now()``, from navigation start) and from here:

- ``first_rows_ms``: until the first page of rows is in the DOM (HTML parsed, JSON
  parsed, filters filled, 50 groups drawn); ``first_paint_ms``: until the frame after
  that (rows laid out and painted); ``open_wall_ms``: ``page.goto`` to the painted rows,
  as seen from Python;
- ``filter_*_ms``: one filter applied (every item tested, the first page redrawn), as
  the page's own render time: a culture, a free-text search, "invalid only", a rating range;
- baseline, measured in the same run: the same page drawing every item at once instead of
  50 a page (``eager_*``), and ``speedup_paged_vs_eager``, the ratio of the two
  ``open_wall_ms``.

Target (issue 19): 10,000 items open in under 2 s (``opens_under_2s``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")
REPO = Path(__file__).resolve().parents[1]

CULTURES = ["Chinese", "Arab", "Japanese", "Korean", "Mexican"]
CATEGORIES = ["cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy"]
SCOPES = ["national", "sub_national", "continent_wide", "worldwide"]
WORDS = [
    "festival",
    "family",
    "guests",
    "elders",
    "rice",
    "tea",
    "gift",
    "custom",
    "region",
    "village",
    "meal",
    "respect",
    "host",
    "season",
]


def _text(rng, n_chars: int) -> str:
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < n_chars:
        out.append(rng.choice(WORDS))
    return " ".join(out).capitalize() + "."


def write_runs(root: Path, items: int, runs: int) -> list[Path]:
    import random

    from culturalign.io import write_records
    from culturalign.records.judgment import JudgeAttempt, JudgeSample, Judgment
    from culturalign.runlog import RunLog

    dirs = []
    for r in range(runs):
        rng = random.Random(r)
        out = root / "eval" / "care" / f"model-{r}" / "vanilla-native"
        out.mkdir(parents=True)
        judgments = []
        for i in range(items):
            q = random.Random(i)  # the question's fields are the same in every run
            invalid = rng.random() < 0.125
            rating = None if invalid else float(rng.randint(1, 10))
            reply = _text(rng, 250) + ("" if invalid else f" Rating: [[{rating:g}]]")
            tries = 3 if invalid else 1
            attempts = [
                JudgeAttempt(attempt=k, seed=k * 1000, temperature=0.7 if k else 0.0, reply=reply,
                             parse_status="missing" if invalid else "ok",
                             parse_detail="no rating found" if invalid else "", rating=rating)
                for k in range(tries)
            ]  # fmt: skip
            judgments.append(
                Judgment(
                    item_id=f"care-{i:06d}",
                    question=_text(q, 90) + "?",
                    reference=_text(q, 200),
                    response=_text(rng, 400),
                    category=q.choice(CATEGORIES),
                    scope=q.choice(SCOPES),
                    culture=q.choice(CULTURES),
                    model=f"hf:org/model-{r}",
                    judge="hf:org/judge",
                    rubric="entities_opinion",
                    rating=rating,
                    valid=not invalid,
                    status="invalid" if invalid else "ok",
                    reason="no valid rating after 3 attempt(s): no rating found" if invalid else None,
                    judge_reply=reply,
                    samples=[JudgeSample(sample=0, rating=rating, attempts=attempts)],
                    attempts=tries,
                )
            )
        write_records(out / "judgments.jsonl", judgments)
        log = RunLog(kind="eval-care")
        log.models["model"] = {"spec": f"hf:org/model-{r}"}
        log.finish(out)
        dirs.append(out)
    return dirs


def measure(page, uri: str) -> dict[str, float]:
    t = time.perf_counter()
    page.goto(uri)
    page.wait_for_function("window.__viewFirst !== undefined", timeout=120_000)
    wall = (time.perf_counter() - t) * 1000
    first = page.evaluate("window.__viewFirst")
    out = {"first_rows_ms": first["ms"], "first_paint_ms": first["painted_ms"], "open_wall_ms": wall}

    def timed(name: str, action) -> None:
        before = page.evaluate("Number(document.body.dataset.renders)")
        action()
        page.wait_for_function(f"Number(document.body.dataset.renders) > {before}", timeout=120_000)
        out[f"filter_{name}_ms"] = page.evaluate("window.__viewRender.ms")
        out[f"filter_{name}_matched"] = page.evaluate("window.__viewRender.matched")

    timed("culture", lambda: page.select_option("#f-culture", "Japanese"))
    page.click("#f-clear")
    timed("search", lambda: page.fill("#f-q", "care-0042"))
    timed("invalid", lambda: page.check("#f-invalid"))
    page.click("#f-clear")
    timed("rating", lambda: page.fill("#f-min", "8"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from playwright.sync_api import sync_playwright

    from chromium import CHROMIUM, launch
    from culturalign.view import build_page, write_view

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make test-deps` installs Debian's chromium")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        t = time.perf_counter()
        write_runs(root, args.items, args.runs)
        synth_s = time.perf_counter() - t
        t = time.perf_counter()
        paged = write_view([root], Path(tmp) / "view.html")
        write_s = time.perf_counter() - t
        page_mb = paged.stat().st_size / 1e6
        eager = Path(tmp) / "eager.html"
        eager.write_text(build_page([root], page_size=args.items), encoding="utf-8")
        with sync_playwright() as p:
            browser = launch(p, Path(tmp) / "profile", viewport={"width": 1280, "height": 900})
            page = browser.new_page()
            measure(page, paged.as_uri())  # warm-up: Chromium's first page start is not the viewer's
            page = browser.new_page()
            lazy = measure(page, paged.as_uri())
            page = browser.new_page()
            t = time.perf_counter()
            page.goto(eager.as_uri(), timeout=300_000)
            page.wait_for_function("window.__viewFirst !== undefined", timeout=300_000)
            eager_wall = (time.perf_counter() - t) * 1000
            eager_first = page.evaluate("window.__viewFirst")
            browser.close()
    print(f"items: {args.items}")
    print(f"answers: {args.items * args.runs}")
    print(f"page_mb: {page_mb:.1f}")
    print(f"synthesize_s: {synth_s:.2f}")
    print(f"write_view_s: {write_s:.2f}")
    for k, v in lazy.items():
        print(f"{k}: {v:.0f}" if k.endswith("_matched") else f"{k}: {v:.1f}")
    print(f"eager_first_rows_ms: {eager_first['ms']:.1f}")
    print(f"eager_first_paint_ms: {eager_first['painted_ms']:.1f}")
    print(f"eager_open_wall_ms: {eager_wall:.1f}")
    print(f"speedup_paged_vs_eager: {eager_wall / lazy['open_wall_ms']:.1f}")
    slowest_filter = max(v for k, v in lazy.items() if k.startswith("filter_") and k.endswith("_ms"))
    print(f"slowest_filter_ms: {slowest_filter:.1f}")
    print(f"opens_under_2s: {lazy['open_wall_ms'] < 2000}")


if __name__ == "__main__":
    main()
