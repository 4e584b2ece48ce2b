"""Expected ratings: the judge's 1-10 probabilities after its commentary, averaged.

The arithmetic and the cut of the reply are checked by hand; the log-probs come from a
real tiny transformers model through the real ``LM`` and SQLite cache, and a backend
that cannot score keeps the parsed rating and says why."""

from __future__ import annotations

import math

import pytest
from _care_scripted import scripted_lm

from culturalign.judge.core import JudgeConfig, JudgeItem, judge_items
from culturalign.judge.expected import (
    CANDIDATES,
    RATING_OPENER,
    commentary,
    expected_rating,
    rating_prefix,
)
from culturalign.lm.cache import CallCache
from culturalign.records import ChatMessage


def test_commentary_stops_before_the_last_rating_line():
    reply = "Accurate, mentions [[tea]] customs? no.\nGood depth.\nRating: [[7]]\n"
    assert commentary(reply) == "Accurate, mentions [[tea]] customs? no.\nGood depth."
    assert commentary("Fine answer.\n**Score: 8/10**") == "Fine answer."
    assert commentary("No number anywhere here.") == "No number anywhere here."
    assert rating_prefix("Short.\nRating: [[3]]") == f"Short.\n\n{RATING_OPENER}"
    assert rating_prefix("Rating: [[9]]") == RATING_OPENER  # nothing before the rating
    assert CANDIDATES[0] == "1]]" and CANDIDATES[-1] == "10]]" and len(CANDIDATES) == 10


def test_expected_rating_arithmetic():
    uniform = expected_rating([math.log(0.05)] * 10)  # half the mass on the scale
    assert uniform.rating == pytest.approx(5.5)
    assert uniform.coverage == pytest.approx(0.5)
    assert sum(uniform.distribution) == pytest.approx(1.0)

    one_hot = expected_rating([-math.inf] * 6 + [0.0] + [-math.inf] * 3)
    assert one_hot.rating == pytest.approx(7.0) and one_hot.distribution[6] == 1.0

    # 3 with p=0.6 and 9 with p=0.2, renormalised to 0.75/0.25 -> 3*0.75 + 9*0.25 = 4.5
    lps = [-math.inf] * 10
    lps[2], lps[8] = math.log(0.6), math.log(0.2)
    mixed = expected_rating(lps)
    assert mixed.rating == pytest.approx(4.5) and mixed.coverage == pytest.approx(0.8)

    assert expected_rating([-math.inf] * 10) is None
    with pytest.raises(ValueError):
        expected_rating([0.0] * 9)


def _items(n: int) -> list[JudgeItem]:
    return [
        JudgeItem(
            item_id=f"q{i}",
            question=f"What do people eat at festival {i}?",
            reference="Dumplings, mostly.",
            response=["Dumplings.", "Pizza.", "I do not know."][i % 3],
            category="cultural_commonsense",
            culture="Chinese",
        )
        for i in range(n)
    ]


@pytest.mark.slow
def test_expected_ratings_from_a_real_model_are_cached_and_consistent(tiny_model_dir, tmp_path):
    from culturalign.lm.registry import load_lm

    db = tmp_path / "calls.sqlite"
    judge = load_lm(f"hf:{tiny_model_dir}", cache=db)
    config = JudgeConfig(score="expected", retries=2, params=JudgeConfig().params.model_copy(
        update={"max_new_tokens": 12}))  # fmt: skip
    out = judge_items(judge, _items(3), config=config)
    for j in out:
        assert j.score_method == "expected" and j.score_note is None
        s = j.samples[0]
        # the random model rarely writes a rating; its probabilities still give one
        assert j.valid and 1.0 <= j.rating <= 10.0
        assert sum(s.distribution) == pytest.approx(1.0) and 0.0 < s.coverage <= 1.0
        assert j.rating == pytest.approx(
            sum(p * n for p, n in zip(s.distribution, range(1, 11), strict=True))
        )
        assert s.parsed_rating == s.attempts[-1].rating  # what it wrote is kept beside it
        assert j.attempts == 1  # a reply without a written rating is scored, not asked again

    # the prefix reaches the model: the same numbers as scoring the rendered chat plus
    # the commentary as one raw string
    prompt = [ChatMessage(role="user", content="Rate this: fine.")]
    prefix = rating_prefix("It is fine.\nRating: [[6]]")
    via_prefix = judge.score([prompt], [CANDIDATES], prefixes=[prefix])[0]
    raw = judge.backend.render(prompt) + prefix
    via_raw = judge.score([raw], [CANDIDATES])[0]
    assert via_prefix.logprobs == pytest.approx(via_raw.logprobs, abs=1e-4)

    rerun = load_lm(f"hf:{tiny_model_dir}", cache=db)
    again = judge_items(rerun, _items(3), config=config)
    assert [j.model_dump() for j in again] == [j.model_dump() for j in out]
    assert rerun.stats.calls == 0 and CallCache(db).total_attempts() == judge.stats.calls > 0


def test_a_backend_without_scores_keeps_the_parsed_rating_and_says_why(tmp_path):
    # the first reply has no rating: after the fallback it is asked again, as in parsed mode
    def script(req):
        return "Good." if req.params.seed == 0 else "Good.\nRating: [[8]]"

    lm = scripted_lm(script, CallCache(tmp_path / "c.sqlite"))
    out = judge_items(lm, _items(2), config=JudgeConfig(score="expected"))
    assert [j.rating for j in out] == [8.0, 8.0] and [j.attempts for j in out] == [2, 2]
    assert all(j.score_method == "parsed" for j in out)
    assert all("continuation log-probs" in (j.score_note or "") for j in out)


def test_unknown_score_method_is_a_config_error():
    from culturalign.errors import ConfigError

    with pytest.raises(ConfigError, match="judge score must be one of parsed, expected"):
        JudgeConfig(score="vibes")


def test_commentary_is_cut_at_rating_lines_in_every_language_the_parser_reads():
    from culturalign.judge.expected import commentary

    for reply in ("良い回答です。\n評価：７", "說明清楚。\n評分: 8", "إجابة جيدة.\nتقييم: ٧", "Fine.\nRating: [[5]]"):
        head, _, _ = reply.partition("\n")
        assert commentary(reply) == head
    assert commentary("no rating here at all") == "no rating here at all"
