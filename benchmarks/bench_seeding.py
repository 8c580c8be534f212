"""k-means++ seeding: compiled distances from coordinate differences against numpy's.

The peer here is the numpy code the kernel (``_bounds.pairwise_cost``)
replaced (``_summed_over_features``: three passes over an n_centers x n_rows
array per feature), patched in for alternate runs of the same process:
scikit-learn has no L1 k-means, and for L2 its seeding is not the same
computation. It times k-means++ alone and a whole fit (k-means++ and
``--max-iter`` iterations, tol=0) on ``make_embeddings`` float32 rows, with
KMeansL1 (``--metric l1``, the default) or KMeansL2 (``--metric l2``, which
sums coordinate differences up to 16 features), and checks that both ways
pick the same centers. Usage::

    python benchmarks/bench_seeding.py [--metric l1] [--rows 300000]
        [--features 128] [-k 16] [--max-iter 5] [--repeats 3]
    python benchmarks/bench_seeding.py --metric l2 --rows 50000 --features 16 -k 8
"""

import argparse
import statistics
import time
from contextlib import contextmanager

import numpy as np

from skclust import KMeansL1, KMeansL2
from skclust._kmeans._engine import kmeans_plusplus
from skclust._kmeans._metrics import Euclidean, Manhattan, _summed_over_features
from skclust.datasets import make_embeddings

# metric name -> (estimator, metric, elementwise term, methods the kernel serves)
METRICS = {
    "l1": (KMeansL1, Manhattan, np.abs, ("pairwise", "pairwise_cost", "ranking")),
    "l2": (KMeansL2, Euclidean, np.square, ("pairwise_cost",)),
}


@contextmanager
def numpy_sums(metric, term, names):
    """The metric's distances by numpy's per-feature passes, as before the kernel."""
    saved = {name: metric.__dict__[name] for name in names}
    numpy_way = staticmethod(
        lambda X, c, row_norms=None: _summed_over_features(X, c, term)
    )
    for name in names:
        setattr(metric, name, numpy_way)
    try:
        yield
    finally:
        for name, method in saved.items():
            setattr(metric, name, method)


def timed(task):
    start = time.perf_counter()
    result = task()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metric", choices=sorted(METRICS), default="l1")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("-k", type=int, default=16)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    estimator, metric, term, names = METRICS[args.metric]
    X = make_embeddings(args.rows, args.features, random_state=0)
    weights = np.ones(X.shape[0])

    def seeding():
        state = np.random.RandomState(0)
        return kmeans_plusplus(X, weights, args.k, metric, state)

    def fit():
        model = estimator(args.k, max_iter=args.max_iter, tol=0, random_state=0)
        return model.fit(X).cluster_centers_

    times = {}
    for task_name, task in (("k-means++", seeding), ("whole fit", fit)):
        results = {}
        for _ in range(args.repeats):
            for way in ("compiled", "numpy"):
                if way == "numpy":
                    with numpy_sums(metric, term, names):
                        seconds, results[way] = timed(task)
                else:
                    seconds, results[way] = timed(task)
                times.setdefault((task_name, way), []).append(seconds)
        same = np.array_equal(results["compiled"], results["numpy"])
        print(f"{task_name}: same centers both ways: {same}")
    print(
        f"\n{args.metric}, {args.rows} x {args.features} float32, k = {args.k}, "
        f"{args.max_iter} iterations, medians of {args.repeats}"
    )
    print(f"{'':12s} {'compiled s':>11s} {'numpy s':>9s} {'ratio':>7s}")
    for task_name in ("k-means++", "whole fit"):
        ours = statistics.median(times[task_name, "compiled"])
        theirs = statistics.median(times[task_name, "numpy"])
        print(f"{task_name:12s} {ours:11.3f} {theirs:9.3f} {ours / theirs:7.2f}")


if __name__ == "__main__":
    main()
