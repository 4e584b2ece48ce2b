"""Every loader against every real file in ../shared/data, and the issue's done-when counts
through the real command line."""

from __future__ import annotations

import pytest
from data_helpers import SAMPLE_PREFS, SAMPLE_QUESTIONS, run_cli

from culturalign.datasets import FORMATS, available_loaders, detect_format
from culturalign.datasets.validate import load_source, validate
from culturalign.errors import CulturalignError, DataError

MINE = {"care-test", "care-prefs", "jsonl"}


def _real_paths(root):
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.name not in ("README.md", "LICENSE")]
    folders = [p for p in sorted(root.iterdir()) if p.is_dir()]
    return files + folders


def test_every_loader_on_every_real_file(shared_data):
    """Each loader either reads a file or says, located, why not; never a traceback."""
    paths = _real_paths(shared_data)
    assert paths
    loaded_by: dict[str, set[str]] = {}
    for name in available_loaders():
        for path in paths:
            try:
                records = load_source(path, name).records
            except (DataError, CulturalignError) as exc:
                text = "\n".join(exc.lines())
                assert text.strip()
                if name in MINE:  # our own loaders never fall over, they explain
                    assert "loader failed" not in text, text
                continue
            assert records
            loaded_by.setdefault(name, set()).add(str(path.relative_to(shared_data)))
    assert {"care/Chinese-test.json", "care/Arabic-test.json"} <= loaded_by["care-test"]


def test_real_files_are_detected(shared_data):
    expected = {
        "care/Chinese-test.json": "care-test",
        "care/Arabic-test.json": "care-test",
        "cali/data.tsv": "cali",
        "wvs": "wvs",
        "blend": "blend",
    }
    for rel, fmt in expected.items():
        if fmt in available_loaders():
            assert detect_format(shared_data / rel) == fmt


def test_sample_files_are_detected():
    assert detect_format(SAMPLE_PREFS) == "care-prefs"
    assert detect_format(SAMPLE_QUESTIONS) == "jsonl"
    assert set(FORMATS) >= MINE


@pytest.mark.parametrize(("name", "culture"), [("Chinese", "Chinese"), ("Arabic", "Arab")])
def test_done_when_care_test_sets(shared_data, name, culture):
    proc = run_cli("data", "validate", str(shared_data / "care" / f"{name}-test.json"))
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert "150 questions" in line and f"by culture: {culture} 150" in line
    for label in ("Entities 30", "Opinion 30", "Norms 30", "C. sense 30", "Literacy 30"):
        assert label in line


def test_done_when_cali_and_wvs(shared_data):
    if "cali" in available_loaders():
        proc = run_cli("data", "validate", str(shared_data / "cali" / "data.tsv"))
        assert proc.returncode == 0, proc.stderr
        assert "2228 " in proc.stdout
    if "wvs" in available_loaders():
        proc = run_cli("data", "validate", str(shared_data / "wvs"))
        assert proc.returncode == 0, proc.stderr
        assert "291 questions over 19 countries" in proc.stdout


def test_sample_files_validate():
    for path in (SAMPLE_QUESTIONS, SAMPLE_PREFS):
        loaded, summary = validate(path)
        assert loaded.records and summary.startswith(f"{len(loaded.records)} questions")
