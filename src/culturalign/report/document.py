"""A tiny document model (headings, text, tables, images, notes) with two renderers.

HTML output is one file with inline CSS and images as data URIs, so it can be mailed
or attached as is. Markdown output writes images next to it. All text from data is
escaped: model outputs are untrusted.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Span:
    """Text with a full value on hover (``title``) and/or a link (``href``, e.g. to a
    training run's section): long hashes and model specs stay out of the table's width."""

    text: str
    title: str | None = None
    href: str | None = None
    wrap: bool = False  # may break anywhere (hashes, paths): keeps wide tables inside the page

    def __str__(self) -> str:
        return self.text


Text = str | Span


@dataclass
class Heading:
    text: str
    level: int = 2
    anchor: str | None = None  # the id other sections link to (``#train-dpo``)


@dataclass
class Paragraph:
    text: str


@dataclass
class Note:
    """A caveat the reader must not miss (e.g. a weak stand-in judge)."""

    text: str


@dataclass
class Bullets:
    """A list of plain sentences (the summary's findings)."""

    items: list[Text]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Text]]
    caption: str = ""
    # "results": every number in it says its n (the browser test checks); "meta": setup
    # and provenance, counts that are not sample sizes
    kind: str = "results"


@dataclass
class Image:
    path: Path
    caption: str = ""


@dataclass
class Preformatted:
    text: str


Block = Heading | Paragraph | Note | Bullets | Table | Image | Preformatted


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    @property
    def images(self) -> list[Image]:
        return [b for b in self.blocks if isinstance(b, Image)]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;font-size:16px;line-height:1.45}
h1{border-bottom:2px solid #333}h2{margin-top:2em;border-bottom:1px solid #ccc}
.tw{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;overflow-wrap:break-word}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
table.meta td,table.meta th{text-align:left}table.meta td{font-size:.92em}
.wrap{overflow-wrap:anywhere}
.summary h2{margin-top:.6em}
td.small{color:#777;font-style:italic;background:#fafafa}td.t{text-align:left}
abbr{text-decoration:underline dotted;cursor:help}
.note{background:#fff4e5;border-left:4px solid #f0a000;padding:.6em 1em;margin:1em 0}
.summary{background:#f4f8fc;border:1px solid #c9d9ea;padding:.2em 1.2em 1em;margin:1em 0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#555;font-size:.9em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
"""

SMALL_MARK = "too small"  # cells that say so are drawn greyed: read them as no result


def _img_data_uri(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def _span_html(t: Text) -> str:
    e = html.escape
    if not isinstance(t, Span):
        return e(str(t))
    inner = e(t.text)
    if t.wrap:
        inner = f"<span class='wrap'>{inner}</span>"
    if t.title:
        inner = f"<abbr title='{e(t.title)}'>{inner}</abbr>"
    if t.href:
        inner = f"<a href='{e(t.href)}'>{inner}</a>"
    return inner


_NUMBER = re.compile(r"^\s*[-+−–\[]?\s*(\d|$)")  # 0.5, -1, [0.4, 0.7], –


def _cell_class(text: str) -> str:
    """``small`` for a value too small to read; ``t`` (left-aligned) for words."""
    if SMALL_MARK in text:
        return "small"
    return "n" if _NUMBER.match(text) else "t"


def _table_html(b: Table) -> str:
    e = html.escape
    cap = f"<caption>{e(b.caption)}</caption>" if b.caption else ""
    head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(b.headers) else ""  # a key/value table has none
    body = "".join(
        "<tr>" + "".join(f"<td class='{_cell_class(str(c))}'>{_span_html(c)}</td>" for c in row) + "</tr>"
        for row in b.rows
    )
    return f"<div class='tw'><table class='{e(b.kind)}'>{cap}{thead}<tbody>{body}</tbody></table></div>"


def to_html(doc: Document) -> str:
    e = html.escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{e(doc.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    in_summary = False
    for b in doc.blocks:
        if isinstance(b, Heading):
            if in_summary and b.level <= 2:  # the summary box ends at the next section
                out.append("</section>")
                in_summary = False
            if b.anchor == "summary":
                out.append("<section class='summary'>")
                in_summary = True
            anchor = f" id='{e(b.anchor)}'" if b.anchor else ""
            out.append(f"<h{b.level}{anchor}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Note):
            out.append(f"<div class='note'>{e(b.text)}</div>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_span_html(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            out.append(_table_html(b))
        elif isinstance(b, Image):
            out.append(
                f"<figure><img src='{_img_data_uri(b.path)}' alt='{e(b.caption)}'>"
                f"<figcaption>{e(b.caption)}</figcaption></figure>"
            )
        elif isinstance(b, Preformatted):
            out.append(f"<pre>{e(b.text)}</pre>")
    if in_summary:
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


def _md_cell(text: Text) -> str:
    if isinstance(text, Span) and text.href and text.href.startswith("#"):
        # links within the report only: a viewer link on every number would bury the
        # Markdown table's text (the HTML report carries them)
        return f"[{_md_cell(text.text)}]({text.href})"
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document, out_path: Path) -> str:
    """Markdown with images in ``<name>_files/`` next to ``out_path`` (the folder the
    report's own figures are drawn into, so there is one figures folder, not two)."""
    files_dir = out_path.with_name(out_path.stem + "_files")
    lines = [f"# {doc.title}", ""]
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Heading):
            if b.anchor:  # the HTML's ids, so links from tables work on GitHub too
                lines.append(f'<a id="{b.anchor}"></a>')
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Paragraph):
            lines += [b.text, ""]
        elif isinstance(b, Note):
            lines += [f"> **Note.** {b.text}", ""]
        elif isinstance(b, Bullets):
            lines += [f"- {_md_cell(i)}" for i in b.items] + [""]
        elif isinstance(b, Table):
            if b.caption:
                lines += [f"**{b.caption}**", ""]
            lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            lines.append("|" + "|".join("---" for _ in b.headers) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif isinstance(b, Image):
            if Path(b.path).parent.resolve() == files_dir.resolve():
                target = Path(b.path)
            else:
                files_dir.mkdir(parents=True, exist_ok=True)
                target = files_dir / f"{k:03d}-{Path(b.path).name}"
                shutil.copyfile(b.path, target)
            lines += [f"![{b.caption}]({files_dir.name}/{target.name})", f"*{b.caption}*", ""]
        elif isinstance(b, Preformatted):
            lines += ["```", b.text, "```", ""]
    return "\n".join(lines)
