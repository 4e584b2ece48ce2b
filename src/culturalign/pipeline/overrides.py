"""Shipped experiments by name, and ``--set path.to.field=value`` overrides.

A shipped experiment is a YAML file under ``culturalign/configs/experiments``; ``culturalign
run caredio`` runs it. An override walks the experiment's plain data before validation:
mapping keys by name, list items by index or, for lists of named entries (``stages``,
``train``), by their ``name``; the value is read as YAML (``3``, ``true``, ``[a, b]``,
``{k: v}``). A path that does not lead anywhere is a ``ConfigError`` naming the override
(exit 2); a value of the wrong type is then reported by validation like any other field.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.paths import package_data


def experiments_dir() -> Path:
    return package_data("configs", "experiments")


def shipped() -> dict[str, Path]:
    """Name → file of every experiment shipped with culturalign."""
    return {p.stem: p for p in sorted(experiments_dir().glob("*.yaml"))}


def describe_shipped() -> list[tuple[str, str]]:
    """(name, first line of its description) of each shipped experiment, for ``run --list``."""
    import yaml

    out = []
    for name, path in shipped().items():
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            doc = {}
        text = " ".join(str(doc.get("description", "")).split())
        out.append((name, text))
    return out


def find_experiment(value: str | Path) -> Path:
    """A path to an experiment file, or the name of a shipped one."""
    p = Path(value)
    if p.exists() or p.suffix in (".yaml", ".yml") or len(p.parts) > 1:
        return p
    known = shipped()
    if str(value) in known:
        return known[str(value)]
    raise ConfigError(
        f"{value}: no such experiment file, and no shipped experiment of that name "
        f"(shipped: {', '.join(known)}; see `culturalign run --list`)"
    )


def _parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text  # not YAML: take it as the string it is


def _step(node: Any, part: str, where: str) -> tuple[Any, Any]:
    """(container, key) of ``part`` inside ``node``; errors name the override."""
    if isinstance(node, dict):
        return node, part
    if isinstance(node, list):
        if part.lstrip("-").isdigit():
            i = int(part)
            if not -len(node) <= i < len(node):
                raise ConfigError(
                    f"--set {where}: index {i} is out of range (the list has {len(node)} items)"
                )
            return node, i
        named = [k for k, item in enumerate(node) if isinstance(item, dict) and item.get("name") == part]
        if not named:
            names = [str(item.get("name")) for item in node if isinstance(item, dict) and "name" in item]
            raise ConfigError(
                f"--set {where}: no entry named {part!r} (names: {', '.join(names) or 'none'}; or use an index)"
            )
        return node, named[0]
    raise ConfigError(f"--set {where}: {part!r} goes inside a value that is neither a mapping nor a list")


def _child_schema(schema: Any, key: Any, value: Any) -> Any:
    """The schema of ``value``, found at ``key`` inside an object of ``schema``.

    A schema is a pydantic class, ``("list", ITEM_SCHEMA)``, ``"stages"`` (a list whose
    items' class is named by their ``kind``) or None (free-form: nothing is checked).
    """
    import typing

    from pydantic import BaseModel

    from culturalign.pipeline.stage_specs import STAGE_CLASSES

    if schema == "stages":
        return STAGE_CLASSES.get(value.get("kind")) if isinstance(value, dict) else None
    if isinstance(schema, tuple):
        return schema[1]
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)) or key not in schema.model_fields:
        return None
    if key == "stages":
        return "stages"
    ann = schema.model_fields[key].annotation
    for arg in (ann, *typing.get_args(ann)):
        if typing.get_origin(arg) is list and typing.get_args(arg):
            item = typing.get_args(arg)[0]
            return ("list", item if isinstance(item, type) and issubclass(item, BaseModel) else None)
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _check_key(schema: Any, key: str, path: str) -> None:
    """A key set on a schema object must be one of its fields (a typo is caught here,
    where the message can name the override, not later at the file's line)."""
    import difflib

    from pydantic import BaseModel

    if isinstance(schema, type) and issubclass(schema, BaseModel) and key not in schema.model_fields:
        fields = list(schema.model_fields)
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(fields)}"
        raise ConfigError(f"--set {path}: no field {key!r} there; {hint}")


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of ``data`` with each ``path.to.field=value`` applied in order. A mapping
    missing on the way is created (``options.judge_retries`` on an entry without options);
    a missing list is not (give it whole: ``--set 'langs=[en]'``)."""
    from culturalign.pipeline.experiment import Experiment

    data = copy.deepcopy(data)
    for item in overrides:
        path, sep, text = item.partition("=")
        path = path.strip()
        parts = path.split(".")
        if not sep or not path or any(not p for p in parts):
            raise ConfigError(f"--set {item!r}: expected path.to.field=value (e.g. stages.adapt.limit=2)")
        node: Any = data
        schema: Any = Experiment
        for k, part in enumerate(parts):
            container, key = _step(node, part, path)
            if isinstance(container, dict):
                _check_key(schema, key, path)
            if k == len(parts) - 1:
                container[key] = _parse_value(text)
                break
            if isinstance(container, dict) and key not in container:
                below = _child_schema(schema, key, None)
                if below == "stages" or isinstance(below, tuple):
                    raise ConfigError(
                        f"--set {path}: {'.'.join(parts[: k + 1])} is not set; give the whole list"
                    )
                container[key] = {}
            node = container[key]
            schema = _child_schema(schema, key, node)
    return data


def load_with_overrides(value: str | Path, overrides: list[str]):
    """(experiment, its file, the effective YAML or None): ``value`` is a file or a shipped
    name; with overrides the effective YAML is what the run directory keeps."""
    import yaml

    from culturalign.pipeline.experiment import Experiment
    from culturalign.yamlconf import load_yaml_model

    path = find_experiment(value)
    if not overrides:
        return load_yaml_model(path, Experiment), path, None
    seen: dict[str, Any] = {}

    def transform(data: dict) -> dict:
        seen["data"] = apply_overrides(data, overrides)
        return seen["data"]

    exp = load_yaml_model(path, Experiment, transform=transform)
    header = f"# {path} with --set {' --set '.join(overrides)}\n"
    return exp, path, header + yaml.safe_dump(seen["data"], sort_keys=False, allow_unicode=True)
