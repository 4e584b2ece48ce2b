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
    from culturalign.datasets import load_any
    from culturalign.judge.agreement import run_judge_agreement
    from culturalign.judge.core import JUDGE_PARAMS
    from culturalign.lm import load_lm
    from culturalign.records import CulturalQuestion
    from culturalign.report.build import build_report

    # in this process (what `eval judge-agreement` calls): a second interpreter and model load cost ~10 s
    _, records = load_any(SAMPLE / "care_prefs.jsonl", None)
    run_judge_agreement(
        load_lm(f"hf:{tiny_model_dir}", cache=None),
        [r for r in records if isinstance(r, CulturalQuestion)],
        tmp_path / "agree",
        judge_retries=0,
        judge_params=JUDGE_PARAMS.model_copy(update={"max_new_tokens": 8}),
        limit=4,
        data_path=SAMPLE / "care_prefs.jsonl",
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
