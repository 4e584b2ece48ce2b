"""``generate``, ``eval care`` and ``synth questions`` behind a hostile OpenAI-compatible
server (issue 17): 30% of requests get an empty, whitespace or null reply, a 200 without
``choices``, cut-off JSON, a truncated body, 429 with Retry-After, 500, or a dropped
connection. Every item ends either answered with the server's real text or recorded
as failed, and a re-run asks the server only for what failed.

The upstream is a scripted server (``_fake_openai_server``), so replies are fast and
known; the faults come from ``culturalign.testing.proxy.FaultProxy`` in front of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fake_openai_server import reply_text, scripted_server
from typer.testing import CliRunner

from culturalign.cli import app
from culturalign.generate import summary_path
from culturalign.io import read_records, write_records
from culturalign.records import CulturalQuestion, Judgment, ModelResponse
from culturalign.records.synth import SynthQuestion
from culturalign.synth.framework import load_framework
from culturalign.testing.proxy import HOSTILE_KINDS, FaultProxy

pytestmark = pytest.mark.slow  # about 15 s for the three
SEED = 2  # with by_body, the faults each request meets are the same on every run

TOPICS = ["tea", "greetings", "weddings", "gifts", "festivals", "food", "music", "dress", "funerals", "names"]


@pytest.fixture()
def proxy() -> Iterator[FaultProxy]:
    with (
        scripted_server() as (url, _),
        FaultProxy(url, rate=0.3, seed=SEED, kinds=HOSTILE_KINDS, retry_after="0.1", by_body=True) as p,
    ):
        yield p


def _spec(proxy: FaultProxy, model: str) -> str:
    # one retry: enough faults survive it to test the failure path, and the re-run
    return f"openai:{model}@{proxy.url}+max_retries=1+concurrency=8+timeout=5"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _questions(path: Path, n: int, *, reference: bool = False) -> None:
    write_records(
        path,
        [
            CulturalQuestion(
                id=f"q{i:02d}",
                text=f"How do people in Japan approach {TOPICS[i % len(TOPICS)]}, case {i}?",
                language="en",
                culture="Japanese",
                category="Social norms",
                reference_answer=f"Reference answer {i}." if reference else None,
            )
            for i in range(n)
        ],
    )


class Ledger:
    """What the proxy answered during one run: which request bodies got a real reply."""

    def __init__(self, proxy: FaultProxy):
        self.proxy = proxy
        self.start = len(proxy.log)
        self.end: int | None = None

    def close(self) -> Ledger:
        self.end = len(self.proxy.log)
        return self

    def entries(self) -> list[tuple[bytes, str]]:
        return self.proxy.log[self.start : self.end]

    def answered(self) -> set[bytes]:
        return {body for body, outcome in self.entries() if outcome == "ok"}

    def asked(self) -> set[bytes]:
        return {body for body, _ in self.entries()}


def _messages(body: bytes) -> tuple[str, list[dict]]:
    data = json.loads(body)
    return data["model"], data["messages"]


def _real_or_failed(r: ModelResponse, model: str) -> bool:
    """Answered with exactly the server's text, or recorded as failed; never both, never empty."""
    if r.error is None:
        return r.text == reply_text(model, [m.model_dump() for m in r.messages])
    return r.text is None and bool(r.error.strip())


def test_generate_behind_a_hostile_server(proxy, tmp_path):
    data, out = tmp_path / "q.jsonl", tmp_path / "r.jsonl"
    _questions(data, 60)
    args = ["generate", "--model", _spec(proxy, "answerer"), "--data", data, "--out", out]
    run1 = Ledger(proxy)
    printed = _cli(*args)
    run1.close()
    rows = read_records(out, ModelResponse)
    assert len(rows) == 60 and all(_real_or_failed(r, "answerer") for r in rows)
    failed = [r for r in rows if r.error is not None]
    assert 0 < len(failed) < 60 and f"failed {len(failed)}" in printed
    assert json.loads(summary_path(out).read_text())["failed"] == len(failed)
    assert {kind for _, kind in run1.entries()} == {"ok", *HOSTILE_KINDS}  # every fault was met
    assert any("empty" in r.error or "null" in r.error or "whitespace" in r.error for r in failed)

    run2 = Ledger(proxy)
    printed = _cli(*args)
    assert not run2.asked() & run1.answered()  # nothing answered before is asked again
    failed_prompts = {json.dumps([m.model_dump() for m in r.messages]) for r in failed}
    assert {json.dumps(_messages(b)[1]) for b in run2.asked()} == failed_prompts
    assert f"calls made {len(failed)} · cache hits {60 - len(failed)}" in printed
    again = read_records(out, ModelResponse)
    assert all(_real_or_failed(r, "answerer") for r in again)
    assert sum(r.error is None for r in again) > 60 - len(failed)


