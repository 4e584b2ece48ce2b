"""The report's human-rating sections: an annotation database (progress by culture,
agreement between annotators with its interval and n, the rating distribution) found by
its name in a run folder or given with --annotations, and the judge-vs-human
correlations with bootstrap intervals over the rated pairs."""

from __future__ import annotations

import json

from culturalign.report.build import build_report

# item -> (culture, alice's ratings of responses a and b, bob's)
RATINGS = {
    "q0": ("Chinese", (9, 3), (8, 3)),
    "q1": ("Arab", (7, 5), (7, 4)),
    "q2": ("Chinese", (2, 6), (3, 6)),
    "q3": ("Arab", (5, 5), None),  # bob has not rated q3 yet
}


def _database(path):
    from culturalign.annotate.importer import import_files
    from culturalign.annotate.store import Store

    rows = [
        {
            "id": key,
            "text": f"question {key}",
            "language": "en",
            "culture": culture,
            "reference_answer": "ref",
            "responses": [{"producer": "a", "text": "x"}, {"producer": "b", "text": "y"}],
        }
        for key, (culture, *_) in RATINGS.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    questions = path.with_name("questions.jsonl")
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store = Store(path)
    people = {name: store.add_annotator(name) for name in ("alice", "bob")}
    import_files(store, [questions], tasks=("rank",), per_item=2)
    for item in store.items():
        _, *by_person = RATINGS[item.key]
        for (name, _), ratings in zip(people.items(), by_person, strict=True):
            if ratings is None:
                continue
            order = sorted(zip(item.responses, ratings, strict=True), key=lambda x: -x[1])
            entries = [
                {"rid": resp["rid"], "rank": k + 1, "rating": r, "not_an_answer": False}
                for k, (resp, r) in enumerate(order)
            ]
            who = store.annotator(name=name)
            store.submit(who.id, item.id, item.version, "rank", {"responses": entries}, f"{name}-{item.key}")
    store.dispose()
    return path


def test_annotation_database_in_a_run_folder(tmp_path):
    _database(tmp_path / "runs" / "annotations.sqlite")
    _, md_path = build_report([tmp_path / "runs"], out=tmp_path / "report")
    md = md_path.read_text()
    assert "## Annotation database" in md and "4 items, 7 current judgments" in md
    # Arab: q1 done by both, q3 by alice only: 3 of 4 tasks; Chinese: all 4
    assert "| Arab | 2 | 3 | 0 | 4 | 75% |" in md and "| Chinese | 2 | 4 | 0 | 4 | 100% |" in md
    # ratings: Krippendorff's alpha over the three items both rated, with its n and the small-n warning
    row = next(line for line in md.splitlines() if line.startswith("| rating |"))
    assert "Krippendorff's alpha (ordinal)" in row and "(n=3)" in row and "too few to read" in row
    assert "Human ratings by culture" in md  # the distribution figure
    assert (tmp_path / "report_files" / "annotation-ratings-0.png").is_file()


def test_annotations_option_and_judge_agreement_intervals(tmp_path):
    from culturalign.records.judgment import Judgment

    db = _database(tmp_path / "elsewhere" / "team.sqlite")  # not found by name: given explicitly
    run = tmp_path / "runs" / "agree"
    run.mkdir(parents=True)
    pairs = [(9, 8), (3, 4), (7, 7), (5, 4), (2, 3), (6, 6)]
    js = [
        Judgment(item_id=f"i{k}", question="q", reference="a", response="r", culture="Chinese", judge="x",
                 rating=j, human_rating=h, valid=True, status="ok")
        for k, (h, j) in enumerate(pairs)
    ]  # fmt: skip
    (run / "judgments.jsonl").write_text("".join(j.model_dump_json() + "\n" for j in js), encoding="utf-8")
    stats = {"n_pairs": 6, "pearson": 0.95, "spearman": 0.94, "kendall_tau": 0.86}
    agreement = {"judge": "hf:judge", "stats": stats, "n_responses": 6, "n_invalid": 0, "n_skipped": 0}
    (run / "agreement.json").write_text(json.dumps(agreement), encoding="utf-8")
    (run / "run.json").write_text(json.dumps({"kind": "judge-agreement", "notes": []}), encoding="utf-8")
    _, md_path = build_report([tmp_path / "runs"], out=tmp_path / "report", annotations=[db])
    md = md_path.read_text()
    assert f"{db}: 4 items" in md
    summary = md[md.index("## Summary") : md.index("## Judge vs. human ratings")]
    assert "Judge hf:judge against native-speaker ratings (agree): Pearson 0.950 [" in summary
    assert "(CARE's GPT-4o judge: 0.933)" in summary
    assert "Annotators' agreement on rating (team.sqlite): Krippendorff's alpha (ordinal)" in summary
    assert "over 3 items; only 3 item(s): too few to read" in summary
    row = next(line for line in md.splitlines() if line.startswith("| agree |"))
    # each correlation with a bootstrap interval over the six pairs and its n
    assert row.count("(n=6)") == 3 and "0.950 [" in row and "0.860 [" in row


def test_a_file_named_like_a_database_that_is_not_one_is_a_clear_error(tmp_path):
    import sqlite3

    import pytest

    from culturalign.errors import ConfigError

    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "annotations.db").write_text("not a database", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"annotations\.db: not an annotation database"):
        build_report([runs], out=tmp_path / "report")
    other = tmp_path / "other" / "annotations.sqlite"  # a SQLite file of something else
    other.parent.mkdir()
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(ConfigError, match="no annotators, items, submissions table"):
        build_report([other.parent], out=tmp_path / "report")
    with sqlite3.connect(other) as conn:  # and the report left it as it was
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["t"]
