"""Alignment: SFT, DPO, KTO and SimPO on TRL, with LoRA or QLoRA (paper 000 §4, paper 003 §4.2).

``from culturalign.train import train`` is the entry point; heavy libraries load only
when a function runs.
"""

from __future__ import annotations

from typing import Any

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
