"""Per-annotator presentation order of an item's responses.

CARE's annotators saw each question's candidates in an order that did not reveal which
model wrote them (paper 000 §3.2, Fig. 15). Here each annotator gets their own random
order, fixed across visits (seeded by annotator and response), so position effects
average out over annotators. Labels (A, B, ...) follow that order and are all an
annotator ever sees of a response's origin.
"""

from __future__ import annotations

from culturalign.annotate.store import Item
from culturalign.annotate.vocab import response_label
from culturalign.io import stable_hash


def display_order(annotator_id: int, item: Item) -> list[dict[str, str]]:
    ranked = sorted(item.responses, key=lambda r: stable_hash([annotator_id, item.key, r["rid"]]))
    return [{"rid": r["rid"], "text": r["text"], "label": response_label(i)} for i, r in enumerate(ranked)]
