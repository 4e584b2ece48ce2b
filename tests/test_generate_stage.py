"""The generation stage on a tiny real model: prompting modes, one record per item, resume."""

from __future__ import annotations

from culturalign.generate import generate_responses
from culturalign.io import read_records
from culturalign.lm import load_lm
from culturalign.lm.cache import CallCache
from culturalign.prompting import build_messages
from culturalign.records import CulturalQuestion, GenerationParams, ModelResponse

GREEDY = GenerationParams(temperature=0, max_new_tokens=6)


def _questions(n: int) -> list[CulturalQuestion]:
    return [
        CulturalQuestion(
            id=f"q{i}",
            text=f"问题 {i}？",
            text_en=f"Question {i}?",
            language="zh",
            culture="Chinese",
            category="Social norms",
            reference_answer="答案",
        )
        for i in range(n)
    ]


def test_modes_build_distinct_prompts():
    van = build_messages("Q?", mode="vanilla", culture="Arab")
    cot = build_messages("Q?", mode="cot", culture="Arab")
    rp = build_messages("Q?", mode="roleplay", culture="Arab")
    assert [m.role for m in van] == ["user"] and van[0].content == "Q?"
    assert cot[0].role == "system" and "step" in cot[-1].content
    assert "Arab" in rp[0].content
    sys = build_messages("Q?", mode="roleplay", culture="Arab", system_prompt="Be brief.")
    assert sys[0].content == "Be brief."


def test_generate_writes_one_record_per_item_and_resumes(tiny_model_dir, tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    out = tmp_path / "responses.jsonl"
    lm = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    first = generate_responses(lm, _questions(6)[:3], params=GREEDY, out=out, lang="en")
    assert [r.question for r in first] == ["Question 0?", "Question 1?", "Question 2?"]
    lm2 = load_lm(f"hf:{tiny_model_dir}", cache=cache)
    generate_responses(lm2, _questions(6), params=GREEDY, out=out, lang="en")
    assert lm2.stats.calls == 3 and lm2.stats.cache_hits == 3
    rows = read_records(out, ModelResponse)
    assert [r.item_id for r in rows] == [f"q{i}" for i in range(6)]
    assert not (tmp_path / "responses.jsonl.partial").exists()


def test_output_folder_is_created(tiny_model_dir, tmp_path):
    out = tmp_path / "not" / "yet" / "there.jsonl"
    lm = load_lm(f"hf:{tiny_model_dir}", cache=CallCache(tmp_path / "c.sqlite"))
    generate_responses(lm, _questions(1), params=GREEDY, out=out)
    assert len(read_records(out, ModelResponse)) == 1
