"""Counting communities against a simulated null model, beside "auto".

``n_clusters="auto"`` counts the Bethe Hessian's eigenvalues below its bulk.
This script tries another count, not used by the library: the eigenvalues
of the regularized affinity ``D_tau^-1/2 A D_tau^-1/2`` (``tau`` the mean
degree, the default's first candidate) above the largest non-leading
eigenvalue of ``--draws`` Chung-Lu graphs with the same degrees (edge
``ij`` with probability ``min(1, d_i d_j / sum d)``), raised by a relative
``margin``: the null model's bulk edge is simulated at the graph's own
size and degrees instead of taken from an asymptotic formula. It prints,
per row of ``bench_graph_suite.py`` (same generator and seeds) and for 20
graphs with the suite's degrees and no blocks, how often each count finds
K; then the counts on karate and political blogs (with the data). Usage::

    python benchmarks/bench_count_null.py [--seeds 10] [--draws 9]
        [--margins 0 0.01 0.02]
"""

import argparse
import time

import numpy as np
from bench_choose_k import null_graphs
from bench_graph_suite import add_generator_arguments, real_graphs, scenarios
from scipy import sparse
from scipy.sparse.linalg import eigsh

from skclust import SpectralGraphClusterer
from skclust._spectral._laplacian import _normalized_affinity

N_EIGEN = 12


def leading_eigenvalues(adjacency, n_eigen):
    """Descending leading eigenvalues of the affinity regularized by the mean degree."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    affinity = _normalized_affinity(adjacency, degree, degree.mean())
    values = eigsh(
        affinity,
        k=n_eigen,
        which="LA",
        return_eigenvectors=False,
        v0=np.ones(adjacency.shape[0]),
        maxiter=5000,
    )
    return np.sort(values)[::-1]


def chung_lu(degree, rng):
    """A graph with edge ``ij`` drawn with probability ``min(1, d_i d_j / sum d)``."""
    p = np.minimum(np.outer(degree, degree) / degree.sum(), 1.0)
    upper = np.triu(rng.random(p.shape) < p, 1)
    return sparse.csr_array((upper | upper.T).astype(np.float64))


def null_counts(adjacency, draws, margins, seed):
    """Counts for each margin: 1 + eigenvalues above the null's bulk edge."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    observed = leading_eigenvalues(adjacency, N_EIGEN)
    rng = np.random.default_rng(seed)
    edge = max(leading_eigenvalues(chung_lu(degree, rng), 3)[1] for _ in range(draws))
    return [1 + int(np.sum(observed[1:] > edge * (1 + m))) for m in margins]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--draws", type=int, default=9)
    parser.add_argument("--margins", type=float, nargs="+", default=[0.0, 0.01, 0.02])
    add_generator_arguments(parser)
    args = parser.parse_args()
    groups = list(
        scenarios(args.seeds, args.degree, args.block_size, unequal=args.unequal)
    )
    groups += list(null_graphs(0)) + list(null_graphs(5))
    names = ["auto"] + [f"null+{m:g}" for m in args.margins]
    print(f"{'row':24s} " + " ".join(f"{name:>10s}" for name in names))
    totals = np.zeros(len(names), dtype=int)
    started = time.perf_counter()
    for row, k, graphs in groups:
        hits = np.zeros(len(names), dtype=int)
        for seed, (A, _) in enumerate(graphs):
            A = sparse.csr_array(A, dtype=np.float64)
            auto = SpectralGraphClusterer("auto", random_state=seed).fit(A).n_clusters_
            counts = [auto, *null_counts(A, args.draws, args.margins, 777 + seed)]
            hits += np.array(counts) == k
        totals += hits
        print(
            f"{row:24s} " + " ".join(f"{f'{h}/{len(graphs)}':>10s}" for h in hits),
            flush=True,
        )
    print(f"{'all graphs':24s} " + " ".join(f"{t:>10d}" for t in totals))
    for row, k, [(A, _)] in real_graphs():
        A = sparse.csr_array(A, dtype=np.float64)
        auto = SpectralGraphClusterer("auto", random_state=0).fit(A).n_clusters_
        counts = [auto, *null_counts(A, args.draws, args.margins, 777)]
        print(f"{row + f' ({k})':24s} " + " ".join(f"{c:>10d}" for c in counts))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
