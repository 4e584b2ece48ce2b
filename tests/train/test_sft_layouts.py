"""SFT data in published instruction layouts (Alpaca, ShareGPT, OpenOrca, UltraChat, text),
read by `train sft`, with located errors for bad rows; paper 003's knowledge paragraphs
round-trip from `grounded export --knowledge-text` into `train sft`."""

from __future__ import annotations

import json

import pytest
from train_helpers import write_jsonl

from culturalign.errors import DataError
from culturalign.records import KnowledgeText
from culturalign.train import data as d

# a few rows each, shaped as the published sets ship them
ALPACA = [
    {"instruction": "Name a greeting used in Japan.", "input": "", "output": "A bow."},
    {"instruction": "Translate to French.", "input": "Thank you", "output": "Merci"},
]
SHAREGPT_FROM = [
    {
        "id": "sg1",
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Is tipping usual in Korea?"},
            {"from": "gpt", "value": "Not usually."},
            {"from": "human", "value": "And in the US?"},
            {"from": "gpt", "value": "Yes, 15-20%."},
        ],
    }
]
SHAREGPT_ROLE = [
    {"conversations": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
]
OPENORCA = [
    {"id": "niv.1", "system_prompt": "", "question": "What is Diwali?", "response": "A festival of lights."},
    {"id": "t0.2", "system_prompt": "You are helpful.", "question": "Q?", "response": "A."},
]
ULTRACHAT_200K = [
    {
        "prompt": "How do people greet in Brazil?",
        "prompt_id": "abc123",
        "messages": [
            {"role": "user", "content": "How do people greet in Brazil?"},
            {"role": "assistant", "content": "Often with a kiss on the cheek."},
        ],
    }
]
ULTRACHAT_RAW = [{"id": "0", "data": ["What is hygge?", "A Danish idea of coziness.", "Thanks", "Welcome."]}]


def _roles(msgs):
    return [m.role for m in msgs]


def test_alpaca_rows_join_instruction_and_input(tmp_path):
    a, b = d.load_sft(write_jsonl(tmp_path / "alpaca.jsonl", ALPACA))
    assert a.prompt[0].content == "Name a greeting used in Japan." and a.completion[0].content == "A bow."
    assert b.prompt[0].content == "Translate to French.\n\nThank you" and _roles(b.completion) == [
        "assistant"
    ]
    # Alpaca ships as one JSON list: the same rows read from it
    path = tmp_path / "alpaca_data.json"
    path.write_text(json.dumps(ALPACA, indent=2))
    assert [e.completion[0].content for e in d.load_sft(path)] == ["A bow.", "Merci"]


def test_sharegpt_both_spellings_train_on_the_last_answer(tmp_path):
    (ex,) = d.load_sft(write_jsonl(tmp_path / "sg.jsonl", SHAREGPT_FROM))
    assert ex.id == "sg1" and _roles(ex.prompt) == ["system", "user", "assistant", "user"]
    assert ex.completion[0].content == "Yes, 15-20%."
    (ex,) = d.load_sft(write_jsonl(tmp_path / "sg2.jsonl", SHAREGPT_ROLE))
    assert [m.content for m in ex.prompt] == ["Hi"] and ex.completion[0].content == "Hello"


def test_openorca_leaves_out_an_empty_system_prompt(tmp_path):
    a, b = d.load_sft(write_jsonl(tmp_path / "orca.jsonl", OPENORCA))
    assert (
        a.id == "niv.1"
        and _roles(a.prompt) == ["user"]
        and a.completion[0].content == "A festival of lights."
    )
    assert _roles(b.prompt) == ["system", "user"] and b.prompt[0].content == "You are helpful."


def test_ultrachat_200k_and_the_original_release(tmp_path):
    (ex,) = d.load_sft(write_jsonl(tmp_path / "uc200k.jsonl", ULTRACHAT_200K))
    assert ex.id == "abc123" and ex.completion[0].content == "Often with a kiss on the cheek."
    (ex,) = d.load_sft(write_jsonl(tmp_path / "uc.jsonl", ULTRACHAT_RAW))
    assert _roles(ex.prompt) == ["user", "assistant", "user"] and ex.completion[0].content == "Welcome."


def test_parquet_in_a_layout_reads_the_same(tmp_path):
    from datasets import Dataset

    Dataset.from_list(OPENORCA).to_parquet(str(tmp_path / "orca.parquet"))
    assert [e.id for e in d.load_sft(tmp_path / "orca.parquet")] == ["niv.1", "t0.2"]


def test_bad_rows_are_located_with_their_field(tmp_path):
    rows = [
        SHAREGPT_FROM[0],
        {"conversations": [{"from": "narrator", "value": "x"}, {"from": "gpt", "value": "y"}]},
        {"conversations": [{"from": "human", "value": "only a question"}]},
        {"conversations": "not a list"},
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError) as err:
        d.load_sft(path)
    text = str(err.value)
    assert f"{path}:2: conversations[0]: not a usable SFT example: unknown speaker 'narrator'" in text
    assert (
        f"{path}:3: conversations: not a usable SFT example: the conversation has no assistant turn" in text
    )
    assert f"{path}:4: conversations: not a usable SFT example: expected a non-empty list of turns" in text
    alpaca = write_jsonl(tmp_path / "a.jsonl", [ALPACA[0], {"instruction": "x", "output": ""}])
    with pytest.raises(DataError, match=r"a\.jsonl:2: output: not a usable SFT example: missing or empty"):
        d.load_sft(alpaca)


def test_text_and_conversations_do_not_mix_in_one_file(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [{"text": "A paragraph."}, ALPACA[0]])
    with pytest.raises(DataError, match=r"mixed\.jsonl:2: this row is not plain text like the first row"):
        d.load_sft(path)


def test_knowledge_text_round_trips_into_sft(tmp_path, tiny_spec):
    """Paper 003 step 1: the descriptions `grounded export --knowledge-text` writes are the
    rows `train sft` trains on, as plain language-modelling text."""
    from culturalign.datasets import culturebank
    from culturalign.io import write_records
    from culturalign.synth.grounded_export import knowledge_texts
    from culturalign.train.run import train

    knowledge = tmp_path / "kb.jsonl"
    write_jsonl(
        knowledge,
        [
            {
                "cluster_id": f"k{i}",
                "cultural group": "Japanese",
                "context": "in business meetings",
                "actor": "people",
                "actor_behavior": f"exchange business cards with both hands ({i})",
                "topic": "Etiquette",
                "agreement": 0.9,
            }
            for i in range(4)
        ],
    )
    texts, _ = knowledge_texts(culturebank.load(knowledge))
    out = tmp_path / "knowledge.jsonl"
    write_records(out, texts)
    loaded = d.load_sft(out)
    assert all(isinstance(t, KnowledgeText) for t in loaded) and len(loaded) == 4
    assert [t.text for t in loaded] == [t.text for t in texts]
    assert d.trl_rows(loaded)[0] == {"text": texts[0].text}
    result = train("sft", tiny_spec, out, tmp_path / "step1", config={"preset": "tiny-test"})
    assert result.n_train == 4 and result.steps >= 1
    assert any("plain text, trained as continued pre-training" in n for n in result.notes)
    assert any(n.startswith("held out: none") for n in result.notes)


def _cli(*args: str):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, timeout=300
    )


