"""CARE's numbers and tables from judgments: means, counts, intervals, layouts."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from culturalign.evals.care.stats import bootstrap_ci, summarize
from culturalign.evals.care.tables import (
    CareRun,
    category_table,
    delta_table,
    mode_table,
    scope_table,
    to_csv,
    to_markdown,
    to_rich,
)
from culturalign.records.judgment import Judgment

CATS = ["cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy"]


def _j(
    item,
    rating,
    *,
    category="opinion",
    culture="Chinese",
    scope="national",
    status=None,
    sample=0,
    mode="vanilla",
):
    status = status or ("ok" if rating is not None else "invalid")
    return Judgment(
        item_id=item,
        sample_index=sample,
        question="q",
        reference="a",
        response="r",
        category=category,
        scope=scope,
        culture=culture,
        mode=mode,
        judge="scripted:j",
        rating=rating,
        valid=status == "ok",
        status=status,
        reason=None if status == "ok" else "no rating",
    )


def _run(label, judgments, mode="vanilla", **kw):
    return CareRun(label, summarize(judgments, label=label, judge="scripted:j", mode=mode, **kw))


def test_means_counts_and_micro_average():
    js = [
        _j("a", 4, category="cultural_entities"),
        _j("b", 6, category="cultural_entities"),
        _j("c", 9, category="opinion"),
        _j("d", None, category="opinion"),  # invalid: counted, not scored
        _j("e", None, category="literacy", status="skipped"),
        _j("f", 2, category="literacy", culture="Arab", scope="sub_national"),
    ]
    s = summarize(js, label="r")
    zh = s.cultures["Chinese"]
    assert zh.categories["cultural_entities"].mean == 5.0
    assert zh.categories["opinion"].mean == 9.0 and zh.categories["opinion"].n_invalid == 1
    assert zh.categories["literacy"].mean is None and zh.categories["literacy"].n_skipped == 1
    assert zh.average.mean == pytest.approx((4 + 6 + 9) / 3)  # rated items only: no 0 for the invalid one
    assert (zh.average.n_items, zh.average.n_rated, zh.average.n_invalid, zh.average.n_skipped) == (
        5,
        3,
        1,
        1,
    )
    assert list(s.cultures) == ["Chinese", "Arab"]  # first-seen order
    assert s.cultures["Arab"].scopes["sub_national"].mean == 2.0
    assert s.counts == {
        "items": 6,
        "judgments": 6,
        "rated": 4,
        "invalid": 1,
        "skipped": 1,
        "uncategorised": 0,
        "judge_calls": 0,
    }


def test_several_responses_per_item_mean_or_max():
    js = [_j("a", 3, sample=0), _j("a", 9, sample=1), _j("a", None, sample=2), _j("b", 5)]
    mean = summarize(js, label="r")
    best = summarize(js, label="r", aggregate="max")
    assert mean.cultures["Chinese"].average.mean == ((3 + 9) / 2 + 5) / 2
    assert best.cultures["Chinese"].average.mean == (9 + 5) / 2  # CARE Table 4: best web page per question
    assert mean.cultures["Chinese"].average.n_invalid == 0  # item a is rated through its other responses


def test_bootstrap_is_deterministic_and_brackets_the_mean():
    rng = np.random.default_rng(1)
    scores = rng.integers(1, 11, size=60).astype(float).tolist()
    a, b = bootstrap_ci(scores), bootstrap_ci(scores)
    assert a == b
    assert a[0] < np.mean(scores) < a[1]
    assert bootstrap_ci([]) is None and bootstrap_ci([7.0]) is None  # one rating: no interval


def test_category_table_has_care_layout_with_invalid_counts():
    runs = [
        _run("vanilla", [_j(f"{c}{i}", 5 + i, category=c) for c in CATS for i in range(2)] + [_j("x", None)]),
        _run("aligned", [_j(f"{c}{i}", 6 + i, category=c) for c in CATS for i in range(2)]),
    ]
    table = category_table(runs)
    md = to_markdown(table)
    header = (
        "| Chinese | Entities | Opinion | Norms | C. sense | Literacy | Average | 95% CI | Rated | Invalid |"
    )
    assert header in md
    lo, hi = bootstrap_ci([5.0, 6.0] * 5)
    assert 5.0 < lo < 5.5 < hi < 6.0
    five = " | ".join(["5.50 (n=2)"] * 5)
    assert f"| vanilla | {five} | 5.50 (n=10) | {lo:.2f}–{hi:.2f} | 10 | 1 |" in md
    lo, hi = bootstrap_ci([6.0, 7.0] * 5)
    five = " | ".join(["6.50 (n=2)"] * 5)
    assert f"| aligned | {five} | 6.50 (n=10) | {lo:.2f}–{hi:.2f} | 10 | 0 |" in md
    assert "Invalid: the judge gave no usable rating" in md
    rows = list(csv.DictReader(io.StringIO(to_csv(table))))
    assert [r["run"] for r in rows] == ["vanilla", "aligned"]
    assert rows[0]["Average"] == "5.5000" and rows[0]["invalid"] == "1" and rows[0]["judge"] == "scripted:j"
    assert float(rows[0]["Average CI low"]) == pytest.approx(bootstrap_ci([5.0, 6.0] * 5)[0], abs=1e-4)


def test_one_block_per_culture():
    runs = [_run("m", [_j("a", 5), _j("b", 7, culture="Arab", category="literacy")])]
    table = category_table(runs)
    assert [b.title for b in table.blocks] == ["Chinese", "Arab"]
    assert table.blocks[1].rows[0].cells[4].value == 7.0  # Literacy column


def test_delta_table_shows_differences_from_the_baseline():
    base = _run("vanilla", [_j("a", 4, category="opinion"), _j("b", 6, category="literacy")])
    dpo = _run("dpo", [_j("a", 5.5, category="opinion"), _j("b", 6, category="literacy")])
    table = delta_table([dpo], base)
    md = to_markdown(table)
    too_small = "(n=1, too small)"
    assert f"| vanilla | – | 4.00 {too_small} | – | – | 6.00 {too_small} | 5.00 (n=2) |" in md
    # one item per category: a change but no interval; the average pairs two items whose
    # differences are 1.5 and 0, so every resampled mean is 0, 0.75 or 1.5
    assert (
        f"| dpo | – | +1.50 {too_small} | – | – | +0.00 {too_small} | +0.75 [+0.00, +1.50] (n=2; includes 0) |"
        in md
    )
    assert "dpo, Chinese: the average's interval includes 0; no measurable change." in md
    assert "95% CI" not in md


def test_scope_table_columns_follow_care_order():
    runs = [_run("m", [_j("a", 5, scope="worldwide"), _j("b", 3, scope="sub_national"), _j("c", 7)])]
    block = scope_table(runs).blocks[0]
    assert block.columns == ["Sub-national", "National", "Worldwide", "Average"]
    assert [c.value for c in block.rows[0].cells] == [3.0, 7.0, 5.0, 5.0]


def test_mode_table_groups_runs_by_prompting_mode():
    runs = [
        _run("qwen", [_j("a", 5), _j("b", 7, culture="Arab")], mode="vanilla"),
        _run("qwen-cot", [_j("a", 6), _j("b", 8, culture="Arab")], mode="cot"),
    ]
    table = mode_table(runs)
    assert [b.title for b in table.blocks] == ["vanilla prompting", "cot prompting"]
    assert table.blocks[1].columns == ["Chinese", "Arab"]
    md = to_markdown(table)
    assert "| qwen-cot | 6.00 (n=1, too small) | 8.00 (n=1, too small) | 2 | 0 |" in md


def test_uncategorised_items_get_their_own_column():
    table = category_table([_run("m", [_j("a", 5, category=None), _j("b", 7)])])
    # the item average counts the uncategorised item (6.0); the mean of CARE's category
    # means does not (7.0, Opinion only), so both are shown
    assert table.blocks[0].columns[-3:] == ["Uncat.", "Average", "Mean of categories"]
    assert [c.value for c in table.blocks[0].rows[0].cells[-2:]] == [6.0, 7.0]
    assert any("1 item(s) had no category" in n for n in table.notes)


def test_notes_and_rich_rendering_carry_the_weak_judge_warning():
    from rich.console import Console

    run = _run("m", [_j("a", 5)], notes=["The judge is the embedded SmolLM2-135M model: a weak stand-in"])
    table = category_table([run])
    assert any("weak stand-in" in n for n in table.notes)
    embedded = CareRun("e", summarize([_j("a", 5)], label="e", judge="embedded:smollm2-135m-instruct"))
    assert "weak stand-in judge" in to_csv(category_table([embedded]))
    console = Console(width=200, record=True)
    console.print(to_rich(table))
    assert "weak stand-in" in console.export_text()


def test_delta_without_a_baseline_for_a_culture_says_so():
    base = _run("vanilla", [_j("a", 4)])
    other = _run("dpo", [_j("a", 5), _j("b", 6, culture="Arab")])
    table = delta_table([other], base)
    arab = table.blocks[1]
    assert arab.title == "Arab" and not arab.rows[0].delta and arab.rows[0].cells[-1].value == 6.0
    assert any("Arab: vanilla has no results here" in n for n in table.notes)
