"""A team's day in a real headless Chromium (issue 18): first sign-in shows the
guidelines; routing keeps each annotator to their culture; the typed rank lands the
card where typed; skip with a reason and a comment; the coordinator finds a
disagreement, sees who said what and adjudicates, and exports use the decision; error
pages speak plainly; the coordinator's tables fit 1280 px; phones get no keyboard hints
and the rating guide above the save button. Screenshots feed the README."""

from __future__ import annotations

from culturalign.annotate import exporter
from culturalign.annotate.auth import issue_login_link
from culturalign.annotate.importer import import_files
from culturalign.annotate.server import BackgroundServer
from culturalign.annotate.store import Store

from .browser import BROWSER_MARKS, launch, screenshot, sign_in
from .helpers import SAMPLE, make_store, write_jsonl

pytestmark = BROWSER_MARKS

JA = {
    "id": "ja-norms-1",
    "text": "日本では、お店でチップを渡すべきですか？",
    "language": "ja",
    "culture": "Japanese",
    "category": "social_norms",
    "reference_answer": "ふつうは渡しません。サービス料は料金に含まれています。",
    "responses": [
        {"producer": "model-a", "text": "いいえ、日本ではチップの習慣はほとんどありません。"},
        {"producer": "model-b", "text": "はい、二割ほど渡すのが礼儀です。"},
    ],
}


def _team(tmp_path) -> Store:
    store = Store(tmp_path / "team.sqlite")
    store.add_annotator("yuki", cultures="Japanese", languages="ja,en")
    store.add_annotator("li", cultures="Chinese", languages="zh,en")
    store.add_annotator("boss", role="admin")
    import_files(store, [write_jsonl(tmp_path / "q.jsonl", [*SAMPLE, JA])], per_item=1)
    return store


def _no_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_first_login_guidelines_routing_and_plain_errors(browser, tmp_path):
    store = _team(tmp_path)
    with BackgroundServer(store) as server:
        page = browser.new_page()
        link = issue_login_link(store, store.annotator(name="yuki"), server.url)
        page.goto(link)
        page.click("#login-button")
        page.wait_for_url("**/guidelines?first=1")
        assert page.is_visible("#first-visit") and "collected for" in page.text_content("#g-classify + ol")
        screenshot(page, tmp_path, "annotate-guidelines")
        page.click("#start")
        page.wait_for_url(server.url + "/")
        questions = page.eval_on_selector_all("td.question-cell", "els => els.map(e => e.textContent)")
        assert questions == [JA["text"]]  # nothing from the Chinese or Arab items
        screenshot(page, tmp_path, "annotate-queue")
        page.click("a.task[data-task=classify]")
        page.wait_for_selector("#classify-form")
        assert (
            page.text_content("#item-culture") == "Japanese" and page.text_content("#item-language") == "ja"
        )
        assert page.text_content("#position") == "item 1 of 1"
        native = page.text_content("label.choice:has(input[name=associated_culture][value=native])")
        assert "the culture this question was collected for" in native
        # another culture's item is not reachable by typing its address
        chinese = next(i for i in store.items() if i.key == "zh-norms-1")
        page.goto(f"{server.url}/items/{chinese.id}/rank")
        assert page.text_content("#error-heading") == "There is nothing here"
        assert "404" not in page.text_content("h1")
        # a used link says so in words
        other = browser.new_page()
        other.goto(link)
        other.click("#login-button")
        assert other.text_content("#error-heading") == "This login link has already been used"
        screenshot(other, tmp_path, "annotate-used-link")


def test_typed_rank_skip_and_comment(browser, tmp_path):
    store = make_store(tmp_path)
    with BackgroundServer(store) as server:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, store, server, "alice")
        item = next(i for i in store.items() if i.key == "zh-norms-1")
        page.goto(f"{server.url}/items/{item.id}/rank")
        labels = page.eval_on_selector_all("li.response", "els => els.map(li => li.dataset.label)")
        assert labels == ["A", "B", "C"]
        # typing 3 on the first card puts it last: B, C, A (it used to give B, A, C)
        page.fill("li.response:nth-child(1) input.rank", "3")
        page.press("li.response:nth-child(1) input.rank", "Tab")
        order = page.eval_on_selector_all(
            "li.response", "els => els.map(li => [li.dataset.label, li.querySelector('input.rank').value])"
        )
        assert order == [["B", "1"], ["C", "2"], ["A", "3"]]
        # and typing 1 on the last brings it to the top
        page.fill("li.response:nth-child(3) input.rank", "1")
        page.press("li.response:nth-child(3) input.rank", "Tab")
        assert page.eval_on_selector_all("li.response", "els => els.map(li => li.dataset.label)") == [
            "A",
            "B",
            "C",
        ]
        # skip with a reason and a comment, though nothing is rated (the page lets a skip through)
        page.fill("#comment", "I grew up in the north; this is a southern custom")
        page.click("#skip summary")
        page.check("input[name=skip_reason][value=culture]")
        screenshot(page, tmp_path, "annotate-skip")
        page.click("#skip-button")
        page.wait_for_url("**/classify")
        [sub] = store.submissions(task="rank")
        assert sub.payload == {
            "skipped": True,
            "skip_reason": "culture",
            "comment": "I grew up in the north; this is a southern custom",
        }
        page.goto(server.url + "/")
        assert page.text_content("#progress-text") == "1 of 6 tasks done"
        assert page.locator("a.task.skipped").count() == 1
        # history shows a readable local time, not the raw UTC stamp
        page.goto(f"{server.url}/items/{item.id}/rank/history")
        shown = page.text_content("time.local")
        assert "T" not in shown and "+00:00" not in shown and shown.strip()
        assert errors == []


