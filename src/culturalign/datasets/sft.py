"""Instruction-tuning data in its published layouts, as a ``--format`` like the others.

The layouts (Alpaca, ShareGPT, OpenOrca, UltraChat, ``messages``, plain ``text``) and
how each becomes an ``SFTExample`` (or ``KnowledgeText``) are in ``sft_layouts``; this
module lets ``data validate``, ``data stats`` and ``data convert`` read such files, so a
user can check a general-purpose SFT set, or turn it into our JSONL, before training
on it. ``train sft`` reads the same files directly.
"""

from __future__ import annotations

from pathlib import Path

from culturalign.datasets.jsonl import record_type
from culturalign.datasets.rows import TABLE_SUFFIXES, first_row_keys, read_rows
from culturalign.datasets.sft_layouts import LayoutError, layout_of_keys, sft_from_layout
from culturalign.errors import Problems

NAME = "sft"
DESCRIPTION = "instruction-tuning rows: Alpaca, ShareGPT, OpenOrca, UltraChat columns, or plain text"


def sniff(path: Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    keys = first_row_keys(path)
    if not keys or record_type(set(keys)) is not None:  # our own records are the jsonl loader's
        return False
    return layout_of_keys(set(keys)) is not None


def load(path: Path) -> list:
    """Every row as an SFT example, each bad row reported with its line and field."""
    path = Path(path)
    problems = Problems(path)
    rows = read_rows(path, problems)
    out, seen_text = [], None
    for n, row in enumerate(rows):
        layout = layout_of_keys(set(row.data))
        if layout is None:
            problems.add(row.where, None, f"columns {sorted(row.data)} are in no SFT layout")
            continue
        if seen_text is None:
            seen_text = layout == "text"
        elif (layout == "text") != seen_text:
            problems.add(row.where, None, "plain text and conversations cannot share one file")
            continue
        try:
            out.append(sft_from_layout(row.data, layout, f"{path.stem}#{n}"))
        except LayoutError as exc:
            problems.add(row.where, exc.field, str(exc))
        except ValueError as exc:  # a pydantic check on the built record
            problems.add(row.where, None, str(exc).splitlines()[0])
    if not out and not problems:
        problems.add(None, None, "no SFT rows found")
    problems.raise_if_any()
    return out
