"""The same store, app and load test on PostgreSQL, for teams that share a server.

Opt-in: set ``CULTURALIGN_TEST_POSTGRES`` to a database URL the tests may wipe, e.g.
``postgresql://postgres@127.0.0.1:55432/annotate_test`` (needs ``culturalign[postgres]``).
"""

from __future__ import annotations

import os
import secrets

import pytest

from culturalign.annotate.store import StaleItem

from .helpers import make_store
from .test_load import run_load
from .test_store_io import race_same_task

URL = os.environ.get("CULTURALIGN_TEST_POSTGRES")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not URL, reason="set CULTURALIGN_TEST_POSTGRES to a PostgreSQL URL to run these"),
]


def test_history_replay_and_versions_on_postgres(tmp_path):
    pytest.importorskip("psycopg")
    store = make_store(tmp_path, database=URL)
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


def test_concurrent_edits_on_postgres(tmp_path):
    pytest.importorskip("psycopg")
    race_same_task(make_store(tmp_path, database=URL))


def test_load_on_postgres(tmp_path):
    pytest.importorskip("psycopg")
    run_load(tmp_path, database=URL)
