"""CultureBank knowledge most sources disagree with (pipeline ``norm`` 0, release
``agreement`` below 0.5) is never stated as a norm: it is negated where a rule can do that
reliably and left out of grounding otherwise, and both are counted. Hand-made rows in
both published layouts, starting from "people don't tip in Japan"."""

from __future__ import annotations

import json
import math

import pytest

from culturalign.datasets import culturebank
from culturalign.errors import DataError
from culturalign.evals.open_ended.grounded import load_grounded_questions, run_grounded_eval
from culturalign.io import read_records
from culturalign.records.knowledge import (
    GroundedQuestion,
    KnowledgeItem,
    describe,
    ground_all,
    grounding,
    support,
)
from culturalign.synth.grounded import RefineConfig, synthesize_grounded

# the pipeline layout (SALT-NLP/CultureBank data_process_pipeline): spaces, "actor's behavior", norm
PIPELINE_CSV = (
    "cluster_id,cultural group,context,goal,relation,actor,actor's behavior,recipient,"
    "recipient's behavior,other descriptions,topic,norm\n"
    # "people don't tip in Japan": the pipeline strips the negation and records norm 0
    "jp-tip,Japanese,in restaurants,to reward good service,customer and staff,customers,tip,waiters,"
    "thank them,A tip of 10% is usual.,Etiquette,0\n"
    "jp-bow,Japanese,when greeting,to show respect,,people,bow,,,,Etiquette,1\n"
    # a gerund behaviour, as the pipeline's dummy data has them
    "au-tip,Australians,in cafes,,,customers,Leaving tips,,,,Etiquette,0.2\n"
    # a behaviour that still holds a negation: negating it would make a double negative
    "fr-neg,French,at dinner,,,guests,do not cut the salad,,,,Food,0\n"
)


def _release(tmp_path):
    rows = [
        {  # structured and with the release's own description: the description says it positively
            "cluster_id": "jp-tip",
            "cultural group": "Japanese",
            "context": "in restaurants",
            "actor": "customers",
            "actor_behavior": "tip",
            "topic": "Etiquette",
            "agreement": 0.1,
            "eval_whole_desc": "In Japan, customers tip waiters in restaurants.",
            "eval_persona": "A tourist in Tokyo.",
            "eval_question": "I am eating out in Tokyo tonight; how much should I leave the waiter?",
        },
        {  # free text only, disputed: cannot be negated reliably, so left out
            "cluster_id": "x-free",
            "knowledge": "In Narnia, people greet each other by hugging.",
            "cultural group": "Narnian",
            "agreement": 0.3,
            "eval_question": "How should I greet my new neighbours?",
        },
        {  # exactly half agree: not "most disagree", stated as before
            "cluster_id": "se-fika",
            "cultural group": "Swedish",
            "actor_behavior": "take coffee breaks together",
            "agreement": 0.5,
            "eval_question": "How do I get to know my colleagues?",
        },
    ]
    path = tmp_path / "release.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def _pipeline(tmp_path):
    path = tmp_path / "pipeline.csv"
    path.write_text(PIPELINE_CSV, encoding="utf-8")
    return {i.id: i for i in culturebank.load(path)}


def test_pipeline_norm_is_kept_and_tipping_in_japan_is_negated(tmp_path):
    items = _pipeline(tmp_path)
    tip = items["jp-tip"]
    assert tip.norm == 0.0 and tip.agreement is None and support(tip) == 0.0
    text = describe(tip)
    assert text == (
        "In Japanese culture, in restaurants, it is not the norm that customers tip (toward waiters). "
        "The relationship involved: customer and staff. "
        "None of the sources that mention it say it is done."
    )
    assert "In Japanese culture, in restaurants, customers tip" not in text
    # goal, recipient's response and other descriptions describe the practice as if it happened
    assert "reward" not in text and "thank" not in text and "10%" not in text
    assert grounding(tip).stance == "negated"
    bow = items["jp-bow"]
    assert bow.norm == 1.0 and grounding(bow).stance == "stated"
    assert describe(bow).startswith("In Japanese culture, when greeting, people bow.")


def test_gerund_behaviour_and_behaviour_with_a_negation(tmp_path):
    items = _pipeline(tmp_path)
    assert describe(items["au-tip"]) == (
        "Among Australians, in cafes, leaving tips is not the norm for customers. "
        "Only about 20% of the sources that mention it say it is done."
    )
    g = grounding(items["fr-neg"])
    assert g.stance == "left-out" and g.text is None and "already holds a negation" in g.reason
    # describe() never crashes on it and never states it as a norm either
    assert describe(items["fr-neg"]).startswith("Most sources that mention the following disagree with it")
    kept, left_out, counts = ground_all(items.values())
    assert [i.id for i, _ in kept] == ["jp-tip", "jp-bow", "au-tip"]
    assert (counts.stated, counts.negated, counts.left_out, counts.left_out_ids) == (1, 2, 1, ["fr-neg"])
    assert [g.knowledge_id for g in left_out] == ["fr-neg"]


