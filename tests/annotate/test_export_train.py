"""The app's CARE-shaped export trains without another command (issue 18): `train dpo`
reads it, builds best-vs-worst pairs on the way, and trains the tiny model."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from culturalign.annotate.importer import import_files
from culturalign.annotate.store import Store
from culturalign.cli import app

from .helpers import write_jsonl


def _questions(n: int) -> list[dict]:
    return [
        {
            "id": f"zh-{i:02d}",
            "text": f"在中国，第{i}个关于餐桌礼仪的问题是什么？",
            "language": "zh",
            "culture": "Chinese",
            "category": "social_norms",
            "responses": [
                {"producer": "model-a", "text": f"一个认真、正确的回答 {i}。"},
                {"producer": "model-b", "text": f"一个敷衍的回答 {i}。"},
                {"producer": "model-c", "text": f"你还有别的问题吗 {i}？"},
            ],
        }
        for i in range(n)
    ]


def test_train_dpo_on_the_apps_care_export(tmp_path, tiny_model_dir):
    db = tmp_path / "team.sqlite"
    store = Store(db)
    store.add_annotator("li", cultures="Chinese", languages="zh")
    import_files(store, [write_jsonl(tmp_path / "q.jsonl", _questions(24))], tasks=("rank",), per_item=1)
    person = store.annotator(name="li")
    for n, item in enumerate(store.items()):
        by_producer = {r["producer"]: r["rid"] for r in item.responses}
        entries = [
            {"rid": by_producer["model-a"], "rank": 1, "rating": 8, "not_an_answer": False},
            {"rid": by_producer["model-b"], "rank": 2, "rating": 3, "not_an_answer": False},
            {"rid": by_producer["model-c"], "rank": 3, "rating": None, "not_an_answer": True},
        ]
        store.submit(
            person.id, item.id, item.version, "rank", {"responses": entries}, f"nonce-li-{n:04d}-xxxxxx"
        )
    export = tmp_path / "care.jsonl"
    runner = CliRunner()
    done = runner.invoke(app, ["annotate", "export", "-f", "care", "--db", str(db), "-o", str(export)])
    assert done.exit_code == 0, done.output
    first = json.loads(export.read_text().splitlines()[0])
    assert (first["rank"], first["rating"], first["language"]) == (1, 8.0, "zh")
    out = tmp_path / "dpo"
    trained = runner.invoke(
        app,
        [
            "train",
            "dpo",
            "--model",
            f"hf:{tiny_model_dir}",
            "--data",
            str(export),
            "--out",
            str(out),
            "--preset",
            "tiny-test",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "training data: 19 examples (preference pairs) from care.jsonl" in trained.output
    assert "held-out preference gap (5 items)" in trained.output  # 24 questions, one pair each
