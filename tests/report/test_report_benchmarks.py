"""`report` writes paper 002's Table 2 layout (a row per model, a column per benchmark, a
mean column) and its per-culture tables when several benchmark runs are present. The run
summaries are made by the benchmarks' own summarisers from hand-made item records, so
every number below is worked out by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from culturalign.evals.choice.culturalbench import ANSWERED, summarise_variant
from culturalign.evals.choice.opinions import summarise_opinions
from culturalign.report.build import build_report

# country -> correct flags of CulturalBench-Hard questions, per model
HARD = {
    "base": {"China": [True, False], "India": [False, False]},
    "caredio-sft": {"China": [True, True], "India": [True, False]},
}
# country -> opinion similarities per question, per model
SIM = {
    "base": {"China": [0.4, 0.6], "India": [0.5, 0.5]},
    "caredio-sft": {"China": [0.7, 0.7], "India": [0.6, 0.8]},
}


def _write(d: Path, kind: str, summary: dict) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (d / "run.json").write_text(json.dumps({"kind": kind, "notes": []}), encoding="utf-8")


def _runs(root: Path) -> None:
    for model in HARD:
        recs = [
            {"id": f"{c}{i}", "country": c, "outcome": ANSWERED, "correct": ok}
            for c, flags in HARD[model].items()
            for i, ok in enumerate(flags)
        ]
        _write(
            root / "eval" / "culturalbench" / model / "hard",
            "eval-culturalbench",
            {"hard": summarise_variant(recs)},
        )
        steered = [
            {"id": f"q{i}", "country": c, "similarity": v}
            for c, vals in SIM[model].items()
            for i, v in enumerate(vals)
        ]
        _write(root / "eval" / "opinions" / model / "wvs", "eval-opinions", summarise_opinions(steered, []))


def test_table_2_layout_and_per_culture_tables(tmp_path):
    _runs(tmp_path)
    md_path = next(p for p in build_report([tmp_path], out=tmp_path / "report") if p.suffix == ".md")
    md = md_path.read_text()
    assert "## Models × benchmarks" in md
    # Hard: base (0.5 + 0) / 2 = 0.25, aligned (1 + 0.5) / 2 = 0.75; cultureSim: 0.5/0.5 -> 0.5, 0.7/0.7 -> 0.7
    assert "| model | CulturalBench-Hard | GlobalOpinionQA/WVS cultureSim | mean |" in md
    assert "| base | 0.250 (n=4) | 0.500 (n=4) | 0.375 (of 2 benchmarks) |" in md
    assert "| caredio-sft | 0.750 (n=4) | 0.700 (n=4) | 0.725 (of 2 benchmarks) |" in md
    assert "| model | China | India | mean |" in md  # Tables 3-6: a column per culture
    assert "| caredio-sft | 1.000 (n=2) | 0.500 (n=2) | 0.750 (of 2 cultures) |" in md
    with (tmp_path / "report_files" / "benchmarks.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["model"] for r in rows] == ["base", "caredio-sft"]
    assert float(rows[1]["mean"]) == 0.725


def test_one_benchmark_run_gives_no_table(tmp_path):
    _write(
        tmp_path / "eval" / "opinions" / "base" / "wvs",
        "eval-opinions",
        summarise_opinions([{"id": "q", "country": "C", "similarity": 0.5}], []),
    )
    md = next(p for p in build_report([tmp_path], out=tmp_path / "report") if p.suffix == ".md").read_text()
    assert "Models × benchmarks" not in md


def test_a_judge_rated_benchmark_gets_a_column_but_stays_out_of_the_mean(tmp_path):
    from culturalign.judge.summary import RubricSummary

    _runs(tmp_path)
    for model, (china, india) in {"base": (2.0, 3.0), "caredio-sft": (4.0, 4.0)}.items():
        summary = RubricSummary(
            benchmark="prism",
            label=model,
            rubric="prism",
            rubric_sha="x",
            scale=(1, 5),
            overall={"mean": (china + india) / 2, "n": 2},
            cultures={"China": {"mean": china, "n": 1}, "India": {"mean": india, "n": 1}},
        )
        _write(tmp_path / "eval" / "prism" / model / "all", "eval-prism", summary.model_dump(mode="json"))
    md = next(p for p in build_report([tmp_path], out=tmp_path / "report") if p.suffix == ".md").read_text()
    assert "| model | CulturalBench-Hard | GlobalOpinionQA/WVS cultureSim | PRISM (judge 1-5) | mean |" in md
    assert "| base | 0.250 (n=4) | 0.500 (n=4) | 2.500 (n=2) | 0.375 (of 2 benchmarks) |" in md
    # one rating per culture: the value is shown, marked too small to read
    assert "| base | 2.000 (n=1, too small) | 3.000 (n=1, too small) | 2.500 (of 2 cultures) |" in md


def test_a_run_kind_with_nothing_to_show_gets_no_empty_section(tmp_path):
    """Rubric runs are read by the models × benchmarks tables; their own section had only
    its heading (``## eval-culturebank-quality`` with nothing under it)."""
    from culturalign.report.document import Document, Heading, Table
    from culturalign.report.sections import other_section

    empty, shown = tmp_path / "empty", tmp_path / "shown"
    empty.mkdir()
    shown.mkdir()
    (shown / "table.csv").write_text("culture,mean\nJapan,0.5\n", encoding="utf-8")
    doc = Document("t")
    other_section(doc, "eval-culturebank-quality", [empty], lambda d: d.name)
    assert not any(isinstance(b, Heading) for b in doc.blocks)
    other_section(doc, "eval-other", [empty, shown], lambda d: d.name)
    assert [type(b) for b in doc.blocks] == [Heading, Table] and doc.blocks[0].text == "eval-other"
