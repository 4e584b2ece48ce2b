"""The cultural framework: the topics questions are synthesized for (paper 002 §3.2,
appendix A.1).

The built-in framework has 38 topics in four levels of decreasing abstraction:
cultural values (Schwartz's ten basic values and Hofstede's six dimensions), social
norms, behavioral practices and specific customs. Higher levels underlie many
domains of behaviour, lower ones capture behaviour directly, so covering all four
gives both breadth and concrete detail. Users pass their own YAML (or JSON) file of
the same shape.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from culturalign.errors import DataError, Problem, Problems
from culturalign.io import TOO_DEEP, deep_nesting_line, read_text_utf8
from culturalign.paths import package_data
from culturalign.yamlconf import load_yaml_text

BUILTIN = package_data("synth", "framework.yaml")


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    description: str
    level: str
    level_name: str
    theory: str | None = None


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = "1"
    levels: list[tuple[str, str]] = Field(description="(level id, level name) in order")
    topics: list[Topic]
    source: str = "culturalign:caredio-38"

    def select(self, ids: list[str] | None = None, levels: list[str] | None = None) -> Framework:
        """A framework narrowed to some topics or levels (unknown names are an error)."""
        known = {t.id for t in self.topics}
        bad = [i for i in ids or [] if i not in known]
        bad += [lv for lv in levels or [] if lv not in {lid for lid, _ in self.levels}]
        if bad:
            from culturalign.errors import ConfigError

            raise ConfigError(
                f"unknown topic or level {', '.join(map(repr, bad))} in framework {self.name!r}; "
                f"levels: {', '.join(lid for lid, _ in self.levels)}"
            )
        topics = [t for t in self.topics if (not ids or t.id in ids) and (not levels or t.level in levels)]
        return self.model_copy(update={"topics": topics})


def load_framework(path: str | Path | None = None) -> Framework:
    """The built-in framework, or a user's YAML/JSON file, validated with located errors."""
    src = Path(path) if path is not None else BUILTIN
    if not src.is_file():
        raise DataError([Problem(str(src), None, None, "no such framework file")])
    text = read_text_utf8(src)
    problems = Problems(src)
    if src.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.add(exc.lineno, None, f"cannot parse: {exc.msg} (column {exc.colno})")
        except RecursionError:
            problems.add(deep_nesting_line(text), None, f"cannot parse: {TOO_DEEP}")
        problems.raise_if_any()
    else:
        # the strict loader: bounded aliases, no duplicate keys, no control characters
        try:
            _, doc = load_yaml_text(text, src)
        except DataError as exc:
            for p in exc.problems:
                problems.add(p.where, p.field, f"cannot parse: {p.message}")
            problems.raise_if_any()
    return _parse(doc, problems, "culturalign:caredio-38" if path is None else str(src))


def _parse(doc: object, problems: Problems, source: str) -> Framework:
    if not isinstance(doc, dict) or not isinstance(doc.get("levels"), list) or not doc["levels"]:
        problems.add(None, "levels", "expected a mapping with a non-empty list 'levels'")
        problems.raise_if_any()
    assert isinstance(doc, dict)
    levels: list[tuple[str, str]] = []
    topics: list[Topic] = []
    seen: dict[str, str] = {}
    for li, level in enumerate(doc["levels"]):
        where = f"levels[{li}]"
        if not isinstance(level, dict):
            problems.add(None, where, "expected a mapping with id, name and topics")
            continue
        lid = str(level.get("id") or "").strip()
        lname = str(level.get("name") or lid).strip()
        if not lid:
            problems.add(None, f"{where}.id", "required field is missing")
        entries = level.get("topics")
        if not isinstance(entries, list) or not entries:
            problems.add(None, f"{where}.topics", "expected a non-empty list of topics")
            continue
        levels.append((lid, lname))
        for ti, entry in enumerate(entries):
            twhere = f"{where}.topics[{ti}]"
            if not isinstance(entry, dict):
                problems.add(None, twhere, "expected a mapping with id, name and description")
                continue
            unknown = set(entry) - {"id", "name", "description", "theory"}
            for key in sorted(unknown):
                problems.add(None, f"{twhere}.{key}", "unexpected field")
            for key in ("id", "name", "description"):
                if not str(entry.get(key) or "").strip():
                    problems.add(None, f"{twhere}.{key}", "required field is missing or empty")
            tid = str(entry.get("id") or "").strip()
            if tid in seen:
                problems.add(None, f"{twhere}.id", f"duplicate topic id {tid!r} (also at {seen[tid]})")
            elif tid:
                seen[tid] = twhere
            if unknown or not all(str(entry.get(k) or "").strip() for k in ("id", "name", "description")):
                continue
            topics.append(
                Topic(
                    id=tid,
                    name=str(entry["name"]).strip(),
                    description=str(entry["description"]).strip(),
                    level=lid,
                    level_name=lname,
                    theory=(str(entry["theory"]).strip() if entry.get("theory") else None),
                )
            )
    problems.raise_if_any()
    return Framework(
        name=str(doc.get("name") or Path(source).stem),
        version=str(doc.get("version", "1")),
        levels=levels,
        topics=topics,
        source=source,
    )
