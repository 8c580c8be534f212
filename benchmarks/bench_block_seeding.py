"""How the block kernels' k-means++ seeding compares with k-means++ over every row.

Above 65,536 rows ``VectorQuantizer`` (and ``KMeansL2``/``KMeansL1`` on
memory maps) fit through the block kernels, which seed k-means++ on a sample
of ``8 * n_clusters`` rows and can then refine the seeds with k-means||
rounds over every row (``skclust/_kmeans/_oversampling.py``). This fits
default ``VectorQuantizer`` models (rows normalized, k-means++, ``n_init``,
``max_iter`` and ``tol`` as shipped) with each seeding and scikit-learn's
``KMeans(n_init=1)`` (greedy k-means++ over every row, then Lloyd) on the
same unit rows, and prints per table, k and seeding the median whole fit
time (seeding and Lloyd), its median ratio to the sample seeding's, the
median seconds of the seeding alone, the median iterations, and the median
and worst per-seed inertia on the unit rows relative to scikit-learn's
(positive: worse), or to the sample seeding's when ``sklearn`` is not among
the seedings (its fits take minutes on the largest tables).

Seedings: ``sample`` (the 8k-row sample alone), ``s<r>x<l>`` (r rounds of
k-means||, l * k rows drawn per round, from the sample's seeds), ``r<r>x<l>``
(k-means|| as published, from one row drawn uniformly), ``sklearn``.

Tables (float32): ``make_blobs`` with k blobs (``blobs``) and k / 4 blobs
(``blobs4``), ``skclust.datasets.make_embeddings`` (``emb``) and isotropic
Gaussian rows (``gauss``). Usage::

    python benchmarks/bench_block_seeding.py [--grid quick|full]
        [--shapes 100000x32x256 ...] [--seeds 0 1]
        [--seedings sample s2x1 r5x0.5 sklearn] [--kinds blobs emb]
        [--json fits.json]

The seedings alternate seed by seed, in one process. Timings depend on the
machine's load (say so when quoting them); the quality figures do not.
"""

import argparse
import itertools
import json
import statistics
import time
import warnings

import numpy as np

GRIDS = {
    # (rows, features, k)
    "quick": [(100_000, 32, 16), (100_000, 32, 256), (100_000, 128, 64)],
    "full": [
        (100_000, 32, 16),
        (100_000, 32, 64),
        (100_000, 32, 256),
        (100_000, 128, 64),
        (100_000, 128, 256),
        (300_000, 64, 256),
        (100_000, 32, 1024),
    ],
}
KINDS = ("blobs", "blobs4", "emb", "gauss")


