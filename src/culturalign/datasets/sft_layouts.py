"""SFT data in the layouts published instruction sets use (CARE Table 3's general baselines).

General-purpose SFT sets are shared in a handful of column layouts, not in TRL's
prompt/completion form. Each is recognised from its columns and turned into our
``SFTExample`` (or, for plain text, ``KnowledgeText``):

* ``alpaca``: ``instruction`` / optional ``input`` / ``output`` (Alpaca, Alpaca-GPT4,
  Dolly-style exports). The input, when present, follows the instruction after a blank line.
* ``sharegpt``: a ``conversations`` list of turns, ``{from, value}`` (``human``/``gpt``/
  ``system``) or ``{role, content}``.
* ``openorca``: ``system_prompt`` / ``question`` / ``response``; an empty system prompt
  is left out.
* ``ultrachat``: a ``messages`` list (UltraChat 200k, which also carries the first user
  turn as ``prompt``) or a ``data`` list of strings alternating user and assistant
  (the original UltraChat release).
* ``messages``: any ``messages`` list of ``{role, content}``.
* ``text``: rows with only text to learn (``text``; paper 003's knowledge paragraphs from
  ``grounded export --knowledge-text``): continued pre-training, TRL's language-modelling
  format.

In a conversation the last assistant turn is the completion and everything before it
the prompt, so a multi-turn row trains on its final answer in context.
"""

from __future__ import annotations

from typing import Any

from culturalign.records import ChatMessage, KnowledgeText, SFTExample

LAYOUTS = ("alpaca", "sharegpt", "openorca", "ultrachat", "messages", "text")

# ShareGPT exports name speakers many ways; all of them are one of our three roles
_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
}


class LayoutError(ValueError):
    """A row that has a layout's columns but not usable values; names the field at fault."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


def sft_layout(row: dict[str, Any]) -> str | None:
    """The published layout a row is in, judged from its columns (None: not an SFT layout)."""
    return layout_of_keys(set(row))


def layout_of_keys(keys: set[str]) -> str | None:
    """The layout from column names alone (what a file's header or first record gives)."""
    if {"instruction", "output"} <= keys:
        return "alpaca"
    if "conversations" in keys:
        return "sharegpt"
    if {"system_prompt", "question", "response"} <= keys:
        return "openorca"
    if "messages" in keys and "completion" not in keys:
        return "ultrachat" if "prompt_id" in keys else "messages"
    if "data" in keys and "id" in keys and len(keys) <= 3:
        return "ultrachat"
    if "text" in keys and not ({"id", "culture"} <= keys) and "prompt" not in keys:
        return "text"
    return None


def _text(row: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise LayoutError(name, "missing or empty")
        return None
    if not isinstance(value, str):
        raise LayoutError(name, f"expected text, found {type(value).__name__}")
    return value


def _turns(value: Any, name: str) -> list[ChatMessage]:
    """A list of ``{from, value}`` or ``{role, content}`` turns as messages."""
    if not isinstance(value, list) or not value:
        raise LayoutError(name, "expected a non-empty list of turns")
    out = []
    for i, turn in enumerate(value):
        if not isinstance(turn, dict):
            raise LayoutError(f"{name}[{i}]", f"expected an object, found {type(turn).__name__}")
        speaker = turn.get("from", turn.get("role"))
        text = turn.get("value", turn.get("content"))
        role = _ROLES.get(str(speaker).strip().lower()) if speaker is not None else None
        if role is None:
            raise LayoutError(
                f"{name}[{i}]",
                f"unknown speaker {speaker!r}; expected one of {', '.join(sorted(_ROLES))}",
            )
        if not isinstance(text, str):
            raise LayoutError(f"{name}[{i}]", "a turn needs its text in `value` or `content`")
        out.append(ChatMessage(role=role, content=text))  # type: ignore[arg-type]
    return out


def _alternating(value: Any, name: str) -> list[ChatMessage]:
    """UltraChat's ``data``: strings taking turns, the user first."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise LayoutError(name, "expected a non-empty list of strings (user and assistant taking turns)")
    roles = ("user", "assistant")
    return [ChatMessage(role=roles[i % 2], content=v) for i, v in enumerate(value)]  # type: ignore[arg-type]


def _split_last_answer(msgs: list[ChatMessage], name: str) -> tuple[list[ChatMessage], list[ChatMessage]]:
    last = max((k for k, m in enumerate(msgs) if m.role == "assistant"), default=-1)
    if last < 0:
        raise LayoutError(name, "the conversation has no assistant turn")
    if not any(m.role == "user" for m in msgs[:last]):
        raise LayoutError(name, "the conversation has no user turn before its last assistant turn")
    return msgs[:last], msgs[last : last + 1]


def sft_from_layout(row: dict[str, Any], layout: str, rid: str) -> SFTExample | KnowledgeText:
    """One row of ``layout`` as an SFT example (or plain text); ``LayoutError`` names the field."""
    if layout == "text":
        return KnowledgeText(
            text=_text(row, "text") or "",
            knowledge_id=str(row.get("knowledge_id") or rid),
            culture=row.get("culture"),
            category=row.get("category"),
            source=row.get("source"),
        )
    if layout == "alpaca":
        instruction = _text(row, "instruction") or ""
        extra = _text(row, "input", required=False)
        prompt = [ChatMessage(role="user", content=f"{instruction}\n\n{extra}" if extra else instruction)]
        completion = [ChatMessage(role="assistant", content=_text(row, "output") or "")]
        return SFTExample(id=rid, prompt=prompt, completion=completion)
    if layout == "openorca":
        system = _text(row, "system_prompt", required=False)
        prompt = [ChatMessage(role="system", content=system)] if system else []
        prompt.append(ChatMessage(role="user", content=_text(row, "question") or ""))
        completion = [ChatMessage(role="assistant", content=_text(row, "response") or "")]
        return SFTExample(id=str(row.get("id") or rid), prompt=prompt, completion=completion)
    if layout == "sharegpt":
        name = "conversations"
        msgs = _turns(row[name], name)
    elif layout == "ultrachat" and "messages" not in row:
        name = "data"
        msgs = _alternating(row[name], name)
    elif layout in ("ultrachat", "messages"):
        name = "messages"
        msgs = _turns(row[name], name)
    else:
        raise LayoutError(None, f"unknown SFT layout {layout!r}; known: {', '.join(LAYOUTS)}")
    prompt, completion = _split_last_answer(msgs, name)
    rid = str(row.get("prompt_id") or row.get("id") or rid)
    return SFTExample(id=rid, prompt=prompt, completion=completion)
