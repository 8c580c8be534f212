"""``skclust report``: every part of the study in one self-contained HTML page.

A subcommand module joins the report by defining
``report_section(out_dir, data, seed, log) -> Section``: it writes its files
under ``out_dir`` (a sub-folder of its own) and returns the section that shows
them. ``log`` prints one progress line.
"""

import sys
from pathlib import Path

from ..datasets import study_data_dir
from ._common import add_run_arguments
from ._output import prepare_output_dir
from ._report import write_report


def add_parser(commands):
    parser = commands.add_parser(
        "report",
        help="run every part of the study and write a self-contained index.html",
        description="Run every part of the study (on the study's files with "
        "--data or SKCLUST_DATA, else on embedded defaults) and write tables, "
        "figures and a self-contained index.html into --out.",
    )
    add_run_arguments(
        parser, out="skclust-report", data_help="folder with the study's data files"
    )
    parser.set_defaults(run=run)


def _log(message):
    print(message, flush=True)


def run(args):
    from . import SUBCOMMANDS

    data = study_data_dir(args.data)
    inputs = [p for p in data.iterdir() if p.is_file()] if data else []
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)
    sections = []
    failed = False
    for module in SUBCOMMANDS:
        make_section = getattr(module, "report_section", None)
        if make_section is None:
            continue
        try:
            sections.append(make_section(out, data, args.seed, _log))
        except (ValueError, OSError) as error:
            print(f"skclust report: error: {error}", file=sys.stderr)
            failed = True
    path = write_report(sections, out)
    _log(f"wrote {Path(args.out) / path.name}")
    return 2 if failed else 0
