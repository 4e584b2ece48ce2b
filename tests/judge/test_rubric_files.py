"""Rubric files with their scale: the front matter, the built-in rubrics, the parser and
the expected rating on a 1-5 scale, and the judging loop with a 1-5 rubric."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _care_scripted import scripted_lm

from culturalign.errors import ConfigError, DataError
from culturalign.judge.core import JudgeConfig, JudgeItem, judge_items
from culturalign.judge.expected import candidates, expected_rating
from culturalign.judge.parse import parse_rating
from culturalign.judge.rubric import BUILTIN, RUBRICS, RubricSet, load_rubric, load_rubrics, read_rubric
from culturalign.lm.cache import CallCache


def test_every_builtin_rubric_loads_with_its_scale_and_placeholders():
    for name in BUILTIN:
        r = load_rubric(name)
        assert (r.name, r.scale, r.output) == (name, (1, 5), "brackets")
        assert "{response}" in r.text and "Rating: [[n]]" in r.text
        assert not r.text.startswith("---")
    assert load_rubric("culturebank_quality").placeholders == ("question", "knowledge", "response")
    assert load_rubric("prism_awareness").placeholders == ("question", "culture", "response")
    for name in RUBRICS:
        assert load_rubric(name).scale == (1, 10)


def test_care_rubric_sha_is_the_prompt_only_so_the_front_matter_keeps_old_caches():
    rubrics = load_rubrics()
    for name, r in rubrics.rubrics.items():
        raw = Path(r.source).read_text(encoding="utf-8")
        assert raw.startswith("---\n") and raw.endswith(r.text)
        assert r.sha == hashlib.sha256(r.text.encode("utf-8")).hexdigest()[:12], name


def test_front_matter_problems_name_the_file_and_field(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("---\nscale: [5, 1]\n---\n{question} {response}", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_rubric(f)
    assert "mine.txt" in str(e.value) and "scale" in str(e.value)
    f.write_text("---\nscales: [1, 5]\n---\n{question} {response}", encoding="utf-8")
    with pytest.raises(DataError, match="unknown field"):
        read_rubric(f)
    f.write_text(
        "---\nplaceholders: [question, response, culture]\n---\n{question} {response}", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"lacks the placeholder\(s\) \{culture\}"):
        read_rubric(f)
    f.write_text("---\nscale: [1, 5]\nplaceholders: [question, response]\n---\nQ {question} R {response}")
    r = read_rubric(f)
    assert (r.name, r.scale, r.render({"question": "a", "response": "{question}"})) == (
        "mine",
        (1, 5),
        "Q a R {question}",
    )
    with pytest.raises(ConfigError, match="no such rubric file"):
        load_rubric(tmp_path / "absent.txt")


@pytest.mark.parametrize(
    ("reply", "rating", "status"),
    [
        ("Fine answer.\nRating: [[4]]", 4.0, "ok"),
        ("Rating: [[5]]", 5.0, "ok"),
        ("Rating: [[7]]", None, "out_of_range"),
        ("Overall I give it 3/5.", 3.0, "ok"),
        ("Score: 8/10", None, "out_of_range"),
        ("Rating: [[0]]", None, "out_of_range"),
        ("评分：4分", 4.0, "ok"),
    ],
)
def test_parser_reads_a_one_to_five_scale(reply, rating, status):
    got = parse_rating(reply, scale=5)
    assert (got.rating, got.status) == (rating, status)


def test_expected_rating_on_five_points():
    assert candidates(1, 5) == ("1]]", "2]]", "3]]", "4]]", "5]]")
    exp = expected_rating([-9.0, -9.0, -0.7, -0.7, -9.0], 1, 5)
    assert exp is not None and exp.rating == pytest.approx(3.5, abs=1e-3)
    with pytest.raises(ValueError, match="need 5"):
        expected_rating([0.0] * 10, 1, 5)


def test_judging_loop_with_a_one_to_five_rubric(tmp_path):
    replies = {"a": "Good.\nRating: [[4]]", "b": "Rating: [[9]]"}

    def script(req):
        text = req.messages[-1].content
        return replies["a"] if "answer-a" in text else replies["b"]

    judge = scripted_lm(script, CallCache(tmp_path / "c.sqlite"))
    rubric = load_rubric("culturebank_quality")
    items = [
        JudgeItem("1", "Q1?", None, "answer-a", extra={"knowledge": "People bow."}),
        JudgeItem("2", "Q2?", None, "answer-b", extra={"knowledge": "People bow."}),
        JudgeItem("3", "Q3?", None, "answer-a"),  # no knowledge: the rubric cannot be filled
    ]
    one, two, three = judge_items(judge, items, RubricSet.single(rubric), JudgeConfig(retries=1))
    assert (one.rating, one.status, one.rubric) == (4.0, "ok", "culturebank_quality")
    assert "People bow." in judge.backend.seen[0].messages[-1].content
    assert two.status == "invalid" and "outside 1-5" in (two.reason or "") and two.attempts == 2
    assert three.status == "skipped" and "no knowledge" in (three.reason or "")
