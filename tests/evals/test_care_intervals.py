"""CARE's uncertainty: no interval for one item, n in every cell, both averages, and
paired intervals on every change from a baseline (issue 14), on hand-worked cases."""

from __future__ import annotations

import csv
import io
import json

from culturalign.evals.care.stats import CareSummary, summarize
from culturalign.evals.care.tables import (
    CareRun,
    category_table,
    delta_table,
    load_run,
    to_csv,
    to_markdown,
)
from culturalign.records.judgment import Judgment


def _j(item, rating, category="opinion", culture="Chinese"):
    return Judgment(
        item_id=item,
        question="q",
        reference="a",
        response="r",
        category=category,
        scope="national",
        culture=culture,
        judge="scripted:j",
        rating=rating,
        valid=True,
        status="ok",
    )


def _run(label, ratings, category="opinion"):
    js = [_j(k, v, category) for k, v in ratings.items()]
    return CareRun(label, summarize(js, label=label, judge="scripted:j"))


def test_a_one_item_cell_has_no_interval_and_is_too_small():
    s = summarize([_j("a", 7), _j("b", 3, "literacy"), _j("c", 5, "literacy")], label="r")
    one = s.cultures["Chinese"].categories["opinion"]
    assert one.mean == 7.0 and one.n_rated == 1 and one.too_small
    assert one.ci_low is None and one.ci_high is None and one.stderr is None
    two = s.cultures["Chinese"].categories["literacy"]
    assert not two.too_small and (two.ci_low, two.ci_high) == (3.0, 5.0)  # resampled means of 3 and 5
    assert two.stderr == 1.0  # sd of (3, 5) is sqrt(2); / sqrt(2)


def test_an_old_summary_with_a_zero_width_interval_reads_as_too_small():
    old = {
        "label": "old",
        "cultures": {
            "Chinese": {
                "average": {"mean": 6.0, "n_items": 2, "n_rated": 2, "ci_low": 5.0, "ci_high": 7.0},
                "categories": {
                    "opinion": {"mean": 5.0, "n_items": 1, "n_rated": 1, "ci_low": 5.0, "ci_high": 5.0},
                    "literacy": {"mean": 7.0, "n_items": 1, "n_rated": 1, "ci_low": 7.0, "ci_high": 7.0},
                },
                "scopes": {},
            }
        },
    }
    s = CareSummary.model_validate(old)
    cat = s.cultures["Chinese"].categories["opinion"]
    assert cat.too_small and cat.ci_low is None
    assert s.items == [] and s.cultures["Chinese"].average_of_categories == 6.0  # derived: (5 + 7) / 2


def test_the_two_averages_and_when_the_table_shows_both():
    # Entities 2 and 4 (mean 3), Opinion 9: item mean (2 + 4 + 9) / 3 = 5, category mean (3 + 9) / 2 = 6
    js = [_j("a", 2, "cultural_entities"), _j("b", 4, "cultural_entities"), _j("c", 9)]
    run = CareRun("m", summarize(js, label="m"))
    cs = run.summary.cultures["Chinese"]
    assert cs.average.mean == 5.0 and cs.average_of_categories == 6.0 and cs.averages_differ
    table = category_table([run])
    assert table.blocks[0].columns[-2:] == ["Average", "Mean of categories"]
    md = to_markdown(table)
    assert "| 5.00 (n=3) |" in md and "| 6.00 (n=3) |" in md
    assert any("'Average' is the mean over rated items" in n for n in table.notes)
    # balanced categories: one average, no extra column
    even = CareRun("e", summarize([_j("a", 2, "cultural_entities"), _j("c", 8)], label="e"))
    assert "Mean of categories" not in category_table([even]).blocks[0].columns


def test_change_from_the_baseline_is_paired_over_shared_items():
    base = _run("vanilla", {"a": 1, "b": 2, "c": 3, "gone": 9})
    dpo = _run("dpo", {"a": 2, "b": 4, "c": 3, "new": 1})
    table = delta_table([dpo], base)
    row = table.blocks[0].rows[1]
    avg = row.cells[table.blocks[0].columns.index("Average")]
    # shared items a, b, c: differences 1, 2, 0 -> +1.00, interval [0, 2] (see test_uncertainty)
    assert (avg.value, avg.n, avg.ci, avg.includes_zero) == (1.0, 3, (0.0, 2.0), True)
    md = to_markdown(table)
    assert "+1.00 [+0.00, +2.00] (n=3; includes 0)" in md
    assert "dpo, Chinese: the average's interval includes 0; no measurable change." in md
    rows = list(csv.DictReader(io.StringIO(to_csv(table))))
    assert rows[1]["Average n"] == "3" and rows[1]["Average includes 0"] == "1"
    assert rows[1]["Average CI low"] == "0.0000" and rows[1]["Average CI high"] == "2.0000"


def test_a_clear_improvement_is_not_marked():
    base = _run("vanilla", {k: 5 for k in "abcd"})
    dpo = _run("dpo", {k: 6 for k in "abcd"})
    md = to_markdown(delta_table([dpo], base))
    assert "+1.00 [+1.00, +1.00] (n=4) |" in md
    assert "0 of 2 changes have a 95% interval that includes 0" in md  # Opinion and Average


def test_runs_without_per_item_scores_fall_back_to_plain_differences(tmp_path):
    def old_dir(name, mean):
        s = summarize([_j("a", mean), _j("b", mean)], label=name).model_dump(mode="json")
        s.pop("items")
        d = tmp_path / name
        d.mkdir()
        (d / "summary.json").write_text(json.dumps(s))
        return load_run(d)

    table = delta_table([old_dir("dpo", 6)], old_dir("vanilla", 5))
    md = to_markdown(table)
    assert "+1.00 (unpaired, no interval)" in md
    assert any("plain differences of means" in n for n in table.notes)
