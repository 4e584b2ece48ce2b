"""Prompt templates as package data files, each with a content hash for run logs.

``load_prompt("modes/cot")`` reads ``templates/modes/cot.txt``. A user's own file or
folder can replace any template (``load_prompt(name, override=PATH)``). Templates use
``str.format`` placeholders; ``Template.render`` names any that are missing.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

from culturalign.errors import ConfigError
from culturalign.paths import package_data

TEMPLATE_DIR = package_data("prompts", "templates")


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    source: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    @property
    def fields(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.text) if f}

    def render(self, **values: object) -> str:
        missing = self.fields - values.keys()
        if missing:
            raise ConfigError(f"template {self.source} needs {sorted(missing)}")
        return self.text.format(**values)


def template_folder(path: str | Path | None) -> Path | None:
    """A user's ``--templates`` folder, checked: a mistyped path must not quietly fall
    back to the built-in templates (the run would look fine and be the wrong one)."""
    if path is None:
        return None
    folder = Path(path)
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "no such folder"
        raise ConfigError(f"{folder}: --templates needs a folder of template files ({what})")
    return folder


def load_prompt(name: str, override: str | Path | None = None) -> Template:
    """Load a template by name; ``override`` may be a file, or a folder holding ``name``."""
    if override is not None:
        p = Path(override)
        if p.is_dir():
            p = next(
                (c for c in (p / f"{name}.txt", p / f"{Path(name).name}.txt") if c.exists()),
                p / f"{name}.txt",
            )
        if not p.exists():
            raise ConfigError(f"template file not found: {p}")
        return Template(name, p.read_text(encoding="utf-8"), str(p))
    path = TEMPLATE_DIR / f"{name}.txt"
    if not path.exists():
        raise ConfigError(f"no built-in template {name!r} (looked for {path})")
    return Template(name, path.read_text(encoding="utf-8"), f"culturalign:{name}")
