"""Fixtures for the Hub tests: a local stand-in for the Hub API, and hub datasets that
exist only in a private ``datasets`` cache (so ``hf:OWNER/NAME`` loads offline)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hub_standin import HubStandIn


@pytest.fixture
def hub_server(monkeypatch) -> Iterator[HubStandIn]:
    """The stand-in on 127.0.0.1, with HF_ENDPOINT and HF_TOKEN pointing at it; offline
    mode is lifted for huggingface_hub only (nothing else may reach a network)."""
    from huggingface_hub import constants

    with HubStandIn() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", hub.state.token)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        yield hub


@pytest.fixture
def cached_hub_dataset(tmp_path, monkeypatch) -> Callable[[str, list[dict]], str]:
    """``make(\"owner/name\", rows)`` → ``hf:owner/name``: the rows built once by the json
    builder and placed where ``load_dataset`` looks for a hub dataset when offline."""
    import datasets
    from culturalign.datasets import hub

    cache = tmp_path / "hf-datasets"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(cache))
    hub._load_dataset.cache_clear()

    def make(repo: str, rows: list[dict], config: str = "default") -> str:
        src_file = tmp_path / f"{repo.replace('/', '_')}-{config}.jsonl"
        src_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        builder = datasets.load_dataset_builder(
            "json", data_files={"train": str(src_file)}, cache_dir=str(tmp_path / "build")
        )
        builder.download_and_prepare()
        built = Path(builder.cache_dir)
        owner, name = repo.split("/")
        dest = cache / f"{owner}___{name}" / config / "0.0.0" / built.name
        shutil.copytree(built, dest)
        info = json.loads((dest / "dataset_info.json").read_text())
        info.update(config_name=config, dataset_name=name)
        (dest / "dataset_info.json").write_text(json.dumps(info))
        for arrow in dest.glob("json-*.arrow"):
            arrow.rename(dest / arrow.name.replace("json-", f"{name}-", 1))
        return f"hf:{repo}" + ("" if config == "default" else f":{config}")

    yield make
    hub._load_dataset.cache_clear()
