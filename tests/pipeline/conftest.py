from __future__ import annotations

from pathlib import Path

import pytest

TINY_EXPERIMENT = """\
name: tiny
data:
  questions: sample:care_questions.jsonl
  preferences: sample:care_prefs.jsonl
  split: {{per_category: 1, seed: 0}}
models:
  base: hf:{model}
judge: hf:{model}
generation: {{temperature: 0, max_new_tokens: 6}}
train:
  - name: dpo
    method: dpo
    base: base
    data: pairs
    lora: true
    config: {{preset: tiny-test, epochs: 1}}
evaluations:
  - kind: care
    langs: [en]
    limit: 3
    judge_generation: {{max_new_tokens: 8}}
    options: {{judge_retries: 0}}
  - kind: opinions
    data: sample:opinions_wvs
    limit: 3
report: {{baseline: base}}
"""


@pytest.fixture
def tiny_experiment(tmp_path, tiny_model_dir) -> Path:
    p = tmp_path / "exp.yaml"
    p.write_text(TINY_EXPERIMENT.format(model=tiny_model_dir))
    return p
