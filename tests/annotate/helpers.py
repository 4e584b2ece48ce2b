"""Shared helpers for the annotation tests: sample data written for these tests, a
database with annotators, and an HTTP client that signs in the way a browser does."""

from __future__ import annotations

import json
import re
from pathlib import Path

from culturalign.annotate.auth import issue_login_link
from culturalign.annotate.importer import import_files
from culturalign.annotate.store import Store

# Untrusted model output: each must render as inert text.
XSS_PAYLOADS = [
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    '<a href="javascript:window.__pwned = 3">click me</a>',
    "[a markdown link](javascript:window.__pwned=4) and ![pic](x onerror=alert(5))",
    '"><svg onload=alert(6)>',
    '</textarea></div><iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>',
    "{{ 7 * 7 }} {% raw %}",
]

SAMPLE = [
    {
        "id": "zh-norms-1",
        "text": "在中国，吃完饭后可以把筷子竖着插在米饭里吗？",
        "language": "zh",
        "culture": "Chinese",
        "category": "social_norms",
        "reference_answer": "最好不要。竖插的筷子像祭祀时的香，会让人想到丧事，被视为不吉利。",
        "responses": [
            {"producer": "model-a", "text": "不可以，这样像供奉逝者的香，被认为不吉利。"},
            {"producer": "model-b", "text": "可以，这表示你吃饱了。"},
            {"producer": "model-c", "text": "你还想问什么关于筷子的问题？"},
        ],
    },
    {
        "id": "ar-commonsense-1",
        "text": "ما الذي يقدمه المضيف عادةً للضيوف عند وصولهم في الخليج؟",
        "language": "ar",
        "culture": "Arab",
        "category": "cultural_commonsense",
        "reference_answer": "القهوة العربية مع التمر غالباً.",
        "responses": [
            {"producer": "model-a", "text": "القهوة العربية والتمر."},
            {"producer": "model-b", "text": "عصير البرتقال فقط."},
        ],
    },
    {
        "id": "en-general-1",
        "text": "What is the oldest cultural heritage site on earth?",
        "language": "en",
        "culture": "Chinese",
        "reference_answer": "Claims differ; rock art sites tens of thousands of years old are often named.",
        "responses": [
            {"producer": "model-a", "text": "Rock art in Indonesia is among the oldest known."},
            {"producer": "model-b", "text": "The Eiffel Tower."},
        ],
    },
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def xss_question() -> dict:
    return {
        "id": "xss-1",
        "text": "Question with a payload: <script>window.__pwned = 9</script>",
        "language": "en",
        "culture": "Testland",
        "reference_answer": '<img src=x onerror="window.__pwned = 10">',
        "responses": [{"producer": f"evil-{i}", "text": p} for i, p in enumerate(XSS_PAYLOADS)],
    }


def make_store(
    tmp_path: Path,
    rows=None,
    *,
    per_item: int = 2,
    tasks=("rank", "classify"),
    people=("alice", "bob"),
    database: str | None = None,
):
    """A store with annotators and imported items: SQLite in ``tmp_path``, or a fresh
    schema in the database at ``database`` (a PostgreSQL URL)."""
    if database is not None:
        from culturalign.annotate import db

        engine = db.make_engine(database)
        db.metadata.drop_all(engine)
        engine.dispose()
    store = Store(database or tmp_path / "annotations.sqlite")
    for name in people:
        store.add_annotator(name)
    store.add_annotator("boss", role="admin")
    import_files(
        store, [write_jsonl(tmp_path / "questions.jsonl", rows or SAMPLE)], tasks=tasks, per_item=per_item
    )
    return store


_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


def login(client, store: Store, name: str) -> None:
    """Sign in through the one-time link, as a browser would."""
    person = store.annotator(name=name)
    link = issue_login_link(store, person, "http://testserver")
    page = client.get(link[len("http://testserver") :])
    assert page.status_code == 200
    fields = hidden_fields(page.text)
    done = client.post("/login", data=fields, follow_redirects=False)
    assert done.status_code == 303, done.text
