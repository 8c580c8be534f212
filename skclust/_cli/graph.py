"""``skclust graph``: spectral clustering of a labelled graph, and its mismatch.

For each k the nodes are clustered with ``SpectralGraphClusterer`` and every
cluster is given its majority label; the per-cluster mismatch tables, the
overall rates, the tuning curve (overall rate against k) and the chosen k are
printed and written. One eigendecomposition serves every k
(``sweep_n_clusters``).
"""

import argparse
import contextlib
import io
import json
import time
from dataclasses import dataclass, field

from .._spectral import SpectralGraphClusterer, sweep_n_clusters
from ..datasets import load_karate_club, read_graph, study_data_dir, study_file
from ..metrics import majority_label_mismatch, majority_label_summary
from ._common import add_run_arguments, positive_int
from ._output import (
    markdown_table,
    prepare_output_dir,
    save_figure,
    write_table,
    write_text,
)
from ._report import Column, Section

STUDY_KS = (2, 5, 10, 30, 50)
DEFAULT_TUNE = (2, 20)
LAPLACIANS = ("regularized", "normalized")
STRATEGIES = ("divisive", "kmeans")
CLUSTER_COLUMNS = ["cluster", "size", "majority_label", "mismatches", "mismatch_rate"]


def _k_range(text):
    """``A:B`` (inclusive) as a tuple, with 1 <= A <= B."""
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range A:B such as 2:20")
    low, high = (positive_int(part) for part in parts)
    if low > high:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the range is empty ({low} > {high})"
        )
    return low, high


def add_parser(commands):
    parser = commands.add_parser(
        "graph",
        help="spectral clustering of a labelled graph and its majority-label mismatch",
        description="Cluster the nodes of a labelled graph with "
        "SpectralGraphClusterer for each k, give each cluster its majority "
        "label, and print and write the per-cluster mismatch tables, the overall "
        "rates, the tuning curve and the k with the lowest rate. The graph is "
        "--nodes/--edges, else the political blogs from --data or SKCLUST_DATA, "
        "else the embedded karate club.",
    )
    parser.add_argument("--nodes", help="nodes file: id, name, label[, source]")
    parser.add_argument("--edges", help="edges file: two node ids per line")
    parser.add_argument(
        "-k",
        "--n-clusters",
        type=positive_int,
        nargs="+",
        metavar="K",
        help="numbers of clusters (default 2 5 10 30 50, keeping those at most "
        "half the number of nodes)",
    )
    parser.add_argument(
        "--tune",
        type=_k_range,
        metavar="A:B",
        help="range of k for the tuning curve (default 2:20, capped at half the "
        "number of nodes)",
    )
    parser.add_argument(
        "--laplacian",
        choices=LAPLACIANS,
        default="regularized",
        help="regularized (default; SCORE ratios) or the plain normalized Laplacian",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="divisive",
        help="divisive (default; extra clusters split the communities the "
        "spectrum shows) or kmeans (k-means on k eigenvectors)",
    )
    parser.add_argument(
        "--keep-isolated",
        action="store_true",
        help="keep nodes without edges (by default they are removed)",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        metavar="N",
        help="k-means runs per k (default: one k-means++ run)",
    )
    add_run_arguments(
        parser,
        out="skclust-graph",
        data_help="folder with the study's nodes.txt and edges.txt",
    )
    parser.set_defaults(run=run)


def load_study_graph(nodes=None, edges=None, data=None, *, remove_isolated=True):
    """The graph of a run: given files, else political blogs, else karate.

    Returns
    -------
    graph : GraphData
    inputs : tuple of Path
        The files read (none for the embedded graph).
    """
    if (nodes is None) != (edges is None):
        raise ValueError("--nodes and --edges go together: give both or neither")
    if nodes is not None:
        graph = read_graph(nodes, edges, remove_isolated=remove_isolated)
        return graph, (nodes, edges)
    if study_data_dir(data) is None:
        return load_karate_club(remove_isolated=remove_isolated), ()
    nodes, edges = study_file("nodes.txt", data), study_file("edges.txt", data)
    graph = read_graph(nodes, edges, remove_isolated=remove_isolated)
    graph.source = "political blogs"
    return graph, (nodes, edges)


