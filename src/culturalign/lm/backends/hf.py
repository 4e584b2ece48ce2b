"""transformers backend: chat templates, batched left-padded generation, log-probs.

Defaults follow CARE's inference settings (temperature 0.7, top_p 1.0, at most 1024
new tokens, 2048 tokens of context). A LoRA adapter can be applied on top
(``hf:BASE+adapter=DIR``), and a folder holding only an adapter (what
``culturalign train --lora`` writes) loads its base model by itself.

A hub model (``hf:OWNER/NAME``) is loaded at one commit: ``+revision=REV`` names it
(a commit, tag or branch), else the commit ``main`` points to. That commit is its
identity in cache keys, the same before and after the first download.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.lm.backends.hf_folders import adapter_base, check_adapter, check_model_folder, load_adapter
from culturalign.lm.backends.hf_options import LoadOptions
from culturalign.lm.base import (
    Backend,
    GenRequest,
    LabelScoreRequest,
    LabelScoreResult,
    OnDone,
    Prompt,
    ScoreRequest,
    trim_partial_char,
)
from culturalign.lm.fingerprint import (
    hub_cache_dir,
    resolve_dtype_name,
    resolve_hub_revision,
    weights_fingerprint,
)
from culturalign.records.generation import Completion

log = logging.getLogger(__name__)

# Used only when a tokenizer has no chat template (some base models, tiny test models).
_FALLBACK_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


_DTYPES = (None, "auto", "float32", "fp32", "bfloat16", "bf16", "float16", "fp16")


def _resolve_dtype(name: str | None, device: str):
    import torch

    if name not in _DTYPES:
        raise ConfigError(f"unknown dtype {name!r}; use float32, bfloat16 or float16")
    # "auto": bf16 only where the GPU computes it natively (not emulated), else fp32
    return getattr(torch, resolve_dtype_name(name, device=device))


def render_prompt(tokenizer: Any, prompt: Prompt) -> str:
    """Chat prompts go through the tokenizer's template; raw strings pass unchanged."""
    if isinstance(prompt, str):
        return prompt
    msgs = [m.model_dump() for m in prompt]
    return tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Token ids of context and continuation, split the way lm-evaluation-harness does:
    trailing spaces move to the continuation, and the pair is encoded whole, so merges
    across the boundary match what the model would see."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    return ctx, whole[len(ctx) :]


def label_tokens(tokenizer: Any, ctx: str, labels: Sequence[str]) -> tuple[list[int], dict[str, int]]:
    """Context ids and each label's first token id for one next-token read (shared by
    the hf and vllm backends, so both read the same token for a label).

    The context keeps its trailing whitespace (a chat template's final newline is
    part of what the model saw) unless a label would merge with it into one token
    (``"Answer: " + "A"`` → ``" A"``); then, and only then, the trailing spaces move
    to the labels, as in continuation scoring.
    """

    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    full = encode(ctx)
    first: dict[str, int] = {}
    for lab in labels:
        whole = encode(ctx + lab)
        if len(whole) <= len(full) or whole[: len(full)] != full:
            break
        first[lab] = whole[len(full)]
    else:
        return full, first
    first = {}
    ids: list[int] = []
    for lab in labels:
        c, cont = encode_pair(tokenizer, ctx, lab)
        ids = c
        first[lab] = cont[0]
    return ids, first


