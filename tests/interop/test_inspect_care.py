"""CARE judging as an inspect_ai task, run offline with inspect's mockllm models: the
samples are culturalign's chats, the judge gets culturalign's rubric for the category,
and the metrics leave a reply without a rating out of the mean (counted as invalid)."""

from __future__ import annotations

import pytest

pytest.importorskip("inspect_ai", reason="inspect_ai is not installed (pip install -e '.[inspect]')")

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from culturalign.datasets import load_any
from culturalign.interop.inspect_care import care, care_samples
from culturalign.judge.rubric import load_rubrics
from culturalign.paths import package_data
from culturalign.prompting import build_messages

DATA = package_data("data", "sample", "care_questions.jsonl")


def _mock(reply):
    """A mockllm model whose reply is ``reply(last message text)``. Usage is set, else
    mockllm counts tokens with tiktoken, which downloads its encoding."""

    def outputs(messages, tools, tool_choice, config):
        out = ModelOutput.from_content(model="mockllm/model", content=reply(messages[-1].text))
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return get_model("mockllm/model", custom_outputs=outputs, memoize=False)


def test_care_task_judges_with_culturalign_rubrics(tmp_path):
    _, questions = load_any(DATA)
    questions = questions[:3]
    judge_prompts: list[str] = []
    ratings = iter(["Good. Rating: [[8]]", "Rating: [[5]]", "I cannot decide."])  # the third: no rating

    def judge_reply(prompt: str) -> str:
        judge_prompts.append(prompt)
        return next(ratings)

    task = care(data=str(DATA), judge=_mock(judge_reply))
    answerer = _mock(lambda question: f"An answer to: {question}")
    (log,) = inspect_eval(task, model=answerer, limit=3, log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    metrics = log.results.scores[0].metrics
    assert metrics["rating_mean"].value == pytest.approx(6.5)  # (8 + 5) / 2: the invalid one left out
    assert metrics["invalid"].value == 1
    assert metrics["rating_stderr"].value == pytest.approx(1.5)  # sd 2.1213 / sqrt(2)

    rubrics = load_rubrics()
    by_id = {q.id: q for q in questions}
    expected = {
        rubrics.for_category(q.category).render(
            {"question": q.text, "answer": q.reference_answer, "response": f"An answer to: {q.text}"}
        )
        for q in by_id.values()
    }
    assert set(judge_prompts) == expected  # the rubric of each question's category, filled in
    for sample in log.samples:
        q = by_id[sample.id]
        assert [m.text for m in sample.input] == [
            m.content for m in build_messages(q.text, culture=q.culture)
        ]


def test_samples_follow_the_prompting_mode():
    _, questions = load_any(DATA)
    (sample,) = care_samples(questions[:1], mode="roleplay")
    chat = build_messages(questions[0].text, mode="roleplay", culture=questions[0].culture)
    assert [m.role for m in sample.input] == [m.role for m in chat]
    assert sample.target == questions[0].reference_answer
    assert sample.metadata["category"] == str(questions[0].category)


def test_an_empty_answer_is_not_judged(tmp_path):
    asked: list[str] = []
    task = care(data=str(DATA), judge=_mock(lambda prompt: asked.append(prompt) or "Rating: [[9]]"))
    (log,) = inspect_eval(task, model=_mock(lambda q: ""), limit=1, log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    assert log.results.scores[0].metrics["invalid"].value == 1 and asked == []
