"""Writing results safely: output folders, atomic files, tables and figures.

Every file is written under a temporary name in its final folder and renamed
when complete, so an interrupted run leaves no half-written file. An existing
output folder is reused only when skclust wrote it (it holds the marker file)
or when the caller forces it, and no output may overwrite an input.
"""

import csv
import io
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

MARKER = ".skclust-output"


class OutputError(ValueError):
    """An output folder or file that skclust refuses to write."""


def prepare_output_dir(path, *, force=False, inputs=()):
    """Create or reuse the output folder ``path`` and return it as a Path.

    Parameters
    ----------
    path : str or Path
        The folder.
    force : bool, default=False
        Reuse a non-empty folder that skclust did not write.
    inputs : iterable of paths, default=()
        Input files of the run; refusing to use one as the folder, and
        recorded so that no output overwrites them.

    Raises
    ------
    OutputError
        When the folder is a file, an input, or a foreign non-empty folder.
    """
    out = Path(path)
    resolved = out.resolve()
    if any(resolved == Path(p).resolve() for p in inputs):
        raise OutputError(f"{out}: the output folder is one of the input files")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        if not force:
            raise OutputError(
                f"{out}: folder exists, is not empty and was not written by "
                "skclust; use --force to write into it"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by skclust\n")
    return out


def check_not_input(path, inputs):
    """Raise OutputError when ``path`` is one of the ``inputs``."""
    resolved = Path(path).resolve()
    for p in inputs:
        if resolved == Path(p).resolve():
            raise OutputError(f"{path}: refusing to overwrite an input file")


def _current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    On any exception (including KeyboardInterrupt) the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp makes the file private; give it the usual permissions.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path, text):
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _format_cell(value):
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def markdown_table(rows, columns):
    """A GitHub-flavoured Markdown table of ``rows`` (dicts) in ``columns``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_format_cell(row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_table(rows, columns, stem):
    """Write ``rows`` as ``stem.csv`` and ``stem.md``; return both paths."""
    stem = Path(stem)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    csv_path, md_path = stem.with_suffix(".csv"), stem.with_suffix(".md")
    write_text(csv_path, buffer.getvalue())
    write_text(md_path, markdown_table(rows, columns))
    return csv_path, md_path


def save_figure(figure, path, **kwargs):
    """Save a matplotlib ``Figure`` atomically; the format follows the suffix."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lstrip(".") or "png", **kwargs)
    return path
