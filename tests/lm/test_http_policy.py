"""The HTTP retry policy's pure parts: Retry-After parsing, backoff, redaction, prices."""

from __future__ import annotations

import email.utils
import random
import time

from culturalign.lm.http import RetryPolicy, redact, retry_after_seconds
from culturalign.lm.pricing import price_for


def test_retry_after_reads_seconds_milliseconds_and_dates():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    now = time.time()
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert 18 <= retry_after_seconds({"retry-after": date}, now=now) <= 21
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "soon"}) is None


def test_backoff_grows_exponentially_with_bounded_jitter():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    rng = random.Random(1)
    for attempt, nominal in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.5 * nominal <= d < 1.5 * nominal for d in delays)
        assert max(delays) - min(delays) > 0.3 * nominal  # jittered, not constant


def test_redact_removes_the_key_and_key_shaped_strings():
    key = "sk-test-ABCDEFGHIJKLMNOPQRSTUV0123"
    msg = f"HTTP 401: Incorrect API key provided: {key}; header was Bearer {key}"
    out = redact(msg, key)
    assert key not in out and "ABCDEFGHIJ" not in out
    assert "HTTP 401" in out
    # a different key-like token (e.g. an old key echoed back) is masked too
    assert "sk-proj-zzzzzzzzzzzzzzzzzz" not in redact("bad key sk-proj-zzzzzzzzzzzzzzzzzz", None)


def test_prices_come_from_spec_then_table_else_unknown():
    assert price_for("gpt-4o-mini").input_per_mtok == 0.15  # not gpt-4o's price
    assert price_for("gpt-4o-2024-08-06").output_per_mtok == 10.0
    p = price_for("my-local-model")
    assert not p.known and p.cost(1000, 1000) == 0.0
    spec = price_for("gpt-4o", input_price=1.0, output_price=2.0)
    assert spec.source == "spec" and abs(spec.cost(1_000_000, 500_000) - 2.0) < 1e-9
