"""Run folders for the viewer's tests, written with the same records and writers the
evaluations use (``Judgment``, ``ModelResponse``, ``RunLog``), so the viewer reads what a
real run writes, without a model in the loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from culturalign.io import write_json, write_records
from culturalign.records.generation import ChatMessage, ModelResponse
from culturalign.records.judgment import JudgeAttempt, JudgeSample, Judgment
from culturalign.runlog import RunLog

SAMPLE_QUESTIONS = Path(__file__).resolve().parents[2] / "src/culturalign/data/sample/care_questions.jsonl"

# Untrusted model output (the annotation app's payloads, and ones aimed at the embedded JSON).
XSS_PAYLOADS = [
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    '<a href="javascript:window.__pwned = 3">click me</a>',
    '"><svg onload=alert(6)>',
    '</textarea></div><iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>',
    "</script><script>window.__pwned = 8</script><!--",
    "line\u2028separator\u2029and &amp; &lt;b&gt; entities",
]


def sample_questions(n: int | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in SAMPLE_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    return rows[:n] if n else rows


def judgment(
    q: dict[str, Any],
    model: str,
    response: str | None,
    rating: float | None,
    *,
    reply: str | None = None,
    status: str | None = None,
    reason: str | None = None,
    tries: int = 1,
) -> Judgment:
    """A judgment as the judging loop writes it: every attempt but the last failed to parse."""
    status = status or ("ok" if rating is not None else "invalid")
    reply = reply if reply is not None else (f"Rating: [[{rating:g}]]" if rating is not None else "no idea")
    attempts = [
        JudgeAttempt(attempt=i, seed=i * 1000, temperature=0.0 if i == 0 else 0.7, reply="I think…",
                     parse_status="missing", parse_detail="no rating found")
        for i in range(tries - 1)
    ]  # fmt: skip
    last_ok = rating is not None
    attempts.append(
        JudgeAttempt(
            attempt=tries - 1,
            seed=(tries - 1) * 1000,
            temperature=0.0,
            reply=reply,
            parse_status="ok" if last_ok else "missing",
            parse_detail="" if last_ok else "no rating found",
            rating=rating,
        )
    )
    if status == "invalid" and reason is None:
        reason = f"no valid rating after {tries} attempt(s): no rating found"
    return Judgment(
        item_id=q["id"],
        question=q["text"],
        reference=q.get("reference_answer"),
        response=response,
        category=q.get("category"),
        scope=q.get("geographic_scope"),
        culture=q["culture"],
        model=model,
        judge="hf:judge",
        rubric="entities_opinion",
        rating=rating,
        valid=status == "ok",
        status=status,
        reason=reason,
        judge_reply=reply if status != "skipped" else None,
        samples=[JudgeSample(sample=0, rating=rating, attempts=attempts)] if status != "skipped" else [],
        attempts=tries if status != "skipped" else 0,
    )


def response(q: dict[str, Any], model: str, text: str | None, error: str | None = None) -> ModelResponse:
    return ModelResponse(
        item_id=q["id"],
        model=model,
        messages=[ChatMessage(role="user", content=q["text"])],
        text=text,
        error=error,
        culture=q["culture"],
        category=q.get("category"),
        geographic_scope=q.get("geographic_scope"),
        question=q["text"],
        reference_answer=q.get("reference_answer"),
    )


def run_log(out: Path, kind: str, model: str, judge: str | None = "hf:judge") -> None:
    log = RunLog(kind=kind)
    log.models["model"] = {"spec": model}
    if judge:
        log.models["judge"] = {"spec": judge}
    log.finish(out)


def care_run(
    out: Path,
    model: str,
    judgments: list[Judgment],
    responses: list[ModelResponse] | None = None,
    *,
    kind: str = "eval-care",
    answers_file: str = "responses.jsonl",
    scale: tuple[int, int] | None = None,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "judgments.jsonl", judgments)
    if responses is not None:
        write_records(out / answers_file, responses)
    if scale is not None:
        write_json(out / "summary.json", {"label": out.name, "scale": list(scale)})
    run_log(out, kind, model)
    return out


def items_run(
    out: Path, kind: str, model: str, records: list[dict[str, Any]], *, partial: bool = False
) -> Path:
    """A choice benchmark's folder: ``items.jsonl`` (or the salvage file of a stopped run)."""
    out.mkdir(parents=True, exist_ok=True)
    name = "items.jsonl.partial" if partial else "items.jsonl"
    (out / name).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    run_log(out, kind, model, judge=None)
    return out
