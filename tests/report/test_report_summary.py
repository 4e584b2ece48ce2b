"""The report opens with a summary: what was evaluated, the findings as sentences with
paired intervals, and what is too small to conclude. The run folder is hand-made
(``intervals_folder``), so every number below is worked out by hand."""

from __future__ import annotations

import json

from intervals_folder import make_run_folder

from culturalign.report.build import build_report


def _summary(md: str) -> str:
    return md[md.index("## Summary") : md.index("## CARE")]


def test_summary_states_findings_with_intervals_and_what_is_too_small(tmp_path):
    root = make_run_folder(tmp_path)
    _, md_path = build_report([root], out=tmp_path / "report", baseline="base")
    summary = _summary(md_path.read_text())
    # items per culture and category, as evaluated: Chinese 2 opinion + 1 literacy, Arab 1 + 1
    assert "| Chinese | 0 | 2 | 0 | 0 | 1 | 3 |" in summary and "| all | 0 | 3 | 1 | 0 | 1 | 5 |" in summary
    # all five items: before (4+5+3+6+2)/5 = 4.0, after (6+6+4+7+4)/5 = 5.4; differences 2,1,1,1,2
    assert "dpo-lora raised the all-culture average by +1.40 [+1.00, +1.80] on 5 questions" in summary
    assert "(base 4.00 → 5.40)" in summary
    # Arab: 6→7 and 2→4, so +1 and +2
    assert "dpo-lora raised the Arab average by +1.50 [+1.00, +2.00] on 2 questions" in summary
    # cultureSim per question +0.1, -0.1, +0.1: the interval includes 0, so no finding
    assert "No measurable change (the interval includes 0), 1:" in summary
    assert "dpo-lora, opinions culture_sim: +0.033 [-0.100, +0.100] on 3 items" in summary
    # one-item cells are listed once each (not once per run), and the one held-out pair
    assert "CARE Chinese Literacy: n=1 rated" in summary and summary.count("Chinese Literacy") == 1
    assert "CARE Arab Norms: n=1 rated" in summary
    assert "DPO training (dpo-lora), change in the held-out gap: n=1 shared held-out pairs" in summary


def test_summary_names_models_by_spec_and_links_the_training_run(tmp_path):
    root = make_run_folder(tmp_path)
    train = root / "train" / "dpo-lora"
    for model, spec in (("base", "hf:/models/SmolLM2"), ("dpo-lora", f"hf:{train}")):
        log = root / "eval" / "care" / model / "vanilla-en" / "run.json"
        log.write_text(
            json.dumps(
                {
                    "kind": "eval-care",
                    "notes": [],
                    "models": {
                        "model": {"spec": spec, "weights": "88faa1fa2aabad0c1234", "adapter": None},
                        "judge": {"spec": "openai:gpt-4o@http://127.0.0.1:9/v1"},
                    },
                    "config": {"params": {"temperature": 0.0, "max_new_tokens": 64, "seed": 0}},
                }
            )
        )
    html_path, md_path = build_report([root], out=tmp_path / "report", baseline="hf:/models/SmolLM2")
    html = html_path.read_text()
    summary = _summary(md_path.read_text())
    assert "| [dpo-lora](#train-dpo-lora) | hf:" in summary  # evaluated model → its training run
    assert "[training run](#train-dpo-lora)" in summary
    assert "Judge: openai:gpt-4o@http://127.0.0.1:9/v1" in summary
    assert "Decoding (answers): temperature 0.0, up to 64 new tokens, seed 0" in summary
    assert "dpo-lora raised the Arab average" in summary  # the baseline given by its spec
    # the training run's section carries the anchor; specs and full hashes on hover
    assert "id='train-dpo-lora'" in html
    assert "<abbr title='hf:/models/SmolLM2'>base</abbr>" in html
    assert "title='88faa1fa2aabad0c1234'>88faa1fa2a</abbr>" in html
    # an API judge has no weights hash: no empty brackets in the provenance
    assert "[]" not in html and "judge=gpt-4o" in html


def test_summary_says_which_answers_were_not_rated(tmp_path):
    from culturalign.evals.care.stats import summarize
    from culturalign.records.judgment import Judgment

    def judged(k: int, rating: int | None) -> Judgment:
        return Judgment(item_id=f"i{k}", question="q", reference="a", response="r", category="opinion",
                        culture="Chinese", judge="hf:tiny", rating=rating, valid=rating is not None,
                        status="ok" if rating is not None else "invalid")  # fmt: skip

    for model, ratings in (("none-rated", [None, None, None]), ("some-rated", [5, None, 7])):
        d = tmp_path / "eval" / "care" / model / "vanilla-en"
        d.mkdir(parents=True)
        s = summarize([judged(k, r) for k, r in enumerate(ratings)], label=model, mode="vanilla", lang="en")
        (d / "summary.json").write_text(s.model_dump_json(), encoding="utf-8")
        (d / "run.json").write_text(json.dumps({"kind": "eval-care"}), encoding="utf-8")
    _, md_path = build_report([tmp_path], out=tmp_path / "report")
    summary = _summary(md_path.read_text())
    assert (
        "none-rated, CARE (vanilla, en): none of its 3 answers has a valid rating: nothing to conclude"
        in summary
    )
    assert (
        "some-rated, CARE (vanilla, en): 1 of 3 answers have no valid rating; the means leave them out"
        in summary
    )
    assert "No baseline was named" in summary


def test_cells_link_to_the_viewer_only_where_it_has_the_items(tmp_path):
    from culturalign import view

    root = make_run_folder(tmp_path)  # CARE summaries without their judgments; opinions with items
    html_path, _, view_path = build_report([root], out=root / "report", viewer=view)
    assert view_path == root / "view.html" and view_path.is_file()  # the opinion items are there
    assert "href='view.html#" not in html_path.read_text()  # but no CARE answer to open
