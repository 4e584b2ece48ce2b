"""The built-in prompt templates and judge rubrics each stage reads, hashed into its fingerprint.

An upgrade of culturalign that rewrites a prompt must re-run the stages that send it, and
only those: a stage's fingerprint holds the culturalign version and the content hash of
every asset group its kind uses (``STAGE_ASSETS``). A group is a folder or file inside the
package; the judge rubrics are found by ``rubric_dir`` (they moved from ``evals/rubrics``
to ``judge/rubrics``; whichever exists is used, so the hash follows the files).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from culturalign.io import fingerprint_file, stable_hash
from culturalign.paths import package_data

# files an output folder holds that carry the time they were written (the run log, and
# lm-eval's results shape with its ``date``); hashing them would make every re-run of a
# stage look like a change to the stages that read its folder
TIMESTAMPED = frozenset({"run.json", "lm_eval_results.json"})


def path_fingerprint(path: Path) -> str:
    """Bytes of a file, or of every file in a folder (sorted, with relative names), leaving
    out checkpoints and the ``TIMESTAMPED`` files."""
    path = Path(path)
    if path.is_file():
        return fingerprint_file(path)
    if path.is_dir():
        parts = []
        for p in sorted(path.rglob("*")):
            if p.is_file() and "checkpoint-" not in str(p.relative_to(path)) and p.name not in TIMESTAMPED:
                parts.append((str(p.relative_to(path)), fingerprint_file(p)))
        return stable_hash(parts)
    return "missing"


def rubric_dir() -> Path:
    """Where the built-in judge rubrics live in this version of the package."""
    for parts in (("judge", "rubrics"), ("evals", "rubrics")):
        p = package_data(*parts)
        if p.is_dir():
            return p
    return package_data("judge", "rubrics")  # hashes as "missing": a broken install re-runs


def _templates(*parts: str) -> Callable[[], list[Path]]:
    return lambda: [package_data("prompts", "templates", *parts)]


ASSETS: dict[str, Callable[[], list[Path]]] = {
    "caredio": lambda: [
        package_data("prompts", "templates", "caredio"),
        package_data("synth", "templates.py"),
    ],
    "grounded": lambda: [
        package_data("prompts", "templates", "grounded"),
        package_data("synth", "grounded_prompts.py"),
    ],
    "modes": _templates("modes"),
    "translate": _templates("translate"),
    "choice": _templates("choice"),
    "rubrics": lambda: [rubric_dir()],
}

# asset groups per stage kind; an evaluation's by its `eval` kind
STAGE_ASSETS: dict[str, tuple[str, ...]] = {
    "synth-questions": ("caredio",),
    "synth-adapt": ("caredio",),
    "synth-respond": ("caredio",),
    "synth-grounded": ("grounded",),
    "select": ("caredio",),  # in-context representativeness reads incontext.txt
    "export": ("grounded",),  # grounded DPO/SFT rows carry the answer prompt
    "eval:care": ("modes", "translate", "rubrics"),
    "eval:care-choice": ("choice", "translate"),
    "eval:grounded": ("grounded", "rubrics"),
    "eval:opinions": ("choice",),
    "eval:culturalbench": ("choice",),
    "eval:cali": ("choice",),
    "eval:blend": ("choice",),
    "eval:mcq": ("choice",),
    "eval:culturebank-quality": ("rubrics",),
    "eval:prism": ("rubrics",),
}


def asset_hashes(kind: str) -> dict[str, str]:
    """Asset group → content hash of its files, for a stage of ``kind``."""
    out = {}
    for group in STAGE_ASSETS.get(kind, ()):
        out[group] = stable_hash([path_fingerprint(p) for p in ASSETS[group]()])
    return out
