"""Training data: our pairs, Hugging Face preference formats, unpaired and SFT rows,
located errors, and a held-out split that never splits a question."""

from __future__ import annotations

import json

import pytest
from train_helpers import make_pairs, write_jsonl

from culturalign.errors import DataError
from culturalign.train import data as d


def test_our_pairs_load_and_lose_provenance_before_trl(pairs_file):
    pairs = d.load_pairs(pairs_file)
    assert len(pairs) == 24 and pairs[0].question_id == "q0" and pairs[0].associated_culture == "foreign"
    rows = d.trl_rows(pairs)
    assert set(rows[0]) == {"prompt", "chosen", "rejected"}
    assert rows[0]["prompt"] == [{"role": "user", "content": "Question 0: what is polite about tea?"}]


def test_general_preference_formats(tmp_path):
    # plain strings (e.g. OpenOrca-style sets)
    strings = write_jsonl(
        tmp_path / "s.jsonl", [{"prompt": "Hi?", "chosen": "Hello!", "rejected": "Go away."}]
    )
    (p,) = d.load_pairs(strings)
    assert p.prompt[0].role == "user" and p.chosen[0].role == "assistant" and p.chosen[0].content == "Hello!"
    # implicit prompt: whole conversations in chosen/rejected (UltraFeedback/HH style)
    conv = [
        {
            "chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
            "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}],
        }
    ]
    (p,) = d.load_pairs(write_jsonl(tmp_path / "c.jsonl", conv))
    assert [m.content for m in p.prompt] == ["Q"] and p.chosen[0].content == "good"
    # prompt repeated at the start of chosen/rejected
    rep = [{"prompt": "Q", **conv[0]}]
    (p,) = d.load_pairs(write_jsonl(tmp_path / "r.jsonl", rep))
    assert [m.content for m in p.rejected] == ["bad"]


