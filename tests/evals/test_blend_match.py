"""BLEnD answer matching on hand-made cases: whole tokens, lemmas and stems per language,
accent folding, and the prompt deleted from the reply (issue 14)."""

from __future__ import annotations

import pytest

from culturalign.evals.blend.match import AnswerMatcher, fold, strip_prompt, words


@pytest.fixture(scope="module")
def matcher() -> AnswerMatcher:
    return AnswerMatcher()


@pytest.mark.parametrize(
    ("reply", "answer", "language"),
    [
        ("Kids love snacks.", "snack", "en"),  # plural reply, singular answer
        ("a snack", "snacks", "en"),  # and the other way round
        ("They eat kasbahs", "kasbah", "en"),  # a loanword the dictionary lacks: the stem
        ("μουσακα", "μουσακάς", "el"),  # tonos dropped and final sigma
        ("Μουσακάς!", "μουσακα", "el"),
        ("Las galletas de avena", "galleta", "es"),
        ("sándwich", "sandwich", "es"),
        ("sandwich", "sándwich", "es"),
        ("밥을 먹어요", "밥", "ko"),  # the particle 을 is not part of the word
        ("김치 찌개", "김치찌개", "ko"),  # a compound written with a space
        ("我们吃饺子和面条。", "饺子", "zh"),  # jieba joins 吃饺子; search mode finds 饺子
        ("يأكلون الكسكس", "كسكس", "ar"),  # the article ال is stemmed away
        ("Fish, and chips", "fish and chips", "en"),  # tokens in any order, punctuation ignored
        ("ＳＵＮＤＡＹ ＲＯＡＳＴ", "sunday roast", "en"),  # full-width letters fold by NFKC
    ],
)
def test_answers_that_must_match(matcher, reply, answer, language):
    assert matcher.contains(reply, answer, language)


@pytest.mark.parametrize(
    ("reply", "answer", "language"),
    [
        ("밥솥", "밥", "ko"),  # rice inside "rice cooker": a raw substring, not a word
        ("A steak", "tea", "en"),
        ("roast", "roast dinner", "en"),  # every answer token is needed
        ("scones", "cones", "en"),
        ("", "anything", "en"),
        ("tea", "", "en"),  # an answer with no token never matches
    ],
)
def test_answers_that_must_not_match(matcher, reply, answer, language):
    assert not matcher.contains(reply, answer, language)


def test_first_match_keeps_the_order_given(matcher):
    assert matcher.first_match("roast beef and a roast dinner", ["roast dinner", "roast beef"], "en") == (
        "roast dinner"
    )
    assert matcher.first_match("nothing", ["roast dinner"], "en") is None


def test_fold_and_words():
    assert fold("Ñandú Μουσακάς") == "nandu μουσακασ"  # case folding also folds the final sigma
    assert fold("الْكُسْكُس") == "الكسكس"  # harakat go
    assert fold("বিহু") == "বিহু"  # Assamese vowel signs stay
    assert words("hot-dog, (e.g., 4)") == ["hot", "dog", "e", "g", "4"]


def test_matcher_names_every_library():
    name = AnswerMatcher().name
    for part in ("simplemma", "snowball", "kiwi(ko)", "jieba(zh)", "accent-fold"):
        assert part in name


PROMPT = (
    "What time do people eat dinner in Mexico? (e.g., 18:00)\n\nAnswer in a few words, with no explanation."
)
QUESTION = "What time do people eat dinner in Mexico? (e.g., 18:00)"


def test_strip_prompt_removes_echoes_and_labels():
    assert strip_prompt(QUESTION, [PROMPT, QUESTION]) == ""  # an echo leaves nothing
    assert strip_prompt(PROMPT, [PROMPT, QUESTION]) == ""
    assert strip_prompt(QUESTION.upper() + " 20:00", [PROMPT, QUESTION]) == "20:00"
    # "Answer:" is stripped because the prompt says "Answer"; a time is not a label
    assert strip_prompt("Answer: 19:00.", [PROMPT, QUESTION]) == "19:00"
    assert strip_prompt("18:00 mostly", [PROMPT, QUESTION]) == "18:00 mostly"
    assert strip_prompt("Dinner: tacos", [PROMPT, QUESTION]) == "tacos"  # "dinner" is in the prompt
    assert strip_prompt("Food: tacos", [PROMPT, QUESTION]) == "food: tacos"  # "food" is not
    assert strip_prompt("¡Tacos！", [PROMPT]) == "¡tacos!"  # full-width punctuation folded


def test_cases_the_old_substring_matcher_handled_still_match():
    from culturalign.evals.blend.match import AnswerMatcher

    m = AnswerMatcher()
    assert m.first_match("I think it's a Sunday roast.", ["sunday roast"], "en") == "sunday roast"
    assert m.first_match("A steak", ["tea"], "en") is None  # whole words: "tea" is not in "steak"
    assert m.first_match("我们吃饺子和面条。", ["饺子"], "zh") == "饺子"
    assert m.first_match("يأكلون الكسكس", ["كسكس"], "ar") == "كسكس"  # the attached article
    assert m.first_match("", ["anything"], "en") is None
