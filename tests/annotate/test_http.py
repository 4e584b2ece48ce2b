"""The web app over HTTP (FastAPI's test client): sign-in, authorisation, CSRF, limits,
escaping, submissions with history, and the coordinators' agreement page."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from culturalign.annotate import db
from culturalign.annotate.app import create_app
from culturalign.annotate.auth import issue_login_link
from culturalign.annotate.importer import import_files
from culturalign.annotate.order import display_order

from .helpers import SAMPLE, XSS_PAYLOADS, hidden_fields, login, make_store, write_jsonl, xss_question


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path, tasks=("rank", "classify", "rubric"))


@pytest.fixture
def client(store):
    with TestClient(create_app(store, max_body=16 * 1024)) as c:
        yield c


def _item_id(store, key):
    return next(i.id for i in store.items() if i.key == key)


def _rank_form(client, store, who, key, ratings=None, ranks=None):
    """Fill the rank form as shown: ranks in display order, ratings descending unless given."""
    item = store.item(_item_id(store, key))
    page = client.get(f"/items/{item.id}/rank")
    assert page.status_code == 200, page.text
    data = hidden_fields(page.text)
    order = display_order(store.annotator(name=who).id, item)
    for i, r in enumerate(order):
        data[f"rank_{r['rid']}"] = str(ranks[i] if ranks else i + 1)
        data[f"rating_{r['rid']}"] = str(ratings[i] if ratings else 9 - i)
    return item, data


def test_login_link_works_once_and_sets_strict_cookie(client, store):
    link = issue_login_link(store, store.annotator(name="alice"), "http://testserver")
    path = link[len("http://testserver") :]
    page = client.get(path)
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    fields = hidden_fields(page.text)
    done = client.post("/login", data=fields, follow_redirects=False)
    assert done.status_code == 303
    cookie = done.headers["set-cookie"]
    assert (
        "ca_session=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    # the token is stored hashed, never in clear
    with store.read() as conn:
        hashes = [
            r[0]
            for r in conn.execute(db.login_tokens.select().with_only_columns(db.login_tokens.c.token_hash))
        ]
    assert fields["token"] not in hashes
    # a second use of the same link fails
    fresh = TestClient(client.app)
    again = fresh.get(path)
    reuse = fresh.post("/login", data=hidden_fields(again.text), follow_redirects=False)
    assert reuse.status_code == 400
    assert '<h1 id="error-heading">This login link has already been used</h1>' in reuse.text


def test_pages_need_a_session(client):
    for path in ("/", "/items/1/rank", "/agreement"):
        r = client.get(path)
        assert r.status_code == 401 and "Please sign in" in r.text
    assert client.post("/items/1/rank", data={"x": "y"}).status_code == 401


def test_login_form_needs_its_csrf_cookie(client, store):
    link = issue_login_link(store, store.annotator(name="alice"), "http://testserver")
    fields = hidden_fields(client.get(link[len("http://testserver") :]).text)
    fields["csrf_token"] = "forged-" + fields["csrf_token"]
    assert client.post("/login", data=fields).status_code == 403


def test_queue_shows_progress_and_submission_moves_on(client, store):
    login(client, store, "alice")
    queue = client.get("/")
    assert "0 of 9 tasks done" in queue.text  # 3 items x (rank, classify, rubric)
    item, data = _rank_form(client, store, "alice", "zh-norms-1")
    r = client.post(f"/items/{item.id}/rank", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/items/{item.id}/classify"
    assert "1 of 9 tasks done" in client.get("/").text
    [row] = store.submissions(task="rank")
    assert (row.annotator, row.item_version, row.is_current) == ("alice", 1, True)
    assert row.created_at.endswith("+00:00")
    assert [e["rating"] for e in row.payload["responses"]] == [9, 8, 7]


def test_inconsistent_ranking_is_not_saved_and_explained(client, store):
    login(client, store, "alice")
    item, data = _rank_form(client, store, "alice", "zh-norms-1", ratings=[5, 8, 3])
    r = client.post(f"/items/{item.id}/rank", data=data)
    assert r.status_code == 422
    assert "ranked above response B but rated lower (5 &lt; 8)" in r.text
    assert store.count_submissions() == 0


def test_edit_keeps_history_and_replayed_form_is_not_duplicated(client, store):
    login(client, store, "alice")
    item, data = _rank_form(client, store, "alice", "zh-norms-1")
    assert client.post(f"/items/{item.id}/rank", data=data, follow_redirects=False).status_code == 303
    # the same form sent again (double click, retry) lands on the same row
    assert client.post(f"/items/{item.id}/rank", data=data, follow_redirects=False).status_code == 303
    assert store.count_submissions() == 1
    item, data2 = _rank_form(client, store, "alice", "zh-norms-1", ratings=[6, 6, 2])
    assert client.post(f"/items/{item.id}/rank", data=data2, follow_redirects=False).status_code == 303
    rows = store.submissions(task="rank")
    assert [r.is_current for r in rows] == [False, True]
    assert rows[1].previous_id == rows[0].id
    assert [e["rating"] for e in rows[0].payload["responses"]] == [9, 8, 7]
    history = client.get(f"/items/{item.id}/rank/history")
    assert history.status_code == 200 and "replaced" in history.text and "current" in history.text
    # the edit form is pre-filled with the current answer
    page = client.get(f"/items/{item.id}/rank")
    assert page.text.count('value="6" selected') == 2


def test_csrf_token_required_on_every_post(client, store):
    login(client, store, "alice")
    item, data = _rank_form(client, store, "alice", "zh-norms-1")
    for bad in ({**data, "csrf_token": "nope"}, {k: v for k, v in data.items() if k != "csrf_token"}):
        assert client.post(f"/items/{item.id}/rank", data=bad).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert store.count_submissions() == 0


def test_annotators_see_and_change_only_their_own_items(tmp_path):
    store = make_store(tmp_path, per_item=1)
    mine = {
        name: {row.item.id for row in store.queue(store.annotator(name=name).id)} for name in ("alice", "bob")
    }
    assert mine["alice"] and mine["bob"] and not mine["alice"] & mine["bob"]
    with TestClient(create_app(store)) as client:
        login(client, store, "alice")
        other = next(iter(mine["bob"]))
        assert client.get(f"/items/{other}/rank").status_code == 404
        assert client.get(f"/items/{other}/rank/history").status_code == 404
        own = next(iter(mine["alice"]))
        fields = hidden_fields(client.get(f"/items/{own}/classify").text)
        r = client.post(f"/items/{other}/classify", data={**fields, "culture_related": "no"})
        assert r.status_code == 404
        assert client.get("/agreement").status_code == 403
        # rubric was not a task of this import
        assert client.get(f"/items/{own}/rubric").status_code == 404
    assert store.count_submissions() == 0


def test_request_size_limit(client, store):
    login(client, store, "alice")
    item, data = _rank_form(client, store, "alice", "zh-norms-1")
    big = {**data, "padding": "x" * 40_000}
    assert client.post(f"/items/{item.id}/rank", data=big).status_code == 413

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(40):
            yield b"a" * 1024

    r = client.post(
        f"/items/{item.id}/rank",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert store.count_submissions() == 0


def test_untrusted_text_is_escaped_and_csp_forbids_inline_script(tmp_path):
    store = make_store(tmp_path, rows=[xss_question()])
    with TestClient(create_app(store)) as client:
        login(client, store, "alice")
        item = store.items()[0]
        page = client.get(f"/items/{item.id}/rank")
        html = page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        for payload in XSS_PAYLOADS:
            if any(ch in payload for ch in "<>\"'"):
                assert payload not in html
            assert (
                payload.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace('"', "&#34;")
                .replace("'", "&#39;")
                in html
            )
        # no element from the data: the only script tag is our own static file
        assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/annotate.js" defer>']
        assert "<img" not in html and "<svg" not in html and "<iframe" not in html
        assert 'href="javascript:' not in html
        assert "{{ 7 * 7 }}" in html  # template syntax in data is not evaluated
        queue = client.get("/").text
        assert "&lt;script&gt;window.__pwned = 9" in queue


def test_stale_form_after_reimport_is_refused(client, store, tmp_path):
    login(client, store, "alice")
    item, data = _rank_form(client, store, "alice", "zh-norms-1")
    changed = json.loads(json.dumps(SAMPLE))
    changed[0]["reference_answer"] += "（补充）"
    summary = import_files(
        store, [write_jsonl(tmp_path / "v2.jsonl", changed)], tasks=("rank", "classify", "rubric")
    )
    assert (summary.summary.updated, summary.summary.unchanged) == (1, 2)
    r = client.post(f"/items/{item.id}/rank", data=data)
    assert r.status_code == 409 and "updated while you were working" in r.text
    assert store.count_submissions() == 0


def test_classify_and_rubric_tasks(client, store):
    login(client, store, "alice")
    item_id = _item_id(store, "ar-commonsense-1")
    fields = hidden_fields(client.get(f"/items/{item_id}/classify").text)
    bad = client.post(f"/items/{item_id}/classify", data={**fields, "culture_related": "yes"})
    assert bad.status_code == 422 and "Choose a category." in bad.text
    ok = client.post(
        f"/items/{item_id}/classify",
        data={
            **fields,
            "culture_related": "yes",
            "associated_culture": "native",
            "category": "cultural_commonsense",
            "geographic_scope": "continent_wide",
            "moral_sensitive": "on",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    [row] = store.submissions(task="classify")
    assert row.payload["geographic_scope"] == "continent_wide" and row.payload["moral_sensitive"] is True
    page = client.get(f"/items/{item_id}/rubric")
    fields = hidden_fields(page.text)
    item = store.item(item_id)
    for r in item.responses:
        for key in ("usefulness", "cultural_awareness", "coherence"):
            fields[f"{key}_{r['rid']}"] = "3"
    assert client.post(f"/items/{item_id}/rubric", data=fields, follow_redirects=False).status_code == 303
    [rub] = store.submissions(task="rubric")
    assert rub.payload["responses"][0]["cultural_awareness"] == 3


def test_agreement_page_for_coordinators(client, store):
    for who in ("alice", "bob"):
        c = TestClient(client.app)
        login(c, store, who)
        item, data = _rank_form(c, store, who, "zh-norms-1")
        assert c.post(f"/items/{item.id}/rank", data=data, follow_redirects=False).status_code == 303
    login(client, store, "boss")
    assert client.get("/", follow_redirects=False).headers["location"] == "/coord"
    page = client.get("/agreement")
    assert page.status_code == 200 and "Krippendorff" in page.text and "zh-norms-1" in page.text
    data = client.get("/agreement.json").json()
    names = {f["name"] for f in data["overall"]}
    assert {"rating", "rank"} <= names
    assert data["per_item"][0]["item"] == "zh-norms-1"


def test_logout_ends_the_session(client, store):
    login(client, store, "alice")
    fields = hidden_fields(client.get("/").text)
    assert client.post("/logout", data=fields, follow_redirects=False).status_code == 303
    assert client.get("/").status_code == 401