def _default_ks(graph):
    return [k for k in STUDY_KS if k <= graph.n_nodes // 2] or [min(2, graph.n_nodes)]


def _default_tune(graph):
    high = min(DEFAULT_TUNE[1], max(graph.n_nodes // 2, DEFAULT_TUNE[0]))
    return DEFAULT_TUNE[0], high


@dataclass
class GraphStudy:
    """What one method gave on a graph: tables per k and the tuning curve."""

    laplacian: str
    ks: list
    tables: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    seconds: float = 0.0
    tune_ks: list = field(default_factory=list)
    strategy: str = "divisive"

    @property
    def name(self):
        """The Laplacian, and the strategy when it is not the default."""
        if self.strategy == "divisive":
            return self.laplacian
        return f"{self.laplacian}, {self.strategy}"

    def rate(self, k):
        return self.tables[k].overall_rate

    @property
    def best_k(self):
        """The tuned k: lowest overall rate, the smallest k on a tie."""
        return min(self.tune_ks, key=lambda k: (self.rate(k), k))

    def overall_rows(self):
        return [
            {
                "k": k,
                "mismatches": self.tables[k].n_mismatches,
                "nodes": self.tables[k].n_samples,
                "overall_mismatch_rate": round(self.rate(k), 6),
            }
            for k in self.ks
        ]

    def tuning_rows(self):
        return [
            {"k": k, "overall_mismatch_rate": round(self.rate(k), 6)}
            for k in self.tune_ks
        ]


def run_study(graph, ks, tune, laplacian, seed, n_init, log, strategy="divisive"):
    """Fit every k of ``ks`` and of the ``tune`` range from one spectrum.

    Returns
    -------
    GraphStudy
    """
    if graph.labels is None:
        raise ValueError(f"{graph.source}: the graph has no labels to compare with")
    tune_ks = list(range(tune[0], tune[1] + 1)) if tune else []
    all_ks = sorted(set(ks) | set(tune_ks))
    largest = max(all_ks)
    if largest > graph.n_nodes:
        raise ValueError(
            f"k={largest} is larger than the number of nodes ({graph.n_nodes}) of "
            f"{graph.source}"
        )
    estimator = SpectralGraphClusterer(
        laplacian=laplacian,
        strategy=strategy,
        n_init=n_init or "auto",
        random_state=seed,
    )
    start = time.perf_counter()
    fits = sweep_n_clusters(estimator, graph.adjacency, all_ks)
    seconds = time.perf_counter() - start
    study = GraphStudy(
        laplacian, list(ks), seconds=seconds, tune_ks=tune_ks, strategy=strategy
    )
    for k, fit in zip(all_ks, fits, strict=True):
        table = majority_label_mismatch(graph.labels, fit.labels_)
        study.tables[k] = table
        study.labels[k] = fit.labels_
        log(
            f"{study.name} k={k}: overall mismatch {100 * table.overall_rate:.2f}% "
            f"({table.n_mismatches} of {table.n_samples} nodes)"
        )
    log(
        f"{study.name}: {len(all_ks)} fits from one eigendecomposition in "
        f"{seconds:.2f} s"
    )
    return study


def plot_tuning(studies, title):
    """Overall mismatch against k for each study, the tuned k marked."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6, 3.8), layout="constrained")
    ax = figure.add_subplot()
    for study, colour in zip(studies, ("tab:blue", "tab:orange"), strict=False):
        rates = [100 * study.rate(k) for k in study.tune_ks]
        ax.plot(study.tune_ks, rates, "o-", color=colour, label=study.name)
        best = study.best_k
        ax.plot(
            [best],
            [100 * study.rate(best)],
            "o",
            markersize=13,
            markerfacecolor="none",
            markeredgecolor="tab:red",
            label=f"{study.name}: tuned k = {best}",
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("overall mismatch (%)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return figure


def write_study(study, graph, out):
    """Write tables, the study-shaped JSON and the tuning plot under ``out``."""
    prefix = "" if study.laplacian == "regularized" else f"{study.laplacian}_"
    for k in study.ks:
        write_table(
            study.tables[k].to_rows(), CLUSTER_COLUMNS, out / f"{prefix}mismatch_k{k}"
        )
    columns = ["k", "mismatches", "nodes", "overall_mismatch_rate"]
    write_table(study.overall_rows(), columns, out / f"{prefix}overall")
    summaries = {
        str(k): majority_label_summary(graph.labels, study.labels[k]) for k in study.ks
    }
    write_text(out / f"{prefix}majority_labels.json", json.dumps(summaries, indent=2))
    if study.tune_ks:
        write_table(
            study.tuning_rows(), ["k", "overall_mismatch_rate"], out / f"{prefix}tuning"
        )


def run(args):
    if args.quiet:  # errors only: they are raised, and printed by main
        with contextlib.redirect_stdout(io.StringIO()):
            return _run(args)
    return _run(args)


def _run(args):
    graph, inputs = load_study_graph(
        args.nodes, args.edges, args.data, remove_isolated=not args.keep_isolated
    )
    print(graph.summary())
    ks = args.n_clusters or _default_ks(graph)
    tune = args.tune or _default_tune(graph)
    study = run_study(
        graph, ks, tune, args.laplacian, args.seed, args.n_init, print, args.strategy
    )
    for k in study.ks:
        table = study.tables[k]
        print(
            f"\nk = {k}: overall mismatch rate {table.overall_rate:.4f} "
            f"({table.n_mismatches} of {table.n_samples})"
        )
        print(markdown_table(table.to_rows(), CLUSTER_COLUMNS), end="")
    best = study.best_k
    print(
        f"\ntuned k over {tune[0]}..{tune[1]}: {best} (overall mismatch rate "
        f"{study.rate(best):.4f})"
    )
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)
    write_study(study, graph, out)
    save_figure(
        plot_tuning([study], f"{graph.source}: tuning k"), out / "tuning.png", dpi=120
    )
    print(f"wrote {out}")
    return 0


def report_section(out_dir, data, seed, log):
    """The graph part of ``skclust report``: both Laplacians side by side."""
    graph, _ = load_study_graph(data=data)
    log(graph.summary())
    out = out_dir / "graph"
    out.mkdir(exist_ok=True)
    ks, tune = _default_ks(graph), _default_tune(graph)
    # The default against the textbook method (plain Laplacian, flat k-means).
    studies = [
        run_study(graph, ks, tune, "regularized", seed, None, log),
        run_study(graph, ks, tune, "normalized", seed, None, log, strategy="kmeans"),
    ]
    for study in studies:
        write_study(study, graph, out)
    figure = save_figure(
        plot_tuning(studies, f"{graph.source}: overall mismatch against k"),
        out / "tuning.png",
        dpi=120,
    )
    section = Section("Spectral graph clustering")
    section.paragraph(
        f"{graph.summary()}. Each cluster is given its majority label; the overall "
        "mismatch rate is the share of nodes whose label differs from their "
        "cluster's. 'regularized' is the default SpectralGraphClusterer "
        "(degree-regularized Laplacian, SCORE ratios, clusters beyond the "
        "communities the spectrum shows made by spectral bisection); "
        "'normalized' is the textbook method, the plain symmetric normalized "
        "Laplacian with k-means on k eigenvectors (strategy='kmeans'), as "
        "scikit-learn's SpectralClustering."
    )
    regularized, normalized = studies
    rows = [
        {
            "k": k,
            "regularized": f"{100 * regularized.rate(k):.2f}%",
            "normalized": f"{100 * normalized.rate(k):.2f}%",
        }
        for k in ks
    ]
    settings = f"one k-means++ run per k (n_init='auto'), seed {seed}"
    section.table(
        rows,
        [
            Column("k"),
            Column("regularized", "regularized, divisive: mismatch"),
            Column("normalized", "normalized, k-means: mismatch"),
        ],
        "Overall mismatch rate (share of nodes unlike their cluster's majority)",
        settings=settings,
    )
    first = ks[0]
    section.table(
        regularized.tables[first].to_rows(),
        [
            Column("cluster"),
            Column("size", "nodes"),
            Column("majority_label", "majority label"),
            Column("mismatches"),
            Column("mismatch_rate", "mismatch rate", lambda r: f"{100 * r:.2f}%"),
        ],
        f"Per-cluster mismatch, regularized, k = {first}",
        settings=settings,
    )
    section.figure(figure, "Overall mismatch against k; the tuned k circled")
    section.paragraph(
        "Lowest overall mismatch over k = "
        f"{tune[0]}..{tune[1]}, at the smallest k that reaches it: "
        + "; ".join(
            f"{s.name}, {100 * s.rate(s.best_k):.2f}% at k = {s.best_k}"
            for s in studies
        )
        + ". The rate is measured on the labels themselves and more clusters "
        "can only make it lower at best, so this k describes the graph; it is "
        "not a held-out choice."
    )
    return section
