"""YAML files validated by pydantic, with errors located at the offending line.

``load_yaml_model(path, Model)`` reports every problem as ``PATH:LINE: field: message``
(exit 2 through the CLI) by walking YAML's node tree to the line of each failing key.

The loader is stricter than ``yaml.safe_load`` in three ways, each because a tiny file
could otherwise do damage later, far from the file: aliases may add at most
``MAX_ALIAS_NODES`` nodes in all (a "billion laughs" file of a few hundred bytes expands
to gigabytes once a stage fingerprints its settings), an alias may not refer to the
collection that contains it (a cycle no later code can serialise), and a key written
twice in one mapping is an error naming both lines (YAML would silently keep the last).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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


MAX_ALIAS_NODES = 10_000


class _YamlRefused(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that counts what aliases expand to, refuses cycles and duplicate keys."""

    def __init__(self, text: str):
        super().__init__(text)
        self._expanded = 0
        self._sizes: dict[int, int] = {}
        self._open: list[str] = []  # anchors of collections still being composed

    def _size(self, node: yaml.Node) -> int:
        """Nodes ``node`` stands for once every alias inside it is expanded (memoised,
        so a deep chain of aliases costs its length, not its expansion)."""
        key = id(node)
        if key not in self._sizes:
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total = 1 + sum(self._size(v) for v in node.value)
            else:
                total = 1
            self._sizes[key] = total
        return self._sizes[key]

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            line = event.start_mark.line + 1
            if event.anchor in self._open:
                raise _YamlRefused(
                    line, f"alias *{event.anchor} refers to the collection that contains it (a cycle)"
                )
            target = self.anchors.get(event.anchor)
            if target is not None:
                self._expanded += self._size(target)
                if self._expanded > MAX_ALIAS_NODES:
                    raise _YamlRefused(
                        line,
                        f"aliases expand to more than {MAX_ALIAS_NODES:,} values (at *{event.anchor}); "
                        "write the settings out instead of nesting aliases",
                    )
            return super().compose_node(parent, index)
        anchor = self.peek_event().anchor
        self._open.append(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open.pop()
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node)
        return node


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            raise _YamlRefused(line, f"key {key.value!r} appears twice (first on line {seen[key.value]})")
        seen[key.value] = line


def load_yaml_text(text: str, path: str | Path) -> tuple[yaml.Node | None, Any]:
    """(node tree, plain data) of one YAML document, or a located ``DataError``."""
    try:
        loader = _StrictLoader(text)  # the reader refuses control characters right here
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise DataError(
            [Problem(str(path), line, None, f"invalid YAML: {exc.reason} (character U+{code:04X})")]
        ) from None
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except _YamlRefused as exc:
        raise DataError([Problem(str(path), exc.line, None, exc.message)]) from None
    except RecursionError:
        raise DataError([Problem(str(path), None, None, "invalid YAML: nested too deeply to read")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise DataError(
            [Problem(str(path), line, None, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
        ) from None
    finally:
        loader.dispose()
    return root, data


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


def load_yaml_model(path: str | Path, model: type[M], transform: Callable[[dict], dict] | None = None) -> M:
    """Validate a YAML file as ``model``; errors are located at their line. ``transform``
    edits the plain data first (command-line overrides); its errors are the caller's."""
    path = Path(path)
    if not path.exists():
        raise DataError([Problem(str(path), None, None, "no such file")])
    text = read_text_utf8(path)
    root, data = load_yaml_text(text, path)
    if data is None:
        raise DataError([Problem(str(path), None, None, "the file is empty")])
    if not isinstance(data, dict):
        raise DataError([Problem(str(path), 1, None, "expected a mapping of settings at the top level")])
    if transform is not None:
        data = transform(data)
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
