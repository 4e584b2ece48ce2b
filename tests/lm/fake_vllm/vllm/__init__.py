"""A stand-in for the ``vllm`` package, for CPU tests only (never shipped in the package).

It has vLLM's documented offline shapes: ``LLM(model=..., tokenizer=..., dtype=...,
max_model_len=..., enable_prefix_caching=..., enable_lora=...)`` with ``generate(prompts,
sampling_params, use_tqdm, lora_request)`` returning ``RequestOutput`` objects
(``prompt_token_ids``, ``prompt_logprobs`` as a list whose first entry is None and whose
others map token id -> ``Logprob(logprob, rank, decoded_token)`` holding the prompt's own
token and the top k, and ``outputs`` of ``CompletionOutput``). The numbers come from the
transformers model in the folder, in float32, so the vllm backend can be checked
against the hf backend on the same tiny model. Like vLLM, a prompt that does not fit
``max_model_len`` raises ``ValueError`` for the whole call, and LoRA needs
``enable_lora``. Every engine's arguments are recorded in ``ENGINES`` for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENGINES: list[dict[str, Any]] = []
__version__ = "0.0-fake"


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] | None = None
    max_tokens: int | None = 16
    logprobs: int | None = None
    prompt_logprobs: int | None = None


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: Any
    finish_reason: str | None = None
    stop_reason: Any = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    prompt_logprobs: list[dict[int, Logprob] | None] | None
    outputs: list[CompletionOutput] = field(default_factory=list)
    finished: bool = True


@dataclass
class _ModelConfig:
    dtype: Any
    max_model_len: int


@dataclass
class _Engine:
    model_config: _ModelConfig


class LLM:
    def __init__(self, model: str, tokenizer: str | None = None, dtype: str = "auto", **kwargs: Any):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        ENGINES.append({"model": model, "tokenizer": tokenizer, "dtype": dtype, **kwargs})
        self.kwargs = kwargs
        self.resets = 0
        torch_dtype = torch.float32 if dtype == "auto" else getattr(torch, dtype)
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype).eval()
        self._tokenizer = AutoTokenizer.from_pretrained(tokenizer or model)
        self.max_model_len = int(kwargs.get("max_model_len") or self.model.config.max_position_embeddings)
        self.llm_engine = _Engine(_ModelConfig(torch_dtype, self.max_model_len))
        self._adapters: dict[str, Any] = {}

    def get_tokenizer(self) -> Any:
        return self._tokenizer

    def reset_prefix_cache(self) -> bool:
        self.resets += 1
        return True

    def _model_for(self, lora_request: Any) -> Any:
        if lora_request is None:
            return self.model
        if not self.kwargs.get("enable_lora"):
            raise ValueError("LoRA is not enabled; pass enable_lora=True")
        path = lora_request.lora_path
        if path not in self._adapters:
            import copy

            from peft import PeftModel

            self._adapters[path] = PeftModel.from_pretrained(copy.deepcopy(self.model), path).eval()
        return self._adapters[path]

    def generate(self, prompts, sampling_params=None, use_tqdm=True, lora_request=None):
        prompts = prompts if isinstance(prompts, list) else [prompts]
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        for p in prompts:  # vLLM validates every request before running any
            n = len(p["prompt_token_ids"])
            if n >= self.max_model_len:
                raise ValueError(
                    f"The decoder prompt (length {n}) is longer than the maximum model length of "
                    f"{self.max_model_len}."
                )
        model = self._model_for(lora_request)
        return [
            self._one(str(k), p["prompt_token_ids"], sp or SamplingParams(), model)
            for k, (p, sp) in enumerate(zip(prompts, params, strict=True))
        ]

    def _one(self, rid: str, ids: list[int], sp: SamplingParams, model: Any) -> RequestOutput:
        import torch

        x = torch.tensor([ids])
        plp = None
        if sp.prompt_logprobs is not None:
            with torch.inference_mode():
                logp = torch.log_softmax(model(input_ids=x).logits[0].float(), dim=-1)
            plp = [None]
            for j in range(1, len(ids)):
                row = logp[j - 1]
                tok = ids[j]
                rank = int((row > row[tok]).sum()) + 1
                entry = {tok: Logprob(float(row[tok]), rank, self._tokenizer.decode([tok]))}
                for r, t in enumerate(torch.topk(row, max(sp.prompt_logprobs, 1)).indices.tolist()):
                    entry.setdefault(t, Logprob(float(row[t]), r + 1, self._tokenizer.decode([t])))
                plp.append(entry)
        max_new = min(sp.max_tokens or 16, self.max_model_len - len(ids))
        gen: dict[str, Any] = {"max_new_tokens": max_new, "pad_token_id": self._tokenizer.pad_token_id}
        if sp.temperature == 0:
            gen.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            torch.manual_seed(sp.seed if sp.seed is not None else 0)
            gen.update(do_sample=True, temperature=sp.temperature, top_p=sp.top_p, top_k=0)
        with torch.inference_mode():
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), **gen)[
                0, len(ids) :
            ].tolist()
        eos = {self._tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)}
        cut = next((k for k, t in enumerate(out) if t in eos), None)
        token_ids = out if cut is None else out[: cut + 1]  # vLLM keeps the EOS id, not its text
        text = self._tokenizer.decode(out if cut is None else out[:cut], skip_special_tokens=True)
        finish = "length" if cut is None else "stop"
        for s in sp.stop or []:
            if s in text:
                text, finish = text[: text.index(s)], "stop"
        return RequestOutput(
            request_id=rid,
            prompt=None,
            prompt_token_ids=list(ids),
            prompt_logprobs=plp,
            outputs=[CompletionOutput(0, text, token_ids, None, None, finish)],
        )
