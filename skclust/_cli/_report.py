"""The self-contained HTML report that ``skclust report`` writes.

Each part of the study contributes a :class:`Section`: a title and a list of
blocks (paragraphs, tables, figures). Figures are embedded as base64 data so
that ``index.html`` is one file that any browser opens without a server.
"""

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from ._output import _format_cell, write_text


@dataclass
class Section:
    """One part of the report."""

    title: str
    blocks: list = field(default_factory=list)

    def paragraph(self, text):
        self.blocks.append(("p", text))

    def table(self, rows, columns, caption=""):
        self.blocks.append(("table", (rows, columns, caption)))

    def figure(self, path, caption=""):
        self.blocks.append(("figure", (Path(path), caption)))


def _render_table(rows, columns, caption):
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_format_cell(row[c]))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _render_figure(path, caption, root):
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    try:
        link = path.relative_to(root).as_posix()
    except ValueError:
        link = path.name
    cap = html.escape(caption or path.name)
    return (
        f'<figure><a href="{html.escape(link)}">'
        f'<img src="data:image/png;base64,{data}" alt="{cap}"></a>'
        f"<figcaption>{cap}</figcaption></figure>"
    )


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
caption { font-weight: bold; text-align: left; padding: 0.3em 0; }
figure { margin: 1em 0; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #555; }
nav a { margin-right: 1em; }
"""


def render_html(sections, root, title="skclust report"):
    """The whole report as one HTML string."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><nav>",
    ]
    parts += [
        f'<a href="#section-{i}">{html.escape(s.title)}</a>'
        for i, s in enumerate(sections)
    ]
    parts.append("</nav>")
    for i, section in enumerate(sections):
        parts.append(f'<section id="section-{i}"><h2>{html.escape(section.title)}</h2>')
        for kind, content in section.blocks:
            if kind == "p":
                parts.append(f"<p>{html.escape(content)}</p>")
            elif kind == "table":
                parts.append(_render_table(*content))
            else:
                parts.append(_render_figure(*content, Path(root)))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(sections, out_dir, title="skclust report"):
    """Write ``out_dir/index.html`` and return its path."""
    path = Path(out_dir) / "index.html"
    write_text(path, render_html(sections, out_dir, title))
    return path
