"""The judging loop around a model: rubric choice, retries with fresh seeds, the k-sample
median, invalid judgments kept as invalid, and the call cache on a rerun. The judge is a
scripted backend inside the real ``LM`` and the real SQLite cache."""

from __future__ import annotations

import pytest
from _care_scripted import scripted_lm

from culturalign.errors import ConfigError
from culturalign.judge.core import (
    JUDGE_PARAMS,
    JudgeConfig,
    JudgeItem,
    judge_items,
)
from culturalign.judge.rubric import load_rubrics
from culturalign.lm.cache import CallCache


def _item(i: int, category: str | None = "opinion", response: str | None = "An answer.", **kw) -> JudgeItem:
    return JudgeItem(
        item_id=f"q{i}",
        question=f"Question {i}?",
        reference=kw.pop("reference", f"Reference {i}."),
        response=response,
        category=category,
        culture="Chinese",
        **kw,
    )


def _prompt(req) -> str:
    return req.messages[-1].content


def test_rubric_follows_the_category(tmp_path):
    lm = scripted_lm(lambda r: "Rating: [[5]]", CallCache(tmp_path / "c.sqlite"))
    cats = ["cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy", None]
    out = judge_items(lm, [_item(i, c) for i, c in enumerate(cats)])
    assert [j.rubric for j in out] == [
        "entities_opinion",
        "entities_opinion",
        "norms_commonsense",
        "norms_commonsense",
        "literacy",
        "entities_opinion",  # uncategorised: the general rubric
    ]
    rubrics = load_rubrics()
    assert {j.rubric_sha for j in out} == {r.sha for r in rubrics.rubrics.values()}


def test_prompt_carries_question_reference_and_response(tmp_path):
    seen = []

    def script(req):
        seen.append(_prompt(req))
        return "Rating: [[5]]"

    item = _item(1, "literacy", response="My {answer} text", reference="Ref {response} 1.")
    judge_items(scripted_lm(script, None), [item])
    text = seen[0]
    assert "Question 1?" in text and "Ref {response} 1." in text and "My {answer} text" in text
    assert "{question}" not in text and text.count("{response}") == 1  # the one in the reference
    assert text.rstrip().endswith("My {answer} text")


def test_invalid_reply_is_retried_with_new_seeds_then_recorded_invalid(tmp_path):
    calls = []

    def script(req):
        calls.append((req.params.seed, req.params.temperature))
        return "I think it is fine."  # never a rating

    out = judge_items(
        scripted_lm(script, CallCache(tmp_path / "c.sqlite")), [_item(1)], config=JudgeConfig(retries=2)
    )
    j = out[0]
    assert j.status == "invalid" and j.rating is None and not j.valid
    assert j.attempts == 3 and len(calls) == 3
    assert len({seed for seed, _ in calls}) == 3  # each retry asks differently, so the cache cannot repeat
    assert calls[0][1] == 0.0 and all(t > 0 for _, t in calls[1:])  # greedy first, sampled retries
    assert [a.parse_status for a in j.samples[0].attempts] == ["missing"] * 3
    assert "no valid rating after 3 attempt(s)" in j.reason
    assert j.judge_reply == "I think it is fine."


def test_retry_recovers_a_rating(tmp_path):
    def script(req):
        return (
            "Rating: [[7]] or maybe Rating: [[8]]" if req.params.seed == 0 else "Better now.\nRating: [[6]]"
        )

    j = judge_items(scripted_lm(script, None), [_item(1)])[0]
    assert (j.status, j.rating, j.attempts) == ("ok", 6.0, 2)
    assert j.samples[0].attempts[0].parse_status == "conflict"


def test_failed_calls_are_retried_and_never_scored(tmp_path):
    lm = scripted_lm(lambda r: None, CallCache(tmp_path / "c.sqlite"))  # every call fails (HTTP 500)
    j = judge_items(lm, [_item(1)], config=JudgeConfig(retries=1))[0]
    assert j.status == "invalid" and j.rating is None
    assert [a.parse_status for a in j.samples[0].attempts] == ["call_failed", "call_failed"]
    assert "HTTP 500" in j.samples[0].attempts[0].error


