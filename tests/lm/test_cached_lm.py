"""The cached LM wrapper against a tiny real model: cache hits, de-duplication, failures."""

from __future__ import annotations

from culturalign.lm import load_lm
from culturalign.lm.cache import CallCache
from culturalign.records import GenerationParams

GREEDY = GenerationParams(temperature=0, max_new_tokens=8)


def test_second_run_is_served_from_cache(tiny_model_dir, tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    prompts = [[{"role": "user", "content": f"Question {i}?"}] for i in range(5)]
    lm = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    first = lm.generate(prompts, GREEDY)
    assert lm.stats.calls == 5 and lm.stats.cache_hits == 0
    lm2 = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    second = lm2.generate(prompts, GREEDY)
    assert lm2.stats.calls == 0 and lm2.stats.cache_hits == 5
    assert [c[0].text for c in first] == [c[0].text for c in second]
    assert all(c[0].cached for c in second)


def test_identical_requests_are_made_once(tiny_model_dir, tmp_path):
    lm = load_lm(f"hf:{tiny_model_dir}", cache=CallCache(tmp_path / "c.sqlite"))
    p = [{"role": "user", "content": "Same?"}]
    out = lm.generate([p, p, p], GREEDY)
    assert lm.stats.calls == 1
    assert out[0][0].text == out[1][0].text == out[2][0].text


def test_too_long_prompt_is_a_recorded_failure_and_retried(tiny_model_dir, tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    params = GenerationParams(temperature=0, max_new_tokens=4, max_context=16)
    long = [{"role": "user", "content": "word " * 50}]
    lm = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    out = lm.generate([long], params)
    assert out[0][0].text is None and "context limit" in out[0][0].error
    assert cache.count("error") == 1
    lm2 = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    lm2.generate([long], params)
    assert lm2.stats.calls == 1  # failures are not served from the cache


def test_label_logprobs_match_continuation_scores(tiny_model_dir):
    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    prompt = [{"role": "user", "content": "Pick one: A or B?"}]
    labels = lm.label_logprobs([prompt], ["A", "B"], prefix="The answer is ")[0]
    scores = lm.score([prompt], [["The answer is A", "The answer is B"]])[0]
    # the shared prefix cancels: the label gap equals the continuation gap
    gap_labels = labels.logprobs["A"] - labels.logprobs["B"]
    gap_scores = scores.logprobs[0] - scores.logprobs[1]
    assert abs(gap_labels - gap_scores) < 1e-4


def test_label_after_a_trailing_newline_reads_the_label_token(tiny_model_dir):
    """A chat template ends with a newline; the label is the token after it, not the
    newline itself (which would give every label the same log-probability)."""
    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    prompt = "Is tea served to guests?\n"
    labels = lm.label_logprobs([prompt], ["Yes", "No"])[0].logprobs
    assert labels["Yes"] != labels["No"]
    scores = lm.score([prompt], [["Yes", "No"]])[0].logprobs
    assert abs((labels["Yes"] - labels["No"]) - (scores[0] - scores[1])) < 1e-4
