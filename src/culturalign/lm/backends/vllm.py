"""Offline batched generation with vLLM (GPU machines; ``pip install "culturalign[vllm]"``).

Spec: ``vllm:PATH_OR_ID[+key=value...]`` with keys ``adapter`` (a LoRA folder),
``dtype``, ``max_model_len`` (2048, CARE's setting), ``gpu_memory_utilization`` (0.9),
``tensor_parallel_size`` (1), ``max_lora_rank`` (64), ``enforce_eager`` (0/1) and
``revision`` (a hub model's commit, tag or branch; else the commit ``main`` points to,
which is also its identity in cache keys, as for the ``hf`` backend).

Prompts are rendered with the tokenizer's chat template and handed to vLLM as token
ids, so what is scored or generated is exactly what the ``hf`` backend would see.
Log-probabilities are read from ``prompt_logprobs``: a label (or continuation) is
appended to the context and the log-probability vLLM reports for each appended token
is the model's full-vocabulary one, not a top-k approximation. Prefix caching makes
the shared contexts cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from culturalign.errors import ConfigError, MissingDependency
from culturalign.lm.backends.hf import _FALLBACK_TEMPLATE, adapter_base, encode_pair, render_prompt
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
from culturalign.lm.fingerprint import resolve_hub_revision, weights_fingerprint
from culturalign.records.generation import Completion, GenerationParams

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
        vllm = _import_vllm()
        self.adapter = options.get("adapter")
        base = model
        if self.adapter is None and (named := adapter_base(model)) is not None:
            self.adapter, base = model, named
        self.base_name = base
        fingerprint = weights_fingerprint(base)
        commit = None if fingerprint else resolve_hub_revision(base, options.get("revision"))
        try:
            self.max_model_len = int(options.get("max_model_len", 2048))
            kwargs: dict[str, Any] = {
                "model": base,
                "dtype": options.get("dtype", "auto"),
                "max_model_len": self.max_model_len,
                "gpu_memory_utilization": float(options.get("gpu_memory_utilization", 0.9)),
                "tensor_parallel_size": int(options.get("tensor_parallel_size", 1)),
                "enable_prefix_caching": True,
                "seed": 0,
            }
            if commit or options.get("revision"):
                kwargs["revision"] = kwargs["tokenizer_revision"] = commit or options["revision"]
        except ValueError as exc:
            raise ConfigError(f"bad vllm option value: {exc}") from None
        if options.get("enforce_eager", "0").lower() in ("1", "true", "yes"):
            kwargs["enforce_eager"] = True
        if self.adapter:
            kwargs.update(enable_lora=True, max_lora_rank=int(options.get("max_lora_rank", 64)))
        self.llm = vllm.LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        if not getattr(self.tokenizer, "chat_template", None):
            self.tokenizer.chat_template = _FALLBACK_TEMPLATE
        self._lora = None
        if self.adapter:
            from vllm.lora.request import LoRARequest

            self._lora = LoRARequest("culturalign-adapter", 1, str(self.adapter))
        self._identity = {
            "backend": "vllm",
            "model": base,
            "weights": fingerprint or commit or options.get("revision") or "unknown",
            "dtype": str(self.llm.llm_engine.model_config.dtype).removeprefix("torch."),
        }
        if self.adapter:
            self._identity["adapter"] = weights_fingerprint(self.adapter) or str(self.adapter)

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    # -- prompts ---------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        return render_prompt(self.tokenizer, prompt)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _run(self, prompts: list[list[int]], params: list[Any]) -> list[Any]:
        return self.llm.generate(
            [{"prompt_token_ids": ids} for ids in prompts],
            sampling_params=params,
            use_tqdm=False,
            lora_request=self._lora,
        )

    # -- generation ------------------------------------------------------------------------
    def sampling_params(self, p: GenerationParams, sample_index: int, prompt_len: int) -> Any:
        from vllm import SamplingParams

        limit = min(p.max_context, self.max_model_len)
        kw: dict[str, Any] = {"max_tokens": max(1, min(p.max_new_tokens, limit - prompt_len)), "n": 1}
        if p.greedy:
            kw["temperature"] = 0.0
        else:
            kw.update(temperature=p.temperature, top_p=p.top_p, seed=p.seed * 1_000_003 + sample_index)
        if p.stop:
            kw["stop"] = list(p.stop)
        return SamplingParams(**kw)

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
        for i, out in zip(ok, self._run(ids, params), strict=True):
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
        from vllm import SamplingParams

        sp = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)
        return [out.prompt_logprobs for out in self._run(seqs, [sp] * len(seqs))]

    def _start(self, ctx_ids: list[int]) -> list[int]:
        if ctx_ids:
            return ctx_ids
        bos = self.tokenizer.bos_token_id
        return [bos if bos is not None else self.tokenizer.eos_token_id]

    def label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        seqs, where = [], []
        for i, r in enumerate(requests):
            ctx = self.render(r.prompt) + r.prefix
            for lab in r.labels:
                c, cont = encode_pair(self.tokenizer, ctx, lab)
                c = self._start(c)
                seqs.append([*c, cont[0]])
                where.append((i, lab, cont[0]))
        results = [LabelScoreResult(logprobs={}, method="prompt_logprobs") for _ in requests]
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
            for k, cont in enumerate(r.continuations):
                c, x = encode_pair(self.tokenizer, ctx, cont)
                c = self._start(c)
                seqs.append(c + x)
                where.append((i, k, len(c), x))
        for (i, k, n_ctx, x), plp in zip(where, self._prompt_logprobs(seqs), strict=True):
            results[i].logprobs[k] = float(sum(plp[n_ctx + j][t].logprob for j, t in enumerate(x)))
            results[i].num_tokens[k] = len(x)
        for i, res in enumerate(results):
            on_done(i, res)
