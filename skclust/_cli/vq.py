"""``skclust vq``: compress an embedding table by vector quantization.

For every k it fits a ``VectorQuantizer`` and records the memory before and
after (MB to 4 decimals), the compression ratio and the reconstruction
quality (mean cosine similarity, relative squared error, recall@10 of the
nearest neighbours); it writes the table, the trade-off plot and one ``.npz``
(codebook and codes) per k. ``--decode`` turns such an ``.npz`` back into an
``.npy`` table. ``--search QUERIES.npy`` also searches every k's codes for
the queries' nearest rows and writes their indices and distances.

Every input is checked and every fit done before anything is written, so a bad
input leaves no output behind.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._files import check_input_file
from .._plural import counted
from ._common import add_run_arguments, add_study_arguments, positive_int
from ._output import (
    atomic_path,
    check_not_input,
    markdown_table,
    prepare_output_dir,
    save_figure,
    write_table,
)
from ._report import Column, Section

if TYPE_CHECKING:
    import numpy as np

STUDY_K = [64, 128, 256, 512]
# k-means++ starts per codebook in the study's report; the lowest squared
# error is kept. The command makes one (n_init="auto") unless told.
STUDY_N_INIT = 10
# One k-means++ start per codebook, as n_init="auto" makes.
COMMAND_N_INIT = 1
STUDY_FILE = "AImodel.npy"
# The generated table used when no file and no data folder are given.
GENERATED_SHAPE = (2000, 32)
# Rows per block of the block kernels, which fit tables larger than this.
BLOCK_ROWS = 65_536
# What --search finds for each query unless -n and --metric say otherwise.
DEFAULT_NEIGHBORS = 10
DEFAULT_SEARCH_METRIC = "cosine"
# Queries of the recall@10 estimate (every row for tables this small or less).
RECALL_QUERIES = 2000
COLUMNS = [
    "k",
    "subvectors",
    "code_dtype",
    "original_mb",
    "compressed_mb",
    "ratio",
    "mb_ratio",
    "cosine",
    "relative_mse",
    "recall_at_10",
    "iterations",
    "train_rows",
    "seconds",
]


def train_size(text):
    """argparse type of ``--train-size``: a positive integer, "auto" or "all"."""
    if text in ("auto", "all"):
        return None if text == "all" else text
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive integer, 'auto' or 'all'"
        ) from None


def add_parser(commands):
    parser = commands.add_parser(
        "vq",
        help="compress an embedding table by vector quantization",
        description="Fit a VectorQuantizer for every k on FILE.npy (a 2-D float "
        "table; without FILE, AImodel.npy from --data or SKCLUST_DATA, else a "
        "generated table) and write the memory table (MB to 4 decimals, "
        "compression ratios, cosine similarity, relative MSE, recall@10), the "
        "trade-off plot and the codebook and codes of every k (.npz). With "
        "--decode, turn such an .npz back into an .npy table.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE.npy", help="the table")
    add_study_arguments(
        parser,
        k=STUDY_K,
        k_help="codebook sizes",
        n_init=COMMAND_N_INIT,
        fit="codebook",
    )
    parser.add_argument(
        "--subvectors",
        type=positive_int,
        default=1,
        metavar="M",
        help="product quantization: M codebooks over equal parts of the "
        "features (default 1)",
    )
    parser.add_argument(
        "--train-size",
        type=train_size,
        default="auto",
        metavar="N",
        help="rows drawn at random to fit each k, then every row is encoded: "
        "a number (raised to k where it is below), 'auto' (default: 256 rows "
        "per centroid, 256 * k, as faiss samples) or 'all'",
    )
    parser.add_argument(
        "--no-normalize",
        dest="normalize",
        action="store_false",
        help="cluster the rows as they are instead of at unit length",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        metavar="ROWS",
        help="fit with the block kernels, this many rows at a time (default: "
        f"{BLOCK_ROWS} for tables of more rows or with --subvectors above 1, "
        "else in memory)",
    )
    parser.add_argument(
        "--search",
        metavar="QUERIES.npy",
        help="also find each query's nearest rows in every k's codes and write "
        "their indices and distances (neighbors_k{k}.npy, distances_k{k}.npy)",
    )
    parser.add_argument(
        "-n",
        "--neighbors",
        type=positive_int,
        default=DEFAULT_NEIGHBORS,
        metavar="N",
        help="with --search: neighbours per query (default 10)",
    )
    parser.add_argument(
        "--metric",
        type=str.lower,
        choices=["cosine", "sqeuclidean", "inner_product"],
        default=DEFAULT_SEARCH_METRIC,
        help="with --search: cosine distance (default), squared Euclidean "
        "distance or minus the inner product, to the rows rebuilt from codes",
    )
    parser.add_argument(
        "--decode",
        metavar="FILE.npz",
        help="rebuild the table from codes saved by skclust vq and write it as .npy",
    )
    parser.add_argument(
        "--codebook",
        metavar="FILE.npz",
        help="with --decode: take the codebook from this file instead",
    )
    add_run_arguments(parser, out="skclust-vq", data_help="folder with AImodel.npy")
    parser.set_defaults(run=run)


@dataclass
class Table:
    """The embedding table of a run and where it came from."""

    name: str
    X: np.ndarray
    path: Path | None = None


def load_table(file, data, seed=0):
    """The table named on the command line, else AImodel.npy, else generated."""
    from ..datasets import load_embeddings, make_embeddings, study_file

    if file is not None:
        return Table(Path(file).name, load_embeddings(file), Path(file))
    path = study_file(STUDY_FILE, data)
    if path is not None:
        return Table(STUDY_FILE, load_embeddings(path), path)
    n, d = GENERATED_SHAPE
    X = make_embeddings(n, d, random_state=seed)
    return Table(f"generated table ({n} x {d})", X)


def compress(
    table,
    ks,
    *,
    n_subvectors=1,
    n_init="auto",
    normalize=True,
    batch_size=None,
    train_size="auto",
    seed=0,
    log=print,
):
    """The study's sweep over k on the command line's table; writes nothing.

    Tables of more than ``BLOCK_ROWS`` rows are fitted by the block kernels,
    ``BLOCK_ROWS`` rows at a time, unless ``batch_size`` says otherwise: the
    training sample of a k may be small enough for ``KMeansL2``, which is
    several times slower on such tables.
    """
    from ..study import compress_embeddings

    if batch_size is None and table.X.shape[0] > BLOCK_ROWS:
        batch_size = BLOCK_ROWS
    return compress_embeddings(
        table.X,
        ks,
        n_subvectors=n_subvectors,
        n_init=n_init,
        normalize=normalize,
        batch_size=batch_size,
        train_size=train_size,
        recall_queries=RECALL_QUERIES,
        random_state=seed,
        name=table.name,
        log=log,
    )


def recall_note(n_rows):
    """How the recall@10 column was measured, with its sample size."""
    if n_rows <= 10:
        # compress_embeddings leaves it out (nan): the note said it was
        # measured on every row.
        return (
            f"recall@10: not measured (nan): {n_rows} rows, fewer than a query "
            "row and its 10 neighbours"
        )
    n_queries = min(RECALL_QUERIES, n_rows)
    return (
        f"recall@10: {n_queries} query rows of the table, each k's search over "
        "its codes (cosine, asymmetric distances) against exact search (cosine "
        "on the rows, brute force), the query row left out"
    )


def plot_tradeoff(rows, title):
    """Compression ratio and mean cosine similarity against k, two y axes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    ks = [row["k"] for row in rows]
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    left = figure.add_subplot()
    left.plot(ks, [row["ratio"] for row in rows], "o-", color="tab:blue")
    left.set_xscale("log", base=2)
    left.set_xticks(ks, [str(k) for k in ks])
    left.set_xlabel("codebook size k")
    left.set_ylabel("compression ratio", color="tab:blue")
    right = left.twinx()
    right.plot(ks, [row["cosine"] for row in rows], "s--", color="tab:red")
    right.set_ylabel("mean cosine similarity", color="tab:red")
    left.set_title(title)
    return figure


