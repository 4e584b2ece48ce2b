"""Multiple-choice log-likelihoods: culturalign against lm-evaluation-harness, same items,
same model, same process.

Run: ``python benchmarks/bench_choice_vs_lm_eval.py [--items N] [--model PATH]``
(needs ``pip install lm-eval==0.4.13``, the ``bench`` extra; runs offline).

The items are real WVS questions from ``../shared/data/wvs`` (our sample folder when
that is absent), written as opinion prompts that list the options, followed by
``Answer:``; every option's text is a continuation (lm-eval's ``multiple_choice``
output type, target delimiter " "). Both tools get raw-string prompts (no chat template,
lm-eval's default) and the embedded SmolLM2 in float32 on the CPU.

lm-eval runs as a custom task (a YAML over a JSONL file in a temporary folder, loaded
with ``include_path``) through ``simple_evaluate`` with ``log_samples``; its per-option
log-likelihoods come from the logged samples. culturalign scores the same prompts with
``LM.score`` (call cache off), which encodes each prompt once and scores all options from
its cached prefix.

Printed (``name: value``):

* ``max_abs_logprob_diff``: the largest |difference| between the two tools' per-option
  log-probabilities (target below 1e-4);
* ``lm_eval_scoring_s`` / ``culturalign_scoring_s`` and ``speedup_vs_lm_eval``: scoring
  time alone (lm-eval's ``HFLM.loglikelihood`` on the task's requests vs ``LM.score``),
  the fastest of ``--repeats`` runs each (target: at least 3×); the same in process CPU
  time (``*_cpu_s``), which other jobs on a shared machine do not inflate;
* ``lm_eval_end_to_end_s``: ``simple_evaluate`` with the model already loaded (task
  building, dataset loading, scoring, metrics), and its ratio to culturalign's scoring.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "CULTURALIGN_PROGRESS": "0",
}.items():
    os.environ.setdefault(_k, _v)

REPO = Path(__file__).resolve().parents[1]
TASK = "culturalign_choice_bench"


def build_items(n: int, min_options: int = 4) -> list[dict]:
    """Opinion prompts over real WVS questions with at least ``min_options`` options (the
    four-option shape of CulturalBench, INCLUDE, MMLU), one per (question, country)."""
    from culturalign.datasets import wvs
    from culturalign.evals.choice.prompts import ChoicePrompts, option_block
    from culturalign.paths import package_data

    folder = REPO.parent / "shared" / "data" / "wvs"
    if not folder.is_dir():
        folder = package_data("data", "sample", "opinions_wvs")
    questions = wvs.load(folder)
    prompts = ChoicePrompts(chat=False)
    docs = []
    for q in questions:
        if len(q.options) < min_options:
            continue
        for country in sorted(q.target_distributions or {})[:2]:
            text = prompts.text(
                "opinion", country=country, question=q.question, options=option_block(q.options)
            )
            docs.append({"context": text + "\nAnswer:", "choices": q.options, "gold": 0})
            if len(docs) == n:
                return docs
    return docs


def write_task(folder: Path, docs: list[dict]) -> None:
    data = folder / "docs.jsonl"
    data.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    (folder / f"{TASK}.yaml").write_text(
        "\n".join(
            [
                f"task: {TASK}",
                "dataset_path: json",
                "dataset_kwargs:",
                "  data_files:",
                f"    test: {data}",
                "test_split: test",
                "output_type: multiple_choice",
                'doc_to_text: "{{context}}"',
                "doc_to_choice: choices",
                "doc_to_target: gold",
                'target_delimiter: " "',
                "metric_list:",
                "  - metric: acc",
                "",
            ]
        ),
        encoding="utf-8",
    )


def lm_eval_run(hflm, folder: Path) -> tuple[float, dict[int, list[float]]]:
    """simple_evaluate on the custom task: (seconds, doc index → per-option log-likelihoods)."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(folder))
    t = time.perf_counter()
    out = lm_eval.simple_evaluate(
        model=hflm, tasks=[TASK], task_manager=manager, log_samples=True, bootstrap_iters=0, verbosity="ERROR"
    )
    seconds = time.perf_counter() - t
    lls = {s["doc_id"]: [float(r[0][0]) for r in s["resps"]] for s in out["samples"][TASK]}
    return seconds, lls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=40, help="questions × countries to score")
    parser.add_argument("--model", default=None, help="a local model folder (default: the embedded SmolLM2)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--min-options", type=int, default=4, help="use questions with at least this many options"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per tool; the fastest counts")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1: CPU time is not shared)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from culturalign.lm import load_lm
    from culturalign.models import embedded

    torch.set_num_threads(args.threads)
    model_dir = Path(args.model) if args.model else embedded.prepare()
    docs = build_items(args.items, args.min_options)
    ours = load_lm(f"hf:{model_dir}+batch_size={args.batch_size}+dtype=float32+device=cpu", cache=None)
    backend = ours.backend
    hflm = HFLM(
        pretrained=backend.model, tokenizer=backend.tokenizer, batch_size=args.batch_size, device="cpu"
    )

    contexts = [d["context"] for d in docs]
    continuations = [[" " + o for o in d["choices"]] for d in docs]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_task(folder, docs)
        end_to_end, lm_eval_lls = lm_eval_run(hflm, folder)

    # scoring alone, both tools, on identical requests (warm-up first)
    requests = [
        Instance(request_type="loglikelihood", doc={}, arguments=(c, x), idx=k)
        for c, conts in zip(contexts, continuations, strict=True)
        for k, x in enumerate(conts)
    ]
    hflm.loglikelihood(requests[:4], disable_tqdm=True)
    ours.score(contexts[:2], continuations[:2])
    lm_eval_times, our_times, lm_eval_cpu, our_cpu = [], [], [], []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        direct = hflm.loglikelihood(requests, disable_tqdm=True)
        lm_eval_times.append(time.perf_counter() - t)
        lm_eval_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        scored = ours.score(contexts, continuations)
        our_times.append(time.perf_counter() - t)
        our_cpu.append(time.process_time() - c)

    diffs = []
    flat_direct = iter(direct)
    for i, res in enumerate(scored):
        assert res.ok, res.error
        for k, lp in enumerate(res.logprobs):
            diffs.append(abs(lp - lm_eval_lls[i][k]))
            diffs.append(abs(lp - next(flat_direct)[0]))
    n_options = sum(len(c) for c in continuations)
    tokens = sum(len(backend._encode(c)) for c in contexts)
    print(f"model: {model_dir}")
    print(f"items: {len(docs)}")
    print(f"options_scored: {n_options}")
    print(f"prompt_tokens_total: {tokens}")
    print(f"batch_size: {args.batch_size}")
    print(f"torch_threads: {torch.get_num_threads()}")
    print(f"max_abs_logprob_diff: {max(diffs):.3e}")
    print(f"mean_abs_logprob_diff: {sum(diffs) / len(diffs):.3e}")
    print(f"lm_eval_scoring_s: {min(lm_eval_times):.3f}")
    print(f"culturalign_scoring_s: {min(our_times):.3f}")
    print(f"speedup_vs_lm_eval: {min(lm_eval_times) / min(our_times):.2f}")
    print(f"lm_eval_scoring_cpu_s: {min(lm_eval_cpu):.3f}")
    print(f"culturalign_scoring_cpu_s: {min(our_cpu):.3f}")
    print(f"speedup_vs_lm_eval_cpu_time: {min(lm_eval_cpu) / min(our_cpu):.2f}")
    print(f"lm_eval_end_to_end_s: {end_to_end:.3f}")
    print(f"speedup_vs_lm_eval_end_to_end: {end_to_end / min(our_times):.2f}")


if __name__ == "__main__":
    main()
