"""How stable a choice benchmark's number is under things that should not matter: the order
of the options (with letters re-assigned), the wording of the instruction, and for
opinions also which questions were asked (Khan et al. 2025, arXiv 2503.08688).

``--robustness K`` on ``eval opinions | culturalbench | cali | blend (multiple choice) |
mcq`` scores every unit under K option orders × the shipped wordings (three template
files per benchmark) and writes, next to the headline files:

* ``robustness.jsonl``: one record per unit × variant (wording, order, permutation, the
  probabilities in the file's option order, the pick);
* ``robustness.md``: the score under each variant and the stability figures;
* ``summary.json["robustness"]``: spread (min, max, range, std), agreement of the
  argmax across variants, flags in words and ``stable`` (no flag raised).

The figures are described in ``core`` (generic) and ``opinions`` (country ranks,
closest countries, steerability, extrapolability).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from culturalign.evals.choice.run import markdown_table
from culturalign.io import atomic_write_text


def write_outputs(
    out_dir: str | Path, records: list[dict[str, Any]], blocks: dict[str, dict[str, Any]]
) -> None:
    """``robustness.jsonl`` and ``robustness.md`` (one section per score)."""
    import json

    out = Path(out_dir)
    atomic_write_text(
        out / "robustness.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    )
    parts = ["# Robustness: the score under each option order and wording\n"]
    for name, b in blocks.items():
        parts.append(f"\n## {name}: {stability_text(b)}\n\n")
        rows = [[v["wording"], v["order"], v["score"]] for v in b["variants"]]
        parts.append(markdown_table(["wording", "option order", b["score"]], rows))
        sp, ag = b["spread"], b["agreement"]
        parts.append(
            f"\nspread: min {_f(sp['min'])}, max {_f(sp['max'])}, range {_f(sp['range'])}, "
            f"std {_f(sp['std'])} over {sp['n']} variants; range over orders {_f(b['range_by_factor']['order'])}, "
            f"over wordings {_f(b['range_by_factor']['wording'])}.\n\n"
            f"argmax agreement: {_pct(ag['overall'])} of an item's variants pick its most common "
            f"option (orders {_pct(ag['order'])}, wordings {_pct(ag['wording'])}); all variants agree "
            f"on {_pct(ag['all_agree'])} of items; the first option shown is picked {_pct(ag['first_position'])} "
            f"of the time, the last {_pct(ag.get('last_position'))} (chance {_pct(ag['first_position_chance'])}).\n"
        )
        if "country_rank_tau" in b:
            t = b["country_rank_tau"]
            parts.append(
                f"\ncountry ranks between variants: mean Kendall tau {_f(t['mean'])}, lowest {_f(t['min'])} "
                f"({t['pairs']} pairs).\n"
            )
        if un := b.get("unsteered"):
            shares = ", ".join(f"{c} {_pct(s)}" for c, s in list(un["in_top_share"].items())[:8])
            parts.append(
                f"\nunsteered closest countries: the same closest country in {_pct(un['same_closest'])} of "
                f"variants, the same top set in {_pct(un['same_top_set'])}; share of variants with each "
                f"country in the top: {shares}.\n"
            )
        parts += [f"\n> {f}\n" for f in b["flags"]]
    atomic_write_text(out / "robustness.md", "".join(parts))


def stability_text(b: dict[str, Any]) -> str:
    """``stable`` or ``NOT STABLE (n flags)``, for titles and report cells."""
    n = len(b.get("flags") or [])
    return "stable" if b.get("stable") else f"NOT STABLE ({n} flag{'' if n == 1 else 's'})"


def headline_note(name: str, b: dict[str, Any]) -> str:
    """One line for the run's notes: the score's range across variants and the verdict."""
    sp = b["spread"]
    return (
        f"Robustness ({name}, {b['orders']} option orders × {len(b['wordings'])} wordings): "
        f"{stability_text(b)}; the score ranges {_f(sp['min'])}–{_f(sp['max'])} (std {_f(sp['std'])}), "
        f"argmax agreement {_pct(b['agreement']['overall'])}; see robustness.md."
    )


def _f(v: float | None) -> str:
    return "–" if v is None else f"{v:.4f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"
