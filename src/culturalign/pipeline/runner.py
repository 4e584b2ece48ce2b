"""Turn an experiment into stages and run them in a run directory.

Layout of a run directory::

    RUN/experiment.yaml        the experiment as run (copied)
    RUN/stages.json            fingerprints of finished stages
    RUN/data/                  test/train split, preference pairs (the `data:` section)
    RUN/stages/<name>/         what a synth, select, export, split or pairs stage wrote
    RUN/train/<name>/          one folder per training recipe (usable as hf:DIR)
    RUN/eval/<kind>/<model>/<mode>-<lang>/   one folder per evaluation run
                               (<name> instead of <kind> for an evaluate stage)
    RUN/report.html, report.md
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from culturalign.pipeline.context import RunContext
from culturalign.pipeline.experiment import Experiment
from culturalign.pipeline.graph import plan
from culturalign.pipeline.stages import Stage, StageBook

log = logging.getLogger(__name__)


class Runner(RunContext):
    def __init__(
        self, exp: Experiment, exp_path: Path, run_dir: Path, *, cache: Any = "default", force: bool = False,
        effective: str | None = None,
    ):  # fmt: skip
        super().__init__(exp, exp_path, run_dir, cache=cache)
        self.force = force
        self.effective = effective  # the experiment as run, when --set changed the file
        self.book = StageBook(self.run_dir)
        self.spend = {"calls": 0, "cache_hits": 0, "failures": 0, "tokens": 0, "cost_usd": 0.0}

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

    def stages(self) -> list[Stage]:
        """Every stage in the order it runs (``graph.plan``: by what reads what)."""
        from culturalign.pipeline.steps import build

        return [stage for unit in plan(self.exp) for stage in build(self, unit)]

    def run(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.effective is not None:
            (self.run_dir / "experiment.yaml").write_text(self.effective, encoding="utf-8")
        elif self.exp_path.resolve() != (self.run_dir / "experiment.yaml").resolve():
            shutil.copyfile(self.exp_path, self.run_dir / "experiment.yaml")
        stages = self.stages()
        started = time.time()
        ran, skipped = [], []
        for k, stage in enumerate(stages, start=1):
            fp = stage.fingerprint()
            head = f"[{k}/{len(stages)}] {stage.name}"
            if not self.force and self.book.is_fresh(stage, fp):
                log.info("%s: unchanged, skipped", head)
                skipped.append(stage.name)
                continue
            if log.isEnabledFor(logging.INFO):  # a heading between stages (not under -q)
                from culturalign.progress import console

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
            log.info(
                "done %s in %.1fs · run so far: %d calls, %d cache hits, %d failed, %d tokens, $%.4f",
                stage.name,
                seconds,
                s["calls"],
                s["cache_hits"],
                s["failures"],
                s["tokens"],
                s["cost_usd"],
            )
        return {
            "run_dir": str(self.run_dir),
            "ran": ran,
            "skipped": skipped,
            "seconds": round(time.time() - started, 1),
            "spend": dict(self.spend),
        }


def run_experiment(
    path: str | Path,
    run_dir: str | Path | None = None,
    *,
    cache: Any = "default",
    force: bool = False,
    overrides: list[str] | None = None,
):
    """Run the experiment file at ``path`` (or a shipped one by name, see ``shipped``), with
    ``overrides`` (``path.to.field=value``) applied before it is validated."""
    from culturalign.pipeline.overrides import load_with_overrides

    exp, exp_path, effective = load_with_overrides(path, overrides or [])
    run_dir = Path(run_dir) if run_dir else Path("runs") / exp.name
    return Runner(exp, exp_path, run_dir, cache=cache, force=force, effective=effective).run()
