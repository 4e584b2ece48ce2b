"""Telling a question's language from its script, and naming cultures consistently.

CARE's files carry no language field: the Chinese file is written in Chinese, the Arab
file in Arabic (paper 000 appendix A.2), and the later release adds Japanese (paper 001).
The script of the text is a reliable signal for those; Latin script is reported as
English unless the caller knows better. Culture names follow CARE's own spelling
("Native (Arab)" → ``Arab``), so that files from different sources group together.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

# (language code, predicate on a character), checked in this order of precedence:
# kana decides Japanese even when the sentence is mostly kanji.
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_ETHIOPIC = re.compile(r"[\u1200-\u137f]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
_HEBREW = re.compile(r"[\u0590-\u05ff]")

_SCRIPTS: list[tuple[str, re.Pattern[str]]] = [
    ("ja", _KANA),
    ("ko", _HANGUL),
    ("zh", _HAN),
    ("ar", _ARABIC),
    ("ru", _CYRILLIC),
    ("hi", _DEVANAGARI),
    ("th", _THAI),
    ("am", _ETHIOPIC),
    ("el", _GREEK),
    ("he", _HEBREW),
]

# language code -> the culture CARE collected that language's data for
LANGUAGE_CULTURE = {"zh": "Chinese", "ar": "Arab", "ja": "Japanese"}

# spellings seen in file names and fields -> canonical culture name
_CULTURE_ALIASES = {
    "chinese": "Chinese",
    "china": "Chinese",
    "zh": "Chinese",
    "arab": "Arab",
    "arabic": "Arab",
    "arabian": "Arab",
    "ar": "Arab",
    "japanese": "Japanese",
    "japan": "Japanese",
    "ja": "Japanese",
}


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code from the script that dominates ``text`` (kana beats kanji)."""
    if _KANA.search(text):
        return "ja"
    counts = {code: len(pat.findall(text)) for code, pat in _SCRIPTS[1:]}
    code, n = max(counts.items(), key=lambda kv: kv[1])
    if n == 0:
        return default
    letters = sum(1 for ch in text if unicodedata.category(ch).startswith("L"))
    # a few foreign names inside a Latin-script sentence do not make it that language
    return code if n >= 0.2 * max(letters, 1) else default


def canonical_culture(name: str | None) -> str | None:
    """``Arabic`` → ``Arab``, ``china`` → ``Chinese``; other names are kept as written."""
    if name is None:
        return None
    clean = name.strip()
    if not clean:
        return None
    return _CULTURE_ALIASES.get(clean.lower(), clean)


def culture_from_filename(path: str | Path) -> str | None:
    """``Chinese-test.json`` → ``Chinese``; None when the name says nothing."""
    stem = Path(str(path)).name.lower()
    for token in re.split(r"[^a-z]+", stem):
        if token in _CULTURE_ALIASES and len(token) > 2:
            return _CULTURE_ALIASES[token]
    return None


_LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese",
    "ar": "Arabic",
    "ja": "Japanese",
    "ko": "Korean",
    "ru": "Russian",
    "hi": "Hindi",
    "th": "Thai",
    "am": "Amharic",
    "el": "Greek",
    "he": "Hebrew",
    "es": "Spanish",
    "fa": "Persian",
    "id": "Indonesian",
    "as": "Assamese",
    "az": "Azerbaijani",
    "ha": "Hausa",
    "su": "Sundanese",
}


def language_name(code: str) -> str:
    """``zh`` → ``Chinese`` for prompts; an unknown code is named by itself."""
    return _LANGUAGE_NAMES.get(code.lower(), code)