def test_support_is_the_lower_of_agreement_and_norm_and_out_of_range_is_located(tmp_path):
    assert support(KnowledgeItem(id="a", actor_behavior="x", agreement=0.8, norm=0.4)) == 0.4
    assert support(KnowledgeItem(id="b", actor_behavior="x")) is None
    assert grounding(KnowledgeItem(id="b", cultural_group="Thai", actor_behavior="wai")).stance == "stated"
    bad = tmp_path / "bad.csv"
    bad.write_text("cultural group,actor's behavior,norm\nThai,wai,2\nThai,bow,often\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        culturebank.load(bad)
    lines = info.value.lines()
    assert f"{bad}:2: norm: expected a number between 0 and 1, found 2" in lines
    assert any(line.startswith(f"{bad}:3: norm: expected a number") for line in lines)


def test_release_layout_eval_negates_left_out_is_counted(tmp_path, scripted):
    qs = load_grounded_questions(_release(tmp_path))
    by_id = {q.knowledge_id: q for q in qs}
    assert set(by_id) == {"jp-tip", "se-fika"} and qs.left_out_ids == ("x-free",)
    tip = by_id["jp-tip"]
    # the release's positive eval_whole_desc gives way to the negation of its fields
    assert tip.knowledge == (
        "In Japanese culture, in restaurants, it is not the norm that customers tip. "
        "Only about 10% of the sources that mention it say it is done."
    )
    assert tip.knowledge_stance == "negated" and by_id["se-fika"].knowledge_stance == "stated"
    assert "About 50% of the sources that mention it agree." in by_id["se-fika"].knowledge

    model, _ = scripted("model", reply=lambda r: "Leave nothing: tipping is not expected.")
    judge, judge_backend = scripted("judge", labels=lambda t: {"Yes": math.log(0.9), "No": math.log(0.1)})
    summary = run_grounded_eval(model, judge, qs, tmp_path / "run", knowledge_augmented=False)
    k = summary.knowledge
    assert (k.stated, k.negated, k.left_out, k.left_out_ids) == (1, 1, 1, ["x-free"])
    assert any(
        "1 knowledge item(s) that most sources disagree with were given as their negation" in n
        for n in summary.notes
    )
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["knowledge"]["left_out"] == 1 and saved["knowledge"]["negated"] == 1
    assert (
        "- knowledge: 1 stated, 1 given as its negation, 1 left out"
        in (tmp_path / "run" / "table.md").read_text()
    )
    # the judge saw the negation, never the positive statement
    judged = "\n".join(m.content for r in judge_backend.label_requests for m in r.prompt)
    assert "it is not the norm that customers tip" in judged and "customers tip waiters" not in judged


def test_synth_grounded_prompts_see_the_negation_and_list_what_was_left_out(tmp_path, scripted):
    items = list(_pipeline(tmp_path).values())
    seen: list[str] = []

    def reply(req):
        seen.append("\n".join(m.content for m in req.messages))
        q = "I am visiting Tokyo next month and eating out a lot; what should I know about paying?"
        return json.dumps({"scenario": "Travel advising", "persona": "A tourist.", "question": q})

    gen, _ = scripted("gen", reply=reply)
    chk, _ = scripted("chk", labels=lambda t: {"Yes": math.log(0.9), "No": math.log(0.1)})
    out = tmp_path / "q.jsonl"
    result = synthesize_grounded(gen, chk, items, RefineConfig(max_attempts=1), out=out)
    assert [q.knowledge_id for q in result.questions] == ["jp-tip", "jp-bow", "au-tip"]
    stance = {q.knowledge_id: q.knowledge_stance for q in read_records(out, GroundedQuestion)}
    assert stance == {"jp-tip": "negated", "jp-bow": "stated", "au-tip": "negated"}
    assert (result.knowledge.negated, result.knowledge.left_out) == (2, 1)
    assert result.notes and "left out" in result.notes[0]
    prompts = "\n".join(seen)
    assert "it is not the norm that customers tip" in prompts
    assert "in restaurants, customers tip" not in prompts and "do not cut the salad" not in prompts
    (left,) = [json.loads(line) for line in (tmp_path / "q.jsonl.left_out.jsonl").read_text().splitlines()]
    assert left["knowledge_id"] == "fr-neg" and left["stance"] == "left-out" and left["reason"]


def test_knowledge_text_export_negates_or_leaves_out_disputed_knowledge(tmp_path):
    from typer.testing import CliRunner

    from culturalign.cli import app
    from culturalign.records.grounded import KnowledgeText

    src = tmp_path / "pipeline.csv"
    src.write_text(PIPELINE_CSV, encoding="utf-8")
    out = tmp_path / "knowledge.jsonl"
    result = CliRunner().invoke(
        app, ["synth", "grounded-export", "--knowledge", str(src), "--knowledge-text", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 given as their negation; 1 left out" in result.output
    rows = {r.knowledge_id: r.text for r in read_records(out, KnowledgeText)}
    assert set(rows) == {"jp-tip", "jp-bow", "au-tip"}  # the double negative is left out
    assert rows["jp-tip"].startswith("In Japanese culture, in restaurants, it is not the norm that customers tip")
    assert rows["jp-bow"].startswith("In Japanese culture, when greeting, people bow.")
