"""The two rubric-judged evaluations as experiment stages (``kind: prism`` and
``kind: culturebank-quality``), run by the real runner with a tiny model; a rerun skips
them."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

EXPERIMENT = """\
name: rubric-tiny
data:
  questions: sample:care_questions.jsonl
models:
  base: hf:{model}
judge: hf:{model}
generation: {{temperature: 0, max_new_tokens: 6}}
evaluations:
  - kind: prism
    data: {convs}
    limit: 2
    judge_generation: {{max_new_tokens: 8}}
    options: {{survey: {survey}, topic_filter: keywords}}
  - kind: culturebank-quality
    data: {cb}
    limit: 2
    judge_generation: {{max_new_tokens: 8}}
"""


def test_prism_and_culturebank_quality_stages_run_and_skip_on_rerun(tmp_path, tiny_model_dir):
    from culturalign.pipeline.experiment import load_experiment
    from culturalign.pipeline.runner import Runner

    cb = tmp_path / "cb.jsonl"
    cb.write_text(
        "".join(
            json.dumps(
                {
                    "cultural group": group,
                    "actor_behavior": "greet elders first",
                    "topic": "Etiquette",
                    "eval_scenario": "Visit",
                    "eval_persona": "A guest.",
                    "eval_question": f"How do I greet my hosts in {group}?",
                }
            )
            + "\n"
            for group in ("Korean", "Mexican")
        )
    )
    path = tmp_path / "exp.yaml"
    path.write_text(
        EXPERIMENT.format(
            model=tiny_model_dir,
            convs=FIXTURES / "prism_conversations.jsonl",
            survey=FIXTURES / "prism_survey.jsonl",
            cb=cb,
        )
    )
    exp = load_experiment(path)
    out = tmp_path / "run"
    first = Runner(exp, path, out, cache=None).run()
    ran = " ".join(first["ran"])
    assert "eval:prism:base" in ran and "eval:culturebank-quality:base" in ran
    prism = json.loads(next((out / "eval" / "prism").rglob("summary.json")).read_text())
    assert prism["counts"]["items"] == 2 and prism["rubric"] == "prism_awareness"
    cbq = json.loads(next((out / "eval" / "culturebank-quality").rglob("summary.json")).read_text())
    assert set(cbq["cultures"]) <= {"Korean", "Mexican"} and cbq["counts"]["items"] == 2
    again = Runner(exp, path, out, cache=None).run()
    assert not [k for k in again["ran"] if k.startswith("eval:")]
