"""Arguments shared by the subcommands."""

import argparse


def positive_int(text):
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def add_study_arguments(parser, *, k, k_help, n_init, fit):
    """``-k K [K ...]`` (the values of k to run, ``k`` by default) and
    ``--n-init`` (random starts per ``fit``), as the image and vq commands
    have."""
    shown = " ".join(str(value) for value in k)
    parser.add_argument(
        "-k",
        nargs="+",
        type=positive_int,
        default=k,
        metavar="K",
        help=f"{k_help} (default: {shown})",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        default=n_init,
        help=f"random starts per {fit}; the best is kept (default {n_init})",
    )


def add_run_arguments(parser, *, out, data_help):
    """``--seed``, ``--out``, ``--data``, ``--force`` and ``--quiet``, as every study
    command has."""
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", default=out, help=f"output folder (default {out})")
    parser.add_argument("--data", help=data_help)
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty foreign folder"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print errors only (no progress lines or bar)",
    )
