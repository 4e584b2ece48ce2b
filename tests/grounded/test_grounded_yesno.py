"""P(Yes) from log-probabilities, the parsed-verdict fallback, and the missing-"Yes" rule."""

from __future__ import annotations

import math

import pytest

from culturalign.lm import load_lm
from culturalign.lm.yesno import LOGPROB, PARSED, ask_yes_no, parse_verdict, yes_probability

PROMPT = [{"role": "user", "content": "Is water wet? Reply 'Answer: Yes' or 'Answer: No'."}]


def test_renormalised_over_yes_and_no_variants():
    lp = {"Yes": math.log(0.3), " Yes": math.log(0.1), "No": math.log(0.06), " No": math.log(0.04)}
    p, why = yes_probability(lp)
    assert why is None
    assert p == pytest.approx(0.4 / 0.5)


def test_missing_yes_is_unknown_not_zero():
    """The reference code scores a 'Yes' absent from the top log-probabilities as 0."""
    p, why = yes_probability({"Yes": None, " Yes": None, "No": math.log(0.6), " No": None})
    assert p is None
    assert "unknown, not 0" in why
    p, why = yes_probability({"Yes": math.log(0.6), "No": None})
    assert p is None and "unknown, not 1" in why
    assert yes_probability({"Yes": None, "No": None})[0] is None


def test_labels_scored_on_one_shared_token_are_refused():
    same = -0.0002  # what a trailing newline before the label gives every label
    p, why = yes_probability({"Yes": same, " Yes": same, "No": same, " No": same})
    assert p is None and "share their first tokens" in why


def test_a_token_shared_by_both_sides_is_left_out():
    space = math.log(0.3)  # " Yes" and " No" both starting with a bare space token
    p, _ = yes_probability({"Yes": math.log(0.5), " Yes": space, "No": math.log(0.25), " No": space})
    assert p == pytest.approx(0.5 / 0.75)


def test_a_token_listed_twice_counts_once():
    # "Yes" and " Yes" mapping to one token would otherwise double the yes mass
    p, _ = yes_probability({"Yes": math.log(0.4), " Yes": math.log(0.4), "No": math.log(0.2)})
    assert p == pytest.approx(0.4 / 0.6)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Answer: Yes", True),
        (" no, it does not", False),
        ("**Yes.** The response mentions it.", True),
        ("Yesterday I...", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_verdict(text, verdict):
    assert parse_verdict(text) is verdict


def test_logprob_scores_from_a_real_model(tiny_model_dir):
    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    (score,) = ask_yes_no(lm, [PROMPT])
    assert score.method == LOGPROB
    assert 0.0 < score.p_yes < 1.0
    # the same number by hand: the backend's label log-probabilities, renormalised
    res = lm.label_logprobs(
        [PROMPT], ["Yes", " Yes", "yes", " yes", "No", " No", "no", " no"], prefix="Answer:"
    )[0]
    assert score.p_yes == pytest.approx(yes_probability(res.logprobs)[0])


def test_backend_without_logprobs_uses_the_parsed_verdict(scripted):
    lm, backend = scripted("no-logprobs", reply=lambda r: "Answer: Yes, it does.")
    (score,) = ask_yes_no(lm, [PROMPT])
    assert (score.p_yes, score.method, score.verdict) == (1.0, PARSED, True)
    assert "no log-probabilities" in score.fallback_reason
    assert len(backend.gen_requests) == 1 and backend.gen_requests[0].params.greedy


def test_yes_missing_from_top_logprobs_falls_back_instead_of_scoring_zero(scripted):
    lm, _ = scripted(
        "top5",
        reply=lambda r: "Answer: Yes",
        labels=lambda text: {"No": math.log(0.2)},  # "Yes" is not among the visible tokens
    )
    (score,) = ask_yes_no(lm, [PROMPT])
    assert score.p_yes == 1.0 and score.method == PARSED
    assert "unknown, not 0" in score.fallback_reason


def test_an_unparseable_verdict_is_no_score(scripted):
    lm, _ = scripted("mumble", reply=lambda r: "It depends on many things.")
    (score,) = ask_yes_no(lm, [PROMPT])
    assert score.p_yes is None and not score.ok
    assert "no yes/no verdict" in score.error
