"""What the viewer reads from run folders, the page it writes around that, the link
fragments for the report, ``--serve`` on loopback, and bad input as exit-2 errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from culturalign.errors import ConfigError, DataError
from culturalign.view import build_page, link, serve, write_view
from culturalign.view.collect import collect
from culturalign.view.page import embed_json

from .helpers import XSS_PAYLOADS, care_run, items_run, judgment, response, sample_questions


@pytest.fixture
def two_care_runs(tmp_path) -> Path:
    """Two models on the same three questions, as `culturalign run` lays them out."""
    qs = sample_questions(3)
    root = tmp_path / "exp"
    a = [
        judgment(qs[0], "hf:a", "粽子", 8),
        judgment(qs[1], "hf:a", "…", None, tries=3),
        judgment(qs[2], "hf:a", None, None, status="skipped", reason="the response is missing"),
    ]
    care_run(
        root / "eval/care/model-a/vanilla-native",
        "hf:a",
        a,
        [
            response(qs[0], "hf:a", "粽子"),
            response(qs[1], "hf:a", "…"),
            response(qs[2], "hf:a", None, "HTTP 500"),
        ],
    )
    b = [judgment(q, "hf:b", f"answer {i}", 3 + i) for i, q in enumerate(qs)]
    care_run(root / "eval/care/model-b/vanilla-native", "hf:b", b)
    return root


def test_care_answers_of_two_runs_side_by_side(two_care_runs):
    found = collect([two_care_runs])
    assert [(r.label, r.kind, r.model, r.scale) for r in found.runs] == [
        ("model-a", "eval-care", "hf:a", (1, 10)),
        ("model-b", "eval-care", "hf:b", (1, 10)),
    ]
    assert len(found.groups) == 3 and all(len(g.answers) == 2 for g in found.groups)
    first, second, third = found.groups
    q = sample_questions(1)[0]
    assert (first.question, first.reference, first.culture, first.category, first.scope) == (
        q["text"],
        q["reference_answer"],
        "Chinese",
        q["category"],
        q["geographic_scope"],
    )
    a0, b0 = first.answers
    assert (a0["run"], a0["text"], a0["rating"], a0["status"]) == (0, "粽子", 8, "ok")
    assert a0["judge_reply"] == "Rating: [[8]]" and b0["rating"] == 3
    invalid = second.answers[0]
    assert invalid["status"] == "invalid" and invalid["rating"] is None
    assert invalid["reason"].startswith("no valid rating after 3 attempt(s)")
    assert [x["attempt"] for x in invalid["attempts"]] == [0, 1, 2]
    assert (
        invalid["attempts"][0]["reply"] == "I think…" and invalid["attempts"][0]["parse_status"] == "missing"
    )
    skipped = third.answers[0]  # the generation error comes from responses.jsonl
    assert (skipped["status"], skipped["reason"], skipped["error"]) == (
        "skipped",
        "the response is missing",
        "HTTP 500",
    )


def test_runs_are_labelled_as_the_report_labels_them(tmp_path):
    """Two modes of one model share its name (the tables tell modes apart, and a link's
    run= then shows both); a folder named for its mode takes the model's name."""
    q = sample_questions(1)
    for mode in ("vanilla-native", "cot-en"):
        care_run(tmp_path / "exp/eval/care/m" / mode, "hf:m", [judgment(q[0], "hf:m", "x", 5)])
    care_run(tmp_path / "z/vanilla-native", "hf:/models/SmolLM2-135M", [judgment(q[0], "hf:z", "x", 5)])
    from culturalign.report.runs import name_runs
    from culturalign.view.collect import find_runs

    found = collect([tmp_path])
    labels = {r.dir: r.label for r in found.runs}
    assert sorted(labels.values()) == ["SmolLM2-135M", "m", "m"]
    report = name_runs(find_runs([tmp_path]), [])
    assert labels == {d.as_posix(): report.label(d) for d in report.labels}


def test_rubric_run_scale_and_unjudged_answers(tmp_path):
    qs = sample_questions(2)
    care_run(
        tmp_path / "prism",
        "hf:p",
        [judgment(qs[0], "hf:p", "fine", 4)],
        [response(qs[0], "hf:p", "fine")],
        kind="eval-prism",
        answers_file="answers.jsonl",
        scale=(1, 5),
    )
    stopped = tmp_path / "cb"  # answers written, the judge never ran
    stopped.mkdir()
    from culturalign.io import write_records

    write_records(
        stopped / "answers.jsonl", [response(qs[1], "hf:c", "half"), response(qs[0], "hf:c", None, "timeout")]
    )
    from .helpers import run_log

    run_log(stopped, "eval-culturebank-quality", "hf:c")
    found = collect([tmp_path])
    scales = {r.label: r.scale for r in found.runs}
    assert scales == {"prism": (1, 5), "cb": (1, 10)}
    unjudged = [a for g in found.groups if g.kind == "eval-culturebank-quality" for a in g.answers]
    assert sorted(a["reason"] for a in unjudged) == [
        "not judged (no judgments.jsonl)",
        "the answer failed: timeout",
    ]


