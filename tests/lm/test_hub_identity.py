"""A hub model's identity in cache keys is its commit, the same before and after the
first download, so a re-run is answered from the cache. Offline: the HF cache layout
(``models--OWNER--NAME/refs/main``, ``snapshots/<commit>/``) is built by hand in a
temporary HF_HOME, with the tiny model as the snapshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from culturalign.errors import ConfigError
from culturalign.lm import load_lm
from culturalign.lm.cache import CallCache
from culturalign.records import GenerationParams

REPO_ID = "acme/tiny-chat"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
GREEDY = GenerationParams(temperature=0, max_new_tokens=4)
PROMPTS = [[{"role": "user", "content": "What is tea?"}], [{"role": "user", "content": "Why bow?"}]]


@pytest.fixture()
def hf_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("CULTURALIGN_HOME", str(tmp_path / "culturalign"))
    return home


def _download(hf_home: Path, model_dir: Path, *, ref: bool = True) -> Path:
    """What a download leaves in the HF cache; ``ref=False`` is a download pinned to a
    commit, which writes no ``refs/main``."""
    repo = hf_home / "hub" / f"models--{REPO_ID.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(model_dir, snapshot)
    if ref:
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text(COMMIT)
    return snapshot


def _key(spec: str, cache=None) -> str:
    lm = load_lm(spec, cache=cache)
    return lm.cache_key("generate", {"probe": 1})


def test_pinned_revision_keys_agree_before_and_after_download(hf_home, tiny_model_dir, tmp_path):
    before = load_lm(f"hf:{REPO_ID}+revision={COMMIT}", cache=None)
    assert before.identity["weights"] == COMMIT and not before.backend.loaded
    _download(hf_home, tiny_model_dir)
    cache = CallCache(tmp_path / "c.sqlite")
    pinned = load_lm(f"hf:{REPO_ID}+revision={COMMIT}", cache=cache)
    assert pinned.cache_key("generate", {"probe": 1}) == before.cache_key("generate", {"probe": 1})
    first = pinned.generate(PROMPTS, GREEDY)  # loads the snapshot offline, at the commit
    assert pinned.stats.calls == 2 and all(c[0].ok for c in first)
    # unpinned, the commit comes from refs/main: the same identity, so all cache hits
    unpinned = load_lm(f"hf:{REPO_ID}", cache=cache)
    again = unpinned.generate(PROMPTS, GREEDY)
    assert unpinned.stats.cache_hits == 2 and unpinned.stats.calls == 0 and not unpinned.backend.loaded
    assert [c[0].text for c in again] == [c[0].text for c in first]


def test_unpinned_id_asks_the_hub_once_and_keeps_the_answer(hf_home, tiny_model_dir, monkeypatch):
    import huggingface_hub

    asked = []

    class Info:
        sha = COMMIT

    def model_info(self, repo_id, revision=None, timeout=None, **_):
        asked.append((repo_id, revision))
        return Info()

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", model_info)
    before = _key(f"hf:{REPO_ID}")  # not downloaded: the hub says which commit main is
    assert asked == [(REPO_ID, "main")]
    _download(hf_home, tiny_model_dir, ref=False)  # our load pins the commit: no refs/main
    assert _key(f"hf:{REPO_ID}") == before and len(asked) == 1  # our own note answers
    assert _key(f"hf:{REPO_ID}+revision={COMMIT}") == before


def test_offline_refs_main_is_read_without_scanning_the_cache(hf_home, tiny_model_dir, monkeypatch):
    import huggingface_hub

    def no_scan(*a, **k):
        raise AssertionError("the HF cache was scanned")

    monkeypatch.setattr(huggingface_hub, "scan_cache_dir", no_scan)
    _download(hf_home, tiny_model_dir)
    lm = load_lm(f"hf:{REPO_ID}", cache=None)
    assert lm.identity["weights"] == COMMIT


def test_a_revision_on_a_local_folder_is_a_setup_error(tiny_model_dir):
    with pytest.raises(ConfigError, match="local folder"):
        load_lm(f"hf:{tiny_model_dir}+revision={COMMIT}", cache=None)
