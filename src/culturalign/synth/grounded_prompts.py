"""Chat templates of the grounded pipeline (paper 003 §4.1, §5.2.1), as package files.

A template under ``prompts/templates/grounded/`` is a chat: ``### system``,
``### user`` and ``### assistant`` sections in order (an assistant section is a worked
example the model sees before the real request). Placeholders are ``str.format``
fields; values are filled into each section separately, so text inside a value can
never open a new section. ``--templates DIR`` replaces any file by name.
"""

from __future__ import annotations

import re
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.prompts import Template, load_prompt, template_folder
from culturalign.records.generation import ChatMessage

_SECTION = re.compile(r"^###\s*(system|user|assistant)\s*$", re.MULTILINE)

#: every template the grounded pipeline reads, by role
NAMES = (
    "question",
    "revise",
    "feedback_relevance",
    "feedback_indirectness",
    "check_relevance",
    "check_indirectness",
    "answer",
    "answer_augmented",
    "entailment",
)


def load(name: str, template_dir: str | Path | None = None) -> Template:
    """A grounded template; a user folder is searched first, by the bare file name."""
    if (folder := template_folder(template_dir)) is not None:
        for candidate in (folder / f"{name}.txt", folder / "grounded" / f"{name}.txt"):
            if candidate.exists():
                return load_prompt(f"grounded/{name}", override=candidate)
    return load_prompt(f"grounded/{name}")


def render_chat(template: Template, **values: object) -> list[ChatMessage]:
    """The messages of a chat template with its placeholders filled."""
    missing = template.fields - values.keys()
    if missing:
        raise ConfigError(f"template {template.source} needs {sorted(missing)}")
    parts = _SECTION.split(template.text)
    if len(parts) == 1:
        return [ChatMessage(role="user", content=template.text.strip("\n").format(**values))]
    if parts[0].strip():
        raise ConfigError(f"template {template.source} has text before its first '### role' line")
    messages = [
        ChatMessage(role=role, content=body.strip("\n").format(**values))  # type: ignore[arg-type]
        for role, body in zip(parts[1::2], parts[2::2], strict=True)
    ]
    if messages[-1].role != "user":
        raise ConfigError(f"template {template.source} must end with a '### user' section")
    return messages


def render_text(template: Template, **values: object) -> str:
    """A plain-text template (e.g. reviewer feedback), filled."""
    return template.render(**values).strip()


def prompt_hashes(template_dir: str | Path | None = None, names: tuple[str, ...] = NAMES) -> dict[str, str]:
    """Template name → content hash, for run logs."""
    out = {}
    for name in names:
        t = load(name, template_dir)
        out[f"grounded/{name}"] = t.sha
    return out
