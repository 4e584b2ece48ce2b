"""A hand-made run folder shaped like the demo's: CARE before/after, opinions before/after,
one training run with its held-out gap. Numbers chosen so each change is worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

from culturalign.evals.care.stats import summarize
from culturalign.records.judgment import Judgment

# item -> (culture, category, rating before, rating after)
CARE_ITEMS = {
    "z1": ("Chinese", "opinion", 4, 6),
    "z2": ("Chinese", "opinion", 5, 6),
    "z3": ("Chinese", "literacy", 3, 4),
    "a1": ("Arab", "opinion", 6, 7),
    "a2": ("Arab", "social_norms", 2, 4),
}
# question -> (similarity before, after), one country each
OPINIONS = {"q1": (0.5, 0.6), "q2": (0.7, 0.6), "q3": (0.4, 0.5)}


def _write(path: Path, name: str, data) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / name).write_text(json.dumps(data), encoding="utf-8")


def _care(root: Path, model: str, col: int) -> None:
    js = [
        Judgment(
            item_id=k,
            question="q",
            reference="a",
            response="r",
            category=cat,
            scope="national",
            culture=culture,
            judge="embedded",
            rating=v[col],
            valid=True,
            status="ok",
        )
        for k, (culture, cat, *v) in CARE_ITEMS.items()
    ]
    d = root / "eval" / "care" / model / "vanilla-en"
    summary = summarize(js, label=model, judge="embedded", mode="vanilla", lang="en", model=model)
    _write(d, "summary.json", summary.model_dump(mode="json"))
    _write(d, "run.json", {"kind": "eval-care", "notes": []})


def _opinions(root: Path, model: str, col: int) -> None:
    d = root / "eval" / "opinions" / model / "sample"
    recs = [{"id": q, "country": "Japan", "similarity": v[col]} for q, v in OPINIONS.items()]
    (d).mkdir(parents=True, exist_ok=True)
    (d / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    mean = sum(r["similarity"] for r in recs) / len(recs)
    _write(d, "summary.json", {"culture_sim": mean, "similarity": "distance"})
    _write(d, "run.json", {"kind": "eval-opinions", "notes": []})


def _gap(gap: float, diffs: list[float]) -> dict:
    return {
        "n": len(diffs),
        "gap": gap,
        "gap_per_token": 0.0,
        "accuracy": 1.0,
        "chosen_logp": 0.0,
        "rejected_logp": 0.0,
        "diffs": diffs,
    }


def make_run_folder(root: Path) -> Path:
    for model, col in (("base", 0), ("dpo-lora", 1)):
        _care(root, model, col)
        _opinions(root, model, col)
    result = {"steps": 3, "seconds": 1.0, "gap_before": _gap(1.0, [1.0]), "gap_after": _gap(3.0, [3.0])}
    _write(
        root / "train" / "dpo-lora",
        "culturalign-train.json",
        {"method": "dpo", "model_spec": "embedded", "status": "done", "result": result},
    )
    return root
