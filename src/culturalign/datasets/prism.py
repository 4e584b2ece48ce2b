"""PRISM conversations (Kirk et al., 2024; the evaluation of paper 002 §4.1, Table 6) in
the published layout of github.com/HannahKirk/prism-alignment.

``conversations.jsonl`` holds one conversation a line: ``conversation_id``, ``user_id``,
``conversation_type`` (``unguided``, ``values guided`` or ``controversy guided``),
``opening_prompt``, ``conversation_turns`` (a count) and ``conversation_history``, a list
of turns, each with ``turn`` (0-based), ``role`` (``user`` or ``model``), ``content``,
``model_provider``, ``model_name``, ``score`` (1-100), ``if_chosen`` and
``within_turn_id``; plus feedback fields and ``included_in_balanced_subset``, which are
kept only as far as the evaluation needs them.

``survey.jsonl`` holds one participant a line, by ``user_id``; its ``location`` (an
object with ``birth_country`` and ``reside_country``, or a plain string) and
``study_locale`` give each conversation the participant's culture.

The evaluation asks a model the opening prompt, so that is what a conversation must
have; every problem is reported with file, line and field, all at once.

The cultural filter (002 §4.1): keep a conversation whose opening prompt is related,
explicitly or potentially, to a cultural topic on which cultures clearly differ. The
paper does not publish its list or its prompt; ``cultural_topics`` finds such topics by
keyword (family and relationships, religion, moral and political controversies, social
norms and customs), and ``evals/open_ended/prism.py`` can ask a judge model instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.errors import DataError, Problem, Problems
from culturalign.io import jsonl_objects, read_text_utf8

NAME = "prism"
DESCRIPTION = "PRISM alignment conversations (conversations.jsonl, optional survey.jsonl)"
CONVERSATION_TYPES = ("unguided", "values guided", "controversy guided")
ROLES = ("user", "model")
CULTURE_FROM = ("birth", "reside", "locale")


@dataclass(frozen=True)
class PrismTurn:
    turn: int
    role: str
    content: str
    model_name: str | None = None
    model_provider: str | None = None
    score: float | None = None
    if_chosen: bool | None = None
    within_turn_id: int | None = None


@dataclass(frozen=True)
class PrismConversation:
    """One conversation; ``culture`` is the participant's, from the survey (or None)."""

    conversation_id: str
    user_id: str
    conversation_type: str | None
    opening_prompt: str
    turns: tuple[PrismTurn, ...] = ()
    balanced: bool | None = None
    culture: str | None = None
    line: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.conversation_id

    def chosen_first_reply(self) -> PrismTurn | None:
        """The opening turn's reply the participant rated highest (``if_chosen``)."""
        first = [t for t in self.turns if t.role == "model" and t.turn == 0]
        return next((t for t in first if t.if_chosen), None)


# topics on which cultures clearly differ (002 §4.1 names relationship management and
# abortion); whole words, case-insensitive, with simple plural/inflection endings
_TOPICS: dict[str, str] = {
    "family and relationships": (
        "family, families, parent, parents, parenting, mother, father, mum, mom, dad, child, children, "
        "kids, son, daughter, sibling, grandparent, in-law, in-laws, elderly, elders, marriage, married, "
        "marry, wedding, divorce, husband, wife, spouse, partner, boyfriend, girlfriend, dating, "
        "relationship, relationships, cheating, affair, arranged marriage, dowry, cohabit, friendship"
    ),
    "religion and belief": (
        "religion, religious, god, gods, faith, church, mosque, temple, prayer, pray, christian, "
        "christianity, muslim, islam, hindu, hinduism, buddhist, buddhism, jewish, judaism, atheist, "
        "atheism, bible, quran, spiritual, afterlife, sin"
    ),
    "moral and political controversies": (
        "abortion, euthanasia, assisted suicide, death penalty, capital punishment, gun, guns, "
        "immigration, immigrants, refugees, feminism, gender, transgender, lgbt, lgbtq, gay, lesbian, "
        "same-sex, homosexual, homosexuality, racism, race, colonialism, monarchy, democracy, communism, "
        "socialism, capitalism, politics, political, election, vote, voting, censorship, freedom of "
        "speech, drugs, cannabis, alcohol, prostitution, polygamy, vegetarian, veganism, animal rights, "
        "eating meat"
    ),
    "social norms and customs": (
        "culture, cultural, cultures, tradition, traditions, traditional, custom, customs, etiquette, "
        "manners, polite, rude, taboo, norm, norms, festival, holiday, christmas, ramadan, diwali, lunar "
        "new year, tipping, gift, gifts, greeting, dress code, modesty, hijab, funeral, ancestors, caste, "
        "honour, honor, respect, work-life, ethnic, ethnicity, nationality, heritage, morals, moral, "
        "ethics, ethical, values"
    ),
}
_TOPIC_RX = {
    topic: re.compile(
        r"\b(?:" + "|".join(re.escape(w.strip()) for w in words.split(",")) + r")(?:s|es)?\b", re.IGNORECASE
    )
    for topic, words in _TOPICS.items()
}


