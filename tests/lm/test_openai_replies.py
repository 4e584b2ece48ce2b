"""Reading log-probabilities out of OpenAI-shaped replies (the documented reply formats).

``transformers serve`` returns no log-probabilities, so these shapes cannot come from the
real test server; the parsing is pure and tested on replies written out by hand.
"""

from __future__ import annotations

import math

import pytest

from culturalign.lm.backends.openai_compat import (
    _has_choices,
    chat_top_logprobs,
    completion_top_logprobs,
    echo_logprobs,
    match_labels,
)
from culturalign.lm.http import ResponseError

CHAT_WITH_LOGPROBS = {
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "B"},
            "logprobs": {
                "content": [
                    {
                        "token": "B",
                        "logprob": -0.2,
                        "top_logprobs": [
                            {"token": "B", "logprob": -0.2},
                            {"token": " B", "logprob": -2.5},
                            {"token": "A", "logprob": -1.9},
                        ],
                    }
                ]
            },
            "finish_reason": "length",
        }
    ]
}


def test_chat_top_logprobs_and_label_matching():
    top = chat_top_logprobs(CHAT_WITH_LOGPROBS)
    got = match_labels(top, ["A", "B", "C"])
    assert got["A"] == -1.9
    # "B" and " B" both mean B: their probabilities add up
    assert got["B"] == pytest.approx(math.log(math.exp(-0.2) + math.exp(-2.5)))
    assert got["C"] is None  # not shown by the server: unknown, never zero or -inf


def test_missing_logprobs_are_reported_as_absent():
    plain = {"choices": [{"message": {"content": "B"}, "logprobs": None}]}
    assert chat_top_logprobs(plain) is None
    assert completion_top_logprobs({"choices": [{"text": "x"}]}) is None


def test_completion_top_logprobs_and_echo_sums():
    reply = {"choices": [{"text": " Yes", "logprobs": {"top_logprobs": [{" Yes": -0.1, " No": -2.4}]}}]}
    assert match_labels(completion_top_logprobs(reply), ["Yes", "No"]) == {"Yes": -0.1, "No": -2.4}
    # prompt "Q: hi A: yes" echoed back: offsets of each token in the prompt text
    echo = {
        "choices": [
            {
                "logprobs": {
                    "tokens": ["Q", ":", " hi", " A", ":", " yes", "\n"],
                    "token_logprobs": [None, -1.0, -2.0, -0.5, -0.1, -0.7, -3.0],
                    "text_offset": [0, 1, 2, 5, 7, 8, 12],
                }
            }
        ]
    }
    assert echo_logprobs(echo, 8, 12) == (pytest.approx(-0.7), 1)
    assert echo_logprobs(echo, 5, 12) == (pytest.approx(-1.3), 3)
    assert echo_logprobs({"choices": [{"logprobs": None}]}, 0, 3) is None


def test_a_reply_without_choices_is_unusable():
    with pytest.raises(ResponseError):
        _has_choices({"error": {"message": "overloaded"}})
    _has_choices(CHAT_WITH_LOGPROBS)
