"""`culturalign generate`: answer a file of questions with any model, resumably."""

from __future__ import annotations

from pathlib import Path

import typer

from culturalign.cli.common import (
    CacheOpt,
    LimitOpt,
    LimitOrderOpt,
    ModelOpt,
    TranslateWithOpt,
    english_check,
    limit_order_arg,
    system_prompt_arg,
)
from culturalign.sampling import LimitOrder


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    model: str = ModelOpt,
    data: Path = typer.Option(..., "--data", "-d", help="questions: any format `data validate` reads"),
    out: Path = typer.Option(..., "--out", "-o", help="responses JSONL (a summary goes to OUT.summary.json)"),
    fmt: str | None = typer.Option(None, "--format", help="data format (default: detected)"),
    mode: str = typer.Option(
        "vanilla", "--mode", help="vanilla | cot | roleplay (or a mode file in --templates)"
    ),
    lang: str = typer.Option(
        "native", "--lang", help="native: the question as collected; en: its English translation"
    ),
    n_samples: int = typer.Option(1, "--n-samples", "-k", min=1, help="answers per question"),
    limit: int | None = LimitOpt,
    limit_order: LimitOrder = LimitOrderOpt,
    translate_with: str | None = TranslateWithOpt,
    temperature: float = typer.Option(0.7, min=0.0, help="0 = greedy (CARE default 0.7)"),
    top_p: float = typer.Option(1.0, "--top-p", min=0.0, max=1.0),
    max_new_tokens: int = typer.Option(1024, "--max-new-tokens", min=1),
    max_context: int = typer.Option(2048, "--max-context", min=16, help="prompt plus answer, in tokens"),
    seed: int = typer.Option(0, help="base seed; sample k uses a seed derived from it"),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt", help="replace the mode's system message: TEXT or @FILE"
    ),
    templates: Path | None = typer.Option(
        None, "--templates", help="folder of your own mode files (NAME.txt)"
    ),
    cache: str | None = CacheOpt,
) -> None:
    """Answer each question (n samples each) and write one response record per answer.

    Every call goes through the call cache, so a run that is stopped and started again
    only makes the calls still missing; failed calls are kept with their error and are
    retried by the next run.
    """
    from rich.console import Console

    from culturalign.cli.common import open_lm
    from culturalign.generate import generate_file, load_questions, summary_path
    from culturalign.prompting import load_mode
    from culturalign.records import GenerationParams

    try:
        params = GenerationParams(
            temperature=temperature,
            top_p=top_p,
            max_new_tokens=max_new_tokens,
            max_context=max_context,
            seed=seed,
        )
    except ValueError as exc:
        from culturalign.errors import ConfigError

        raise ConfigError(f"bad decoding settings: {exc}") from None
    # everything that can be wrong with the input is checked before a model is loaded
    if lang not in ("native", "en"):
        from culturalign.errors import ConfigError

        raise ConfigError(f"--lang must be native or en, not {lang!r}")
    load_mode(mode, templates)
    system = system_prompt_arg(system_prompt)
    questions = load_questions(data, fmt, limit, limit_order_arg(limit_order))
    english_check(questions, lang, translate_with, data)
    lm = open_lm(model, cache)
    translator = None
    try:
        if translate_with is not None:
            translator = lm if translate_with == model else open_lm(translate_with, cache)
        s = generate_file(
            lm,
            data,
            out,
            fmt=fmt,
            limit=limit,
            limit_order=limit_order,
            mode=mode,
            lang=lang,
            n_samples=n_samples,
            params=params,
            system_prompt=system,
            template_dir=templates,
            questions=questions,
            translate_with=translator,
        )
    finally:
        lm.close()
        if translator is not None and translator is not lm:
            translator.close()
    console = Console(soft_wrap=True)
    price = s.get("price", {})
    if not price:
        cost = "none (local model)"
    elif price.get("source") == "unknown":
        cost = "unknown (pass +input_price=/+output_price= in the spec)"
    else:
        cost = f"${s['cost_usd']:.4f}"
    console.print(f"wrote {s['responses']} responses for {s['items']} items to {out}")
    for note in s["notes"]:
        if not note.startswith(lm.spec + " writes English only"):  # already printed as a warning
            console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"calls made {s['calls']} · cache hits {s['cache_hits']} · failed {s['failed']} · "
        f"tokens {s['prompt_tokens']} in / {s['completion_tokens']} out · cost {cost}"
        + (f" · retries {s['retries']}" if s.get("retries") else "")
        + f" · {s['elapsed_s']:.1f}s"
    )
    if s["failed"]:
        console.print(
            f"[yellow]{s['failed']} call(s) failed; their errors are in {out}. "
            "Run the same command again to retry only those.[/]"
        )
    console.print(f"summary: {summary_path(out)}")