def _npz_bytes_path(out, k, n_subvectors):
    suffix = f"_m{n_subvectors}" if n_subvectors > 1 else ""
    return out / f"compressed_k{k}{suffix}.npz"


def save_compressed(path, quantizer, codes):
    """Write the codebook and codes (and settings) as one ``.npz``, atomically."""
    import numpy as np

    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(
            handle,
            codebook=quantizer.codebook_,
            codes=codes,
            normalize=np.array(quantizer.normalize),
        )


def write_outputs(result, table, out, inputs=()):
    """The table (CSV and Markdown), the plot and one ``.npz`` per k."""
    stem = out / "vq_memory"
    plot = out / "vq_tradeoff.png"
    targets = [stem.with_suffix(".csv"), stem.with_suffix(".md"), plot]
    n_subvectors = result.rows[0]["subvectors"]
    npz = {k: _npz_bytes_path(out, k, n_subvectors) for k in result.fitted}
    for path in [*targets, *npz.values()]:
        check_not_input(path, inputs)
    write_table(result.rows, COLUMNS, stem)
    save_figure(plot_tradeoff(result.rows, table.name), plot, dpi=100)
    for k, (quantizer, codes) in result.fitted.items():
        save_compressed(npz[k], quantizer, codes)
    return plot


def load_queries(path, table, n_neighbors, directions):
    """The queries of ``--search``, checked against the table before any fit.

    ``directions``: the search compares directions (normalized rows or the
    cosine metric), which a query of zero length does not have.
    """
    import numpy as np

    from .._vq import check_magnitude
    from ..datasets import load_embeddings

    queries = load_embeddings(path)
    if queries.shape[1] != table.X.shape[1]:
        raise ValueError(
            f"{path}: queries of {queries.shape[1]} features for a table of "
            f"{table.X.shape[1]}"
        )
    nonzero = queries.any(axis=1)
    if directions and not nonzero.all():
        raise ValueError(
            f"{path}: query {int(np.argmin(nonzero))} has zero length: it has "
            "no direction to compare"
        )
    # The search refused them only after every k was fitted.
    check_magnitude(queries, directions, name=str(path))
    if n_neighbors > table.X.shape[0]:
        raise ValueError(
            f"-n {n_neighbors} is larger than the table's {table.X.shape[0]} rows"
        )
    return queries


