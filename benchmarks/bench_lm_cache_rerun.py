"""Re-running a finished 1,000-item generation from the call cache.

Run: ``python benchmarks/bench_lm_cache_rerun.py [--items N]``. The first run answers N
questions with a tiny random model (built on the spot) and fills a fresh cache; the
second run asks for the same answers again. Prints both runs' seconds and model calls
(target for the rerun: under 2 s and zero calls).
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

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--tokens", type=int, default=8)
    args = parser.parse_args()
    from culturalign.generate import generate_responses, summary_path
    from culturalign.io import write_records
    from culturalign.lm import load_lm
    from culturalign.lm.cache import CallCache
    from culturalign.records import CulturalQuestion, GenerationParams
    from culturalign.testing import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "tiny")
        questions = [
            CulturalQuestion(
                id=f"q{i}", text=f"Question number {i} about customs?", language="en", culture="World"
            )
            for i in range(args.items)
        ]
        params = GenerationParams(temperature=0, max_new_tokens=args.tokens)
        db, out = Path(tmp) / "calls.sqlite", Path(tmp) / "responses.jsonl"
        lm = load_lm(f"hf:{model}+batch_size=32", cache=CallCache(db))
        t = time.perf_counter()
        generate_responses(lm, questions, params=params, out=out)
        first_s = time.perf_counter() - t
        first_calls = lm.stats.calls

        t = time.perf_counter()
        lm2 = load_lm(f"hf:{model}+batch_size=32", cache=CallCache(db))
        loaded_s = time.perf_counter() - t
        t = time.perf_counter()
        rows = generate_responses(lm2, questions, params=params, out=out)
        rerun_s = time.perf_counter() - t

        # the same rerun as a user types it: a fresh process, imports and model load included
        data = Path(tmp) / "questions.jsonl"
        write_records(data, questions)
        cmd = [sys.executable, "-m", "culturalign", "generate", "--model", f"hf:{model}+batch_size=32"]
        cmd += ["--data", str(data), "--out", str(out), "--temperature", "0", "--cache", str(db)]
        cmd += ["--max-new-tokens", str(args.tokens)]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "CULTURALIGN_PROGRESS": "0"})
        command_s = time.perf_counter() - t
        command = json.loads(summary_path(out).read_text())
    print(f"items: {args.items}")
    print(f"first_run_s: {first_s:.2f}")
    print(f"first_run_model_calls: {first_calls}")
    print(f"rerun_s: {rerun_s:.3f}")
    print(f"rerun_model_load_s: {loaded_s:.3f}")
    print(f"rerun_model_calls: {lm2.stats.calls}")
    print(f"rerun_cache_hits: {lm2.stats.cache_hits}")
    print(f"rerun_responses: {len(rows)}")
    print(f"speedup_rerun_vs_first: {first_s / rerun_s:.1f}")
    print(f"rerun_under_2s: {rerun_s < 2.0}")
    print(f"rerun_command_s: {command_s:.2f}")
    print(f"rerun_command_model_calls: {command['calls']}")
    print(f"rerun_command_generate_s: {command['elapsed_s']:.3f}")


if __name__ == "__main__":
    main()
