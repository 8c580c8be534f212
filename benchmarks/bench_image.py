"""The image-compression study, skclust against its peers, side by side.

Two images x k in (3, 6, 12, 24, 48) x two metrics, one start each, run to
convergence (tol=0) from the same k distinct pixels:

- L2: ``ImageQuantizer(metric="l2")`` against scikit-learn's
  ``KMeans(algorithm="lloyd")`` on the same pixels;
- L1: ``ImageQuantizer(metric="l1")`` against a straightforward numpy
  k-medians loop (scipy's cityblock ``cdist``, ``argmin``, ``np.median`` per
  cluster, stop when no label changes).

Each fit is timed ``--repeats`` times, alternating with its peer; the table
gives medians, iterations and ratios, and the last lines the ratio for the
whole sweep (sum of medians). Iteration counts of the L1 pair can differ by
one: skclust, like scikit-learn, also stops when no center moves (tol=0),
while the loop below waits until no label changes; the centers are the same.

    python benchmarks/bench_image.py --data ../shared/data [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np
from bench_kmeans import study_images  # this folder, on the path of a script
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans

from skclust.image import ImageQuantizer

STUDY_K = (3, 6, 12, 24, 48)


def naive_kmedians(X, init, max_iter=300):
    """The loop most course solutions write for L1 k-means (k-medians)."""
    centers = init.copy()
    labels_old = None
    for iteration in range(max_iter):  # noqa: B007 (returned below)
        labels = cdist(X, centers, "cityblock").argmin(axis=1)
        if labels_old is not None and np.array_equal(labels, labels_old):
            break
        for j in range(len(centers)):
            members = X[labels == j]
            if len(members):
                centers[j] = np.median(members, axis=0)
        labels_old = labels
    return labels, centers, iteration + 1


class _Naive:
    def __init__(self, init):
        self.init = init

    def fit(self, X):
        _, self.cluster_centers_, self.n_iter_ = naive_kmedians(X, self.init)
        return self


def _fitters(image, X, init, k, metric):
    def ours():
        return ImageQuantizer(k, metric=metric, init=init, n_init=1, tol=0.0).fit(image)

    def peer():
        if metric == "l1":
            return _Naive(init).fit(X)
        return KMeans(k, init=init, n_init=1, tol=0.0, algorithm="lloyd").fit(X)

    return ours, peer


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model.n_iter_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with football.bmp and parrots.png")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    totals = {"l2": [0.0, 0.0], "l1": [0.0, 0.0]}
    print("| image | metric | k | skclust s | it | peer s | it | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, image in study_images(args.data).items():
        X = image.reshape(-1, 3).astype(np.float64)
        for metric in ("l2", "l1"):
            for k in STUDY_K:
                init = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
                ours, peer = _fitters(image, X, init, k, metric)
                ours_times, peer_times = [], []
                for _ in range(args.repeats):
                    seconds, ours_iter = _timed(ours)
                    ours_times.append(seconds)
                    seconds, peer_iter = _timed(peer)
                    peer_times.append(seconds)
                a, b = statistics.median(ours_times), statistics.median(peer_times)
                totals[metric][0] += a
                totals[metric][1] += b
                print(
                    f"| {name} | {metric} | {k} | {a:.3f} | {ours_iter} | {b:.3f} | "
                    f"{peer_iter} | {a / b:.2f} |",
                    flush=True,
                )
    print()
    for metric, peer_name in (("l2", "scikit-learn KMeans"), ("l1", "numpy loop")):
        ours, peer = totals[metric]
        print(
            f"whole {metric} sweep: skclust {ours:.2f} s, {peer_name} {peer:.2f} s, "
            f"ratio {ours / peer:.2f}"
        )
    ours = totals["l2"][0] + totals["l1"][0]
    peer = totals["l2"][1] + totals["l1"][1]
    print(
        f"whole study: skclust {ours:.2f} s, peers {peer:.2f} s, "
        f"ratio {ours / peer:.2f}"
    )


if __name__ == "__main__":
    main()
