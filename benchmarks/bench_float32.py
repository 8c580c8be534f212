"""KMeansL2 on a float32 table against scikit-learn's KMeans: time and memory.

Both fit the same float32 table (``make_embeddings``, 200,000 x 64 unless
told otherwise; ``--data gaussian`` for isotropic standard normal values,
``--data blobs`` for ``make_blobs`` with k groups) from the same explicit
init (k rows drawn with a fixed seed), n_init=1, tol=0, a fixed number of
iterations; the fits alternate, REPEATS times each, and the table gives
median wall times and their ratio. Then each fit's peak resident memory is
measured in a fresh process (see ``bench_estimator_memory.py``; there both
start from k-means++, on ``make_embeddings``).

``--suite`` times a set of cases instead (embeddings 200,000 x 64 and x 128
with k = 256, 100,000 x 64 with k = 64, isotropic 200,000 x 64 and blobs
200,000 x 64 with k = 256), one table row per case, without memory.

    python benchmarks/bench_float32.py [--rows 200000] [--features 64] [-k 256]
        [--data embeddings] [--max-iter 10] [--repeats 5] [--suite]
"""

import argparse
import statistics
import time

import numpy as np
from bench_estimator_memory import MEMORY_HEADER, memory_row, peak_fit_memory
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from skclust import KMeansL2
from skclust.datasets import make_embeddings

SUITE = [
    ("embeddings", 200_000, 64, 256),
    ("embeddings", 200_000, 128, 256),
    ("embeddings", 100_000, 64, 64),
    ("gaussian", 200_000, 64, 256),
    ("blobs", 200_000, 64, 256),
]


def make_table(data, n_rows, n_features, n_clusters):
    """A float32 table of the named kind."""
    if data == "gaussian":
        rng = np.random.default_rng(0)
        return rng.standard_normal((n_rows, n_features), dtype=np.float32)
    if data == "blobs":
        X, _ = make_blobs(n_rows, n_features, centers=n_clusters, random_state=0)
        return X.astype(np.float32)
    return make_embeddings(n_rows, n_features, random_state=0)


def time_fits(X, k, max_iter, repeats):
    """Alternated fits of both from the same init: times and fitted models."""
    init = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
    same = dict(init=init, n_init=1, tol=0.0, max_iter=max_iter)
    makers = {
        "sklearn KMeans lloyd": lambda: KMeans(k, algorithm="lloyd", **same),
        "KMeansL2": lambda: KMeansL2(k, **same),
    }
    times = {label: [] for label in makers}
    models = {}
    for _ in range(repeats):
        for label, make in makers.items():
            start = time.perf_counter()
            models[label] = make().fit(X)
            times[label].append(time.perf_counter() - start)
    return times, models


def suite(max_iter, repeats):
    print(
        f"float32, {max_iter} iterations, {repeats} alternated repeats; "
        "median wall seconds"
    )
    print(
        "| data | rows x features | k | sklearn | KMeansL2 | ratio | labels agreeing |"
    )
    print("|---|---|---|---|---|---|---|")
    for data, n_rows, n_features, k in SUITE:
        X = make_table(data, n_rows, n_features, k)
        times, models = time_fits(X, k, max_iter, repeats)
        peer = statistics.median(times["sklearn KMeans lloyd"])
        ours = statistics.median(times["KMeansL2"])
        agree = np.mean(
            models["KMeansL2"].labels_ == models["sklearn KMeans lloyd"].labels_
        )
        print(
            f"| {data} | {n_rows} x {n_features} | {k} | {peer:.3f} | "
            f"{ours:.3f} | {ours / peer:.2f} | {agree:.4%} |",
            flush=True,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("-k", type=int, default=256)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--data", choices=["embeddings", "gaussian", "blobs"], default="embeddings"
    )
    parser.add_argument("--suite", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args(argv)
    if args.suite:
        suite(args.max_iter, args.repeats)
        return

    X = make_table(args.data, args.rows, args.features, args.k)
    k = args.k
    times, models = time_fits(X, k, args.max_iter, args.repeats)
    peer = statistics.median(times["sklearn KMeans lloyd"])
    ours, theirs = models["KMeansL2"], models["sklearn KMeans lloyd"]
    agree = np.mean(ours.labels_ == theirs.labels_)
    print(
        f"{args.data} {args.rows} x {args.features} {X.dtype}, k = {k}, "
        f"{args.max_iter} iterations, {args.repeats} alternated repeats; "
        "labels agreeing: "
        f"{agree:.4%}"
    )
    print("| estimator | median s | min s | max s | ratio | centers dtype |")
    print("|---|---|---|---|---|---|")
    for label, model in models.items():
        median = statistics.median(times[label])
        print(
            f"| {label} | {median:.3f} | {min(times[label]):.3f} | "
            f"{max(times[label]):.3f} | {median / peer:.2f} | "
            f"{model.cluster_centers_.dtype} |"
        )
    if args.no_memory:
        return
    print()
    print(MEMORY_HEADER)
    for name in ("KMeans", "KMeansL2"):
        figures = peak_fit_memory(
            name, args.rows, args.features, k, args.max_iter, "float32"
        )
        print(memory_row(name, figures), flush=True)


if __name__ == "__main__":
    main()
