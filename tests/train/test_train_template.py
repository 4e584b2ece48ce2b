"""The chat template and the loss mask, checked on decoded token ids: the trainers see
the prompt rendered by the model's chat template, and only the answer is trained on."""

from __future__ import annotations

from culturalign.train import data as d
from culturalign.train.models import load_model
from culturalign.train.presets import resolve_config
from culturalign.train.trainers import build_trainer, plan_batches, trl_args

PROMPT = "Question 0: what is polite about tea?"
ANSWER = "In China, tea is offered to guests as a sign of respect."


def _trainer(method, tiny_model_dir, records, tmp_path):
    cfg = resolve_config({"preset": "tiny-test"})
    loaded = load_model(f"hf:{tiny_model_dir}")
    args = trl_args(method, cfg, plan_batches(cfg, len(records), 1), tmp_path / "ck", [])
    trainer = build_trainer(
        method,
        model=loaded.model,
        tokenizer=loaded.tokenizer,
        train_dataset=d.to_dataset(records),
        args=args,
        cfg=cfg,
        notes=[],
    )
    return trainer, loaded.tokenizer


def test_sft_trains_on_the_answer_only(tiny_model_dir, pairs_file, tmp_path):
    records = d.load_sft(pairs_file)
    trainer, tok = _trainer("sft", tiny_model_dir, records, tmp_path)
    row = trainer.train_dataset[0]
    ids, labels = row["input_ids"], row["labels"]
    # the whole sequence is the ChatML rendering of prompt + answer
    assert (
        tok.decode(ids)
        == f"<|im_start|>user\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n{ANSWER}<|im_end|>\n"
    )
    masked = [i for i, lab in zip(ids, labels, strict=True) if lab == -100]
    trained = [lab for lab in labels if lab != -100]
    assert tok.decode(masked) == f"<|im_start|>user\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n"
    assert tok.decode(trained) == f"{ANSWER}<|im_end|>\n"


def test_sft_on_multi_turn_messages_masks_every_earlier_turn(tiny_model_dir, tmp_path):
    from train_helpers import write_jsonl

    conv = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Tea?"},
        {"role": "assistant", "content": "Yes please."},
    ]
    records = d.load_sft(write_jsonl(tmp_path / "m.jsonl", [{"messages": conv}]))
    trainer, tok = _trainer("sft", tiny_model_dir, records, tmp_path)
    row = trainer.train_dataset[0]
    trained = [lab for lab in row["labels"] if lab != -100]
    assert tok.decode(trained) == "Yes please.<|im_end|>\n"


def test_dpo_prompt_and_answers_follow_the_template(tiny_model_dir, pairs_file, tmp_path):
    records = d.load_pairs(pairs_file)
    trainer, tok = _trainer("dpo", tiny_model_dir, records, tmp_path)
    row = trainer.train_dataset[0]
    assert tok.decode(row["prompt_ids"]) == f"<|im_start|>user\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n"
    assert tok.decode(row["chosen_ids"]) == f"{ANSWER}<|im_end|>\n"
    assert tok.decode(row["rejected_ids"]) == "No. tea does not matter at all.<|im_end|>\n"


def test_gap_scores_the_same_tokens_trl_trains_on(tiny_model_dir, pairs_file):
    from culturalign.train.gap import split_ids

    pair = d.load_pairs(pairs_file)[0]
    tok = load_model(f"hf:{tiny_model_dir}", for_training=False).tokenizer
    ctx, answer = split_ids(tok, pair.prompt, pair.chosen)
    assert tok.decode(ctx).endswith("<|im_start|>assistant\n")
    assert tok.decode(answer) == f"{ANSWER}<|im_end|>\n"
