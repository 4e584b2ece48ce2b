"""PRISM cultural awareness (paper 002 §4.1, Table 6): the model answers the opening
prompts of culture-related PRISM conversations, a judge rates each answer 1-5 for
cultural awareness, and the table reports the mean per participant culture.

The filter keeps conversations whose opening prompt is explicitly or potentially about a
cultural topic on which cultures clearly differ (002 §4.1 names relationship management
and abortion). The paper does not publish its filter, and it kept 468 prompts; here it is
one of:

* ``keywords`` (default, free): the prompt names a topic of ``datasets.prism``'s lists
  (family and relationships, religion, moral and political controversies, norms and
  customs);
* ``judge``: the judge model is asked, yes or no, whether people from different cultures
  would answer the prompt clearly differently (one cached call per conversation);
* ``none``: every conversation.

``summary.json`` counts the conversations read, kept and why the rest were dropped.
The participant's culture (the judge's ``{culture}``, and the table's rows) comes from
``survey.jsonl``: country of birth by default, or of residence, or the study locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from culturalign.datasets.prism import PrismConversation, cultural_topics
from culturalign.errors import ConfigError
from culturalign.evals.open_ended.rubric_run import RubricTask, run_rubric_eval, with_system
from culturalign.judge.core import JudgeConfig
from culturalign.judge.rubric import load_rubric
from culturalign.judge.summary import RubricSummary
from culturalign.lm.cached import LM
from culturalign.records.generation import ChatMessage, GenerationParams
from culturalign.sampling import limit_fields, sample_limit

BENCHMARK = "PRISM cultural awareness"
RUBRIC = "prism_awareness"
FILTERS = ("keywords", "judge", "none")
NOT_STATED = "not stated"

_FILTER_PROMPT = (
    "Here is a message a person sent to a chat assistant.\n\n[Message]\n{prompt}\n\n"
    "Is this message about a topic tied to culture (family and relationships, religion, social "
    "norms, customs, or moral and political questions), on which people from different "
    "countries or cultures would give clearly different answers? Answer Yes or No."
)


def filter_cultural(
    conversations: Sequence[PrismConversation],
    how: str = "keywords",
    judge_lm: LM | None = None,
) -> tuple[list[PrismConversation], dict[str, int]]:
    """The culture-related conversations, and counts of what was kept and dropped."""
    if how not in FILTERS:
        raise ConfigError(f"PRISM filter must be one of {', '.join(FILTERS)}, not {how!r}")
    counts = {"read": len(conversations), "kept": 0, "dropped_not_cultural": 0, "dropped_filter_failed": 0}
    if how == "none":
        counts["kept"] = len(conversations)
        return list(conversations), counts
    if how == "keywords":
        kept = [c for c in conversations if cultural_topics(c.opening_prompt)]
    else:
        if judge_lm is None:
            raise ConfigError("the 'judge' PRISM filter needs a judge model")
        from culturalign.lm.yesno import ask_yes_no

        prompts = [
            [ChatMessage(role="user", content=_FILTER_PROMPT.replace("{prompt}", c.opening_prompt))]
            for c in conversations
        ]
        scores = ask_yes_no(judge_lm, prompts, desc="PRISM cultural filter")
        failed = sum(s.p_yes is None for s in scores)
        counts["dropped_filter_failed"] = failed
        kept = [
            c for c, s in zip(conversations, scores, strict=True) if s.p_yes is not None and s.p_yes >= 0.5
        ]
    counts["kept"] = len(kept)
    counts["dropped_not_cultural"] = len(conversations) - len(kept) - counts["dropped_filter_failed"]
    return kept, counts


def prism_tasks(
    conversations: Sequence[PrismConversation], *, system_prompt: str | None = None
) -> list[RubricTask]:
    """One task per conversation: its opening prompt, as the participant wrote it."""
    return [
        RubricTask(
            item_id=c.conversation_id,
            question=c.opening_prompt,
            messages=with_system(system_prompt, [ChatMessage(role="user", content=c.opening_prompt)]),
            culture=c.culture,
            extra={"culture": c.culture or NOT_STATED},
        )
        for c in conversations
    ]


def _stratum(c: PrismConversation) -> str | None:
    return c.culture


def run_prism(
    model_lm: LM,
    judge_lm: LM,
    conversations: Sequence[PrismConversation],
    out_dir: str | Path,
    *,
    rubric: str | Path = RUBRIC,
    topic_filter: str = "keywords",
    params: GenerationParams | None = None,
    judge: JudgeConfig | None = None,
    limit: int | None = None,
    limit_order: str = "stratified",
    system_prompt: str | None = None,
    data_paths: Sequence[str | Path] = (),
    label: str | None = None,
) -> RubricSummary:
    """Filter, answer (cached), judge 1-5 (cached) and tabulate one model per culture.

    ``limit`` draws a sample of the kept conversations, stratified by participant
    culture unless ``limit_order='file'``."""
    kept, counts = filter_cultural(conversations, topic_filter, judge_lm)
    chosen = sample_limit(kept, limit, order=limit_order, strata=_stratum)
    notes = [
        f"Cultural filter '{topic_filter}': {counts['kept']} of {counts['read']} conversations kept"
        + (
            f" ({counts['dropped_filter_failed']} the filter could not decide, dropped)"
            if counts["dropped_filter_failed"]
            else ""
        )
        + "; CAReDiO's own filter kept 468 and is not published."
    ]
    if all(c.culture is None for c in chosen):
        notes.append("No participant cultures (no survey.jsonl given): the judge was told 'not stated'.")
    return run_rubric_eval(
        model_lm,
        judge_lm,
        prism_tasks(chosen, system_prompt=system_prompt),
        out_dir,
        benchmark=BENCHMARK,
        kind="eval-prism",
        rubric=load_rubric(rubric),
        params=params,
        judge=judge,
        label=label,
        data_paths=data_paths,
        config={**limit_fields(limit, limit_order), "filter": topic_filter, "system_prompt": system_prompt},
        extra={"filter": topic_filter, **counts},
        notes=notes,
    )
