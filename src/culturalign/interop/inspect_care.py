"""CARE judging as an inspect_ai task: culturalign's questions, prompts and rubric judge
inside inspect's eval loop (the ``[inspect]`` extra).

* dataset: the CARE questions (any file ``culturalign eval care`` reads), each a sample
  whose input is the chat culturalign sends under a prompting mode
  (``prompting.build_messages``: vanilla, cot, roleplay) and whose target is the human
  reference answer;
* solver: inspect's ``generate()``;
* scorer: ``care_judge``: the CARE rubric for the question's category
  (``judge.rubric.load_rubrics``), filled with question, reference and response, sent to
  the judge model; the reply's rating is read by ``judge.parse.parse_rating``. A reply
  with no valid rating has a NaN ``rating`` (which inspect's epoch reducers skip) and
  ``invalid`` 1: it is left out of ``rating_mean`` and counted by ``invalid``, as
  culturalign's CARE tables count invalid judgments instead of scoring them 0. (A NaN
  score at the root would drop the sample before any metric sees it, so nothing could
  count it.)

Unlike ``culturalign eval care``, a judge reply without a rating is not asked again
with a fresh seed, and there is no k-sample median; inspect's own retries cover failed
calls. Run it with::

    inspect eval src/culturalign/interop/inspect_care.py@care -T data=questions.json \\
        --model openai/gpt-4o-mini -T judge=openai/gpt-4o
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, Model, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState, generate

from culturalign.judge.parse import parse_rating
from culturalign.judge.rubric import load_rubrics
from culturalign.prompting import build_messages


def _valid(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value)


def _ratings(scores: list[SampleScore]) -> list[float]:
    values = (s.score.value.get("rating") for s in scores if isinstance(s.score.value, dict))
    return [float(v) for v in values if _valid(v)]


@metric
def rating_mean() -> Metric:
    """Mean judge rating over the responses that got a valid one."""

    def compute(scores: list[SampleScore]) -> float:
        values = _ratings(scores)
        return sum(values) / len(values) if values else float("nan")

    return compute


@metric
def rating_stderr() -> Metric:
    """Sample standard error (n - 1) of the valid ratings."""

    def compute(scores: list[SampleScore]) -> float:
        values = _ratings(scores)
        n = len(values)
        if n < 2:
            return float("nan")
        mu = sum(values) / n
        return (sum((v - mu) ** 2 for v in values) / (n - 1) / n) ** 0.5

    return compute


@metric
def invalid() -> Metric:
    """How many judge replies held no valid rating (CARE reports these, never as 0)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(s.score.value.get("invalid", 0) for s in scores if isinstance(s.score.value, dict)))

    return compute


def care_samples(
    questions: list[Any], mode: str = "vanilla", template_dir: str | Path | None = None
) -> list[Sample]:
    """One sample per question: the chat culturalign would send, the reference as target."""
    samples = []
    for q in questions:
        chat = build_messages(q.text, mode=mode, culture=q.culture, template_dir=template_dir)
        messages = [
            ChatMessageSystem(content=m.content) if m.role == "system" else ChatMessageUser(content=m.content)
            for m in chat
        ]
        samples.append(
            Sample(
                id=q.id,
                input=messages,
                target=q.reference_answer or "",
                metadata={
                    "question": q.text,
                    "category": None if q.category is None else str(q.category),
                    "culture": q.culture,
                    "language": q.language,
                },
            )
        )
    return samples


@scorer(metrics=[rating_mean(), rating_stderr(), invalid()])
def care_judge(judge: str | Model | None = None, judge_templates: str | None = None):
    """The CARE rubric judge; ``judge`` is a model name or Model (default: the model under
    evaluation, inspect's default for model-graded scorers)."""
    rubrics = load_rubrics(judge_templates)

    async def score(state: TaskState, target: Target) -> Score:
        rubric = rubrics.for_category(state.metadata.get("category"))
        response = state.output.completion
        if not response.strip():  # a failed or empty reply: nothing to judge (as in eval care)
            return Score(value={"rating": float("nan"), "invalid": 1.0}, explanation="no response to judge")
        prompt = rubric.render(
            {"question": state.metadata["question"], "answer": target.text, "response": response}
        )
        model = judge if isinstance(judge, Model) else get_model(judge)
        reply = await model.generate(prompt)
        parsed = parse_rating(reply.completion, scale=rubric.high, low=rubric.low)
        meta = {"rubric": rubric.name, "rubric_sha": rubric.sha, "parse_status": parsed.status}
        if parsed.rating is None:
            value = {"rating": float("nan"), "invalid": 1.0}
        else:
            value = {"rating": float(parsed.rating), "invalid": 0.0}
        return Score(value=value, answer=response, explanation=reply.completion, metadata=meta)

    return score


@task
def care(
    data: str,
    judge: str | Model | None = None,
    mode: str = "vanilla",
    templates: str | None = None,
    judge_templates: str | None = None,
    max_tokens: int = 1024,
) -> Task:
    """CARE: answer each culture-specific question, have the judge rate it 1-10."""
    from culturalign.datasets import load_any
    from culturalign.errors import ConfigError
    from culturalign.records import CulturalQuestion

    name, records = load_any(Path(data), None)
    questions = [r for r in records if isinstance(r, CulturalQuestion)]
    if not questions:
        raise ConfigError(f"{data}: read as {name!r}, which holds no CARE questions")
    return Task(
        dataset=MemoryDataset(care_samples(questions, mode, templates), name="culturalign_care"),
        solver=generate(max_tokens=max_tokens),
        scorer=care_judge(judge, judge_templates),
    )
