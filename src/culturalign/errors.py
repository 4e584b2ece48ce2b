"""User-facing errors: located, complete, and never a traceback.

Bad input is reported as ``PATH:LINE: field: what is wrong`` lines (an item index
replaces the line for JSON lists) and the command exits with status 2. Code that
finds problems collects *all* of them in a ``Problems`` list before raising, so a
user fixes a file in one pass.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Problem:
    path: str
    where: str | int | None  # a line number, or "item 3", or None for the whole file
    field: str | None
    message: str

    def __str__(self) -> str:
        loc = self.path if self.where is None else f"{self.path}:{self.where}"
        return f"{loc}: {self.field}: {self.message}" if self.field else f"{loc}: {self.message}"


class CulturalignError(Exception):
    """An error the user can fix; the CLI prints it plainly and exits 2."""

    exit_code = EXIT_BAD_INPUT

    def lines(self) -> list[str]:
        return [str(self)]


class DataError(CulturalignError):
    """One or more located problems in an input file."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ConfigError(CulturalignError):
    """A bad option, spec or configuration value."""


class MissingDependency(CulturalignError):
    """An optional package is needed for what was asked; says what to install."""

    def __init__(self, package: str, extra: str | None = None, why: str = ""):
        # single quotes: the brackets must reach pip unglobbed in zsh and bash alike
        hint = f"pip install 'culturalign[{extra}]'" if extra else f"pip install {package}"
        several = ", " in package  # a comma-separated list of packages
        verb, them = ("are", "them") if several else ("is", "it")
        super().__init__(f"{package} {verb} needed{(' ' + why) if why else ''}; install {them} with: {hint}")


_PATH_REASONS = {
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "not a folder, or inside a file",
    errno.EISDIR: "is a folder; a file was expected here",
    errno.EEXIST: "exists and is not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.ENAMETOOLONG: "file name too long",
}


def path_error(exc: OSError) -> CulturalignError | None:
    """A file-system error on a path the user gave (an output inside a file, a folder
    where a file belongs, no permission) as a plain ``PATH: what is wrong`` error;
    None when the error names no path, so unexpected failures still show in full."""
    if exc.filename is None:
        return None
    path = exc.filename2 if exc.errno == errno.EISDIR and exc.filename2 else exc.filename
    reason = _PATH_REASONS.get(exc.errno or -1) or (exc.strerror or type(exc).__name__).lower()
    return CulturalignError(f"{path}: {reason}")


@dataclass
class Problems:
    """Collects located problems for one file."""

    path: str | Path
    items: list[Problem] = field(default_factory=list)

    def add(self, where: str | int | None, field_: str | None, message: str) -> None:
        self.items.append(Problem(str(self.path), where, field_, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise DataError(self.items)
