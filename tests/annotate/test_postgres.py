"""The same store, app and load test on PostgreSQL, for teams that share a server.

They run on a throwaway cluster of Debian's ``postgresql`` (see ``conftest.py``), or on
your own server when ``CULTURALIGN_TEST_POSTGRES`` names a database URL the tests may
wipe, e.g. ``postgresql://postgres@127.0.0.1:55432/annotate_test``.
"""

from __future__ import annotations

import secrets

import pytest

from culturalign.annotate.store import StaleItem

from .helpers import make_store
from .test_load import run_load
from .test_store_io import race_same_task

pytestmark = pytest.mark.slow


def test_history_replay_and_versions_on_postgres(tmp_path, postgres_url):
    store = make_store(tmp_path, database=postgres_url)
    person = store.annotator(name="alice")
    item = store.items()[0]
    payload = {"culture_related": False}
    first, created = store.submit(person.id, item.id, 1, "classify", payload, "nonce-postgres-0001")
    again, created_again = store.submit(person.id, item.id, 1, "classify", payload, "nonce-postgres-0001")
    assert created and not created_again and first == again
    store.submit(person.id, item.id, 1, "classify", {"culture_related": True}, secrets.token_urlsafe(16))
    rows = store.submissions(task="classify")
    assert [r.is_current for r in rows] == [False, True] and rows[1].previous_id == rows[0].id
    with pytest.raises(StaleItem):
        store.submit(person.id, item.id, 2, "classify", payload, secrets.token_urlsafe(16))
    store.dispose()


def test_concurrent_edits_on_postgres(tmp_path, postgres_url):
    store = make_store(tmp_path, database=postgres_url)
    race_same_task(store)
    store.dispose()


def test_load_on_postgres(tmp_path, postgres_url):
    run_load(tmp_path, database=postgres_url)


def test_routing_skills_and_adjudication_on_postgres(tmp_path, postgres_url):
    from culturalign.annotate import exporter

    store = make_store(tmp_path, database=postgres_url, people=())
    store.add_annotator("li", cultures="Chinese", languages="zh,en")
    store.add_annotator("amal", cultures="Arab", languages=["ar"])
    store.assign()
    keys = {p: {r.item.key for r in store.queue(store.annotator(name=p).id)} for p in ("li", "amal")}
    assert keys == {"li": {"zh-norms-1", "en-general-1"}, "amal": {"ar-commonsense-1"}}
    item = next(i for i in store.items() if i.key == "ar-commonsense-1")
    boss = store.annotator(name="boss")
    decision = {"culture_related": False}
    amal = store.annotator(name="amal")
    store.submit(amal.id, item.id, 1, "classify", {"culture_related": True}, secrets.token_urlsafe(16))
    store.adjudicate(item.id, 1, "classify", boss.id, decision, "not culture-related after all")
    [record] = [r for r in exporter.export_rows(store, "jsonl") if r["item"] == "ar-commonsense-1"]
    assert record["resolution"] == {"classify": "adjudicated"}
    assert record["merged"]["labels"]["culture_related"] is False
    store.dispose()
