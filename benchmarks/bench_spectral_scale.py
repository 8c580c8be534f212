"""SpectralGraphClusterer against scikit-learn on large sparse graphs.

Degree-corrected block models with 10 equal blocks, Pareto node weights
(exponent 2.5), in/out ratio 8 and mean degree about 15, generated sparse
(edge by edge, never a dense matrix) and restricted to the largest
component. Each fit runs in a fresh process, so that its peak resident
memory (``ru_maxrss``, which includes the graph itself) is its own; a fit
that has not finished within ``--timeout`` seconds is stopped and reported
as such. Usage::

    python benchmarks/bench_spectral_scale.py --nodes 10000 100000 [--sklearn]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

K = 10


def sparse_dcsbm(n, mean_degree, ratio, seed):
    """A sparse DC-SBM with ``n`` nodes in K equal blocks, largest component."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % K
    theta = rng.pareto(1.5, n) + 1.0
    m = int(n * mean_degree / 2)
    # Endpoints: a block, then a node of it with probability proportional
    # to theta; the second end stays in the block with probability
    # ratio / (ratio + K - 1).
    members = [np.flatnonzero(labels == b) for b in range(K)]
    cumulative = [np.cumsum(theta[nodes]) for nodes in members]

    def pick(blocks):
        out = np.empty(blocks.shape[0], dtype=np.int64)
        for b in range(K):
            where = np.flatnonzero(blocks == b)
            draws = rng.random(where.shape[0]) * cumulative[b][-1]
            out[where] = members[b][np.searchsorted(cumulative[b], draws)]
        return out

    first_block = rng.integers(0, K, m)
    same = rng.random(m) < ratio / (ratio + K - 1)
    shift = rng.integers(1, K, m)
    second_block = np.where(same, first_block, (first_block + shift) % K)
    rows, cols = pick(first_block), pick(second_block)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    A = sparse.coo_array(
        (
            np.ones(2 * rows.shape[0]),
            (np.concatenate([rows, cols]), np.concatenate([cols, rows])),
        ),
        shape=(n, n),
    ).tocsr()
    A.data[:] = 1.0
    _, comp = connected_components(A, directed=False)
    core = np.flatnonzero(comp == np.argmax(np.bincount(comp)))
    A = A[core][:, core]
    A.indices = A.indices.astype(np.int32)
    A.indptr = A.indptr.astype(np.int32)
    return A, labels[core]


CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
from scipy import sparse
from sklearn.metrics import adjusted_rand_score
path, method, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = np.load(path)
A = sparse.csr_array(
    (data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"])
)
labels = data["labels"]
start = time.perf_counter()
if method == "sklearn":
    from sklearn.cluster import SpectralClustering
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SpectralClustering(k, affinity="precomputed", random_state=0)
        pred = model.fit(A).labels_
else:
    from skclust import SpectralGraphClusterer
    pred = SpectralGraphClusterer(k, random_state=0).fit(A).labels_
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ari = adjusted_rand_score(labels, pred)
print(json.dumps({"seconds": seconds, "peak_mb": peak, "ari": ari}))
"""


def run_child(path, method, timeout):
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, path, method, str(K)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"stopped": f"not done after {timeout} s"}
    if done.returncode != 0:
        return {"stopped": done.stderr.strip().splitlines()[-1][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--degree", type=float, default=15.0)
    parser.add_argument("--sklearn", action="store_true", help="also fit scikit-learn")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    methods = ["skclust"] + (["sklearn"] if args.sklearn else [])
    print(
        f"{'nodes':>9s} {'edges':>10s} {'method':8s} {'fit s':>8s} "
        f"{'peak MB':>8s} {'ARI':>6s}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for n in args.nodes:
            start = time.perf_counter()
            A, labels = sparse_dcsbm(n, args.degree, 8.0, seed=n)
            made = time.perf_counter() - start
            path = os.path.join(folder, f"g{n}.npz")
            np.savez(
                path,
                data=A.data,
                indices=A.indices,
                indptr=A.indptr,
                shape=np.array(A.shape),
                labels=labels,
            )
            print(
                f"# {n} nodes asked: {A.shape[0]} in the largest component, "
                f"generated in {made:.1f} s",
                flush=True,
            )
            for _ in range(args.repeats):
                # Alternate the methods within each repeat.
                for method in methods:
                    result = run_child(path, method, args.timeout)
                    if "stopped" in result:
                        cells = f"{'-':>8s} {'-':>8s} {'-':>6s}  {result['stopped']}"
                    else:
                        cells = (
                            f"{result['seconds']:8.1f} {result['peak_mb']:8.0f} "
                            f"{result['ari']:6.3f}"
                        )
                    print(
                        f"{A.shape[0]:9d} {A.nnz // 2:10d} {method:8s} {cells}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
