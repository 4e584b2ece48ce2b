"""Training settings as one typed config, with the papers' values as named presets.

``care-paper`` holds what CARE reports for its alignment runs (paper 000 §4.1 and
appendix B: DPO beta 0.1, learning rate tuned in {1e-7, 5e-7, 9e-7}, 3 epochs, 5
warm-up steps, a linear schedule, batch 128, full fine-tuning). ``culturebank-sft``
holds the CultureBank project's SFT run (paper 003 §4.2 and §5.3: LoRA r=8, alpha 16,
dropout 0.05 on the q and v projections of a 4-bit nf4 model, learning rate 1e-4, a
cosine schedule, paged AdamW). Those learning rates are for 7B models and batch 128;
the ``cpu-demo`` and ``tiny-test`` presets use rates a 135M model with LoRA, or a
random 100k-parameter model, can actually learn from in a few dozen steps.

A YAML file names a preset (``preset: cpu-demo``) and overrides any field; bad keys
and values are reported as ``FILE:LINE: field: what is wrong``. The resolved config
is saved next to the trained model.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from culturalign.errors import ConfigError, DataError, Problems

METHODS = ("sft", "dpo", "kto", "simpo")
CARE_LEARNING_RATES = (1e-7, 5e-7, 9e-7)  # the grid CARE tunes over (paper 000 appendix B)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LoraSettings(_Strict):
    """Low-rank adapters (paper 003 §5.3: r=8, alpha 16, dropout 0.05 on q and v)."""

    enabled: bool = False
    r: int = Field(default=8, ge=1)
    alpha: int = Field(default=16, ge=1)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj"])


class QLoraSettings(_Strict):
    """4-bit base weights under the adapters (paper 003 §5.3: nf4). Needs CUDA + bitsandbytes."""

    enabled: bool = False
    quant_type: Literal["nf4", "fp4"] = "nf4"
    double_quant: bool = True
    compute_dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"


class DPOSettings(_Strict):
    beta: float = Field(default=0.1, gt=0)  # paper 000 appendix B
    loss_type: str = "sigmoid"
    precompute_ref_log_probs: bool = False


class KTOSettings(_Strict):
    beta: float = Field(default=0.1, gt=0)
    desirable_weight: float = Field(default=1.0, gt=0)
    undesirable_weight: float = Field(default=1.0, gt=0)
    precompute_ref_log_probs: bool = False


class SimPOSettings(_Strict):
    """SimPO as a loss of TRL's CPO trainer; reference-free, length-normalised.

    beta 2.0 and a margin gamma of 1.0 sit in the range the SimPO authors recommend
    (gamma/beta about 0.5); CARE does not state its values.
    """

    beta: float = Field(default=2.0, gt=0)
    gamma: float = Field(default=1.0, ge=0)


class SFTSettings(_Strict):
    """Supervised fine-tuning on reference answers ("SFT w/ CARE", paper 000 Table 3)."""

    completion_only_loss: bool = True
    prompt_mode: Literal["vanilla", "cot", "roleplay"] = "vanilla"
    lang: str = Field(default="native", description="'native' or 'en' (use the English translations)")


class HeldoutSettings(_Strict):
    """Pairs kept out of training to measure the chosen-vs-rejected log-prob gap."""

    measure: bool = True
    fraction: float = Field(default=0.1, ge=0, lt=1)
    min_pairs: int = Field(default=2, ge=0)
    max_pairs: int = Field(default=200, ge=0)
    file: Path | None = None


class TrainConfig(_Strict):
    preset: str = "care-paper"
    seed: int = 42
    # optimisation (paper 000 appendix B)
    learning_rate: float = Field(default=5e-7, gt=0)
    epochs: float = Field(default=3.0, gt=0)
    max_steps: int = Field(default=-1, description="> 0 stops after this many optimizer steps")
    warmup_steps: int = Field(default=5, ge=0)
    lr_scheduler: str = "linear"
    optimizer: str = "adamw_torch"
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    effective_batch_size: int = Field(default=128, ge=1)
    per_device_batch_size: int = Field(default=4, ge=1)
    gradient_accumulation_steps: int | None = Field(
        default=None, ge=1, description="None: effective_batch_size / (per-device batch x processes)"
    )
    gradient_checkpointing: bool | None = Field(
        default=None, description="None: on when training on a GPU (TRL's default), off on a CPU"
    )
    bf16: bool | None = Field(default=None, description="None: on when a CUDA device supports it")
    max_length: int = Field(default=2048, ge=16)  # CARE's max_model_len
    max_examples: int | None = Field(
        default=None,
        ge=1,
        description="keep a seeded random sample of this many training items (CARE §4.1 samples the "
        "general-preference sets down to the size of its own training set)",
    )
    # algorithms
    dpo: DPOSettings = Field(default_factory=DPOSettings)
    kto: KTOSettings = Field(default_factory=KTOSettings)
    simpo: SimPOSettings = Field(default_factory=SimPOSettings)
    sft: SFTSettings = Field(default_factory=SFTSettings)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    qlora: QLoraSettings = Field(default_factory=QLoraSettings)
    heldout: HeldoutSettings = Field(default_factory=HeldoutSettings)
    # bookkeeping
    logging_steps: int = Field(default=1, ge=1)
    save_steps: int = Field(default=50, ge=1)
    save_total_limit: int = Field(default=2, ge=1)
    keep_checkpoints: bool = False
    merge_adapter: bool = False
    trl: dict[str, Any] = Field(default_factory=dict, description="extra fields passed to TRL's config")

    _where: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _qlora_implies_lora(self) -> TrainConfig:
        if self.qlora.enabled and not self.lora.enabled:
            self.lora.enabled = True
        return self

    def where(self, key: str) -> str:
        """``FILE:LINE`` of a key when the config came from YAML (for located errors)."""
        return self._where.get(key, "config")

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


_CPU_DEMO: dict[str, Any] = {
    "learning_rate": 5e-4,
    "epochs": 3,
    "warmup_steps": 2,
    "effective_batch_size": 8,
    "per_device_batch_size": 2,
    "max_length": 512,
    "save_steps": 10,
    "lora": {"enabled": True},
    "heldout": {"fraction": 0.1, "min_pairs": 8},
}

PRESETS: dict[str, dict[str, Any]] = {
    "care-paper": {},
    "culturebank-sft": {
        "learning_rate": 1e-4,
        "lr_scheduler": "cosine",
        "optimizer": "paged_adamw_32bit",
        "epochs": 8,
        "effective_batch_size": 16,  # not stated in paper 003
        "lora": {"enabled": True},
        "qlora": {"enabled": True},
    },
    "cpu-demo": _CPU_DEMO,
    "tiny-test": {
        "learning_rate": 5e-3,
        "epochs": 2,
        "warmup_steps": 0,
        "effective_batch_size": 4,
        "per_device_batch_size": 2,
        "max_length": 256,
        "save_steps": 5,
        "heldout": {"fraction": 0.2, "min_pairs": 4},
        "simpo": {"beta": 2.0, "gamma": 0.5},
    },
}

PRESET_HELP = {
    "care-paper": "CARE appendix B: full fine-tuning, lr 5e-7 (grid 1e-7/5e-7/9e-7), 3 epochs, batch 128",
    "culturebank-sft": "paper 003 §5.3: QLoRA nf4, LoRA r8/a16/d0.05 on q,v, lr 1e-4 cosine, paged AdamW, 8 epochs",
    "cpu-demo": "LoRA on the embedded 135M model on a laptop CPU: lr 5e-4, batch 8, 3 epochs",
    "tiny-test": "the random test model: lr 5e-3, batch 4, 2 epochs",
}


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "trl":
            out[key] = deep_merge(out[key], value)
        elif key == "trl" and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown training preset {name!r}{hint} (presets: {', '.join(PRESETS)})")
    return {"preset": name, **copy.deepcopy(PRESETS[name])}


def _yaml_lines(root: Any) -> dict[str, int]:
    """Line number of every mapping key, by dotted path (``lora.r`` -> 12)."""
    import yaml

    lines: dict[str, int] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = f"{prefix}{k.value}"
                lines[key] = k.start_mark.line + 1
                walk(v, key + ".")

    walk(root, "")
    return lines


def read_yaml_mapping(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """A YAML file's top-level mapping plus each key's line; a located error otherwise.

    Read through the strict loader (``culturalign.yamlconf``), so a key written twice is an
    error instead of the last one silently winning, and aliases cannot blow up in size."""
    from culturalign.io import read_text_utf8
    from culturalign.yamlconf import load_yaml_text

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    root, data = load_yaml_text(read_text_utf8(path), path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    return data, _yaml_lines(root)


def _known_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_known_keys(ann, prefix + name + "."))
    return out


def validate_config(
    data: dict[str, Any], *, source: str | Path = "config", lines: dict[str, int] | None = None
) -> TrainConfig:
    """Build a TrainConfig from a merged mapping, every problem located in ``source``."""
    lines = lines or {}
    try:
        cfg = TrainConfig.model_validate(data)
    except ValidationError as exc:
        problems = Problems(source)
        known = _known_keys(TrainConfig)
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                msg = "unknown setting" + (f"; did you mean {close[0]!r}?" if close else "")
            problems.add(lines.get(key), key, msg)
        raise DataError(problems.items) from None
    cfg._where = {k: f"{source}:{n}" for k, n in lines.items()}
    return cfg


def parse_set(assignments: list[str]) -> dict[str, Any]:
    """``--set lora.r=16 --set learning_rate=1e-4`` -> nested overrides (values parsed as YAML)."""
    import yaml

    out: dict[str, Any] = {}
    for item in assignments:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set {item!r}: write KEY=VALUE, e.g. --set learning_rate=1e-4")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def resolve_config(
    config: TrainConfig | dict[str, Any] | str | Path | None = None,
    *,
    preset_name: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Preset, then the YAML file or mapping, then ``overrides``; validated.

    ``config`` may be a ready TrainConfig, a mapping, a YAML path, or None. The preset is
    ``preset_name``, else the one the YAML/mapping names, else ``care-paper``.
    """
    overrides = dict(overrides or {})
    if "preset" in overrides:  # `--set preset=NAME` picks the preset
        preset_name = preset_name or overrides.pop("preset")
    if isinstance(config, TrainConfig):
        if preset_name and preset_name != config.preset:
            raise ConfigError(f"a ready TrainConfig cannot switch preset to {preset_name!r}")
        data = config.model_dump(mode="python")
        if overrides:
            data = deep_merge(data, overrides)
        cfg = validate_config(data)
        cfg._where = dict(config._where)
        return cfg
    lines: dict[str, int] = {}
    source: str | Path = "config"
    if config is None:
        user: dict[str, Any] = {}
    elif isinstance(config, dict):
        user = copy.deepcopy(config)
    else:
        source = Path(config)
        user, lines = read_yaml_mapping(source)
    name = preset_name or user.get("preset") or "care-paper"
    if not isinstance(name, str):
        raise ConfigError(f"{source}: preset: expected a preset name ({', '.join(PRESETS)})")
    data = deep_merge(preset(name), {k: v for k, v in user.items() if k != "preset"})
    data["preset"] = name
    if overrides:
        data = deep_merge(data, overrides)
    return validate_config(data, source=source, lines=lines)
