"""The grounded evaluation stage (paper 003 §5.2.1): the model under test answers each
situation-grounded question; a judge gives the knowledge-entailment score, P(Yes) to
"does this answer reflect the knowledge?". The same question answered with the
knowledge in the prompt (knowledge-augmented, §4.2.1) is the upper reference.

Run directory::

    items.jsonl   one GroundedEvalItem per question: both answers, scores, methods
    summary.json  GroundedSummary: mean score and share entailed (≥ 0.5), overall,
                  per cultural group and per topic, plain beside augmented; notes
    table.md      the same as tables
    run.json      RunLog: model identities, data fingerprint, template shas, call stats

Every call goes through the call cache: a rerun makes no model calls.

Knowledge most of its sources disagree with is judged against its negation, or left out
when it cannot be negated reliably (``records.knowledge.grounding``); ``summary.json``
counts the questions whose knowledge was stated and negated and the knowledge items left
out on loading (``knowledge``), and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from culturalign.errors import DataError, Problem
from culturalign.evals.open_ended.grounded_stats import ENTAILED_AT, GroundedSummary, summarize, to_markdown
from culturalign.io import atomic_write_text, iter_jsonl, read_records, write_json, write_records
from culturalign.lm.cached import LM
from culturalign.lm.yesno import YesNoScore, ask_yes_no
from culturalign.records.generation import ChatMessage, Completion, GenerationParams
from culturalign.records.grounded import GroundedEvalItem, JudgedAnswer
from culturalign.records.knowledge import GroundedQuestion, KnowledgeCounts
from culturalign.runlog import RunLog
from culturalign.sampling import sample_limit
from culturalign.synth import grounded_prompts as gp

#: answers are greedy by default so a rerun of the benchmark gives the same numbers
ANSWER_PARAMS = GenerationParams(temperature=0, max_new_tokens=512)


def is_embedded(lm: LM) -> bool:
    return lm.spec.strip().split("+")[0].split(":")[0] == "embedded"


def answer_messages(
    q: GroundedQuestion, augmented: bool, template_dir: str | Path | None = None
) -> list[ChatMessage]:
    """The prompt for a plain answer, or one with the knowledge in it."""
    if augmented:
        return gp.render_chat(
            gp.load("answer_augmented", template_dir), knowledge=q.knowledge, question=q.question
        )
    return gp.render_chat(gp.load("answer", template_dir), question=q.question)


class GroundedQuestions(list[GroundedQuestion]):
    """The loaded questions, and how many knowledge items were left out on loading
    because most sources disagree with them and they could not be negated reliably."""

    left_out_ids: tuple[str, ...] = ()


def knowledge_counts(
    questions: Sequence[GroundedQuestion], left_out_ids: Sequence[str] = ()
) -> KnowledgeCounts:
    """Stated and negated questions by their ``knowledge_stance`` (None, from files written
    before it was recorded, counts as stated), plus the items left out before them."""
    negated = sum(q.knowledge_stance == "negated" for q in questions)
    return KnowledgeCounts(
        stated=len(questions) - negated,
        negated=negated,
        left_out=len(left_out_ids),
        left_out_ids=list(left_out_ids),
    )


def load_grounded_questions(path: str | Path) -> GroundedQuestions:
    """Questions from ``synth grounded`` output, or a CultureBank file that carries its own
    ``eval_question`` column (the published benchmark)."""
    path = Path(path)
    if not path.exists():
        raise DataError([Problem(str(path), None, None, "no such file")])
    if path.suffix.lower() == ".jsonl":
        first = next(iter_jsonl(path), None)
        if first is not None and "knowledge_id" in first[1] and "question" in first[1]:
            return GroundedQuestions(read_records(path, GroundedQuestion))
    from culturalign.datasets import culturebank
    from culturalign.records.knowledge import ground_all

    with_q = [i for i in culturebank.load(path) if i.eval_question]
    if not with_q:
        raise DataError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "holds knowledge but no questions; generate them with `culturalign synth grounded`, "
                    "or give an eval_question column",
                )
            ]
        )
    kept, left_out, _ = ground_all(with_q)
    out = GroundedQuestions(
        GroundedQuestion(
            id=f"{i.id}-q",
            knowledge_id=i.id,
            knowledge=g.text or "",
            cultural_group=i.cultural_group,
            topic=i.topic,
            scenario=i.eval_scenario or "",
            persona=i.eval_persona or "",
            question=i.eval_question or "",
            attempts=0,
            score_source="given",
            knowledge_stance="negated" if g.stance == "negated" else "stated",
        )
        for i, g in kept
    )
    out.left_out_ids = tuple(g.knowledge_id for g in left_out)
    return out


def _judged(c: Completion, score: YesNoScore | None) -> JudgedAnswer:
    if not c.ok:
        return JudgedAnswer(text=None, error=c.error or "no text")
    assert score is not None
    return JudgedAnswer(
        text=c.text,
        entailment=score.p_yes,
        method=score.method if score.ok else None,
        judge_error=score.error,
    )


def judge_answers(
    judge_lm: LM,
    questions: Sequence[GroundedQuestion],
    completions: Sequence[Completion],
    template_dir: str | Path | None = None,
    desc: str = "knowledge entailment",
) -> list[JudgedAnswer]:
    """Entailment scores for answers (one per question); failed answers are not judged."""
    template = gp.load("entailment", template_dir)
    todo = [i for i, c in enumerate(completions) if c.ok]
    prompts = [
        gp.render_chat(template, knowledge=questions[i].knowledge, answer=completions[i].text) for i in todo
    ]
    scores = dict(zip(todo, ask_yes_no(judge_lm, prompts, desc=desc), strict=True))
    return [_judged(c, scores.get(i)) for i, c in enumerate(completions)]


def run_grounded_eval(
    model_lm: LM,
    judge_lm: LM,
    questions: Sequence[GroundedQuestion],
    out_dir: str | Path,
    *,
    knowledge_augmented: bool = True,
    augment_lm: LM | None = None,
    params: GenerationParams | None = None,
    threshold: float = ENTAILED_AT,
    template_dir: str | Path | None = None,
    limit: int | None = None,
    data_path: str | Path | None = None,
    limit_order: str = "stratified",
    label: str | None = None,
) -> GroundedSummary:
    """Answer (cached), judge (cached) and tabulate one model on grounded questions.

    ``augment_lm`` writes the knowledge-augmented answers (the model under test when
    None, which makes them its own upper reference; a stronger model makes them better
    DPO/SFT targets). ``params`` are the answer decoding settings (greedy, 512 new
    tokens when None). Returns the summary also written to ``summary.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    left_out_ids = tuple(getattr(questions, "left_out_ids", ()))  # set by load_grounded_questions
    questions = sample_limit(questions, limit, order=limit_order)  # by cultural group unless "file"
    params = params or ANSWER_PARAMS
    augment_lm = (augment_lm or model_lm) if knowledge_augmented else None
    names = ("answer", "entailment", *(("answer_augmented",) if knowledge_augmented else ()))
    log = RunLog(
        kind="eval-grounded",
        config={
            "items": len(questions),
            "limit": limit,
            "limit_order": limit_order if limit is not None else None,
            "knowledge_augmented": knowledge_augmented,
            "threshold": threshold,
            "params": params.model_dump(mode="json"),
            "template_dir": str(template_dir) if template_dir else None,
        },
        prompts=gp.prompt_hashes(template_dir, names),
    )
    log.add_model("model", model_lm)
    log.add_model("judge", judge_lm)
    if augment_lm is not None and augment_lm is not model_lm:
        log.add_model("augment", augment_lm)
    if data_path is not None:
        log.add_data(data_path)

    plain_msgs = [answer_messages(q, False, template_dir) for q in questions]
    aug_msgs = [answer_messages(q, True, template_dir) for q in questions] if augment_lm else []
    if augment_lm is model_lm:  # one batched call for both kinds of answer
        both = model_lm.generate([*plain_msgs, *aug_msgs], params, desc="grounded answers")
        plain_c, aug_c = [s[0] for s in both[: len(questions)]], [s[0] for s in both[len(questions) :]]
    else:
        plain_c = [s[0] for s in model_lm.generate(plain_msgs, params, desc="grounded answers")]
        aug_c = (
            [s[0] for s in augment_lm.generate(aug_msgs, params, desc="augmented answers")]
            if augment_lm
            else []
        )
    judged = judge_answers(judge_lm, [*questions, *questions[: len(aug_c)]], [*plain_c, *aug_c], template_dir)
    items = [
        GroundedEvalItem(
            question_id=q.id,
            knowledge_id=q.knowledge_id,
            cultural_group=q.cultural_group,
            topic=q.topic,
            knowledge=q.knowledge,
            question=q.question,
            plain=judged[i],
            augmented=judged[len(questions) + i] if aug_c else None,
        )
        for i, q in enumerate(questions)
    ]
    notes: list[str] = []
    if is_embedded(judge_lm):
        from culturalign.models.embedded import EMBEDDED_JUDGE_WARNING

        notes.append(EMBEDDED_JUDGE_WARNING)
    if not judge_lm.supports_logprobs:
        notes.append(f"The judge `{judge_lm.spec}` gives no log-probabilities; scores are parsed verdicts.")
    if augment_lm is not None and augment_lm is not model_lm:
        notes.append(f"Knowledge-augmented answers come from `{augment_lm.spec}`, not the model under test.")
    counts = knowledge_counts(questions, left_out_ids)
    if note := counts.note():
        notes.append(note)
    summary = summarize(
        items,
        label=label or out.name,
        model=model_lm.spec,
        judge=judge_lm.spec,
        augment_model=augment_lm.spec if augment_lm is not None else None,
        threshold=threshold,
        notes=notes,
        knowledge=counts,
    )
    write_records(out / "items.jsonl", items)
    write_json(out / "summary.json", summary.model_dump(mode="json"))
    atomic_write_text(out / "table.md", to_markdown(summary))
    log.notes.extend(summary.notes)
    # one LM object in several roles has one set of call counts: record it once
    lms: dict[str, LM] = {}
    for role, lm in (("model", model_lm), ("judge", judge_lm), ("augment", augment_lm)):
        if lm is None:
            continue
        shared = next((k for k, v in lms.items() if v is lm), None)
        if shared is None:
            lms[role] = lm
        else:
            lms[f"{shared}+{role}"] = lms.pop(shared)
    log.finish(out, lms)
    return summary
