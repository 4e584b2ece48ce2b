"""A sentence-transformers embedder from the hub is named by the commit it loads, the same
before its first download as after, so the embedding cache a first run fills serves the
next. Offline: the HF cache layout is written by hand in a temporary HF_HOME and the
model class is replaced by a recorder (no weights are needed to test the name)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from culturalign.models.embedder import STEmbedder

REPO_ID = "acme/tiny-encoder"
COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


class _Recorder:
    loads: ClassVar[list[tuple[str, str | None]]] = []

    def __init__(self, model: str, device: str = "cpu", revision: str | None = None, **_: object):
        type(self).loads.append((model, revision))

    def get_sentence_embedding_dimension(self) -> int:
        return 4


@pytest.fixture()
def hub(tmp_path, monkeypatch) -> dict:
    """A temporary HF cache, the recorder in place of SentenceTransformer, and a hub that
    answers ``COMMIT`` and counts how often it was asked."""
    import huggingface_hub
    import sentence_transformers

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("CULTURALIGN_HOME", str(tmp_path / "culturalign"))
    monkeypatch.setattr(_Recorder, "loads", [])
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", _Recorder)
    state: dict = {"asked": 0, "home": tmp_path / "hf"}

    class Info:
        sha = COMMIT

    def model_info(self, repo_id, revision=None, timeout=None, **_):
        state["asked"] += 1
        assert (repo_id, revision) == (REPO_ID, "main")
        return Info()

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", model_info)
    return state


def _download(home: Path) -> None:
    """What a download of ``main`` leaves in the HF cache: the ref and its snapshot."""
    repo = home / "hub" / f"models--{REPO_ID.replace('/', '--')}"
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)


def test_identity_is_the_commit_before_and_after_download(hub, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    before = STEmbedder(REPO_ID)  # not downloaded yet: the hub names the commit of main
    assert before.identity == f"st:{REPO_ID}:{COMMIT}"
    assert _Recorder.loads == [(REPO_ID, COMMIT)]  # loaded at exactly the commit it is named by
    assert hub["asked"] == 1
    _download(hub["home"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    after = STEmbedder(REPO_ID)
    assert after.identity == before.identity
    assert hub["asked"] == 1  # the local ref answered


def test_offline_download_is_named_without_asking_the_hub(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _download(hub["home"])
    emb = STEmbedder(REPO_ID)
    assert emb.identity == f"st:{REPO_ID}:{COMMIT}" and hub["asked"] == 0


def test_offline_and_never_downloaded_does_not_ask_the_hub(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = STEmbedder(REPO_ID)
    assert hub["asked"] == 0 and emb.identity == f"st:{REPO_ID}:unknown"
    assert _Recorder.loads == [(REPO_ID, None)]


def test_local_folder_is_named_by_its_weights_not_the_hub(hub, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    folder = tmp_path / "enc"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"not really weights")
    emb = STEmbedder(str(folder))
    assert hub["asked"] == 0 and _Recorder.loads == [(str(folder), None)]
    name, _, tag = emb.identity.rpartition(":")
    assert name == f"st:{folder}" and len(tag) == 16 and tag != COMMIT
