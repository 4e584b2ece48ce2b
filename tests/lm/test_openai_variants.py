"""The openai backend against servers that refuse parts of the API (a local stand-in,
``_variant_server``): reasoning models, capped top_logprobs, Azure, a request-rate limit."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from _variant_server import variant_server

from culturalign.errors import ConfigError
from culturalign.lm.backends.openai_compat import OpenAIBackend
from culturalign.lm.backends.openai_variants import ServerQuirks, TokenBucket
from culturalign.lm.base import GenRequest, LabelScoreRequest
from culturalign.lm.registry import make_backend, parse_spec
from culturalign.records.generation import ChatMessage, GenerationParams

QUESTION = (ChatMessage(role="user", content="Which greeting is usual at a wedding? Answer A-D."),)


def _generate(backend: OpenAIBackend, n: int = 3) -> list:
    got: dict[int, object] = {}
    reqs = [GenRequest(QUESTION, GenerationParams(max_new_tokens=16), sample_index=i) for i in range(n)]
    backend.generate(reqs, lambda i, c: got.__setitem__(i, c))
    return [got[i] for i in range(n)]


def _labels(backend: OpenAIBackend, prompt, labels=("A", "B", "C", "D", "G")) -> dict:
    got: dict[int, object] = {}
    backend.label_logprobs([LabelScoreRequest(prompt, labels)], lambda i, r: got.__setitem__(i, r))
    return got[0].logprobs  # type: ignore[attr-defined]


def test_a_reasoning_model_that_refuses_sampling_fields_is_adapted_to_once():
    with variant_server(reasoning=True) as (url, seen):
        backend = OpenAIBackend("o4-mini", f"{url}/v1", concurrency="1")
        replies = _generate(backend)
    assert all(c.ok for c in replies), [c.error for c in replies]
    refused = [s for s in seen.seen if "temperature" in s.body or "max_tokens" in s.body]
    # temperature, then top_p, then max_tokens: one refusal each, on the first call only
    assert len(refused) == 3 and len(seen.seen) == 3 + 3
    last = seen.seen[-1].body
    assert "temperature" not in last and "top_p" not in last and last["max_completion_tokens"] == 16
    notes = backend.usage()["adapted"]
    assert any("temperature" in n for n in notes) and any("max_completion_tokens" in n for n in notes)


def test_no_sampling_params_leaves_them_out_from_the_first_request():
    spec = parse_spec(
        "openai:o4-mini@http://127.0.0.1:9/v1+no_sampling_params+max_tokens_field=max_completion_tokens"
    )
    assert spec.options["no_sampling_params"] == "true"
    with variant_server(reasoning=True) as (url, seen):
        backend = OpenAIBackend("o4-mini", f"{url}/v1", **{**spec.options, "concurrency": "2"})
        replies = _generate(backend)
    assert all(c.ok for c in replies)
    assert len(seen.seen) == 3 and not backend.usage()["adapted"]
    assert all("temperature" not in s.body and "top_p" not in s.body for s in seen.seen)
    assert all("seed" in s.body for s in seen.seen)  # sampled calls keep their seeds


def test_a_refusal_that_names_nothing_droppable_stays_a_failed_call():
    quirks = ServerQuirks()
    body = {"model": "m", "stop": ["\n"], "temperature": 0.7}
    assert not quirks.learn(400, "Unsupported parameter: 'stop' is not supported with this model.", body)
    assert not quirks.learn(500, "Unsupported parameter: 'temperature'", body)
    assert quirks.adapt(body) == body


@pytest.mark.parametrize("chat", [True, False])
def test_capped_top_logprobs_are_learned_from_the_servers_422(chat):
    prompt = QUESTION if chat else "Question: which greeting?\nAnswer:"
    with variant_server(max_top_logprobs=5) as (url, seen):
        backend = OpenAIBackend("tgi-model", f"{url}/v1")
        first = _labels(backend, prompt)
        second = _labels(backend, prompt)
    asked = [s.body.get("top_logprobs" if chat else "logprobs") for s in seen.seen]
    assert asked == [20, 5, 5]  # one refusal, then the server's cap for every later call
    assert first == second and first["A"] > first["B"] > first["C"] > first["D"]
    assert first["G"] is None  # the 7th token is past what a 5-alternative server shows
    assert "5 top log-probabilities" in backend.usage()["adapted"][0]


def test_max_top_logprobs_in_the_spec_avoids_the_refusal():
    with variant_server(max_top_logprobs=5) as (url, seen):
        backend = make_backend(parse_spec(f"openai:tgi-model@{url}/v1+max_top_logprobs=5"))
        got = _labels(backend, QUESTION)  # type: ignore[arg-type]
    assert [s.body["top_logprobs"] for s in seen.seen] == [5]
    assert got["A"] is not None and got["G"] is None


def test_azure_sends_the_key_as_api_key_to_the_deployment_path(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-secret-key-123")
    with variant_server(azure_key="azure-secret-key-123") as (url, seen):
        backend = make_backend(parse_spec(f"openai:gpt4o-prod@{url}+azure"))
        ok = _generate(backend, 1)  # type: ignore[arg-type]
        pinned = make_backend(parse_spec(f"openai:gpt4o-prod@{url}+api_version=2025-01-01-preview"))
        _generate(pinned, 1)  # type: ignore[arg-type]
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-wrong-key-456")
        wrong = make_backend(parse_spec(f"openai:gpt4o-prod@{url}+azure"))
        with pytest.raises(ConfigError) as err:
            _generate(wrong, 1)  # type: ignore[arg-type]
    assert ok[0].ok, ok[0].error
    first = seen.seen[0]
    assert first.path == "/openai/deployments/gpt4o-prod/chat/completions"
    assert first.query["api-version"] == ["2024-10-21"] and first.headers["api-key"] == "azure-secret-key-123"
    assert "authorization" not in first.headers
    assert seen.seen[1].query["api-version"] == ["2025-01-01-preview"]
    assert "401" in str(err.value) and "azure-wrong-key-456" not in str(err.value)


def test_azure_without_a_url_says_what_to_set(monkeypatch):
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    with pytest.raises(ConfigError, match="AZURE_OPENAI_ENDPOINT"):
        make_backend(parse_spec("openai:gpt4o-prod+azure"))
    with pytest.raises(ConfigError, match="rpm"):
        make_backend(parse_spec("openai:m@http://127.0.0.1:9/v1+rpm=fast"))


def test_token_bucket_spaces_requests_on_a_fake_clock():
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(rate=2.0, clock=lambda: now[0], sleep=sleep)  # 120 a minute

    async def main() -> list[float]:
        times = []
        for _ in range(7):
            await bucket.acquire()
            times.append(now[0])
        return times

    times = asyncio.run(main())
    assert times[0] == 0.0 and times[-1] == pytest.approx(3.0)
    assert all(b - a == pytest.approx(0.5) for a, b in itertools.pairwise(times))
    now[0] += 10.0  # an idle spell refills one request's worth, not ten seconds' worth
    bucket.reset_loop()
    again = asyncio.run(main())
    assert again[1] - again[0] == pytest.approx(0.5) and sum(waits) == pytest.approx(6.0)


def test_rpm_spaces_concurrent_requests_at_the_server():
    with variant_server() as (url, seen):
        backend = make_backend(parse_spec(f"openai:m@{url}/v1+rpm=1200+concurrency=6"))  # one per 50 ms
        started = time.monotonic()
        replies = _generate(backend, 6)  # type: ignore[arg-type]
        elapsed = time.monotonic() - started
    assert all(c.ok for c in replies)
    arrivals = sorted(s.at for s in seen.seen)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.04 and elapsed >= 0.24, gaps
