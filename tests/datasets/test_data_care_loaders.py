"""CARE test sets, the CARE preference release in every container, and our JSONL."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from data_helpers import SAMPLE_PREFS, SAMPLE_QUESTIONS, care_item, pref_row, write_json, write_jsonl

from culturalign.datasets import care, care_prefs, detect_format, jsonl
from culturalign.datasets.language import canonical_culture, culture_from_filename, detect_language
from culturalign.datasets.rows import _item_lines
from culturalign.records import AssociatedCulture, Category, CulturalQuestion, GeographicScope


@pytest.mark.parametrize(
    ("name", "culture", "lang"), [("Chinese", "Chinese", "zh"), ("Arabic", "Arab", "ar")]
)
def test_real_care_test_sets(shared_data, name, culture, lang):
    path = shared_data / "care" / f"{name}-test.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    questions = care.load(path)
    assert detect_format(path) == "care-test"
    assert len(questions) == len(raw) == 150
    assert Counter(q.category for q in questions) == dict.fromkeys(Category, 30)
    assert {q.culture for q in questions} == {culture}
    assert {q.language for q in questions} == {lang}
    assert len({q.id for q in questions}) == 150
    # every field is carried over, item by item
    for q, item in zip(questions, raw, strict=True):
        assert q.text == item["question"] and q.reference_answer == item["answer"]
        assert q.associated_culture is AssociatedCulture.NATIVE
    scopes = Counter(q.geographic_scope for q in questions)
    raw_scopes = Counter(item["geographic_scope"] for item in raw)
    assert scopes[GeographicScope.NATIONAL] == raw_scopes["Nationwide"]
    assert sum(scopes.values()) == 150


def test_ids_are_stable_across_files(tmp_path):
    """The same question gets the same id in a test file and in a preference file."""
    test_file = write_json(tmp_path / "Chinese-test.json", [care_item("端午节吃什么？")])
    prefs = write_jsonl(tmp_path / "prefs.jsonl", [pref_row("端午节吃什么？", "粽子。", 9)])
    assert care.load(test_file)[0].id == care_prefs.load(prefs)[0].id


def test_care_jsonl_and_translations(tmp_path):
    path = write_jsonl(
        tmp_path / "care.jsonl",
        [
            care_item(
                "日本の家に入るとき、靴はどうしますか？",
                associated_culture="Native (Japanese)",
                answer_en="Take them off.",
                question_en="Shoes?",
            )
        ],
    )
    assert care.sniff(path)
    (q,) = care.load(path)
    assert q.language == "ja" and q.culture == "Japanese"  # kana → Japanese even with kanji
    assert q.text_in("en") == "Shoes?" and q.reference_in("en") == "Take them off."


def test_sample_questions_cover_cultures_categories_scopes():
    questions = jsonl.load(SAMPLE_QUESTIONS)
    assert all(isinstance(q, CulturalQuestion) for q in questions)
    assert len(questions) >= 40
    assert {"Chinese", "Arab", "Japanese"} <= {q.culture for q in questions}
    assert len({q.culture for q in questions}) >= 4
    assert {q.category for q in questions} == set(Category)
    assert {q.geographic_scope for q in questions} == set(GeographicScope)
    for q in questions:
        assert q.text_en and q.reference_answer and q.reference_answer_en
        if q.language in ("zh", "ja", "ar", "ko"):  # the script says which language it is
            assert detect_language(q.text) == q.language


def test_sample_prefs_shape():
    questions = care_prefs.load(SAMPLE_PREFS)
    rows = [json.loads(line) for line in SAMPLE_PREFS.read_text(encoding="utf-8").splitlines()]
    assert sum(len(q.responses) for q in questions) == len(rows)
    assert len(questions) == len({r["question"] for r in rows})
    assert sum(1 for q in questions for r in q.responses if r.not_an_answer) == sum(
        1 for r in rows if r["rating"] == "not an answer"
    )
    # a human-written rated response doubles as the reference answer
    humans = [q for q in questions if any(r.producer == "human" for r in q.responses)]
    assert humans and all(q.reference_answer for q in humans)
    assert sum(1 for q in questions if q.language == "en") > len(questions) // 2


def _as(path, rows):
    """Write the same rows as JSON list, JSONL, CSV, TSV or Parquet."""
    suffix = path.suffix
    if suffix == ".json":
        write_json(path, rows)
    elif suffix == ".jsonl":
        write_jsonl(path, rows)
    elif suffix in (".csv", ".tsv"):
        import csv

        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(
                fh,
                fieldnames=list(rows[0]),
                delimiter="\t" if suffix == ".tsv" else ",",
                quoting=csv.QUOTE_NONE if suffix == ".tsv" else csv.QUOTE_MINIMAL,
                escapechar=None if suffix != ".tsv" else "\\",
            )
            writer.writeheader()
            for r in rows:
                writer.writerow({k: "" if v is None else v for k, v in r.items()})
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # the first release stores ratings as text, as here
        pq.write_table(
            pa.Table.from_pylist(
                [{**r, "rating": None if r["rating"] is None else str(r["rating"])} for r in rows]
            ),
            path,
        )
    return path


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".tsv", ".parquet"])
def test_prefs_every_container_gives_the_same_questions(tmp_path, suffix):
    rows = [
        {k: v for k, v in json.loads(line).items() if k != "translated_question"}
        for line in SAMPLE_PREFS.read_text(encoding="utf-8").splitlines()
    ]
    rows = [r for r in rows if "\t" not in r["response"]]
    path = _as(tmp_path / f"prefs{suffix}", rows)
    assert detect_format(path) == "care-prefs"
    loaded = care_prefs.load(path)
    reference = care_prefs.load(_as(tmp_path / "reference.jsonl", rows))
    assert [q.model_dump() for q in loaded] == [q.model_dump() for q in reference]


def test_prefs_second_release_shape(tmp_path):
    """question, answer, response, human_rating, source, cul_type, associated_culture,
    'translated_question (optional)' (the hub's later layout)."""
    rows = [
        {
            "question": "如何看待春节回家？",
            "answer": "许多人把回家过年看作最重要的团聚。",
            "response": text,
            "human_rating": rating,
            "source": "LLM",
            "cul_type": "Opinion",
            "associated_culture": "Native (Chinese)",
            "translated_question (optional)": "How do people view going home for Spring Festival?",
        }
        for text, rating in (("看法因人而异。", 6), ("没有人在乎。", 2))
    ]
    path = write_jsonl(tmp_path / "care_v2.jsonl", rows)
    assert detect_format(path) == "care-prefs"
    (q,) = care_prefs.load(path)
    assert q.reference_answer == rows[0]["answer"]
    assert q.text_en.startswith("How do people")
    assert q.category is Category.OPINION and q.culture == "Chinese" and q.language == "zh"
    assert [r.rating for r in q.responses] == [6, 2]


def test_prefs_ratings_missing_or_not_an_answer(tmp_path):
    path = write_jsonl(
        tmp_path / "prefs.jsonl",
        [
            pref_row("Q?", "rated", "7.5"),
            pref_row("Q?", "no rating", None),
            pref_row("Q?", "blank rating", ""),
            pref_row("Q?", "repeats the question", "Not an answer"),
            pref_row("Q?", "n/a", "N/A"),
        ],
    )
    (q,) = care_prefs.load(path)
    assert [(r.rating, r.not_an_answer) for r in q.responses] == [
        (7.5, False),
        (None, False),
        (None, False),
        (None, True),
        (None, True),
    ]


def test_prefs_foreign_and_general_questions_keep_the_data_culture(tmp_path):
    path = write_jsonl(
        tmp_path / "prefs.jsonl",
        [
            pref_row("日本人过年吃什么？", "年越荞麦面。", 8, associated_culture="Foreign (Japanese)"),
            pref_row(
                "What is a good way to greet someone?",
                "Say hello.",
                5,
                associated_culture="General",
                culture="Arab",
            ),
            pref_row(
                "What is a good way to greet someone?",
                "Wave.",
                4,
                associated_culture="General",
                culture="Arab",
            ),
        ],
    )
    first, second = care_prefs.load(path)
    # a Chinese-language question about Japan belongs to the Chinese data (CARE appendix A.2)
    assert first.culture == "Chinese" and first.associated_culture is AssociatedCulture.FOREIGN
    assert second.culture == "Arab"  # an explicit culture column wins


def test_language_and_culture_helpers():
    assert detect_language("广州菜的口味通常是比较清淡的吗？") == "zh"
    assert detect_language("日本の家に入るとき") == "ja"
    assert detect_language("هل يُتوقع أن تقوم العائلة") == "ar"
    assert detect_language("한국에서 어른과 함께") == "ko"
    assert detect_language("What do people eat at Diwali?") == "en"
    assert (
        detect_language("What does 'duì niú tán qín' (对牛弹琴) mean?") == "en"
    )  # a few characters in English
    assert canonical_culture("Arabic") == "Arab" and canonical_culture("Korean") == "Korean"
    assert culture_from_filename("data/Arabic-test.json") == "Arab"
    assert culture_from_filename("Japanese-test.json") == "Japanese"
    assert culture_from_filename("prefs.jsonl") is None


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_item_lines_for_any_layout(indent):
    data = [{"a": 1, "b": [1, 2, {"c": "x\ny"}]}, {"a": 2}, [3], "s"]
    text = "\n" + json.dumps(data, indent=indent)
    lines = _item_lines(text, len(data))
    for i, item in enumerate(data):
        start = text.splitlines()[lines[i] - 1]
        assert json.dumps(item, indent=indent).splitlines()[0].strip() in start
