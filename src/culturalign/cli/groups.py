"""The command groups. Command modules attach their commands to these apps, so each
capability keeps its own small CLI file and ``cli/__init__`` only assembles them."""

import typer


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )


data_app = _group("Load, validate, describe, split and convert cultural data; build preference pairs.")
models_app = _group(
    """The embedded models: list, check and prepare them offline.

Every --model, --judge and --checker option takes a model spec:

* `embedded`: SmolLM2-135M-Instruct from its wheel, offline.
* `hf:PATH_OR_ID`: a local folder or a Hub id, with options appended as `+key=value`:
  `+adapter=DIR` (a LoRA adapter), `+revision=COMMIT`, `+device_map=auto`,
  `+attn_implementation=sdpa`, `+trust_remote_code`, `+load_in_4bit`, `+dtype=bfloat16`.
* `openai:MODEL@BASE_URL`: any OpenAI-compatible server (the key from OPENAI_API_KEY).
* `vllm:PATH_OR_ID`: vLLM in this process (the [vllm] extra).
"""
)
eval_app = _group("Evaluate a model: CARE judging, choice and distribution benchmarks, grounded questions.")
train_app = _group("Align a model: SFT, DPO, KTO, SimPO on TRL, with LoRA or QLoRA.")
study_app = _group("The papers' training studies: data scaling, culture mixing, algorithms.")
synth_app = _group("Synthesize cultural data: CAReDiO questions, adaptation, responses; grounded questions.")
annotate_app = _group("The annotation web app: rank-and-rate, classification, rubric scoring, agreement.")
cache_app = _group("The call cache: merge the per-process part files written on a network filesystem.")
