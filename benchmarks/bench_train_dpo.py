"""DPO on the embedded SmolLM2-135M: full fine-tuning vs LoRA vs precomputed reference
log-probabilities. Steps per second and peak memory, each variant in its own process
(so peak RSS is that variant's alone), with ratios against full fine-tuning.

    python benchmarks/bench_train_dpo.py [--steps 6] [--batch 2] [--threads 2]

The three ways to get the DPO reference (paper 000 §4.1) trade memory for compute:
a frozen copy of the model (full fine-tuning: two models in memory), the base weights
under a switched-off adapter (LoRA: one model, a second forward pass per step), or the
reference log-probabilities computed once before training (one model, no reference
pass during training, a one-off cost up front).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "full": ({}, False),
    "lora": ({}, True),
    "precomputed": ({"dpo": {"precompute_ref_log_probs": True}}, False),
}

CUSTOMS = [
    (
        "bringing a clock as a gift in China",
        "Clocks are avoided: the phrase for giving one sounds like a funeral rite.",
    ),
    (
        "pouring tea for others in China",
        "Pour for others first; tapping two fingers on the table says thank you.",
    ),
    ("receiving a business card in Japan", "Take it with both hands, read it, and keep it on the table."),
    (
        "eating with the left hand in the Gulf",
        "Eat and pass food with the right hand; the left is seen as unclean.",
    ),
    (
        "refusing coffee from an Arab host",
        "Accept at least one cup; shake the cup gently when you want no more.",
    ),
    (
        "sticking chopsticks upright in rice",
        "Avoid it: it recalls incense at funerals. Lay them on the rest.",
    ),
    (
        "giving gifts in sets of four in China",
        "Avoid fours: the word sounds like death. Even numbers like eight are lucky.",
    ),
    (
        "tipping at restaurants in Japan",
        "Tipping is not expected and can confuse staff; good service is included.",
    ),
]


def make_pairs(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        topic, good = CUSTOMS[i % len(CUSTOMS)]
        rows.append(
            {
                "question_id": f"b{i}",
                "prompt": [{"role": "user", "content": f"What should a visitor know about {topic}? ({i})"}],
                "chosen": [{"role": "assistant", "content": good}],
                "rejected": [{"role": "assistant", "content": "It does not matter; do whatever you like."}],
            }
        )
    return rows


def worker(variant: str, data: Path, out: Path, steps: int, batch: int) -> dict:
    import torch

    from culturalign.train.run import train

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    extra, lora = VARIANTS[variant]
    config = {
        "preset": "cpu-demo",
        "max_steps": steps,
        "per_device_batch_size": batch,
        "gradient_accumulation_steps": 1,
        "warmup_steps": 0,
        "save_steps": 10_000,
        "heldout": {"measure": False},
        "lora": {"enabled": lora},  # the cpu-demo preset turns LoRA on; full fine-tuning turns it off
        **extra,
    }
    started = time.perf_counter()
    result = train("dpo", "embedded", data, out, config=config, lora=lora)
    total = time.perf_counter() - started
    runtime = result.metrics["train_runtime"]
    trainable = "LoRA adapter" if lora else "all weights"
    return {
        "trained": trainable,
        "steps": result.steps,
        "train_seconds": runtime,
        "steps_per_s": result.steps / runtime,
        "setup_seconds": total - runtime,
        "peak_rss_mb": result.metrics.get("peak_rss_mb"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch", type=int, default=2, help="pairs per step")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=list(VARIANTS))
    ap.add_argument("--data", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data, args.out, args.steps, args.batch)))
        return

    from culturalign.models import embedded

    embedded.prepare()  # convert once, outside the timings
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "CULTURALIGN_PROGRESS": "0"}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "pairs.jsonl"
        rows = make_pairs(args.steps * args.batch)
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        for variant in VARIANTS:
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                variant,
                "--data",
                str(data),
                "--out",
                str(Path(tmp) / variant),
            ]
            cmd += ["--steps", str(args.steps), "--batch", str(args.batch)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                sys.exit(f"{variant} failed:\n{proc.stderr[-3000:]}")
            results[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"model: embedded SmolLM2-135M, {args.steps} DPO steps of {args.batch} pairs, {args.threads} threads"
    )
    base = results["full"]
    for variant, r in results.items():
        print(f"{variant}_steps_per_s: {r['steps_per_s']:.3f}")
        print(f"{variant}_peak_rss_mb: {r['peak_rss_mb']:.0f}")
        print(f"{variant}_setup_s: {r['setup_seconds']:.1f}")
    for variant in ("lora", "precomputed"):
        r = results[variant]
        print(f"{variant}_vs_full_speed_ratio: {r['steps_per_s'] / base['steps_per_s']:.2f}")
        print(f"{variant}_vs_full_memory_ratio: {r['peak_rss_mb'] / base['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