def test_eval_care_behind_a_hostile_server_never_judges_a_failed_answer(proxy, tmp_path):
    data, run = tmp_path / "care.jsonl", tmp_path / "run"
    _questions(data, 24, reference=True)
    args = ["eval", "care", "--data", data, "--out", run, "--model", _spec(proxy, "answerer")]
    args += ["--judge", _spec(proxy, "judge"), "--max-new-tokens", "64"]
    run1 = Ledger(proxy)
    printed = _cli(*args)
    run1.close()
    responses = read_records(run / "responses.jsonl", ModelResponse)
    judgments = {j.item_id: j for j in read_records(run / "judgments.jsonl", Judgment)}
    assert len(responses) == 24 and all(_real_or_failed(r, "answerer") for r in responses)
    answered = {r.item_id: r.text for r in responses if r.error is None}
    assert 0 < len(answered) < 24
    for r in responses:
        j = judgments[r.item_id]
        if r.error is not None:
            assert j.status == "skipped" and j.rating is None
        else:
            assert j.status in ("ok", "invalid") and (j.rating is not None) == (j.status == "ok")
    # every judge prompt quotes a real answer; none was sent for a failed one
    judge_prompts = [_messages(b)[1][-1]["content"] for b in run1.asked() if _messages(b)[0] == "judge"]
    assert judge_prompts and all(any(t in p for t in answered.values()) for p in judge_prompts)
    assert {i for i, t in answered.items() if any(t in p for p in judge_prompts)} == set(answered)
    invalid = [j for j in judgments.values() if j.status == "invalid"]
    assert all(j.reason for j in invalid)
    # the failures are counted: in the printed summary and in run.json's call statistics
    calls = json.loads((run / "run.json").read_text())["calls"]
    assert calls["model"]["failures"] == 24 - len(answered) and calls["judge"]["failures"] > 0
    assert f"{24 - len(answered)} skipped" in printed and f"{len(invalid)} invalid" in printed

    run2 = Ledger(proxy)
    _cli(*args)
    assert not run2.asked() & run1.answered()
    asked_answers = [m for b in run2.asked() for model, m in [_messages(b)] if model == "answerer"]
    assert len(asked_answers) == 24 - len(answered)  # exactly the failed answers, once each


def test_synth_questions_behind_a_hostile_server(proxy, tmp_path):
    out = tmp_path / "general.jsonl"
    topics = ",".join(t.id for t in load_framework().topics[:16])
    args = ["synth", "questions", "--model", _spec(proxy, "writer"), "--out", out, "--topics", topics]
    args += ["--k", "3", "--types", "scenario", "--rounds", "1", "--embedder", "none"]
    run1 = Ledger(proxy)
    _cli(*args)
    run1.close()
    log = json.loads(out.with_name(out.name + ".run.json").read_text())
    stats, calls = log["stats"], log["calls"]["generator"]
    assert stats["prompts"] == 16 and 0 < stats["failed_calls"] < 16
    assert stats["failed_calls"] == calls["failures"] and stats["unparseable_outputs"] == 0
    written = read_records(out, SynthQuestion)
    replies = {reply_text("writer", _messages(b)[1]) for b in run1.answered()}
    assert len(written) == 3 * (16 - stats["failed_calls"])
    assert all(any(q.text in r for r in replies) for q in written)  # only real replies became questions

    run2 = Ledger(proxy)
    _cli(*args)
    assert not run2.asked() & run1.answered()
    assert len(run2.asked()) == stats["failed_calls"]


def test_an_empty_200_is_retried_with_backoff_then_recorded_as_failed(tmp_path):
    from culturalign.lm import load_lm
    from culturalign.lm.cache import CallCache

    with scripted_server() as (url, counts), FaultProxy(url, rate=1.0, kinds=("empty",)) as proxy:
        lm = load_lm(f"openai:answerer@{proxy.url}+max_retries=2", cache=CallCache(tmp_path / "c.sqlite"))
        ((c,),) = lm.generate([[{"role": "user", "content": "What is tea?"}]])
    assert c.text is None and "content is empty" in c.error and "gave up after 3 attempts" in c.error
    assert counts["answerer"] == 3 and len(proxy.log) == 3  # the upstream answered; the proxy blanked it
    usage = lm.summary()
    assert usage["failures"] == 1 and usage["retries"] == 2 and usage["faults"] == {"empty_reply": 3}
