"""What every stage builder needs from a run: the experiment, the run directory, where each
stage writes, what a ``data`` value names, and one loaded LM per model spec.

It sits apart from ``runner`` so the stage builders (``steps``, ``steps_synth``) can use it
without importing the runner that imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.pipeline.experiment import Experiment, resolve_path
from culturalign.pipeline.graph import Node, nodes, parse_ref
from culturalign.pipeline.stage_specs import STAGE_REF

# the file a stage writes, by kind (evaluations and training write folders)
OUTPUT_FILES = {
    "pairs": "pairs.jsonl",
    "synth-questions": "questions.jsonl",
    "synth-adapt": "adapted.jsonl",
    "synth-respond": "samples.jsonl",
    "synth-grounded": "questions.jsonl",
    "select": "picks.jsonl",
}


class RunContext:
    def __init__(self, exp: Experiment, exp_path: Path, run_dir: Path, *, cache: Any = "default"):
        self.exp = exp
        self.exp_path = Path(exp_path)
        self.base_dir = self.exp_path.resolve().parent
        self.run_dir = Path(run_dir)
        self.cache = cache
        self.nodes = nodes(exp)
        self.by_name = {n.name: n for n in self.nodes}
        self._lms: dict[str, Any] = {}

    # -- models -------------------------------------------------------------------------
    def model_spec(self, name: str) -> str:
        if name in self.exp.models:
            return self.exp.models[name]
        node = self.by_name.get(name)
        if node is not None and node.spec.kind == "train":
            return f"hf:{self.out_dir(node)}"
        raise ConfigError(f"unknown model name {name!r}")

    def model_inputs(self, name: str | None) -> list[Path]:
        """A trained model's folder is an input of what uses it: retraining re-runs them."""
        node = self.by_name.get(name or "")
        return [self.out_dir(node)] if node is not None and node.spec.kind == "train" else []

    def lm(self, spec: str):
        """One loaded LM per spec for the whole run (loading weights is the slow part)."""
        if spec not in self._lms:
            from culturalign.lm import load_lm

            self._lms[spec] = load_lm(spec, cache=self.cache)
        return self._lms[spec]

    # -- paths --------------------------------------------------------------------------
    def out_dir(self, node: Node) -> Path:
        return self.run_dir / node.folder

    def eval_dir(self, node: Node, model: str, mode: str, lang: str) -> Path:
        return self.out_dir(node) / model / f"{mode}-{lang}"

    def output(self, node: Node, part: str | None = None) -> Path:
        """The file ``stage:NAME[.PART]`` reads."""
        s = node.spec
        if s.kind == "split":
            return self.out_dir(node) / f"{part or 'test'}.jsonl"
        if s.kind == "export":
            return self.out_dir(node) / f"{s.format}.jsonl"
        if s.kind == "evaluate":
            models = s.models or self.exp.model_names
            model = part or models[0]
            return self.eval_dir(node, model, s.modes[0], s.langs[0]) / "items.jsonl"
        return self.out_dir(node) / OUTPUT_FILES[s.kind]

    def resolve(self, value: str) -> Path:
        """A ``data`` value as a path: another stage's output, a sample, or a file."""
        if value.startswith(STAGE_REF):
            name, part = parse_ref(value)
            return self.output(self.by_name[name], part)
        if value.startswith("hf:"):  # a hub dataset id, read by the loaders as it is
            return Path(value)
        return resolve_path(value, self.base_dir)

    def producer(self, value: str | None) -> Node | None:
        if value and value.startswith(STAGE_REF):
            return self.by_name[parse_ref(value)[0]]
        return None