def test_nothing_to_judge_is_skipped_without_calls(tmp_path):
    lm = scripted_lm(lambda r: "Rating: [[5]]", None)
    out = judge_items(lm, [_item(1, response=None, response_error="timeout"), _item(2, reference=None)])
    assert [j.status for j in out] == ["skipped", "skipped"]
    assert "timeout" in out[0].reason and "reference" in out[1].reason
    assert lm.stats.requests == 0


def test_k_samples_keep_the_median_of_valid_ones(tmp_path):
    # sample index k answers 4, 9, junk, 6, 8 -> valid {4, 9, 6, 8}; junk is retried and stays junk
    replies = {0: "Rating: [[4]]", 1: "Rating: [[9]]", 2: "no idea", 3: "Rating: [[6]]", 4: "Rating: [[8]]"}

    def script(req):
        if req.params.seed != JUDGE_PARAMS.seed:  # a retry
            return "still no idea"
        return replies[req.sample_index]

    j = judge_items(scripted_lm(script, None), [_item(1)], config=JudgeConfig(samples=5, retries=1))[0]
    assert [s.rating for s in j.samples] == [4, 9, None, 6, 8]
    assert j.rating == 7.0  # median of 4, 6, 8, 9
    assert j.attempts == 6  # 5 samples + 1 retry of the junk one
    assert all(a.temperature > 0 for s in j.samples for a in s.attempts)


def test_rerun_is_answered_from_the_cache(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")

    def script(req):
        return "Rating: [[8]]" if req.params.seed else "unsure"

    first = scripted_lm(script, cache)
    a = judge_items(first, [_item(i) for i in range(4)])
    again = scripted_lm(script, cache)
    b = judge_items(again, [_item(i) for i in range(4)])
    assert first.stats.calls == 8  # 4 greedy asks, all unsure, then 4 sampled retries
    assert again.stats.calls == 0 and again.stats.cache_hits == again.stats.requests
    assert [j.rating for j in a] == [j.rating for j in b] == [8.0] * 4


def test_user_templates_need_all_placeholders(tmp_path):
    for name in ("entities_opinion", "norms_commonsense", "literacy"):
        (tmp_path / f"{name}.txt").write_text("Q {question} A {answer} R {response}", encoding="utf-8")
    (tmp_path / "literacy.txt").write_text("Q {question} R {response}", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"literacy\.txt: judge template lacks the placeholder\(s\) \{answer\}"
    ):
        load_rubrics(tmp_path)
    (tmp_path / "literacy.txt").unlink()
    with pytest.raises(ConfigError, match="judge template not found"):
        load_rubrics(tmp_path)


def test_user_template_with_other_braces_renders(tmp_path):
    for name in ("entities_opinion", "norms_commonsense", "literacy"):
        (tmp_path / f"{name}.txt").write_text(
            'Reply as JSON {"rating": n}. {question} | {answer} | {response}', encoding="utf-8"
        )
    r = load_rubrics(tmp_path).for_category("opinion")
    assert (
        r.render({"question": "q", "answer": "a", "response": "r"})
        == 'Reply as JSON {"rating": n}. q | a | r'
    )


def test_authors_swapped_files_are_used_by_content(shared_data, tmp_path):
    rubrics = load_rubrics(shared_data / "care" / "prompts")
    assert "liter" in rubrics.rubrics["literacy"].text.lower()
    assert rubrics.rubrics["literacy"].source.endswith("norms_commonsense.txt")
    assert rubrics.rubrics["norms_commonsense"].source.endswith("literacy.txt")
    assert rubrics.notes and "each other's rubric" in rubrics.notes[0]


def test_builtin_rubrics_ask_for_commentary_bands_and_the_rating_line():
    for name, r in load_rubrics().rubrics.items():
        text = r.text
        assert all(p in text for p in ("{question}", "{answer}", "{response}")), name
        assert all(band in text for band in ("1-2", "3-4", "5-6", "7-8", "9-10")), name
        assert "commentary" in text and "Rating: [[n]]" in text, name
