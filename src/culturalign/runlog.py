"""The run log: what produced a result directory, so a report can say it and a rerun
can check it. Every stage that writes a run directory writes ``run.json`` with this
shape (the report reads it for provenance).
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from culturalign import __version__
from culturalign.io import fingerprint_file, write_json

_PACKAGES = (
    "torch",
    "transformers",
    "trl",
    "peft",
    "datasets",
    "accelerate",
    "sentence-transformers",
    "vllm",
)


def package_versions() -> dict[str, str]:
    out = {"culturalign": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_revision() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        return rev.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


class RunLog(BaseModel):
    kind: str = Field(description="what ran: eval-care, eval-opinions, train-dpo, select, ...")
    started: float = Field(default_factory=time.time)
    finished: float | None = None
    command: list[str] = Field(default_factory=lambda: list(sys.argv))
    config: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, dict[str, Any]] = Field(default_factory=dict, description="role -> model identity")
    data: dict[str, str] = Field(default_factory=dict, description="path -> sha256")
    prompts: dict[str, str] = Field(default_factory=dict, description="template name -> sha")
    calls: dict[str, dict[str, Any]] = Field(default_factory=dict, description="role -> LM.stats")
    versions: dict[str, str] = Field(default_factory=package_versions)
    git: str | None = Field(default_factory=git_revision)
    notes: list[str] = Field(default_factory=list, description="caveats a reader must see, e.g. a weak judge")

    def add_model(self, role: str, lm: Any) -> None:
        self.models[role] = {"spec": lm.spec, **lm.identity}

    def add_data(self, path: str | Path) -> None:
        p = Path(path)
        if p.is_file():
            self.data[str(p)] = fingerprint_file(p)

    def finish(self, out_dir: str | Path, lms: dict[str, Any] | None = None) -> None:
        for role, lm in (lms or {}).items():
            self.calls[role] = lm.stats.as_dict()
        self.finished = time.time()
        write_json(Path(out_dir) / "run.json", self.model_dump(mode="json"))
