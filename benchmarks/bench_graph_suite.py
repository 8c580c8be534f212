"""SpectralGraphClusterer's strategies against scikit-learn on a suite of graphs.

Degree-corrected stochastic block models (Karrer and Newman 2011) with K = 2
to 6 blocks, equal sizes or sizes in the ratio 1 : 2 : 4 (repeated; another
pattern with ``--unequal``), node weights drawn from a Pareto law (power-law
degrees, exponent 2.5), mean degree ``--degree``, and three in/out ratios from
easy to near the detectability limit; ``--seeds`` graphs each. Each graph is
reduced to its largest connected component (a power-law graph this sparse has
isolated nodes, and with components first those would be clusters of their
own). Then Zachary's karate club and, when the study's data are found, the
political blogs (largest component, 1222 blogs).

Every method is scored by ARI and NMI against the planted blocks at k = K;
"auto" is scored by how often its ``n_clusters_`` equals K. A second table
gives the default's ARI minus that of our best other strategy and of
scikit-learn, paired by seed, with a 95% bootstrap interval: with five seeds
a row's mean is known to a few hundredths at best, so the interval says
which gaps are more than the seeds' noise. ``--first-seed`` draws an
independent set of graphs. Usage::

    python benchmarks/bench_graph_suite.py [--seeds 5] [--first-seed 0]
        [--methods default mean-degree divisive normalized reg-unit sklearn]
        [--json out.json]
"""

import argparse
import json
import time
import warnings

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import SpectralClustering
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skclust import SpectralGraphClusterer
from skclust.datasets import load_karate_club, load_political_blogs, study_data_dir

RATIOS = {"easy": 8.0, "medium": 4.0, "hard": 2.0}
METHODS = {
    "default": {},
    "mean-degree": {"regularization": "mean_degree"},
    "divisive": {"strategy": "divisive"},
    "normalized": {"laplacian": "normalized"},
    "reg-unit": {"regularization": "mean_degree", "row_scaling": "unit"},
}


def dcsbm(sizes, mean_degree, ratio, seed):
    """A degree-corrected block model restricted to its largest component."""
    A, labels, _ = dcsbm_with_expectation(sizes, mean_degree, ratio, seed)
    return A, labels


def dcsbm_with_expectation(sizes, mean_degree, ratio, seed):
    """``dcsbm``'s graph and labels, and its edge probabilities ``E[A]``.

    The probabilities are those the edges were drawn with, restricted to the
    same largest component (``bench_detectability.py`` reads their spectrum).
    """
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    n = labels.shape[0]
    theta = rng.pareto(1.5, n) + 1.0
    # Normalize within blocks, so block degrees follow the sizes.
    for b in range(len(sizes)):
        theta[labels == b] /= theta[labels == b].mean()
    # p_ij = theta_i theta_j w_ab with w_in = ratio w_out, mean degree set.
    same = labels[:, None] == labels[None, :]
    shape = np.where(same, ratio, 1.0) * np.outer(theta, theta)
    np.fill_diagonal(shape, 0.0)
    p = np.minimum(shape * (mean_degree * n / shape.sum()), 1.0)
    upper = np.triu(rng.random((n, n)) < p, k=1)
    A = sparse.csr_array((upper | upper.T).astype(np.float64))
    _, comp = connected_components(A, directed=False)
    keep = np.flatnonzero(comp == np.argmax(np.bincount(comp)))
    return A[keep][:, keep], labels[keep], p[np.ix_(keep, keep)]


def block_sizes(k, balance, block_size, unequal=(1, 2, 4)):
    """The suite's block sizes: ``k`` equal blocks, or ``unequal`` repeated."""
    if balance == "equal":
        return [block_size] * k
    ratios = np.resize(np.asarray(unequal, dtype=float), k)
    return list(np.round(ratios / ratios.sum() * block_size * k).astype(int))


def scenarios(seeds, mean_degree, block_size, first_seed=0, unequal=(1, 2, 4)):
    for k in range(2, 7):
        for balance in ("equal", "unequal"):
            sizes = block_sizes(k, balance, block_size, unequal)
            for name, ratio in RATIOS.items():
                graphs = [
                    dcsbm(sizes, mean_degree, ratio, 1000 * k + seed)
                    for seed in range(first_seed, first_seed + seeds)
                ]
                yield f"K={k} {balance:7s} {name}", k, graphs


