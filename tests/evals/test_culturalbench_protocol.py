"""CulturalBench's counting rules on hand-computed cases: an unreadable reply is a wrong
answer (and counted as invalid), a failed call is left out (and counted as an error), a
Hard question is right only when all its judgements are, and every accuracy carries a
Wilson interval with its n."""

from __future__ import annotations

import csv
import json
import math

import pytest

from culturalign.evals.choice.culturalbench import ANSWERED, ERROR, INVALID, outcome, run_culturalbench
from culturalign.evals.choice.scoring import OptionScores
from culturalign.lm.base import Backend, LabelScoreResult, NotSupported
from culturalign.lm.cached import LM
from culturalign.records import ChoiceItem, Completion
from culturalign.records.truefalse import TrueFalseItem


def _text(messages) -> str:
    return messages if isinstance(messages, str) else "\n".join(m.content for m in messages)


class Replies(Backend):
    """A chat model without log-probabilities, so every answer is generated and parsed;
    ``reply`` maps the prompt text to a reply, or None for a failed call."""

    kind = "scripted"

    def __init__(self, reply=None, probs=None):
        self.reply, self.probs = reply, probs

    def identity(self):
        return {"backend": "scripted", "id": id(self)}

    def generate(self, requests, on_done):
        for i, r in enumerate(requests):
            text = self.reply(_text(r.messages))
            on_done(i, Completion(text=text) if text is not None else Completion(error="HTTP 500"))

    def label_logprobs(self, requests, on_done):
        if self.probs is None:
            raise NotSupported("no log-probabilities here")
        for i, r in enumerate(requests):
            ps = self.probs(_text(r.prompt))
            on_done(
                i, LabelScoreResult(logprobs={lab: math.log(p) for lab, p in zip(r.labels, ps, strict=True)})
            )


