"""The viewer in a real headless Chromium: filters and link fragments pick the right
items, pages turn, model text stays inert, and nothing is requested from anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from chromium import BROWSER_MARKS, launch, screenshot
from culturalign.view import link, write_view

from .helpers import XSS_PAYLOADS, care_run, items_run, judgment, response, sample_questions

pytestmark = BROWSER_MARKS

EVIL_DIR = "<img src=x onerror=window.__pwned=12>"
WEAK = "It depends on the family; customs differ a lot, so there is no single answer."


def _judge_reply(rating: int) -> str:
    verdict = "covers the reference's key point" if rating >= 6 else "misses what the reference says"
    return f"The response {verdict}.\nRating: [[{rating}]]"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two models on the 40 sample CARE questions (one invalid rating and one failed
    answer among them) and a 70-item multiple-choice run, so filters have work to do
    and the page has more than one page."""
    root = tmp_path_factory.mktemp("view-runs") / "exp"
    qs = sample_questions()
    a, b, b_resp = [], [], []
    for i, q in enumerate(qs):
        rating = 6 + i % 5
        a.append(judgment(q, "hf:org/model-a", q["reference_answer_en"], rating, reply=_judge_reply(rating)))
        if i == 3:
            b.append(
                judgment(q, "hf:org/model-b", None, None, status="skipped", reason="the response is missing")
            )
            b_resp.append(response(q, "hf:org/model-b", None, "HTTP 503: overloaded"))
        elif i == 4:
            b.append(judgment(q, "hf:org/model-b", WEAK, None, reply="I cannot rate this.", tries=3))
        else:
            b.append(judgment(q, "hf:org/model-b", WEAK, 2 + i % 3, reply=_judge_reply(2 + i % 3)))
    care_run(root / "eval/care/model-a/vanilla-native", "hf:org/model-a", a)
    care_run(root / "eval/care/model-b/vanilla-native", "hf:org/model-b", b, b_resp)
    mcq = [
        {"id": f"mcq-{i:03d}", "culture": "Korean", "topic": "food", "question": f"Question number {i}?",
         "options": ["kimchi", "sushi", "tacos"], "answer": 0, "choice": i % 2, "probs": [0.5, 0.3, 0.2],
         "method": "logits", "correct": i % 2 == 0}
        for i in range(70)
    ]  # fmt: skip
    items_run(root / "eval/mcq/model-a/default", "eval-mcq", "hf:org/model-a", mcq)
    return root


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = launch(p, tmp_path_factory.mktemp("profile"), viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def _open(browser, path: Path, fragment: str = ""):
    page = browser.new_page()
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: m.type in ("error", "warning") and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri() + fragment)
    page.wait_for_selector("body[data-renders]")
    return page, seen


