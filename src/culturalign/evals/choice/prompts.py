"""Prompts for the choice benchmarks, rendered from template files under
``prompts/templates/choice/`` (a user folder can replace any of them).

Options are listed with letters, ``(A) ...``; the model's answer is read as the
probability of each letter right after a forced answer prefix (``Answer: (``), which is
the shape of paper 003's listing 1. With ``chat=True`` the text is one user message and
the prefix starts the assistant turn; with ``chat=False`` it is a raw string, as
base-model evaluation and lm-evaluation-harness use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.lm.base import Prompt
from culturalign.prompts import Template, load_prompt, template_folder
from culturalign.records.generation import ChatMessage

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# language codes → names, for asking a model to answer in a region's language (BLEnD)
LANGUAGE_NAMES = {
    "am": "Amharic",
    "ar": "Arabic",
    "as": "Assamese",
    "az": "Azerbaijani",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "ha": "Hausa",
    "id": "Indonesian",
    "ja": "Japanese",
    "ko": "Korean",
    "su": "Sundanese",
    "zh": "Chinese",
}

# how a persona prompt names a culture ("someone who lives in the United States")
CULTURE_PHRASES = {"United States": "the United States", "United Kingdom": "the United Kingdom"}


def letters_for(n: int) -> list[str]:
    if n > len(LETTERS):
        raise ConfigError(f"{n} options is more than the {len(LETTERS)} letters available")
    return list(LETTERS[:n])


def option_block(options: Sequence[str], letters: Sequence[str] | None = None) -> str:
    letters = letters or letters_for(len(options))
    return "\n".join(f"({letter}) {text}" for letter, text in zip(letters, options, strict=True))


def culture_phrase(culture: str) -> str:
    return CULTURE_PHRASES.get(culture, culture)


@dataclass
class ChoicePrompts:
    """The templates one evaluation uses, loaded once; ``shas`` goes into ``run.json``."""

    template_dir: str | Path | None = None
    chat: bool = True
    _cache: dict[str, Template] = field(default_factory=dict)

    def __post_init__(self) -> None:
        template_folder(self.template_dir)  # a mistyped folder fails before any work

    def template(self, name: str) -> Template:
        if name not in self._cache:
            self._cache[name] = load_prompt(f"choice/{name}", override=self._override(name))
        return self._cache[name]

    def _override(self, name: str) -> Path | None:
        folder = template_folder(self.template_dir)
        if folder is None:
            return None
        for candidate in (folder / "choice" / f"{name}.txt", folder / f"{name}.txt"):
            if candidate.is_file():
                return candidate
        return None

    def text(self, name: str, **values: object) -> str:
        return self.template(name).render(**values).rstrip("\n")

    def prefix(self, name: str = "letter_prefix") -> str:
        """An answer prefix: the template's text without a trailing newline."""
        return self.template(name).text.rstrip("\n")

    def prompt(self, name: str, raw_suffix: str = "\n\n", **values: object) -> Prompt:
        """A chat prompt (one user message), or the raw text plus ``raw_suffix`` (the
        separator before a forced answer prefix; "" when continuations follow directly)."""
        text = self.text(name, **values)
        if self.chat:
            return (ChatMessage(role="user", content=text),)
        return text + raw_suffix

    @property
    def shas(self) -> dict[str, str]:
        return {f"choice/{name}": t.sha for name, t in sorted(self._cache.items())}
