"""The experiment file: what data, which models, which recipes and evaluations.

An experiment holds only what differs from the defaults (nanoGPT's lesson). Paths may
be relative to the experiment file, or ``sample:NAME`` for the sample data shipped
inside the package. Model names map to specs; every ``train`` entry adds a model of
its own name, so evaluations can list ``[base, dpo]``.

``stages:`` adds stages of any kind (``stage_specs``: synth, select, export, train,
evaluate, report, split, pairs) that read files, samples or each other's outputs
(``data: stage:NAME``); the ``data``/``train``/``evaluations``/``report`` sections are
sugar for the same stages (``graph.nodes``). The validator plans the graph, so a cycle,
an unknown reference or model, and bad decoding settings fail when the file loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from culturalign.errors import ConfigError
from culturalign.paths import package_data
from culturalign.pipeline.checks import (  # noqa: F401  (EvalKind, QUESTION_EVALS re-exported)
    QUESTION_EVALS,
    EvalKind,
    check_generation,
    check_spec,
    plain_name,
)
from culturalign.pipeline.stage_specs import AnyStage, EvalFields, parse_stages
from culturalign.yamlconf import LocatedValueError, load_yaml_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitSpec(_Strict):
    per_category: int = Field(30, ge=1, description="test questions per category per culture (CARE: 30)")
    seed: int = 0


class PairsSpec(_Strict):
    strategy: Literal["best-worst", "all"] = "best-worst"
    min_margin: float = Field(1.0, ge=0)


class DataSpec(_Strict):
    questions: str | None = Field(None, description="culture-specific questions with reference answers")
    questions_format: str | None = None
    preferences: str | None = Field(None, description="rated responses (the CARE preference shape)")
    preferences_format: str | None = None
    split: SplitSpec | None = None
    pairs: PairsSpec = Field(default_factory=PairsSpec)


class TrainSpec(_Strict):
    name: str
    method: Literal["sft", "dpo", "kto", "simpo"] = "dpo"
    base: str = Field("base", description="a model name from `models`")
    data: str = Field(
        "pairs", description="'pairs' (built from data.preferences), 'sft' (reference answers), or a path"
    )
    lora: bool = True
    qlora: bool = False
    config: dict[str, Any] = Field(default_factory=dict, description="training preset name and overrides")


class EvalSpec(EvalFields):
    kind: EvalKind


class ReportSpec(_Strict):
    baseline: str | None = Field(None, description="model name the deltas are taken against")
    formats: list[Literal["html", "md"]] = Field(default_factory=lambda: ["html", "md"])


class Experiment(_Strict):
    name: str
    description: str = ""
    data: DataSpec = Field(default_factory=DataSpec)
    models: dict[str, str] = Field(default_factory=lambda: {"base": "embedded"})
    judge: str = "embedded"
    generation: dict[str, Any] = Field(default_factory=dict, description="decoding overrides for every model")
    train: list[TrainSpec] = Field(default_factory=list)
    evaluations: list[EvalSpec] = Field(default_factory=list)
    report: ReportSpec = Field(default_factory=ReportSpec)
    stages: list[AnyStage] = Field(
        default_factory=list, description="stages of any kind, ordered by what they read (stage_specs)"
    )

    @field_validator("judge")
    @classmethod
    def _judge(cls, v: str) -> str:
        return check_spec(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return plain_name(v, "name")

    @field_validator("generation")
    @classmethod
    def _generation(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_generation(v)

    @field_validator("stages", mode="before")
    @classmethod
    def _stages(cls, v: Any) -> list[Any]:
        return parse_stages(v)

    @model_validator(mode="after")
    def _names(self) -> Experiment:
        from culturalign.pipeline.graph import plan

        for name, spec in self.models.items():
            try:
                plain_name(name, "model name")
                check_spec(spec)
            except ValueError as exc:
                raise LocatedValueError(("models", name), str(exc)) from None
        names = set(self.models)
        for i, t in enumerate(self.train):
            try:
                plain_name(t.name, "train name")
            except ValueError as exc:
                raise LocatedValueError(("train", i, "name"), str(exc)) from None
            if t.name in names:
                raise LocatedValueError(("train", i, "name"), f"train entry {t.name!r} reuses a model name")
            trained = (
                names | {s.name for s in self.stages if s.kind == "train"} | {x.name for x in self.train}
            )
            if t.base not in trained - {t.name}:
                raise LocatedValueError(
                    ("train", i, "base"),
                    f"train entry {t.name!r}: base {t.base!r} is not in models ({sorted(self.models)}) "
                    "or a train stage",
                )
            if t.data == "pairs" and not self.data.preferences:
                raise LocatedValueError(
                    ("train", i, "data"),
                    f"train entry {t.name!r} trains on 'pairs' but data.preferences is not set",
                )
            names.add(t.name)
        plan(self)  # unknown references, unknown models and cycles are located errors now
        return self

    @property
    def model_names(self) -> list[str]:
        """The given models, then every trained one (old ``train:`` entries, then train stages)."""
        from culturalign.pipeline.graph import model_names

        return model_names(self)


def resolve_path(value: str, base_dir: Path) -> Path:
    """``sample:NAME`` → the packaged sample file; relative paths → next to the experiment."""
    if value.startswith("sample:"):
        p = package_data("data", "sample", value.split(":", 1)[1])
        if not p.exists():
            raise ConfigError(f"no sample data named {value!r} (looked in {p.parent})")
        return p
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def load_experiment(path: str | Path) -> Experiment:
    return load_yaml_model(path, Experiment)
