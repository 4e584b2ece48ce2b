"""Content-hashed stages: a stage whose inputs and config have not changed is skipped.

Each stage has a fingerprint over its config, the bytes of its input files (or the
weights of a model folder), the culturalign version and the built-in prompts it sends. ``stages.json`` in the run directory records the
fingerprint of every stage that finished; a stage cut off by Ctrl-C or a kill has no
record and runs again (its model calls come back from the call cache).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.io import stable_hash, write_json
from culturalign.pipeline.assets import asset_hashes, path_fingerprint


@dataclass
class Stage:
    name: str
    run: Callable[[], dict[str, Any] | None]
    config: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    output: Path | None = None
    assets: str | None = None  # key of pipeline.assets.STAGE_ASSETS: built-in prompts it sends

    def fingerprint(self) -> str:
        """Config, input bytes, the culturalign version and the hashes of the built-in
        templates/rubrics the stage uses: an upgrade that rewrites a prompt re-runs it."""
        import culturalign

        return stable_hash(
            {
                "config": self.config,
                "inputs": {str(p): path_fingerprint(p) for p in self.inputs},
                "culturalign": culturalign.__version__,
                "assets": asset_hashes(self.assets) if self.assets else {},
            }
        )


class StageBook:
    """The run directory's record of finished stages."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / "stages.json"
        try:
            self.done: dict[str, dict[str, Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.done = {}

    def is_fresh(self, stage: Stage, fingerprint: str) -> bool:
        rec = self.done.get(stage.name)
        if not rec or rec.get("fingerprint") != fingerprint:
            return False
        return stage.output is None or Path(stage.output).exists()

    def record(self, stage: Stage, fingerprint: str, seconds: float, info: dict[str, Any] | None) -> None:
        self.done[stage.name] = {
            "fingerprint": fingerprint,
            "finished": time.time(),
            "seconds": round(seconds, 2),
            "info": info or {},
        }
        write_json(self.path, self.done)
