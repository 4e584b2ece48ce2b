"""The LM layer's tests use the session-wide `serve_url` / `served_spec` fixtures of
tests/conftest.py: a real ``transformers serve`` on loopback with the embedded model."""

from pathlib import Path

import pytest


def forbid_blank_tokens(folder: Path) -> Path:
    """Make the tiny random model's ``generate`` skip tokens that decode to whitespace or
    to part of a character, by listing them in its ``generation_config.suppress_tokens``.

    Its greedy reply is otherwise newlines only, which the LM layer rightly counts as a
    failed call; the weights (and so log-probabilities and scores) are untouched."""
    from transformers import AutoTokenizer, GenerationConfig

    tok = AutoTokenizer.from_pretrained(folder)
    blank = [
        i
        for i in range(len(tok))
        if i != tok.eos_token_id and (not tok.decode([i]).strip() or "\ufffd" in tok.decode([i]))
    ]
    config = GenerationConfig.from_pretrained(folder)
    config.suppress_tokens = blank
    config.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_dir: Path, tmp_path_factory) -> Path:
    """The session's tiny model, copied, with blank tokens suppressed in generation."""
    import shutil

    copy = tmp_path_factory.mktemp("tiny-model-text") / "model"
    shutil.copytree(tiny_model_dir, copy)
    return forbid_blank_tokens(copy)
