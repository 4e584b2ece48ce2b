"""End to end in a real headless Chromium (Debian's, driven by Playwright): sign in,
rank and rate with the keyboard and by dragging, see the consistency warning, classify,
export; and every XSS payload in model output stays inert text."""

from __future__ import annotations

from culturalign.annotate import exporter
from culturalign.annotate.server import BackgroundServer

from .browser import BROWSER_MARKS, sign_in
from .helpers import XSS_PAYLOADS, make_store, xss_question

pytestmark = BROWSER_MARKS


def _sign_in(page, store, server, name):
    sign_in(page, store, server, name)


def _ratings_in_dom(page):
    return page.eval_on_selector_all(
        "li.response",
        "els => els.map(li => [li.dataset.rid, li.querySelector('input.rank').value, "
        "li.querySelector('select.rating').value, li.querySelector('input.not-answer').checked])",
    )


def test_rank_rate_classify_and_export_in_chromium(browser, tmp_path):
    store = make_store(tmp_path)
    with BackgroundServer(store) as server:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, store, server, "alice")
        assert page.text_content("#progress-text") == "0 of 6 tasks done"
        page.click("a.task[data-task=rank]")
        page.wait_for_selector("#rank-form")
        assert page.is_visible("#rubric") and "Excellent" in page.text_content("#rubric")
        cards = page.locator("li.response")
        assert cards.count() == 3
        first_rid = cards.nth(0).get_attribute("data-rid")

        # keyboard: rate the cards in place (digits), flag the third as not an answer
        cards.nth(0).focus()
        page.keyboard.press("5")
        cards.nth(1).focus()
        page.keyboard.press("8")
        cards.nth(2).focus()
        page.keyboard.press("n")
        warning = page.locator("#consistency")
        assert (
            "ranked above response" in warning.text_content()
            and "rated lower (5 < 8)" in warning.text_content()
        )
        # saving is refused on the page while they disagree
        page.click("#save")
        assert page.url.endswith("/rank") and store.count_submissions() == 0
        # keyboard move: Alt+ArrowDown moves the first card below the second
        cards.nth(0).focus()
        page.keyboard.press("Alt+ArrowDown")
        dom = _ratings_in_dom(page)
        assert dom[1][0] == first_rid and [d[1] for d in dom] == ["1", "2", "3"]
        assert warning.text_content() == ""

        # drag: move the non-answer to the top, see the warning, drag it back
        page.drag_and_drop("li.response:nth-child(3) .label", "li.response:nth-child(1) .label")
        dom = _ratings_in_dom(page)
        assert dom[0][3] is True, dom
        assert "flagged 'not an answer' but ranked above" in warning.text_content()
        page.drag_and_drop("li.response:nth-child(1) .label", "li.response:nth-child(3) .response-text")
        dom = _ratings_in_dom(page)
        assert dom[2][3] is True and warning.text_content() == "", dom

        page.click("#save")
        page.wait_for_url("**/classify")
        [row] = store.submissions(task="rank")
        stored = [
            (e["rid"], str(e["rank"]), "" if e["rating"] is None else str(e["rating"]), e["not_an_answer"])
            for e in row.payload["responses"]
        ]
        assert stored == [tuple(d) for d in dom]

        # classification: choosing "No" greys out the rest; then a full answer
        page.check("input[name=culture_related][value=no]")
        assert page.is_disabled("input[name=category][value=opinion]")
        page.check("input[name=culture_related][value=yes]")
        page.check("input[name=associated_culture][value=native]")
        page.check("input[name=category][value=social_norms]")
        page.check("input[name=geographic_scope][value=national]")
        page.check("input[name=moral_sensitive]")
        page.click("#save")
        page.wait_for_url("**/items/*/rank")
        [cls] = store.submissions(task="classify")
        assert cls.payload["category"] == "social_norms" and cls.payload["moral_sensitive"] is True
        page.goto(server.url + "/")
        assert page.text_content("#progress-text") == "2 of 6 tasks done"
        assert errors == []

    rows = exporter.export_rows(store, "care")
    item = next(i for i in store.items() if i.key == "zh-norms-1")
    texts = {r["rid"]: r["text"] for r in item.responses}
    by_text = {r["response"]: r for r in rows}
    for rid, _rank, rating, na in dom:
        exported = by_text[texts[rid]]
        assert exported["rating"] == ("not an answer" if na else float(rating))
        assert exported["culture_type"] == "Social norms"


def test_xss_payloads_stay_inert_in_chromium(browser, tmp_path):
    store = make_store(tmp_path, rows=[xss_question()])
    with BackgroundServer(store) as server:
        page = browser.new_page()
        dialogs, console = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: console.append(m.text))
        _sign_in(page, store, server, "alice")
        assert page.text_content("td.question-cell").startswith("Question with a payload: <script>")
        page.click("a.task[data-task=rank]")
        page.wait_for_selector("#rank-form")
        texts = page.eval_on_selector_all(".response-text", "els => els.map(e => e.textContent)")
        assert sorted(texts) == sorted(XSS_PAYLOADS)
        assert page.text_content("#reference-text") == xss_question()["reference_answer"]
        counts = page.evaluate(
            """() => ({
                injected: document.querySelectorAll(
                    '.response-text *, .question .text *, script:not([src="/static/annotate.js"]), img, svg, iframe'
                ).length,
                pwned: window.__pwned === undefined ? null : window.__pwned,
                jsLinks: [...document.querySelectorAll('a')].filter(a => a.href.startsWith('javascript:')).length,
            })"""
        )
        assert counts == {"injected": 0, "pwned": None, "jsLinks": 0}
        # clicking where a link would be does nothing
        page.click(".response-text >> nth=0")
        # save a ranking (all "not an answer") and look at the history page, which shows data too
        for i in range(len(XSS_PAYLOADS)):
            page.locator("li.response").nth(i).focus()
            page.keyboard.press("n")
        page.click("#save")
        page.wait_for_url("**/classify")
        page.goto(page.url.replace("/classify", "/rank/history"))
        assert "Question with a payload: <script>" in page.text_content("main")
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned === undefined")
        assert dialogs == []
        assert not [m for m in console if "Content Security Policy" in m]
