"""The experiment file: what data, which models, which recipes and evaluations.

An experiment holds only what differs from the defaults (nanoGPT's lesson). Paths may
be relative to the experiment file, or ``sample:NAME`` for the sample data shipped
inside the package. Model names map to specs; every ``train`` entry adds a model of
its own name, so evaluations can list ``[base, dpo]``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from culturalign.errors import ConfigError
from culturalign.paths import package_data
from culturalign.yamlconf import LocatedValueError, load_yaml_model

EvalKind = Literal["care", "care-choice", "opinions", "culturalbench", "cali", "blend", "mcq", "grounded"]
# evaluations that read the experiment's CARE questions when they name no data
QUESTION_EVALS = ("care", "care-choice", "grounded")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_spec(value: str) -> str:
    """A model spec's grammar, checked when the file loads (not when a stage first needs it)."""
    from culturalign.lm.registry import parse_spec

    try:
        parse_spec(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return value


def _plain_name(value: str, what: str) -> str:
    """Names become folders under ``runs/``; a separator, ``..`` or an absolute path would
    let a file write its report and stages anywhere on the machine."""
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    if "/" in value or "\\" in value or value in (".", "..") or Path(value).is_absolute():
        raise ValueError(
            f"{what} {value!r} must be a plain name (no '/', '\\' or '..'); it names a folder under runs/"
        )
    if value.startswith("~") or any(ord(c) < 32 for c in value):
        raise ValueError(f"{what} {value!r} must be a plain name without '~' or control characters")
    return value


def _check_generation(value: dict[str, Any]) -> dict[str, Any]:
    """Decoding overrides are kept as a dict (they are merged per stage), but checked
    against ``GenerationParams`` now, so a typo fails at load time and not mid-run."""
    from pydantic import ValidationError

    from culturalign.io import describe_validation_error
    from culturalign.records.generation import GenerationParams

    known = list(GenerationParams.model_fields)
    for key in value:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            raise LocatedValueError((key,), f"unknown field; {hint}")
    try:
        GenerationParams(**value)
    except ValidationError as exc:
        err = exc.errors()[0]
        _, msg = describe_validation_error(err)
        raise LocatedValueError(tuple(err["loc"])[:1], msg) from None
    return value


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


class EvalSpec(_Strict):
    kind: EvalKind
    data: str | None = Field(None, description="defaults to the experiment's test questions for `care`")
    data_format: str | None = None
    models: list[str] | None = Field(None, description="model names; default: all")
    modes: list[str] = Field(default_factory=lambda: ["vanilla"])
    langs: list[str] = Field(default_factory=lambda: ["native"])
    limit: int | None = Field(None, ge=1)
    limit_order: Literal["stratified", "file"] = "stratified"
    translate_with: str | None = Field(
        None, description="model spec translating questions without English text"
    )
    judge: str | None = None
    generation: dict[str, Any] = Field(default_factory=dict, description="decoding overrides for the model")
    judge_generation: dict[str, Any] = Field(
        default_factory=dict, description="decoding overrides for the judge"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="extra keyword arguments for the evaluation"
    )

    @field_validator("modes")
    @classmethod
    def _modes(cls, v: list[str]) -> list[str]:
        from culturalign.prompting import MODES

        bad = [m for m in v if m not in MODES]
        if bad:
            raise ValueError(f"unknown mode(s) {bad}; choose from {list(MODES)}")
        return v

    @field_validator("langs")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in ("native", "en")]
        if bad:
            raise ValueError(f"unknown language choice(s) {bad}; use 'native' or 'en'")
        return v

    @field_validator("judge")
    @classmethod
    def _judge(cls, v: str | None) -> str | None:
        return None if v is None else _check_spec(v)

    @field_validator("generation", "judge_generation")
    @classmethod
    def _generation(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_generation(v)


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

    @field_validator("judge")
    @classmethod
    def _judge(cls, v: str) -> str:
        return _check_spec(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _plain_name(v, "name")

    @field_validator("generation")
    @classmethod
    def _generation(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_generation(v)

    @model_validator(mode="after")
    def _names(self) -> Experiment:
        for name, spec in self.models.items():
            try:
                _plain_name(name, "model name")
                _check_spec(spec)
            except ValueError as exc:
                raise LocatedValueError(("models", name), str(exc)) from None
        names = set(self.models)
        for i, t in enumerate(self.train):
            try:
                _plain_name(t.name, "train name")
            except ValueError as exc:
                raise LocatedValueError(("train", i, "name"), str(exc)) from None
            if t.name in names:
                raise LocatedValueError(("train", i, "name"), f"train entry {t.name!r} reuses a model name")
            if t.base not in self.models:
                raise LocatedValueError(
                    ("train", i, "base"),
                    f"train entry {t.name!r}: base {t.base!r} is not in models ({sorted(self.models)})",
                )
            if t.data == "pairs" and not self.data.preferences:
                raise LocatedValueError(
                    ("train", i, "data"),
                    f"train entry {t.name!r} trains on 'pairs' but data.preferences is not set",
                )
            names.add(t.name)
        for i, e in enumerate(self.evaluations):
            for m in e.models or []:
                if m not in names:
                    raise LocatedValueError(
                        ("evaluations", i, "models"),
                        f"evaluation {e.kind!r} names unknown model {m!r}; known: {sorted(names)}",
                    )
            if e.kind in QUESTION_EVALS and not (e.data or self.data.questions):
                raise LocatedValueError(
                    ("evaluations", i), f"evaluation {e.kind!r} needs `data` (or data.questions)"
                )
            if e.kind not in QUESTION_EVALS and not e.data:
                raise LocatedValueError(("evaluations", i), f"evaluation {e.kind!r} needs `data`")
        if self.report.baseline and self.report.baseline not in names:
            raise LocatedValueError(
                ("report", "baseline"), f"report.baseline {self.report.baseline!r} is not a model name"
            )
        return self

    @property
    def model_names(self) -> list[str]:
        return [*self.models, *(t.name for t in self.train)]


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
