"""CAReDiO prompt templates (``prompts/templates/caredio/``) rendered into chat messages.

A template has ``### system`` and ``### user`` sections, like the prompting modes; a
user's folder of files with the same names replaces any of them (``--templates DIR``).
"""

from __future__ import annotations

from pathlib import Path

from culturalign.prompting import split_sections
from culturalign.prompts import Template, load_prompt, template_folder
from culturalign.records.generation import ChatMessage

NAMES = ("questions", "roleplay", "adapt", "respond_contrast", "incontext")


def load(name: str, template_dir: str | Path | None = None) -> Template:
    """``caredio/<name>``; a user folder may hold ``<name>.txt`` or ``caredio/<name>.txt``."""
    if (folder := template_folder(template_dir)) is not None:
        for cand in (folder / f"{name}.txt", folder / "caredio" / f"{name}.txt"):
            if cand.is_file():
                return load_prompt(f"caredio/{name}", override=cand)
    return load_prompt(f"caredio/{name}")


def render_chat(template: Template, **values: object) -> list[ChatMessage]:
    """System and user messages with ``values`` filled in (missing ones are named)."""
    template.render(**values)  # raises ConfigError naming any missing placeholder
    sections = split_sections(template)
    msgs = []
    if sections.get("system", "").strip():
        msgs.append(ChatMessage(role="system", content=sections["system"].format(**values).strip()))
    msgs.append(ChatMessage(role="user", content=sections["user"].format(**values).strip()))
    return msgs


def labelled_answers(answers: dict[str, str]) -> str:
    """Other cultures' answers as labelled blocks, in a stable order."""
    return "\n\n".join(f"[{culture}]\n{text.strip()}" for culture, text in answers.items())
