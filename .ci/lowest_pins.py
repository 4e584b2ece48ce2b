"""Print pip constraints that pin every core dependency to the lowest version pyproject.toml
allows (``>=X``, ``~=X`` and ``==X`` give ``==X``), for ``.ci/lean.sh DIR --lowest``: the
lower bounds we state are then installed and tested, not only claimed."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lowest_pins(requirements: list[str]) -> list[str]:
    pins = []
    for req in requirements:
        name = re.split(r"[\s<>=~!\[;]", req, maxsplit=1)[0]
        found = re.search(r"(?:>=|~=|==)\s*([0-9][^,;\s]*)", req)
        if found:
            pins.append(f"{name}=={found.group(1).rstrip('.*')}")
    return pins


if __name__ == "__main__":
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    sys.stdout.write("".join(pin + "\n" for pin in lowest_pins(project["dependencies"])))
