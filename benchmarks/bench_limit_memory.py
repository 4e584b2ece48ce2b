"""Peak memory of ``generate --limit 2`` on a small file and on one 50 times larger.

Run: ``python benchmarks/bench_limit_memory.py [--items N] [--factor F]``. Writes a JSONL
file of N culture-specific questions (about 500 bytes each, five categories × three
cultures) and one F times larger, then runs ``culturalign generate --limit 2`` on each
with a tiny random model (built on the spot), each in a fresh process, and prints each
run's peak resident memory. A limited run streams the file and keeps two questions, so
the ratio should be about 1 (issue 17: a 200 MB file used to become 1.5 GB). For contrast
it also prints the peak of loading the large file whole, as an unlimited run does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")

CATEGORIES = ("Cultural entities", "Opinion", "Social norms", "Cultural commonsense", "Literacy")
CULTURES = (("Chinese", "zh"), ("Arab", "ar"), ("Japanese", "ja"))
PAD = "这是一个关于日常生活习俗的较长的问题描述，" * 8


def write_questions(path: Path, n: int) -> int:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            culture, lang = CULTURES[i % len(CULTURES)]
            row = {
                "id": f"q{i}",
                "text": f"{PAD}第{i}个问题？",
                "language": lang,
                "culture": culture,
                "category": CATEGORIES[(i // len(CULTURES)) % len(CATEGORIES)],
                "reference_answer": "参考答案" * 10,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path.stat().st_size


def peak_rss_mib(code: str) -> float:
    """Peak RSS of a fresh Python process running ``code`` (the child alone: a wrapper
    process waits for it and reads RUSAGE_CHILDREN)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        f"r = subprocess.run([sys.executable, '-c', {code!r}])\n"
        "assert r.returncode == 0, r.returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--factor", type=int, default=50)
    args = parser.parse_args()
    from culturalign.testing import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        model = build_tiny_model(tmp_path / "tiny")
        sizes = {}
        peaks = {}
        for name, n in (("small", args.items), ("large", args.items * args.factor)):
            data = tmp_path / f"{name}.jsonl"
            sizes[name] = write_questions(data, n)
            argv = ["generate", "--model", f"hf:{model}", "--data", str(data), "--limit", "2"]
            argv += ["--max-new-tokens", "2", "--temperature", "0", "--cache", "off"]
            argv += ["--out", str(tmp_path / f"{name}.out.jsonl")]
            peaks[name] = peak_rss_mib(
                f"import sys; from culturalign.cli import main; sys.argv = {['culturalign', *argv]!r}; main()"
            )
            chosen = [json.loads(line)["category"] for line in (tmp_path / f"{name}.out.jsonl").open()]
            print(
                f"{name}: {n} questions, {sizes[name] / 2**20:.1f} MiB; generate --limit 2 peak RSS "
                f"{peaks[name]:.0f} MiB (sampled categories: {', '.join(chosen)})"
            )
        whole = peak_rss_mib(
            f"from culturalign.datasets import load_any; load_any({str(tmp_path / 'large.jsonl')!r})"
        )
        print(f"large/small peak ratio: {peaks['large'] / peaks['small']:.2f} (target: about 1)")
        print(f"for contrast, loading the large file whole: peak RSS {whole:.0f} MiB")


if __name__ == "__main__":
    main()
