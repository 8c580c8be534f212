"""``skclust verify DIR``: check an output folder against its manifest.

Every command ends its run by writing ``skclust-manifest.json`` into its
output folder: the path, size and SHA-256 hash of every file the run wrote.
This command checks that each file is there, is a regular file (not a link),
and has that size and hash; it exits 0 when all do, else 2 with one line
naming the first file that does not. Files the manifest does not list (put
there by hand, or written with ``--force`` into a folder that held them) do
not make the folder incomplete; the summary line names them.
"""

from pathlib import Path

from .._plural import counted
from ._output import (
    _MACHINERY,
    JOURNAL,
    MANIFEST,
    OutputError,
    _check_inside,
    _describe,
    _read_json,
    _relative_files,
)


def add_parser(commands):
    parser = commands.add_parser(
        "verify",
        help="check an output folder against the manifest its last run wrote",
        description="Check that every file listed in DIR/skclust-manifest.json "
        "is present with the listed size and SHA-256 hash. Exit 0 when the "
        "folder holds its last run's complete output, else 2 with one line "
        "naming the first file that differs.",
    )
    parser.add_argument("folder", metavar="DIR", help="an output folder of skclust")
    parser.set_defaults(run=run)


def verify_folder(folder):
    """Raise OutputError naming the first file of ``folder`` that is not as listed.

    Returns
    -------
    n_files : int
        The number of files checked.
    unlisted : list of str
        Files under ``folder`` that the manifest does not list, sorted.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is a file; expected an output folder")
    if not folder.is_dir():
        raise OutputError(f"{folder}: no such folder")
    if (folder / JOURNAL).exists():
        raise OutputError(
            f"{folder / JOURNAL}: a run was stopped while moving its files in; "
            "the folder is incomplete (run the command again)"
        )
    manifest = _read_json(folder / MANIFEST)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list):
        raise OutputError(f"{folder / MANIFEST}: missing or unreadable")
    in_manifest = set()
    for entry in files:
        name = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise OutputError(f"{folder / MANIFEST}: malformed entry {entry!r}")
        _check_inside(folder, name)
        in_manifest.add(name)
        path = folder / name
        if not path.is_file():
            raise OutputError(f"{path}: missing")
        found = _describe(path)
        listed = entry.get("bytes")
        if found["bytes"] != listed:
            raise OutputError(
                f"{path}: {found['bytes']} bytes, the manifest says {listed}"
            )
        if found["sha256"] != entry.get("sha256"):
            raise OutputError(f"{path}: content differs from the manifest (SHA-256)")
    unlisted = [
        name
        for name in _relative_files(folder)
        if name not in in_manifest and name not in _MACHINERY
    ]
    return len(files), unlisted


def run(args):
    n_files, unlisted = verify_folder(args.folder)
    match = "matches" if n_files == 1 else "match"
    line = f"{args.folder}: {counted(n_files, 'file')} {match} {MANIFEST}"
    if unlisted:
        shown = ", ".join(unlisted[:5]) + (", ..." if len(unlisted) > 5 else "")
        files_are = "file is" if len(unlisted) == 1 else "files are"
        line += f"; {len(unlisted)} other {files_are} not in it ({shown})"
    print(line)
    return 0
