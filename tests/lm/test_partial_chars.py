"""A reply cut off between the byte tokens of one character does not end in U+FFFD."""

from __future__ import annotations

import pytest

from culturalign.lm.backends.hf import HFBackend
from culturalign.lm.base import GenRequest, as_prompt, trim_partial_char
from culturalign.records import Completion, GenerationParams

CJK = "在中国，客人来了要先奉茶。春节是最重要的节日。"


class Forced:
    """Stands in for a model: ``generate`` appends fixed token ids to every prompt."""

    generation_config = None

    def __init__(self, ids: list[int]):
        self.ids = ids

    def eval(self) -> Forced:
        return self

    def generate(self, input_ids, max_new_tokens, **_):
        import torch

        new = torch.tensor([self.ids[:max_new_tokens]] * input_ids.shape[0])
        return torch.cat([input_ids, new], dim=1)


def _cut_mid_character(tok) -> tuple[list[int], int]:
    """The CJK text's ids and a length at which decoding ends in half a character."""
    ids = tok(CJK, add_special_tokens=False)["input_ids"]
    for k in range(1, len(ids)):
        if tok.decode(ids[:k]).endswith("\ufffd"):
            return ids, k
    pytest.skip("this tokenizer has no token boundary inside a character of the test text")


@pytest.mark.parametrize("which", ["tiny", "embedded"])
def test_generation_stopped_mid_character_drops_the_half_character(which, request):
    from transformers import AutoTokenizer

    folder = request.getfixturevalue("tiny_model_dir" if which == "tiny" else "embedded_dir")
    tok = AutoTokenizer.from_pretrained(folder)
    ids, k = _cut_mid_character(tok)
    backend = HFBackend(folder, model_obj=Forced(ids), tokenizer_obj=tok, device="cpu")
    got: list[Completion] = []
    params = GenerationParams(temperature=0, max_new_tokens=k)
    backend.generate(
        [GenRequest(as_prompt([{"role": "user", "content": "hi"}]), params)], lambda i, c: got.append(c)
    )
    (c,) = got
    assert c.finish_reason == "length" and c.completion_tokens == k
    assert not c.text.endswith("\ufffd") and "\ufffd" not in c.text
    assert CJK.startswith(c.text) and len(c.text) == len(tok.decode(ids[:k])) - 1
    assert c.text == tok.decode(ids[:k]).removesuffix("\ufffd")


def test_only_trailing_replacement_characters_are_cut():
    assert trim_partial_char("奉茶\ufffd\ufffd") == "奉茶"
    assert trim_partial_char("a\ufffdb") == "a\ufffdb"
    assert trim_partial_char("\ufffd") == ""
