"""culturalign: measure and improve the regional cultural awareness of language models.

The Python API, for notebooks and scripts (each a front over what the CLI runs)::

    import culturalign

    questions = culturalign.load("care_test.json")            # records
    result = culturalign.evaluate("care", "openai:gpt-4o-mini", "care_test.json",
                                  judge="openai:gpt-4o", limit=50)
    result.summary["overall"], result.records[0]               # in memory, no out_dir
    run = culturalign.train("dpo", "hf:HuggingFaceTB/SmolLM2-135M-Instruct", "pairs.jsonl",
                            "runs/dpo", lora=True)

Heavy libraries (torch, transformers, trl, sentence-transformers) are imported only
inside the functions that need them, and the API itself is imported on first use, so
``import culturalign`` stays cheap (and works on the core install, without torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["BENCHMARKS", "EvalResult", "__version__", "evaluate", "load", "train"]

if TYPE_CHECKING:
    from culturalign.api import BENCHMARKS, EvalResult, evaluate, load, train


def __getattr__(name: str) -> Any:
    """Import ``culturalign.api`` when one of its names is first asked for (PEP 562)."""
    if name == "train":
        # the training subpackage, which is callable: culturalign.train(...) is api.train
        import culturalign.train as train_package

        return train_package
    if name in ("BENCHMARKS", "EvalResult", "evaluate", "load"):
        from culturalign import api

        return getattr(api, name)
    raise AttributeError(f"module 'culturalign' has no attribute {name!r}")
