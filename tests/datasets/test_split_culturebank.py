"""`data split` for CultureBank knowledge: paper 003's train/dev/test by counts, stratified
by cultural group, deterministic, sizes configurable; files that load back as knowledge."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from data_helpers import run_cli

from culturalign.datasets import culturebank
from culturalign.datasets.split import split_knowledge
from culturalign.errors import ConfigError

GROUPS = {"Japanese": 50, "Brazilian": 30, "Kenyan": 15, "Sami": 5}


def _write_release(path, order=1):
    """A CSV in the release's column layout (`cultural group`, `actor_behavior`, ...)."""
    rows = [
        {
            "cluster_id": f"{g[:3]}{i}",
            "cultural group": g,
            "context": "at dinner",
            "actor": "people",
            "actor_behavior": f"behaviour {i} of {g}",
            "topic": "Food",
            "agreement": "0.8",
        }
        for g, n in GROUPS.items()
        for i in range(n)
    ][::order]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_counts_are_stratified_and_deterministic(tmp_path):
    items = culturebank.load(_write_release(tmp_path / "kb.csv"))
    result = split_knowledge(items, train=60, dev=10, test=20, seed=3)
    assert (len(result.train), len(result.dev), len(result.test), result.unused) == (60, 10, 20, 10)
    test_groups = Counter(i.cultural_group for i in result.test)
    assert test_groups == {"Japanese": 10, "Brazilian": 6, "Kenyan": 3, "Sami": 1}  # in proportion
    ids = [{i.id for i in part} for part in (result.train, result.dev, result.test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    # the same seed gives the same split whatever the file order; another seed another one
    reversed_items = culturebank.load(_write_release(tmp_path / "rev.csv", order=-1))
    again = split_knowledge(reversed_items, train=60, dev=10, test=20, seed=3)
    assert {i.id for i in again.test} == ids[2] and {i.id for i in again.train} == ids[0]
    other = split_knowledge(items, train=60, dev=10, test=20, seed=4)
    assert {i.id for i in other.test} != ids[2]
    assert result.groups["Sami"] == {"records": 5, "train": 3, "dev": 1, "test": 1}


def test_asking_for_more_than_there_is():
    items = [culturebank.KnowledgeItem(id=f"k{i}", cultural_group="X", description="d") for i in range(5)]
    with pytest.raises(ConfigError, match="--dev 3 and --test 3 ask for 6 records; the file holds 5"):
        split_knowledge(items, train=1, dev=3, test=3)
    short = split_knowledge(items, train=100, dev=1, test=1)
    assert len(short.train) == 3 and short.unused == 0


def test_cli_writes_three_files_that_load_back(tmp_path):
    src = _write_release(tmp_path / "kb.csv")
    out = tmp_path / "split"
    proc = run_cli(
        "data", "split", str(src), "--out", str(out), "--train", "70", "--dev", "10", "--test", "20"
    )
    assert proc.returncode == 0, proc.stderr
    assert "train: 70 knowledge records" in proc.stdout and "test: 20 knowledge records" in proc.stdout
    back = {name: culturebank.load(out / f"{name}.jsonl") for name in ("train", "dev", "test")}
    assert [len(v) for v in back.values()] == [70, 10, 20]
    first = back["test"][0]
    assert first.cultural_group in GROUPS and first.actor_behavior.startswith("behaviour")
    summary = json.loads((out / "split.json").read_text())
    assert summary["asked"] == {"train": 70, "dev": 10, "test": 20} and summary["input_sha256"]
    # the paper's default sizes are more than this toy file holds: a clear error, exit 2
    proc = run_cli("data", "split", str(src), "--out", str(tmp_path / "big"))
    assert (
        proc.returncode == 2
        and "--dev 1000 and --test 1000 ask for 2000 records; the file holds 100" in proc.stderr
    )
    assert "Traceback" not in proc.stderr
