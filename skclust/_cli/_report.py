"""The HTML report that ``skclust report`` writes.

Each part of the study contributes a :class:`Section`: a title and a list of
blocks (paragraphs, tables, plots, picture comparisons). Tables and plots are
inside ``index.html`` (plots as base64 data); the pictures of the comparisons
(full-resolution reconstructions, zoomed details, error maps) are the PNG
files beside it, which the page shows and links to.
"""

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from ._output import write_text


@dataclass(frozen=True)
class Column:
    """A table column: the row key, its heading for a person, a number format.

    ``fmt`` is a format specification such as ``".2f"`` or ``",d"``, or a
    function of the value returning text; None formats by type.
    """

    key: str
    label: str = ""
    fmt: object = None

    @property
    def heading(self):
        return self.label or self.key

    def format(self, value):
        if callable(self.fmt):
            return self.fmt(value)
        if self.fmt is not None and isinstance(value, int | float):
            return format(value, self.fmt)
        return format_number(value)


def format_number(value):
    """Numbers as a person reads them: thousands separators, 4 significant digits.

    Examples
    --------
    >>> from skclust._cli._report import format_number
    >>> format_number(541103456.7), format_number(0.891234), format_number(12)
    ('541,103,457', '0.8912', '12')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,d}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


@dataclass
class Comparison:
    """Reconstructions of one image beside the original, whole and in detail.

    ``window`` is (top, left, size, zoom) of the detail; ``heat_scale`` the
    error shown brightest. Each entry is a dict with ``label``,
    ``reconstruction``, ``error``, ``reconstruction_detail`` and
    ``error_detail`` (paths of PNG files).
    """

    title: str
    original: Path
    original_detail: Path
    window: tuple
    heat_scale: float
    entries: list = field(default_factory=list)


@dataclass
class Section:
    """One part of the report."""

    title: str
    blocks: list = field(default_factory=list)

    def paragraph(self, text):
        self.blocks.append(("p", text))

    def table(self, rows, columns, caption="", settings=""):
        """A table; ``columns`` are :class:`Column` or row keys, ``settings``
        says how its figures were made (starts, seed, tolerance)."""
        columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self.blocks.append(("table", (rows, columns, caption, settings)))

    def figure(self, path, caption=""):
        self.blocks.append(("figure", (Path(path), caption)))

    def comparison(self, comparison):
        self.blocks.append(("comparison", comparison))


def _link(path, root):
    try:
        return html.escape(Path(path).relative_to(root).as_posix())
    except ValueError:
        return html.escape(Path(path).name)


def _render_table(rows, columns, caption, settings):
    head = "".join(f"<th>{html.escape(c.heading)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(c.format(row[c.key]))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    cap = html.escape(caption)
    if settings:
        cap += f'<span class="settings">{html.escape(settings)}</span>'
    cap = f"<caption>{cap}</caption>" if cap else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _render_figure(path, caption, root):
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    cap = html.escape(caption or path.name)
    return (
        f'<figure><a href="{_link(path, root)}">'
        f'<img src="data:image/png;base64,{data}" alt="{cap}"></a>'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def _picture(path, alt, root, css=""):
    link = _link(path, root)
    return (
        f'<a href="{link}" title="full-resolution PNG">'
        f'<img class="{css}" src="{link}" alt="{html.escape(alt)}"></a>'
    )


def _render_comparison(comparison, root):
    from ._pictures import heat_gradient_css

    top, left, size, zoom = comparison.window
    title = html.escape(comparison.title)
    parts = [
        f'<div class="comparison"><h3>{title}</h3>',
        f'<p class="note">Detail: rows {top} to {top + size - 1}, columns {left} '
        f"to {left + size - 1} (the part with the most edges), enlarged {zoom}x. "
        "Error: distance between the original and the reconstructed RGB "
        "values (grey levels for a grayscale image) of each pixel, "
        f'<span class="legend" style="background: '
        f'{heat_gradient_css()}"></span> from 0 (exact) to '
        f"{comparison.heat_scale:.0f} or more. Click a picture for the "
        "full-resolution PNG.</p>",
        '<table class="pictures"><thead><tr><th></th><th>original</th>'
        "<th>reconstruction</th><th>error</th></tr></thead><tbody>",
    ]
    original = _picture(comparison.original_detail, "original, detail", root)
    for entry in comparison.entries:
        label = html.escape(entry["label"])
        parts.append(
            f"<tr><th>{label}</th><td>{original}</td><td>"
            + _picture(entry["reconstruction_detail"], f"{label}, detail", root)
            + "</td><td>"
            + _picture(entry["error_detail"], f"{label}, error detail", root)
            + "</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append(
        "<details><summary>Full resolution: original, reconstruction and error "
        "side by side</summary>"
    )
    for entry in comparison.entries:
        label = html.escape(entry["label"])
        parts.append(
            f'<p class="note">{label}</p><div class="strip">'
            + _picture(comparison.original, "original", root, "full")
            + _picture(entry["reconstruction"], label, root, "full")
            + _picture(entry["error"], f"{label}, error", root, "full")
            + "</div>"
        )
    parts.append("</details></div>")
    return "".join(parts)


def _render_header(header):
    items = "".join(
        f"<dt>{html.escape(name)}</dt><dd>{html.escape(str(value))}</dd>"
        for name, value in header.items()
    )
    return f'<dl class="header">{items}</dl>'


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right;
         white-space: nowrap; }
th { white-space: normal; }
th { background: #f3f3f3; }
caption { font-weight: bold; text-align: left; padding: 0.3em 0; }
caption .settings { display: block; font-weight: normal; color: #555; }
figure { margin: 1em 0; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption, .note { font-size: 0.9em; color: #555; }
nav a { margin-right: 1em; }
dl.header { display: grid; grid-template-columns: max-content auto;
            gap: 0.1em 1em; font-size: 0.9em; }
dl.header dt { font-weight: bold; }
dl.header dd { margin: 0; font-family: ui-monospace, monospace; }
table.pictures td, table.pictures th { text-align: center; vertical-align: middle;
                                       padding: 0.2em; }
table.pictures img { display: block; image-rendering: pixelated; }
.legend { display: inline-block; width: 8em; height: 0.8em;
          vertical-align: middle; border: 1px solid #999; }
.strip { display: flex; gap: 0.5em; overflow-x: auto; }
.strip img.full { max-width: none; }
"""


def render_html(sections, root, title="skclust report", header=None):
    """The whole report as one HTML string.

    ``header`` maps names (version, command line, date, ...) to values shown
    at the top.
    """
    root = Path(root)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if header:
        parts.append(_render_header(header))
    parts.append("<nav>")
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
            elif kind == "comparison":
                parts.append(_render_comparison(content, root))
            else:
                parts.append(_render_figure(*content, root))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(sections, out_dir, title="skclust report", header=None):
    """Write ``out_dir/index.html`` and return its path."""
    path = Path(out_dir) / "index.html"
    write_text(path, render_html(sections, out_dir, title, header))
    return path
