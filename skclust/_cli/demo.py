"""``skclust demo``: both k-means estimators on a bundled photograph."""

import time

from ._common import add_seed_argument, positive_int
from ._output import markdown_table


def add_parser(commands):
    parser = commands.add_parser(
        "demo",
        help="cluster the colours of a bundled photograph with KMeansL2 and KMeansL1",
        description="Cluster the colours of scikit-learn's bundled china.jpg "
        "with KMeansL2 (squared Euclidean, mean update) and KMeansL1 "
        "(Manhattan, median update) and print iterations, time and inertia.",
    )
    parser.add_argument(
        "-k",
        "--n-clusters",
        type=positive_int,
        default=8,
        metavar="K",
        help="number of colours, at most the photograph's distinct colours (default 8)",
    )
    add_seed_argument(parser)
    parser.set_defaults(run=run)


def run(args):
    import numpy as np
    from sklearn.datasets import load_sample_image

    from .._kmeans import KMeansL1, KMeansL2

    pixels = load_sample_image("china.jpg").reshape(-1, 3).astype(np.float64)
    n_colours = len(np.unique(pixels @ [65536, 256, 1]))
    if args.n_clusters > n_colours:
        # As skclust image skips such a k: the fits warned in two Python
        # warnings (file, line and source) and printed inertia 0.
        raise ValueError(
            f"-k {args.n_clusters}: china.jpg has only {n_colours} distinct "
            "colours (more clusters than colours)"
        )
    print(f"china.jpg: {len(pixels)} pixels, {n_colours} distinct colours")
    rows = []
    for Estimator in (KMeansL2, KMeansL1):
        start = time.perf_counter()
        km = Estimator(args.n_clusters, n_init=1, random_state=args.seed).fit(pixels)
        rows.append(
            {
                "estimator": Estimator.__name__,
                "k": args.n_clusters,
                "iterations": km.n_iter_,
                "seconds": f"{time.perf_counter() - start:.2f}",
                "inertia": km.inertia_,
            }
        )
    print(markdown_table(rows, list(rows[0])), end="")
    print(
        "inertia: KMeansL2 sums squared Euclidean distances, KMeansL1 Manhattan "
        "distances (two scales, not to be compared)"
    )
    return 0
