"""Training data in TRL's conversational formats (paper 000 §4.1 and Table 3).

Accepted inputs, told apart by their columns:

* preference pairs (``prompt``/``chosen``/``rejected``): CARE's best-vs-worst pairs from
  ``culturalign data pairs``, or any Hugging Face preference set (the "general
  preference" baseline of CARE Table 3). Prompts and answers may be strings or message
  lists; sets without a ``prompt`` column (the whole conversation in ``chosen`` and
  ``rejected``) have their shared opening split off as the prompt.
* rated responses in CARE's shape (``question``/``response``/``rating`` rows: CARE's
  release, or ``culturalign annotate export --format care``): best-vs-worst pairs are
  built on the way, as ``culturalign data pairs`` builds them.
* unpaired examples (``prompt``/``completion``/``label``) for KTO.
* SFT examples: ``prompt``/``completion``, CARE questions with reference answers ("SFT w/
  CARE"), or a published instruction layout (Alpaca, ShareGPT, OpenOrca, UltraChat,
  ``messages``, plain ``text``; see ``datasets.sft_layouts``).

Files may be JSONL, JSON, Parquet or CSV, or a folder written by ``datasets``'
``save_to_disk``. Everything becomes our typed records (``PreferencePair``,
``UnpairedExample``, ``SFTExample``); provenance stays on the records and is dropped
before the rows reach TRL.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from culturalign.datasets.sft_layouts import LayoutError, sft_from_layout, sft_layout
from culturalign.errors import ConfigError, DataError, Problems
from culturalign.io import pydantic_problems
from culturalign.records import (
    ChatMessage,
    CulturalQuestion,
    KnowledgeText,
    PreferencePair,
    SFTExample,
    UnpairedExample,
)
from culturalign.train.data_files import one_problem as _one
from culturalign.train.data_files import read_rows
from culturalign.train.trl_format import split_heldout, to_dataset, trl_rows

DataKind = Literal["preference", "unpaired", "sft", "questions"]


def detect_kind(row: dict[str, Any]) -> DataKind | None:
    keys = set(row)
    if {"chosen", "rejected"} <= keys:
        return "preference"
    if {"completion", "label"} <= keys:
        return "unpaired"
    if {"prompt", "completion"} <= keys or sft_layout(row) is not None:
        return "sft"
    if {"id", "text", "culture"} <= keys:
        return "questions"
    return None


# -- normalising messages ----------------------------------------------------------------


def _messages(value: Any, default_role: str) -> list[ChatMessage]:
    if isinstance(value, str):
        return [ChatMessage(role=default_role, content=value)]  # type: ignore[arg-type]
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        return [ChatMessage(role=m.get("role"), content=m.get("content")) for m in value]
    raise ValueError(f"expected text or a list of {{role, content}} messages, found {type(value).__name__}")


def _split_prompt(chosen: list[ChatMessage], rejected: list[ChatMessage]):
    """Shared opening of two conversations = the prompt (implicit-prompt preference sets)."""
    n = 0
    while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
        n += 1
    return chosen[:n], chosen[n:], rejected[n:]


def _preference(row: dict[str, Any], index: int, source: str) -> PreferencePair:
    chosen = _messages(row["chosen"], "assistant")
    rejected = _messages(row["rejected"], "assistant")
    if "prompt" in row and row["prompt"] is not None:
        prompt = _messages(row["prompt"], "user")
        # some sets repeat the prompt at the start of chosen/rejected
        if chosen[: len(prompt)] == prompt and rejected[: len(prompt)] == prompt:
            chosen, rejected = chosen[len(prompt) :], rejected[len(prompt) :]
    else:
        prompt, chosen, rejected = _split_prompt(chosen, rejected)
    if not prompt:
        raise ValueError("no prompt: give a `prompt` column or conversations that start with the user turn")
    for name, msgs in (("chosen", chosen), ("rejected", rejected)):
        if not msgs or msgs[-1].role != "assistant":
            raise ValueError(f"{name} must end with an assistant message")
    meta = {k: row.get(k) for k in ("culture", "category", "associated_culture", "source")}
    meta = {k: (str(v) if v is not None else None) for k, v in meta.items()}
    return PreferencePair(
        question_id=str(row.get("question_id") or row.get("id") or f"{source}#{index}"),
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        chosen_rating=row.get("chosen_rating"),
        rejected_rating=row.get("rejected_rating"),
        **meta,
    )


def _label(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError(f"label must be true or false, found {value!r}")


def _unpaired(row: dict[str, Any], index: int, source: str) -> UnpairedExample:
    return UnpairedExample(
        question_id=str(row.get("question_id") or row.get("id") or f"{source}#{index}"),
        prompt=_messages(row["prompt"], "user"),
        completion=_messages(row["completion"], "assistant"),
        label=_label(row["label"]),
        rating=row.get("rating"),
        culture=row.get("culture"),
        category=row.get("category"),
    )


# -- public loaders ----------------------------------------------------------------------


def _convert(path: Path, rows, want: str, fn) -> list:
    problems = Problems(path)
    out = []
    for i, (where, row) in enumerate(rows):
        try:
            out.append(fn(row, i, path.name))
        except ValidationError as exc:
            pydantic_problems(problems, where, exc)
        except LayoutError as exc:
            problems.add(where, exc.field, f"not a usable {want}: {exc}")
        except (ValueError, KeyError, TypeError) as exc:
            problems.add(where, None, f"not a usable {want}: {exc}")
    problems.raise_if_any()
    if not out:
        raise DataError(_one(path, None, f"no {want}s found"))
    return out


def data_kind(path: str | Path, split: str | None = None) -> DataKind:
    """The kind of a data file judged from its first row (an empty file is a located error)."""
    rows = read_rows(path, split)
    if rows and _rated_rows(rows[0][1]):
        return "preference"  # rated responses: pairs are built on the way (load_pairs)
    return _kind_of(Path(path), rows)


def _rated_rows(row: dict[str, Any]) -> bool:
    """CARE-shaped rated responses (CARE's release, ``annotate export --format care``)."""
    keys = set(row)
    # checked before detect_kind: question/response alone would read as OpenOrca SFT rows
    rated = {"question", "response"} <= keys and bool(keys & {"rating", "human_rating"})
    return rated and not {"chosen", "rejected"} <= keys


def _pairs_from_ratings(path: Path) -> list[PreferencePair]:
    """Best-vs-worst pairs per question, CARE's strategy (paper 000 §4.1), by the same code
    as ``culturalign data pairs``; bad rows are located errors, as there."""
    from culturalign.datasets import load_any
    from culturalign.datasets.pairs import make_pairs

    _, records = load_any(path)
    result = make_pairs([r for r in records if isinstance(r, CulturalQuestion)])
    result.require_records(str(path))
    return result.records


def _kind_of(path: Path, rows) -> DataKind:
    if not rows:
        raise DataError(_one(path, None, "the file holds no rows"))
    where, first = rows[0]
    kind = detect_kind(first)
    if kind is None:
        raise DataError(
            _one(
                path,
                where,
                f"cannot tell the data format from columns {sorted(first)}: expected prompt/chosen/rejected, "
                "prompt/completion/label, prompt/completion, CARE questions (id/text/culture), or an SFT layout "
                "(Alpaca instruction/output, ShareGPT conversations, OpenOrca system_prompt/question/response, "
                "UltraChat messages or data, plain text); "
                "for rated responses in a published format, build pairs first with `culturalign data pairs`",
            )
        )
    return kind


def load_pairs(path: str | Path, split: str | None = None) -> list[PreferencePair]:
    path = Path(path)
    rows = read_rows(path, split)
    if rows and _rated_rows(rows[0][1]):
        return _pairs_from_ratings(path)
    kind = _kind_of(path, rows)
    if kind != "preference":
        raise DataError(
            _one(path, rows[0][0], f"expected preference pairs (prompt/chosen/rejected), found {kind} data")
        )
    return _convert(path, rows, "preference pair", _preference)


def load_unpaired(path: str | Path, split: str | None = None) -> list[UnpairedExample]:
    """KTO data: unpaired rows as they are, or preference pairs split into two rows each."""
    path = Path(path)
    rows = read_rows(path, split)
    if rows and _rated_rows(rows[0][1]):
        return unpair(_pairs_from_ratings(path))
    kind = _kind_of(path, rows)
    if kind == "preference":
        return unpair(_convert(path, rows, "preference pair", _preference))
    if kind != "unpaired":
        raise DataError(
            _one(path, rows[0][0], f"KTO needs prompt/completion/label rows or pairs, found {kind} data")
        )
    return _convert(path, rows, "unpaired example", _unpaired)


def unpair(pairs: Iterable[PreferencePair]) -> list[UnpairedExample]:
    out = []
    for p in pairs:
        for completion, label in ((p.chosen, True), (p.rejected, False)):
            out.append(
                UnpairedExample(
                    question_id=p.question_id,
                    prompt=p.prompt,
                    completion=completion,
                    label=label,
                    rating=p.chosen_rating if label else p.rejected_rating,
                    culture=p.culture,
                    category=p.category,
                )
            )
    return out


def load_sft(path: str | Path, *, mode: str = "vanilla", lang: str = "native", split: str | None = None):
    """SFT examples; CARE questions become (question under ``mode``, reference answer)."""
    from culturalign.prompting import build_messages

    path = Path(path)
    rows = read_rows(path, split)
    kind = detect_kind(rows[0][1]) if rows else None
    questions: list[CulturalQuestion] | None = None
    if kind is None:
        questions = _published_questions(path)  # CARE's own files: SFT on the human reference answers
        kind = "questions"
        if questions is None:
            _kind_of(path, rows)  # raises the located "cannot tell the format" error
    if kind == "questions":
        if questions is None:
            questions = _convert(
                path, rows, "CARE question", lambda r, i, s: CulturalQuestion.model_validate(r)
            )
        if lang == "en":
            from culturalign.translation import require_english

            require_english(questions, path)
        out = []
        for q in questions:
            answer = q.reference_in(lang)
            if not answer:
                continue
            prompt = build_messages(q.text_in(lang), mode=mode, culture=q.culture)
            out.append(
                SFTExample(id=q.id, prompt=prompt, completion=[ChatMessage(role="assistant", content=answer)])
            )
        if not out:
            raise DataError(_one(path, None, "no question has a reference answer to fine-tune on"))
        return out

    def to_sft(row: dict[str, Any], i: int, source: str) -> SFTExample | KnowledgeText:
        rid = str(row.get("id") or row.get("question_id") or f"{source}#{i}")
        if kind == "preference":  # imitate the preferred answer
            pair = _preference(row, i, source)
            return SFTExample(id=rid, prompt=pair.prompt, completion=pair.chosen)
        if not {"prompt", "completion"} <= set(row):
            layout = sft_layout(row)
            if layout is None:
                raise LayoutError(
                    None, f"columns {sorted(row)} are in no SFT layout this file's first row uses"
                )
            return sft_from_layout(row, layout, rid)
        return SFTExample(
            id=rid,
            prompt=_messages(row["prompt"], "user"),
            completion=_messages(row["completion"], "assistant"),
        )

    if kind == "unpaired":
        rows = [(w, r) for w, r in rows if _label(r.get("label"))]
    out = _convert(path, rows, "SFT example", to_sft)
    _same_shape(path, rows, out)
    return out


def _same_shape(path: Path, rows, records: list) -> None:
    """Plain text and conversations cannot share one TRL dataset: say which row differs."""
    first_is_text = isinstance(records[0], KnowledgeText)
    for (where, _), rec in zip(rows, records, strict=False):
        if isinstance(rec, KnowledgeText) != first_is_text:
            what = "plain text" if first_is_text else "prompt/completion examples"
            raise DataError(
                _one(
                    path,
                    where,
                    f"this row is not {what} like the first row; keep text and conversations in separate files",
                )
            )


def _published_questions(path: Path) -> list[CulturalQuestion] | None:
    """Questions from a file in a published format (CARE test or preference files), if any loader knows it."""
    from culturalign.datasets import load_any

    try:
        _, records = load_any(path)
    except (DataError, ConfigError):
        return None
    questions = [r for r in records if isinstance(r, CulturalQuestion)]
    return questions or None


# the held-out split and TRL's rows live in trl_format; named here for the callers
__all__ = [
    "load_pairs",
    "load_sft",
    "load_unpaired",
    "read_rows",
    "split_heldout",
    "to_dataset",
    "trl_rows",
    "unpair",
]
