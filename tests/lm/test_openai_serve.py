"""The ``openai`` backend against a real ``transformers serve`` on 127.0.0.1, with a
fault-injecting proxy between them where the test needs faults."""

from __future__ import annotations

import pytest

from culturalign.errors import ConfigError
from culturalign.generate import generate_responses
from culturalign.lm import load_lm
from culturalign.lm.base import NotSupported
from culturalign.lm.cache import CallCache
from culturalign.records import CulturalQuestion, GenerationParams
from culturalign.testing.proxy import FaultProxy

pytestmark = [pytest.mark.serve, pytest.mark.slow]

TOPICS = [
    "tea", "bowing", "Diwali", "Ramadan", "the Lunar New Year", "tipping", "a samovar",
    "flamenco", "the haka", "chopsticks", "a kimono", "couscous", "mate", "Carnival",
    "a siesta", "sauna culture", "Hanami", "a henna night", "the Day of the Dead", "Nowruz",
]  # fmt: skip


def _prompts(n: int, template: str = "In one sentence, what is {}?") -> list[list[dict]]:
    return [[{"role": "user", "content": template.format(t)}] for t in TOPICS[:n]]


def test_greedy_outputs_match_across_embedded_hf_and_served(embedded_dir, served_spec, tmp_path):
    """The same 20 prompts give the same greedy text through all three routes to one model."""
    params = GenerationParams(temperature=0, max_new_tokens=8)
    prompts = _prompts(20)
    texts = {}
    for spec in ("embedded", f"hf:{embedded_dir}", served_spec(concurrency=2)):
        lm = load_lm(spec, cache=CallCache(tmp_path / "c.sqlite"))
        out = lm.generate(prompts, params)
        assert lm.stats.calls == 20 and lm.stats.failures == 0, spec
        texts[spec.split(":")[0]] = [c[0].text for c in out]
    assert all(t and t.strip() for t in texts["embedded"])
    assert texts["embedded"] == texts["hf"] == texts["openai"]


def _questions(n: int) -> list[CulturalQuestion]:
    return [
        CulturalQuestion(id=f"q{i}", text=f"What is {t}?", language="en", culture="World")
        for i, t in enumerate(TOPICS[:n])
    ]


def test_faulted_run_records_failures_and_a_second_run_fills_them(served_spec, serve_url, tmp_path):
    params = GenerationParams(temperature=0, max_new_tokens=4)
    questions = _questions(20)
    cache = CallCache(tmp_path / "c.sqlite")
    out = tmp_path / "responses.jsonl"
    with FaultProxy(serve_url, rate=0.3, seed=7, retry_after="0.5", slow_seconds=8) as proxy:
        # run 1: no retries, so every injected fault becomes a recorded failure
        lm1 = load_lm(served_spec(proxy.url, concurrency=4, timeout=6, max_retries=0), cache=cache)
        first = generate_responses(lm1, questions, params=params, out=out)
        faulted = sum(proxy.stats[k] for k in ("429", "500", "slow", "truncated", "garbage", "drop"))
        assert proxy.stats["requests"] == 20 and faulted >= 3
        failed = [r for r in first if r.error is not None]
        assert len(first) == 20
        assert all((r.text is None) == (r.error is not None) for r in first)  # never empty text
        assert len(failed) == faulted == lm1.stats.failures
        assert {k for k, _ in cache.failures()} and len(cache.failures()) == len(failed)
        kinds = " ".join(r.error for r in failed)
        assert any(w in kinds for w in ("HTTP 429", "HTTP 500", "timed out", "connection", "unusable"))

        # run 2: same faults keep coming, but retries (with Retry-After and backoff) win
        lm2 = load_lm(served_spec(proxy.url, concurrency=4, timeout=6, max_retries=8), cache=cache)
        second = generate_responses(lm2, questions, params=params, out=out)
    assert all(r.error is None and r.text for r in second)
    assert lm2.stats.calls == len(failed) and lm2.stats.cache_hits == 20 - len(failed)
    assert {r.item_id: r.text for r in first if r.text} == {
        r.item_id: r.text for r in second if r.item_id not in {f.item_id for f in failed}
    }
    assert cache.count("ok") == 20 and cache.failures() == []
    # each item's success was paid for exactly once; only the failed calls were repeated
    assert cache.total_attempts() == 20 + len(failed)


def test_api_key_never_appears_in_errors_cache_or_outputs(served_spec, serve_url, tmp_path, monkeypatch):
    key = "sk-culturalign-test-0123456789abcdefghij"
    monkeypatch.setenv("CA_TEST_KEY", key)
    db = tmp_path / "c.sqlite"
    out = tmp_path / "r.jsonl"
    with FaultProxy(serve_url, rate=1.0, kinds=("500",)) as proxy:
        lm = load_lm(served_spec(proxy.url, api_key_env="CA_TEST_KEY", max_retries=1), cache=CallCache(db))
        rows = generate_responses(lm, _questions(2), params=GenerationParams(max_new_tokens=2), out=out)
    assert all(r.error and "HTTP 500" in r.error for r in rows)
    with FaultProxy(serve_url, rate=1.0, kinds=("401",)) as proxy:
        lm = load_lm(served_spec(proxy.url, api_key_env="CA_TEST_KEY"), cache=CallCache(db))
        with pytest.raises(ConfigError) as err:  # a rejected key stops the run: every call would fail
            lm.generate(_prompts(2), GenerationParams(max_new_tokens=2))
    assert "401" in str(err.value) and "Incorrect API key" in str(err.value)
    assert key not in str(err.value) and key[8:] not in str(err.value)
    for path in tmp_path.iterdir():
        assert key.encode() not in path.read_bytes(), path


def test_bad_request_fails_without_retries(serve_url, tmp_path):
    lm = load_lm(f"openai:some-other-model@{serve_url}", cache=CallCache(tmp_path / "c.sqlite"))
    out = lm.generate(_prompts(1), GenerationParams(max_new_tokens=2))
    assert out[0][0].text is None and "HTTP 400" in out[0][0].error
    assert lm.summary()["http_requests"] == 1  # a bad request stays bad: not retried


def test_label_logprobs_fall_back_to_generate_and_parse(served_spec):
    lm = load_lm(served_spec(), cache=None)
    prompt = [{"role": "user", "content": "Is Tokyo in Japan? Reply with Yes or No."}]
    with pytest.raises(NotSupported, match="generate-parse"):
        lm.label_logprobs([prompt], ["Yes", "No"])  # transformers serve returns no logprobs
    assert not lm.supports_logprobs
    (res,) = lm.label_logprobs([prompt], ["Yes", "No"], fallback="generate-parse")
    assert res.method == "generate-parse" and res.raw_text
    assert res.logprobs == {"Yes": None, "No": None}  # nothing invented
    assert res.choice in ("Yes", "No") or "no label" in (res.error or "")
