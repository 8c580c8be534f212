"""Bethe Hessian against the non-backtracking spectrum for counting communities.

On the graphs of ``bench_graph_suite.py`` (same generator and seeds), prints
for each graph the count of ``SpectralGraphClusterer("auto")`` (Bethe
Hessian) and the number of real eigenvalues of the non-backtracking matrix
larger than the square root of its leading one (Krzakala et al. 2013), the
count that the Bethe Hessian approximates. The non-backtracking eigenvalues
are those of the 2n x 2n matrix ``[[A, I - D], [I, 0]]`` (Ihara-Bass),
twenty of largest modulus by ARPACK. Usage::

    python benchmarks/bench_count_communities.py [--rows "K=6 equal medium" ...]
"""

import argparse

import numpy as np
from bench_graph_suite import scenarios
from scipy import sparse
from scipy.sparse.linalg import eigs

from skclust import SpectralGraphClusterer

N_EIGEN = 20


def non_backtracking_values(adjacency):
    """The twenty non-backtracking eigenvalues of largest modulus."""
    n = adjacency.shape[0]
    degree = adjacency.sum(axis=1)
    matrix = sparse.block_array(
        [[adjacency, sparse.diags_array(1.0 - degree)], [sparse.eye_array(n), None]]
    ).tocsr()
    return eigs(
        matrix,
        k=min(N_EIGEN, 2 * n - 2),
        which="LM",
        return_eigenvectors=False,
        v0=np.ones(2 * n),
        maxiter=5000,
    )


def count_above_root(values):
    """Real eigenvalues above the root of the leading modulus, and that modulus."""
    lead = float(np.max(np.abs(values)))
    real = values[np.abs(values.imag) < 1e-6 * lead].real
    return int(np.sum(real > np.sqrt(lead))), lead


def non_backtracking_count(adjacency):
    """Real non-backtracking eigenvalues above the root of the leading one."""
    return count_above_root(non_backtracking_values(adjacency))[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rows", nargs="+", help="scenarios, e.g. 'K=6 equal medium'")
    args = parser.parse_args()
    print(f"{'scenario':24s} {'K':>2s}  Bethe Hessian      non-backtracking")
    for name, k, graphs in scenarios(args.seeds, 12.0, 200):
        if args.rows and " ".join(name.split()) not in args.rows:
            continue
        bethe, backtrack = [], []
        for seed, (A, _) in enumerate(graphs):
            A = sparse.csr_array(A, dtype=np.float64)
            auto = SpectralGraphClusterer("auto", random_state=seed).fit(A)
            bethe.append(int(auto.n_clusters_))
            backtrack.append(non_backtracking_count(A))
        print(f"{name:24s} {k:2d}  {bethe!s:18s} {backtrack}", flush=True)


if __name__ == "__main__":
    main()
