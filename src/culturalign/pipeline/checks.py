"""Checks shared by the experiment file and its stage entries (kept apart from both so
neither imports the other): model specs, plain names, decoding overrides, eval kinds."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from culturalign.errors import ConfigError
from culturalign.yamlconf import LocatedValueError

# the evaluations an experiment can run; each has one entry in ``evals_dispatch.EVALS``
EvalKind = Literal[
    "care",
    "care-choice",
    "opinions",
    "culturalbench",
    "cali",
    "blend",
    "mcq",
    "grounded",
    "culturebank-quality",
    "prism",
]
# evaluations that read the experiment's CARE questions when they name no data
QUESTION_EVALS = ("care", "care-choice", "grounded")


def check_spec(value: str) -> str:
    """A model spec's grammar, checked when the file loads (not when a stage first needs it)."""
    from culturalign.lm.registry import parse_spec

    try:
        parse_spec(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return value


def plain_name(value: str, what: str) -> str:
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


def check_generation(value: dict[str, Any]) -> dict[str, Any]:
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
