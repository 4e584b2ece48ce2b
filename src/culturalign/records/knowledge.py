"""Cultural knowledge and situation-grounded questions (paper 003 §4.1, CultureBank).

A ``KnowledgeItem`` holds one CultureBank record (cultural group, context, actor,
behaviour, ...) or one free-text description. Prompts never see the raw fields: they
see ``describe(item)``, a short English paragraph (paper 003 §4.2.2 turns each record
into "a short, descriptive paragraph" the same way, there with an LLM; ours is a fixed
rule so the text is reproducible and costs nothing).

Knowledge most sources disagree with
------------------------------------

CultureBank stores every behaviour in the affirmative: its pipeline strips negations
from the extracted behaviour and flips a per-comment ``norm`` (1 = the norm, 0 = taboo or
not done); each cluster's ``norm`` is then the share of its comments saying the
behaviour is the norm, and the release's ``agreement`` is that share rounded to one
decimal (SALT-NLP/CultureBank, ``component_2_negation_converter``,
``component_6_agreement_calculator``, ``component_8_final_formatter``). So "people don't
tip in Japan" arrives as actor behaviour "tip" with norm 0 or agreement 0.1, and read at
face value it says the opposite of its sources. The rule (``grounding``):

* support = the lower of ``agreement`` and ``norm`` where given; knowledge with support
  below ``DISPUTED_BELOW`` (0.5: most sources disagree) is *disputed*;
* undisputed knowledge is ``stated`` as ``describe`` always did;
* disputed structured knowledge is ``negated``: one sentence that puts the whole claim
  under "it is not the norm that ..." (a wrapper, so no verb is ever conjugated by
  rule) and says how few sources agree. Its goal, the recipient's response and the other
  descriptions are left out, since they describe the practice as if it happened;
* disputed knowledge that cannot be negated that way is ``left-out`` of grounding: free
  text (a sentence cannot be negated reliably by rule) and behaviours that already
  carry a negation word (the wrapper would make a double negative).

Even a release's own ``eval_whole_desc`` gives way to the negated sentence: it was
written from the same affirmative fields, and we cannot tell whether it took the norm
into account. Grounded questions say which stance their knowledge was given in
(``GroundedQuestion.knowledge_stance``), and ``synth grounded`` / ``eval grounded``
count the negated and left-out items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DISPUTED_BELOW = 0.5
Stance = Literal["stated", "negated", "left-out"]
RULE = (
    "knowledge with agreement or norm below 0.5 (most sources disagree) is never stated as a norm: "
    "a structured record is stated as its negation ('it is not the norm that ...'); free text, or a "
    "behaviour that already holds a negation, is left out of grounding"
)


class KnowledgeItem(BaseModel):
    """One piece of cultural knowledge, structured as CultureBank does or as free text.

    ``eval_scenario``/``eval_persona``/``eval_question`` carry the question a published
    CultureBank release already pairs with the record, so such a file can be evaluated
    without generating questions first.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    cultural_group: str | None = None
    context: str | None = None
    goal: str | None = None
    relation: str | None = None
    actor: str | None = None
    actor_behavior: str | None = None
    recipient: str | None = None
    recipient_behavior: str | None = None
    other_descriptions: str | None = None
    topic: str | None = None
    agreement: float | None = Field(
        default=None, description="release layout: share of the sources saying it is the norm (0-1)"
    )
    norm: float | None = Field(
        default=None,
        description="pipeline layout: 1 = the norm, 0 = not done (one comment), or the share over a cluster",
    )
    description: str | None = Field(default=None, description="free-text knowledge, if given as such")
    eval_scenario: str | None = None
    eval_persona: str | None = None
    eval_question: str | None = None

    @property
    def is_structured(self) -> bool:
        return bool(self.actor_behavior)


class CandidateScore(BaseModel):
    """One checked candidate of the self-refinement loop (paper 003 Fig. 2)."""

    model_config = ConfigDict(extra="forbid")

    attempt: int
    question: str
    relevance: float | None = None
    indirectness: float | None = None
    revised: bool = Field(default=False, description="written as a revision of the previous candidate")