def cultural_topics(text: str) -> list[str]:
    """The cultural topics ``text`` touches (empty: none found)."""
    return [topic for topic, rx in _TOPIC_RX.items() if rx.search(text)]


def load_survey(path: str | Path, culture_from: str = "birth") -> dict[str, str | None]:
    """``user_id`` → the participant's culture: the country of birth (``birth``), of
    residence (``reside``) or the study locale (``locale``)."""
    if culture_from not in CULTURE_FROM:
        raise DataError(
            [Problem(str(path), None, None, f"culture_from must be one of {', '.join(CULTURE_FROM)}")]
        )
    path = Path(path)
    problems = Problems(path)
    out: dict[str, str | None] = {}
    rows = jsonl_objects(read_text_utf8(path), problems)
    for line, row in rows:
        user = row.get("user_id")
        if not isinstance(user, str | int) or isinstance(user, bool) or not str(user).strip():
            problems.add(line, "user_id", "required: the participant's id (text)")
            continue
        out[str(user)] = _culture(row, culture_from, line, problems)
    if not rows and not problems:
        problems.add(None, None, "the file holds no participants")
    problems.raise_if_any()
    return out


def _culture(row: dict[str, Any], culture_from: str, line: int, problems: Problems) -> str | None:
    if culture_from == "locale":
        value = row.get("study_locale")
        return (value.strip() or None) if isinstance(value, str) else None
    loc = row.get("location")
    if loc is None:
        return None
    if isinstance(loc, str):
        return loc.strip() or None
    if not isinstance(loc, dict):
        problems.add(line, "location", f"must be an object with {culture_from}_country, or text")
        return None
    value = loc.get(f"{culture_from}_country")
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "prefer not to say")):
        return None
    if not isinstance(value, str):
        problems.add(line, f"location.{culture_from}_country", "must be text")
        return None
    return value.strip()


