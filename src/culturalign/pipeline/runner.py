"""Turn an experiment into stages and run them in a run directory.

Layout of a run directory::

    RUN/experiment.yaml        the experiment as run (copied)
    RUN/stages.json            fingerprints of finished stages
    RUN/data/                  test/train split, preference pairs
    RUN/train/<name>/          one folder per training recipe (usable as hf:DIR)
    RUN/eval/<kind>/<model>/<mode>-<lang>/   one folder per evaluation run
    RUN/report.html, report.md
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from culturalign.errors import ConfigError
from culturalign.pipeline.experiment import EvalSpec, Experiment, TrainSpec, resolve_path
from culturalign.pipeline.stages import Stage, StageBook

console = Console(stderr=True)


class Runner:
    def __init__(
        self, exp: Experiment, exp_path: Path, run_dir: Path, *, cache: Any = "default", force: bool = False
    ):
        self.exp = exp
        self.base_dir = Path(exp_path).resolve().parent
        self.exp_path = Path(exp_path)
        self.run_dir = Path(run_dir)
        self.cache = cache
        self.force = force
        self.book = StageBook(self.run_dir)
        self.spend = {"calls": 0, "cache_hits": 0, "failures": 0, "tokens": 0, "cost_usd": 0.0}
        self._lms: dict[str, Any] = {}

    # -- models -------------------------------------------------------------------------
    def model_spec(self, name: str) -> str:
        if name in self.exp.models:
            return self.exp.models[name]
        for t in self.exp.train:
            if t.name == name:
                return f"hf:{self.train_dir(t)}"
        raise ConfigError(f"unknown model name {name!r}")

    def lm(self, spec: str):
        """One loaded LM per spec for the whole run (loading weights is the slow part)."""
        if spec not in self._lms:
            from culturalign.lm import load_lm

            self._lms[spec] = load_lm(spec, cache=self.cache)
        return self._lms[spec]

    def _account(self, lms: list[Any], before: dict[int, dict[str, Any]]) -> None:
        for lm in lms:
            b = before.get(id(lm), {})
            s = lm.stats.as_dict()
            self.spend["calls"] += s["calls"] - b.get("calls", 0)
            self.spend["cache_hits"] += s["cache_hits"] - b.get("cache_hits", 0)
            self.spend["failures"] += s["failures"] - b.get("failures", 0)
            self.spend["tokens"] += (s["prompt_tokens"] + s["completion_tokens"]) - (
                b.get("prompt_tokens", 0) + b.get("completion_tokens", 0)
            )
            self.spend["cost_usd"] += s["cost_usd"] - b.get("cost_usd", 0.0)

    # -- paths --------------------------------------------------------------------------
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    def train_dir(self, t: TrainSpec) -> Path:
        return self.run_dir / "train" / t.name

    def eval_dir(self, e: EvalSpec, model: str, mode: str, lang: str) -> Path:
        return self.run_dir / "eval" / e.kind / model / f"{mode}-{lang}"

    def questions_path(self) -> Path | None:
        if not self.exp.data.questions:
            return None
        if self.exp.data.split:
            return self.data_dir() / "test.jsonl"
        return resolve_path(self.exp.data.questions, self.base_dir)

    # -- stages -------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        from culturalign.pipeline import steps

        out: list[Stage] = []
        d = self.exp.data
        if d.questions and d.split:
            out.append(steps.split_stage(self))
        if d.preferences and any(t.data == "pairs" for t in self.exp.train):
            out.append(steps.pairs_stage(self))
        trained = {t.name for t in self.exp.train}

        def evals(of_trained: bool) -> list[Stage]:
            return [
                steps.eval_stage(self, e, model, mode, lang)
                for e in self.exp.evaluations
                for model in e.models or self.exp.model_names
                if (model in trained) == of_trained
                for mode in e.modes
                for lang in e.langs
            ]

        # the given models are evaluated first, then trained, then the trained ones evaluated
        out += evals(False)
        out += [steps.train_stage(self, t) for t in self.exp.train]
        out += evals(True)
        out.append(steps.report_stage(self))
        return out

    def run(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.exp_path.resolve() != (self.run_dir / "experiment.yaml").resolve():
            shutil.copyfile(self.exp_path, self.run_dir / "experiment.yaml")
        stages = self.stages()
        started = time.time()
        ran, skipped = [], []
        for k, stage in enumerate(stages, start=1):
            fp = stage.fingerprint()
            head = f"[{k}/{len(stages)}] {stage.name}"
            if not self.force and self.book.is_fresh(stage, fp):
                console.print(f"[dim]{head}: unchanged, skipped[/]")
                skipped.append(stage.name)
                continue
            console.rule(f"[bold]{head}")
            before = {id(lm): lm.stats.as_dict() for lm in self._lms.values()}
            t0 = time.time()
            try:
                info = stage.run()
            except KeyboardInterrupt:
                from culturalign import interrupts

                interrupts.note(
                    f"{k - 1} of {len(stages)} stages finished and are skipped next time; "
                    f"stopped in {stage.name}"
                )
                raise
            seconds = time.time() - t0
            self._account(list(self._lms.values()), before)
            self.book.record(stage, fp, seconds, info)
            ran.append(stage.name)
            s = self.spend
            console.print(
                f"[green]done[/] {stage.name} in {seconds:.1f}s · run so far: {s['calls']} calls, "
                f"{s['cache_hits']} cache hits, {s['failures']} failed, {s['tokens']} tokens, ${s['cost_usd']:.4f}"
            )
        return {
            "run_dir": str(self.run_dir),
            "ran": ran,
            "skipped": skipped,
            "seconds": round(time.time() - started, 1),
            "spend": dict(self.spend),
        }


def run_experiment(
    path: str | Path, run_dir: str | Path | None = None, *, cache: Any = "default", force: bool = False
):
    from culturalign.pipeline.experiment import load_experiment

    exp = load_experiment(path)
    run_dir = Path(run_dir) if run_dir else Path("runs") / exp.name
    return Runner(exp, Path(path), run_dir, cache=cache, force=force).run()
