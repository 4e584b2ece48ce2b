"""Store, import and export: versions, assignments, history, and files other stages read."""

from __future__ import annotations

import json
import secrets

import pytest

from culturalign.annotate import exporter
from culturalign.annotate.importer import collect, import_files
from culturalign.annotate.store import StaleItem, Store
from culturalign.errors import DataError
from culturalign.generate import generate_responses
from culturalign.io import read_records
from culturalign.lm import load_lm
from culturalign.records import CulturalQuestion, GenerationParams, ModelResponse, PreferencePair

from .helpers import SAMPLE, make_store, write_jsonl


def _rank(store: Store, who: str, key: str, ratings: list[int | None]) -> None:
    """Submit ratings given in import order (None = not an answer), ranked best first."""
    person = store.annotator(name=who)
    item = next(i for i in store.items() if i.key == key)
    pairs = sorted(zip(item.responses, ratings, strict=True), key=lambda p: -(p[1] or 0))
    entries = [
        {"rid": r["rid"], "rank": i + 1, "rating": rating, "not_an_answer": rating is None}
        for i, (r, rating) in enumerate(pairs)
    ]
    store.submit(person.id, item.id, item.version, "rank", {"responses": entries}, secrets.token_urlsafe(16))


def _classify(store: Store, who: str, key: str, category: str | None, related: bool = True) -> None:
    person = store.annotator(name=who)
    item = next(i for i in store.items() if i.key == key)
    payload = {
        "culture_related": related,
        "associated_culture": "native" if related else None,
        "category": category,
        "geographic_scope": "national" if related else None,
        "moral_sensitive": False if related else None,
        "temporal_sensitive": False if related else None,
    }
    store.submit(person.id, item.id, item.version, "classify", payload, secrets.token_urlsafe(16))


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_assignment_balances_load_and_respects_k(tmp_path):
    rows = [dict(SAMPLE[0], id=f"q{i}") for i in range(6)]
    store = make_store(tmp_path, rows, per_item=2, people=("a", "b", "c", "d"))
    loads = {p.name: len(store.queue(p.id)) for p in store.annotators() if not p.is_admin}
    assert loads == {"a": 3, "b": 3, "c": 3, "d": 3}
    assert len(store.queue(store.annotator(name="boss").id)) == 0
    # a newcomer takes unstarted work from the busiest: 12 links over 5 people is 3,3,2,2,2
    store.add_annotator("e")
    assert store.assign() == 2
    loads = {p.name: len(store.queue(p.id)) for p in store.annotators() if not p.is_admin}
    assert loads == {"a": 3, "b": 3, "c": 2, "d": 2, "e": 2}
    # raising k hands the extra copies to the least-loaded, and loads stay within one
    assert store.assign(per_item=3) == 6
    counts = [len(store.queue(p.id)) for p in store.annotators() if not p.is_admin]
    assert sum(counts) == 18 and max(counts) - min(counts) <= 1
    for item in store.items():
        holders = [p for p in store.annotators() if store.is_assigned(p.id, item.id)]
        assert len(holders) == 3  # three different people per item


def test_reimport_makes_versions_and_old_judgments_stay_with_theirs(tmp_path):
    store = make_store(tmp_path)
    _rank(store, "alice", "zh-norms-1", [9, 5, None])
    same = import_files(store, [write_jsonl(tmp_path / "same.jsonl", SAMPLE)])
    assert (same.summary.new, same.summary.updated, same.summary.unchanged) == (0, 0, 3)
    changed = json.loads(json.dumps(SAMPLE))
    changed[0]["responses"].append({"producer": "model-d", "text": "新的回答"})
    again = import_files(store, [write_jsonl(tmp_path / "v2.jsonl", changed)])
    assert again.summary.updated == 1
    item = next(i for i in store.items() if i.key == "zh-norms-1")
    assert item.version == 2 and len(item.responses) == 4
    old = store.item_version_content(item.id, 1)
    assert len(old["responses"]) == 3
    person = store.annotator(name="alice")
    assert store.queue(person.id)[0].status["rank"] == "outdated"
    assert store.judgments() == []  # judgments on version 1 no longer count
    with pytest.raises(StaleItem):
        store.submit(person.id, item.id, 1, "rank", {"responses": []}, secrets.token_urlsafe(16))


