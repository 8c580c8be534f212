"""Writing results safely: output folders, atomic files, tables and figures.

A command run writes into a private staging folder inside ``--out``; when it
completes, :func:`output_run` moves the files into place, removes what the
previous run wrote and this one did not, and writes a manifest of sizes and
SHA-256 hashes (``skclust verify DIR`` checks it). One run at a time holds a
folder: the lock is an ``flock`` on the folder's marker file, which also
names the owner's pid (the kernel drops the lock when its owner dies, so a
killed run's lock is never stale). Files are written
under temporary names and renamed when complete, so an interrupted run leaves
no half-written file, and the next run into the folder removes whatever a
killed one left behind. An existing folder is reused only when skclust wrote
it (it holds the marker file) or when the caller forces it; the marker and
the lock are never followed through a link, and no output may replace an
input.
"""

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not serialized there
    fcntl = None

# Windows has no O_NOFOLLOW; the lstat check before every open still refuses
# a link there, only without closing the race.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

MARKER = ".skclust-output"
MANIFEST = "skclust-manifest.json"
# Written before a commit starts changing the folder and removed when it ends:
# its presence means a run was killed half-way through moving its files.
JOURNAL = ".skclust-commit.json"
_STAGING_PREFIX = ".skclust-staging-"
# The temporary files of atomic_path: ".{name}.{8 random characters}.part".
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
# Folder names and files that belong to the folder's machinery, not a run.
_MACHINERY = {MARKER, MANIFEST, JOURNAL}


class OutputError(ValueError):
    """An output folder or file that skclust refuses to write."""


def _same_place(a, b):
    """Whether paths ``a`` and ``b`` name the same file (links resolved)."""
    a, b = Path(a), Path(b)
    if _real(a) == _real(b):
        return True
    # The entry itself (its last link not followed) is what a rename replaces.
    return _real(a.parent) / a.name == _real(b.parent) / b.name


def _real(path):
    """``path`` with its links resolved, as far as they resolve."""
    # Path.resolve raised RuntimeError("Symlink loop ...") for an --out that
    # was a link to itself (Python 3.11); os.path.realpath stops at the loop.
    return Path(os.path.realpath(path))


