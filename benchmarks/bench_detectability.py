"""Where the graph suite's rows sit against the detectability limit.

For sparse inhomogeneous random graphs (Bordenave, Lelarge and Massoulie
2015; for degree-corrected block models Gulikers, Lelarge and Massoulie
2017) an eigenvalue ``mu_j`` of the expected adjacency ``P = E[A]`` shows in
the non-backtracking spectrum, and so to counts such as the Bethe Hessian's,
when ``mu_j ** 2 > mu_1`` (the Kesten-Stigum limit; ``mu_1`` the Perron
eigenvalue). On the graphs of ``bench_graph_suite.py`` (same generator and
seeds), ``P`` is rebuilt exactly from the generator's probabilities (capped
at 1, zero diagonal), restricted to the largest component as the suite uses
it, and ``SNR_j = mu_j ** 2 / mu_1`` is computed for its top eigenvalues
``j = 2..K`` (dense ``eigh``). Per row it prints the median and range over
the seeds of ``SNR_K`` (the weakest direction; a count read from the
spectrum can reach K only when it is above 1) and how many of the ``K - 1``
directions are above 1; on the realized graphs, how often
``SpectralGraphClusterer("auto")`` (Bethe Hessian) and the count of real
non-backtracking eigenvalues above the root of the leading one
(``bench_count_communities.py``) find K, and how often that count equals
the Kesten-Stigum count (every eigenvalue of ``P`` above ``sqrt(mu_1)``).
Also per row: the median node count, mean expected degree ``c``,
``Phi = E[d^2] / E[d]^2`` of the expected degrees, the leading
non-backtracking eigenvalue over ``mu_1``, the largest ``SNR_{K+1}`` (the
cap at 1 on hub pairs gives ``P`` directions besides the planted ones) and
the least alignment of the top K eigenvectors with the planted subspace
(mean squared cosine; 1 when they span it).
Usage::

    python benchmarks/bench_detectability.py [--seeds 10] [--first-seed 0]
        [--rows "K=6 equal medium" ...] [--json out.json]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from bench_count_communities import count_above_root, non_backtracking_values
from bench_graph_suite import (
    RATIOS,
    add_generator_arguments,
    block_sizes,
    dcsbm_with_expectation,
)
from scipy.linalg import eigh

from skclust import SpectralGraphClusterer


def leading_eigenpairs(probabilities, count):
    """The ``count`` largest eigenvalues of a symmetric matrix and their vectors.

    Largest first.
    """
    n = probabilities.shape[0]
    count = min(count, n)
    values, vectors = eigh(probabilities, subset_by_index=[n - count, n - 1])
    return values[::-1], vectors[:, ::-1]


def planted_alignment(vectors, labels):
    """Mean squared cosine between the span of ``vectors`` and the blocks'.

    ``E[A]`` is close to ``diag(phi) W diag(phi)`` with ``W`` constant on
    pairs of blocks and ``phi`` the node weights as the cap at 1 on hub pairs
    leaves them; its Perron vector (``vectors[:, 0]``) is then ``phi`` times
    a constant per block, so restricting it to each block spans the planted
    subspace without knowing ``phi``. 1 when ``vectors`` span it.
    """
    perron = np.abs(vectors[:, 0])
    blocks = np.unique(labels)
    basis = np.stack([np.where(labels == b, perron, 0.0) for b in blocks], axis=1)
    basis = np.linalg.qr(basis)[0]
    return float(np.sum((basis.T @ vectors) ** 2) / vectors.shape[1])


def detectability(probabilities, labels, k, spare=8):
    """Kesten-Stigum figures of ``E[A]`` for a graph with ``k`` blocks.

    ``snr`` holds ``mu_j ** 2 / mu_1`` for ``j = 2 .. k``, the top ``k``
    eigenvalues: a count of communities read from the spectrum can reach
    ``k`` only when all of them are above 1. Those are the planted
    directions as far as ``alignment`` is near 1; the zero diagonal and the
    capped probabilities of hub pairs add directions of their own, the
    largest being ``snr_next``. ``above_all`` counts every eigenvalue above
    ``sqrt(mu_1)``, the Perron one included: what the non-backtracking
    spectrum shows in the limit of large graphs; ``snr_top`` is ``SNR_j``
    for every ``j >= 2`` computed.
    """
    mu, vectors = leading_eigenpairs(probabilities, k + spare)
    snr = mu**2 / mu[0]
    return {
        "mu_1": float(mu[0]),
        "snr": snr[1:k],
        "snr_top": snr[1:],
        "snr_next": float(snr[k]) if snr.shape[0] > k else 0.0,
        "above_all": int(np.sum(snr > 1.0)),
        "alignment": planted_alignment(vectors[:, :k], labels),
    }


def degree_spread(probabilities):
    """``Phi = E[d^2] / E[d]^2`` of the expected degrees, and their mean."""
    degree = probabilities.sum(axis=1)
    return float(np.mean(degree**2) / np.mean(degree) ** 2), float(degree.mean())


def missed_direction(snr_top, count, above_all):
    """``SNR`` of the strongest direction above the limit a count leaves out.

    ``None`` when the count is not short of the directions above the limit.
    """
    if count >= above_all or count - 1 >= snr_top.shape[0]:
        return None
    return float(snr_top[count - 1])


def measure_graph(sizes, mean_degree, ratio, seed, random_state):
    """Every figure of one graph, as a dict of plain numbers."""
    k = len(sizes)
    A, labels, probabilities = dcsbm_with_expectation(sizes, mean_degree, ratio, seed)
    limit = detectability(probabilities, labels, k)
    phi, degree = degree_spread(probabilities)
    count, lead = count_above_root(non_backtracking_values(A))
    auto = SpectralGraphClusterer("auto", random_state=random_state).fit(A)
    return {
        "n_nodes": int(A.shape[0]),
        "mean_degree": degree,
        "phi": phi,
        "mu_1": limit["mu_1"],
        "rho_b": lead,
        "snr": [float(s) for s in limit["snr"]],
        "snr_next": limit["snr_next"],
        "missed": missed_direction(limit["snr_top"], count, limit["above_all"]),
        "alignment": limit["alignment"],
        "above": int(np.sum(limit["snr"] > 1.0)),
        "above_all": limit["above_all"],
        "non_backtracking": count,
        "auto": int(auto.n_clusters_),
    }


def median_range(values, digits=2):
    """``median [min, max]`` as text."""
    values = np.asarray(values, dtype=float)
    return (
        f"{np.median(values):.{digits}f} "
        f"[{values.min():.{digits}f}, {values.max():.{digits}f}]"
    )


def row_line(name, k, graphs):
    """One row of the table: the figures of its graphs, summarized."""
    snr_k = [g["snr"][-1] for g in graphs]
    above = [g["above"] for g in graphs]
    auto = [g["auto"] for g in graphs]
    backtrack = [g["non_backtracking"] for g in graphs]
    agree = sum(g["non_backtracking"] == g["above_all"] for g in graphs)
    cells = [
        f"{name:20s}",
        f"{np.median([g['n_nodes'] for g in graphs]):5.0f}",
        f"{np.median([g['mean_degree'] for g in graphs]):5.1f}",
        f"{median_range([g['phi'] for g in graphs]):18s}",
        f"{np.median([g['rho_b'] / g['mu_1'] for g in graphs]):6.3f}",
        f"{np.median([g['snr'][0] for g in graphs]):6.2f}",
        f"{median_range(snr_k):18s}",
        f"{sum(s > 1.0 for s in snr_k):2d}/{len(graphs)}",
        f"{max(g['snr_next'] for g in graphs):5.2f}",
        f"{min(g['alignment'] for g in graphs):5.2f}",
        f"{np.median(above):3.0f}/{k - 1} [{min(above)}, {max(above)}]",
        f"{sum(a == k for a in auto):2d}/{len(graphs)} {auto}",
        f"{sum(b == k for b in backtrack):2d}/{len(graphs)} {backtrack}",
        f"{agree:2d}/{len(graphs)}",
    ]
    return "  ".join(cells)


def print_summary(rows):
    """Totals over every graph: hits above and below the limit, and more."""
    graphs = [(row["K"], g) for row in rows for g in row["graphs"]]
    above = np.array([g["snr"][-1] > 1.0 for _, g in graphs])
    auto = np.array([g["auto"] == k for k, g in graphs])
    backtrack = np.array([g["non_backtracking"] == k for k, g in graphs])
    short = sum(g["non_backtracking"] < g["above_all"] for _, g in graphs)
    over = sum(g["non_backtracking"] > g["above_all"] for _, g in graphs)
    missed = [g["missed"] for _, g in graphs if g["missed"] is not None]
    print(
        f"\n{len(graphs)} graphs, {above.sum()} with SNR_K > 1. K found above / "
        f"below the limit: auto {np.sum(auto & above)} / {np.sum(auto & ~above)}, "
        f"non-backtracking {np.sum(backtrack & above)} / "
        f"{np.sum(backtrack & ~above)}"
    )
    line = (
        f"non-backtracking count below / above the Kesten-Stigum one: {short} / {over}"
    )
    if missed:
        line += f"; SNR of the strongest direction it misses {median_range(missed)}"
    print(line)
    print(
        f"Phi {median_range([g['phi'] for _, g in graphs])}; graphs with "
        f"SNR_(K+1) > 1: {sum(g['snr_next'] > 1.0 for _, g in graphs)}, "
        f"with alignment < 0.9: {sum(g['alignment'] < 0.9 for _, g in graphs)}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    add_generator_arguments(parser)
    parser.add_argument("--rows", nargs="+", help="scenarios, e.g. 'K=6 equal medium'")
    parser.add_argument("--json")
    args = parser.parse_args()
    print(
        "  ".join(
            [
                f"{'scenario':20s}",
                f"{'n':>5s}",
                f"{'c':>5s}",
                f"{'Phi [range]':18s}",
                f"{'rhoB/mu1':>6s}",
                f"{'SNR_2':>6s}",
                f"{'SNR_K [range]':18s}",
                f"{'>1':>5s}",
                f"{'K+1':>5s}",
                f"{'align':>5s}",
                "above [range], auto = K, non-backtracking = K, NB = KS count",
            ]
        )
    )
    rows = []
    start = time.perf_counter()
    for k in range(2, 7):
        for balance in ("equal", "unequal"):
            sizes = block_sizes(k, balance, args.block_size, args.unequal)
            for level, ratio in RATIOS.items():
                name = f"K={k} {balance} {level}"
                if args.rows and name not in args.rows:
                    continue
                graphs = [
                    measure_graph(sizes, args.degree, ratio, 1000 * k + seed, seed)
                    for seed in range(args.first_seed, args.first_seed + args.seeds)
                ]
                print(row_line(name, k, graphs), flush=True)
                rows.append({"scenario": name, "K": k, "graphs": graphs})
    print_summary(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
