"""``skclust report``: every part of the study in one HTML page, index.html.

A subcommand module joins the report by defining
``report_section(out_dir, data, seed, log) -> Section``: it writes its files
under ``out_dir`` (a sub-folder of its own) and returns the section that shows
them. ``log`` prints one progress line.
"""

import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ._common import add_run_arguments
from ._output import prepare_output_dir
from ._report import write_report


def add_parser(commands):
    parser = commands.add_parser(
        "report",
        help="run every part of the study and write an HTML report, index.html",
        description="Run every part of the study (on the study's five files "
        "with --data or SKCLUST_DATA, else on embedded defaults) and write tables, "
        "figures, pictures and an index.html that shows them into --out.",
    )
    add_run_arguments(
        parser, out="skclust-report", data_help="folder with the study's data files"
    )
    parser.set_defaults(run=run)


def _cores():
    total = os.cpu_count()
    if not hasattr(os, "sched_getaffinity"):
        return str(total)
    available = len(os.sched_getaffinity(0))
    return str(total) if available == total else f"{available} of {total} usable"


def _command_line(args, data):
    """The command that repeats this run (the options it was given, in full).

    ``data`` is the folder used, also when SKCLUST_DATA named it: without
    it the command, run elsewhere, fell back on the embedded defaults.
    """
    words = ["skclust", "report", "--out", str(args.out), "--seed", str(args.seed)]
    if data:
        words += ["--data", str(data)]
    if args.force:
        words.append("--force")
    return shlex.join(words)


def run_header(args, data, seconds, started):
    """What the report's header says about the run that made it."""
    import numpy as np
    import scipy
    import sklearn

    return {
        "skclust": __version__,
        "command": _command_line(args, data),
        "date": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "data": str(data) if data else "embedded defaults (no --data, no SKCLUST_DATA)",
        "seed": args.seed,
        "CPU cores": _cores(),
        "total time": f"{seconds:.1f} s",
        "libraries": f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, Python {sys.version.split()[0]}",
    }


def _check_study_files(data):
    """Refuse a data folder that lacks some of the study's files, naming them.

    Each section found its own file missing after the others had run: a
    report without those sections, several error lines and exit 2, minutes
    later.
    """
    from ..datasets import DATA_ENV, STUDY_FILES

    if data is None:
        return
    missing = [name for name in STUDY_FILES if not (data / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{data}: the data folder lacks {', '.join(missing)} (the report "
            "needs every one of the study's files; without --data and "
            f"{DATA_ENV} it runs on embedded defaults)"
        )


def run(args):
    from ..datasets import study_data_dir
    from . import SUBCOMMANDS
    from ._progress import Progress

    started = datetime.now(UTC)
    clock = time.perf_counter()
    data = study_data_dir(args.data)
    _check_study_files(data)
    # Every section reads its files before any fit: a malformed one is
    # named in one line and nothing is written (it used to fail minutes in,
    # after the other sections, with a report missing that section).
    for module in SUBCOMMANDS:
        check = getattr(module, "check_report_inputs", None)
        if check is not None:
            check(data)
    inputs = [p for p in data.iterdir() if p.is_file()] if data else []
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)
    sections = []
    # The sections' fits are not known in advance: the bar counts them.
    with Progress(None, "report fits", quiet=args.quiet, command="report") as log:
        for module in SUBCOMMANDS:
            make_section = getattr(module, "report_section", None)
            if make_section is not None:
                sections.append(_section(make_section, module, out, data, args, log))
    header = run_header(args, data, time.perf_counter() - clock, started)
    path = write_report(sections, out, header=header)
    if not args.quiet:
        # ``out`` is the run's staging folder; the report ends up in --out.
        print(f"wrote {Path(args.out) / path.name}")
    return 0


_SECTION_ERRORS = (ValueError, OSError, MemoryError)


def _section(make_section, module, out, data, args, log):
    """One section of the report; its failure stops the whole report.

    The inputs were checked before any fit, so a section that fails now
    (a full disk, too little memory) would leave a report without it: the
    error names the section and, raised, keeps --out as it was.
    """
    try:
        return make_section(out, data, args.seed, log)
    except _SECTION_ERRORS as error:
        name = module.__name__.rpartition(".")[2]
        kind = next(k for k in _SECTION_ERRORS if isinstance(error, k))
        message = f"the {name} section failed, no report written: {error}"
        raise kind(message) from error
