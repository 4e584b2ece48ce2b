"""Assignments even out as annotators join (issue 17 item 6): unstarted items move to the
newcomer, started ones never move, and nobody holds an item twice."""

from __future__ import annotations

import secrets

from typer.testing import CliRunner

from culturalign.annotate.store import Store
from culturalign.cli import app

from .helpers import SAMPLE, make_store, write_jsonl


def _loads(store: Store) -> dict[str, int]:
    return {p.name: len(store.queue(p.id)) for p in store.annotators() if not p.is_admin}


def _rows(n: int) -> list[dict]:
    return [dict(SAMPLE[2], id=f"q{i:03d}") for i in range(n)]


def test_second_annotator_takes_half_of_the_first_ones_unstarted_items(tmp_path):
    store = make_store(tmp_path, _rows(70), per_item=1, people=("alice",))
    assert _loads(store) == {"alice": 70}
    store.add_annotator("bob")
    report = store.assign_report()
    assert (report.added, report.moved) == (0, 35)
    assert _loads(store) == {"alice": 35, "bob": 35}
    # bob takes the items alice would reach last, so her next items stay hers
    alice = store.annotator(name="alice")
    assert [row.item.key for row in store.queue(alice.id)][:3] == ["q000", "q001", "q002"]


def test_started_items_never_move(tmp_path):
    store = make_store(tmp_path, _rows(10), per_item=1, people=("alice",))
    alice = store.annotator(name="alice")
    for row in store.queue(alice.id)[:8]:  # alice has started 8 of her 10 items
        payload = {"related": False}
        store.submit(alice.id, row.item.id, row.item.version, "classify", payload, secrets.token_urlsafe(16))
    started = {row.item.key for row in store.queue(alice.id)[:8]}
    store.add_annotator("bob")
    assert store.assign() == 2  # only the two unstarted items can move; 8/2 is as even as allowed
    assert _loads(store) == {"alice": 8, "bob": 2}
    assert {row.item.key for row in store.queue(alice.id)} == started


def test_overlap_is_kept_when_a_third_annotator_joins(tmp_path):
    store = make_store(tmp_path, _rows(9), per_item=2, people=("alice", "bob"))
    assert _loads(store) == {"alice": 9, "bob": 9}
    store.add_annotator("carol")
    assert store.assign() == 6
    assert _loads(store) == {"alice": 6, "bob": 6, "carol": 6}
    people = [p for p in store.annotators() if not p.is_admin]
    for item in store.items():
        assert sum(store.is_assigned(p.id, item.id) for p in people) == 2


def test_users_add_on_the_command_line_balances(tmp_path):
    db = str(tmp_path / "a.sqlite")
    q = write_jsonl(tmp_path / "q.jsonl", _rows(70))
    runner = CliRunner()
    assert runner.invoke(app, ["annotate", "import", str(q), "--db", db, "--per-item", "1"]).exit_code == 0
    for name in ("alice", "bob"):
        result = runner.invoke(app, ["annotate", "users", "add", name, "--db", db])
        assert result.exit_code == 0, result.output
    assert "35 item(s) assigned (35 unstarted moved from busier annotators)" in result.output
    assert _loads(Store(db)) == {"alice": 35, "bob": 35}
