"""SpectralGraphClusterer's strategies on LFR benchmark graphs, an outside suite.

The graphs of ``bench_graph_suite.py`` were designed here; the
Lancichinetti-Fortunato-Radicchi benchmark (Lancichinetti, Fortunato and
Radicchi 2008) was not, and it is the standard outside test for community
detection: power-law degrees (exponent ``--tau1``) AND power-law community
sizes (exponent ``--tau2``), each node having a share ``mu`` of its links
outside its community. Graphs from networkx's ``LFR_benchmark_graph`` with
``n`` nodes, average degree ``--degree``, largest degree and largest
community ``n / 10`` unless set, smallest community ``--min-community``, for
each ``mu`` in ``--mu``; ``--seeds`` graphs each. The generator fails to
converge for some seeds: the next seed is tried, and each row says how many
were skipped. Each graph is reduced to its largest connected component; its
communities (disjoint here) are the planted labels, and K is the number of
them with a node left in that component.

Every method is scored by ARI and NMI against the planted communities at
k = K (means over the seeds); in a method's cell ``*`` marks a mean more than
0.01 below our best strategy in that row, ``!`` one below scikit-learn's
``SpectralClustering(affinity="precomputed")``. ``n_clusters="auto"`` is
scored by how often its ``n_clusters_`` equals K and its median
``|n_clusters_ - K|``. Then the default's ARI minus that of our best other
strategy and of scikit-learn, paired by seed with a 95% bootstrap interval
(``bench_graph_suite.print_gaps``), and the mean seconds per fit. Usage::

    pip install ".[bench]"
    python benchmarks/bench_lfr.py [--seeds 5] [--first-seed 0] [--n 1000]
        [--tau1 2.5 3] [--degree 15 8] [--mu 0.1 0.2 0.3 0.4 0.5 0.6]
        [--methods default divisive normalized mean-degree reg-unit sklearn]
        [--no-auto] [--json out.json]

networkx is only needed here, never at run time.
"""

import argparse
import json
import sys
import time

import numpy as np
from bench_graph_suite import METHODS, paired_gap, print_gaps, score_methods
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from skclust import SpectralGraphClusterer

try:
    from networkx import ExceededMaxIterations
    from networkx.generators.community import LFR_benchmark_graph
except ImportError:
    LFR_benchmark_graph = None

MUS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def lfr_graph(params, seed):
    """One LFR graph's largest component and its planted communities.

    ``params`` are ``LFR_benchmark_graph``'s keywords besides the seed. The
    adjacency is CSR with 32-bit indices (scikit-learn's spectral embedding
    refuses 64-bit ones); the labels are ``0 .. K - 1``, K the number of
    communities with a node in the component. Raises networkx's
    ``ExceededMaxIterations`` when the generator does not converge.
    """
    graph = LFR_benchmark_graph(seed=seed, **params)
    n = graph.number_of_nodes()
    community_of = {}
    labels = np.empty(n, dtype=np.intp)
    for node, data in graph.nodes(data=True):
        members = frozenset(data["community"])
        labels[node] = community_of.setdefault(members, len(community_of))
    if sum(len(members) for members in community_of) != n:
        raise RuntimeError(f"LFR seed {seed}: the communities overlap")
    edges = np.array(graph.edges(), dtype=np.int32).reshape(-1, 2)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    A = sparse.coo_array((np.ones(rows.shape[0]), (rows, cols)), shape=(n, n))
    A = sparse.csr_array(A)
    _, comp = connected_components(A, directed=False)
    keep = np.flatnonzero(comp == np.argmax(np.bincount(comp)))
    A = A[keep][:, keep]
    A.indices = A.indices.astype(np.int32)
    A.indptr = A.indptr.astype(np.int32)
    _, labels = np.unique(labels[keep], return_inverse=True)
    return A, labels


def lfr_graphs(params, count, first_seed):
    """``count`` LFR graphs from seed ``first_seed`` on, and the seeds skipped.

    A seed whose generation does not converge is skipped and the next one
    tried; returns the ``(A, labels)`` pairs, their seeds and the number
    skipped.
    """
    graphs, seeds, skipped = [], [], 0
    seed = first_seed
    while len(graphs) < count:
        try:
            graphs.append(lfr_graph(params, seed))
            seeds.append(seed)
        except ExceededMaxIterations:
            skipped += 1
            if skipped > 10 * count:
                raise RuntimeError(
                    f"LFR generation failed for {skipped} seeds with {params}"
                ) from None
        seed += 1
    return graphs, seeds, skipped


def scenarios(args):
    """Each row's name and ``LFR_benchmark_graph`` keywords, from the arguments."""
    for n in args.n:
        for tau1 in args.tau1:
            for degree in args.degree:
                for mu in args.mu:
                    params = {
                        "n": n,
                        "tau1": tau1,
                        "tau2": args.tau2,
                        "mu": mu,
                        "average_degree": degree,
                        "max_degree": args.max_degree or n // 10,
                        "min_community": args.min_community,
                        "max_community": args.max_community or n // 10,
                    }
                    name = f"n={n} t1={tau1:g} d={degree:g} mu={mu:g}"
                    yield name, params