def test_layouts_are_detected_by_data_validate_and_convert(tmp_path):
    from culturalign.datasets import detect_format

    files = {
        "alpaca.json": ALPACA,
        "sharegpt.jsonl": SHAREGPT_FROM,
        "orca.jsonl": OPENORCA,
        "uc.jsonl": ULTRACHAT_200K,
        "raw.jsonl": ULTRACHAT_RAW,
    }
    for name, rows in files.items():
        path = tmp_path / name
        if name.endswith(".json"):
            path.write_text(json.dumps(rows))
        else:
            write_jsonl(path, rows)
        assert detect_format(path) == "sft", name
    proc = _cli("data", "validate", str(tmp_path / "orca.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ") and "[sft]" in proc.stdout
    proc = _cli("data", "convert", str(tmp_path / "sharegpt.jsonl"), str(tmp_path / "ours"), "--to", "jsonl")
    assert proc.returncode == 0, proc.stderr
    (ex,) = d.load_sft(tmp_path / "ours" / "sharegpt.jsonl")  # our prompt/completion rows, read by train sft
    assert ex.completion[0].content == "Yes, 15-20%."
    bad = write_jsonl(
        tmp_path / "bad.jsonl", [OPENORCA[0], {"id": "x", "system_prompt": "", "question": "Q"}]
    )
    proc = _cli("data", "validate", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_train_sft_cli_on_alpaca_says_what_it_trained_on(tmp_path, tiny_spec):
    data = write_jsonl(tmp_path / "alpaca.jsonl", ALPACA * 2)
    proc = _cli(
        "train",
        "sft",
        "--model",
        tiny_spec,
        "--data",
        str(data),
        "--out",
        str(tmp_path / "m"),
        "--preset",
        "tiny-test",
    )
    assert proc.returncode == 0, proc.stderr
    assert "sft: " in proc.stdout and "on 4 examples" in proc.stdout
    assert "held out: none; every item of alpaca.jsonl was trained on" in proc.stdout


def test_a_plain_text_file_is_one_text_row_per_paragraph(tmp_path):
    path = tmp_path / "knowledge.txt"
    path.write_text("In Japan, people bow\nwhen they greet.\n\n\nIn Brazil, friends kiss on the cheek.\n")
    rows = d.read_rows(path)
    assert rows == [
        (1, {"text": "In Japan, people bow when they greet."}),
        (5, {"text": "In Brazil, friends kiss on the cheek."}),
    ]
    loaded = d.load_sft(path)
    assert [type(t) for t in loaded] == [KnowledgeText, KnowledgeText]
    assert d.trl_rows(loaded)[1] == {"text": "In Brazil, friends kiss on the cheek."}
