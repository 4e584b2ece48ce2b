"""BLEnD's multiple-choice CSV (as the authors' multiple_choice_generation.py writes it):
loaded, checked with located errors, and scored per country (issue 14)."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import pytest

from culturalign.datasets import detect_format
from culturalign.datasets.blend_mcq import load, question_of
from culturalign.errors import DataError
from culturalign.evals.choice.mcq import run_mcq
from culturalign.lm.base import Backend, LabelScoreResult
from culturalign.lm.cached import LM

HEADER = ["MCQID", "ID", "country", "prompt", "choices", "choice_countries", "answer_idx"]
INSTRUCTION = (
    " Without any explanation, choose only one from the given alphabet choices(e.g., A, B, C). "
    'Provide as JSON format: {"answer_choice":""}\n\n'
)


def _row(mcqid: str, country: str, question: str, options: dict[str, tuple[str, str]], answer: str) -> list:
    prompt = (
        question + INSTRUCTION + "".join(f"{k}. {text}\n" for k, (text, _) in options.items()) + "\nAnswer:"
    )
    return [
        mcqid,
        mcqid.rsplit("_", 1)[0],
        country,
        prompt,
        json.dumps({k: t for k, (t, _) in options.items()}, indent=4, ensure_ascii=False),
        json.dumps({k: c for k, (_, c) in options.items()}, indent=4, ensure_ascii=False),
        answer,
    ]


ROWS = [
    _row(
        "Al-en-06_0",
        "UK",
        "What is a common snack for preschool kids in the UK?",
        {
            "A": ("crisps", "UK"),
            "B": ("rice cake", "South_Korea"),
            "C": ("tacos", "Mexico"),
            "D": ("pebbles", "dummy"),
        },
        "A",
    ),
    _row(
        "Al-en-06_1",
        "South_Korea",
        "What is a common snack for preschool kids in South Korea?",
        {
            "A": ("crisps", "UK"),
            "B": ("pebbles", "dummy"),
            "C": ("rice cake", "South_Korea"),
            "D": ("tacos", "Mexico"),
        },
        "C",
    ),
    _row(
        "Al-en-07_2",
        "South_Korea",
        "What is the most popular sport in South Korea?",
        {
            "A": ("baseball", "South_Korea"),
            "B": ("cricket", "UK"),
            "C": ("curling", "dummy"),
            "D": ("football", "Mexico"),
        },
        "A",
    ),
]


def _write(path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)


def test_loads_the_published_layout(tmp_path):
    path = tmp_path / "mc_questions_file.csv"
    _write(path, ROWS)
    assert detect_format(path) == "blend-mcq"
    items = load(path)
    assert [i.id for i in items] == ["Al-en-06_0", "Al-en-06_1", "Al-en-07_2"]
    first = items[0]
    assert first.question == "What is a common snack for preschool kids in the UK?"
    assert first.options == ["crisps", "rice cake", "tacos", "pebbles"] and first.answer == 0
    assert items[1].culture == "South Korea" and items[1].answer == 2
    assert {i.source for i in items} == {"blend-mc"} and {i.language for i in items} == {"en"}
    assert question_of("Q?\nA. x\nB. y\n") == "Q?"  # without BLEnD's instruction, cut at the options


def test_bad_rows_are_located(tmp_path):
    bad = [list(r) for r in ROWS]
    bad[0][6] = "E"  # not one of the letters
    bad[1][4] = '{"A": "crisps", "C": "x"}'  # letters with a gap
    bad[2][5] = "not json"
    path = tmp_path / "mc.csv"
    _write(path, bad)
    with pytest.raises(DataError) as exc:
        load(path)
    text = "\n".join(exc.value.lines())
    assert "answer_idx: 'E' is not one of the letters A, B, C, D" in text
    assert "choices: letters ['A', 'C'] are not ['A', 'B']" in text
    assert "choice_countries: not JSON" in text
    # each problem names the line its row starts on: a row spans 18 lines (8 of prompt, 6 of
    # each JSON column, fields meeting on a shared line); the second, with one-line choices, 13
    assert f"{path}:2: answer_idx" in text and f"{path}:20: choices" in text
    assert f"{path}:33: choice_countries" in text


def test_header_without_the_columns_is_an_error(tmp_path):
    path = tmp_path / "mc.csv"
    path.write_text("MCQID,prompt,choices,answer_idx\nx,p,{},A\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load(path)
    assert "header lacks ID, country, choice_countries" in "\n".join(exc.value.lines())


class AlwaysA(Backend):
    kind = "scripted"

    def identity(self):
        return {"backend": "scripted-a"}

    def generate(self, requests, on_done):
        raise NotImplementedError

    def label_logprobs(self, requests, on_done):
        for i, r in enumerate(requests):
            ps = [0.7] + [0.3 / (len(r.labels) - 1)] * (len(r.labels) - 1)
            on_done(
                i, LabelScoreResult(logprobs={lab: math.log(p) for lab, p in zip(r.labels, ps, strict=True)})
            )


def test_scored_per_country(tmp_path):
    path = tmp_path / "mc.csv"
    _write(path, ROWS)
    # always "A": right on the UK row and the South Korea baseball row, wrong on rice cake
    s = run_mcq(LM(AlwaysA(), None, "scripted"), load(path), tmp_path / "run")
    assert s["accuracy"] == pytest.approx(2 / 3)
    assert s["per_culture"]["UK"]["accuracy"] == 1.0
    assert s["per_culture"]["South Korea"]["accuracy"] == pytest.approx(0.5)
    assert s["accuracy_interval"]["n"] == 3


def test_eval_blend_on_a_bad_mc_file_exits_2(tmp_path):
    bad = [list(r) for r in ROWS]
    bad[0][6] = "Z"
    path = tmp_path / "mc.csv"
    _write(path, bad)
    proc = subprocess.run(
        [sys.executable, "-m", "culturalign", "eval", "blend", "--data", str(path), "--out", str(tmp_path / "o"),
         "--model", "hf:/nonexistent"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert f"{path}:" in proc.stderr and "answer_idx: 'Z' is not one of the letters" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_blend_scores_an_mc_file(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from culturalign.cli import app

    path = tmp_path / "mc.csv"
    _write(path, ROWS)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["eval", "blend", "--data", str(path), "--out", str(out), "--model", f"hf:{tiny_model_dir}"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["questions"] == 3 and set(summary["per_culture"]) == {"UK", "South Korea"}
    assert json.loads((out / "run.json").read_text())["kind"] == "eval-mcq"
