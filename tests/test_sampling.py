"""``--limit N`` draws a stratified, seeded sample; ``--limit-order file`` the first N rows."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pytest

from culturalign.errors import ConfigError
from culturalign.generate import load_questions
from culturalign.sampling import allocate, priority, sample_limit


@dataclass(frozen=True)
class Item:
    id: str
    group: str


def _items(sizes: dict[str, int]) -> list[Item]:
    return [Item(f"{g}{i}", g) for g, n in sizes.items() for i in range(n)]


def _by_group(items) -> Counter:
    return Counter(i.group for i in items)


def test_allocation_hand_computed():
    # one each first (3 of 5 slots), then 2 left shared 6:3:1 -> quotas 1.2, 0.6, 0.2:
    # floors give A one, the largest remainder (B, 0.6) the other
    assert allocate({"A": 6, "B": 3, "C": 1}, 5) == {"A": 2, "B": 2, "C": 1}
    # five equal strata of 30 and 10 slots: two each
    assert allocate({k: 30 for k in "ABCDE"}, 10) == {k: 2 for k in "ABCDE"}
    # fewer slots than strata: the largest strata get one each
    assert allocate({"A": 6, "B": 3, "C": 1}, 2) == {"A": 1, "B": 1, "C": 0}
    # a stratum cannot give more than it holds; what it cannot take goes to the others
    assert allocate({"A": 1, "B": 1, "C": 10}, 6) == {"A": 1, "B": 1, "C": 4}
    # a limit at or above the total takes everything
    assert allocate({"A": 2, "B": 1}, 7) == {"A": 2, "B": 1}


def test_stratified_sample_counts_order_and_determinism():
    items = _items({"A": 6, "B": 3, "C": 1})
    picked = sample_limit(items, 5, strata=lambda i: i.group)
    assert _by_group(picked) == {"A": 2, "B": 2, "C": 1}
    # file order of the chosen items
    assert [items.index(i) for i in picked] == sorted(items.index(i) for i in picked)
    # inside a stratum the items with the smallest seeded hash are chosen
    a = sorted((i for i in items if i.group == "A"), key=lambda i: priority(i.id))[:2]
    assert {i.id for i in picked if i.group == "A"} == {i.id for i in a}
    # the same sample every run, whatever the file order; another seed gives another one
    assert sample_limit(list(reversed(items)), 5, strata=lambda i: i.group) == list(reversed(picked))
    assert sample_limit(iter(items), 5, strata=lambda i: i.group) == picked
    other = [sample_limit(items, 5, strata=lambda i: i.group, seed=s) for s in range(1, 6)]
    assert any(o != picked for o in other)


def test_priority_is_a_fixed_hash_not_pythons_salted_one():
    import hashlib

    # the first 8 bytes of sha256("<seed>\x1f<id>"): the same on every machine and process

    expected = int.from_bytes(hashlib.sha256(b"0\x1fq1").digest()[:8], "big")
    assert priority("q1") == expected


def test_file_order_is_the_old_first_n():
    items = _items({"A": 6, "B": 3, "C": 1})
    assert sample_limit(items, 4, order="file") == items[:4]
    assert sample_limit(items, None) == items
    assert sample_limit(items, 50) == items
    with pytest.raises(ConfigError, match="--limit-order must be one of stratified, file"):
        sample_limit(items, 3, order="random")


def _care_rows(path, n_per: int) -> None:
    cats = ["Cultural entities", "Opinion", "Social norms", "Cultural commonsense", "Literacy"]
    with path.open("w", encoding="utf-8") as fh:
        for c, cat in enumerate(cats):  # all of one category first, as the CARE files are laid out
            for i in range(n_per):
                row = {"id": f"c{c}-{i}", "text": f"问题{i}？", "language": "zh"}
                fh.write(
                    json.dumps({**row, "culture": "Chinese", "category": cat}, ensure_ascii=False) + "\n"
                )


def test_load_questions_streams_a_stratified_sample_of_a_jsonl_file(tmp_path):
    data = tmp_path / "q.jsonl"
    _care_rows(data, 30)
    first = load_questions(data, limit=5, limit_order="file")
    assert {q.category.value for q in first} == {"cultural_entities"}  # the old behaviour
    sample = load_questions(data, limit=5)
    assert Counter(q.category.value for q in sample) == {
        c: 1 for c in ("cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy")
    }
    assert [q.id for q in load_questions(data, limit=5)] == [q.id for q in sample]
    # the whole-file loader and the streamed reader choose the same questions
    whole = sample_limit(load_questions(data), 5)
    assert [q.id for q in whole] == [q.id for q in sample]


def test_a_bad_line_in_a_streamed_file_is_located(tmp_path):
    from culturalign.errors import DataError

    data = tmp_path / "q.jsonl"
    _care_rows(data, 2)
    with data.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "x", "text": "", "language": "zh", "culture": "Chinese"}\n{oops\n')
    with pytest.raises(DataError) as err:
        load_questions(data, limit=2)
    lines = err.value.lines()
    assert len(lines) == 2 and lines[0] == f"{data}:11: text: must not be empty"
    assert lines[1].startswith(f"{data}:12: invalid JSON: ")


def test_real_care_and_blend_samples_cover_the_strata(shared_data):
    care = load_questions(shared_data / "care" / "Chinese-test.json", limit=5)
    assert len({q.category for q in care}) == 5
    old = load_questions(shared_data / "care" / "Chinese-test.json", limit=5, limit_order="file")
    assert len({q.category for q in old}) == 1  # the first five rows are all one category
    from culturalign.datasets import load_any

    _, blend = load_any(shared_data / "blend")
    assert len({q.region for q in sample_limit(blend, 5)}) == 5
    assert len({q.region for q in sample_limit(blend, 5, order="file")}) == 1  # all Assam


def test_a_blend_item_without_native_text_is_a_located_error(shared_data):
    from culturalign.errors import DataError

    # one real BLEnD China item has an empty Chinese question and only an English one
    with pytest.raises(DataError, match=r"item China/New-en-04: question: empty in zh"):
        load_questions(shared_data / "blend", limit=5)


def test_each_record_type_is_stratified_on_the_axis_its_benchmark_reports():
    from culturalign.records import ChoiceItem, CulturalQuestion, NLIItem, ShortAnswerItem
    from culturalign.records.knowledge import GroundedQuestion, KnowledgeItem
    from culturalign.records.synth import AdaptedQuestion, SynthQuestion
    from culturalign.records.truefalse import TrueFalseItem
    from culturalign.sampling import default_stratum

    q = CulturalQuestion(id="a", text="t", language="zh", culture="Chinese", category="Opinion")
    assert default_stratum(q) == ("Chinese", "opinion")
    assert default_stratum(ShortAnswerItem(id="b", region="Assam", language="as", question="?")) == "Assam"
    mcq = ChoiceItem(id="c", question="?", options=["x", "y"], answer=0, culture="Korea", topic="history")
    assert default_stratum(mcq) == ("Korea", "history")
    hard = TrueFalseItem(id="h", question="?", options=["x"], truths=[True], culture="Peru")
    assert default_stratum(hard) == ("Peru", None)  # CulturalBench-Hard: by country
    grounded = GroundedQuestion(id="d", knowledge_id="k", knowledge="...", cultural_group="Mexican",
                                scenario="s", persona="p", question="?")  # fmt: skip
    assert default_stratum(grounded) == "Mexican"
    assert default_stratum(KnowledgeItem(id="k", cultural_group="Mexican")) == "Mexican"
    adapted = AdaptedQuestion(id="e", general_question_id="g", general_question="?", target_culture="Arab")
    assert default_stratum(adapted) == "Arab"
    assert default_stratum(SynthQuestion(id="g", text="?", topic="food")) == "food"
    nli = NLIItem(id="f", premise="p", hypothesis="h", labels={"US": ["E"]})
    assert default_stratum(nli) is None  # CALI pairs are labelled for every culture at once
