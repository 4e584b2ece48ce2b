"""Small preference data written at test time, shared by the training tests.

The pairs follow one learnable rule (the chosen answer explains a custom politely, the
rejected one dismisses it), so a tiny random model can pick the preference up in a few
steps and the held-out gap can rise on questions it never saw.
"""

from __future__ import annotations

import json
from pathlib import Path

TOPICS = [
    "tea",
    "gifts",
    "greetings",
    "dinner",
    "festivals",
    "elders",
    "shoes",
    "coffee",
    "weddings",
    "names",
]


def make_pairs(n: int, *, start: int = 0, marks: bool = True) -> list[dict]:
    rows = []
    for i in range(start, start + n):
        topic = TOPICS[i % len(TOPICS)]
        row = {
            "question_id": f"q{i}",
            "prompt": [{"role": "user", "content": f"Question {i}: what is polite about {topic}?"}],
            "chosen": [
                {
                    "role": "assistant",
                    "content": f"In China, {topic} is offered to guests as a sign of respect.",
                }
            ],
            "rejected": [{"role": "assistant", "content": f"No. {topic} does not matter at all."}],
            "chosen_rating": 9,
            "rejected_rating": 2,
            "culture": "Chinese",
        }
        if marks:
            row["associated_culture"] = "native" if i % 2 else "foreign"
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


TINY = {"preset": "tiny-test"}
