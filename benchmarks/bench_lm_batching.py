"""Batched ``hf`` generation of 32 prompts against the same prompts one at a time.

Run: ``python benchmarks/bench_lm_batching.py [--model SPEC] [--tokens N]``. The default
model is the embedded SmolLM2 through ``hf:`` (greedy, no call cache). Prints seconds
for each way, the speed-up, and how many greedy outputs the two ways share (left
padding can change the last bits of the arithmetic, and with them a token now and then).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")

TOPICS = [
    "tea ceremonies", "bowing", "Diwali", "Ramadan", "Lunar New Year", "tipping", "samovars",
    "flamenco", "the haka", "chopsticks", "kimonos", "couscous", "mate", "Carnival", "siestas",
    "saunas", "Hanami", "henna nights", "the Day of the Dead", "Nowruz", "weddings in Nigeria",
    "greetings in India", "gift giving in China", "coffee in Turkey", "dumplings", "the hijab",
    "Oktoberfest", "Thanksgiving", "the Holi festival", "sumo", "bagpipes", "tango",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None, help="an hf: spec (default: the embedded model's folder)")
    parser.add_argument("--tokens", type=int, default=24)
    args = parser.parse_args()
    from culturalign.lm import load_lm
    from culturalign.models import embedded
    from culturalign.records import GenerationParams

    spec = args.model or f"hf:{embedded.prepare()}"
    prompts = [[{"role": "user", "content": f"Describe {t} in one sentence."}] for t in TOPICS]
    params = GenerationParams(temperature=0, max_new_tokens=args.tokens)
    batched_lm = load_lm(f"{spec}+batch_size=32", cache=None)
    single_lm = load_lm(f"{spec}+batch_size=1", cache=None)
    single_lm.generate(prompts[:1], params)  # warm up
    t = time.perf_counter()
    batched = [c[0].text for c in batched_lm.generate(prompts, params)]
    t_batched = time.perf_counter() - t
    t = time.perf_counter()
    single = [c[0].text for c in single_lm.generate(prompts, params)]
    t_single = time.perf_counter() - t
    print(f"model: {spec}")
    print(f"prompts: {len(prompts)}")
    print(f"max_new_tokens: {args.tokens}")
    print(f"batched_32_s: {t_batched:.2f}")
    print(f"one_at_a_time_s: {t_single:.2f}")
    print(f"speedup_batched_vs_single: {t_single / t_batched:.2f}")
    print(
        f"identical_greedy_outputs: {sum(a == b for a, b in zip(batched, single, strict=True))}/{len(prompts)}"
    )


if __name__ == "__main__":
    main()
