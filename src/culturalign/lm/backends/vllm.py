"""Offline batched generation with vLLM (GPU machines; ``pip install "culturalign[vllm]"``).

Spec: ``vllm:PATH_OR_ID[+key=value...]`` with keys ``adapter`` (a LoRA folder),
``dtype`` (auto, float32, bfloat16, float16), ``max_model_len`` (2048, CARE's setting),
``gpu_memory_utilization`` (0.9), ``tensor_parallel_size`` (1), ``max_lora_rank`` (64),
``enforce_eager`` (0/1) and ``revision`` (a hub model's commit, tag or branch; else the
commit ``main`` points to, which is also its identity in cache keys, as for ``hf``).

Prompts are rendered with the same tokenizer and chat template the ``hf`` backend uses
(an adapter folder's own saved tokenizer when it has one, so a trained model is scored
with the template it was trained on) and handed to vLLM as token ids. Log-probabilities
are read from ``prompt_logprobs``: the label (or continuation) is appended to the
context, and vLLM reports the full-vocabulary log-probability of every prompt token.
A label's token is chosen by the ``hf`` backend's ``label_tokens``, so both backends
read the same token (not the chat template's trailing newline).

The engine starts on first use. Prefix caching is on only for an engine whose first
job is generation: vLLM does not read the prefix cache for requests that ask for
prompt log-probabilities, and with it on their values have been reported to depend on
request order, so a scoring engine runs without it (and a generation engine that is
later asked to score resets its cache first). The dtype is resolved before the engine
starts ("auto": bf16 on GPUs that compute it natively, else fp16) and is part of the
cache key. A prompt longer than ``max_model_len`` is an error for that request only;
vLLM itself would refuse the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError, MissingDependency
from culturalign.lm.backends.hf import (
    _FALLBACK_TEMPLATE,
    adapter_base,
    encode_pair,
    label_tokens,
    render_prompt,
)
from culturalign.lm.base import (
    Backend,
    GenRequest,
    LabelScoreRequest,
    LabelScoreResult,
    OnDone,
    Prompt,
    ScoreRequest,
    ScoreResult,
    trim_partial_char,
)
from culturalign.lm.fingerprint import resolve_dtype_name, resolve_hub_revision, weights_fingerprint
from culturalign.records.generation import Completion, GenerationParams

log = logging.getLogger(__name__)

KNOWN_OPTIONS = (
    "adapter",
    "dtype",
    "max_model_len",
    "gpu_memory_utilization",
    "tensor_parallel_size",
    "max_lora_rank",
    "enforce_eager",
    "revision",
)
_DTYPES = ("float32", "bfloat16", "float16")


def _import_vllm():
    try:
        import vllm
    except ImportError:
        raise MissingDependency(
            "vllm", extra="vllm", why="for vllm: model specs (GPU machines only)"
        ) from None
    return vllm


class VLLMBackend(Backend):
    kind = "vllm"
    chunk_size = 512  # vLLM schedules its own batches; hand it plenty at once

    def __init__(self, model: str, **options: str):
        unknown = sorted(set(options) - set(KNOWN_OPTIONS))
        if unknown:
            raise ConfigError(f"unknown vllm option(s) {unknown}; known: {', '.join(KNOWN_OPTIONS)}")
        self._vllm = _import_vllm()
        self.adapter = options.get("adapter")
        base = model
        if self.adapter is None and (named := adapter_base(model)) is not None:
            self.adapter, base = model, named
        self.base_name = base
        fingerprint = weights_fingerprint(base)
        commit = None if fingerprint else resolve_hub_revision(base, options.get("revision"))
        self.revision = commit or options.get("revision")
        self.dtype = resolve_dtype_name(options.get("dtype", "auto"), gpu_fallback="float16")
        if self.dtype not in _DTYPES:
            raise ConfigError(f"unknown dtype {options['dtype']!r}; use auto, float32, bfloat16 or float16")
        # the adapter folder's own tokenizer (and chat template), as the hf backend uses
        has_tok = self.adapter and (Path(self.adapter) / "tokenizer_config.json").exists()
        self.tokenizer_source = str(self.adapter) if has_tok else base
        try:
            self.max_model_len = int(options.get("max_model_len", 2048))
            self._engine_kwargs: dict[str, Any] = {
                "model": base,
                "tokenizer": self.tokenizer_source,
                "dtype": self.dtype,
                "max_model_len": self.max_model_len,
                "gpu_memory_utilization": float(options.get("gpu_memory_utilization", 0.9)),
                "tensor_parallel_size": int(options.get("tensor_parallel_size", 1)),
                "seed": 0,
            }
            if self.adapter:
                self._engine_kwargs.update(
                    enable_lora=True, max_lora_rank=int(options.get("max_lora_rank", 64))
                )
        except ValueError as exc:
            raise ConfigError(f"bad vllm option value: {exc}") from None
        if self.revision:
            self._engine_kwargs["revision"] = self.revision
            if not has_tok:
                self._engine_kwargs["tokenizer_revision"] = self.revision
        if options.get("enforce_eager", "0").lower() in ("1", "true", "yes"):
            self._engine_kwargs["enforce_eager"] = True
        self._llm: Any = None
        self._tokenizer: Any = None
        self._prefix_cached = False
        self._identity = {
            "backend": "vllm",
            "model": base,
            "weights": fingerprint or self.revision or "unknown",
            "dtype": self.dtype,
        }
        if self.adapter:
            self._identity["adapter"] = weights_fingerprint(self.adapter) or str(self.adapter)

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    # -- lazy state ----------------------------------------------------------------------
    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            extra = (
                {"revision": self.revision}
                if self.revision and self.tokenizer_source == self.base_name
                else {}
            )
            try:
                tok = AutoTokenizer.from_pretrained(self.tokenizer_source, **extra)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot load the tokenizer of {self.tokenizer_source!r}: {exc}") from None
            if not getattr(tok, "chat_template", None):
                tok.chat_template = _FALLBACK_TEMPLATE
            self._tokenizer = tok
        return self._tokenizer

    def engine(self, *, for_scoring: bool) -> Any:
        """The vLLM engine, started on first use (prefix caching only for generation)."""
        if self._llm is None:
            self._prefix_cached = not for_scoring
            self._llm = self._vllm.LLM(**self._engine_kwargs, enable_prefix_caching=self._prefix_cached)
        elif for_scoring and self._prefix_cached:
            # earlier generations filled the cache; scoring must not depend on them
            self._llm.reset_prefix_cache()
        return self._llm

    @property
    def _lora(self) -> Any:
        if not self.adapter:
            return None
        from vllm.lora.request import LoRARequest

        return LoRARequest("culturalign-adapter", 1, str(self.adapter))

    # -- prompts ---------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        return render_prompt(self.tokenizer, prompt)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _run(self, prompts: list[list[int]], params: list[Any], *, for_scoring: bool) -> list[Any]:
        return self.engine(for_scoring=for_scoring).generate(
            [{"prompt_token_ids": ids} for ids in prompts],
            sampling_params=params,
            use_tqdm=False,
            lora_request=self._lora,
        )

    def _too_long(self, n_tokens: int) -> str | None:
        # vLLM needs room for the one token it generates after a scored prompt
        if n_tokens >= self.max_model_len:
            return f"prompt plus continuation has {n_tokens} tokens; max_model_len is {self.max_model_len}"
        return None

    # -- generation ------------------------------------------------------------------------
    def sampling_params(self, p: GenerationParams, sample_index: int, prompt_len: int) -> Any:
        limit = min(p.max_context, self.max_model_len)
        kw: dict[str, Any] = {"max_tokens": max(1, min(p.max_new_tokens, limit - prompt_len)), "n": 1}
        if p.greedy:
            kw["temperature"] = 0.0
        else:
            kw.update(temperature=p.temperature, top_p=p.top_p, seed=p.seed * 1_000_003 + sample_index)
        if p.stop:
            kw["stop"] = list(p.stop)
        return self._vllm.SamplingParams(**kw)

    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        ok, ids, params = [], [], []
        for i, r in enumerate(requests):
            tokens = self._ids(self.render(r.messages))
            limit = min(r.params.max_context, self.max_model_len)
            if len(tokens) >= limit:
                on_done(i, Completion(error=f"prompt has {len(tokens)} tokens; the context limit is {limit}"))
                continue
            ok.append(i)
            ids.append(tokens)
            params.append(self.sampling_params(r.params, r.sample_index, len(tokens)))
        if not ok:
            return
        for i, out in zip(ok, self._run(ids, params, for_scoring=False), strict=True):
            o = out.outputs[0]
            on_done(
                i,
                Completion(
                    text=trim_partial_char(o.text),
                    finish_reason=o.finish_reason,
                    prompt_tokens=len(out.prompt_token_ids),
                    completion_tokens=len(o.token_ids),
                ),
            )

    # -- log-probabilities -----------------------------------------------------------------
    def _prompt_logprobs(self, seqs: list[list[int]]) -> list[list[Any]]:
        if not seqs:
            return []
        sp = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)
        return [out.prompt_logprobs for out in self._run(seqs, [sp] * len(seqs), for_scoring=True)]

    def _start(self, ctx_ids: list[int]) -> list[int]:
        if ctx_ids:
            return ctx_ids
        bos = self.tokenizer.bos_token_id
        return [bos if bos is not None else self.tokenizer.eos_token_id]

    def label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        seqs, where = [], []
        results = [LabelScoreResult(logprobs={}, method="prompt_logprobs") for _ in requests]
        for i, r in enumerate(requests):
            ctx_ids, first = label_tokens(self.tokenizer, self.render(r.prompt) + r.prefix, r.labels)
            ctx_ids = self._start(ctx_ids)
            if (why := self._too_long(len(ctx_ids) + 1)) is not None:
                results[i].error = why
                continue
            # vLLM reports the log-probability of each prompt's own tokens (plus the top
            # k), so every label's token goes after its own copy of the context
            for lab, tok in first.items():
                seqs.append([*ctx_ids, tok])
                where.append((i, lab, tok))
        for (i, lab, tok), plp in zip(where, self._prompt_logprobs(seqs), strict=True):
            results[i].logprobs[lab] = float(plp[-1][tok].logprob)
        for i, res in enumerate(results):
            on_done(i, res)

    def score(self, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
        seqs, where = [], []
        results = [
            ScoreResult(
                logprobs=[0.0] * len(r.continuations),
                num_tokens=[0] * len(r.continuations),
                num_chars=[len(c) for c in r.continuations],
            )
            for r in requests
        ]
        for i, r in enumerate(requests):
            ctx = self.render(r.prompt) + r.prefix
            pairs = [encode_pair(self.tokenizer, ctx, cont) for cont in r.continuations]
            longest = max((len(self._start(c)) + len(x) for c, x in pairs), default=0)
            if (why := self._too_long(longest)) is not None:
                results[i] = ScoreResult(error=why, num_chars=results[i].num_chars)
                continue
            for k, (c, x) in enumerate(pairs):
                c = self._start(c)
                results[i].num_tokens[k] = len(x)
                if x:  # an empty continuation has log P = 0 without a model call
                    seqs.append(c + x)
                    where.append((i, k, len(c), x))
        for (i, k, n_ctx, x), plp in zip(where, self._prompt_logprobs(seqs), strict=True):
            results[i].logprobs[k] = float(sum(plp[n_ctx + j][t].logprob for j, t in enumerate(x)))
        for i, res in enumerate(results):
            on_done(i, res)