class HFBackend(Backend):
    """The model and tokenizer load on first use, not on construction: a rerun that the
    call cache answers completely never imports torch or reads the weights."""

    kind = "hf"

    def __init__(
        self,
        model: str | Path,
        adapter: str | Path | None = None,
        dtype: str | None = None,
        device: str | None = None,
        batch_size: int | None = None,
        revision: str | None = None,
        load: LoadOptions | None = None,
        *,
        model_obj: Any = None,
        tokenizer_obj: Any = None,
    ):
        self.model_name = str(model)
        self.adapter = str(adapter) if adapter else None
        base = self.model_name
        if self.adapter is None and (named := adapter_base(base)) is not None:
            # an adapter-only folder: load its base, then the adapter
            self.adapter, base = base, named
        elif self.adapter is not None:
            check_adapter(self.adapter)
        self.base_name = base
        self._device = device
        self._dtype_name = dtype
        self._batch_size = batch_size
        self.revision = revision
        self.load_options = load or LoadOptions()
        self.load_options.check()
        self._commit: str | None = None  # the hub commit loaded; None for a local folder
        self._model: Any = None
        self._tokenizer: Any = None
        if dtype not in _DTYPES:
            raise ConfigError(f"unknown dtype {dtype!r}; use auto, float32, bfloat16 or float16")
        if revision is not None and Path(base).expanduser().is_dir():
            raise ConfigError(f"revision={revision} names a hub commit, but {base} is a local folder")
        if model_obj is not None:
            self._attach(model_obj, tokenizer_obj)
        else:
            check_model_folder(base)
        self._identity = self._make_identity()

    # -- lazy state ----------------------------------------------------------------------
    @property
    def device(self) -> str:
        if self._device is None:
            import torch

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        return self._device

    @property
    def chunk_size(self) -> int:  # type: ignore[override]
        return self._batch_size or (32 if self.device.startswith("cuda") else 8)

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        self._batch_size = value

    @property
    def model(self) -> Any:
        if self._model is None:
            self._attach(*self._load(self.base_name, _resolve_dtype(self._dtype_name, self.device)))
        return self._model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            _ = self.model
        return self._tokenizer

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _attach(self, model: Any, tokenizer: Any) -> None:
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if not getattr(tokenizer, "chat_template", None):
            log.warning("%s has no chat template; using a plain role-tagged template", self.base_name)
            tokenizer.chat_template = _FALLBACK_TEMPLATE
        model.eval()
        self._model, self._tokenizer = model, tokenizer

    # -- loading -----------------------------------------------------------------------
    def _load(self, base: str, dtype):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a "Loading weights" bar per model is noise in our output
        try:
            tok_src = (
                self.adapter
                if self.adapter and (Path(self.adapter) / "tokenizer_config.json").exists()
                else base
            )
            # a hub model loads at the commit its identity names, from the cache folder
            # that identity was read from
            hub = {} if Path(base).expanduser().is_dir() else {"revision": self._commit or self.revision}
            if hub:
                hub["cache_dir"] = str(hub_cache_dir())
            remote = {"trust_remote_code": True} if self.load_options.trust_remote_code else {}
            tokenizer = AutoTokenizer.from_pretrained(tok_src, **(hub if tok_src == base else {}), **remote)
            extra = self.load_options.from_pretrained_kwargs(dtype)
            model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype, **hub, **extra)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load model {base!r}: {exc}") from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        if self.adapter:
            model = load_adapter(model, self.adapter)
        if self.load_options.places_layers:
            self._device = str(model.device)  # inputs go where the first layer sits
        else:
            model.to(self.device)
        return model, tokenizer

    def _make_identity(self) -> dict[str, Any]:
        """Backend, model, weights hash, adapter hash, and the dtype when it is not the
        default (a half-precision run must not share cached answers with fp32). "auto" is
        resolved first, so a GPU's bf16 answers and a CPU's fp32 answers get different keys."""
        ident: dict[str, Any] = {"backend": "hf", "model": self.base_name}
        fp = weights_fingerprint(self.base_name)
        if fp is None and self._model is None and not Path(self.base_name).expanduser().exists():
            self._commit = resolve_hub_revision(self.base_name, self.revision)
        ident["weights"] = fp or self._commit or self.revision or "unknown"
        if self.adapter:
            ident["adapter"] = weights_fingerprint(self.adapter) or self.adapter
        if self._model is not None:
            dtype = str(getattr(self._model, "dtype", "float32")).removeprefix("torch.")
        else:  # "auto" resolved as loading will resolve it (bf16 on a GPU, fp32 on a CPU)
            dtype = resolve_dtype_name(self._dtype_name, device=self._device)
        if dtype != "float32":
            ident["dtype"] = dtype
        ident.update(self.load_options.identity())
        return ident

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    # -- prompts -------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        return render_prompt(self.tokenizer, prompt)

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return encode_pair(self.tokenizer, context, continuation)

    # -- generation ----------------------------------------------------------------------
    def generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        """Batches of ``chunk_size``; on out-of-memory the batch halves (``hf_oom``)."""
        from culturalign.lm.backends.hf_oom import run_with_backoff

        run_with_backoff(self, requests, self._generate, on_done, "generation")

    def _generate(self, requests: Sequence[GenRequest], on_done: OnDone) -> None:
        import torch

        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r.params, r.sample_index), []).append(i)
        for (params, sample_index), idxs in groups.items():
            texts = [self.render(requests[i].messages) for i in idxs]
            enc = [self._encode(t) for t in texts]
            ok: list[int] = []
            for j, ids in zip(idxs, enc, strict=True):
                if len(ids) >= params.max_context:
                    on_done(
                        j,
                        Completion(
                            error=f"prompt has {len(ids)} tokens; the context limit is {params.max_context}"
                        ),
                    )
                else:
                    ok.append(j)
            if not ok:
                continue
            lengths = {j: len(enc[idxs.index(j)]) for j in ok}
            max_new = min(params.max_new_tokens, params.max_context - max(lengths.values()))
            batch = self.tokenizer.pad(
                {"input_ids": [enc[idxs.index(j)] for j in ok]},
                padding=True,
                return_tensors="pt",
                padding_side="left",
            ).to(self.device)
            gen_kwargs: dict[str, Any] = {
                "max_new_tokens": max_new,
                "pad_token_id": self.tokenizer.pad_token_id,
            }
            if params.greedy:
                gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            else:
                torch.manual_seed(params.seed * 1_000_003 + sample_index)
                gen_kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
            if params.stop:
                gen_kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            with torch.inference_mode():
                out = self.model.generate(**batch, **gen_kwargs)
            new = out[:, batch["input_ids"].shape[1] :]
            eos = self._eos_ids()
            for row, j in enumerate(ok):
                ids = new[row].tolist()
                # cut at the first end-of-sequence or padding token
                cut = next((k for k, t in enumerate(ids) if t in eos), len(ids))
                text = trim_partial_char(self.tokenizer.decode(ids[:cut], skip_special_tokens=True))
                finish = "stop" if cut < len(ids) else "length"
                for s in params.stop:
                    if s in text:
                        text, finish = text[: text.index(s)], "stop"
                on_done(
                    j,
                    Completion(
                        text=text, finish_reason=finish, prompt_tokens=lengths[j], completion_tokens=cut
                    ),
                )

    def _eos_ids(self) -> set[int]:
        ids = set()
        cfg = getattr(self.model, "generation_config", None)
        eos = getattr(cfg, "eos_token_id", None) if cfg is not None else None
        if isinstance(eos, int):
            ids.add(eos)
        elif eos:
            ids.update(eos)
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        if self.tokenizer.pad_token_id is not None:
            ids.add(self.tokenizer.pad_token_id)
        return ids

    # -- log-probabilities -------------------------------------------------------------
    def score(self, requests: Sequence[ScoreRequest], on_done: OnDone) -> None:
        from culturalign.lm.backends.hf_oom import run_with_backoff
        from culturalign.lm.backends.hf_scoring import score_continuations

        run_with_backoff(
            self, requests, lambda reqs, done: score_continuations(self, reqs, done), on_done, "scoring"
        )

    def _label_tokens(self, ctx: str, labels: Sequence[str]) -> tuple[list[int], dict[str, int]]:
        return label_tokens(self.tokenizer, ctx, labels)

    def label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        from culturalign.lm.backends.hf_oom import run_with_backoff

        run_with_backoff(self, requests, self._label_logprobs, on_done, "label scoring")

    def _label_logprobs(self, requests: Sequence[LabelScoreRequest], on_done: OnDone) -> None:
        import torch

        contexts = [self.render(r.prompt) + r.prefix for r in requests]
        ctx_ids = []
        label_ids: list[dict[str, int]] = []
        for r, ctx in zip(requests, contexts, strict=True):
            ids, first = self._label_tokens(ctx, r.labels)
            ctx_ids.append(ids)
            label_ids.append(first)
        order = sorted(range(len(requests)), key=lambda i: len(ctx_ids[i]))
        batch = self.tokenizer.pad(
            {"input_ids": [ctx_ids[i] for i in order]}, padding=True, return_tensors="pt", padding_side="left"
        ).to(self.device)
        with torch.inference_mode():
            # only the last position is read: skip the vocabulary projection elsewhere
            # (32 x 2,048 x 152k logits would be ~20 GB in bf16)
            try:
                logits = self.model(**batch, logits_to_keep=1).logits[:, -1, :].float()
            except TypeError:  # a model without ``logits_to_keep``
                logits = self.model(**batch).logits[:, -1, :].float()
        logp = torch.log_softmax(logits, dim=-1)
        for row, i in enumerate(order):
            on_done(
                i, LabelScoreResult(logprobs={lab: float(logp[row, t]) for lab, t in label_ids[i].items()})
            )
