"""--robustness end to end with a tiny model: the CLI, and the real WVS, CALI and BLEnD
files next to the repository (skipped when they are absent)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from culturalign.evals.choice.cali import run_cali
from culturalign.evals.choice.opinions import run_opinions
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


def test_cli_robustness_with_a_tiny_model(tiny_model_dir, tmp_path):
    from culturalign.cli import app

    out = tmp_path / "mcq"
    res = CliRunner().invoke(
        app,
        ["eval", "mcq", "-d", str(SAMPLE / "choice_include.csv"), "-o", str(out), "-m", f"hf:{tiny_model_dir}",
         "--limit", "3", "--robustness", "2"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["robustness"]["variants"]) == 6
    assert "robustness.md" in res.output


def test_real_wvs_and_cali_with_a_tiny_model(shared_data, tiny_model_dir, tmp_path):
    from culturalign.datasets.wvs import country_name
    from culturalign.evals.choice.data import cali_items, opinion_items
    from culturalign.lm import load_lm

    lm = load_lm(f"hf:{tiny_model_dir}", cache=None)
    s = run_opinions(lm, opinion_items(shared_data / "wvs"), tmp_path / "wvs", limit=2, robustness=2,
                     countries=[country_name(c) for c in ("USA", "CHN", "DEU")])  # fmt: skip
    rb = s["robustness"]
    assert len(rb["variants"]) == 6 and rb["country_rank_tau"]["pairs"] == 15
    c = run_cali(lm, cali_items(shared_data / "cali" / "data.tsv"), tmp_path / "cali", limit=3, robustness=2)
    assert c["robustness"]["per_culture"]


def write_blend_mc_csv(blend_dir, path, per_region: int = 3) -> int:
    """A BLEnD multiple-choice CSV built from the real annotations, the way the authors'
    generator does it: the region's most common answer against other regions' most
    common answers to the same question (only those the region's annotators never gave).
    The right option's place comes from a hash of the row id, so it is not always A."""
    import csv
    import hashlib

    regions = {f.name.removesuffix("_data.json"): json.loads(f.read_text()) for f in sorted((blend_dir / "annotations").glob("*_data.json"))}  # fmt: skip

    def top(entry) -> str | None:
        anns = sorted(entry.get("annotations") or [], key=lambda a: -a["count"])
        return anns[0]["en_answers"][0] if anns and anns[0].get("en_answers") else None

    rows = []
    for region, data in regions.items():
        made = 0
        for qid, entry in data.items():
            right = top(entry)
            given = {a.lower() for ann in entry.get("annotations") or [] for a in ann.get("en_answers") or []}
            others = []
            for other, odata in regions.items():
                t = top(odata.get(qid) or {}) if other != region else None
                if t and t.lower() not in given and t not in [o for o, _ in others]:
                    others.append((t, other))
            if right is None or len(others) < 3 or made >= per_region:
                continue
            made += 1
            options = [(o, c) for o, c in others[:3]]
            at = hashlib.sha256(f"{qid}_{region}".encode()).digest()[0] % 4
            options.insert(at, (right, region))
            letters = "ABCD"
            lines = "\n".join(f"{k}. {o}" for k, (o, _) in zip(letters, options, strict=True))
            prompt = (
                f"{entry['en_question']} Without any explanation, choose only one from the given alphabet "
                f"choices (e.g., A, B, C).\n\n{lines}\n\nAnswer:"
            )
            rows.append(
                {
                    "MCQID": f"{qid}_{region}",
                    "ID": qid,
                    "country": region,
                    "prompt": prompt,
                    "choices": json.dumps(dict(zip(letters, [o for o, _ in options], strict=True))),
                    "choice_countries": json.dumps(dict(zip(letters, [c for _, c in options], strict=True))),
                    "answer_idx": letters[at],
                }
            )
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def test_real_blend_multiple_choice_with_a_tiny_model(shared_data, tiny_model_dir, tmp_path):
    from culturalign.cli import app

    n = write_blend_mc_csv(shared_data / "blend", tmp_path / "blend_mc.csv", per_region=1)
    assert n == 8  # one question per region
    out = tmp_path / "blend"
    res = CliRunner().invoke(
        app,
        ["eval", "blend", "-d", str(tmp_path / "blend_mc.csv"), "-o", str(out), "-m", f"hf:{tiny_model_dir}",
         "--robustness", "2"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rb = json.loads((out / "summary.json").read_text())["robustness"]
    assert rb["spread"]["n"] == 6 and rb["agreement"]["units"] == 8
    # a short-answer folder has no options to reorder: a clear error, exit 2, no traceback
    import os
    import subprocess
    import sys

    env = {**os.environ, "CULTURALIGN_CACHE": str(tmp_path / "c.sqlite")}
    args = [
        "eval",
        "blend",
        "-d",
        str(shared_data / "blend"),
        "-o",
        str(tmp_path / "sa"),
        "--robustness",
        "2",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2 and "short-answer" in proc.stderr and "Traceback" not in proc.stderr
