"""Model specs → backends, imported lazily.

Spec grammar (one string on the command line)::

    embedded                         the SmolLM2 model that ships with culturalign
    hf:PATH_OR_HUB_ID[+key=value...] transformers; keys: adapter, dtype, device, batch_size,
                                     revision (a hub model's commit, tag or branch),
                                     device_map (e.g. auto), attn_implementation, and the
                                     flags +trust_remote_code, +load_in_4bit (CUDA only)
    openai:MODEL[@BASE_URL][+k=v...] any OpenAI-compatible server; keys: concurrency, timeout,
                                     max_retries, api_key_env, input_price, output_price,
                                     rpm, max_top_logprobs, api_version and the flags
                                     +no_sampling_params, +azure, ...
                                     (see ``backends/openai_compat.py``)
    vllm:PATH_OR_HUB_ID[+key=value]  offline vLLM (GPU machines, extra ``[vllm]``); keys in
                                     ``backends/vllm.py``

Users can add kinds with ``register_backend``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.lm.base import Backend
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.paths import default_call_cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    target: str
    options: dict[str, str] = field(default_factory=dict)
    base_url: str | None = None

    def __str__(self) -> str:
        return self.raw

    @property
    def raw(self) -> str:
        s = self.kind if not self.target else f"{self.kind}:{self.target}"
        if self.base_url:
            s += f"@{self.base_url}"
        for k, v in self.options.items():
            s += f"+{k}={v}"
        return s


_FACTORIES: dict[str, Callable[[ModelSpec], Backend]] = {}


def register_backend(kind: str, factory: Callable[[ModelSpec], Backend]) -> None:
    _FACTORIES[kind] = factory


def parse_spec(spec: str) -> ModelSpec:
    spec = spec.strip()
    if not spec:
        raise ConfigError("empty model spec; try `embedded`, `hf:PATH`, `openai:MODEL@URL` or `vllm:PATH`")
    if spec == "embedded" or spec.startswith("embedded:"):
        return ModelSpec("embedded", "smollm2-135m-instruct", _options(spec.partition("+")[2], spec))
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in {"hf", "openai", "vllm", *_FACTORIES}:
        raise ConfigError(
            f"unknown model spec {spec!r}; expected embedded, hf:PATH_OR_ID, openai:MODEL[@URL] or vllm:PATH_OR_ID"
        )
    target, _, opts = rest.partition("+")
    base_url = None
    if kind == "openai" and "@" in target:
        target, base_url = target.split("@", 1)
    if not target:
        raise ConfigError(f"model spec {spec!r} names no model")
    return ModelSpec(kind, target, _options(opts, spec), base_url)


def _options(text: str, spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not text:
        return out
    from culturalign.lm.backends.hf_options import FLAGS
    from culturalign.lm.backends.openai_variants import FLAGS as OPENAI_FLAGS

    for part in text.split("+"):
        key, eq, value = part.partition("=")
        if not eq and key in (*FLAGS, *OPENAI_FLAGS):  # +trust_remote_code, +azure, ...
            out[key] = "true"
            continue
        if not eq or not key or not value:  # "+adapter=" would silently drop the adapter
            raise ConfigError(f"bad option {part!r} in model spec {spec!r}; write +key=value")
        out[key] = value
    return out


def make_backend(spec: ModelSpec) -> Backend:
    if spec.kind in _FACTORIES:
        return _FACTORIES[spec.kind](spec)
    if spec.kind in ("embedded", "hf"):
        from culturalign.extras import require

        require("hf", "torch", "transformers", why=f"for {spec.kind}: models")
    if spec.kind == "embedded":
        from culturalign.lm.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(**_hf_kwargs(spec))
    if spec.kind == "hf":
        from culturalign.lm.backends.hf import HFBackend

        return HFBackend(spec.target, **_hf_kwargs(spec))
    if spec.kind == "openai":
        from culturalign.lm.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(spec.target, base_url=spec.base_url, **spec.options)
    if spec.kind == "vllm":
        from culturalign.lm.backends.vllm import VLLMBackend

        return VLLMBackend(spec.target, **spec.options)
    raise ConfigError(f"no backend for {spec.kind!r}")


def _hf_kwargs(spec: ModelSpec) -> dict:
    from culturalign.lm.backends.hf_options import LoadOptions, parse_flag

    load_keys = {"device_map", "attn_implementation", "trust_remote_code", "load_in_4bit"}
    known = {"adapter", "dtype", "device", "batch_size", "revision", *load_keys}
    unknown = set(spec.options) - known
    if unknown:
        raise ConfigError(f"unknown option(s) {sorted(unknown)} in {spec.raw!r}; known: {sorted(known)}")
    kw: dict = {}
    if "adapter" in spec.options:
        kw["adapter"] = spec.options["adapter"]
    if "dtype" in spec.options:
        kw["dtype"] = spec.options["dtype"]
    if "device" in spec.options:
        kw["device"] = spec.options["device"]
    if "batch_size" in spec.options:
        kw["batch_size"] = int(spec.options["batch_size"])
    if "revision" in spec.options:
        kw["revision"] = spec.options["revision"]
    if load_keys & set(spec.options):
        o = spec.options
        kw["load"] = LoadOptions(
            device_map=o.get("device_map"),
            attn_implementation=o.get("attn_implementation"),
            trust_remote_code=parse_flag("trust_remote_code", o.get("trust_remote_code")),
            load_in_4bit=parse_flag("load_in_4bit", o.get("load_in_4bit")),
        )
    return kw


def load_lm(spec: str | ModelSpec, cache: str | Path | CallCache | None = "default") -> LM:
    """The LM for a spec, with the shared call cache (``cache=None`` turns it off)."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    backend = make_backend(parsed)
    if cache == "default":
        cache_obj: CallCache | None = CallCache(default_call_cache())
    elif cache is None or isinstance(cache, CallCache):
        cache_obj = cache
    else:
        cache_obj = CallCache(cache)
    log.debug(
        "model %s: %s backend, call cache %s",
        parsed.raw,
        type(backend).__name__,
        getattr(cache_obj, "path", None) if cache_obj is not None else "off",
    )
    return LM(backend, cache_obj, parsed.raw)