def cell_marks(ari, ours):
    """``*`` and ``!`` per method: below our best by 0.01, below scikit-learn."""
    best = max(ari[m] for m in ours)
    marks = {}
    for m in ari:
        mark = "*" if m in ours and ari[m] < best - 0.01 else ""
        if m in ours and "sklearn" in ari and ari[m] < ari["sklearn"]:
            mark += "!"
        marks[m] = mark
    return marks


def print_counts(rows, methods):
    """How many rows each of default and divisive is near our best and above."""
    ours = [m for m in methods if m != "sklearn"]
    for m in ("default", "divisive"):
        if m not in methods:
            continue
        within = sum(
            row[m]["ari"] >= max(row[o]["ari"] for o in ours) - 0.01 for row in rows
        )
        line = f"{m}: rows within 0.01 of our best {within} / {len(rows)}"
        if "sklearn" in methods:
            above = sum(row[m]["ari"] >= row["sklearn"]["ari"] for row in rows)
            line += f"; rows >= scikit-learn {above} / {len(rows)}"
        print(line)


def print_divisive_gap(rows, methods):
    """The default's ARI minus the divisive strategy's, paired by seed."""
    if "default" not in methods or "divisive" not in methods:
        return
    rng = np.random.default_rng(1)
    print("\nDefault minus divisive (ARI, paired by seed, 95% interval)")
    for row in rows:
        gap, low, high = paired_gap(
            row["default"]["ari_all"], row["divisive"]["ari_all"], rng
        )
        print(f"{row['scenario']:26s} {gap:+.3f} [{low:+.3f}, {high:+.3f}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="generator seeds from this one on (an independent set)",
    )
    parser.add_argument("--n", type=int, nargs="+", default=[1000])
    parser.add_argument("--tau1", type=float, nargs="+", default=[2.5, 3.0])
    parser.add_argument("--tau2", type=float, default=1.5)
    parser.add_argument("--degree", type=float, nargs="+", default=[15.0, 8.0])
    parser.add_argument("--mu", type=float, nargs="+", default=list(MUS))
    parser.add_argument(
        "--max-degree", type=int, help="largest degree (default n / 10)"
    )
    parser.add_argument("--min-community", type=int, default=20)
    parser.add_argument(
        "--max-community", type=int, help="largest community (default n / 10)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=[*METHODS, "sklearn"],
        default=[*METHODS, "sklearn"],
    )
    parser.add_argument("--no-auto", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if LFR_benchmark_graph is None:
        sys.exit(
            "bench_lfr.py needs networkx for LFR_benchmark_graph: "
            'pip install ".[bench]" (or pip install networkx)'
        )
    ours = [m for m in args.methods if m != "sklearn"]
    if not ours:
        sys.exit("bench_lfr.py: --methods needs at least one of our strategies")
    rows = []
    seconds = {m: [] for m in args.methods}
    start = time.perf_counter()
    print("ARI / NMI at k = K, mean over seeds (* > 0.01 below our best, ! below")
    print("scikit-learn); K: range over the seeds; auto: n_clusters_ = K, median")
    print("|n_clusters_ - K|")
    header = f"{'scenario':26s} {'K':>7s} {'skip':>4s} "
    header += " ".join(f"{m:>15s}" for m in args.methods)
    print(header + ("   auto" if not args.no_auto else ""))
    total_skipped = 0
    for name, params in scenarios(args):
        graphs, seeds, skipped = lfr_graphs(params, args.seeds, args.first_seed)
        total_skipped += skipped
        ks = [int(labels.max()) + 1 for _, labels in graphs]
        scores = {m: [] for m in args.methods}
        found = []
        for seed, (A, labels), k in zip(seeds, graphs, ks, strict=True):
            scored = score_methods(args.methods, A, labels, k, seed, seconds)
            for m, score in scored.items():
                scores[m].append(score)
            if not args.no_auto:
                auto = SpectralGraphClusterer("auto", random_state=seed).fit(A)
                found.append(int(auto.n_clusters_))
        row = {
            "scenario": name,
            "params": params,
            "seeds": seeds,
            "skipped": skipped,
            "K": ks,
            "n_nodes": [int(A.shape[0]) for A, _ in graphs],
        }
        for m in args.methods:
            ari, nmi = np.mean(scores[m], axis=0)
            row[m] = {
                "ari": float(ari),
                "nmi": float(nmi),
                "ari_all": [s[0] for s in scores[m]],
                "nmi_all": [s[1] for s in scores[m]],
            }
        marks = cell_marks({m: row[m]["ari"] for m in args.methods}, ours)
        cells = [
            f"{row[m]['ari']:.3f}/{row[m]['nmi']:.3f}{marks[m]:2s}"
            for m in args.methods
        ]
        line = f"{name:26s} {min(ks):3d}-{max(ks):3d} {skipped:4d} "
        line += " ".join(f"{c:>15s}" for c in cells)
        if found:
            row["auto"] = found
            hits = sum(f == k for f, k in zip(found, ks, strict=True))
            off = np.median(np.abs(np.subtract(found, ks)))
            line += f"   {hits}/{len(found)} {off:g}"
        print(line, flush=True)
        rows.append(row)
    print()
    print_counts(rows, args.methods)
    print(f"generation skipped {total_skipped} seeds (did not converge)")
    print_gaps(rows, args.methods)
    print_divisive_gap(rows, args.methods)
    print("\nmean seconds per fit: ", end="")
    print(", ".join(f"{m} {np.mean(seconds[m]):.2f}" for m in args.methods))
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
