"""Alignment: SFT, DPO, KTO and SimPO on TRL, with LoRA or QLoRA (paper 000 §4, paper 003 §4.2).

``from culturalign.train import train`` is the entry point; heavy libraries load only
when a function runs.

This package is also ``culturalign.train`` of the Python API: calling the package,
``culturalign.train("dpo", MODEL, DATA)``, runs ``culturalign.api.train``. A package and a
function cannot share the name ``culturalign.train`` (importing the package rebinds it),
so the package itself is made callable.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from culturalign.api import train

        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["GapReport", "TrainConfig", "TrainResult", "heldout_gap", "resolve_config", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "TrainResult", "heldout_gap"):
        from culturalign.train import run

        return getattr(run, name)
    if name in ("TrainConfig", "resolve_config"):
        from culturalign.train import presets

        return getattr(presets, name)
    if name == "GapReport":
        from culturalign.train.gap import GapReport

        return GapReport
    raise AttributeError(name)