def search_compressed(fitted, table, queries, n_neighbors, metric):
    """Each k's neighbours of the queries, found from the codes of the table
    (which ``compress_embeddings`` added to every quantizer)."""
    found = {}
    for k, (quantizer, _) in fitted.items():
        found[k] = quantizer.kneighbors(queries, n_neighbors, metric=metric)
    return found


def neighbor_paths(found, out, n_subvectors, inputs=()):
    """Where each k's neighbours and distances go, checked not to be inputs."""
    suffix = f"_m{n_subvectors}" if n_subvectors > 1 else ""
    paths = {
        k: (out / f"neighbors_k{k}{suffix}.npy", out / f"distances_k{k}{suffix}.npy")
        for k in found
    }
    for path in (p for pair in paths.values() for p in pair):
        check_not_input(path, inputs)
    return paths


def write_neighbors(found, paths):
    """``neighbors_k{k}.npy`` (int64) and ``distances_k{k}.npy`` for every k."""
    import numpy as np

    for k, (distances, indices) in found.items():
        for path, array in zip(paths[k], (indices, distances), strict=True):
            with atomic_path(path) as temporary, open(temporary, "wb") as handle:
                np.save(handle, array, allow_pickle=False)


def _read_npz(path, name):
    from .._npy import read_npz_member

    path = Path(path)
    if not path.exists() and path.parent.is_dir():
        # The codes of --subvectors M are compressed_k{k}_m{M}.npz: a name
        # copied from the docs misses the suffix.
        present = sorted(other.name for other in path.parent.glob("*.npz"))
        if present:
            shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
            raise ValueError(f"{path}: no such file (its folder holds {shown})")
    check_input_file(path)
    with open(path, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            raise ValueError(f"{path}: not an .npz archive")
    return read_npz_member(path, name)


def _safe_stem(path):
    """The file's stem with leading dots dropped, so it names a visible file."""
    return Path(path).stem.lstrip(".") or "codes"


def decode(args):
    import numpy as np

    from .._vq import decode_codes

    codes = _read_npz(args.decode, "codes")
    codebook_file = args.codebook or args.decode
    codebook = _read_npz(codebook_file, "codebook")
    try:
        table = decode_codes(codes, codebook)
    except ValueError as error:
        raise ValueError(
            f"{args.decode}: cannot be decoded with the codebook of {codebook_file}: "
            f"{error}"
        ) from None
    inputs = [Path(p) for p in (args.decode, args.codebook) if p]
    # The decoded table joins the folder's run that made the codes.
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs, extend=True)
    name = f"{_safe_stem(args.decode)}_decoded.npy"
    path = out / name
    check_not_input(path, inputs)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.save(handle, table, allow_pickle=False)
    if not args.quiet:
        print(
            f"wrote {Path(args.out) / name} "
            f"({table.shape[0]} x {table.shape[1]} float32)"
        )
    return 0