def _wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval written out, to check the summary against."""
    z, p = 1.959963984540054, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _records(path) -> list[dict]:
    return [json.loads(line) for line in (path / "items.jsonl").read_text().splitlines()]


EASY = [  # (id, country, gold letter, the model's reply; None = the call failed)
    ("e1", "Japan", "A", "A"),  # right
    ("e2", "Japan", "B", "The answer is C."),  # wrong
    ("e3", "Japan", "C", "I cannot say which one."),  # unreadable: wrong, invalid
    ("e4", "Peru", "D", None),  # failed call: left out, error
    ("e5", "Peru", "A", "(A)"),  # right
    ("e6", "Peru", "B", "Hmm, hard to tell."),  # unreadable: wrong, invalid
]


def _easy_items() -> list[ChoiceItem]:
    return [
        ChoiceItem(
            id=qid,
            question=f"Question {qid}?",
            options=[f"{qid} option {k}" for k in "ABCD"],
            answer="ABCD".index(gold),
            culture=country,
            kind="culturalbench_easy",
        )
        for qid, country, gold, _ in EASY
    ]


def _easy_reply(text: str) -> str | None:
    return next(reply for qid, _, _, reply in EASY if f"Question {qid}?" in text)


def test_easy_counts_unreadable_replies_as_wrong_and_leaves_failed_calls_out(tmp_path):
    s = run_culturalbench(LM(Replies(reply=_easy_reply), None, "scripted"), _easy_items(), tmp_path)
    easy = s["easy"]
    # 6 asked, 1 failed → n = 5; right: e1, e5 → 2/5 (the old rule gave 2/3)
    assert (easy["questions"], easy["n"], easy["correct"], easy["invalid"], easy["errors"]) == (6, 5, 2, 2, 1)
    assert easy["accuracy"] == pytest.approx(0.4)
    lo, hi = _wilson(2, 5)  # 0.1176, 0.7693
    assert (easy["ci_low"], easy["ci_high"]) == (pytest.approx(lo, abs=1e-6), pytest.approx(hi, abs=1e-6))
    assert easy["stderr"] == pytest.approx(math.sqrt(0.4 * 0.6 / 5), abs=1e-6)
    japan, peru = easy["per_country"]["Japan"], easy["per_country"]["Peru"]
    assert (japan["accuracy"], japan["n"], japan["invalid"], japan["errors"]) == (
        pytest.approx(1 / 3),
        3,
        1,
        0,
    )
    assert (peru["accuracy"], peru["n"], peru["invalid"], peru["errors"]) == (0.5, 2, 1, 1)
    assert (peru["ci_low"], peru["ci_high"]) == tuple(pytest.approx(v, abs=1e-6) for v in _wilson(1, 2))

    by_id = {r["id"]: r for r in _records(tmp_path)}
    assert (by_id["e3"]["outcome"], by_id["e3"]["correct"]) == (INVALID, False)
    assert (by_id["e4"]["outcome"], by_id["e4"]["correct"]) == (ERROR, None)
    assert (by_id["e1"]["outcome"], by_id["e1"]["correct"]) == (ANSWERED, True)
    assert any("2 of 5 questions got a reply from which no answer" in n for n in s["notes"])
    assert any("1 of 6 questions failed" in n for n in s["notes"])


def test_the_table_shows_intervals_and_both_counts(tmp_path):
    run_culturalbench(LM(Replies(reply=_easy_reply), None, "scripted"), _easy_items(), tmp_path)
    rows = list(csv.DictReader((tmp_path / "table.csv").open()))
    total = next(r for r in rows if r["country"] == "all")
    lo, hi = _wilson(2, 5)
    assert total["easy 95% CI"] == f"[{lo:.4f}, {hi:.4f}]"
    assert (total["easy n"], total["easy invalid"], total["easy errors"]) == ("5", "2", "1")


HARD = {  # question -> [(option, truth, the model's reply; None = the call failed)]
    "h1": [("a", True, "True"), ("b", False, "False"), ("c", False, "False"), ("d", True, "True")],
    "h2": [("a", True, "True"), ("b", False, "False"), ("c", False, "Not sure."), ("d", False, "False")],
    "h3": [("a", True, "True"), ("b", False, None), ("c", False, "False"), ("d", False, "False")],
    "h4": [("a", True, "True"), ("b", False, "True"), ("c", False, "False"), ("d", False, "False")],
    "h5": [("a", True, "Unclear."), ("b", False, None), ("c", False, "False"), ("d", False, "False")],
}


def _hard_items() -> list[TrueFalseItem]:
    return [
        TrueFalseItem(
            id=qid,
            question=f"Question {qid}?",
            options=[f"{qid}-{o}" for o, _, _ in opts],
            truths=[t for _, t, _ in opts],
            culture="Japan" if qid in ("h1", "h2") else "Peru",
        )
        for qid, opts in HARD.items()
    ]


def _hard_reply(text: str) -> str | None:
    proposed = text.split("Proposed answer: ", 1)[1].split("\n", 1)[0]
    qid, option = proposed.split("-")
    return next(reply for o, _, reply in HARD[qid] if o == option)


def test_hard_needs_every_judgement_and_counts_unreadable_ones_as_wrong(tmp_path):
    s = run_culturalbench(LM(Replies(reply=_hard_reply), None, "scripted"), _hard_items(), tmp_path)
    hard = s["hard"]
    # h1 right (4/4); h2 wrong, one judgement unreadable (invalid); h4 wrong (b judged true)
    # h3 and h5 have a failed call: errors, left out (h5's unreadable judgement does not make
    # it count, so a question's fate never depends on which of its calls failed)
    assert (hard["questions"], hard["n"], hard["correct"], hard["invalid"], hard["errors"]) == (5, 3, 1, 1, 2)
    assert hard["accuracy"] == pytest.approx(1 / 3)
    lo, hi = _wilson(1, 3)
    assert (hard["ci_low"], hard["ci_high"]) == (pytest.approx(lo, abs=1e-6), pytest.approx(hi, abs=1e-6))
    # judgements of the three scored questions: 4 + 3 + 3 of 12 right (the unreadable one is wrong)
    assert (hard["option_accuracy"], hard["options"]) == (pytest.approx(10 / 12), 12)
    assert hard["option_interval"]["n"] == 12
    assert hard["per_country"]["Japan"]["accuracy"] == 0.5 and hard["per_country"]["Japan"]["invalid"] == 1
    assert (hard["per_country"]["Peru"]["n"], hard["per_country"]["Peru"]["errors"]) == (1, 2)

    by_id = {r["id"]: r for r in _records(tmp_path)}
    assert by_id["h2"]["judged_true"] == [True, False, None, False]
    assert by_id["h2"]["option_correct"] == [True, True, False, True]
    assert (by_id["h2"]["outcome"], by_id["h2"]["correct"]) == (INVALID, False)
    assert (by_id["h5"]["outcome"], by_id["h5"]["correct"], by_id["h5"]["option_correct"]) == (
        ERROR,
        None,
        None,
    )


def test_probabilities_leave_nothing_invalid(tmp_path):
    # the model always prefers option A: right on e1 and e5 of six questions
    lm = LM(Replies(probs=lambda text: [0.7, 0.1, 0.1, 0.1]), None, "scripted")
    easy = run_culturalbench(lm, _easy_items(), tmp_path)["easy"]
    assert (easy["n"], easy["correct"], easy["invalid"], easy["errors"]) == (6, 2, 0, 0)
    assert (easy["ci_low"], easy["ci_high"]) == tuple(pytest.approx(v, abs=1e-6) for v in _wilson(2, 6))


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        (OptionScores(choice=1, method="generate-parse", raw_text="B"), ANSWERED),
        (OptionScores(choice=0, probs=[0.6, 0.4]), ANSWERED),
        (
            OptionScores(method="generate-parse", raw_text="no idea", error="no option could be parsed"),
            INVALID,
        ),
        (OptionScores(method="generate-parse", raw_text=None, error="HTTP 500"), ERROR),
        (OptionScores(method="generate-parse", raw_text="  \n", error="empty reply"), ERROR),
        (OptionScores(error="the backend returned no usable log-probabilities"), ERROR),
    ],
)
def test_outcome_of_one_answer(scores, expected):
    assert outcome(scores) == expected