def _shown(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.group')].map(g => ({
            item: g.dataset.item,
            meta: [...g.querySelectorAll('.meta span')].map(s => s.textContent),
            answers: [...g.querySelectorAll('.answer')].map(a => ({
                run: a.dataset.run, status: a.dataset.status, dim: a.classList.contains('dim'),
                badge: a.querySelector('.badge').textContent})),
        }))"""
    )


def _count(page) -> int:
    return page.evaluate("window.__viewRender.matched")


def test_filters_links_and_pages(browser, runs):
    path = write_view([runs])
    page, seen = _open(browser, path)
    assert _count(page) == 110 and len(_shown(page)) == 50
    assert page.text_content(".page-of") == "page 1 of 3"
    page.click("#pager-top button:has-text('next')")
    assert page.evaluate("location.hash") == "#page=2" and _shown(page)[0]["item"] == "mcq-010"

    page.select_option("#f-culture", "Japanese")
    shown = _shown(page)
    assert _count(page) == 10 == len(shown) and all("Japanese" in g["meta"] for g in shown)
    assert all([a["run"] for a in g["answers"]] == ["model-a", "model-b"] for g in shown)  # side by side
    assert page.evaluate("location.hash") == "#culture=Japanese"

    page.select_option("#f-culture", "")
    page.check("#f-invalid")
    shown = _shown(page)
    assert _count(page) == 2 and all(
        any(not a["dim"] and a["status"] != "ok" for a in g["answers"]) for g in shown
    )
    assert sorted(a["badge"] for g in shown for a in g["answers"] if not a["dim"]) == ["invalid", "skipped"]
    assert "error: HTTP 503: overloaded" in page.text_content("main")
    assert "the response is missing" in page.text_content("main")

    page.uncheck("#f-invalid")
    page.fill("#f-min", "9")
    shown = _shown(page)
    ratings = [float(a["badge"].split(" / ")[0]) for g in shown for a in g["answers"] if not a["dim"]]
    assert _count(page) == 16 and ratings and min(ratings) >= 9

    page.fill("#f-min", "")
    page.fill("#f-q", "ZONGZI glutinous")  # every word, any case, in any text of the item
    assert _count(page) >= 1 and all("zongzi" in t.lower() for t in page.locator(".group").all_inner_texts())

    # a report cell's link: one run's answers for one culture and category
    frag = link("model-b", culture="Chinese", category="social_norms")
    page.goto(path.as_uri() + frag)
    page.wait_for_function("document.querySelector('#f-run').value === 'model-b'")
    shown = _shown(page)
    assert shown and all(g["meta"][1:3] == ["Chinese", "social_norms"] for g in shown)
    assert all([a["run"] for a in g["answers"]] == ["model-b"] for g in shown)
    assert page.input_value("#f-category") == "social_norms"
    # a run named by its model spec, and a benchmark; a value no item has shows nothing
    page.goto(path.as_uri() + link("hf:org/model-a", kind="eval-mcq"))
    page.wait_for_function("window.__viewRender.matched === 70")
    page.goto(path.as_uri() + link(culture="Atlantis"))
    page.wait_for_function("window.__viewRender.matched === 0")
    assert page.text_content(".empty") == "No item matches these filters."

    page.goto(path.as_uri() + link(culture="Japanese"))
    page.wait_for_function("window.__viewRender.matched === 10")
    page.locator("details.judge").first.evaluate("d => d.open = true")
    screenshot(page, path.parent, "view", full_page=False)  # the README's picture (CULTURALIGN_SCREENSHOTS)
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert all(u.startswith("file://") for u in seen["requests"]), seen["requests"]


def test_model_text_is_inert(browser, tmp_path):
    q = {**sample_questions(1)[0], "text": "Question: <script>window.__pwned = 9</script>",
         "reference_answer": '<img src=x onerror="window.__pwned = 10">'}  # fmt: skip
    judgments = [
        judgment({**q, "id": f"xss-{i}"}, "hf:evil", p, 5, reply=p + "\nRating: [[5]]")
        for i, p in enumerate(XSS_PAYLOADS)
    ]
    care_run(tmp_path / "eval/care" / EVIL_DIR / "vanilla-native", "hf:evil", judgments)
    items_run(
        tmp_path / "mcq",
        "eval-mcq",
        "hf:evil",
        [{"id": "o1", "culture": "<i>c</i>", "question": "q", "options": XSS_PAYLOADS[:3], "answer": 1,
          "choice": 0, "correct": False, "error": "<svg onload=alert(11)>"}],
    )  # fmt: skip
    path = write_view([tmp_path], tmp_path / "view.html")
    page, seen = _open(browser, path)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(200)
    texts = page.eval_on_selector_all(".answer-text", "els => els.map(e => e.textContent)")
    assert sorted(texts) == sorted([*XSS_PAYLOADS, XSS_PAYLOADS[0]])
    replies = page.eval_on_selector_all("div.judge-reply", "els => els.map(e => e.textContent)")
    assert sorted(replies) == sorted(p + "\nRating: [[5]]" for p in XSS_PAYLOADS)
    assert page.text_content(".reference") == "reference" + q["reference_answer"]
    assert page.text_content(".run-label") == EVIL_DIR
    counts = page.evaluate(
        """() => ({
            injected: document.querySelectorAll(
                'main script, main img, main svg, main iframe, main b, main i, main textarea, script:not(#view-data)'
            ).length,
            scripts: document.scripts.length,
            pwned: window.__pwned === undefined ? null : window.__pwned,
            jsLinks: [...document.querySelectorAll('a')].filter(a => !a.getAttribute('href').startsWith('#')).length,
        })"""
    )
    assert counts == {
        "injected": 1,
        "scripts": 2,
        "pwned": None,
        "jsLinks": 0,
    }  # the one is the viewer's own script
    page.click(".answer-text >> nth=0")
    page.wait_for_timeout(100)
    assert page.evaluate("window.__pwned === undefined") and seen["dialogs"] == []
    assert seen["errors"] == [] and seen["requests"] == [path.as_uri()]