def _codebook_sizes(ks, table, explicit, log):
    """The k to fit: default sizes above the table's rows are dropped with a note.

    An explicit ``-k`` above the rows stays an error (of the fit).
    """
    n_rows = table.X.shape[0]
    if explicit or max(ks) <= n_rows:
        return ks
    kept = [k for k in ks if k <= n_rows]
    if not kept:
        raise ValueError(
            f"{table.name}: {n_rows} rows, fewer than the smallest default "
            f"codebook size ({min(ks)}); give sizes with -k"
        )
    dropped = ", ".join(str(k) for k in ks if k > n_rows)
    log(
        f"note: {table.name} has {counted(n_rows, 'row')}; default k = {dropped} "
        "dropped"
    )
    return kept


def _unused_options(args):
    """The options given that this run would not use, as they were typed.

    ``--decode`` reads its ``.npz`` alone and fits nothing; ``-n`` and
    ``--metric`` set the search of ``--search``. An option at its default
    value is not told apart from an absent one.
    """
    if args.decode:
        return [
            name
            for name, given in (
                (args.file, args.file is not None),
                ("-k", args.k is not STUDY_K),
                ("--n-init", args.n_init != COMMAND_N_INIT),
                ("--subvectors", args.subvectors != 1),
                ("--train-size", args.train_size != "auto"),
                ("--no-normalize", not args.normalize),
                ("--batch-size", args.batch_size is not None),
                ("--search", args.search is not None),
            )
            if given
        ]
    if args.search is None:
        return [
            name
            for name, given in (
                ("-n", args.neighbors != DEFAULT_NEIGHBORS),
                ("--metric", args.metric != DEFAULT_SEARCH_METRIC),
            )
            if given
        ]
    return []


