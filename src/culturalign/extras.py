"""Optional parts of culturalign and the pip extra that installs each.

The core install (``pip install culturalign``) holds what a user needs to evaluate
models behind an API: records, loaders, the OpenAI-compatible backend, judges,
metrics and reports. Everything that needs torch, a web server or a database is an
extra, so that user never downloads gigabytes of wheels they will not run.

Two ways in, both ending in the same message ("... pip install 'culturalign[train]'",
exit status 2 from the command line, no traceback):

* ``require("train", "trl", "peft")`` at the entry of a feature, before any work
  starts, so a user learns what to install before a long run fails halfway;
* ``missing_extra(exc)`` turns a ``ModuleNotFoundError`` raised deeper down into
  the same error, for the CLI's last line of defence (``cli._run_app``).

``find_spec`` looks a module up without importing it, so ``require`` costs
microseconds and keeps ``import culturalign`` light.
"""

from __future__ import annotations

import importlib.util

from culturalign.errors import MissingDependency

#: what each extra adds, for messages and docs (pyproject.toml holds the packages)
EXTRAS: dict[str, str] = {
    "hf": "local Hugging Face models (torch, transformers) and hf: data",
    "hub": "reading hf: datasets and pushing to the Hugging Face Hub, without torch",
    "train": "training (TRL, PEFT) and studies",
    "annotate": "the annotation web app and its database",
    "st": "sentence-transformers embedders (st:MODEL)",
    "vllm": "vllm: model specs on GPU machines",
    "qlora": "4-bit base weights (bitsandbytes)",
    "postgres": "a PostgreSQL annotation database",
    "deepspeed": "DeepSpeed multi-GPU training",
    "bench": "lm-evaluation-harness comparisons",
    "inspect": "the inspect_ai task for CARE judging (culturalign.interop.inspect_care)",
    "trackers": "--report-to wandb, mlflow or tensorboard",
}

#: top-level module name -> the extra that installs it
MODULE_EXTRA: dict[str, str] = {
    "torch": "hf",
    "transformers": "hf",
    "tokenizers": "hf",
    "safetensors": "hf",
    "accelerate": "hf",
    "gguf": "hf",
    "datasets": "hub",
    "huggingface_hub": "hub",
    "trl": "train",
    "peft": "train",
    "sentence_transformers": "st",
    "fastapi": "annotate",
    "starlette": "annotate",
    "uvicorn": "annotate",
    "sqlalchemy": "annotate",
    "multipart": "annotate",
    "jinja2": "annotate",
    "krippendorff": "annotate",
    "vllm": "vllm",
    "bitsandbytes": "qlora",
    "psycopg": "postgres",
    "deepspeed": "deepspeed",
    "lm_eval": "bench",
    "inspect_ai": "inspect",
    "wandb": "trackers",
    "mlflow": "trackers",
    "tensorboard": "trackers",
}

#: import name -> distribution name, where they differ (for the message)
_DISTRIBUTION = {
    "sentence_transformers": "sentence-transformers",
    "multipart": "python-multipart",
    "huggingface_hub": "huggingface-hub",
    "lm_eval": "lm-eval",
    "inspect_ai": "inspect-ai",
    "mlflow": "mlflow-skinny",
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, quoted for a POSIX shell."""
    return f"pip install 'culturalign[{extra}]'"


def is_available(module: str) -> bool:
    """Whether ``module`` (a top-level name) can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed package
        return False


def require(extra: str, *modules: str, why: str = "") -> None:
    """Raise ``MissingDependency`` naming ``extra`` unless every module in ``modules``
    (top-level names; all of the extra's own when none are given) is installed.

    ``why`` says what the user asked for ("to train", "for hf: models")."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    wanted = modules or tuple(m for m, e in MODULE_EXTRA.items() if e == extra)
    missing = [m for m in wanted if not is_available(m)]
    if missing:
        names = ", ".join(_DISTRIBUTION.get(m, m) for m in missing)
        raise MissingDependency(names, extra=extra, why=why)


def missing_extra(exc: BaseException) -> MissingDependency | None:
    """The install hint for a ``ModuleNotFoundError`` of a module an extra provides;
    None for any other error (a genuine bug still shows in full)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    extra = MODULE_EXTRA.get(top)
    if extra is None:
        return None
    return MissingDependency(_DISTRIBUTION.get(top, top), extra=extra, why=f"({EXTRAS[extra]})")
