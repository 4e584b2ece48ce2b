"""``--lang en`` never silently asks the native question: no English text is exit 2, or
``--translate-with`` translates it (cached, written down, noted in every output); an
English-only model asked in another language gets a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from _care_scripted import ScriptedBackend, scripted_lm

from culturalign.errors import ConfigError
from culturalign.evals.care.judged import run_care_eval
from culturalign.generate import generate_file
from culturalign.io import read_records
from culturalign.lm.cache import CallCache
from culturalign.lm.cached import LM
from culturalign.records import CulturalQuestion, GenerationParams, ModelResponse
from culturalign.translation import language_warning, prepare_lang, writes_english_only

FAST = GenerationParams(temperature=0, max_new_tokens=8)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "CULTURALIGN_PROGRESS": "0"}
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _questions() -> list[CulturalQuestion]:
    return [
        CulturalQuestion(id="q1", text="春节吃什么？", language="zh", culture="Chinese", category="Cultural entities",
                         reference_answer="饺子"),
        CulturalQuestion(id="q2", text="中秋节吃什么？", language="zh", culture="Chinese", category="Social norms",
                         reference_answer="月饼", text_en="What is eaten at the Mid-Autumn Festival?"),
        CulturalQuestion(id="q3", text="端午节吃什么？", language="zh", culture="Chinese", category="Literacy",
                         reference_answer="粽子"),
    ]  # fmt: skip


ENGLISH = {
    "春节吃什么？": "What is eaten at the Spring Festival?",
    "端午节吃什么？": "What is eaten at Duanwu?",
}


def _translator(cache, echo: set[str] = frozenset()) -> LM:
    """Translates by a lookup; echoes the question back (as weak models do) for ``echo``."""

    def script(r):
        question = r.messages[-1].content.rsplit("\n", 1)[-1]
        return question if question in echo else ENGLISH[question]

    return scripted_lm(script, cache, name="translator")


@pytest.mark.parametrize("name", ["Chinese-test.json", "Arabic-test.json"])
def test_lang_en_on_real_care_files_without_english_exits_2(shared_data, tmp_path, name):
    data = shared_data / "care" / name
    for cmd in (["generate", "-o", str(tmp_path / "r.jsonl")], ["eval", "care", "-o", str(tmp_path / "run")]):
        proc = _cli(*cmd, "--data", str(data), "--lang", "en", "--model", "no-such-backend:x")
        out = proc.stdout + proc.stderr
        assert proc.returncode == 2 and "Traceback" not in out, out
        # checked before the (bad) model spec is even parsed
        assert "--lang en: 150 of 150 questions have no English text (e.g. ids care-" in out
        assert "pass --translate-with SPEC" in out
    assert not (tmp_path / "run").exists()


def test_prepare_lang_names_what_is_missing():
    with pytest.raises(ConfigError, match=r"2 of 3 questions have no English text \(e\.g\. ids q1, q3\)"):
        prepare_lang(_questions(), "en")
    assert prepare_lang(_questions(), "native").questions == _questions()
    with pytest.raises(ConfigError, match="--translate-with needs --lang en"):
        prepare_lang(_questions(), "native", translator=object())


def test_generate_translates_the_missing_questions_once(tmp_path):
    cache = CallCache(tmp_path / "calls.sqlite")
    model = scripted_lm(lambda r: "An answer.", cache, name="model")
    translator = _translator(cache)
    out = tmp_path / "r.jsonl"
    summary = generate_file(model, "q.jsonl", out, lang="en", params=FAST, questions=_questions(),
                            translate_with=translator)  # fmt: skip
    asked = {r.item_id: r.question for r in read_records(out, ModelResponse)}
    assert asked == {
        "q1": "What is eaten at the Spring Festival?",
        "q2": "What is eaten at the Mid-Autumn Festival?",  # its own translation is kept
        "q3": "What is eaten at Duanwu?",
    }
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl.translations.jsonl").read_text().splitlines()]
    assert [(r["id"], r["text_en"], r["error"]) for r in rows] == [
        ("q1", "What is eaten at the Spring Festival?", None),
        ("q3", "What is eaten at Duanwu?", None),
    ]
    assert summary["machine_translated"] == 2 and summary["translate_with"] == "scripted:translator"
    assert summary["notes"][0].startswith("machine-translated: 2 questions by scripted:translator")
    on_disk = json.loads((tmp_path / "r.jsonl.summary.json").read_text())
    assert on_disk["notes"] == summary["notes"]
    # a second run translates nothing again: the call cache has both translations
    seen = len(translator.backend.seen)
    generate_file(
        model, "q.jsonl", out, lang="en", params=FAST, questions=_questions(), translate_with=translator
    )
    assert len(translator.backend.seen) == seen


def test_care_eval_notes_machine_translation_everywhere_and_drops_echoes(tmp_path):
    cache = CallCache(tmp_path / "calls.sqlite")
    model = scripted_lm(lambda r: "Dumplings.", cache, name="model")
    judge = scripted_lm(lambda r: "Good. Rating: [[7]]", cache, name="judge")
    out = tmp_path / "run"
    summary = run_care_eval(
        model,
        judge,
        _questions(),
        out,
        lang="en",
        params=FAST,
        translate_with=_translator(cache, {"端午节吃什么？"}),
    )
    # q3's "translation" is the Chinese question echoed back: left out, and said so
    assert summary.counts["judgments"] == 2
    note = next(n for n in summary.notes if n.startswith("machine-translated"))
    assert note.startswith("machine-translated: 1 questions by scripted:translator")
    assert "1 could not be translated and were left out" in note
    run = json.loads((out / "run.json").read_text())
    assert note in run["notes"] and run["config"]["machine_translated"] == 1
    assert run["models"]["translator"]["spec"] == "scripted:translator"
    assert note in (out / "table.md").read_text()
    failed = [json.loads(x) for x in (out / "translations.jsonl").read_text().splitlines() if '"q3"' in x]
    assert failed[0]["error"] == "the reply is not English text (its script reads as zh)"


class EnglishOnly(ScriptedBackend):
    english_only = True


def test_english_only_model_on_foreign_questions_is_warned_and_noted(tmp_path, capsys):
    lm = LM(EnglishOnly(lambda r: "Hi."), None, spec="scripted:english-only")
    assert writes_english_only(lm) and not writes_english_only(scripted_lm(lambda r: "x", None))
    assert language_warning(lm, _questions(), "native") == (
        "scripted:english-only writes English only, and 3 of 3 questions are asked in another "
        "language (zh 3): its answers to those measure little"
    )
    # in English (after translation) there is nothing to warn about
    assert language_warning(lm, [_questions()[1]], "en") is None
    summary = generate_file(lm, "q.jsonl", tmp_path / "r.jsonl", params=FAST, questions=_questions())
    assert any("writes English only" in n for n in summary["notes"])


def test_the_embedded_model_is_known_to_write_english_only(embedded_dir, shared_data, tmp_path):
    data = shared_data / "care" / "Chinese-test.json"
    proc = _cli("generate", "--data", str(data), "--limit", "2", "--max-new-tokens", "2", "--temperature", "0",
                "--out", str(tmp_path / "r.jsonl"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "writes English only, and 2 of 2 questions are asked in another language (zh 2)" in proc.stderr
    summary = json.loads((tmp_path / "r.jsonl.summary.json").read_text())
    assert summary["limit"] == 2 and summary["limit_order"] == "stratified"


def test_an_experiment_asking_in_english_without_translations_fails_while_planning(shared_data, tmp_path):
    from culturalign.pipeline.experiment import load_experiment
    from culturalign.pipeline.runner import Runner

    data = shared_data / "care" / "Arabic-test.json"
    exp_file = tmp_path / "e.yaml"
    body = "name: x\nmodels: {base: embedded}\njudge: embedded\nevaluations:\n"
    body += f"  - kind: care\n    data: {data}\n    langs: [native, en]\n    limit: 4\n"
    exp_file.write_text(body)
    runner = Runner(load_experiment(exp_file), exp_file, tmp_path / "out", cache=None)
    with pytest.raises(ConfigError, match=r"4 of 4 questions have no English text"):
        runner.stages()  # before any stage (or model) runs
    exp_file.write_text(body + "    translate_with: embedded\n")
    stages = Runner(load_experiment(exp_file), exp_file, tmp_path / "out", cache=None).stages()
    en = next(s for s in stages if s.name.endswith("vanilla-en"))
    assert en.config["translate_with"] == "embedded" and en.config["limit_order"] == "stratified"


def test_no_usable_translation_at_all_is_an_error_not_an_empty_run(tmp_path):
    from culturalign.translation import translate_missing

    echo = _translator(CallCache(tmp_path / "calls.sqlite"), set(ENGLISH))
    with pytest.raises(
        ConfigError, match=r"none of the 2 translations is usable \(2: the reply is not English"
    ):
        translate_missing(echo, _questions())


def test_pairs_and_sft_data_refuse_english_prompts_for_questions_without_english(tmp_path):
    from culturalign.datasets.pairs import make_pairs, unpaired_examples
    from culturalign.records.question import RatedResponse
    from culturalign.train.data import load_sft

    q = CulturalQuestion(
        id="zh-1",
        text="端午节吃什么？",
        language="zh",
        culture="Chinese",
        reference_answer="粽子。",
        responses=[RatedResponse(producer="a", text="粽子", rating=9), RatedResponse(producer="b", text="饺子", rating=3)],
    )
    with pytest.raises(ConfigError, match="1 of 1 questions have no English text"):
        make_pairs([q], lang="en")
    with pytest.raises(ConfigError, match="1 of 1 questions have no English text"):
        unpaired_examples([q], threshold=5, lang="en")
    assert len(make_pairs([q], lang="native").records) == 1  # native prompts are fine
    path = tmp_path / "questions.jsonl"
    path.write_text(q.model_copy(update={"responses": []}).model_dump_json() + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no English text"):
        load_sft(path, lang="en")