def _classify_payload(category: str) -> dict:
    return {
        "culture_related": True,
        "associated_culture": "native",
        "category": category,
        "geographic_scope": "national",
        "moral_sensitive": False,
        "temporal_sensitive": False,
        "comment": None,
    }


def test_coordinator_finds_disagreement_and_adjudicates(browser, tmp_path):
    store = make_store(tmp_path)
    item = next(i for i in store.items() if i.key == "zh-norms-1")
    for n, (who, category, ratings) in enumerate(
        (("alice", "social_norms", [9, 2, None]), ("bob", "cultural_commonsense", [3, 8, None]))
    ):
        person = store.annotator(name=who)
        store.submit(
            person.id, item.id, 1, "classify", _classify_payload(category), f"nonce-cls-{n}-xxxxxxxx"
        )
        entries = [
            {"rid": r["rid"], "rank": k + 1, "rating": rating, "not_an_answer": rating is None}
            for k, (r, rating) in enumerate(zip(item.responses, ratings, strict=True))
        ]
        if ratings[0] < ratings[1]:  # bob's ranking follows his ratings
            entries[0]["rank"], entries[1]["rank"] = 2, 1
        store.submit(person.id, item.id, 1, "rank", {"responses": entries}, f"nonce-rank-{n}-xxxxxxx")
    with BackgroundServer(store) as server:
        page = browser.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in(page, store, server, "boss")
        row = page.locator("#flagged tr[data-item='zh-norms-1']")
        assert row.count() == 1 and "category" in row.text_content()
        assert page.text_content("#flagged tr[data-item='zh-norms-1'] td:nth-child(3)").strip() == "6"
        assert _no_overflow(page)
        screenshot(page, tmp_path, "annotate-coordinator")
        row.locator("a.review-link").click()
        page.wait_for_selector("#who-classify")
        conflict = page.text_content("#who-classify tr.conflict")
        assert "social_norms" in conflict and "cultural_commonsense" in conflict
        assert page.locator("#who-rank tbody tr").count() == 3 and _no_overflow(page)
        screenshot(page, tmp_path, "annotate-who-said-what")
        page.click("a.adjudicate-link[data-task=classify]")
        page.wait_for_selector("#classify-form")
        page.check("input[name=culture_related][value=yes]")
        page.check("input[name=associated_culture][value=native]")
        page.check("input[name=category][value=social_norms]")
        page.check("input[name=geographic_scope][value=national]")
        page.fill("#comment", "a taboo, so a social norm")
        page.click("#save")
        page.wait_for_url(f"**/coord/items/{item.id}")
        assert "decided by boss" in page.text_content("#decisions")
        page.goto(server.url + "/agreement")
        assert "95% interval" in page.text_content("#overall") and "too few to read" in page.text_content(
            "#overall"
        )
        assert _no_overflow(page)
    counts: dict = {}
    rows = exporter.export_rows(store, "jsonl", counts=counts)
    record = next(r for r in rows if r["item"] == "zh-norms-1")
    assert record["resolution"] == {"classify": "adjudicated", "rank": "averaged"}
    assert record["merged"]["labels"]["category"] == "social_norms"
    assert counts["classify"] == {"adjudicated": 1}


def test_phone_layout(playwright, tmp_path):
    store = make_store(tmp_path)
    phone = launch(
        playwright,
        tmp_path / "phone-profile",
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
    )
    try:
        with BackgroundServer(store) as server:
            page = phone.new_page()
            sign_in(page, store, server, "alice")
            page.click("a.task[data-task=rank]")
            page.wait_for_selector("#rank-form")
            assert not page.is_visible("#rank-help .keys")  # no keyboard on a phone
            assert "on a touch screen use the buttons" in page.text_content("#rank-help")
            rubric, save = page.locator("#rubric").bounding_box(), page.locator("#save").bounding_box()
            assert rubric["y"] + rubric["height"] <= save["y"]
            assert _no_overflow(page)
            screenshot(page, tmp_path, "annotate-phone", full_page=False)
    finally:
        phone.close()