def test_import_groups_generate_outputs_by_item(tiny_model_dir, tmp_path):
    questions = [
        CulturalQuestion(
            id=f"q{i}",
            text=f"问题 {i}？",
            language="zh",
            culture="Chinese",
            category="Literacy",
            reference_answer="答案",
        )
        for i in range(3)
    ]
    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    files = []
    for mode in ("vanilla", "cot"):
        out = tmp_path / f"{mode}.jsonl"
        generate_responses(
            lm,
            questions,
            mode=mode,
            params=GenerationParams(temperature=1.0, max_new_tokens=8, seed=3),
            out=out,
        )
        files.append(out)
    generated = [r for f in files for r in read_records(f, ModelResponse)]
    usable = [r for r in generated if r.text and r.text.strip()]
    assert len(generated) == 6 and len(usable) >= 4  # sampled from a random model: nearly always text
    contents, report = collect(files)
    assert [c["key"] for c in contents] == sorted({r.item_id for r in usable})
    assert report.responses == len(usable) and report.skipped_failed == len(generated) - len(usable)
    first = next(c for c in contents)
    assert first["question"] == f"问题 {first['key'][1]}？" and first["reference"] == "答案"
    producers = {r["producer"] for c in contents for r in c["responses"]}
    expected = {f"hf:{tiny_model_dir}" + ("" if r.mode == "vanilla" else " [cot]") for r in usable}
    assert producers == expected


def test_import_model_responses_without_question_files(tmp_path):
    def resp(item, model, text, **kw):
        return ModelResponse(
            item_id=item,
            model=model,
            messages=[{"role": "user", "content": "Q"}],
            text=text,
            question=f"Question {item}?",
            reference_answer="ref",
            culture="Arab",
            **kw,
        ).model_dump(mode="json")

    a = write_jsonl(tmp_path / "a.jsonl", [resp("x", "m-a", "one"), resp("y", "m-a", "two")])
    b = write_jsonl(
        tmp_path / "b.jsonl",
        [
            resp("x", "m-b", "three"),
            resp("y", "m-b", None, error="timeout"),
            resp("x", "m-b", "en", lang="en"),
        ],
    )
    contents, report = collect([a, b])
    by_key = {c["key"]: c for c in contents}
    assert set(by_key) == {"x", "y", "x@en"}
    assert [r["producer"] for r in by_key["x"]["responses"]] == ["m-a", "m-b"]
    assert report.skipped_failed == 1


def test_import_reports_every_located_problem(tmp_path):
    bad = tmp_path / "bad.jsonl"
    ok_line = ModelResponse(item_id="x", model="m", messages=[], text="t", question="Q?").model_dump_json()
    no_question = ModelResponse(item_id="z", model="m", messages=[], text="t").model_dump_json()
    bad.write_text(
        ok_line
        + "\n"
        + no_question
        + "\n"
        + '{"item_id": "y", "model": "m", "messages": [], "sample_index": "two"}\n'
    )
    with pytest.raises(DataError) as err:
        collect([bad, tmp_path / "missing.jsonl"])
    lines = err.value.lines()
    assert f"{tmp_path / 'missing.jsonl'}: no such file" in lines
    assert any(line.startswith(f"{bad}:2: question: item 'z' has no question text") for line in lines)
    assert any(line.startswith(f"{bad}:3: sample_index") for line in lines)


def _judged_store(tmp_path):
    store = make_store(tmp_path, tasks=("rank", "classify", "rubric"))
    _rank(store, "alice", "zh-norms-1", [9, 5, None])
    _rank(store, "bob", "zh-norms-1", [8, 6, None])
    _rank(store, "alice", "ar-commonsense-1", [7, 3])
    _rank(store, "bob", "ar-commonsense-1", [6, 6])
    _rank(store, "alice", "en-general-1", [8, 2])
    _classify(store, "alice", "zh-norms-1", "social_norms")
    _classify(store, "bob", "zh-norms-1", "social_norms")
    _classify(store, "alice", "en-general-1", None, related=False)
    _classify(store, "bob", "en-general-1", None, related=False)
    _classify(store, "alice", "zh-norms-1", "opinion")  # an edit: history keeps "social_norms"
    return store


def test_export_care_rows_read_back_by_the_care_loader(tmp_path):
    from culturalign.datasets import care_prefs

    store = _judged_store(tmp_path)
    rows = exporter.export_rows(store, "care")
    # en-general-1 was judged not culture-related by both: left out
    assert {r["id"] for r in rows} == {"zh-norms-1", "ar-commonsense-1"}
    assert set(rows[0]) >= {"question", "response", "culture_type", "associated_culture", "rating"}
    zh = [r for r in rows if r["id"] == "zh-norms-1"]
    assert sorted(r["rating"] for r in zh if r["rating"] != "not an answer") == [5.5, 8.5]
    assert sum(r["rating"] == "not an answer" for r in zh) == 1
    # alice's edit made the category a 1-1 tie; the imported label breaks it
    assert zh[0]["culture_type"] == "Social norms" and zh[0]["associated_culture"] == "Native (Chinese)"
    path = write_jsonl(tmp_path / "care.jsonl", rows)
    questions = care_prefs.load(path)
    assert {q.id for q in questions} == {"zh-norms-1", "ar-commonsense-1"}
    zh_q = next(q for q in questions if q.id == "zh-norms-1")
    assert sorted(r.rating for r in zh_q.responses if r.rating) == [5.5, 8.5]
    assert sum(r.not_an_answer for r in zh_q.responses) == 1


