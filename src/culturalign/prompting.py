"""Prompting modes (paper 000 §4.1 baselines and appendix B): vanilla, chain-of-thought,
role-play as a native of a named culture, and a system-prompt override.

A mode is a template file under ``prompts/templates/modes/`` with ``### system`` and
``### user`` sections; placeholders are ``{question}`` and ``{culture}``. Users pass
their own folder of mode files with ``--templates DIR``.
"""

from __future__ import annotations

import re
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.prompts import Template, load_prompt, template_folder
from culturalign.records.generation import ChatMessage

MODES = ("vanilla", "cot", "roleplay")
_SECTION = re.compile(r"^###\s*(system|user)\s*$", re.MULTILINE)


def load_mode(mode: str, template_dir: str | Path | None = None) -> Template:
    if template_dir is None and mode not in MODES:
        raise ConfigError(f"unknown prompting mode {mode!r}; choose one of {', '.join(MODES)}")
    return load_prompt(f"modes/{mode}", override=template_folder(template_dir))


def split_sections(template: Template) -> dict[str, str]:
    """{'system': ..., 'user': ...} from a mode template (a file with no headers is all user)."""
    text = template.text
    parts = _SECTION.split(text)
    if len(parts) == 1:
        return {"user": text.strip("\n")}
    out: dict[str, str] = {}
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        out[role] = body.strip("\n")
    if "user" not in out:
        raise ConfigError(f"mode template {template.source} has no '### user' section")
    return out


def build_messages(
    question: str,
    *,
    mode: str = "vanilla",
    culture: str | None = None,
    system_prompt: str | None = None,
    template_dir: str | Path | None = None,
    template: Template | None = None,
) -> list[ChatMessage]:
    """The chat messages for one question under one prompting mode.

    ``system_prompt`` replaces whatever system text the mode has (or adds one);
    ``template`` (from ``load_mode``) saves re-reading the mode file for every question.
    """
    template = template or load_mode(mode, template_dir)
    sections = split_sections(template)
    values = {"question": question, "culture": culture or "the relevant"}
    msgs: list[ChatMessage] = []
    system = system_prompt if system_prompt is not None else sections.get("system")
    if system:
        msgs.append(ChatMessage(role="system", content=system.format(**values)))
    msgs.append(ChatMessage(role="user", content=sections["user"].format(**values)))
    return msgs
