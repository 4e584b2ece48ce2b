"""English text for ``--lang en``: present, machine-translated on request, or an error.

CARE's cross-lingual comparison asks the same questions in the native language and in
English (paper 000 §5.2). A file without English translations (the CARE Chinese, Arabic
and Japanese test sets have none) used to be asked in the native language under the
label ``en``, so the comparison compared a run with itself. Now a question with no
English text is an error unless ``--translate-with SPEC`` names a model to translate it;
the translations go through the cached LM layer, are written beside the run's outputs,
and every output says how many questions a machine translated and with which model.

The same module holds the other language caveat a run must carry: a model known to write
English only, asked questions in another language, measures little.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.records import CulturalQuestion, GenerationParams

log = logging.getLogger(__name__)

# greedy (one translation per question, cached); questions are short, so 128 tokens is room enough
TRANSLATION_PARAMS = GenerationParams(temperature=0.0, max_new_tokens=128)


def lacks_english(q: CulturalQuestion) -> bool:
    return q.language != "en" and not (q.text_en and q.text_en.strip())


def require_english(questions: Sequence[CulturalQuestion], source: str | Path | None = None) -> None:
    """Raise a located error when ``--lang en`` would silently ask in the native language."""
    missing = [q for q in questions if lacks_english(q)]
    if not missing:
        return
    shown = ", ".join(q.id for q in missing[:3]) + (", ..." if len(missing) > 3 else "")
    where = f"{source}: " if source else ""
    raise ConfigError(
        f"{where}--lang en: {len(missing)} of {len(questions)} questions have no English text "
        f"(e.g. ids {shown}); add translations (a question_en field), drop --lang en, "
        "or pass --translate-with SPEC (translate_with: in an experiment) to translate them with a model"
    )


@dataclass
class Translation:
    """The questions with English text, and what was machine-translated to get there."""

    questions: list[CulturalQuestion]
    translated: list[dict[str, Any]] = field(default_factory=list)
    spec: str | None = None

    @property
    def note(self) -> str | None:
        if not self.translated:
            return None
        failed = sum(1 for t in self.translated if t["error"])
        tail = f" ({failed} could not be translated and were left out)" if failed else ""
        return (
            f"machine-translated: {len(self.translated) - failed} questions by {self.spec} "
            f"(not human translations; each is in the run's translations.jsonl){tail}"
        )

    def log_fields(self) -> dict[str, Any]:
        return {
            "translate_with": self.spec,
            "machine_translated": sum(1 for t in self.translated if not t["error"]),
        }


def translate_missing(
    lm: Any,
    questions: Sequence[CulturalQuestion],
    *,
    template_dir: str | Path | None = None,
) -> Translation:
    """Translate into English every question that has no English text (cached, greedy);
    questions whose translation failed or came back empty are left out of the result."""
    from culturalign.datasets.language import language_name
    from culturalign.prompting import split_sections
    from culturalign.prompts import load_prompt, template_folder
    from culturalign.records.generation import ChatMessage

    questions = list(questions)
    todo = [i for i, q in enumerate(questions) if lacks_english(q)]
    if not todo:
        return Translation(questions, [], lm.spec)
    template = load_prompt("translate/question", override=template_folder(template_dir))
    sections = split_sections(template)

    def prompt(q: CulturalQuestion) -> list[ChatMessage]:
        values = {"question": q.text, "language": language_name(q.language)}
        msgs = [ChatMessage(role="user", content=sections["user"].format(**values))]
        if sections.get("system"):
            msgs.insert(0, ChatMessage(role="system", content=sections["system"].format(**values)))
        return msgs

    replies = lm.generate([prompt(questions[i]) for i in todo], TRANSLATION_PARAMS, desc="translate (to en)")
    records: list[dict[str, Any]] = []
    dropped: set[int] = set()
    for i, samples in zip(todo, replies, strict=True):
        c = samples[0]
        text = (c.text or "").strip() if c.error is None else ""
        error = c.error or _not_english(text)
        q = questions[i]
        records.append(
            {"id": q.id, "language": q.language, "text": q.text, "text_en": text or None, "error": error}
        )
        if error:
            dropped.add(i)
        else:
            questions[i] = q.model_copy(update={"text_en": text})
    kept = [q for i, q in enumerate(questions) if i not in dropped]
    if len(dropped) == len(records):  # a translator that never works is broken, not unlucky
        reasons = Counter(r["error"] for r in records)
        why = "; ".join(f"{n}: {reason}" for reason, n in reasons.most_common(3))
        raise ConfigError(
            f"--translate-with {lm.spec}: none of the {len(records)} translations is usable ({why})"
        )
    return Translation(kept, records, lm.spec)


def _not_english(text: str) -> str | None:
    """Why a reply is no English translation (a weak model often echoes the question)."""
    from culturalign.datasets.language import detect_language

    if not text:
        return "empty translation"
    code = detect_language(text)
    return None if code == "en" else f"the reply is not English text (its script reads as {code})"


def prepare_lang(
    questions: Sequence[CulturalQuestion],
    lang: str,
    *,
    translator: Any = None,
    source: str | Path | None = None,
    template_dir: str | Path | None = None,
) -> Translation:
    """The questions a run in ``lang`` asks: unchanged for ``native``; for ``en`` every
    question must have English text, translated by ``translator`` (an LM) when given."""
    if lang != "en":
        if translator is not None:
            raise ConfigError("--translate-with needs --lang en (native questions are not translated)")
        return Translation(list(questions))
    if translator is None:
        require_english(questions, source)
        return Translation(list(questions))
    return translate_missing(translator, questions, template_dir=template_dir)


def write_translations(path: str | Path, translation: Translation) -> Path | None:
    """Every machine translation and failure of a run, one JSON line each, at ``path``;
    nothing is written when nothing was translated."""
    import json

    from culturalign.io import atomic_write_text

    if not translation.translated:
        return None
    path = Path(path)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in translation.translated)
    atomic_write_text(path, lines)
    return path


def lang_notes(
    lm: Any, questions: Sequence[CulturalQuestion], lang: str, translation: Translation
) -> list[str]:
    """The language caveats a run's outputs carry; the English-only warning is also
    printed once to stderr, before the model is asked anything."""
    notes = [translation.note] if translation.note else []
    warning = language_warning(lm, questions, lang)
    if warning:
        log.warning(warning)
        notes.append(warning)
    return notes


# ---- the English-only model warning ----

_ENGLISH_ONLY_SPECS = ("embedded",)


def writes_english_only(lm: Any) -> bool:
    """Whether the model is known to write English only: a backend that says so with an
    ``english_only`` attribute, or the embedded SmolLM2-135M (trained on English text)."""
    backend = getattr(lm, "backend", None)
    flag = getattr(backend, "english_only", None)
    if isinstance(flag, bool):
        return flag
    spec = str(getattr(lm, "spec", "")).strip()
    return spec.split("+")[0].split(":")[0] in _ENGLISH_ONLY_SPECS


def language_warning(lm: Any, questions: Sequence[CulturalQuestion], lang: str) -> str | None:
    """One line when an English-only model is asked questions in another language."""
    if not questions or not writes_english_only(lm):
        return None
    asked = [("en" if lang == "en" and q.text_en else q.language) for q in questions]
    foreign = Counter(code for code in asked if code != "en")
    if not foreign:
        return None
    langs = ", ".join(f"{code} {n}" for code, n in foreign.most_common())
    return (
        f"{lm.spec} writes English only, and {sum(foreign.values())} of {len(questions)} questions "
        f"are asked in another language ({langs}): its answers to those measure little"
    )
