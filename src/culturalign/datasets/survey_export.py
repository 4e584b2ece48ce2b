"""Survey answers as training data: the CultureLLM / CultureSPA-style baseline.

Opinion benchmarks (WVS shares, GlobalOpinionQA) give, per question, how a country's
respondents spread over the options. Papers 002 and 003 compare against models trained
directly on such answers. This module turns one country's distributions into the two
kinds of data ``culturalign train`` reads, on a deterministic split of questions so that
the held-out questions stay unseen for ``eval opinions``:

* **SFT examples**: for each training question, ``k`` answers drawn from the country's
  shares (a question where 70% chose (A) yields mostly ``Answer: (A)``). Draws are seeded
  per question, so the same seed always gives the same file. Trained on enough draws the
  model is pushed toward the whole distribution, not only toward the most-chosen option
  (the one-option version sharpened every distribution in our pilot and cut similarity
  for every country, see ``notes/fidelity-pilot.md`` in the team's notes).
* **DPO pairs**: for each training question, every pair of options whose shares differ by
  at least ``margin``, the more-chosen option as ``chosen``; at most ``max_pairs`` per
  question, the widest differences first. The shares ride along as ``chosen_rating`` /
  ``rejected_rating`` so a reader sees how lopsided each pair was.

Prompts are rendered exactly as ``eval opinions`` renders them (the ``choice/opinion``
template, the country named, options lettered) and the answer is the template's answer
prefix followed by the letter, so what training moves is the very next-token letter
probability that the evaluation reads.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.records import ChatMessage, ChoiceItem, PreferencePair
from culturalign.records.preference import SFTExample

SPLIT_FILE = "split.json"
SFT_FILE = "sft.jsonl"
DPO_FILE = "dpo.jsonl"
HELDOUT_FILE = "heldout.jsonl"
TRAIN_ITEMS_FILE = "train_items.jsonl"


def resolve_country(items: Sequence[ChoiceItem], country: str) -> str:
    """The country's name as the items spell it; a WVS code (``NGA``) or any casing works."""
    from culturalign.datasets.wvs import country_name

    names = sorted({c for it in items for c in it.target_distributions or {}})
    for candidate in (country, country_name(country)):
        for name in names:
            if name.lower() == candidate.strip().lower():
                return name
    raise ConfigError(
        f"--country {country}: no answer shares for it in the data; its countries are {', '.join(names)}"
    )


def country_questions(items: Sequence[Any], country: str) -> list[ChoiceItem]:
    """The opinion items that carry shares for ``country`` (already resolved), in file order."""
    return [
        it
        for it in items
        if isinstance(it, ChoiceItem) and (it.target_distributions or {}).get(country) is not None
    ]


def split_questions(
    items: Sequence[ChoiceItem], heldout_fraction: float, seed: int
) -> tuple[list[ChoiceItem], list[ChoiceItem]]:
    """(training, held-out) questions: ids sorted, then shuffled by ``seed``, so the split
    does not depend on the file's order. Both sides keep the items' original order."""
    if not 0 < heldout_fraction < 1:
        raise ConfigError(f"--heldout-fraction must lie strictly between 0 and 1, not {heldout_fraction:g}")
    ids = sorted(it.id for it in items)
    if len(ids) != len(set(ids)):
        raise ConfigError("question ids repeat; the split needs one item per question")
    if len(ids) < 2:
        raise ConfigError(f"{len(ids)} question(s) with shares: too few to split into training and held-out")
    random.Random(seed).shuffle(ids)
    n_held = min(max(1, round(heldout_fraction * len(ids))), len(ids) - 1)
    held = set(ids[:n_held])
    return [it for it in items if it.id not in held], [it for it in items if it.id in held]


