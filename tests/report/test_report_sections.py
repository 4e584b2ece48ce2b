"""The report recognises the outputs of judge agreement and CAReDiO selection runs and
shows their numbers and figures (CARE Fig. 10, CAReDiO Fig. 3)."""

from __future__ import annotations

import subprocess
import sys

from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


def _cli(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "culturalign", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_agreement_and_selection_sections(tmp_path, tiny_model_dir):
    from culturalign.report.build import build_report

    _cli(
        "eval",
        "judge-agreement",
        "--judge",
        f"hf:{tiny_model_dir}",
        "--data",
        str(SAMPLE / "care_prefs.jsonl"),
        "--limit",
        "4",
        "--judge-max-new-tokens",
        "8",
        "--judge-retries",
        "0",
        "--out",
        str(tmp_path / "agree"),
    )
    _cli(
        "select",
        "--data",
        str(SAMPLE / "care_prefs.jsonl"),
        "--budget",
        "3",
        "--out",
        str(tmp_path / "picks.jsonl"),
    )
    html_path, md_path = build_report([tmp_path], out=tmp_path / "report")
    html = html_path.read_text()
    assert "Judge vs. human ratings" in html and "Kendall" in html
    assert "CAReDiO data selection" in html and "linkage single" in html
    # histograms, PCA and tf-idf figures are embedded
    assert html.count("data:image/png;base64,") == 3
    assert "(CAReDiO Fig. 3a)" in md_path.read_text()
