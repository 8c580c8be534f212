"""``n_clusters="auto"`` on weighted graphs: the weighted Bethe Hessian.

Planted block models (K = 2 to 5 blocks of 60 nodes, edge probabilities
0.25 inside and 0.03 between blocks) whose edges get weights from several
laws that know nothing of the blocks (uniform, exponential, Pareto,
log-normal, one edge 20 times heavier than the rest, a scale of 10^6), then
graphs whose weights carry the blocks (exponential, mean 2 inside and 1
between on a dense graph; 3 and 1 on a sparse one, where the edges alone
show no blocks), then the karate club with and without one weight doubled.
Each graph is counted three ways:

- ``auto``: the library (the weighted Bethe Hessian where weights differ,
  ``--caps`` the largest coupling ``beta w`` allowed);
- ``largest``: the previous release, the unweighted Bethe Hessian on the
  weights divided by the largest one;
- ``binary``: the unweighted Bethe Hessian of the edges, weights ignored.

It prints how often each finds K. Usage::

    python benchmarks/bench_weighted_count.py [--seeds 3] [--caps 2 3 5]
"""

import argparse
import time
from contextlib import contextmanager

import numpy as np
from scipy import sparse

import skclust._spectral._laplacian as laplacian
from skclust import SpectralGraphClusterer
from skclust.datasets import load_karate_club

LAWS = {
    "none": lambda rng, same: np.ones(same.shape),
    "uniform(0.1, 1)": lambda rng, same: rng.uniform(0.1, 1.0, same.shape),
    "exponential": lambda rng, same: rng.exponential(1.0, same.shape),
    "Pareto (shape 2)": lambda rng, same: 1.0 + rng.pareto(2.0, same.shape),
    "log-normal (sigma 1)": lambda rng, same: rng.lognormal(0.0, 1.0, same.shape),
    "log-normal (sigma 2)": lambda rng, same: rng.lognormal(0.0, 2.0, same.shape),
    "one edge x20": lambda rng, same: np.r_[20.0, np.ones(same.shape[0] - 1)],
    "exponential x1e6": lambda rng, same: 1e6 * rng.exponential(1.0, same.shape),
}
# Graphs whose weights carry the blocks: (p_in, p_out, mean_in, mean_out).
INFORMATIVE = {
    "dense, weights 2:1": (0.6, 0.6, 2.0, 1.0),
    "sparse, weights 3:1": (0.1, 0.1, 3.0, 1.0),
}


def planted(rng, k, p_in, p_out, law):
    """A symmetric weighted block model with blocks of 60 nodes."""
    labels = np.repeat(np.arange(k), 60)
    same = labels[:, None] == labels[None, :]
    upper = np.triu(rng.random(same.shape) < np.where(same, p_in, p_out), 1)
    rows, cols = np.nonzero(upper)
    weights = law(rng, labels[rows] == labels[cols])
    graph = sparse.coo_array((weights, (rows, cols)), shape=same.shape)
    return (graph + graph.T).tocsr()


def unweighted_hessian(adjacency):
    """The previous release's Hessian: ``(r^2 - 1) I - r A + D``, any weights."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    r = np.sqrt(max(float(degree.mean()), 1.0 + 1e-6))
    graph = sparse.csr_array(adjacency)
    return (sparse.diags_array(r * r - 1.0 + degree) - r * graph).tocsr()


def binary_hessian(adjacency):
    graph = sparse.csr_array(adjacency, copy=True)
    graph.eliminate_zeros()
    graph.data[:] = 1.0
    return unweighted_hessian(graph)


@contextmanager
def patched(name, value):
    saved = getattr(laplacian, name)
    setattr(laplacian, name, value)
    try:
        yield
    finally:
        setattr(laplacian, name, saved)


def counts(graph, caps):
    """``{method: count}`` for one graph."""
    result = {}
    for cap in caps:
        with patched("_MAX_COUPLING", cap):
            fitted = SpectralGraphClusterer("auto", random_state=0).fit(graph)
        result[f"auto (cap {cap:g})"] = fitted.n_clusters_
    for name, hessian in (("largest", unweighted_hessian), ("binary", binary_hessian)):
        with patched("_bethe_hessian", hessian):
            fitted = SpectralGraphClusterer("auto", random_state=0).fit(graph)
        result[name] = fitted.n_clusters_
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="graphs per K")
    parser.add_argument("--caps", type=float, nargs="+", default=[3.0])
    args = parser.parse_args()
    methods = [f"auto (cap {cap:g})" for cap in args.caps] + ["largest", "binary"]
    print(f"{'weights':24s} " + " ".join(f"{m:>14s}" for m in methods))
    started = time.perf_counter()
    groups = [(name, 0.25, 0.03, law) for name, law in LAWS.items()]
    for name, (p_in, p_out, mean_in, mean_out) in INFORMATIVE.items():

        def law(rng, same, mean_in=mean_in, mean_out=mean_out):
            return rng.exponential(np.where(same, mean_in, mean_out))

        groups.append((name, p_in, p_out, law))
    for name, p_in, p_out, law in groups:
        hits = dict.fromkeys(methods, 0)
        total = 0
        for k in range(2, 6):
            for seed in range(args.seeds):
                rng = np.random.default_rng(1000 * k + seed)
                found = counts(planted(rng, k, p_in, p_out, law), args.caps)
                for m in methods:
                    hits[m] += found[m] == k
                total += 1
        print(
            f"{name:24s} " + " ".join(f"{f'{hits[m]}/{total}':>14s}" for m in methods),
            flush=True,
        )
    karate = sparse.csr_array(load_karate_club().adjacency, dtype=np.float64)
    doubled = karate.tolil()
    doubled[0, 1] = doubled[1, 0] = 2.0
    for name, graph in (("karate (2)", karate), ("karate, one doubled", doubled)):
        found = counts(sparse.csr_array(graph), args.caps)
        print(f"{name:24s} " + " ".join(f"{found[m]:>14d}" for m in methods))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
