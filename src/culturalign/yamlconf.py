"""YAML files validated by pydantic, with errors located at the offending line.

``load_yaml_model(path, Model)`` reports every problem as ``PATH:LINE: field: message``
(exit 2 through the CLI) by walking YAML's node tree to the line of each failing key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from culturalign.errors import DataError, Problem, Problems
from culturalign.io import describe_validation_error, read_text_utf8

M = TypeVar("M", bound=BaseModel)


class LocatedValueError(ValueError):
    """Raised by cross-field validators to point at the field that is wrong, e.g.
    ``("train", 0, "base")``, rather than at the whole document."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest node on ``loc`` that exists in the YAML tree."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if nxt is None:
                break
            key_node = next(k for k, v in node.value if v is nxt)
            line = key_node.start_mark.line + 1
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_yaml_model(path: str | Path, model: type[M]) -> M:
    path = Path(path)
    if not path.exists():
        raise DataError([Problem(str(path), None, None, "no such file")])
    text = read_text_utf8(path)
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise DataError(
            [Problem(str(path), line, None, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
        ) from None
    if data is None:
        raise DataError([Problem(str(path), None, None, "the file is empty")])
    if not isinstance(data, dict):
        raise DataError([Problem(str(path), 1, None, "expected a mapping of settings at the top level")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = Problems(path)
        for err in exc.errors():
            loc = tuple(err["loc"])
            field, msg = describe_validation_error(err)
            original = (err.get("ctx") or {}).get("error")
            if isinstance(original, LocatedValueError):
                loc = loc + tuple(original.loc)
                field = ".".join(str(p) for p in loc) or None
            problems.add(_line_of(root, loc), field, msg)
        raise DataError(problems.items) from None