class GroundedQuestion(BaseModel):
    """An indirect, situation-grounded question generated from a knowledge item.

    ``relevance`` and ``indirectness`` are the checker's P(Yes) for the kept candidate;
    ``accepted`` says whether both reached the threshold (otherwise the best candidate
    after ``attempts`` tries was kept); ``history`` lists every checked candidate.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    knowledge_id: str
    knowledge: str
    cultural_group: str | None = None
    topic: str | None = None
    scenario: str
    persona: str
    question: str
    relevance: float | None = None
    indirectness: float | None = None
    attempts: int = 1
    accepted: bool = True
    score_source: str | None = Field(
        default=None,
        description="'logprob', 'parsed verdict', 'mixed', or 'given' (a release's own question)",
    )
    json_failures: int = Field(default=0, description="generations rejected as invalid JSON")
    knowledge_stance: Literal["stated", "negated"] | None = Field(
        default=None,
        description="'negated' when most sources disagree and the knowledge is given as its negation; "
        "None in questions written before this was recorded",
    )
    threshold: float | None = None
    history: list[CandidateScore] = Field(default_factory=list)


# -- describe: structured record -> short paragraph ----------------------------------------

_GROUP_WORDS = ("people", "speakers", "community", "communities", "immigrants", "users", "families")


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _group_phrase(group: str) -> str:
    """'In Japanese culture' for a demonym, 'Among Americans' for a plural or a longer name."""
    lowered = group.lower()
    if lowered.endswith("s") or len(group.split()) > 2 or any(w in lowered for w in _GROUP_WORDS):
        return f"Among {group}"
    if lowered.endswith("culture"):
        return f"In {group}"
    return f"In {group} culture"


def support(item: KnowledgeItem) -> float | None:
    """The share of sources behind the knowledge: the lower of ``agreement`` and ``norm``."""
    given = [v for v in (item.agreement, item.norm) if v is not None]
    return min(given) if given else None


def is_disputed(item: KnowledgeItem) -> bool:
    s = support(item)
    return s is not None and s < DISPUTED_BELOW


_NEGATION = re.compile(r"\b(?:not|never|no|nobody|nothing|neither|nor|without)\b|n't\b", re.IGNORECASE)


class Grounding(BaseModel):
    """What grounding sees of one knowledge item: its text and the stance it is given in
    (``text`` is None when the item is left out, ``reason`` says why)."""

    model_config = ConfigDict(extra="forbid")

    knowledge_id: str
    stance: Stance
    text: str | None = None
    support: float | None = None
    reason: str | None = None


class KnowledgeCounts(BaseModel):
    """How many knowledge items were stated, negated or left out, by the rule ``RULE``."""

    model_config = ConfigDict(extra="forbid")

    stated: int = 0
    negated: int = 0
    left_out: int = 0
    left_out_ids: list[str] = Field(default_factory=list)
    rule: str = RULE

    def note(self) -> str | None:
        if not (self.negated or self.left_out):
            return None
        return (
            f"{self.negated} knowledge item(s) that most sources disagree with were given as their negation "
            f"and {self.left_out} were left out ({RULE})."
        )


def grounding(item: KnowledgeItem) -> Grounding:
    """The text grounding uses for ``item``, by the rule in the module docstring."""
    share = support(item)
    if not is_disputed(item):
        return Grounding(knowledge_id=item.id, stance="stated", text=_describe_stated(item), support=share)
    behavior = _clean(item.actor_behavior)
    if not behavior:
        why = "most sources disagree and free text cannot be negated reliably"
    elif _NEGATION.search(behavior):
        why = "most sources disagree and the behaviour already holds a negation"
    else:
        return Grounding(knowledge_id=item.id, stance="negated", text=_describe_negated(item), support=share)
    return Grounding(knowledge_id=item.id, stance="left-out", support=share, reason=why)


def ground_all(
    items: Iterable[KnowledgeItem],
) -> tuple[list[tuple[KnowledgeItem, Grounding]], list[Grounding], KnowledgeCounts]:
    """The items grounding may use, each with its text; the ones left out, with why; and
    the counts of the rule."""
    kept: list[tuple[KnowledgeItem, Grounding]] = []
    left_out: list[Grounding] = []
    counts = KnowledgeCounts()
    for item in items:
        g = grounding(item)
        if g.stance == "left-out":
            counts.left_out += 1
            counts.left_out_ids.append(item.id)
            left_out.append(g)
            continue
        if g.stance == "negated":
            counts.negated += 1
        else:
            counts.stated += 1
        kept.append((item, g))
    return kept, left_out, counts


def describe(item: KnowledgeItem) -> str:
    """The short description a prompt sees (see ``grounding`` for the stance).

    Knowledge most sources disagree with is never described as a norm: it comes back
    negated, or, where that cannot be done reliably, as the given text under an explicit
    "most sources disagree" heading (grounding leaves such items out altogether).
    """
    g = grounding(item)
    if g.text is not None:
        return g.text
    share = g.support or 0.0
    return (
        f"Most sources that mention the following disagree with it (about {round(100 * share)}% agree), "
        f"so it is not the norm: {_describe_stated(item)}"
    )


def _describe_stated(item: KnowledgeItem) -> str:
    """A given description (free text, or a release's own ``eval_whole_desc``) as it is;
    otherwise the structured fields as two to five plain sentences: who does what in which
    context, how the other side responds, why, and how widely the sources agree. Topic is
    left out: it labels the knowledge rather than stating it."""
    given = _clean(item.description)
    if given:
        return given
    behavior = _clean(item.actor_behavior)
    group = _clean(item.cultural_group)
    if not behavior:
        raise ValueError(f"knowledge item {item.id} has neither a description nor an actor behaviour")
    opening = _group_phrase(group) if group else "In this cultural group"
    context = _clean(item.context)
    actor = _clean(item.actor) or "people"
    first = f"{opening}, {context}, {actor} {behavior}" if context else f"{opening}, {actor} {behavior}"
    recipient = _clean(item.recipient)
    if recipient and not _clean(item.recipient_behavior) and recipient.lower() not in behavior.lower():
        first += f" (toward {recipient})"
    parts = [_sentence(first)]
    if recipient and (rb := _clean(item.recipient_behavior)):
        parts.append(_sentence(f"{recipient} in turn {rb}"))
    if relation := _clean(item.relation):
        parts.append(_sentence(f"The relationship involved: {relation}"))
    if goal := _clean(item.goal):
        parts.append(_sentence(f"The aim is {goal}" if goal.lower().startswith("to ") else f"Goal: {goal}"))
    if other := _clean(item.other_descriptions):
        parts.append(_sentence(other))
    if (share := support(item)) is not None:
        parts.append(f"About {round(100 * share)}% of the sources that mention it agree.")
    return " ".join(parts)


def _describe_negated(item: KnowledgeItem) -> str:
    """'In Japanese culture, in restaurants, it is not the norm that customers tip.' plus how
    few sources agree. A gerund behaviour ('Leaving tips') becomes the subject instead
    ('leaving tips is not the norm for customers'), since 'that people leaving tips' would
    not be a clause."""
    behavior = _clean(item.actor_behavior) or ""
    group = _clean(item.cultural_group)
    opening = _group_phrase(group) if group else "In this cultural group"
    context = _clean(item.context)
    actor = _clean(item.actor)
    recipient = _clean(item.recipient)
    head = f"{opening}, {context}, " if context else f"{opening}, "
    first_word = behavior.split()[0]
    if first_word.lower().endswith("ing") and len(first_word) > 4:
        claim = f"{behavior[0].lower()}{behavior[1:]} is not the norm" + (f" for {actor}" if actor else "")
    else:
        claim = f"it is not the norm that {actor or 'people'} {behavior}"
    if recipient and recipient.lower() not in behavior.lower():
        claim += f" (toward {recipient})"
    parts = [_sentence(head + claim)]
    if relation := _clean(item.relation):
        parts.append(_sentence(f"The relationship involved: {relation}"))
    share = support(item) or 0.0
    if round(100 * share) == 0:
        parts.append("None of the sources that mention it say it is done.")
    else:
        parts.append(f"Only about {round(100 * share)}% of the sources that mention it say it is done.")
    return " ".join(parts)
