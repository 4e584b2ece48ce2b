"""The viewer as one self-contained HTML file: the items embedded as JSON, a small
vanilla-JS interface, no request to anything (a Content-Security-Policy forbids it).

Model text is untrusted: the script builds every element with ``textContent`` and never
parses a string as HTML, and the embedded JSON has ``<``, ``>``, ``&`` and U+2028/U+2029
written as ``\\uXXXX`` escapes, so no answer can close the ``<script>`` block that holds it.
The policy allows only the page's own script (by its SHA-256), so even markup that slipped
through could not run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any

#: groups drawn per page; the rest of a large run is only filtered, never put in the DOM
PAGE_SIZE = 50

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: the characters that could end
    the block or confuse an HTML parser appear only as escapes, which JSON.parse reads back
    to the same text. (They can only occur inside strings, so replacing them is exact.)"""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in _ESCAPES.items():
        text = text.replace(ch, esc)
    return text


def render(data: dict[str, Any], *, title: str = "culturalign view", page_size: int = PAGE_SIZE) -> str:
    """The page's HTML for ``data`` (``Collection.as_json()``)."""
    from culturalign.view.assets import SCRIPT as script
    from culturalign.view.assets import STYLE

    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; "
        f"script-src 'sha256-{digest}'; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    payload = embed_json({**data, "pageSize": page_size, "title": title})
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{STYLE}</style>\n"
        "</head><body>\n"
        f'<header><h1 id="title">{html.escape(title)}</h1><p id="counts"></p></header>\n'
        '<form id="filters" autocomplete="off">\n'
        '<label>run <select id="f-run"><option value="">all</option></select></label>\n'
        '<label>benchmark <select id="f-kind"><option value="">all</option></select></label>\n'
        '<label>culture <select id="f-culture"><option value="">all</option></select></label>\n'
        '<label>category <select id="f-category"><option value="">all</option></select></label>\n'
        '<label>scope <select id="f-scope"><option value="">all</option></select></label>\n'
        '<label>rating <input id="f-min" type="number" step="any" placeholder="min"> – '
        '<input id="f-max" type="number" step="any" placeholder="max"></label>\n'
        '<label><input id="f-invalid" type="checkbox"> invalid only</label>\n'
        '<label class="grow">search <input id="f-q" type="search" placeholder="words in any text"></label>\n'
        '<button id="f-clear" type="button">clear</button>\n'
        "</form>\n"
        '<nav class="pager" id="pager-top"></nav>\n'
        '<main id="groups"></main>\n'
        '<nav class="pager" id="pager-bottom"></nav>\n'
        f'<script type="application/json" id="view-data">{payload}</script>\n'
        f"<script>{script}</script>\n"
        "</body></html>\n"
    )
