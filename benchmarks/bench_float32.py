"""KMeansL2 on a float32 table against scikit-learn's KMeans: time and memory.

Both fit the same float32 table (``make_embeddings``, 200,000 x 64 unless
told otherwise) from the same explicit init (k rows drawn with a fixed seed),
n_init=1, tol=0, a fixed number of iterations; the fits alternate, REPEATS
times each, and the table gives median wall times and their ratio. Then each
fit's peak resident memory is measured in a fresh process (see
``bench_estimator_memory.py``; there both start from k-means++).

    python benchmarks/bench_float32.py [--rows 200000] [--features 64] [-k 256]
        [--max-iter 10] [--repeats 5]
"""

import argparse
import statistics
import time

import numpy as np
from bench_estimator_memory import MEMORY_HEADER, memory_row, peak_fit_memory
from sklearn.cluster import KMeans

from skclust import KMeansL2
from skclust.datasets import make_embeddings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("-k", type=int, default=256)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args(argv)

    X = make_embeddings(args.rows, args.features, random_state=0)
    k = args.k
    init = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
    same = dict(init=init, n_init=1, tol=0.0, max_iter=args.max_iter)
    makers = {
        "sklearn KMeans lloyd": lambda: KMeans(k, algorithm="lloyd", **same),
        "KMeansL2": lambda: KMeansL2(k, **same),
    }
    times = {label: [] for label in makers}
    models = {}
    for _ in range(args.repeats):
        for label, make in makers.items():
            start = time.perf_counter()
            models[label] = make().fit(X)
            times[label].append(time.perf_counter() - start)
    peer = statistics.median(times["sklearn KMeans lloyd"])
    ours, theirs = models["KMeansL2"], models["sklearn KMeans lloyd"]
    agree = np.mean(ours.labels_ == theirs.labels_)
    print(
        f"{args.rows} x {args.features} {X.dtype}, k = {k}, {args.max_iter} "
        f"iterations, {args.repeats} alternated repeats; labels agreeing: "
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