def real_graphs():
    karate = load_karate_club()
    yield "karate", 2, [(karate.adjacency, karate.labels)]
    if study_data_dir() is not None:
        blogs = load_political_blogs()
        _, comp = connected_components(blogs.adjacency, directed=False)
        keep = np.flatnonzero(comp == np.argmax(np.bincount(comp)))
        yield (
            "polblogs (LCC)",
            2,
            [(blogs.adjacency[keep][:, keep], blogs.labels[keep])],
        )


def fit_labels(method, A, k, seed):
    if method == "sklearn":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (
                SpectralClustering(k, affinity="precomputed", random_state=seed)
                .fit(A)
                .labels_
            )
    return (
        SpectralGraphClusterer(k, random_state=seed, **METHODS[method]).fit(A).labels_
    )


def score_methods(methods, A, labels, k, seed, seconds=None):
    """Each method's (ARI, NMI) at ``k`` on one graph, by method name.

    ``seconds``, a dict of lists by method, receives each fit's time.
    """
    scores = {}
    for m in methods:
        tic = time.perf_counter()
        pred = fit_labels(m, A, k, seed)
        if seconds is not None:
            seconds[m].append(time.perf_counter() - tic)
        scores[m] = (
            adjusted_rand_score(labels, pred),
            normalized_mutual_info_score(labels, pred),
        )
    return scores