def test_export_pairs_best_vs_worst(tmp_path):
    store = _judged_store(tmp_path)
    pairs = [PreferencePair.model_validate(r) for r in exporter.export_rows(store, "pairs")]
    by_q = {p.question_id: p for p in pairs}
    assert set(by_q) == {"zh-norms-1", "ar-commonsense-1"}
    assert (by_q["zh-norms-1"].chosen_rating, by_q["zh-norms-1"].rejected_rating) == (8.5, 5.5)
    assert by_q["ar-commonsense-1"].chosen_rating == 6.5
    assert by_q["zh-norms-1"].prompt[0].content == SAMPLE[0]["text"]


def test_export_jsonl_has_history_classification_and_versions(tmp_path):
    store = _judged_store(tmp_path)
    rows = {r["item"]: r for r in exporter.export_rows(store, "jsonl")}
    zh = rows["zh-norms-1"]
    classify = [s for s in zh["submissions"] if s["task"] == "classify" and s["annotator"] == "alice"]
    assert [s["payload"]["category"] for s in classify] == ["social_norms", "opinion"]
    assert [s["current"] for s in classify] == [False, True] and classify[1]["previous_id"] == classify[0][
        "id"
    ]
    assert zh["version"] == 1 and zh["content"]["question"] == SAMPLE[0]["text"]
    assert rows["en-general-1"]["merged"]["labels"]["culture_related"] is False


def race_same_task(store: Store) -> None:
    """Many concurrent edits of one task plus concurrent replays of one form."""
    from concurrent.futures import ThreadPoolExecutor

    person = store.annotator(name="alice")
    item = store.items()[0]
    payloads = [{"culture_related": False, "n": i} for i in range(10)]
    jobs = [(p, f"distinct-nonce-{i:04d}") for i, p in enumerate(payloads)]
    jobs += [({"culture_related": True}, "replayed-nonce-0000")] * 10
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda j: store.submit(person.id, item.id, item.version, "classify", *j), jobs)
        )
    assert sum(created for _, created in results) == 11
    assert len({row_id for row_id, _ in results[10:]}) == 1
    rows = store.submissions(task="classify")
    assert len(rows) == 11 and sum(r.is_current for r in rows) == 1
    # the history is one chain: every row but the first replaced exactly one earlier row
    previous = [r.previous_id for r in rows if r.previous_id is not None]
    assert len(previous) == 10 and len(set(previous)) == 10


def test_concurrent_edits_keep_one_current_row(tmp_path):
    race_same_task(make_store(tmp_path))


def test_import_fills_language_and_culture_for_generate_outputs(tmp_path):
    row = ModelResponse(item_id="x", model="m", messages=[], text="t", question="何ですか？").model_dump(
        mode="json"
    )
    contents, _ = collect([write_jsonl(tmp_path / "g.jsonl", [row])], language="ja", culture="Japanese")
    assert (contents[0]["language"], contents[0]["culture"]) == ("ja", "Japanese")


def test_import_real_care_test_set_for_classification(shared_data, tmp_path):
    source = shared_data / "care" / "Chinese-test.json"
    raw = json.loads(source.read_text(encoding="utf-8"))
    store = Store(tmp_path / "a.sqlite")
    store.add_annotator("alice")
    report = import_files(store, [source], tasks=("rank", "classify"), per_item=1)
    assert report.items == len(raw) == 150 and report.responses == 0
    items = store.items()
    assert (
        items[0].content["question"] == raw[0]["question"]
        and items[0].content["reference"] == raw[0]["answer"]
    )
    # no candidate responses: only the classification task is offered
    queue = store.queue(store.annotator(name="alice").id)
    assert len(queue) == 150 and all(list(row.status) == ["classify"] for row in queue)


def test_each_annotator_sees_their_own_fixed_order(tmp_path):
    from culturalign.annotate.order import display_order

    rows = [
        dict(SAMPLE[0], id=f"q{i}", responses=[{"producer": f"m{j}", "text": f"r{j}"} for j in range(6)])
        for i in range(5)
    ]
    store = make_store(tmp_path, rows)
    alice, bob = store.annotator(name="alice").id, store.annotator(name="bob").id
    orders = {
        who: [[r["rid"] for r in display_order(who, item)] for item in store.items()] for who in (alice, bob)
    }
    assert orders[alice] != orders[bob]
    assert orders[alice] == [[r["rid"] for r in display_order(alice, item)] for item in store.items()]
    labels = [r["label"] for r in display_order(alice, store.items()[0])]
    assert labels == ["A", "B", "C", "D", "E", "F"]
