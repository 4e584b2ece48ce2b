"""Does a short reply contain an annotated answer? BLEnD's soft exact match, done on
whole tokens.

BLEnD's published scorer (``evaluation/exact_match.py`` in nlee0212/BLEnD) first deletes
the prompt from the reply, then counts an answer as given when every one of its lemmas
appears among the reply's lemmas. It also accepts any raw substring hit first, which lets
a one-syllable Korean answer (밥, rice) match inside a longer word (밥솥, rice cooker). Here
both sides are cut into whole tokens, folded (NFKC, case, accents), and each token is
known by its surface form and its lemma or stem, chosen per language:

* ``simplemma`` (a dictionary lemmatiser that ships its tables in the wheel) for English,
  Spanish, Persian, Indonesian and Greek;
* Snowball stems (PyStemmer) as well for English, Spanish and Greek, and alone for
  Arabic (its stemmer removes the article ال). The dictionary misses names and loanwords
  in the plural (kasbahs, cardoons) and Greek written without the tonos (μουσακα for
  μουσακάς); on BLEnD's real answers the stems raised plural recall from 0.81 to 0.99
  while other regions' answers matched 0.299 instead of 0.297
  (benchmarks/bench_blend_official.py);
* ``kiwipiepy`` for Korean: particles, endings and suffixes are dropped, stems kept;
* ``jieba`` for Chinese: the reply is cut in search mode (words and their sub-words), the
  answer in accurate mode;
* plain tokens for languages with no offline lemmatiser on PyPI (Amharic, Hausa, ...).

Adjacent reply tokens are also joined, so "hot dog" meets "hotdog" and a Korean or
Chinese compound written with a space still meets the unspaced answer. Every library is
imported on first use: importing this module costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

SIMPLEMMA_LANGUAGES = ("el", "en", "es", "fa", "id")
SNOWBALL_LANGUAGES = {"ar": "arabic", "el": "greek", "en": "english", "es": "spanish"}
JOIN_ADJACENT = 3  # reply tokens joined up to this many at a time

# Korean morphemes that carry grammar, not meaning: particles (J), endings (E), affixes
# (XP, XS), the copula (VCP) and punctuation-like symbols (SF, SP, SS*, SE, SO, SW).
_KO_DROP = ("J", "E", "XP", "XS", "VCP", "SF", "SP", "SS", "SE", "SO", "SW")
_FULLWIDTH = str.maketrans({"：": ":", "、": ",", "，": ",", "。": ".", "？": "?", "！": "!"})


def fold(text: str) -> str:
    """NFKC, case-folded, with the accents of Latin, Greek, Cyrillic and Arabic letters
    removed (harakat included). Marks on Indic and other scripts stay: there they are
    vowels, not accents."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    out: list[str] = []
    base = 0
    for ch in text:
        if unicodedata.category(ch) == "Mn" and base < 0x0900:
            continue
        if not unicodedata.category(ch).startswith("M"):
            base = ord(ch)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def words(text: str) -> list[str]:
    """Runs of letters, marks and digits: every other character separates words."""
    out: list[str] = []
    cur: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LMN":
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


@lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    return Kiwi()


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=8)
def _snowball(language: str):
    import Stemmer

    return Stemmer.Stemmer(SNOWBALL_LANGUAGES[language])


@lru_cache(maxsize=200_000)
def _lemma(word: str, language: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang=language)


class AnswerMatcher:
    """Tokenises replies and answers per language and decides whether a reply contains
    an answer (every answer token present among the reply's tokens, in any order, as
    BLEnD's scorer does)."""

    def __init__(self, join_adjacent: int = JOIN_ADJACENT) -> None:
        self.join_adjacent = join_adjacent
        self._cache: dict[tuple[str, str, bool], list[frozenset[str]]] = {}

    @property
    def name(self) -> str:
        return (
            f"whole tokens (NFKC, casefold, accent-fold; adjacent reply tokens joined up to "
            f"{self.join_adjacent}) + simplemma({','.join(SIMPLEMMA_LANGUAGES)}) + "
            f"snowball({','.join(SNOWBALL_LANGUAGES)}) + kiwi(ko) + jieba(zh); other languages: tokens only"
        )

    def _surface(self, text: str, language: str, reply: bool) -> list[str]:
        """Words before folding (the lemmatisers want accents and case as written)."""
        text = unicodedata.normalize("NFKC", text).translate(_FULLWIDTH)
        if language == "ko":
            return [
                t.form for t in _kiwi().tokenize(text) if not t.tag.startswith(_KO_DROP) and words(t.form)
            ]
        if language == "zh":
            jieba = _jieba()
            cut = jieba.cut_for_search(text) if reply else jieba.cut(text)
            return [w for piece in cut for w in words(piece)]
        return words(text)

    def forms(self, text: str, language: str, *, reply: bool = False) -> list[frozenset[str]]:
        """Each token as the set of forms it may be known by (folded surface, lemma, stem)."""
        key = (text, language, reply)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: list[frozenset[str]] = []
        for w in self._surface(text, language, reply):
            low = unicodedata.normalize("NFC", w.casefold())
            f = {fold(w)}
            if language in SIMPLEMMA_LANGUAGES:
                f.add(fold(_lemma(low, language)))
            if language in SNOWBALL_LANGUAGES:
                f.add(_snowball(language).stemWord(fold(w)))
            f.discard("")
            if f:
                out.append(frozenset(f))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[key] = out
        return out

    def reply_forms(self, reply: str, language: str) -> set[str]:
        """Every form of every reply token, plus the folded joins of adjacent tokens."""
        toks = self.forms(reply, language, reply=True)
        out: set[str] = set().union(*toks) if toks else set()
        plain = [fold(w) for w in self._surface(reply, language, True)]
        for size in range(2, self.join_adjacent + 1):
            for i in range(len(plain) - size + 1):
                out.add("".join(plain[i : i + size]))
        return out

    def contains(self, reply: str, answer: str, language: str) -> bool:
        need = self.forms(answer, language)
        if not need:
            return False
        have = self.reply_forms(reply, language)
        return all(t & have for t in need)

    def first_match(self, reply: str, answers: Iterable[str], language: str) -> str | None:
        for a in answers:
            if self.contains(reply, a, language):
                return a
        return None


def strip_prompt(reply: str, prompt_texts: Sequence[str]) -> str:
    """The reply without any echo of what was asked, and without a leading ``Word:``
    label whose word the prompt used (``Answer:``, ``Respuesta:``), as BLEnD's scorer
    does. Each given text (the whole prompt, then the bare question) is removed wherever
    it appears, compared after NFKC and case folding: a reply that only repeats the
    question is left empty."""
    text = unicodedata.normalize("NFKC", reply).translate(_FULLWIDTH).casefold()
    asked = [unicodedata.normalize("NFKC", p).translate(_FULLWIDTH).casefold().strip() for p in prompt_texts]
    for p in sorted((p for p in asked if p), key=len, reverse=True):
        text = text.replace(p, " ")
        bare = p.rstrip("?？.!").strip()
        if bare and len(bare) >= 8:
            text = text.replace(bare, " ")
    text = text.strip()
    label = re.match(r"^(\w+):\s", text)  # "Answer: x", never "18:00"
    if label and any(label.group(1) in p for p in asked):
        text = text[label.end() :]
    return text.strip().strip(".").strip()