def run(args):
    import numpy as np

    from .._vq import check_magnitude
    from ._progress import Progress

    # Refused rather than ignored, as --codebook without --decode is: a table
    # named beside --decode, or "-n 5" without --search, did nothing.
    unused = _unused_options(args)
    if unused and args.decode:
        raise ValueError(
            f"{', '.join(unused)}: not used with --decode, which rebuilds the "
            "table from the .npz alone"
        )
    if unused:
        raise ValueError(f"{', '.join(unused)}: only used with --search")
    if args.decode:
        return decode(args)
    if args.codebook:
        raise ValueError("--codebook only goes with --decode")
    table = load_table(args.file, args.data, args.seed)
    # Named here: the fit's message called the file "X".
    check_magnitude(table.X, args.normalize, name=str(table.path or table.name))
    n_features = table.X.shape[1]
    if n_features % args.subvectors:
        # The fit's message named the parameter, n_subvectors, not the option.
        raise ValueError(
            f"{table.name}: --subvectors {args.subvectors} does not divide its "
            f"{n_features} features"
        )
    queries = None
    if args.search:
        queries = load_queries(
            args.search,
            table,
            args.neighbors,
            directions=args.normalize or args.metric == "cosine",
        )
    notes = []
    if table.X.dtype != np.float32:
        # The report's paragraph says so; the command's table did not, and a
        # float64 file's original_mb was half its size without a word.
        notes.append(
            f"note: {table.name} holds {table.X.dtype} values; original_mb and "
            "the ratios count them at 4 bytes (float32) each"
        )
    ks = _codebook_sizes(args.k, table, args.k is not STUDY_K, notes.append)
    if isinstance(args.train_size, int) and args.train_size < max(ks):
        # The fit raises the sample to k rows; nothing said so but a column.
        raised = ", ".join(str(k) for k in sorted(set(ks)) if k > args.train_size)
        notes.append(
            f"note: --train-size {args.train_size} is below k = {raised}: each "
            "of those is trained on k rows (column train_rows)"
        )
    with Progress(len(set(ks)), "codebooks", quiet=args.quiet) as log:
        for note in notes:
            log(note)
        result = compress(
            table,
            ks,
            n_subvectors=args.subvectors,
            n_init=args.n_init,
            normalize=args.normalize,
            batch_size=args.batch_size,
            train_size=args.train_size,
            seed=args.seed,
            log=log,
        )
    found = {}
    if queries is not None:
        found = search_compressed(
            result.fitted, table, queries, args.neighbors, args.metric
        )
    inputs = [table.path] if table.path else []
    if args.search:
        inputs.append(Path(args.search))
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)
    paths = neighbor_paths(found, out, args.subvectors, inputs)
    write_outputs(result, table, out, inputs)
    if found:
        write_neighbors(found, paths)
        if not args.quiet:
            print(
                f"wrote the {args.neighbors} nearest rows ({args.metric}) of "
                f"{len(queries)} queries for each k into {args.out}"
            )
    if not args.quiet:
        print(markdown_table(result.rows, COLUMNS), end="")
        print(recall_note(table.X.shape[0]))
        archives = counted(len(result.fitted), ".npz file")
        print(f"wrote the table, the trade-off plot and {archives} into {args.out}")
    return 0


# Product quantization settings compared with one codebook in the report: each
# keeps 256 centroids per codebook, so its codebook memory equals that of
# k=256 while the codes take M bytes per row.
REPORT_SUBVECTORS = [1, 2, 4, 8]
REPORT_PQ_K = 256


def pq_comparison(table, *, n_init=1, seed=0, log=print):
    """One codebook against product quantization, all with 256 centroids each.

    No rows for a table of fewer rows than that: ``report_section`` says so.
    """
    rows = []
    n_features = table.X.shape[1]
    if table.X.shape[0] < REPORT_PQ_K:
        return rows
    for m in REPORT_SUBVECTORS:
        if n_features % m:
            continue
        result = compress(
            table,
            [REPORT_PQ_K],
            n_subvectors=m,
            n_init=n_init,
            train_size=None,
            seed=seed,
            log=log,
        )
        rows.extend(result.rows)
    return rows


# The memory table as the report shows it: units in the headings.
REPORT_COLUMNS = [
    Column("k", "k (centroids per codebook)"),
    Column("subvectors", "codebooks M"),
    Column("code_dtype", "code type"),
    Column("original_mb", "original (MB)", ".4f"),
    Column("compressed_mb", "compressed (MB)", ".4f"),
    Column("ratio", "ratio (bytes)", ".3f"),
    Column("mb_ratio", "ratio (MB as shown)", ".3f"),
    Column("cosine", "mean cosine", ".4f"),
    Column("relative_mse", "relative MSE", ".4f"),
    Column("recall_at_10", "recall@10", ".3f"),
    Column("iterations"),
    Column("train_rows", "training rows"),
    Column("seconds", "fit time (s)", ".2f"),
]


