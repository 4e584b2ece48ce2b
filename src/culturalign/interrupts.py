"""What an interrupted command leaves behind, said in one line when Ctrl-C stops it.

Every finished model call is in the call cache the moment it finishes, so a command run
again pays only for what is missing; the line tells the user how much that is. Counts
come from the ``CallStats`` of every language model still alive when the interrupt
arrives. The LM layer keeps no list of its models, so they are found through the garbage
collector (one walk of the heap, only when interrupted); long-running code can add its
own facts with ``note`` (the pipeline says which stages are already finished).
"""

from __future__ import annotations

import gc
import sys
from typing import Any

_notes: list[str] = []


def note(text: str) -> None:
    """Add a fact to the next interrupt message (e.g. "2 of 5 stages finished")."""
    _notes.append(text)


def clear() -> None:
    _notes.clear()


def _live_lms() -> list[Any]:
    cached = sys.modules.get("culturalign.lm.cached")
    if cached is None:  # no model was ever loaded
        return []
    lm_type = cached.LM
    return [o for o in gc.get_objects() if issubclass(type(o), lm_type)]  # type(): no __class__ lookups


def calls_kept(lms: list[Any]) -> str | None:
    """ "8 of 10 model calls finished (5 from the cache)" over ``lms``, or None if none asked."""
    requested = sum(lm.stats.requests for lm in lms)
    if not requested:
        return None
    new = sum(lm.stats.calls for lm in lms)
    hits = sum(lm.stats.cache_hits for lm in lms)
    failed = sum(lm.stats.failures for lm in lms)
    uncached = [lm for lm in lms if lm.cache is None and lm.stats.calls]
    done = min(new + hits, requested)
    parts = [f"{done} of {requested} model calls asked so far had finished"]
    if hits:
        parts.append(f"{hits} of them already in the call cache")
    if failed:
        parts.append(f"{failed} failed and will be asked again")
    kept = "kept in the call cache" if not uncached else "NOT kept: these models ran without a call cache"
    return f"{', '.join(parts)}; new results {kept}"


def message(argv: list[str] | None = None) -> str:
    """The line printed on Ctrl-C: what is kept and how to continue."""
    argv = sys.argv[1:] if argv is None else argv
    facts = list(_notes)
    counted = calls_kept(_live_lms())
    if counted:
        facts.append(counted)
    command = argv[0] if argv else ""
    if command == "train":
        facts.append("checkpoints already saved stay in OUT/checkpoints")
        how = "run the same command again with --resume to continue from the newest checkpoint"
    else:
        how = "run the same command again to continue"
    if not facts:
        facts.append("every finished model call is kept in the call cache")
    return f"interrupted: {'; '.join(facts)}; {how}"
