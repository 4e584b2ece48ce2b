"""A team at work (issue 18): routing by culture and language, skip and comment, the
coordinator's disagreement and adjudication flow, resolution in exports, plain error
pages, serve's --create and base URL, and agreement intervals."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from culturalign.annotate import exporter
from culturalign.annotate.agreement import SMALL_N, Judgment, compute_agreement
from culturalign.annotate.app import create_app
from culturalign.annotate.importer import import_files
from culturalign.annotate.store import Store
from culturalign.cli import app as cli_app
from culturalign.errors import ConfigError

from .helpers import SAMPLE, hidden_fields, login, make_store, write_jsonl

runner = CliRunner()

JA = {
    "id": "ja-norms-1",
    "text": "日本では、お店でチップを渡すべきですか？",
    "language": "ja",
    "culture": "Japanese",
    "reference_answer": "ふつうは渡しません。サービス料は料金に含まれています。",
    "responses": [
        {"producer": "model-a", "text": "いいえ、日本ではチップの習慣はほとんどありません。"},
        {"producer": "model-b", "text": "はい、二割ほど渡すのが礼儀です。"},
    ],
}
JA_EN = {**JA, "id": "ja-norms-1-en", "text": "In Japan, should you tip in shops?", "language": "en"}


def _team(tmp_path, per_item=1) -> Store:
    store = Store(tmp_path / "team.sqlite")
    store.add_annotator("yuki", cultures="Japanese", languages="ja,en")
    store.add_annotator("li", cultures=["Chinese"], languages=["zh", "en"])
    store.add_annotator("boss", role="admin")
    import_files(store, [write_jsonl(tmp_path / "q.jsonl", [*SAMPLE, JA, JA_EN])], per_item=per_item)
    return store


def _keys(store: Store, name: str) -> set[str]:
    return {row.item.key for row in store.queue(store.annotator(name=name).id)}


def test_items_go_only_to_people_of_their_culture_and_language(tmp_path):
    store = _team(tmp_path, per_item=2)
    # yuki: Japanese culture, reads ja and en; li: Chinese culture, reads zh and en
    assert _keys(store, "yuki") == {"ja-norms-1", "ja-norms-1-en"}
    assert _keys(store, "li") == {"zh-norms-1", "en-general-1"}  # the English question about China too
    # the Arab question has nobody who can judge it yet; an Arabic reader joins and gets it
    report = store.assign_report()
    assert report.unrouted == 5  # per_item=2 but one able person per item (and none for ar)
    store.add_annotator("amal", cultures="Arab", languages="ar")
    store.assign()
    assert _keys(store, "amal") == {"ar-commonsense-1"}
    # a changed profile withdraws unstarted items that no longer fit
    li = store.annotator(name="li")
    store.set_skills(li.id, cultures=["Chinese"], languages=["zh"])
    result = store.assign_report()
    assert result.withdrawn == 1 and _keys(store, "li") == {"zh-norms-1"}


def test_users_cli_declares_cultures_and_languages_and_lists_them(tmp_path):
    db = str(tmp_path / "a.sqlite")
    q = write_jsonl(tmp_path / "q.jsonl", [*SAMPLE, JA])
    assert runner.invoke(cli_app, ["annotate", "import", str(q), "--db", db, "-k", "1"]).exit_code == 0
    added = runner.invoke(
        cli_app,
        ["annotate", "users", "add", "yuki", "--cultures", "Japanese", "--languages", "ja,en", "--db", db],
    )
    assert added.exit_code == 0, added.output
    assert "added annotator 'yuki'; 1 item(s) assigned" in added.output
    listing = runner.invoke(cli_app, ["annotate", "users", "list", "--db", db]).stdout
    assert "yuki\tannotator\t0/2 tasks done\tcultures Japanese; languages ja,en" in listing
    changed = runner.invoke(cli_app, ["annotate", "users", "set", "yuki", "--languages", "en", "--db", db])
    assert changed.exit_code == 0 and "1 withdrawn" in changed.output
    bad = runner.invoke(cli_app, ["annotate", "users", "add", "x", "--languages", "ja,,en", "--db", db])
    assert isinstance(bad.exception, ConfigError)  # exit code 2 through the real entry point
    assert "--languages: each entry must be 1-200 characters" in str(bad.exception)


def test_serve_refuses_a_missing_database_and_stores_its_address_for_links(tmp_path, monkeypatch):
    missing = tmp_path / "missing.sqlite"
    refused = runner.invoke(cli_app, ["annotate", "serve", "--db", str(missing)])
    assert isinstance(refused.exception, ConfigError) and "no such annotation database" in str(
        refused.exception
    )
    assert "--create" in str(refused.exception) and not missing.exists()
    served = []
    monkeypatch.setattr("culturalign.annotate.server.serve", lambda db, **kw: served.append((db, kw)))
    ok = runner.invoke(cli_app, ["annotate", "serve", "--db", str(missing), "--create", "--port", "8123"])
    assert ok.exit_code == 0, ok.output
    assert missing.exists() and served[0][1]["port"] == 8123
    link = runner.invoke(cli_app, ["annotate", "users", "add", "yuki", "--db", str(missing)]).stdout.strip()
    assert link.startswith("http://127.0.0.1:8123/login/")


def _submit_rank(store, who, key, ratings, nonce):
    item = next(i for i in store.items() if i.key == key)
    entries = [
        {"rid": r["rid"], "rank": n + 1, "rating": rating, "not_an_answer": rating is None}
        for n, (r, rating) in enumerate(zip(item.responses, ratings, strict=True))
    ]
    store.submit(store.annotator(name=who).id, item.id, item.version, "rank", {"responses": entries}, nonce)


def _classify(client, item_id, **choices):
    fields = hidden_fields(client.get(f"/items/{item_id}/classify").text)
    data = {**fields, "culture_related": "yes", "geographic_scope": "national", **choices}
    return client.post(f"/items/{item_id}/classify", data=data, follow_redirects=False)


def test_disagreement_adjudication_and_resolution_in_exports(tmp_path):
    store = make_store(tmp_path)  # alice and bob both get every item
    app = create_app(store)
    item = next(i for i in store.items() if i.key == "zh-norms-1")
    clients = {}
    for who, category in (("alice", "social_norms"), ("bob", "cultural_commonsense")):
        clients[who] = c = TestClient(app)
        login(c, store, who)
        assert _classify(c, item.id, associated_culture="native", category=category).status_code == 303
    # a 1-1 split: broken by rule (the imported label), and said so
    counts: dict = {}
    rows = exporter.export_rows(store, "jsonl", counts=counts)
    record = next(r for r in rows if r["item"] == "zh-norms-1")
    assert record["resolution"]["classify"] == "tie broken by rule"
    assert record["merged"]["labels"]["category"] == "social_norms"  # SAMPLE's label
    assert counts["classify"] == {"tie broken by rule": 1}
    # the coordinator sees the conflict and who said what
    boss = TestClient(app)
    login(boss, store, "boss")
    page = boss.get("/coord")
    assert page.status_code == 200 and 'data-item="zh-norms-1"' in page.text and "category" in page.text
    detail = boss.get(f"/coord/items/{item.id}").text
    assert "social_norms" in detail and "cultural_commonsense" in detail and 'class="conflict"' in detail
    # annotators cannot reach it; adjudication needs the CSRF token
    assert clients["alice"].get("/coord").status_code == 403
    form = hidden_fields(boss.get(f"/coord/items/{item.id}/classify/adjudicate").text)
    decision = {
        **form,
        "culture_related": "yes",
        "associated_culture": "native",
        "category": "cultural_commonsense",
        "geographic_scope": "national",
        "comment": "chopstick taboo is commonsense here",
    }
    forged = {**decision, "csrf_token": "forged"}
    assert boss.post(f"/coord/items/{item.id}/classify/adjudicate", data=forged).status_code == 403
    done = boss.post(f"/coord/items/{item.id}/classify/adjudicate", data=decision, follow_redirects=False)
    assert done.status_code == 303
    counts = {}
    rows = exporter.export_rows(store, "jsonl", counts=counts)
    record = next(r for r in rows if r["item"] == "zh-norms-1")
    assert record["resolution"]["classify"] == "adjudicated" and counts["classify"] == {"adjudicated": 1}
    assert record["merged"]["labels"]["category"] == "cultural_commonsense"
    care = exporter.export_rows(store, "care")
    assert care == []  # nobody ranked yet: no rated rows
    _submit_rank(store, "alice", "zh-norms-1", [9, 3, None], "n-alice-rank-0001")
    care = exporter.export_rows(store, "care")
    assert {r["culture_type"] for r in care} == {"Cultural commonsense"}
    # the annotators' own answers are untouched
    assert {s.payload["category"] for s in store.submissions(task="classify")} == {
        "social_norms",
        "cultural_commonsense",
    }
    cli = runner.invoke(
        cli_app, ["annotate", "export", "-f", "jsonl", "--db", str(tmp_path / "annotations.sqlite")]
    )
    assert "classify: 1 adjudicated" in cli.output and "rank: 1 single annotator" in cli.output


def test_skip_needs_a_reason_and_skip_and_comment_are_exported(tmp_path):
    store = make_store(tmp_path)
    with TestClient(create_app(store)) as c:
        login(c, store, "alice")
        item = next(i for i in store.items() if i.key == "ar-commonsense-1")
        fields = hidden_fields(c.get(f"/items/{item.id}/rank").text)
        refused = c.post(f"/items/{item.id}/rank", data={**fields, "action": "skip"})
        assert refused.status_code == 422 and "choose why you cannot judge" in refused.text
        other = c.post(f"/items/{item.id}/rank", data={**fields, "action": "skip", "skip_reason": "other"})
        assert other.status_code == 422 and "say which in the comment" in other.text
        ok = c.post(
            f"/items/{item.id}/rank",
            data={**fields, "action": "skip", "skip_reason": "language", "comment": "Gulf dialect, not mine"},
            follow_redirects=False,
        )
        assert ok.status_code == 303 and ok.headers["location"] != f"/items/{item.id}/rank"
        assert "1 of 6 tasks done" in c.get("/").text  # a skip finishes the task
        assert "skipped" in c.get("/").text
        # a comment rides along with a normal answer too
        cls = _classify(c, item.id, associated_culture="native", category="social_norms", comment="easy one")
        assert cls.status_code == 303
    [record] = [r for r in exporter.export_rows(store, "jsonl") if r["item"] == "ar-commonsense-1"]
    assert record["skipped"] == {"rank": 1}
    assert {(x["task"], x["comment"]) for x in record["comments"]} == {
        ("rank", "Gulf dialect, not mine"),
        ("classify", "easy one"),
    }
    skip = next(s for s in store.submissions(task="rank"))
    assert skip.payload == {"skipped": True, "skip_reason": "language", "comment": "Gulf dialect, not mine"}
    # a skip is no answer: agreement and CARE rows ignore it
    assert exporter.export_rows(store, "care") == []
    assert all(f.n_units == 0 for f in compute_agreement(store.judgments()).overall if f.name == "rating")


def test_error_pages_speak_plainly(tmp_path):
    store = make_store(tmp_path)
    with TestClient(create_app(store)) as c:
        c.cookies.set("ca_login_csrf", "a", path="/login")
        unknown = c.post("/login", data={"token": "x" * 40, "csrf_token": "a"})
        assert (
            unknown.status_code == 400
            and '<h1 id="error-heading">This login link is not known here</h1>' in unknown.text
        )
        login(c, store, "alice")
        missing = c.get("/items/9999/rank")
        assert missing.status_code == 404
        assert '<h1 id="error-heading">There is nothing here</h1>' in missing.text
        assert "<h1>404</h1>" not in missing.text and "No such task in your queue." in missing.text
        assert '<h1 id="error-heading">There is nothing here</h1>' in c.get("/no/such/page").text
        malformed = c.get("/items/not-a-number/rank")
        assert malformed.status_code == 404 and "There is nothing here" in malformed.text


def test_task_page_shows_culture_language_position_guidelines_and_next(tmp_path):
    store = make_store(tmp_path)
    with TestClient(create_app(store)) as c:
        person = store.annotator(name="alice")
        assert not store.has_seen_guidelines(person.id)
        login(c, store, "alice")
        first = c.get("/guidelines?first=1").text
        assert 'id="first-visit"' in first and "the culture this question was collected for" in first
        assert store.has_seen_guidelines(person.id)
        item = next(i for i in store.items() if i.key == "ar-commonsense-1")
        page = c.get(f"/items/{item.id}/classify").text
        assert (
            '<strong id="item-culture">Arab</strong>' in page
            and '<strong id="item-language">ar</strong>' in page
        )
        assert '<span id="position">item 2 of 3</span>' in page and 'href="/guidelines"' in page
        assert "about the culture this question was collected for" in page  # not "the annotators' own"
        assert 'id="next-link"' in page and 'id="skip-button"' in page


def test_language_survives_import_to_export_from_response_files_only(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    store.add_annotator("alice")
    responses = [
        {
            "item_id": "zh-1",
            "model": m,
            "messages": [],
            "text": t,
            "question": "筷子可以竖插在米饭里吗？",
            "culture": "Chinese",
        }
        for m, t in (("model-a", "不可以，不吉利。"), ("model-b", "可以。"))
    ]
    import_files(store, [write_jsonl(tmp_path / "gen.jsonl", responses)])
    [item] = store.items()
    assert item.content["language"] == "zh" and item.content["language_detected"] is True
    _submit_rank(store, "alice", "zh-1", [8, 2], "n-alice-rank-0002")
    assert {r["language"] for r in exporter.export_rows(store, "care")} == {"zh"}


def _judgments(n_items: int) -> list[Judgment]:
    out = []
    for i in range(n_items):
        for who in ("a", "b"):
            label = "yes" if (i % 3 or who == "a") else "no"
            out.append(Judgment(f"q{i}", 1, who, "classify", {"culture_related": label == "yes"}))
    return out


@pytest.mark.parametrize("n_items", [8, 40])
def test_agreement_figures_carry_interval_n_and_small_n_warning(n_items):
    [fig] = [f for f in compute_agreement(_judgments(n_items)).overall if f.name == "culture_related"]
    assert fig.n_items == n_items and fig.value is not None
    assert fig.ci_low is not None and fig.ci_low <= fig.value <= fig.ci_high
    assert bool(fig.warning) == (n_items < SMALL_N)
    again = next(f for f in compute_agreement(_judgments(n_items)).overall if f.name == "culture_related")
    assert (again.ci_low, again.ci_high) == (fig.ci_low, fig.ci_high)  # seeded: reproducible


def test_export_pairs_equal_data_pairs_on_the_care_export_ties_included(tmp_path):
    store = make_store(tmp_path)
    # zh-norms-1: a tie at the top (9, 9), broken by alice's merged rank order
    _submit_rank(store, "alice", "zh-norms-1", [9, 9, 2], "n-alice-rank-0003")
    _submit_rank(store, "alice", "ar-commonsense-1", [7, 7], "n-alice-rank-0004")  # all tied: no pair
    _submit_rank(store, "bob", "en-general-1", [8, 1], "n-bob-rank-00005")
    db = str(tmp_path / "annotations.sqlite")
    care, pairs, data_pairs = (tmp_path / n for n in ("care.jsonl", "pairs.jsonl", "data-pairs.jsonl"))
    for fmt, out in (("care", care), ("pairs", pairs)):
        assert (
            runner.invoke(cli_app, ["annotate", "export", "-f", fmt, "--db", db, "-o", str(out)]).exit_code
            == 0
        )
    made = runner.invoke(cli_app, ["data", "pairs", str(care), "--out", str(data_pairs)])
    assert made.exit_code == 0, made.output
    ours = [json.loads(line) for line in pairs.read_text().splitlines()]
    theirs = [json.loads(line) for line in data_pairs.read_text().splitlines()]
    key = [(p["question_id"], p["chosen"], p["rejected"], p["chosen_rating"]) for p in ours]
    assert key == [(p["question_id"], p["chosen"], p["rejected"], p["chosen_rating"]) for p in theirs]
    assert len(ours) == 2
    item = next(i for i in store.items() if i.key == "zh-norms-1")
    zh = next(p for p in ours if p["question_id"] == "zh-norms-1")
    assert zh["chosen"][0]["content"] == item.responses[0]["text"]  # the tie goes to rank 1


def test_rank_adjudication_replaces_the_averaged_ratings(tmp_path):
    store = make_store(tmp_path)
    _submit_rank(store, "alice", "ar-commonsense-1", [9, 2], "n-alice-rank-0010")
    _submit_rank(store, "bob", "ar-commonsense-1", [4, 3], "n-bob-rank-000011")
    assert [r["rating"] for r in exporter.export_rows(store, "care")] == [6.5, 2.5]
    item = next(i for i in store.items() if i.key == "ar-commonsense-1")
    with TestClient(create_app(store)) as boss:
        login(boss, store, "boss")
        page = boss.get(f"/coord/items/{item.id}/rank/adjudicate")
        assert page.status_code == 200 and "Save the decision" in page.text
        form = hidden_fields(page.text)
        by_producer = {r["producer"]: r["rid"] for r in item.responses}
        a, b = by_producer["model-a"], by_producer["model-b"]
        bad = {**form, f"rank_{a}": "1", f"rank_{b}": "2", f"rating_{a}": "3", f"rating_{b}": "8"}
        refused = boss.post(f"/coord/items/{item.id}/rank/adjudicate", data=bad)
        assert refused.status_code == 422 and "rated lower" in refused.text  # the same checks as annotators
        good = {**bad, f"rating_{a}": "8", f"rating_{b}": "2"}
        done = boss.post(f"/coord/items/{item.id}/rank/adjudicate", data=good, follow_redirects=False)
        assert done.status_code == 303
        assert "decided by boss" in boss.get(f"/coord/items/{item.id}").text
    counts: dict = {}
    rows = exporter.export_rows(store, "care", counts=counts)
    assert [(r["rating"], r["rank"]) for r in rows] == [(8.0, 1), (2.0, 2)]
    assert counts["rank"] == {"adjudicated": 1}


def test_care_export_as_a_datasets_folder_trains_like_the_jsonl(tmp_path):
    from culturalign.train.data import load_pairs

    store = make_store(tmp_path)
    _submit_rank(store, "alice", "zh-norms-1", [9, 4, None], "n-alice-rank-0020")
    _submit_rank(store, "bob", "en-general-1", [8, 1], "n-bob-rank-000021")
    db = str(tmp_path / "annotations.sqlite")
    folder, jsonl = tmp_path / "care-hf", tmp_path / "care.jsonl"
    done = runner.invoke(cli_app, ["annotate", "export", "--db", db, "--to", "hf", "-o", str(folder)])
    assert done.exit_code == 0, done.output
    assert runner.invoke(cli_app, ["annotate", "export", "--db", db, "-o", str(jsonl)]).exit_code == 0
    from datasets import load_from_disk

    assert load_from_disk(str(folder))[0]["rating"] in ("9.0", "8.0")  # text, as on the hub
    as_folder = [(p.question_id, p.chosen_rating, p.rejected_rating) for p in load_pairs(folder)]
    as_file = [(p.question_id, p.chosen_rating, p.rejected_rating) for p in load_pairs(jsonl)]
    assert as_folder == as_file == [("zh-norms-1", 9.0, 4.0), ("en-general-1", 8.0, 1.0)]
    no_out = runner.invoke(cli_app, ["annotate", "export", "--db", db, "--to", "hf"])
    assert isinstance(no_out.exception, ConfigError) and "--out" in str(no_out.exception)
