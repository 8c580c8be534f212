"""Whole default fits of KMeansL2 and scikit-learn's KMeans on everyday tables.

Where ``bench_kmeans.py`` times the iterations from one shared init on large
inputs, this times what a user calls on small and middling tables: the whole
``fit`` with k-means++ seeding (``n_init=1``, the same ``random_state`` for
both; the seeds differ, so the runs do), on iris, wine, digits and blobs of
2,000 and 50,000 rows and 30,000 x 64 standard normal values, k = 3, 8
and 32. On such tables a fixed cost per fit
(validation, seeding, thread limits) weighs as much as the iterations. Each
pair is timed alternately ``--repeats`` times after one warm-up fit; printed:
median milliseconds, iterations, the ratio ours / scikit-learn's, and the
ratio of the inertias (mean over ``--seeds`` random states: below 1 is a
lower cost). Usage::

    python benchmarks/bench_small_fits.py [--repeats 15] [--seeds 5]

With ``--hamerly`` it also times KMeansL2 with Elkan's per-center bounds
switched off (Hamerly's bounds only, the path before them), in the same
alternation, and prints the ratio with / without them.
"""

import argparse
import statistics
import time
from contextlib import contextmanager

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_iris, load_wine, make_blobs

from skclust import KMeansL2
from skclust._kmeans import _inmemory


@contextmanager
def _without_center_bounds():
    keep = _inmemory._keeps_center_bounds
    _inmemory._keeps_center_bounds = lambda *shape: False
    try:
        yield
    finally:
        _inmemory._keeps_center_bounds = keep


class HamerlyOnly:
    """``fit`` of ``make()`` with Elkan's per-center bounds switched off."""

    def __init__(self, make):
        self.make = make

    def fit(self, X):
        with _without_center_bounds():
            return self.make().fit(X)


def tables():
    """(name, X) of the everyday tables, float64."""
    yield "iris 150x4", load_iris().data
    yield "wine 178x13", load_wine().data
    yield "digits 1797x64", load_digits().data
    yield "blobs 2000x8", make_blobs(2000, n_features=8, centers=5, random_state=0)[0]
    yield (
        "blobs 50000x16",
        make_blobs(50_000, n_features=16, centers=8, random_state=0)[0],
    )
    yield "normal 30000x64", np.random.default_rng(0).standard_normal((30_000, 64))


def _ms(fit, X):
    start = time.perf_counter()
    fit(X)
    return 1000 * (time.perf_counter() - start)


def compare(X, k, repeats, seeds, hamerly=False):
    """Median ms and iterations of both, the mean inertia ratio, and the
    median ms without Elkan's bounds (None unless ``hamerly``)."""
    ours = KMeansL2(k, n_init=1, random_state=0)
    peer = KMeans(k, n_init=1, random_state=0)
    old = HamerlyOnly(lambda: KMeansL2(k, n_init=1, random_state=0))
    ours.fit(X)
    peer.fit(X)
    times = {"ours": [], "peer": [], "old": []}
    fits = {"ours": ours.fit, "old": old.fit} if hamerly else {"ours": ours.fit}
    for repeat in range(repeats):
        # scikit-learn's OpenMP threads keep spinning for a while after its
        # fit and slow down the next one: ours and the old path take turns
        # at following it.
        for label in sorted(fits, reverse=bool(repeat % 2)):
            times[label].append(_ms(fits[label], X))
        times["peer"].append(_ms(peer.fit, X))
    ratios = [
        KMeansL2(k, n_init=1, random_state=seed).fit(X).inertia_
        / KMeans(k, n_init=1, random_state=seed).fit(X).inertia_
        for seed in range(seeds)
    ]
    return (
        statistics.median(times["ours"]),
        ours.n_iter_,
        statistics.median(times["peer"]),
        peer.n_iter_,
        float(np.mean(ratios)),
        statistics.median(times["old"]) if hamerly else None,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--hamerly", action="store_true", help="also time without Elkan's bounds"
    )
    args = parser.parse_args(argv)
    extra = " Hamerly only ms | with / without |" if args.hamerly else ""
    print(
        "| table | k | ours ms | it | scikit-learn ms | it | time ratio "
        "| inertia ratio |" + extra
    )
    print("|---|---|---|---|---|---|---|---|" + "---|---|" * args.hamerly)
    for name, X in tables():
        for k in (3, 8, 32):
            ours, ours_it, peer, peer_it, inertia, old = compare(
                X, k, args.repeats, args.seeds, args.hamerly
            )
            extra = f" {old:.2f} | {ours / old:.2f} |" if args.hamerly else ""
            print(
                f"| {name} | {k} | {ours:.2f} | {ours_it} | {peer:.2f} | {peer_it} "
                f"| {ours / peer:.2f} | {inertia:.3f} |" + extra,
                flush=True,
            )


if __name__ == "__main__":
    main()