def test_dataset_folder_and_parquet(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = [{"prompt": f"q{i}", "chosen": "yes", "rejected": "no", "score_chosen": 8.0} for i in range(3)]
    DatasetDict({"train_prefs": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "hub"))
    assert len(d.load_pairs(tmp_path / "hub")) == 3
    Dataset.from_list(rows).to_parquet(str(tmp_path / "p.parquet"))
    assert [p.prompt[0].content for p in d.load_pairs(tmp_path / "p.parquet")] == ["q0", "q1", "q2"]


def test_bad_rows_are_all_reported_with_their_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = make_pairs(1)[0]
    lines = [
        json.dumps(good),
        json.dumps({**good, "chosen": 5}),
        json.dumps({**good, "chosen_rating": 1, "rejected_rating": 5}),
        json.dumps({**good, "rejected": [{"role": "robot", "content": "x"}]}),
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        d.load_pairs(path)
    out = info.value.lines()
    assert len(out) == 3
    assert out[0].startswith(f"{path}:2: not a usable preference pair")
    assert out[1] == f"{path}:3: chosen rating 1 is not above rejected rating 5"
    assert out[2].startswith(f"{path}:4: ")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("list.json", b"[1, 2]", "list.json:item 0: expected a JSON object, found int"),
        ("header.csv", b"prompt,chosen,rejected\n", "header.csv: the file holds no rows"),
        ("latin.csv", b"prompt,chosen,rejected\n\xe9,a,b\n", "latin.csv:2: not UTF-8 text"),
        ("broken.parquet", b"PAR1 not really", "broken.parquet: cannot read as parquet: ArrowInvalid"),
    ],
)
def test_files_that_cannot_hold_rows_are_located_errors(tmp_path, name, content, message):
    """These were a TypeError, a ValueError and two datasets exceptions, each a traceback."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        d.load_pairs(path)
    assert message in str(err.value)


def test_wrong_kind_of_data_is_named(tmp_path):
    path = write_jsonl(tmp_path / "u.jsonl", [{"prompt": "q", "completion": "a", "label": True}])
    with pytest.raises(DataError, match=r"expected preference pairs .* found unpaired data"):
        d.load_pairs(path)
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"question": "q"}])
    with pytest.raises(DataError, match="cannot tell the data format"):
        d.load_pairs(odd)


def test_unpaired_rows_and_pairs_for_kto(tmp_path, pairs_file):
    path = write_jsonl(
        tmp_path / "u.jsonl",
        [{"prompt": "q", "completion": "a", "label": "true"}, {"prompt": "q", "completion": "b", "label": 0}],
    )
    ex = d.load_unpaired(path)
    assert [e.label for e in ex] == [True, False]
    split = d.load_unpaired(pairs_file)
    assert len(split) == 48 and sum(e.label for e in split) == 24


def test_sft_from_care_questions_uses_reference_answers():
    from culturalign.paths import package_data

    sample = package_data("data", "sample", "care_questions.jsonl")
    native = d.load_sft(sample)
    english = d.load_sft(sample, lang="en", mode="roleplay")
    assert native and len(native) == len(english)
    first = json.loads(sample.read_text(encoding="utf-8").splitlines()[0])
    assert native[0].completion[0].content == first["reference_answer"]
    assert english[0].completion[0].content == first["reference_answer_en"]
    assert first["text_en"] in english[0].prompt[-1].content
    assert "Chinese" in " ".join(m.content for m in english[0].prompt)  # role-play names the culture


def test_sft_on_a_published_care_file_uses_the_human_answers():
    from culturalign.paths import package_data

    sample = package_data("data", "sample", "care_prefs.jsonl")
    rows = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    human = {r["question"]: r["response"] for r in rows if r["source"] == "human"}
    examples = d.load_sft(sample)
    assert examples and all(ex.prompt[-1].content in human for ex in examples)
    assert all(ex.completion[0].content == human[ex.prompt[-1].content] for ex in examples)


def test_sft_from_messages_and_pairs(tmp_path, pairs_file):
    conv = write_jsonl(
        tmp_path / "m.jsonl",
        [
            {
                "messages": [
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "u"},
                    {"role": "assistant", "content": "a"},
                ]
            }
        ],
    )
    (ex,) = d.load_sft(conv)
    assert [m.role for m in ex.prompt] == ["system", "user"] and ex.completion[0].content == "a"
    from_pairs = d.load_sft(pairs_file)
    assert from_pairs[0].completion[0].content.startswith("In China")


def test_heldout_split_keeps_questions_whole():

    from culturalign.records import PreferencePair

    rows = make_pairs(10) + make_pairs(10)  # every question twice
    pairs = [PreferencePair.model_validate(r) for r in rows]
    train, held = d.split_heldout(pairs, fraction=0.2, min_n=2, max_n=100, seed=1)
    assert len(train) + len(held) == 20 and 2 <= len(held) <= 6
    assert not {p.question_id for p in train} & {p.question_id for p in held}
    again = d.split_heldout(pairs, fraction=0.2, min_n=2, max_n=100, seed=1)[1]
    assert [p.question_id for p in again] == [p.question_id for p in held]


def test_max_examples_samples_the_training_side_only(pairs_file):
    """CARE §4.1 samples general-preference sets down to its own size; the held-out
    pairs stay as they were."""
    from culturalign.train.presets import resolve_config
    from culturalign.train.run import load_training_data

    full_train, full_held, _ = load_training_data("dpo", pairs_file, resolve_config({"preset": "tiny-test"}))
    cfg = resolve_config({"preset": "tiny-test", "max_examples": 7})
    train, held, _ = load_training_data("dpo", pairs_file, cfg)
    assert len(train) == 7 and held == full_held
    assert {p.question_id for p in train} <= {p.question_id for p in full_train}
    again, _, _ = load_training_data("dpo", pairs_file, cfg)
    assert [p.question_id for p in again] == [p.question_id for p in train]