def _question_rng(seed: int, qid: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x1f{qid}".encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


@dataclass
class Renderer:
    """Opinion prompts and answers as ``eval opinions`` shows them to the model."""

    template_dir: str | Path | None = None
    _prompts: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from culturalign.evals.choice.prompts import ChoicePrompts

        self._prompts = ChoicePrompts(self.template_dir, chat=True)

    def prompt(self, item: ChoiceItem, country: str) -> list[ChatMessage]:
        from culturalign.evals.choice.prompts import option_block

        return list(
            self._prompts.prompt(
                "opinion", country=country, question=item.question, options=option_block(item.options)
            )
        )

    def answer(self, index: int) -> list[ChatMessage]:
        from culturalign.evals.choice.prompts import LETTERS

        return [ChatMessage(role="assistant", content=f"{self._prompts.prefix()}{LETTERS[index]})")]

    @property
    def shas(self) -> dict[str, str]:
        return self._prompts.shas


def sft_examples(
    items: Sequence[ChoiceItem], country: str, *, k: int = 4, seed: int = 0, renderer: Renderer | None = None
) -> list[SFTExample]:
    """``k`` answers per question drawn by the country's shares (seeded per question)."""
    if k < 1:
        raise ConfigError(f"--answers-per-question must be at least 1, not {k}")
    renderer = renderer or Renderer()
    out: list[SFTExample] = []
    for it in items:
        shares = (it.target_distributions or {})[country]
        rng = _question_rng(seed, it.id)
        prompt = renderer.prompt(it, country)
        for j, index in enumerate(rng.choices(range(len(shares)), weights=shares, k=k)):
            out.append(
                SFTExample(
                    id=f"{it.id}#{j}",
                    prompt=prompt,
                    completion=renderer.answer(index),
                    culture=country,
                    category=it.topic,
                    source=f"{it.source or 'survey'}:{country}",
                )
            )
    return out


def dpo_pairs(
    items: Sequence[ChoiceItem],
    country: str,
    *,
    margin: float = 0.1,
    max_pairs: int | None = 3,
    renderer: Renderer | None = None,
) -> list[PreferencePair]:
    """Every option pair whose shares differ by at least ``margin`` (more-chosen over
    less-chosen), widest first, at most ``max_pairs`` per question (None: all)."""
    if not 0 < margin <= 1:
        raise ConfigError(f"--margin must lie in (0, 1], not {margin:g}")
    if max_pairs is not None and max_pairs < 1:
        raise ConfigError(f"--max-pairs must be at least 1, not {max_pairs}")
    renderer = renderer or Renderer()
    out: list[PreferencePair] = []
    for it in items:
        shares = (it.target_distributions or {})[country]
        found = []
        for a, b in combinations(range(len(shares)), 2):
            hi, lo = (a, b) if shares[a] >= shares[b] else (b, a)
            if shares[hi] - shares[lo] >= margin:
                found.append((shares[hi] - shares[lo], hi, lo))
        found.sort(key=lambda t: (-t[0], t[1], t[2]))
        prompt = renderer.prompt(it, country)
        for _, hi, lo in found[:max_pairs]:
            out.append(
                PreferencePair(
                    question_id=it.id,
                    prompt=prompt,
                    chosen=renderer.answer(hi),
                    rejected=renderer.answer(lo),
                    chosen_rating=round(shares[hi], 6),
                    rejected_rating=round(shares[lo], 6),
                    culture=country,
                    category=it.topic,
                    source=f"{it.source or 'survey'}:{country}",
                )
            )
    return out


@dataclass
class SurveyExport:
    """What ``export_survey`` wrote, for the CLI's summary and for the studies."""

    out_dir: Path
    country: str
    train_ids: list[str]
    heldout_ids: list[str]
    sft: int
    dpo: int
    questions_without_pairs: int

    def lines(self) -> list[str]:
        d = self.out_dir
        return [
            f"{self.country}: {len(self.train_ids)} training questions, {len(self.heldout_ids)} held out "
            f"(ids in {d / SPLIT_FILE}; the held-out items, for eval opinions, in {d / HELDOUT_FILE})",
            f"wrote {self.sft} SFT examples to {d / SFT_FILE}",
            f"wrote {self.dpo} DPO pairs to {d / DPO_FILE}"
            + (
                f" ({self.questions_without_pairs} questions had no option pair far enough apart)"
                if self.questions_without_pairs
                else ""
            ),
        ]


def export_survey(
    items: Sequence[Any],
    country: str,
    out_dir: str | Path,
    *,
    heldout_fraction: float = 0.5,
    seed: int = 0,
    k: int = 4,
    margin: float = 0.1,
    max_pairs: int | None = 3,
    max_train_questions: int | None = None,
    template_dir: str | Path | None = None,
    data_path: str | Path | None = None,
) -> SurveyExport:
    """Split one country's questions and write ``sft.jsonl``, ``dpo.jsonl``, the split's
    ids (``split.json``) and both sides' items (``heldout.jsonl``, ``train_items.jsonl``).
    ``max_train_questions`` keeps a seeded sample of the training side (small CPU runs);
    the held-out side is never touched by it."""
    from culturalign.io import write_json, write_records

    opinions = [it for it in items if isinstance(it, ChoiceItem) and it.target_distributions]
    if not opinions:
        raise ConfigError(
            f"{data_path or 'the data'}: no opinion items with answer shares (WVS or GlobalOpinionQA)"
        )
    name = resolve_country(opinions, country)
    mine = country_questions(opinions, name)
    train_items, held = split_questions(mine, heldout_fraction, seed)
    if max_train_questions is not None and len(train_items) > max_train_questions:
        keep = {it.id for it in random.Random(seed).sample(train_items, max_train_questions)}
        train_items = [it for it in train_items if it.id in keep]
    renderer = Renderer(template_dir)
    sft = sft_examples(train_items, name, k=k, seed=seed, renderer=renderer)
    pairs = dpo_pairs(train_items, name, margin=margin, max_pairs=max_pairs, renderer=renderer)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / SFT_FILE, sft)
    write_records(out / DPO_FILE, pairs)
    write_records(out / HELDOUT_FILE, held)
    write_records(out / TRAIN_ITEMS_FILE, train_items)
    paired = {p.question_id for p in pairs}
    write_json(
        out / SPLIT_FILE,
        {
            "country": name,
            "data": str(data_path) if data_path else None,
            "seed": seed,
            "heldout_fraction": heldout_fraction,
            "answers_per_question": k,
            "max_train_questions": max_train_questions,
            "pairs": {
                "margin": margin,
                "max_per_question": max_pairs,
                "rule": "option pairs whose shares "
                "differ by at least the margin, more-chosen as chosen, widest first",
            },
            "prompts": renderer.shas,
            "train": [it.id for it in train_items],
            "heldout": [it.id for it in held],
        },
    )
    return SurveyExport(
        out,
        name,
        [it.id for it in train_items],
        [it.id for it in held],
        len(sft),
        len(pairs),
        sum(1 for it in train_items if it.id not in paired),
    )
