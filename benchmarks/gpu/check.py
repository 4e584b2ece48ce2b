"""GPU check: generation, choice scoring and DPO training at real model sizes, offline.

    python benchmarks/gpu/check.py                      # CUDA, bf16, ~0.5B and ~1.5B models
    python benchmarks/gpu/check.py --device cpu --tiny  # the same code on a CPU in a minute (CI)
    make gpu-check                                      # the first on a GPU, else the second

Nothing is downloaded and no weights travel: the models are built from configs with
random weights (a Qwen2-shaped ~0.5B and a Llama-shaped ~1.5B; two-layer models of the
same families with ``--tiny``), with our tokenizer, the embedded SmolLM2 one. Random
weights make the speeds and memory real and the texts meaningless, which is all a
check of the GPU paths needs.

It prints ``name: value`` lines and writes them, with the correctness checks and the
versions, to ``OUT/gpu-check.json``. The checks: the same 8 prompts give the same greedy
text in one batch as one at a time (fp32, where that must hold; bf16 is reported); the
shared-prefix scoring path on the device in fp32 matches a plain per-option loop on the
CPU in fp32 within 1e-2; a 2-step DPO+LoRA run writes an adapter that
``hf:DIR+device=DEVICE`` loads; full DPO at CARE's learning rate (5e-7) changes the
layers' weights. Any failed check makes the exit code 1.

On a GPU machine that cannot download anything (torch, transformers, accelerate and
peft installed): ``src/`` travels with the working tree, the tokenizer is exported here
with ``--export-tokenizer runs/gpu-carry/tokenizer`` and carried, and there

    PYTHONPATH=src python benchmarks/gpu/check.py --tokenizer runs/gpu-carry/tokenizer

The training part needs trl, datasets, pyyaml and matplotlib as well; where they are
missing it is skipped and the JSON file says so (the inference figures still come back).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure
import train_check

# (family, config fields) at real sizes and at the tiny CI size
SIZES = {
    "qwen2-0.5b": (
        "qwen2",
        {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24},
        {"num_attention_heads": 14, "num_key_value_heads": 2, "rope_theta": 1e6},
    ),
    "llama-1.5b": (
        "llama",
        {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 24},
        {"num_attention_heads": 32, "num_key_value_heads": 8, "rope_theta": 5e5},
    ),
}
TINY = {
    "qwen2-tiny": ("qwen2", {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}, {}),
    "llama-tiny": ("llama", {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}, {}),
}
TINY_HEADS = {"num_attention_heads": 4, "num_key_value_heads": 2}
FP32_TOLERANCE = 1e-2
TRAINING_NEEDS = ("trl", "datasets", "yaml", "matplotlib")  # beyond torch, transformers, peft


def load_tokenizer(path: str | None) -> Any:
    """Our tokenizer: the embedded SmolLM2 one (or the one in ``--tokenizer DIR``)."""
    from transformers import AutoTokenizer

    if path is None:
        from culturalign.models import embedded

        path = str(embedded.prepare())
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def build_model(family: str, shape: dict, heads: dict, tok: Any, device: str, dtype: Any, seed: int) -> Any:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(
        family,
        vocab_size=len(tok),
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        **shape,
        **heads,
    )
    torch.manual_seed(seed)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model.eval()


def backend_for(folder: Path, model: Any, tok: Any, device: str) -> Any:
    from culturalign.lm.backends.hf import HFBackend

    return HFBackend(folder, device=device, model_obj=model, tokenizer_obj=tok)


@contextlib.contextmanager
def memory_cap(device: str, backend: Any, headroom_gb: float, injected_rows: int):
    """On CUDA: the allocator may hold only the weights plus ``headroom_gb``, so a large
    batch really runs out of memory. On a CPU (no such cap) an out-of-memory error is
    injected for forward passes over more than ``injected_rows`` rows."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        total = torch.cuda.get_device_properties(torch.device(device)).total_memory
        allowed = torch.cuda.memory_allocated() + headroom_gb * 2**30
        torch.cuda.set_per_process_memory_fraction(min(1.0, allowed / total))
        try:
            yield
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0)
            torch.cuda.empty_cache()
        return
    model = backend.model
    real = model.forward

    def forward(*args, **kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None and ids.shape[0] > injected_rows:
            raise torch.OutOfMemoryError(f"injected: more than {injected_rows} rows")
        return real(*args, **kwargs)

    model.forward = forward
    try:
        yield
    finally:
        del model.forward


def check_size(name: str, spec: tuple, tok: Any, args: argparse.Namespace, work: Path) -> tuple[dict, dict]:
    """Every figure and check for one model size."""
    import torch

    family, shape, heads = spec
    heads = heads or TINY_HEADS
    dev = args.device
    dtype = torch.bfloat16 if dev.startswith("cuda") or args.bf16 else torch.float32
    res: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    secs, model = measure.timed(dev, lambda: build_model(family, shape, heads, tok, dev, dtype, args.seed))
    res["params_m"] = sum(p.numel() for p in model.parameters()) / 1e6
    res["dtype"] = str(dtype).removeprefix("torch.")
    res["build_s"] = secs
    folder = work / name
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    backend = backend_for(folder, model, tok, dev)

    clock = time.perf_counter()
    res.update(measure.generation_throughput(backend, args.batches, args.max_new))
    same_bf, _ = measure.greedy_agreement(backend, 8, args.agree_new)
    res["greedy_same_batched_vs_alone_native"] = same_bf
    res["backoff_start_batch"] = args.backoff_start
    res["backoff_settled_batch"] = measure.backoff_settles(
        backend,
        args.backoff_start,
        args.backoff_start,
        args.backoff_new,
        lambda b=backend: memory_cap(dev, b, args.cap_gb, args.backoff_start // 8),
    )
    res["backoff_mode"] = (
        f"allocator capped at weights + {args.cap_gb} GiB"
        if dev.startswith("cuda")
        else f"injected OOM above {args.backoff_start // 8} rows"
    )
    clock = lap(res, "section_generation_s", clock)
    scores, _ = measure.scoring(backend, args.score_items, args.loop_items, args.score_batch)
    res.update(scores)
    res.update(measure.gap_speed(model, tok, args.gap_pairs, dev))
    clock = lap(res, "section_scoring_gap_s", clock)

    # correctness in fp32: batched greedy equals one at a time; device scores match the CPU
    if name == next(iter(args.sizes)):
        model32 = copy.deepcopy(model).float() if dtype != torch.float32 else model
        b32 = backend_for(folder, model32, tok, dev)
        same32, _ = measure.greedy_agreement(b32, 8, args.agree_new)
        checks["greedy_batched_equals_alone_fp32"] = {"ok": same32 == 8, "value": f"{same32}/8"}
        reqs = measure.score_requests(args.fp32_items)
        on_dev = measure.prefix_logprobs(b32, reqs, args.score_batch)
        cpu_model = copy.deepcopy(model32).to("cpu") if dev != "cpu" else model32
        on_cpu = measure.loop_logprobs(backend_for(folder, cpu_model, tok, "cpu"), reqs)
        diff = measure.max_abs_diff(on_dev, on_cpu)
        checks["logprobs_device_vs_cpu_fp32"] = {
            "ok": diff <= FP32_TOLERANCE,
            "value": diff,
            "limit": FP32_TOLERANCE,
            "spread": measure.spread(on_cpu),
        }
        del model32, b32, cpu_model
        clock = lap(res, "section_fp32_checks_s", clock)
    del backend, model
    train_check.free(dev)
    missing = [m for m in TRAINING_NEEDS if importlib.util.find_spec(m) is None]
    if missing:  # a bare GPU machine: keep the inference figures, say what was not run
        res["training"] = f"skipped: {', '.join(missing)} not installed"
        return res, checks
    # --bf16 on a CPU trains in bf16 too, as "auto" does on a GPU
    train_dtype = "bfloat16" if args.bf16 and not dev.startswith("cuda") else None
    res.update(train_check.training(folder, work, dev, args.train_steps, args.train_batch, train_dtype))
    clock = lap(res, "section_training_s", clock)
    moved = res.get("dpo_full_layer_weights_changed")
    if moved is not None:
        checks["full_dpo_changes_weights_at_lr_5e-7"] = {"ok": moved >= 0.5, "value": moved, "limit": 0.5}
    if name == next(iter(args.sizes)):
        checks["dpo_adapter_loads"] = train_check.adapter_loads(folder, work, dev, train_dtype)
        lap(res, "section_adapter_s", clock)
    return res, checks


def lap(res: dict[str, Any], key: str, since: float) -> float:
    now = time.perf_counter()
    res[key] = now - since
    return now


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "trl", "peft", "accelerate", "culturalign"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--device",
        default="auto",
        help="auto (default: cuda if torch sees one, else cpu --tiny), cuda:N, cpu",
    )
    ap.add_argument("--tiny", action="store_true", help="two-layer models: seconds on a CPU")
    ap.add_argument("--bf16", action="store_true", help="bf16 on a CPU too (CUDA always uses bf16)")
    ap.add_argument("--tokenizer", help="a tokenizer folder (default: the embedded SmolLM2 one)")
    ap.add_argument("--export-tokenizer", type=Path, metavar="DIR", help="save our tokenizer to DIR and stop")
    ap.add_argument("--out", type=Path, default=Path("runs/gpu-check"), help="folder for gpu-check.json")
    ap.add_argument("--work", type=Path, help="folder for the built models (default: a temporary one)")
    ap.add_argument("--only", help="comma-separated size names (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.device == "auto":
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
        args.tiny = args.tiny or args.device == "cpu"  # real sizes on a CPU would take hours
    sizes = TINY if args.tiny else SIZES
    if args.only:
        unknown = [s for s in args.only.split(",") if s not in sizes]
        if unknown:
            ap.error(f"--only: unknown size {unknown[0]!r}; sizes: {', '.join(sizes)}")
        sizes = {k: v for k, v in sizes.items() if k in args.only.split(",")}
    args.sizes = sizes
    small = args.tiny or not args.device.startswith("cuda")
    args.batches = [1, 8, 32, 128]
    args.max_new = 8 if small else 64
    args.agree_new = 8 if small else 24
    args.backoff_start = 64 if small else 1024
    args.backoff_new = 4 if small else 32
    args.cap_gb = 1.0
    args.score_items, args.loop_items, args.score_batch = (16, 8, 8) if small else (256, 48, 32)
    args.fp32_items = 4 if small else 16
    args.gap_pairs = 8 if small else 64
    args.train_steps, args.train_batch = (2, 2) if small else (10, 8)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("CULTURALIGN_PROGRESS", "0")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Writing model shards" bar per saved model
    # the libraries' deprecation notices (TRL calls old transformers names) are not findings
    warnings.filterwarnings("ignore", category=FutureWarning)

    if args.device.startswith("cuda") and not torch.cuda.is_available() and not args.export_tokenizer:
        print(
            "error: --device cuda, but torch sees no CUDA device (use --device cpu --tiny)", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    tok = load_tokenizer(args.tokenizer)
    if args.export_tokenizer:  # to carry to a GPU machine that cannot build it
        tok.save_pretrained(args.export_tokenizer)
        print(f"written: {args.export_tokenizer}")
        return 0
    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "device": torch.cuda.get_device_name(torch.device(args.device))
        if args.device.startswith("cuda")
        else f"cpu ({torch.get_num_threads()} threads)",
        "tiny": args.tiny,
        "tokenizer": f"{type(tok).__name__}, {len(tok)} tokens",
        "versions": versions(),
    }
    results: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for name, spec in args.sizes.items():
            res, chk = check_size(name, spec, tok, args, work / name)
            results.update({f"{name}.{k}": v for k, v in res.items()})
            checks.update({f"{name}.{k}": v for k, v in chk.items()})
    meta["seconds"] = time.perf_counter() - started
    for key, value in meta.items():
        if key != "versions":
            print(f"{key}: {value}")
    for key, value in results.items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    for key, chk in checks.items():
        print(f"check {key}: {'ok' if chk['ok'] else 'FAIL'} ({chk.get('value', chk.get('detail'))})")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"meta": meta, "results": results, "checks": checks}
    (args.out / "gpu-check.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written: {args.out / 'gpu-check.json'}")
    return 0 if all(c["ok"] for c in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
