"""Exact 1-D k-means (and k-medians) against Lloyd's algorithm and scikit-learn.

On one feature ``KMeansL2`` and ``KMeansL1`` can find the optimal clustering
(``algorithm="exact"``: dynamic programming over the sorted distinct values).
This prints, per data kind, n and k: the number of distinct values, the
median fit time of the exact fit, of our default Lloyd fit
(``algorithm="lloyd"``, k-means++, one start) and, for L2, of scikit-learn's
``KMeans`` (its default, one k-means++ start, and ``n_init=10``), each fit
run ``--repeats`` times with random states 0, 1, ... and the fits
alternated; the ratio of the exact time to our Lloyd time; and how far each
Lloyd fit's inertia lands above the optimum, in per cent (median over the
repeats). Data kinds: normal, a mixture of k normals, uniform, heavy-tailed
(Student's t, 1.5 degrees of freedom), integer-valued with many repeats
(normal of standard deviation 100, rounded: about 1,000 distinct values)
and normal in float32. Usage::

    python benchmarks/bench_exact_1d.py [--metric l2] [--n 100 1000 ...]
        [-k 2 8 24 64] [--kinds normal mixture ...] [--repeats 3] [--no-sklearn]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans

from skclust import KMeansL1, KMeansL2

KINDS = ("normal", "mixture", "uniform", "heavy", "integer", "float32")


def make_data(kind, n, k, seed=0):
    """One column of ``n`` values of this kind (the mixture has ``k``
    components)."""
    rng = np.random.default_rng(seed)
    if kind == "normal":
        x = rng.normal(size=n)
    elif kind == "mixture":
        means = rng.uniform(0, 10 * k, size=k)
        x = rng.normal(means[rng.integers(k, size=n)], 1.0)
    elif kind == "uniform":
        x = rng.uniform(size=n)
    elif kind == "heavy":
        x = rng.standard_t(1.5, size=n)
    elif kind == "integer":
        x = np.rint(rng.normal(0, 100, size=n))
    elif kind == "float32":
        x = rng.normal(size=n).astype(np.float32)
    else:
        raise ValueError(f"unknown data kind {kind!r}")
    return x.reshape(-1, 1)


def _timed(fit):
    start = time.perf_counter()
    fitted = fit()
    return time.perf_counter() - start, fitted.inertia_


def bench(kind, n, k, metric, repeats, with_sklearn=True):
    """One row of the table: a dict of times (s) and excesses (%)."""
    X = make_data(kind, n, k)
    Estimator = KMeansL2 if metric == "l2" else KMeansL1
    fits = {
        "exact": lambda r: Estimator(k, algorithm="exact").fit(X),
        "lloyd": lambda r: Estimator(k, algorithm="lloyd", random_state=r).fit(X),
    }
    if metric == "l2" and with_sklearn:
        fits["sklearn"] = lambda r: KMeans(k, random_state=r).fit(X)
        fits["sklearn10"] = lambda r: KMeans(k, n_init=10, random_state=r).fit(X)
    for fit in fits.values():
        fit(0)  # warm-up: first calls of a size pay for allocations
    times = {name: [] for name in fits}
    inertias = {name: [] for name in fits}
    for r in range(repeats):
        for name, fit in fits.items():
            seconds, inertia = _timed(lambda fit=fit, r=r: fit(r))
            times[name].append(seconds)
            inertias[name].append(inertia)
    optimum = min(inertias["exact"])
    row = {
        "kind": kind,
        "n": n,
        "k": k,
        "distinct": np.unique(X).size,
    }
    for name in fits:
        row[f"{name}_s"] = statistics.median(times[name])
        if name != "exact":
            excess = [
                100 * (i / optimum - 1) if optimum > 0 else 0.0 for i in inertias[name]
            ]
            row[f"{name}_%"] = statistics.median(excess)
    row["ratio"] = row["exact_s"] / row["lloyd_s"]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metric", choices=["l2", "l1"], default="l2")
    parser.add_argument(
        "--n", type=int, nargs="+", default=[100, 1000, 10_000, 100_000, 1_000_000]
    )
    parser.add_argument("-k", type=int, nargs="+", default=[2, 8, 24, 64])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-sklearn",
        action="store_true",
        help="time the exact and Lloyd fits only (for the auto limit)",
    )
    args = parser.parse_args()
    # More clusters than distinct values: every fit warns and repeats centers.
    warnings.filterwarnings("ignore", "Number of distinct")
    columns = None
    for kind in args.kinds:
        for n in args.n:
            for k in args.k:
                if k > n:
                    continue
                row = bench(kind, n, k, args.metric, args.repeats, not args.no_sklearn)
                if columns is None:
                    columns = list(row)
                    print("| " + " | ".join(columns) + " |", flush=True)
                    print("|" + "---|" * len(columns), flush=True)
                cells = [
                    f"{value:.4g}" if isinstance(value, float) else str(value)
                    for value in row.values()
                ]
                print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
