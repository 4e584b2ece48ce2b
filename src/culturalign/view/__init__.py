"""Read every answer: one offline HTML page of every item the evaluation runs wrote
(``culturalign view RUN_DIR ...``, issue 19).

What it shows per item: the question, the reference (or the right option), each run's
answer side by side when several runs evaluated the same item, the judge's full reply,
the rating, every attempt and why a rating is missing. See ``collect`` for which files
of which run kinds are read, and ``page`` for how model text is kept inert.

Links into the page
-------------------
The page's state lives in the URL fragment, so a report table cell can link to the items
behind it::

    view.html#run=<label>&culture=<c>&category=<k>

Keys (all optional, any order, each value URL-encoded as by ``encodeURIComponent``;
``+`` also reads as a space):

``run``       a run's label, the same as the report's (``report.runs.name_runs``: the
              model folder of ``eval/<kind>/<model>/<mode>-<lang>``, else the run's
              folder name, or the model's name when that folder is ``out``,
              ``vanilla-en`` and the like), or the run's directory (or its end), or its
              model spec; every run it names is shown, answers of the others hidden
``kind``      the benchmark, a run kind such as ``eval-care`` or ``eval-prism``
``culture``   exact culture (``Chinese``; for choice benchmarks the country or region)
``category``  exact category (CARE's ``social_norms``...; a choice benchmark's topic)
``scope``     exact geographic scope (CARE)
``min``/``max`` rating range, inclusive (items without a rating are then hidden)
``invalid``   ``1``: only answers without a valid rating or score
``q``         free text: every word must occur in the question, reference, an answer,
              a judge reply or an error (case-insensitive)
``item``      one item id
``page``      page number (50 items a page)

A value no item has shows an empty page, never everything. ``link()`` builds a fragment.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

__all__ = ["FRAGMENT_KEYS", "build_page", "link", "serve", "write_view"]

FRAGMENT_KEYS = ("run", "kind", "culture", "category", "scope", "min", "max", "invalid", "q", "item", "page")


def link(run: str | None = None, **filters: str | int | float | bool | None) -> str:
    """The fragment (``#run=...&culture=...``) that opens the page on these filters;
    append it to the page's path. ``None`` and ``False`` values are left out; ``True``
    is written ``1`` (``invalid=True``)."""
    unknown = sorted(set(filters) - set(FRAGMENT_KEYS))
    if unknown:
        raise ValueError(f"unknown viewer filter(s) {', '.join(unknown)}; known: {', '.join(FRAGMENT_KEYS)}")
    values = {"run": run, **filters}
    parts = []
    for key in FRAGMENT_KEYS:
        v = values.get(key)
        if v is None or v is False:
            continue
        text = "1" if v is True else format(v, "g") if isinstance(v, float) else str(v)
        parts.append(f"{key}={quote(text, safe='')}")
    return "#" + "&".join(parts)


def build_page(run_dirs: Sequence[Path], *, title: str | None = None, page_size: int | None = None) -> str:
    """The viewer's HTML for the runs under ``run_dirs``."""
    from culturalign.view.collect import collect
    from culturalign.view.page import PAGE_SIZE, render

    found = collect(run_dirs)
    if title is None:
        labels = list(dict.fromkeys(r.label for r in found.runs))  # one model on two benchmarks: once
        title = "culturalign view: " + ", ".join(labels[:4])
        if len(labels) > 4:
            title += f" and {len(labels) - 4} more"
    return render(found.as_json(), title=title, page_size=page_size or PAGE_SIZE)


def write_view(run_dirs: Sequence[Path], path: Path | None = None, *, title: str | None = None) -> Path:
    """Write the page (default ``RUN_DIR/view.html``, the first directory given) and return its path."""
    from culturalign.io import atomic_write_text

    if not run_dirs:
        raise ValueError("give at least one run directory")
    html = build_page(run_dirs, title=title)
    target = Path(path) if path is not None else Path(run_dirs[0]) / "view.html"
    atomic_write_text(target, html)
    return target


def serve(html: str, port: int = 0):
    """A threaded HTTP server on 127.0.0.1 (never another address) answering ``/`` and
    ``/view.html`` with the page; call ``serve_forever()`` on it. Returns (server, url)."""
    from culturalign.view.server import make_server

    return make_server(html, port)
