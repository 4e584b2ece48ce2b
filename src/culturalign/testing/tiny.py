"""Tiny random models built on the spot, for tests and benchmarks (nothing downloaded).

``build_tiny_model(folder)`` trains a byte-level BPE tokenizer on a few sentences in
several scripts, creates a two-layer Llama with random weights, and saves both with a
ChatML chat template, so every backend, trainer and command can run against it in
seconds.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}{{ '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "In China, tea is often served to guests as a sign of respect.",
    "In Japan, people bow when they greet each other.",
    "Arab hospitality often includes offering coffee and dates.",
    "Is it polite to open a gift in front of the giver?",
    "The answer is A. The answer is B. The answer is C. The answer is D.",
    "Yes. No. Rating: [[7]] Entailment, neutral, contradiction.",
    "在中国，客人来了要先奉茶。春节是最重要的节日。",
    "في الثقافة العربية، يقدم المضيف القهوة والتمر للضيوف.",
    "日本では、人々は挨拶するときにお辞儀をします。",
    "user assistant system You are a helpful assistant.",
]


def build_tiny_model(
    folder: str | Path, *, hidden: int = 64, layers: int = 2, vocab: int = 512, seed: int = 0
) -> Path:
    """Create (or reuse) a tiny random Llama + tokenizer in ``folder``; returns it."""
    folder = Path(folder)
    if (folder / "config.json").exists() and (folder / "tokenizer.json").exists():
        return folder
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        unk_token=None,
    )
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.generation_config.pad_token_id = fast.pad_token_id
    # Random weights make newlines its greedy reply, and an empty or whitespace reply is a
    # failed call; generation skips tokens that are blank or part of a character (scoring
    # and log-probabilities still see the whole vocabulary).
    model.generation_config.suppress_tokens = [
        i
        for i in range(len(fast))
        if i != fast.eos_token_id and (not fast.decode([i]).strip() or "\ufffd" in fast.decode([i]))
    ]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    fast.save_pretrained(folder)
    return folder
