"""`culturalign annotate ...` on the command line: import, users, export, agreement."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from typer.testing import CliRunner

from culturalign.annotate.store import Store
from culturalign.cli import app

from .helpers import SAMPLE, write_jsonl

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, ["annotate", *args])
    assert result.exit_code == 0, result.output
    return result


def test_cli_flow(tmp_path):
    db = str(tmp_path / "a.sqlite")
    q = write_jsonl(tmp_path / "q.jsonl", SAMPLE)
    out = run("import", str(q), "--db", db, "--per-item", "2", "--tasks", "rank,classify,rubric").output
    assert "imported 3 items with 7 responses" in out and "3 new" in out
    link = run("users", "add", "alice", "--db", db, "--base-url", "http://127.0.0.1:9999").stdout.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:9999/login/[A-Za-z0-9_-]{40,}", link)
    run("users", "add", "bob", "--db", db)
    listing = run("users", "list", "--db", db).stdout
    assert "alice\tannotator\t0/9 tasks done" in listing
    again = runner.invoke(app, ["annotate", "users", "add", "alice", "--db", db])
    assert again.exit_code != 0
    new_link = run("users", "link", "alice", "--db", db).stdout.strip()
    assert new_link != link
    # judgments straight into the store, then export and agreement through the CLI
    store = Store(db)
    for who, ratings in (("alice", [9, 4, None]), ("bob", [8, 5, None])):
        person = store.annotator(name=who)
        item = store.items()[0]
        entries = [
            {"rid": r["rid"], "rank": i + 1, "rating": rating, "not_an_answer": rating is None}
            for i, (r, rating) in enumerate(zip(item.responses, ratings, strict=True))
        ]
        store.submit(person.id, item.id, 1, "rank", {"responses": entries}, f"nonce-for-{who}-0000")
    target = tmp_path / "care.jsonl"
    run("export", "--format", "care", "--db", db, "--out", str(target))
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["rating"] for r in rows] == [8.5, 4.5, "not an answer"]
    pairs = run("export", "--format", "pairs", "--db", db).stdout
    assert json.loads(pairs.splitlines()[0])["chosen_rating"] == 8.5
    report = tmp_path / "agreement.json"
    table = run("agreement", "--db", db, "--json", str(report)).stdout
    assert "Krippendorff's alpha (ordinal)" in table and "zh-norms-1" in table
    data = json.loads(report.read_text())
    rating = next(f for f in data["overall"] if f["name"] == "rating")
    assert rating["n_units"] == 2 and rating["n_annotators"] == 2 and rating["value"] is not None


def test_bad_input_exits_2_with_located_lines_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "text": "Q?", "language": "en", "culture": "X"}\n{"id": "q2", "text": \n')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "culturalign",
            "annotate",
            "import",
            str(bad),
            "--db",
            str(tmp_path / "a.sqlite"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert f"{bad}:2" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "culturalign",
            "annotate",
            "export",
            "--format",
            "csv",
            "--db",
            str(tmp_path / "a.sqlite"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "--format must be one of care, pairs, jsonl" in proc.stderr


def test_cli_import_does_not_load_the_web_stack():
    code = "import sys, culturalign.cli; print(sorted(m for m in ('fastapi', 'uvicorn', 'sqlalchemy', 'sklearn') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
