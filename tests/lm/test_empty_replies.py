"""Empty or whitespace-only replies are failed calls, whichever backend gave them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from culturalign.judge.core import JudgeItem, judge_items
from culturalign.lm.backends.openai_compat import _has_text
from culturalign.lm.base import Backend, GenRequest, OnDone
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.lm.http import ResponseError
from culturalign.lm.yesno import ask_yes_no
from culturalign.records import Completion, GenerationParams
from culturalign.synth.framework import load_framework
from culturalign.synth.questions import generate_questions

GREEDY = GenerationParams(temperature=0, max_new_tokens=8)


class Replies(Backend):
    """Answers each prompt with ``replies[prompt text]`` (the prompt text itself if absent)."""

    kind = "replies"

    def __init__(self, replies: dict[str, str | None]):
        self.replies = replies
        self.asked: list[str] = []

    def identity(self) -> dict:
        return {"backend": "replies"}

    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        for i, r in enumerate(requests):
            content = r.messages[-1].content
            self.asked.append(content)
            text = self.replies.get(content, content)
            on_done(i, Completion(text=text, finish_reason="stop", prompt_tokens=3, completion_tokens=1))


def _chat(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_empty_whitespace_and_missing_text_are_failures_stored_and_retried(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    backend = Replies({"a": "", "b": " \n\t", "c": None, "d": "a real answer"})
    lm = LM(backend, cache, "replies")
    out = lm.generate([_chat(k) for k in "abcd"], GREEDY)
    texts = [c[0].text for c in out]
    errors = [c[0].error for c in out]
    assert texts == [None, None, None, "a real answer"]
    assert all(e is not None and e.startswith("empty reply") for e in errors[:3]) and errors[3] is None
    assert "3 whitespace characters" in errors[1]
    assert lm.stats.calls == 4 and lm.stats.failures == 3
    assert cache.count("error") == 3 and cache.count("ok") == 1
    assert out[0][0].prompt_tokens == 3  # an empty reply was still paid for

    # the re-run asks again for exactly the three failed ones
    backend.replies.update(a="now an answer")
    lm2 = LM(backend, cache, "replies")
    again = lm2.generate([_chat(k) for k in "abcd"], GREEDY)
    assert backend.asked[4:] == ["a", "b", "c"]
    assert lm2.stats.cache_hits == 1 and lm2.stats.calls == 3 and lm2.stats.failures == 2
    assert [c[0].text for c in again] == ["now an answer", None, None, "a real answer"]


def test_an_empty_success_stored_by_an_older_version_is_asked_again_and_replaced(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    backend = Replies({"q": "fine"})
    lm = LM(backend, cache, "replies")
    key = lm.cache_key("generate", {"messages": [{"role": "user", "content": "q"}],
                                    "params": GREEDY.model_dump(mode="json"), "sample": 0})  # fmt: skip
    cache.put(key, "generate", "m", Completion(text="   ").model_dump(exclude={"cached"}), None)
    out = lm.generate([_chat("q")], GREEDY)
    assert out[0][0].text == "fine" and not out[0][0].cached and backend.asked == ["q"]
    assert cache.get_many([key])[key]["text"] == "fine"  # the stored empty success is gone
    lm3 = LM(backend, cache, "replies")
    assert lm3.generate([_chat("q")], GREEDY)[0][0].cached


def test_yes_no_check_on_an_empty_reply_is_unscored():
    lm = LM(Replies({"Is tea served?": "  "}), None, "replies")
    (score,) = ask_yes_no(lm, [_chat("Is tea served?")], use_logprobs=False)
    assert not score.ok and score.p_yes is None and score.error.startswith("empty reply")


class Blank(Replies):
    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        super().generate(requests, lambda i, c: on_done(i, c.model_copy(update={"text": "\n"})))


def test_synthesis_treats_an_empty_reply_as_failed():
    lm = LM(Blank({}), None, "blank")
    found, stats = generate_questions(lm, load_framework(), k=1, max_rounds=1)
    assert found == [] and stats.failed_calls == stats.prompts > 0 and stats.unparseable_outputs == 0


def test_judge_skips_an_empty_response_from_a_file():
    asked = []

    class Judge(Replies):
        def generate(self, requests, on_done):
            asked.extend(requests)
            super().generate(requests, on_done)

    judge = LM(Judge({}), None, "judge")
    items = [JudgeItem("q1", "What is tea?", "A drink.", " "), JudgeItem("q2", "Why?", "Because.", None)]
    verdicts = judge_items(judge, items)
    assert asked == []
    assert [(v.rating, v.status) for v in verdicts] == [(None, "skipped"), (None, "skipped")]
    assert "an empty reply" in verdicts[0].reason


@pytest.mark.parametrize(
    ("message", "finish", "what"),
    [({"content": ""}, "stop", "empty"), ({"content": " \n"}, "stop", "whitespace only"),
     ({"content": None}, "stop", "null"), ({}, None, "null")],
)  # fmt: skip
def test_an_empty_chat_reply_is_a_retryable_fault(message, finish, what):
    with pytest.raises(ResponseError, match=what) as err:
        _has_text({"choices": [{"message": message, "finish_reason": finish}]})
    assert err.value.kind == "empty_reply"


@pytest.mark.parametrize(
    "choice",
    [{"message": {"content": "ok"}}, {"message": {"content": None, "refusal": "I can't."}},
     {"message": {"content": ""}, "finish_reason": "length"},
     {"message": {"content": ""}, "finish_reason": "content_filter"}],
)  # fmt: skip
def test_replies_a_retry_would_not_change_are_not_retried(choice):
    _has_text({"choices": [choice]})  # no ResponseError: answered, or recorded as failed by parse_chat
