"""Arguments shared by the subcommands."""

import argparse


def positive_int(text):
    """argparse type: an integer of at least 1."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def folder_path(text):
    """argparse type of ``--out`` and ``--data``: a non-empty path (an empty
    one was taken as the current folder)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path is not a folder")
    return text


def random_seed(text):
    """argparse type: a random seed, an integer from 0 to 2**32 - 1 (what
    numpy's ``RandomState`` takes; a seed outside it failed every fit of a
    run, one error line each)."""
    value = _integer(text)
    if not 0 <= value <= _LARGEST_SEED:
        raise argparse.ArgumentTypeError(
            f"{value} is not a seed from 0 to {_LARGEST_SEED}"
        )
    return value


_LARGEST_SEED = 2**32 - 1


def job_count(text):
    """argparse type: joblib's number of jobs, an integer other than 0
    (-1 for every CPU)."""
    value = _integer(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a number of jobs (-1: every CPU)")
    return value


def _integer(text):
    try:
        return int(text)
    except ValueError:
        hint = ""
        if "," in text:
            # "-k 3,4" is the common slip: several values go space-separated.
            hint = f": separate several values by spaces ({' '.join(text.split(','))})"
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer{hint}") from None


def add_study_arguments(parser, *, k, k_help, n_init, fit):
    """``-k/--n-clusters K [K ...]`` (the values of k to run, ``k`` by default) and
    ``--n-init`` (random starts per ``fit``), as the image and vq commands
    have."""
    shown = " ".join(str(value) for value in k)
    parser.add_argument(
        "-k",
        "--n-clusters",
        dest="k",
        nargs="+",
        type=positive_int,
        default=k,
        metavar="K",
        help=f"{k_help} (default {shown})",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        default=n_init,
        metavar="N",
        help=f"random starts per {fit}; the best is kept (default {n_init})",
    )


def add_run_arguments(parser, *, out, data_help):
    """``--seed``, ``--out``, ``--data``, ``--force`` and ``--quiet``, as every study
    command has."""
    add_seed_argument(parser)
    parser.add_argument(
        "--out",
        type=folder_path,
        default=out,
        metavar="DIR",
        help=f"output folder (default {out})",
    )
    parser.add_argument("--data", type=folder_path, metavar="DIR", help=data_help)
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty foreign folder"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print errors only (no progress lines or bar)",
    )


def add_seed_argument(parser):
    """``--seed``, 0 by default."""
    parser.add_argument(
        "--seed", type=random_seed, default=0, help="random seed (default 0)"
    )