def check_report_inputs(data):
    """Check the table the report's section compresses (its header and
    values, memory-mapped) and what its fits refuse: a bad file fails here,
    not after the other sections ran."""
    import numpy as np

    from ..datasets import load_embeddings, study_file

    path = study_file(STUDY_FILE, data)
    if path is None:
        return
    X = load_embeddings(path, mmap_mode="r")
    # The section drops the k above the rows, with a note, but needs one.
    if X.shape[0] < min(STUDY_K):
        raise ValueError(
            f"{path}: {X.shape[0]} rows, fewer than the report's smallest "
            f"codebook size ({min(STUDY_K)})"
        )
    # The section scales rows to unit length, as compress_embeddings does.
    if X.shape[1] == 1:
        raise ValueError(
            f"{path}: one feature: scaled to unit length, each row keeps only its sign"
        )
    nonzero = X.any(axis=1)
    if not nonzero.all():
        raise ValueError(
            f"{path}: row {int(np.argmin(nonzero))} has zero length: it has no "
            "direction to scale to unit length"
        )


def report_section(out_dir, data, seed, log):
    """Embedding compression for ``skclust report``."""
    import numpy as np

    folder = out_dir / "vq"
    folder.mkdir(exist_ok=True)
    table = load_table(None, data, seed)
    # As skclust vq without -k: a k above the rows failed the whole report,
    # after the other sections had run.
    notes = []
    ks = _codebook_sizes(STUDY_K, table, False, notes.append)
    if table.X.shape[0] < REPORT_PQ_K:
        notes.append(
            f"note: {table.name} has {table.X.shape[0]} rows, fewer than the "
            f"{REPORT_PQ_K} centroids of the product quantization comparison, "
            "which is left out"
        )
    for note in notes:
        log(note)
    result = compress(
        table, ks, n_init=STUDY_N_INIT, train_size=None, seed=seed, log=log
    )
    plot = write_outputs(result, table, folder)
    pq_rows = pq_comparison(table, seed=seed, log=log)
    if pq_rows:
        write_table(pq_rows, COLUMNS, folder / "vq_product_quantization")
    section = Section("Embedding compression by vector quantization")
    n_rows, n_features = table.X.shape
    # The memory figures count the original at float32 (MemoryUsage) whatever
    # the file holds; the paragraph called every table float32.
    float32_note = (
        "" if table.X.dtype == np.float32 else ", counted at 4 bytes (float32) each"
    )
    section.paragraph(
        f"{table.name}: {n_rows} rows of {n_features} {table.X.dtype} values"
        f"{float32_note}, scaled to unit length and clustered with k-means (10 starts, "
        "the best kept). The compressed table is the float32 codebook plus one "
        "code per row (uint8 for k <= 256, uint16 above). MB are 10^6 bytes; "
        "'ratio' divides the exact byte counts, 'mb_ratio' the MB rounded to 4 "
        "decimals. Recall@10 against exact search: "
        f"{recall_note(n_rows).removeprefix('recall@10: ')}."
    )
    for note in notes:
        section.paragraph(note.replace("note: ", "Note: ", 1) + ".")
    section.table(
        result.rows,
        REPORT_COLUMNS,
        "Memory and quality for each k",
        settings=f"{STUDY_N_INIT} k-means++ starts per k (the lowest squared "
        f"error kept), seed {seed}, tol 1e-4, rows at unit length.",
    )
    section.figure(plot, "Compression ratio and mean cosine similarity against k")
    if not pq_rows:
        return section
    section.paragraph(
        "Product quantization splits each row into M equal parts, each with its "
        "own 256-centroid codebook: the codebook memory stays that of k = 256 "
        "and the codes take M bytes per row."
    )
    section.table(
        pq_rows,
        REPORT_COLUMNS,
        "One codebook (M = 1) against M codebooks",
        settings=f"1 k-means++ start per codebook, seed {seed}, tol 1e-4: its "
        f"M = 1 row differs a little from k = 256 above, which keeps the best "
        f"of {STUDY_N_INIT} starts.",
    )
    return section