def table(kind, n_rows, n_features, k, seed):
    """A float32 table of one kind."""
    if kind in ("blobs", "blobs4"):
        from sklearn.datasets import make_blobs

        blobs = k if kind == "blobs" else max(1, k // 4)
        X, _ = make_blobs(n_rows, n_features, centers=blobs, random_state=seed)
    elif kind == "emb":
        from skclust.datasets import make_embeddings

        X = make_embeddings(n_rows, n_features, random_state=seed)
    else:
        X = np.random.default_rng(seed).standard_normal((n_rows, n_features))
    return np.ascontiguousarray(X, dtype=np.float32)


def unit(X):
    rows = X.astype(np.float64)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def inertia(rows, centers):
    """Sum of squared distances of float64 rows to their nearest center."""
    centers = np.asarray(centers, dtype=np.float64)
    total = 0.0
    squared = np.einsum("ij,ij->i", centers, centers)
    for start in range(0, rows.shape[0], 8192):
        part = rows[start : start + 8192]
        d = squared - 2 * part @ centers.T
        d += np.einsum("ij,ij->i", part, part)[:, None]
        total += float(np.maximum(d.min(axis=1), 0).sum())
    return total


def configure(seeding):
    """Set the block kernels' seeding; returns the name of what fits."""
    import skclust._kmeans._oversampling as oversampling

    if seeding == "sklearn":
        return "sklearn"
    if seeding == "sample":
        oversampling.ROUNDS = 0
        return "skclust"
    start, rest = seeding[0], seeding[1:]
    rounds, factor = rest.split("x")
    oversampling.START = {"s": "sample", "r": "row"}[start]
    oversampling.ROUNDS = int(rounds)
    oversampling.OVERSAMPLING = float(factor)
    return "skclust"


def _timed_seeding():
    """Wrap the block kernels' seeding to record its seconds in ``SEEDING``."""
    import skclust._vq._scale as scale

    seeding = scale.block_seeds

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return seeding(*args, **kwargs)
        finally:
            SEEDING.append(time.perf_counter() - began)

    scale.block_seeds = timed


SEEDING = []


def fit(X, rows, k, seed, seeding):
    """Seconds, iterations, inertia on the unit rows and seeding seconds of
    one default fit."""
    if configure(seeding) == "sklearn":
        from sklearn.cluster import KMeans

        points = rows.astype(np.float32)
        began = time.perf_counter()
        km = KMeans(k, n_init=1, random_state=seed).fit(points)
        seconds = time.perf_counter() - began
        return seconds, int(km.n_iter_), inertia(rows, km.cluster_centers_), 0.0
    from skclust import VectorQuantizer

    SEEDING.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.perf_counter()
        vq = VectorQuantizer(k, random_state=seed).fit(X)
        seconds = time.perf_counter() - began
    found = inertia(rows, vq.codebook_[0])
    return seconds, vq.n_iter_, found, sum(SEEDING)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", choices=tuple(GRIDS), default="quick")
    parser.add_argument(
        "--shapes",
        nargs="+",
        help="rows x features x k, e.g. 100000x32x256, instead of --grid",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--seedings", nargs="+", default=["sample", "s2x1", "sklearn"])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--json", help="write every fit to this file")
    args = parser.parse_args()
    _timed_seeding()
    seedings = args.seedings
    if "sample" not in seedings:
        parser.error("--seedings needs 'sample' to compare with")
    # Without scikit-learn's fits (long on large tables), the inertia is
    # compared with the sample seeding's.
    reference = "sklearn" if "sklearn" in seedings else "sample"
    print(
        f"default VectorQuantizer fits, seeds {args.seeds}; medians; x: time / "
        f"sample seeding's; d inertia: / {reference}'s - 1 in per cent "
        "(median, worst)"
    )
    print(
        f"{'rows':>7s} {'d':>4s} {'k':>5s} {'kind':6s} {'seeding':8s} "
        f"{'s':>7s} {'x':>5s} {'seed s':>6s} {'iter':>5s} {'d inertia':>15s}"
    )
    records = []
    shapes = GRIDS[args.grid]
    if args.shapes:
        shapes = [tuple(int(v) for v in shape.split("x")) for shape in args.shapes]
    for (n, d, k), kind in itertools.product(shapes, args.kinds):
        fits = {seeding: [] for seeding in seedings}
        for i, seed in enumerate(args.seeds):
            X = table(kind, n, d, k, seed)
            rows = unit(X)
            # Alternated: which seeding goes first changes seed by seed.
            for seeding in seedings if i % 2 == 0 else seedings[::-1]:
                fits[seeding].append(fit(X, rows, k, seed, seeding))
        records.append({"rows": n, "features": d, "k": k, "kind": kind} | fits)
        for seeding in seedings:
            pairs = list(
                zip(fits["sample"], fits[seeding], fits[reference], strict=True)
            )
            change = [100 * (f[2] / s[2] - 1) for _, f, s in pairs]
            print(
                f"{n:7d} {d:4d} {k:5d} {kind:6s} {seeding:8s} "
                f"{statistics.median(f[0] for f in fits[seeding]):7.2f} "
                f"{statistics.median(f[0] / b[0] for b, f, _ in pairs):5.2f} "
                f"{statistics.median(f[3] for f in fits[seeding]):6.2f} "
                f"{statistics.median(f[1] for f in fits[seeding]):5.0f} "
                f"{statistics.median(change):+7.2f} {max(change):+7.2f}",
                flush=True,
            )
        if args.json:
            with open(args.json, "w") as out:
                json.dump(records, out)


if __name__ == "__main__":
    main()
