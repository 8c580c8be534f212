"""The default VectorQuantizer fit against scikit-learn's KMeans, part by part.

Fits a default ``VectorQuantizer`` (rows normalized; above 65,536 rows the
block kernels, seeded by k-means++ on a sample and two k-means|| rounds) and
scikit-learn's ``KMeans(n_init=1)`` (its default algorithm, greedy k-means++
over every row) on the same unit rows in float32, seed by seed, alternated
in one process, and prints per table and k the median seconds of each, the
median per-seed ratio, the iterations (median, and per seed), the
milliseconds per iteration (ours: the Lloyd loop's time over its
iterations; scikit-learn's: its fit less a separate call of its
``kmeans_plusplus`` on the centered rows, over its iterations, so its own
checks and centering count in), the seeding's seconds, ours'
pass that finds the mean and normalizes the rows, and the inertia on the
unit rows relative to scikit-learn's in per cent (median, worst; positive
is worse). The tables are those of ``bench_block_seeding.py``
(``make_embeddings`` and isotropic Gaussian rows, float32).

``--threads 1`` runs both on one thread (our thread pool, scikit-learn's
OpenMP and BLAS): on a loaded machine scikit-learn's OpenMP threads lose far
more than our pool, and one thread each compares the work more fairly.
Usage::

    python benchmarks/bench_vq_sklearn.py [--k 8 16 32] [--kinds emb gauss]
        [--seeds 0 1 2 3 4] [--rows 100000] [--features 32] [--threads 1]

Timings depend on the machine's load (say so when quoting them); the
inertia does not.
"""

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from bench_block_seeding import inertia, table, unit

PARTS = {}


def _timed(module, name):
    """Add the seconds of every call of ``module.name`` to ``PARTS[name]``."""
    function = getattr(module, name)

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            PARTS[name] = PARTS.get(name, 0.0) + time.perf_counter() - began

    setattr(module, name, timed)


def ours(X, rows, k, seed):
    """One default fit: seconds, iterations, inertia and its parts."""
    from skclust import VectorQuantizer

    PARTS.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.perf_counter()
        vq = VectorQuantizer(k, random_state=seed).fit(X)
        seconds = time.perf_counter() - began
    n_iter = vq.n_iter_
    return {
        "s": seconds,
        "it": n_iter,
        "inertia": inertia(rows, vq.codebook_[0]),
        "seeding": PARTS["block_seeds"],
        "normalizing": PARTS["center_on_mean"],
        "ms_per_it": 1e3 * PARTS["lloyd"] / n_iter,
    }


def theirs(rows, k, seed):
    """scikit-learn's fit of the unit rows in float32."""
    from sklearn.cluster import KMeans, kmeans_plusplus

    points = rows.astype(np.float32)
    began = time.perf_counter()
    km = KMeans(k, n_init=1, random_state=seed).fit(points)
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    kmeans_plusplus(points - points.mean(axis=0), k, random_state=seed)
    seeding = time.perf_counter() - began
    n_iter = int(km.n_iter_)
    return {
        "s": seconds,
        "it": n_iter,
        "inertia": inertia(rows, km.cluster_centers_),
        "seeding": seeding,
        "ms_per_it": 1e3 * (seconds - seeding) / n_iter,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument(
        "--kinds", nargs="+", choices=("emb", "gauss"), default=["emb", "gauss"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    # More than 65,536 rows: the block kernels.
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--threads", type=int, help="default: every core")
    args = parser.parse_args()
    import skclust._vq._scale as scale

    _timed(scale, "block_seeds")
    _timed(scale, "center_on_mean")
    _timed(scale, "lloyd")
    if args.threads:
        from threadpoolctl import threadpool_limits

        import skclust._vq._estimator as estimator

        estimator.cpu_count = lambda: args.threads
        threadpool_limits(args.threads)
    print(
        f"load average {os.getloadavg()}; seeds {args.seeds}; medians; "
        "ours / scikit-learn's"
    )
    print(
        f"{'kind':5s} {'k':>4s} {'s':>13s} {'ratio':>5s} {'it.':>9s} "
        f"{'ms/it.':>11s} {'seeding s':>11s} {'norm. s':>7s} "
        f"{'d inertia %':>15s}  iterations per seed"
    )
    for kind in args.kinds:
        for k in args.k:
            fits = {"ours": [], "theirs": []}
            for i, seed in enumerate(args.seeds):
                X = table(kind, args.rows, args.features, k, seed)
                rows = unit(X)
                order = ["ours", "theirs"] if i % 2 == 0 else ["theirs", "ours"]
                for name in order:
                    if name == "ours":
                        fits[name].append(ours(X, rows, k, seed))
                    else:
                        fits[name].append(theirs(rows, k, seed))

            def median(name, key, fits=fits):
                return statistics.median(f[key] for f in fits[name])

            pairs = list(zip(fits["ours"], fits["theirs"], strict=True))
            ratio = statistics.median(a["s"] / b["s"] for a, b in pairs)
            change = [100 * (a["inertia"] / b["inertia"] - 1) for a, b in pairs]
            print(
                f"{kind:5s} {k:4d} "
                f"{median('ours', 's'):6.2f}/{median('theirs', 's'):<6.2f} "
                f"{ratio:5.2f} "
                f"{median('ours', 'it'):4.0f}/{median('theirs', 'it'):<4.0f} "
                f"{median('ours', 'ms_per_it'):5.1f}/"
                f"{median('theirs', 'ms_per_it'):<5.1f} "
                f"{median('ours', 'seeding'):5.2f}/"
                f"{median('theirs', 'seeding'):<5.2f} "
                f"{median('ours', 'normalizing'):7.2f} "
                f"{statistics.median(change):+7.2f} {max(change):+7.2f}  "
                f"{[f['it'] for f in fits['ours']]} "
                f"{[f['it'] for f in fits['theirs']]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
