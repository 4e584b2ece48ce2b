"""Read every item the evaluation runs wrote into one list the viewer page shows.

A run directory is any folder with a ``run.json`` (as ``culturalign report`` finds them);
what it holds per item depends on its ``kind``:

- ``eval-care``: ``judgments.jsonl`` (question, reference, answer, the judge's replies,
  every attempt, rating or why there is none), joined with ``responses.jsonl`` for the
  generation error of an answer that never came;
- ``eval-prism`` and ``eval-culturebank-quality``: the same two files, ``answers.jsonl``
  instead of ``responses.jsonl``, on the rubric's own scale (``summary.json``);
- the choice evaluations (``eval-mcq``, ``eval-culturalbench``, ``eval-cali``,
  ``eval-opinions``, ``eval-blend``, ``eval-care-choice``) and ``eval-grounded``:
  ``items.jsonl``, whose records differ per benchmark; the fields every reader wants
  (question, options, gold answer, the model's pick, right or wrong, the error) are
  lifted out and the rest kept as details, so no benchmark is shown half.

Answers to the same item by different runs of the same kind become one *group*, so the
page shows them side by side. Files are validated as they are read: a broken line is a
located ``DataError``, never a silently shorter page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.io import iter_jsonl, read_json_object, read_records

JUDGED_KINDS = {
    "eval-care": "responses.jsonl",
    "eval-prism": "answers.jsonl",
    "eval-culturebank-quality": "answers.jsonl",
}
ITEM_KINDS = (
    "eval-mcq",
    "eval-culturalbench",
    "eval-cali",
    "eval-opinions",
    "eval-blend",
    "eval-care-choice",
    "eval-grounded",
)
#: fields of a choice record shown in their own place, so not repeated among the details
_LIFTED = {
    "id", "question", "premise", "hypothesis", "options", "answer", "gold", "truths", "choice",
    "pred", "raw_text", "response", "correct", "error", "culture", "country", "region",
    "category", "topic", "variant", "language", "kind",
}  # fmt: skip


@dataclass
class Run:
    """One run directory as the page names it."""

    label: str
    dir: str
    kind: str
    model: str | None = None
    judge: str | None = None
    scale: tuple[float, float] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "dir": self.dir,
            "kind": self.kind,
            "model": self.model,
            "judge": self.judge,
            "scale": list(self.scale) if self.scale else None,
        }


@dataclass
class Group:
    """One item (question × sample × mode × language) of one kind, with every run's answer."""

    key: str
    kind: str
    item_id: str
    question: str
    reference: str | None = None
    culture: str | None = None
    category: str | None = None
    scope: str | None = None
    mode: str | None = None
    lang: str | None = None
    options: list[str] | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None and k != "answers"}
        out["answers"] = self.answers
        return out


@dataclass
class Collection:
    runs: list[Run]
    groups: list[Group]

    def as_json(self) -> dict[str, Any]:
        return {"runs": [r.as_json() for r in self.runs], "groups": [g.as_json() for g in self.groups]}


