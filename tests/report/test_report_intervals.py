"""The demo's closing screen and the report on a hand-made run folder: every change has
its paired interval and n, and each signal ends in one plain verdict (issue 14)."""

from __future__ import annotations

import pytest
from intervals_folder import make_run_folder

from culturalign.pipeline.demo import collect_summary, print_summary


def test_demo_summary_pairs_every_change(tmp_path):
    s = collect_summary(make_run_folder(tmp_path))
    assert (s.before_name, s.after_name) == ("base", "dpo-lora")
    every = s.categories[-1]
    # all five items rise: by 2, 1, 1, 1, 2 -> +1.4, every resample above 0
    assert every.change["delta"] == pytest.approx(1.4) and every.change["n"] == 5
    assert every.change["includes_zero"] is False and every.change["ci_low"] >= 1.0
    literacy = next(c for c in s.categories if c.label == "Literacy")
    assert literacy.change["n"] == 1 and literacy.change["ci_low"] is None  # one item
    arab = next(c for c in s.cultures if c.name == "Arab")
    assert arab.change["delta"] == pytest.approx(1.5) and arab.change["n"] == 2
    # cultureSim per question: +0.1, -0.1, +0.1 -> +0.033, interval includes 0
    assert s.opinion_change.change["delta"] == pytest.approx(0.1 / 3, abs=1e-6)
    assert s.opinion_change.change["includes_zero"]
    (_, base_stats), _ = s.opinions
    assert base_stats["n"] == 3 and base_stats["ci_low"] is not None
    assert s.gaps[0].change["n"] == 1
    # the signals that need no judge lead; the judged rating comes last
    assert [sig.sentence().split(";")[0] for sig in s.signals()] == [
        "held-out preference gap (dpo-lora): too few items to tell",
        "opinion similarity (cultureSim, base → dpo-lora): no measurable change",
        "CARE judge rating (all categories): improved (interval excludes 0)",
    ]


def test_demo_screen_prints_intervals_and_verdicts(tmp_path, capsys):
    root = make_run_folder(tmp_path)
    print_summary(root, {"spend": {"calls": 0, "cache_hits": 0}, "seconds": 1})
    out = capsys.readouterr().out
    assert "+1.40 [" in out and "5 paired" in out
    assert "+2.00 (too small)" in out  # the gap on its one held-out pair
    assert "improved (interval excludes 0)" in out and "no measurable change" in out
    assert "n=3 questions" in out


def test_report_shows_n_paired_changes_and_zero_sentences(tmp_path):
    from culturalign.report.build import build_report

    root = make_run_folder(tmp_path)
    _, md_path = build_report([root], out=tmp_path / "report", baseline="base")
    md = md_path.read_text()
    assert "4.50 (n=2)" in md  # Chinese Opinion before: (4 + 5) / 2, two items
    assert "(n=1, too small)" in md  # Chinese Literacy: one item, no interval
    assert "+1.50 [+1.00, +2.00] (n=2)" in md  # Arab average: +1 and +2
    assert "Changes are paired" in md
    assert "+2.000 (n=1; too few items to tell)" in md  # training: gap 1 -> 3 on one pair
    assert md.count("![") >= 1  # the CARE bar chart still draws with one-item cells
    # cultureSim per question +0.1, -0.1, +0.1: paired change +0.033 whose interval includes 0
    assert (
        "| dpo-lora | +0.033 [" in md
        and "Interval includes 0 (no measurable change): dpo-lora culture_sim." in md
    )


def test_report_reads_study_changes_from_study_json(tmp_path):
    from culturalign.report.build import build_report
    from culturalign.train.study_report import StudyTable, write_study
    from culturalign.uncertainty import paired_delta

    change = paired_delta({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 4.0, 2: 3.0})  # +1 [0, 2], includes 0
    table = StudyTable(
        study="scaling",
        title="Data scaling",
        key="fraction",
        rows=[{"fraction": 0.0, "pairs": 0, "gap": 2.0}, {"fraction": 1.0, "pairs": 8, "gap": 3.0}],
        metrics=["gap"],
        evaluation="gap",
        reference="0.0",
        changes={"1.0": {"gap": change}},
    )
    write_study(table, tmp_path / "study")
    _, md_path = build_report([tmp_path], out=tmp_path / "report")
    md = md_path.read_text()
    assert "+1.000 [+0.000, +2.000] (n=3); interval includes 0" in md
    assert "Interval includes 0 (no measurable change): 1.0 gap." in md
    # and the summary lists it with its interval, as no measurable change
    assert "- Data scaling (study), fraction=1.0, gap: +1.000 [+0.000, +2.000] on 3 items" in md
    assert "+1.000 [+0.000, +2.000]" in (tmp_path / "study" / "study.md").read_text()
