"""The judge tests reuse the scripted judge backend of the CARE tests
(``tests/evals/_care_scripted.py``): a real ``LM`` with the real SQLite call cache
around a backend whose replies a test writes."""

from __future__ import annotations

import sys
from pathlib import Path

_EVALS = str(Path(__file__).resolve().parents[1] / "evals")
if _EVALS not in sys.path:
    sys.path.insert(0, _EVALS)
