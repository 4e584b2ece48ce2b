"""Loaders for the choice benchmarks: WVS, GlobalOpinionQA, CulturalBench, CALI, BLEnD and
generic multiple choice; on our sample files, on broken files (every problem located),
and on the real published files when they are present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from culturalign.datasets import blend, cali, culturalbench, detect_format, globalopinion, load_any, mcq, wvs
from culturalign.errors import DataError
from culturalign.paths import package_data
from culturalign.records import ChoiceItem, NLIItem, ShortAnswerItem
from culturalign.records.truefalse import TrueFalseItem

SAMPLE = package_data("data", "sample")


def _lines(exc: pytest.ExceptionInfo[DataError]) -> list[str]:
    return exc.value.lines()


# -- WVS ----------------------------------------------------------------------------------


def test_wvs_sample_numbering_renormalising_and_what_is_left_out():
    items, report = wvs.load_with_report(SAMPLE / "opinions_wvs")
    by_id = {i.id: i for i in items}
    assert set(by_id) == {"Q1", "Q7", "Q94", "Q57"}  # Q262 has no options, Q300 no shares
    assert report.without_options == ["Q262"] and report.without_shares == ["Q300"]
    # Mexico never chose option 4 of Q1: share 0; its shares sum to 0.995 → renormalised
    mex = by_id["Q1"].target_distributions["Mexico"]
    assert mex[3] == 0.0
    assert mex[0] == pytest.approx(0.93 / 0.995)
    # Q94 counts options from 0 (a share for "0" exists): "0" is the first option
    assert by_id["Q94"].target_distributions["Japan"][0] == pytest.approx(0.70 / 0.98)
    # Germany's empty table for Q57 leaves Germany out of that question only
    assert set(by_id["Q57"].target_distributions) == {"Japan", "Mexico"}
    assert all(i.kind == "opinion" for i in items)
    assert "6 questions over 3 countries" in report.line()
    assert detect_format(SAMPLE / "opinions_wvs") == "wvs"


def test_wvs_bad_files_report_every_located_problem(tmp_path):
    (tmp_path / "wvs_questions.json").write_text(
        json.dumps(
            [
                {"Q_id": "Q1", "question": "Trust?", "option_lst": ["Yes", "No"]},
                {"Q_id": "Q1", "question": "Again?", "option_lst": ["Yes", "No"]},
                {"question": "no id", "option_lst": ["a", "b"]},
            ]
        )
    )
    (tmp_path / "proportions_group_by_country.json").write_text(
        json.dumps({"USA": {"Q1": {"1": 0.5, "3": 0.5}, "Q9": {"1": 1.0}}, "JPN": {"Q1": {"2": "lots"}}})
    )
    with pytest.raises(DataError) as exc:
        wvs.load(tmp_path)
    text = "\n".join(_lines(exc))
    assert "wvs_questions.json:item 1: Q_id: duplicate question id 'Q1'" in text
    assert "wvs_questions.json:item 2: Q_id: required text is missing" in text
    assert "proportions_group_by_country.json:USA/Q1: option '3': outside the 2 options" in text
    assert "proportions_group_by_country.json:Q9: shares for question 'Q9'" in text
    assert "proportions_group_by_country.json:JPN/Q1: option '2': share must be a number" in text


def test_wvs_missing_partner_file(tmp_path):
    (tmp_path / "wvs_questions.json").write_text("[]")
    assert not wvs.sniff(tmp_path)
    with pytest.raises(DataError, match=r"proportions_group_by_country\.json: missing"):
        wvs.load(tmp_path)


def test_wvs_real_files(shared_data):
    items, report = wvs.load_with_report(shared_data / "wvs")
    assert report.line().startswith("291 questions over 19 countries")
    assert len(items) == 259 and report.items == 259
    assert len(report.without_options) == 8
    # every distribution is a proper distribution over its options
    for item in items:
        for dist in item.target_distributions.values():
            assert len(dist) == len(item.options) and sum(dist) == pytest.approx(1.0)
    q241 = next(i for i in items if i.id == "Q241")  # a 0-10 scale numbered from 0
    assert q241.options[0] == "0" and len(q241.options) == 11
    assert {"United States", "China", "India"} <= set(q241.target_distributions)


# -- GlobalOpinionQA --------------------------------------------------------------------


def test_globalopinion_sample_and_safe_parsing():
    items = globalopinion.load(SAMPLE / "opinions_globalopinionqa.csv")
    assert len(items) == 4 and items[0].id == "goqa-0"
    assert items[1].options == ["Obedience", "Independence", "Don't know"]
    assert items[1].target_distributions["Mexico"] == pytest.approx([0.52, 0.44, 0.04])
    assert detect_format(SAMPLE / "opinions_globalopinionqa.csv") == "globalopinionqa"
    parsed = globalopinion.parse_selections("defaultdict(<class 'list'>, {'Peru': [0.25, 0.75]})")
    assert parsed == {"Peru": [0.25, 0.75]}
    with pytest.raises(ValueError):  # a call is not a literal: never executed
        globalopinion.parse_selections("defaultdict(<class 'list'>, {'X': __import__('os').getpid()})")


def test_globalopinion_quirks_counted_and_bad_cells_located(tmp_path):
    good = tmp_path / "g.csv"
    good.write_text(
        "question,selections,options,source\n"
        "\"Q?\",\"defaultdict(<class 'list'>, {'A': [0.2, 0.6], 'B': [0.5, 0.3, 0.2], 'C': [0, 0]})\","
        "\"['x', 'y']\",GAS\n"
    )
    items, report = globalopinion.load_with_report(good)
    # A renormalised (sum 0.8), B has 3 shares for 2 options, C is all zero
    assert items[0].target_distributions == {"A": pytest.approx([0.25, 0.75])}
    assert (report.renormalised, report.length_mismatch, report.all_zero) == (1, 1, 1)
    bad = tmp_path / "b.csv"
    bad.write_text(
        "question,selections,options,source\n"
        '"Q1","not a dict","[\'x\', \'y\']",S\n'
        '"Q2","{\'A\': [0.5, 0.5]}","x, y",S\n'
    )
    with pytest.raises(DataError) as exc:
        globalopinion.load(bad)
    assert [line.split(": ", 1)[0] for line in _lines(exc)] == [f"{bad}:2", f"{bad}:3"]
    assert "selections" in _lines(exc)[0] and "options" in _lines(exc)[1]


# -- CulturalBench ----------------------------------------------------------------------


def test_culturalbench_easy_and_hard_samples():
    easy = culturalbench.load(SAMPLE / "culturalbench_easy.csv")
    assert len(easy) == 8 and all(isinstance(i, ChoiceItem) for i in easy)
    assert easy[1].answer == 1 and easy[1].culture == "China" and easy[1].kind == "culturalbench_easy"
    hard = culturalbench.load(SAMPLE / "culturalbench_hard.csv")
    assert len(hard) == 4 and all(isinstance(i, TrueFalseItem) for i in hard)
    assert hard[1].truths == [True, True, False, False]  # two right answers
    assert hard[2].options[1] == "Injera" and hard[2].id == "cb-hard-2"


def test_culturalbench_folder_loads_both_and_skips_incomplete(tmp_path):
    (tmp_path / "CulturalBench-Easy.csv").write_text(
        (SAMPLE / "culturalbench_easy.csv").read_text()
        + "8,8,What is missing?,a,,c,d,A,Peru\n"  # an empty option: skipped, counted
    )
    rows = (SAMPLE / "culturalbench_hard.csv").read_text().splitlines()
    # no question_idx column: rows are grouped by consecutive (question, country)
    header = "data_idx,prompt_question,prompt_option,answer,country"
    body = [",".join([r.split(",", 2)[0], r.split(",", 2)[2]]) for r in rows[1:]]
    (tmp_path / "CulturalBench-Hard.csv").write_text("\n".join([header, *body]) + "\n")
    items, report = culturalbench.load_with_report(tmp_path)
    assert (report.easy, report.hard, report.skipped_incomplete) == (8, 4, 1)
    assert sum(isinstance(i, TrueFalseItem) for i in items) == 4


def test_culturalbench_malformed_answers_are_located(tmp_path):
    f = tmp_path / "easy.csv"
    f.write_text(
        "question_idx,prompt_question,prompt_option_a,prompt_option_b,prompt_option_c,prompt_option_d,answer,country\n"
        "0,Q?,a,b,c,d,E,Peru\n"
    )
    with pytest.raises(DataError, match=r"easy.csv:2: answer: expected a letter A-D, found 'E'"):
        culturalbench.load(f)
    h = tmp_path / "hard.csv"
    h.write_text(
        "question_idx,prompt_question,prompt_option,answer,country\n0,Q?,a,maybe,Peru\n0,Q?,b,False,Peru\n"
    )
    with pytest.raises(DataError, match=r"hard.csv:2: answer: expected True or False, found 'maybe'"):
        culturalbench.load(h)


# -- CALI ---------------------------------------------------------------------------------


def test_cali_sample_labels_and_gold():
    items = cali.load(SAMPLE / "cali_sample.tsv")
    assert len(items) == 12 and all(isinstance(i, NLIItem) for i in items)
    assert items[0].id == "cali-2"
    assert items[2].gold("United States") == "N" and items[2].gold("India") == "E"
    assert items[11].gold("United States") is None  # E E N N C: a tie, dropped later
    assert '"see you soon"' in items[6].premise  # quotes survive with quoting off


def test_cali_bad_lines_are_located(tmp_path):
    f = tmp_path / "data.tsv"
    f.write_text(
        "premise\thypothesis\tus_ratings\tin_ratings\n"
        "p\th\t['E', 'X']\t['E']\n"
        "p\th\t['E']\n"
        "p\th\tE, N\t['N']\n"
    )
    with pytest.raises(DataError) as exc:
        cali.load(f)
    assert _lines(exc) == [
        f"{f}:2: us_ratings: unknown label \"'X'\"; labels are E, N and C",
        f"{f}:3: has 3 tab-separated fields; the header has 4",
        f"{f}:4: us_ratings: expected a list like ['E', 'N', 'C'], found 'E, N'",
    ]


def test_cali_real_file_has_2228_pairs_when_read_with_quoting_off(shared_data):
    import csv

    path = shared_data / "cali" / "data.tsv"
    items = cali.load(path)
    assert len(items) == 2228
    assert {c for i in items for c in i.labels} == {"United States", "India"}
    # the trap the loader avoids: a default CSV reader merges lines that hold quotes
    with path.open(encoding="utf-8", newline="") as fh:
        merged = list(csv.reader(fh, delimiter="\t"))
    assert len(merged) - 1 < 2228
    assert detect_format(path) == "cali"


# -- BLEnD --------------------------------------------------------------------------------


def test_blend_sample_folder_and_single_region():
    items = blend.load(SAMPLE / "blend_sample")
    assert len(items) == 7 and all(isinstance(i, ShortAnswerItem) for i in items)
    china = [i for i in items if i.region == "China"]
    assert china[0].language == "zh" and china[0].topic == "Food"
    assert china[0].annotations[0].answers == ["饺子", "水饺"]
    uk = blend.load(SAMPLE / "blend_sample" / "annotations" / "UK_data.json")
    assert [i.id for i in uk][:2] == ["UK/S-food-01", "UK/S-holiday-02"]
    assert uk[3].annotations == [] and uk[3].idk_count == 5
    assert detect_format(SAMPLE / "blend_sample") == "blend"


def test_blend_problems_are_located(tmp_path):
    ann = tmp_path / "annotations"
    ann.mkdir()
    (ann / "Atlantis_data.json").write_text("{}")
    (ann / "UK_data.json").write_text(
        json.dumps({"q1": {"question": "", "en_question": "", "annotations": []}})
    )
    with pytest.raises(DataError) as exc:
        blend.load(tmp_path)
    text = "\n".join(_lines(exc))
    assert "Atlantis_data.json: unknown BLEnD region 'Atlantis'" in text
    assert "UK_data.json:question q1: question: neither the local nor the English question has text" in text


def test_blend_real_folder(shared_data):
    items = blend.load(shared_data / "blend")
    assert len(items) == 4000
    assert {i.region for i in items} >= {"China", "Iran", "UK", "South Korea"}
    blank_local = [i for i in items if not i.question]
    assert [i.id for i in blank_local] == ["China/New-en-04"] and blank_local[0].question_en


# -- generic multiple choice --------------------------------------------------------------


def test_mcq_layouts(tmp_path):
    include = mcq.load(SAMPLE / "choice_include.csv")
    assert len(include) == 6 and include[1].answer == 1 and include[1].culture == "India"
    ours = mcq.load(SAMPLE / "choice_mcq.jsonl")
    assert ours[0].id == "mcq-1" and ours[0].topic == "Holidays"
    hub = tmp_path / "mmlu.jsonl"
    hub.write_text(
        json.dumps({"question": "2+2?", "choices": ["3", "4"], "answer": 1, "subject": "math"}) + "\n"
    )
    assert mcq.load(hub)[0].options == ["3", "4"] and mcq.load(hub)[0].topic == "math"
    plain = tmp_path / "dev.csv"
    plain.write_text(
        "Capital of France?,Paris,Rome,Oslo,Bern,A\nCapital of Peru?,Quito,Lima,La Paz,Bogota,B\n"
    )
    assert mcq.sniff(plain)
    assert [i.answer for i in mcq.load(plain)] == [0, 1]
    broken = tmp_path / "broken.csv"
    broken.write_text("question,option_a,option_b,answer\nQ?,x,y,Z\n")
    with pytest.raises(DataError, match=r"broken.csv:2: answer: expected an option index"):
        mcq.load(broken)


def test_registry_reads_our_formats():
    name, records = load_any(SAMPLE / "cali_sample.tsv")
    assert name == "cali" and len(records) == 12
    assert detect_format(SAMPLE / "culturalbench_hard.csv") == "culturalbench"
    assert not culturalbench.sniff(SAMPLE / "cali_sample.tsv")
    assert not cali.sniff(Path(SAMPLE / "culturalbench_easy.csv"))