def test_choice_items_lift_question_gold_pick_and_keep_the_rest(tmp_path):
    mcq = {"id": "m1", "culture": "Japanese", "topic": "food", "question": "Which?", "options": ["a", "b", "c"],
           "answer": 1, "probs": [0.2, 0.5, 0.3], "logprobs": [-1, -0.5, -0.9], "choice": 2, "method": "logits",
           "correct": False}  # fmt: skip
    failed = {**mcq, "id": "m2", "choice": None, "probs": None, "correct": None, "error": "HTTP 500"}
    items_run(tmp_path / "mcq", "eval-mcq", "hf:m", [mcq, failed])
    cali = {"id": "c1", "culture": "Arab", "premise": "P", "hypothesis": "H", "votes": [1, 2], "gold": "E",
            "probs": [0.7, 0.2, 0.1], "choice": 0, "method": "logits", "pred": "E"}  # fmt: skip
    items_run(tmp_path / "cali", "eval-cali", "hf:m", [cali], partial=True)
    grounded = {"question_id": "g1", "knowledge_id": "k1", "cultural_group": "Korean", "topic": "rites",
                "knowledge": "K", "question": "Q", "plain": {"text": "plain", "entailment": 0.25, "method": "logprob"},
                "augmented": {"text": None, "error": "boom"}}  # fmt: skip
    items_run(tmp_path / "grounded", "eval-grounded", "hf:m", [grounded])
    by = {(g.kind, g.item_id, g.mode): g for g in collect([tmp_path]).groups}
    g = by[("eval-mcq", "m1", None)]
    assert (g.culture, g.category, g.options, g.reference) == ("Japanese", "food", ["a", "b", "c"], "b")
    ans = g.answers[0]
    assert (ans["text"], ans["choice"], ans["correct"], ans["status"]) == ("c", 2, False, "ok")
    assert ans["details"] == {"probs": [0.2, 0.5, 0.3], "logprobs": [-1, -0.5, -0.9], "method": "logits"}
    bad = by[("eval-mcq", "m2", None)].answers[0]
    assert (bad["status"], bad["reason"]) == ("invalid", "no answer: HTTP 500")
    c = by[("eval-cali", "c1", None)]
    assert (c.question, c.reference, c.answers[0]["text"], c.answers[0]["details"]["votes"]) == (
        "P\n⇒ H",
        "E",
        "E",
        [1, 2],
    )
    assert c.answers[0]["correct"] is True  # CALI's label against the culture's gold label
    plain, aug = by[("eval-grounded", "g1", "plain")], by[("eval-grounded", "g1", "augmented")]
    assert (plain.reference, plain.culture) == ("K", "Korean")
    assert plain.answers[0]["score"] == {"name": "entailment", "value": 0.25}
    assert (aug.answers[0]["status"], aug.answers[0]["reason"]) == ("invalid", "no entailment score: boom")


def test_bad_input_is_located(tmp_path, two_care_runs):
    path = two_care_runs / "eval/care/model-b/vanilla-native/judgments.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:40]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        collect([two_care_runs])
    assert f"{path}:2" in str(err.value)
    with pytest.raises(ConfigError, match="no such run directory"):
        collect([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no evaluation run with per-item files"):
        collect([tmp_path / "empty"])


def test_embedded_json_cannot_end_its_script_block():
    data = {"t": XSS_PAYLOADS, "amp": "a & b > c"}
    text = embed_json(data)
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == data


def test_page_is_self_contained_and_allows_only_its_own_script(two_care_runs, tmp_path):
    html = build_page([two_care_runs])
    assert html.count("<script") == 2 and 'type="application/json"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src &#x27;none&#x27;" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    import base64
    import hashlib

    from culturalign.view.assets import SCRIPT

    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"sha256-{digest}" in csp and f"<script>{SCRIPT}</script>" in html
    out = write_view([two_care_runs])
    assert out == two_care_runs / "view.html" and out.read_text(encoding="utf-8") == html


def test_link_builds_the_documented_fragment():
    assert link("model-a", culture="Chinese", category="social_norms") == (
        "#run=model-a&culture=Chinese&category=social_norms"
    )
    assert link(culture="Arab & Gulf", q="50% off/#now", invalid=True, min=7.5, scope=None) == (
        "#culture=Arab%20%26%20Gulf&min=7.5&invalid=1&q=50%25%20off%2F%23now"
    )
    assert link() == "#"
    with pytest.raises(ValueError, match="unknown viewer filter"):
        link(country="x")


def test_serve_answers_on_loopback_only(two_care_runs):
    html = build_page([two_care_runs])
    server, url = serve(html)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.server_address[0] == "127.0.0.1" and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.read().decode("utf-8") == html and r.headers["Content-Type"].startswith("text/html")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "other", timeout=5)
        assert err.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ConfigError, match="0 \\(any free one\\) to 65535"):
        serve(html, 70000)


def test_cli_writes_the_page_and_bad_input_exits_2(two_care_runs, tmp_path):
    from typer.testing import CliRunner

    from culturalign.cli import app

    target = tmp_path / "out" / "v.html"
    result = CliRunner().invoke(
        app, ["view", str(two_care_runs), "--out", str(target)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(target) and "model-b" in target.read_text(encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "culturalign", "view", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{tmp_path / 'missing'}: no such run directory" in proc.stderr


def test_cli_serve_prints_its_loopback_url_and_stops_on_ctrl_c(two_care_runs, tmp_path):
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "culturalign", "view", str(two_care_runs), "-o", str(tmp_path / "v.html"), "--serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == str(tmp_path / "v.html")
        line = proc.stdout.readline()
        url = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line).group(1)
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.read().decode("utf-8") == (tmp_path / "v.html").read_text(encoding="utf-8")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
