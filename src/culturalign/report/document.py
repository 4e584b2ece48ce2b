"""A tiny document model (headings, text, tables, images, notes) with two renderers.

HTML output is one file with inline CSS and images as data URIs, so it can be mailed
or attached as is. Markdown output writes images next to it. All text from data is
escaped: model outputs are untrusted.
"""

from __future__ import annotations

import base64
import html
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Note:
    """A caveat the reader must not miss (e.g. a weak stand-in judge)."""

    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Image:
    path: Path
    caption: str = ""


@dataclass
class Preformatted:
    text: str


Block = Heading | Paragraph | Note | Table | Image | Preformatted


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
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{border-bottom:2px solid #333}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
.note{background:#fff4e5;border-left:4px solid #f0a000;padding:.6em 1em;margin:1em 0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#555;font-size:.9em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
"""


def _img_data_uri(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def to_html(doc: Document) -> str:
    e = html.escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{e(doc.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Note):
            out.append(f"<div class='note'>{e(b.text)}</div>")
        elif isinstance(b, Table):
            cap = f"<caption>{e(b.caption)}</caption>" if b.caption else ""
            head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
            body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in b.rows)
            out.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Image):
            out.append(
                f"<figure><img src='{_img_data_uri(b.path)}' alt='{e(b.caption)}'>"
                f"<figcaption>{e(b.caption)}</figcaption></figure>"
            )
        elif isinstance(b, Preformatted):
            out.append(f"<pre>{e(b.text)}</pre>")
    out.append("</body></html>")
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document, out_path: Path) -> str:
    """Markdown with images copied into ``<name>_files/`` next to ``out_path``."""
    files_dir = out_path.with_name(out_path.stem + "_files")
    lines = [f"# {doc.title}", ""]
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Paragraph):
            lines += [b.text, ""]
        elif isinstance(b, Note):
            lines += [f"> **Note.** {b.text}", ""]
        elif isinstance(b, Table):
            if b.caption:
                lines += [f"**{b.caption}**", ""]
            lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            lines.append("|" + "|".join("---" for _ in b.headers) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif isinstance(b, Image):
            files_dir.mkdir(parents=True, exist_ok=True)
            target = files_dir / f"{k:03d}-{Path(b.path).name}"
            shutil.copyfile(b.path, target)
            lines += [f"![{b.caption}]({files_dir.name}/{target.name})", f"*{b.caption}*", ""]
        elif isinstance(b, Preformatted):
            lines += ["```", b.text, "```", ""]
    return "\n".join(lines)