def find_runs(roots: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """(run directory, its run log) for every ``run.json`` under the roots, checkpoints left
    out: the report's own discovery, so both find the same runs and fail the same way."""
    from culturalign.report.build import discover

    return [(d, log) for d, log in discover(roots).run_logs if "checkpoint-" not in str(d)]


def collect(roots: Sequence[Path]) -> Collection:
    """Every item of every run under ``roots``; runs without per-item files are left out."""
    from culturalign.report.runs import name_runs

    roots = [Path(r) for r in roots]
    logs = find_runs(roots)
    names = name_runs(logs, [])  # the report's labels, so its links' run= values match
    runs: list[Run] = []
    groups: dict[str, Group] = {}
    for path, log in logs:
        kind = log.get("kind")
        if kind not in JUDGED_KINDS and kind not in ITEM_KINDS:
            continue
        models = log.get("models") if isinstance(log.get("models"), dict) else {}
        run = Run(
            label=names.label(path),
            dir=path.as_posix(),
            kind=kind,
            model=_spec(models.get("model")),
            judge=_spec(models.get("judge")),
        )
        found = _judged(path, kind, JUDGED_KINDS[kind], run) if kind in JUDGED_KINDS else _choice(path, kind)
        if found is None:
            continue
        index = len(runs)
        runs.append(run)
        for group, answer in found:
            answer["run"] = index
            groups.setdefault(group.key, group).answers.append(answer)
    if not runs:
        raise ConfigError(
            f"{', '.join(map(str, roots))}: no evaluation run with per-item files "
            "(judgments.jsonl or items.jsonl beside a run.json) inside"
        )
    return Collection(runs, list(groups.values()))


def _spec(model: Any) -> str | None:
    return model.get("spec") if isinstance(model, dict) and isinstance(model.get("spec"), str) else None


def _judged(path: Path, kind: str, answers_file: str, run: Run) -> list[tuple[Group, dict]] | None:
    from culturalign.records.generation import ModelResponse
    from culturalign.records.judgment import Judgment

    jpath, apath = path / "judgments.jsonl", path / answers_file
    summary = (
        read_json_object(path / "summary.json", "a run summary") if (path / "summary.json").exists() else {}
    )
    scale = summary.get("scale")
    run.scale = tuple(scale) if isinstance(scale, list) and len(scale) == 2 else (1, 10)
    run.judge = run.judge or (summary.get("judge") if isinstance(summary.get("judge"), str) else None)
    responses = read_records(apath, ModelResponse) if apath.exists() else []
    errors = {(r.item_id, r.sample_index, r.mode, r.lang): r.error for r in responses if r.error}
    out: list[tuple[Group, dict]] = []
    if jpath.exists():
        for j in read_records(jpath, Judgment):
            group = _group(kind, j.item_id, j.sample_index, j.mode, j.lang, j.question)
            group.reference, group.culture, group.category, group.scope = (
                j.reference,
                j.culture,
                j.category,
                j.scope,
            )
            answer: dict[str, Any] = {
                "text": j.response,
                "status": j.status,
                "rating": j.rating,
                "reason": j.reason,
                "judge_reply": j.judge_reply,
                "rubric": j.rubric,
                "attempts": [
                    {"sample": s.sample, **a.model_dump(exclude={"seed", "temperature"})}
                    for s in j.samples
                    for a in s.attempts
                ],
            }
            error = errors.get((j.item_id, j.sample_index, j.mode, j.lang))
            if error:
                answer["error"] = error
            if j.human_rating is not None:
                answer["human_rating"] = j.human_rating
            out.append((group, answer))
        return out
    if not responses:
        return None
    for r in responses:  # answered, not judged yet (a run stopped by its judge)
        group = _group(kind, r.item_id, r.sample_index, r.mode, r.lang, r.question or "")
        group.reference, group.culture, group.category, group.scope = (
            r.reference_answer,
            r.culture,
            r.category,
            r.geographic_scope,
        )
        reason = f"the answer failed: {r.error}" if r.error else "not judged (no judgments.jsonl)"
        out.append(
            (group, {"text": r.text, "status": "skipped", "rating": None, "reason": reason, "error": r.error})
        )
    return out


def _group(kind: str, item_id: str, sample: int, mode: str | None, lang: str | None, question: str) -> Group:
    key = "\x1f".join([kind, item_id, str(sample), mode or "", lang or ""])
    return Group(key=key, kind=kind, item_id=item_id, question=question, mode=mode, lang=lang)


def _choice(path: Path, kind: str) -> list[tuple[Group, dict]] | None:
    items = path / "items.jsonl"
    if not items.exists():
        items = path / "items.jsonl.partial"  # a stopped run: what it scored is still worth reading
        if not items.exists():
            return None
    if kind == "eval-grounded":
        return list(_grounded(iter_jsonl(items), kind))
    out: list[tuple[Group, dict]] = []
    for lineno, rec in iter_jsonl(items):
        item_id = str(rec.get("id", f"line {lineno}"))
        question = rec.get("question")
        if question is None and "premise" in rec:
            question = f"{rec.get('premise')}\n⇒ {rec.get('hypothesis')}"
        # an opinion item is asked once plainly and once per country: one group each
        variant = rec.get("country") if kind == "eval-opinions" else None
        group = _group(
            kind,
            item_id,
            0,
            rec.get("kind") if kind == "eval-opinions" else None,
            variant,
            str(question or ""),
        )
        group.culture = _first(rec, "culture", "country", "region")
        group.category = _first(rec, "category", "topic", "variant")
        options = rec.get("options")
        if isinstance(options, list):
            group.options = [str(o) for o in options]
        group.reference = _gold(rec, group.options)
        correct = rec.get("correct")
        if correct is None and isinstance(rec.get("pred"), str) and isinstance(rec.get("gold"), str):
            correct = rec["pred"] == rec["gold"]  # CALI writes the label, not whether it is right
        text = _picked(rec, group.options)
        error = rec.get("error")
        answer: dict[str, Any] = {
            "text": text,
            "status": "invalid"
            if correct is None and (error or text is None) and "similarity" not in rec
            else "ok",
            "rating": None,
            "correct": correct if isinstance(correct, bool) else None,
            "error": error,
            "reason": f"no answer: {error}" if error else None,
            "details": {k: v for k, v in rec.items() if k not in _LIFTED},
        }
        if isinstance(rec.get("choice"), int):
            answer["choice"] = rec["choice"]
        if isinstance(rec.get("similarity"), int | float):  # opinions: one number, not right or wrong
            answer["score"] = {"name": "similarity", "value": rec["similarity"]}
        out.append((group, answer))
    return out


def _grounded(rows: Iterable[tuple[int, dict[str, Any]]], kind: str) -> Iterable[tuple[Group, dict]]:
    """Paper 003's items: the plain and the knowledge-augmented answer of one question are
    two answers of the run (modes ``plain`` and ``augmented``), the knowledge the reference."""
    for lineno, rec in rows:
        for mode in ("plain", "augmented"):
            ans = rec.get(mode)
            if not isinstance(ans, dict):
                continue
            group = _group(
                kind,
                str(rec.get("question_id", f"line {lineno}")),
                0,
                mode,
                None,
                str(rec.get("question", "")),
            )
            group.reference = rec.get("knowledge")
            group.culture, group.category = rec.get("cultural_group"), rec.get("topic")
            error = ans.get("error") or ans.get("judge_error")
            entail = ans.get("entailment")
            score = (
                {"score": {"name": "entailment", "value": entail}} if isinstance(entail, int | float) else {}
            )
            yield (
                group,
                {
                    "text": ans.get("text"),
                    "status": "ok" if ans.get("entailment") is not None else "invalid",
                    "rating": None,
                    "error": error,
                    "reason": f"no entailment score: {error}" if error else None,
                    "details": {"entailment": ans.get("entailment"), "method": ans.get("method")},
                    **score,
                },
            )


def _first(rec: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = rec.get(k)
        if isinstance(v, str) and v:
            return v
    return None


def _gold(rec: dict[str, Any], options: list[str] | None) -> str | None:
    """The right answer in words: the option at ``answer``, a gold label, or the true options."""
    answer = rec.get("answer")
    if isinstance(answer, int) and options and 0 <= answer < len(options):
        return options[answer]
    if isinstance(answer, str):
        return answer
    if isinstance(rec.get("gold"), str):
        return rec["gold"]
    truths = rec.get("truths")
    if isinstance(truths, list) and options:
        return "true: " + "; ".join(o for o, t in zip(options, truths, strict=False) if t)
    return None


def _picked(rec: dict[str, Any], options: list[str] | None) -> str | None:
    """What the model answered: its free text, else the option it picked, else its label."""
    for key in ("response", "raw_text"):
        if isinstance(rec.get(key), str):
            return rec[key]
    choice = rec.get("choice")
    if isinstance(choice, int) and options and 0 <= choice < len(options):
        return options[choice]
    if isinstance(rec.get("pred"), str):
        return rec["pred"]
    judged = rec.get("judged_true")
    if isinstance(judged, list) and options:
        return "judged true: " + "; ".join(o for o, t in zip(options, judged, strict=False) if t)
    return None
