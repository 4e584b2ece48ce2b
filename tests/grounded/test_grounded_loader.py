"""The CultureBank loader and describe(): both column spellings, free text, located problems."""

from __future__ import annotations

import json

import pytest

from culturalign.datasets import culturebank, detect_format, load_any
from culturalign.errors import DataError
from culturalign.records.knowledge import KnowledgeItem, describe


def test_sample_files_load_and_are_detected(sample_dir):
    name, items = load_any(sample_dir / "culturebank_knowledge.jsonl")
    assert name == "culturebank"
    assert len(items) == 17
    assert len({i.cultural_group for i in items}) >= 15
    assert len({i.topic for i in items}) >= 8
    free = [i for i in items if not i.is_structured]
    assert [i.id for i in free] == ["cb-vn-tet"]
    assert detect_format(sample_dir / "culturebank_knowledge.csv") == "culturebank"


def test_pipeline_spelling_csv_maps_to_the_same_fields(sample_dir):
    by_id = {i.id: i for i in culturebank.load(sample_dir / "culturebank_knowledge.jsonl")}
    csv_items = culturebank.load(sample_dir / "culturebank_knowledge.csv")
    jp = next(i for i in csv_items if i.id == "cb-jp-shoes")  # cluster_id → id
    assert jp.actor_behavior == by_id["cb-jp-shoes"].actor_behavior  # "actor's behavior"
    assert jp.recipient_behavior == by_id["cb-jp-shoes"].recipient_behavior  # "recipient's behaviour"
    assert jp.other_descriptions == by_id["cb-jp-shoes"].other_descriptions  # "other descriptions"
    assert jp.agreement == pytest.approx(0.95)
    fika = next(i for i in csv_items if i.id == "cb-se-fika")  # a quoted cell across two lines
    assert "fika,\noften with a pastry" in fika.actor_behavior
    assert fika.recipient is None  # empty cell


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("cultural group", "cultural_group"),
        ("actor_behavior", "actor_behavior"),
        ("actor's behavior", "actor_behavior"),
        ("Actor’s Behaviour", "actor_behavior"),
        ("recipient's behavior", "recipient_behavior"),
        ("other descriptions", "other_descriptions"),
        ("eval_whole_desc", "description"),
        ("knowledge", "description"),
        ("cluster_id", "id"),
    ],
)
def test_column_spellings(column, field):
    assert culturebank.canonical_column(column) == field


def test_release_columns_json_list_and_free_text(tmp_path):
    release = tmp_path / "release.json"
    release.write_text(
        json.dumps(
            [
                {
                    "cultural group": "Swedish",
                    "actor_behavior": "take coffee breaks together",
                    "topic": "Work life",
                    "agreement": 0.8,
                    "eval_whole_desc": "Swedish colleagues share coffee breaks.",
                    "eval_scenario": "Workplace advising",
                    "eval_persona": "A new hire in Stockholm.",
                    "eval_question": "How do I get to know my new colleagues?",
                    "num_support_bin": "[10, 20)",
                }
            ]
        ),
        encoding="utf-8",
    )
    (item,) = culturebank.load(release)
    assert item.id == "kb-1"
    assert item.description == "Swedish colleagues share coffee breaks."
    assert describe(item) == item.description  # a release's own description wins
    assert item.eval_question == "How do I get to know my new colleagues?"
    free = tmp_path / "free.csv"
    free.write_text("knowledge,topic\nIn Finland people often go to the sauna with friends.,Leisure\n")
    assert culturebank.sniff(free)
    (f,) = culturebank.load(free)
    assert f.description.startswith("In Finland") and f.topic == "Leisure"


def test_every_problem_is_reported_with_its_location(tmp_path):
    path = tmp_path / "bad.jsonl"
    rows = [
        '{"id": "a", "cultural group": "Thai", "actor_behavior": "wai to greet", "agreement": 0.9}',
        '{"id": "b", "cultural group": "Thai", "topic": "Greetings"}',
        '{"id": "c", "actor_behavior": "bow"}',
        '{"id": "d", "cultural group": "Thai", "actor_behavior": "x", "agreement": 1.7}',
        '{"id": "e", "cultural group": "Thai", "actor_behavior": "x", "agreement": "often"}',
        "{not json",
        '{"id": "a", "description": "a second item with the first id"}',
        "[1, 2]",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        culturebank.load(path)
    lines = info.value.lines()
    assert any(line.startswith(f"{path}:2: no knowledge in this row") for line in lines)
    assert f"{path}:3: cultural_group: required for a structured record (the description names it)" in lines
    assert any(
        line.startswith(f"{path}:4: agreement: expected a number between 0 and 1, found 1.7")
        for line in lines
    )
    assert any(
        line.startswith(f"{path}:5: agreement: expected a number") and "'often'" in line for line in lines
    )
    assert any(line.startswith(f"{path}:6: invalid JSON") for line in lines)
    assert f"{path}:7: id: duplicate id 'a' (first at 1)" in lines
    assert f"{path}:8: expected a JSON object, found list" in lines
    assert len(lines) == 7


def test_csv_problems_name_the_line_a_record_starts_on(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        'cultural group,actor\'s behavior,agreement\nThai,"wai\nto greet",0.5\nThai,,0.5\nThai,bow,0.5,extra\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        culturebank.load(path)
    lines = info.value.lines()
    assert any(line.startswith(f"{path}:4: no knowledge in this row") for line in lines)
    assert f"{path}:5: 1 more cell(s) than the header has columns" in lines


def test_unsupported_suffix_and_non_utf8(tmp_path):
    with pytest.raises(DataError, match=r"expected a \.csv, \.tsv, \.jsonl or \.json file"):
        culturebank.load(tmp_path / "k.txt")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("description,topic\nCaf\xe9 culture,Food\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        culturebank.load(bad)


def test_describe_structured_record():
    item = KnowledgeItem(
        id="x",
        cultural_group="Korean",
        context="when drinking with older people",
        actor="younger people",
        actor_behavior="turn their head aside while drinking",
        recipient="older people",
        recipient_behavior="pour the first round",
        goal="to show respect",
        agreement=0.85,
    )
    text = describe(item)
    assert text.startswith(
        "In Korean culture, when drinking with older people, younger people turn their head aside while drinking."
    )
    assert "Older people in turn pour the first round." in text
    assert "The aim is to show respect." in text
    assert text.endswith("About 85% of the sources that mention it agree.")
    plural = describe(KnowledgeItem(id="y", cultural_group="Americans", actor_behavior="tip servers"))
    assert plural == "Among Americans, people tip servers."
    with pytest.raises(ValueError, match="neither a description nor an actor behaviour"):
        describe(KnowledgeItem(id="z", cultural_group="Thai"))


def test_grounded_outputs_that_quote_knowledge_are_not_sniffed_as_knowledge(tmp_path):
    q = tmp_path / "questions.jsonl"
    q.write_text('{"id": "a-q", "knowledge_id": "a", "knowledge": "Some knowledge.", "question": "Why?"}\n')
    items = tmp_path / "items.jsonl"
    items.write_text('{"question_id": "a-q", "knowledge": "Some knowledge.", "topic": "T"}\n')
    assert not culturebank.sniff(q) and not culturebank.sniff(items)