def _open_no_follow(path, flags):
    """``os.open`` that refuses to follow ``path`` if it is a link."""
    try:
        return os.open(path, flags | os.O_CREAT | _NOFOLLOW, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OutputError(
                f"{path}: is a link; skclust never writes through it"
            ) from None
        raise


_MARKER_TEXT = "written by skclust\n"


def _write_no_follow(path, text):
    """Write ``text`` to ``path``, refusing if ``path`` is a link."""
    _check_regular_or_absent(path)
    fd = _open_no_follow(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _check_regular_or_absent(path):
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        # Absent, also when a file stands where a folder on its path should.
        return
    if not os.path.stat.S_ISREG(mode):
        raise OutputError(
            f"{path}: is a link or not a regular file; skclust will not use it"
        )


def prepare_output_dir(path, *, force=False, inputs=(), extend=False):
    """Create or reuse the output folder ``path``; return where to write.

    Inside :func:`output_run` (every command of ``skclust``) the folder is
    locked for this run and the returned path is a staging folder whose files
    move into ``path`` when the run completes. Outside it, the files are
    written into ``path`` directly.

    Parameters
    ----------
    path : str or Path
        The folder.
    force : bool, default=False
        Reuse a non-empty folder that skclust did not write.
    inputs : iterable of paths, default=()
        Input files of the run; refusing to use one as the folder, and
        recorded so that no output replaces them.
    extend : bool, default=False
        Keep the previous run's files and add this run's to its manifest
        (``vq --decode``, whose input is such a file), instead of removing
        them.

    Raises
    ------
    OutputError
        When the folder is a file, an input, a foreign non-empty folder, in
        use by another run, or its marker or lock is a link.
    """
    out = Path(path)
    inputs = [Path(p) for p in inputs]
    if any(_same_place(out, p) for p in inputs):
        raise OutputError(f"{out}: the output folder is one of the input files")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    marker = out / MARKER
    _check_regular_or_absent(marker)
    if out.is_dir() and any(out.iterdir()) and not marker.exists():
        if not force:
            raise OutputError(
                f"{out}: folder exists, is not empty and was not written by "
                "skclust; use --force to write into it"
            )
    # The folders this run makes: removed again if it ends with nothing
    # written (a run whose every input failed left a folder holding only
    # the marker).
    created = [folder for folder in (out, *out.parents) if not folder.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        # The errno text alone ("[Errno 2] No such file or directory") did
        # not say that the output folder could not be made.
        raise OutputError(
            f"{out}: cannot create the output folder ({error.strerror})"
        ) from None
    if _RUNS is None:
        _write_no_follow(marker, _MARKER_TEXT)
        return out
    folder = _OutputFolder(out, inputs, extend, created)
    _RUNS.append(folder)
    return folder.staging


def check_not_input(path, inputs):
    """Raise OutputError when ``path`` (or where it will land) is an input."""
    final = _final_path(Path(path))
    for p in inputs:
        if _same_place(final, p):
            raise OutputError(f"{final}: refusing to overwrite an input file")


def _final_path(path):
    """Where a file written under a staging folder ends up."""
    for folder in _RUNS or ():
        try:
            return folder.out / path.relative_to(folder.staging)
        except ValueError:
            continue
    return path


# The output folders of the command run in progress (None outside a run).
_RUNS = None


@contextmanager
def output_run():
    """Scope of one command run: commit its output folders if it succeeds.

    Every folder opened by :func:`prepare_output_dir` inside the scope is
    committed when the scope ends normally; on any exception (including
    KeyboardInterrupt) its staging folder is removed and the folder keeps the
    previous run's complete output. Locks are released either way.
    """
    global _RUNS
    outer, _RUNS = _RUNS, []
    folders = _RUNS
    try:
        yield
        for folder in folders:
            folder.commit()
    finally:
        _RUNS = outer
        for folder in folders:
            folder.close()


class _OutputFolder:
    """An output folder locked for one run, with its staging folder."""

    def __init__(self, out, inputs, extend, created=()):
        self.out, self.inputs, self.extend = out, inputs, extend
        self.created, self.committed = created, False
        self._lock = _acquire_lock(out)
        try:
            for name in (MANIFEST, JOURNAL):
                # A folder standing there failed the commit half-way, after
                # the journal was written ("[Errno 21] Is a directory"), and
                # so did every later run.
                _check_regular_or_absent(out / name)
            _remove_leftovers(out)
            self.staging = Path(
                tempfile.mkdtemp(dir=out, prefix=f"{_STAGING_PREFIX}{os.getpid()}-")
            )
        except BaseException:
            os.close(self._lock)
            raise

    def commit(self):
        new = _relative_files(self.staging)
        if not new:
            return  # a run that wrote nothing leaves the previous one's output
        self.committed = True
        for name in new:
            self._check_target(name)
        manifest = _read_manifest(self.out)
        journal = _read_json(self.out / JOURNAL)
        journal = journal if isinstance(journal, dict) else {}
        # Files of a commit that was killed half-way count as the previous run's.
        previous = set(manifest) | _names(journal.get("old"))
        previous |= _names(journal.get("new"))
        if self.extend:
            kept = {
                name: entry
                for name, entry in manifest.items()
                if name not in new and (self.out / name).is_file()
            }
            stale = set()
        else:
            kept = {}
            stale = previous - set(new)
        entries = {name: _describe(self.staging / name) for name in new}
        write_text(
            self.out / JOURNAL, json.dumps({"old": sorted(previous), "new": new})
        )
        (self.out / MANIFEST).unlink(missing_ok=True)
        for name in sorted(stale):
            self._remove_stale(name)
        for name in new:
            target = self.out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / name, target)
        entries = dict(sorted({**kept, **entries}.items()))
        write_text(self.out / MANIFEST, _manifest_text(entries))
        (self.out / JOURNAL).unlink()

    def _check_target(self, name):
        target = self.out / name
        _check_inside(self.out, name)
        for p in self.inputs:
            if _same_place(target, p):
                raise OutputError(f"{target}: refusing to overwrite an input file")

    def _remove_stale(self, name):
        try:
            _check_inside(self.out, name)
        except OutputError:
            return  # a hand-edited manifest naming a file elsewhere: left alone
        target = self.out / name
        if any(_same_place(target, p) for p in self.inputs):
            return
        target.unlink(missing_ok=True)
        for parent in PurePosixPath(name).parents:
            if str(parent) == ".":
                break
            try:
                (self.out / parent).rmdir()
            except OSError:
                break  # not empty: other files live there

    def close(self):
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.created and not self.committed:
            # Still holding the lock, so no other run has taken the folder.
            (self.out / MARKER).unlink(missing_ok=True)
            for folder in self.created:
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty: something else was put there
        os.close(self._lock)


def _acquire_lock(out):
    _check_regular_or_absent(out / MARKER)
    fd = _open_no_follow(out / MARKER, os.O_RDWR)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.read(fd, 200).decode("ascii", "replace")
        owner = text.rpartition("pid ")[2].strip() or "unknown"
        os.close(fd)
        raise OutputError(
            f"{out}: in use by another skclust run (pid {owner}); wait for it to "
            "finish or choose another --out"
        ) from None
    # The pid only names the owner in that message; the lock itself is the
    # flock, which the kernel releases when its owner exits or is killed.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{_MARKER_TEXT}pid {os.getpid()}\n".encode(), 0)
    return fd


def _remove_leftovers(out):
    """Remove what killed runs left in ``out``: staging folders and temp files."""
    for entry in out.iterdir():
        if entry.name.startswith(_STAGING_PREFIX) and entry.is_dir():
            if not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
    for root, folders, files in os.walk(out):
        for name in files:
            if _TEMPORARY.match(name):
                Path(root, name).unlink(missing_ok=True)
        folders[:] = [f for f in folders if not f.startswith(_STAGING_PREFIX)]


def _names(value):
    """The file names in a list read from a journal (anything else: none)."""
    if not isinstance(value, list):
        return set()
    return {name for name in value if isinstance(name, str)}


def _relative_files(folder):
    """Relative POSIX paths of the files under ``folder``, sorted."""
    names = []
    for root, _, files in os.walk(folder):
        for name in files:
            names.append(Path(root, name).relative_to(folder).as_posix())
    return sorted(names)


def _check_inside(out, name):
    """Refuse a relative name that could leave ``out`` (``..``, links)."""
    parts = PurePosixPath(name).parts
    if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
        raise OutputError(f"{name}: not a file name inside {out}")
    if parts[0] in _MACHINERY or parts[0].startswith(_STAGING_PREFIX):
        raise OutputError(f"{out / name}: a name skclust keeps for itself")
    try:
        current = out
        for part in parts[:-1]:
            current = current / part
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                raise OutputError(f"{current}: is a link or a file, not a folder")
        _check_regular_or_absent(out / name)
    except OutputError:
        raise
    except (OSError, ValueError) as error:
        # A name no file can have (a NUL byte, a lone surrogate, a part over
        # 255 bytes) in a hand-edited manifest: os.lstat raised, and a commit
        # failed half-way through, leaving its journal in every later run.
        if isinstance(error, OSError) and error.errno != errno.ENAMETOOLONG:
            raise
        reason = error.strerror if isinstance(error, OSError) else error
        shown = repr(name) if len(name) <= 60 else repr(name[:57]) + "..."
        raise OutputError(f"{shown}: not a file name inside {out} ({reason})") from None


def _describe(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _manifest_text(entries):
    from .. import __version__

    files = [{"path": name, **entry} for name, entry in entries.items()]
    return json.dumps({"skclust": __version__, "files": files}, indent=1) + "\n"


def _read_json(path):
    try:
        if not path.is_file() or path.is_symlink():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        # RecursionError: JSON nested thousands deep ("[[[[...").
        return None


def _read_manifest(out):
    """The previous run's manifest as {name: entry}; empty when unreadable."""
    data = _read_json(out / MANIFEST)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return {}
    entries = {}
    for item in data["files"]:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            entries[item["path"]] = {
                "bytes": item.get("bytes"),
                "sha256": item.get("sha256"),
            }
    return entries


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
    """A GitHub-flavoured Markdown table of ``rows`` (dicts) in ``columns``.

    Cells are padded to their column's width, numbers on the right, so that
    the table printed on a terminal reads in columns too.
    """
    cells = [[_format_cell(row[c]) for c in columns] for row in rows]
    widths = [
        max(3, len(name), *(len(line[i]) for line in cells))
        for i, name in enumerate(columns)
    ]
    numeric = [
        all(_is_number(line[i]) for line in cells) and bool(cells)
        for i in range(len(columns))
    ]

    def line(values):
        padded = (
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + (":" if right else "-")
            for width, right in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(columns), rule, *map(line, cells)]) + "\n"


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


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