def _turns(history: Any, line: int, problems: Problems) -> tuple[PrismTurn, ...]:
    if history is None:
        return ()
    if not isinstance(history, list):
        problems.add(line, "conversation_history", "must be a list of turns")
        return ()
    turns: list[PrismTurn] = []
    for k, t in enumerate(history):
        where = f"conversation_history[{k}]"
        if not isinstance(t, dict):
            problems.add(line, where, "each turn must be an object")
            continue
        role, content, turn = t.get("role"), t.get("content"), t.get("turn", 0)
        if role not in ROLES:
            problems.add(line, f"{where}.role", f"must be one of {', '.join(ROLES)}; got {role!r}")
            continue
        if not isinstance(content, str):
            problems.add(line, f"{where}.content", "required: the turn's text")
            continue
        if not isinstance(turn, int) or isinstance(turn, bool) or turn < 0:
            problems.add(line, f"{where}.turn", f"must be a whole number 0 or more; got {turn!r}")
            continue
        score = t.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            problems.add(line, f"{where}.score", f"must be a number; got {score!r}")
            continue
        chosen = t.get("if_chosen")
        turns.append(
            PrismTurn(
                turn=turn,
                role=role,
                content=content,
                model_name=_opt_str(t.get("model_name")),
                model_provider=_opt_str(t.get("model_provider")),
                score=float(score) if score is not None else None,
                if_chosen=chosen if isinstance(chosen, bool) else None,
                within_turn_id=t.get("within_turn_id") if isinstance(t.get("within_turn_id"), int) else None,
            )
        )
    return tuple(turns)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def load_conversations(
    path: str | Path,
    survey: str | Path | Mapping[str, str | None] | None = None,
    *,
    culture_from: str = "birth",
) -> list[PrismConversation]:
    """Every conversation of ``conversations.jsonl``, with the participant's culture when
    ``survey`` (a ``survey.jsonl`` path, or a ``user_id`` → culture map) is given."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder; a file was expected here" if path.is_dir() else "no such file"
        raise DataError([Problem(str(path), None, None, what)])
    cultures = load_survey(survey, culture_from) if isinstance(survey, str | Path) else dict(survey or {})
    problems = Problems(path)
    rows = jsonl_objects(read_text_utf8(path), problems)
    out: list[PrismConversation] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        before = len(problems.items)
        cid, user = row.get("conversation_id"), row.get("user_id")
        if not isinstance(cid, str | int) or isinstance(cid, bool) or not str(cid).strip():
            problems.add(line, "conversation_id", "required: the conversation's id")
        elif str(cid) in seen:
            problems.add(line, "conversation_id", f"{cid!r} appears twice (first on line {seen[str(cid)]})")
        else:
            seen[str(cid)] = line
        if not isinstance(user, str | int) or isinstance(user, bool) or not str(user).strip():
            problems.add(line, "user_id", "required: the participant's id")
        kind = row.get("conversation_type")
        if isinstance(kind, str):  # "Values_Guided" is the same type as "values guided"
            kind = " ".join(kind.replace("_", " ").replace("-", " ").lower().split())
        if kind is not None and kind not in CONVERSATION_TYPES:
            problems.add(
                line, "conversation_type", f"must be one of {', '.join(CONVERSATION_TYPES)}; got {kind!r}"
            )
        turns = _turns(row.get("conversation_history"), line, problems)
        prompt = row.get("opening_prompt")
        if prompt is None:  # fall back to the first user turn, as the history holds it
            prompt = next((t.content for t in turns if t.role == "user" and t.turn == 0), None)
        if not isinstance(prompt, str) or not prompt.strip():
            problems.add(line, "opening_prompt", "required: the participant's first message (text)")
        balanced = row.get("included_in_balanced_subset")
        if len(problems.items) > before:
            continue
        out.append(
            PrismConversation(
                conversation_id=str(cid),
                user_id=str(user),
                conversation_type=kind,
                opening_prompt=str(prompt),
                turns=turns,
                balanced=balanced if isinstance(balanced, bool) else None,
                culture=cultures.get(str(user)),
                line=line,
            )
        )
    if not rows and not problems:
        problems.add(None, None, "the file holds no conversations")
    problems.raise_if_any()
    return out


# --- the loader registry's interface (``data validate``, ``data stats``, ``--format prism``) ---

SURVEY_NAME = "survey.jsonl"


def _conversations_file(path: Path) -> Path:
    """A folder of the published layout reads its ``conversations.jsonl``."""
    return path / "conversations.jsonl" if path.is_dir() else path


def sniff(path: Path) -> bool:
    """A JSONL file (or a folder holding ``conversations.jsonl``) whose first object has
    PRISM's ``conversation_id`` and either ``conversation_history`` or ``opening_prompt``."""
    import json

    from culturalign.io import jsonl_lines

    path = _conversations_file(Path(path))
    if not path.is_file() or path.suffix.lower() != ".jsonl":
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(1 << 20)
    line = next((ln for _, ln in jsonl_lines(head) if ln.strip()), "")
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return False
    return (
        isinstance(obj, dict)
        and "conversation_id" in obj
        and ("conversation_history" in obj or "opening_prompt" in obj)
    )


def load(path: str | Path) -> list[PrismConversation]:
    """The conversations, with each participant's country of birth when ``survey.jsonl``
    lies beside them (the published layout; ``X_survey.jsonl`` beside ``X_conversations.jsonl``
    too)."""
    return load_with_report(path)[0]


@dataclass(frozen=True)
class PrismReport:
    conversations: int
    with_culture: int
    cultural: int
    types: Mapping[str, int]
    survey: str | None

    def line(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.types.items()))
        where = f"from {self.survey}" if self.survey else f"no {SURVEY_NAME} beside it"
        return (
            f"{self.conversations} PRISM conversations ({kinds}); {self.cultural} culture-related by the "
            f"keyword filter; {self.with_culture} with the participant's culture ({where})"
        )


def load_with_report(path: str | Path) -> tuple[list[PrismConversation], PrismReport]:
    from collections import Counter

    file = _conversations_file(Path(path))
    # survey.jsonl beside conversations.jsonl, or X_survey.jsonl beside X_conversations.jsonl
    beside = [file.with_name(SURVEY_NAME), file.with_name(file.name.replace("conversations", "survey"))]
    survey_path = next((p for p in beside if p != file and p.is_file()), None)
    records = load_conversations(file, survey_path)
    report = PrismReport(
        conversations=len(records),
        with_culture=sum(r.culture is not None for r in records),
        cultural=sum(bool(cultural_topics(r.opening_prompt)) for r in records),
        types=Counter(r.conversation_type or "untyped" for r in records),
        survey=str(survey_path) if survey_path else None,
    )
    return records, report
