"""Sentences about stability for the report, read from ``summary.json`` dicts (pure).

* ``stability_lines``: beside a run's headline, whether it held under the variants;
* ``ordering_verdicts``: a model comparison is *not robust* when the two runs' order on
  a score flips under any variant (matched by wording and option order): a ranking that
  a reshuffle of the options reverses is not a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def score_blocks(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{score name: robustness block}`` of one run (CALI has one per culture)."""
    rb = summary.get("robustness")
    if not isinstance(rb, dict):
        return {}
    if "per_culture" in rb:
        return {f"{c} {b.get('score')}": b for c, b in rb["per_culture"].items() if isinstance(b, dict)}
    return {str(rb.get("score")): rb} if "variants" in rb else {}


def stability_lines(summary: Mapping[str, Any]) -> list[str]:
    out = []
    for name, b in score_blocks(summary).items():
        sp, ag = _dict(b.get("spread")), _dict(b.get("agreement"))
        verdict = "stable" if b.get("stable") else "NOT STABLE"
        line = (
            f"{name} under {b.get('orders')} option orders × {len(_list(b.get('wordings')))} wordings: "
            f"{verdict}; range {_f(sp.get('min'))}–{_f(sp.get('max'))} (std {_f(sp.get('std'))}), "
            f"argmax agreement {_pct(ag.get('overall'))}."
        )
        flags = [str(f) for f in b.get("flags") or [] if isinstance(f, str)]
        out.append(line + ("" if not flags else " " + "; ".join(flags) + "."))
    return out


def ordering_verdicts(
    base: Mapping[str, Any], other: Mapping[str, Any], base_label: str, other_label: str
) -> list[str]:
    """One sentence per score both runs varied: robust, or not robust with the count of
    variants under which ``other`` and ``base`` swap places."""
    a_blocks, b_blocks = score_blocks(base), score_blocks(other)
    out = []
    for name in sorted(set(a_blocks) & set(b_blocks)):
        a, b = _scores(a_blocks[name]), _scores(b_blocks[name])
        common = [k for k in a if k in b]
        if not common:
            continue
        signs = [(b[k] > a[k]) - (b[k] < a[k]) for k in common]
        ahead = sum(1 for s in signs if s > 0)
        behind = sum(1 for s in signs if s < 0)
        if len(set(signs)) > 1:  # ahead under one variant, behind or level under another
            out.append(
                f"{other_label} vs {base_label} on {name}: NOT ROBUST: {other_label} is ahead under {ahead}, "
                f"behind under {behind} and level under {signs.count(0)} of {len(common)} variants."
            )
        else:
            word = "ahead of" if ahead else "behind" if behind else "level with"
            out.append(
                f"{other_label} vs {base_label} on {name}: robust: {other_label} is {word} "
                f"{base_label} under all {len(common)} variants."
            )
    return out


def _scores(b: Mapping[str, Any]) -> dict[tuple[Any, Any], float]:
    """``{(wording, order): score}``, skipping entries a hand-edited summary left malformed."""
    out = {}
    for v in b.get("variants") if isinstance(b.get("variants"), list) else []:
        if isinstance(v, dict) and isinstance(v.get("score"), int | float):
            out[(str(v.get("wording")), str(v.get("order")))] = float(v["score"])
    return out


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _f(v: Any) -> str:
    return "–" if not isinstance(v, int | float) else f"{v:.4f}"


def _pct(v: Any) -> str:
    return "–" if not isinstance(v, int | float) else f"{v:.0%}"
