"""SpectralGraphClusterer against scikit-learn's SpectralClustering, side by side.

The sweep k = 2, 5, 10, 30, 50 on the same graph (political blogs without
isolated nodes with --data or SKCLUST_DATA, else the embedded karate club,
keeping k <= n / 2), with the same seed for every method:

- sklearn: ``SpectralClustering(k, affinity="precomputed")`` fitted once per k
  (its defaults: ARPACK, n_init=10);
- skclust sweep: ``sweep_n_clusters`` with the default estimator
  (``strategy="kmeans"``): each k fitted exactly as it would be alone, the
  validated graph, components and twins shared;
- skclust sweep, LAPACK: the same with ``eigen_solver="dense"`` (the
  default uses ARPACK above 200 nodes);
- skclust per-k fits: ``SpectralGraphClusterer(k).fit`` once per k;
- skclust sweep, divisive: ``strategy="divisive"`` (nested clusterings);
- skclust sweep, normalized: the plain normalized Laplacian.

Each method's whole sweep is timed REPEATS times in alternation within this
run; the tables give median wall times, the ratio to scikit-learn's and the
overall majority-label mismatch, ARI and NMI of each k. skclust runs BLAS on
one thread on graphs up to 10000 nodes; scikit-learn uses its defaults (all
cores for BLAS and OpenMP), which on a busy machine can cost it several times
its quiet time. ``--one-thread`` runs every method with BLAS and OpenMP limited to one
thread, for a comparison free of that effect.

    python benchmarks/bench_spectral.py --data ../shared/data [--repeats 5]
"""

import argparse
import statistics
import time
import warnings
from contextlib import nullcontext

from sklearn.cluster import SpectralClustering
from threadpoolctl import threadpool_limits

from skclust import SpectralGraphClusterer, sweep_n_clusters
from skclust.datasets import load_karate_club, load_political_blogs, study_data_dir
from skclust.metrics import label_agreement


def _graph(data):
    if study_data_dir(data) is None:
        return load_karate_club()
    return load_political_blogs(data)


def _sklearn_sweep(A, ks, seed):
    with warnings.catch_warnings():
        # "Graph is not fully connected": political blogs has a 2-node component.
        warnings.simplefilter("ignore", UserWarning)
        return [
            SpectralClustering(k, affinity="precomputed", random_state=seed)
            .fit(A)
            .labels_
            for k in ks
        ]


def _skclust_sweep(A, ks, seed, **params):
    estimator = SpectralGraphClusterer(random_state=seed, **params)
    return [fit.labels_ for fit in sweep_n_clusters(estimator, A, ks)]


def _skclust_per_k(A, ks, seed):
    return [SpectralGraphClusterer(k, random_state=seed).fit(A).labels_ for k in ks]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with nodes.txt and edges.txt")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-k", type=int, nargs="+", default=[2, 5, 10, 30, 50])
    parser.add_argument(
        "--one-thread",
        action="store_true",
        help="limit BLAS and OpenMP to one thread for every method",
    )
    args = parser.parse_args(argv)
    limits = threadpool_limits(1) if args.one_thread else nullcontext()
    with limits:
        _run(args)


def _run(args):
    graph = _graph(args.data)
    ks = [k for k in args.k if k <= graph.n_nodes // 2]
    A = graph.adjacency
    print(graph.summary())
    threads = "one thread" if args.one_thread else "default threads"
    print(f"k = {ks}, seed {args.seed}, {args.repeats} repeats, {threads}\n")
    methods = {
        "sklearn SpectralClustering": lambda: _sklearn_sweep(A, ks, args.seed),
        "skclust sweep": lambda: _skclust_sweep(A, ks, args.seed),
        "skclust sweep, LAPACK": lambda: _skclust_sweep(
            A, ks, args.seed, eigen_solver="dense"
        ),
        "skclust per-k fits": lambda: _skclust_per_k(A, ks, args.seed),
        "skclust sweep, divisive": lambda: _skclust_sweep(
            A, ks, args.seed, strategy="divisive"
        ),
        "skclust sweep, normalized": lambda: _skclust_sweep(
            A, ks, args.seed, laplacian="normalized"
        ),
    }
    times = {name: [] for name in methods}
    labels = {}
    for _ in range(args.repeats):
        for name, method in methods.items():
            start = time.perf_counter()
            labels[name] = method()
            times[name].append(time.perf_counter() - start)
    peer = statistics.median(times["sklearn SpectralClustering"])

    print("| method | median s (whole sweep) | ratio to sklearn |")
    print("|---|---|---|")
    for name in methods:
        median = statistics.median(times[name])
        print(f"| {name} | {median:.3f} | {median / peer:.2f} |")

    for key, title in [
        ("mismatch_rate", "Overall majority-label mismatch (%)"),
        ("ari", "Adjusted Rand index x 100"),
        ("nmi", "Normalized mutual information x 100"),
    ]:
        print(f"\n{title}\n")
        print("| k | " + " | ".join(methods) + " |")
        print("|---|" + "---|" * len(methods))
        for i, k in enumerate(ks):
            values = [
                100 * label_agreement(graph.labels, labels[name][i])[key]
                for name in methods
            ]
            print(f"| {k} | " + " | ".join(f"{v:.2f}" for v in values) + " |")


if __name__ == "__main__":
    main()
