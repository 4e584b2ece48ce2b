"""The ``openai`` backend against a local ``transformers serve`` at concurrency 1 vs 8.

Run: ``python benchmarks/bench_lm_openai_concurrency.py [--prompts N] [--tokens N]``.
Starts ``transformers serve`` with the embedded SmolLM2 model on 127.0.0.1, sends the
same greedy prompts at each concurrency (no call cache), and prints seconds, requests
per second and the speed-up. By default ``transformers serve`` generates for one
request at a time, so concurrency only overlaps the HTTP and tokenizing work; with
``--continuous-batching`` it batches the requests in flight. A remote API, whose
latency is mostly waiting, gains the most.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=12)
    parser.add_argument("--server-threads", type=int, default=1)
    parser.add_argument(
        "--continuous-batching",
        action="store_true",
        help="start the server with --continuous-batching (it then batches concurrent requests)",
    )
    args = parser.parse_args()
    from culturalign.lm import load_lm
    from culturalign.models import embedded
    from culturalign.records import GenerationParams
    from culturalign.testing.server import transformers_serve

    model = embedded.prepare()
    prompts = [
        [{"role": "user", "content": f"Name one custom of country number {i}."}] for i in range(args.prompts)
    ]
    params = GenerationParams(temperature=0, max_new_tokens=args.tokens)
    results = {}
    extra = ("--continuous-batching",) if args.continuous_batching else ()
    with transformers_serve(model, threads=args.server_threads, extra_args=extra) as url:
        load_lm(f"openai:{model}@{url}", cache=None).generate(prompts[:1], params)  # warm up
        for conc in (1, 8):
            lm = load_lm(f"openai:{model}@{url}+concurrency={conc}", cache=None)
            t = time.perf_counter()
            out = lm.generate(prompts, params)
            results[conc] = (time.perf_counter() - t, [c[0].text for c in out], lm.stats.failures)
    print(f"prompts: {args.prompts}")
    print(f"max_new_tokens: {args.tokens}")
    print(f"server_threads: {args.server_threads}")
    print(f"continuous_batching: {args.continuous_batching}")
    for conc, (secs, _, failures) in results.items():
        print(f"concurrency_{conc}_s: {secs:.2f}")
        print(f"concurrency_{conc}_requests_per_s: {args.prompts / secs:.2f}")
        print(f"concurrency_{conc}_failures: {failures}")
    print(f"speedup_8_vs_1: {results[1][0] / results[8][0]:.2f}")
    same = sum(a == b for a, b in zip(results[1][1], results[8][1], strict=True))
    print(f"identical_outputs_8_vs_1: {same}/{args.prompts}")


if __name__ == "__main__":
    main()