def paired_gap(ours, theirs, rng, draws=4000):
    """Mean of ``ours - theirs`` over the seeds and its 95% bootstrap interval.

    With one graph (karate, political blogs) the interval is the gap itself.
    """
    gaps = np.asarray(ours) - np.asarray(theirs)
    if gaps.shape[0] < 2:
        return gaps.mean(), gaps.mean(), gaps.mean()
    means = gaps[rng.integers(0, gaps.shape[0], (draws, gaps.shape[0]))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return gaps.mean(), low, high


def print_gaps(rows, methods):
    """The default's ARI against our best other strategy and scikit-learn.

    The same graphs serve every method, so the gaps are paired by seed; the
    interval says how far the mean of so few seeds can be trusted. ``*``: more
    than 0.01 below; ``!``: the whole interval too (a miss that the seeds'
    noise does not explain).
    """
    others = [m for m in methods if m not in ("default", "sklearn")]
    if "default" not in methods or not others:
        return
    rng = np.random.default_rng(0)
    print("\nDefault minus the best other strategy (ARI, paired by seed, 95% interval)")
    within = above = 0
    for row in rows:
        ari = {m: row[m]["ari_all"] for m in methods}
        best = max(others, key=lambda m: np.mean(ari[m]))
        gap, low, high = paired_gap(ari["default"], ari[best], rng)
        within += gap >= -0.01
        mark = ("*" if gap < -0.01 else "") + ("!" if high < -0.01 else "")
        line = f"{row['scenario']:26s} {best:>12s} {gap:+.3f} "
        line += f"[{low:+.3f}, {high:+.3f}] {mark:2s}"
        if "sklearn" in methods:
            gap, low, high = paired_gap(ari["default"], ari["sklearn"], rng)
            above += gap >= 0
            line += f"   scikit-learn {gap:+.3f} [{low:+.3f}, {high:+.3f}]"
        print(line)
    summary = f"rows within 0.01 of the best: {within} / {len(rows)}"
    if "sklearn" in methods:
        summary += f"; at or above scikit-learn: {above} / {len(rows)}"
    print(summary)


def pooled_rows(paths):
    """The rows of several ``--json`` files, each row's seeds concatenated.

    The block-model rows must be the same in every file, with the same
    methods (runs of the same command with other ``--first-seed``); a
    mismatch raises ValueError. Karate and political blogs, the same graph
    in every run, count once, from the first file that has them. "auto"
    hits are pooled where every file has them.
    """
    pooled = {}
    for path in paths:
        with open(path) as handle:
            rows = json.load(handle)
        models = [r["scenario"] for r in rows if r["scenario"].startswith("K=")]
        if pooled and models != [n for n in pooled if n.startswith("K=")]:
            raise ValueError(f"{path}: other block models than {paths[0]}")
        for row in rows:
            name = row["scenario"]
            if name not in pooled:
                pooled[name] = row
                continue
            into = pooled[name]
            if _methods(into) != _methods(row):
                raise ValueError(f"{path}: other methods than {paths[0]}")
            if not name.startswith("K="):
                continue
            into["n_nodes"] += row["n_nodes"]
            if "auto" in into and "auto" in row:
                into["auto"] += row["auto"]
            else:
                into.pop("auto", None)
            for m in _methods(row):
                into[m]["ari_all"] += row[m]["ari_all"]
                into[m]["nmi_all"] += row[m]["nmi_all"]
    return list(pooled.values())


def _methods(row):
    return [m for m, scores in row.items() if isinstance(scores, dict)]


def print_pooled(paths):
    """``--pool``: mean ARI per method, how often "auto" found K, and the gap
    table, over all the files' graphs."""
    rows = pooled_rows(paths)
    methods = _methods(rows[0])
    print(f"ARI at k = K, mean over the graphs of {len(paths)} runs")
    header = " ".join(f"{m:>12s}" for m in methods)
    print(f"{'scenario':26s} {'graphs':>6s} {header}   auto = K")
    for row in rows:
        means = " ".join(f"{np.mean(row[m]['ari_all']):12.3f}" for m in methods)
        hits = [h == row["K"] for h in row.get("auto", [])]
        found = f"{sum(hits)}/{len(hits)}" if hits else "-"
        print(f"{row['scenario']:26s} {len(row['n_nodes']):6d} {means}   {found}")
    print_gaps(rows, methods)


def add_generator_arguments(parser):
    """``--degree``, ``--block-size`` and ``--unequal``, for ``scenarios``."""
    parser.add_argument("--degree", type=float, default=12.0)
    parser.add_argument("--block-size", type=int, default=200)
    parser.add_argument(
        "--unequal",
        type=float,
        nargs="+",
        default=[1, 2, 4],
        help="relative sizes of the unequal blocks, repeated up to K",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="graphs and random_state from this seed on (an independent set)",
    )
    add_generator_arguments(parser)
    parser.add_argument(
        "--methods", nargs="+", default=["default", "divisive", "sklearn"]
    )
    parser.add_argument("--no-auto", action="store_true")
    parser.add_argument("--json")
    parser.add_argument(
        "--pool",
        nargs="+",
        metavar="JSON",
        help="pool the --json files of earlier runs instead of fitting",
    )
    args = parser.parse_args()
    if args.pool:
        print_pooled(args.pool)
        return
    rows = []
    start = time.perf_counter()
    groups = list(real_graphs()) + list(
        scenarios(
            args.seeds, args.degree, args.block_size, args.first_seed, args.unequal
        )
    )
    header = f"{'scenario':26s} " + " ".join(f"{m:>17s}" for m in args.methods)
    print("ARI / NMI at k = K, mean over seeds")
    print(header + ("   auto hits" if not args.no_auto else ""))
    for name, k, graphs in groups:
        scores = {m: [] for m in args.methods}
        hits = []
        for seed, (A, labels) in enumerate(graphs, start=args.first_seed):
            for m, score in score_methods(args.methods, A, labels, k, seed).items():
                scores[m].append(score)
            if not args.no_auto:
                auto = SpectralGraphClusterer("auto", random_state=seed).fit(A)
                hits.append(int(auto.n_clusters_))
        row = {
            "scenario": name,
            "K": k,
            "n_nodes": [int(A.shape[0]) for A, _ in graphs],
        }
        cells = []
        for m in args.methods:
            ari, nmi = np.mean(scores[m], axis=0)
            row[m] = {
                "ari": float(ari),
                "nmi": float(nmi),
                "ari_all": [s[0] for s in scores[m]],
                "nmi_all": [s[1] for s in scores[m]],
            }
            cells.append(f"{ari:7.3f} / {nmi:6.3f}")
        line = f"{name:26s} " + " ".join(f"{c:>17s}" for c in cells)
        if hits:
            row["auto"] = hits
            line += f"   {sum(h == k for h in hits)}/{len(hits)} {hits}"
        print(line, flush=True)
        rows.append(row)
    print_gaps(rows, args.methods)
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
