"""``skclust graph``: spectral clustering of a graph, scored for each k.

For each k the nodes are clustered with ``SpectralGraphClusterer``. A
labelled graph is scored against its labels: every cluster is given its
majority label (per-cluster mismatch tables), with the adjusted Rand index
and the normalized mutual information beside the overall mismatch (which
only falls as clusters are split, so it cannot choose k). An unlabelled
graph (``--edges`` alone) is scored by modularity and conductance. The
tuning curve, the k it picks and the number of communities that
``n_clusters="auto"`` finds (Bethe Hessian) are printed and written.
"""

import argparse
import contextlib
import csv
import io
import json
import time
from dataclasses import dataclass, field

from .._plural import counted
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
STRATEGIES = ("kmeans", "divisive")
# SpectralGraphClusterer's default, written out: reading it from the class
# would load scipy for --help (tests/test_lazy_imports.py keeps them equal).
DEFAULT_STRATEGY = "kmeans"
CLUSTER_COLUMNS = ["cluster", "size", "majority_label", "mismatches", "mismatch_rate"]
LABELLED_COLUMNS = ["k", "mismatches", "nodes", "overall_mismatch_rate", "ari", "nmi"]
UNLABELLED_COLUMNS = ["k", "clusters", "modularity", "mean_conductance"]


def _k_or_auto(text):
    """argparse type of ``-k``: a positive integer, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError as error:
        message = str(error).replace(
            "is not an integer", "is neither an integer nor auto"
        )
        raise argparse.ArgumentTypeError(message) from None


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
        help="spectral clustering of a graph, scored against its labels",
        description="Cluster the nodes of a graph with SpectralGraphClusterer "
        "for each k. A labelled graph (--nodes and --edges) is scored by "
        "majority-label mismatch, ARI and NMI; an unlabelled one (--edges "
        "alone) by modularity and conductance. Prints and writes the tables, "
        "the tuning curve, the tuned k and the number of communities found by "
        "n_clusters='auto', and writes each node's cluster for every -k "
        "(assignments_kK.csv; for -k auto, K is the k it finds). The graph is "
        "--nodes/--edges, else the political blogs from --data or SKCLUST_DATA, "
        "else the embedded karate club; "
        "its largest connected component is clustered unless --all-components.",
    )
    parser.add_argument(
        "--nodes",
        metavar="FILE",
        help="nodes file: id, name, label[, source] per line, tab-separated",
    )
    parser.add_argument(
        "--edges",
        metavar="FILE",
        help="edges file: two node ids and an optional weight per line, "
        "separated by spaces or tabs (in both files, lines starting with # are "
        "skipped; each file is read once, nodes first, so either may be a "
        "named pipe such as <(zcat edges.txt.gz))",
    )
    parser.add_argument(
        "-k",
        "--n-clusters",
        type=_k_or_auto,
        nargs="+",
        metavar="K",
        help="numbers of clusters, or auto: the k that n_clusters='auto' "
        "(Bethe Hessian) finds, reported and its files named as that k "
        "(default 2 5 10 30 50, keeping those at most half the number of nodes)",
    )
    parser.add_argument(
        "--tune",
        type=_k_range,
        metavar="A:B",
        help="range of k for the tuning curve (default 2:20, capped at half the "
        "number of nodes); clipped to what the graph can reach",
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
        default=DEFAULT_STRATEGY,
        help="kmeans (k-means on the embedding) or divisive (nested: extra "
        "clusters split the communities the spectrum shows) (default "
        f"{DEFAULT_STRATEGY})",
    )
    parser.add_argument(
        "--keep-isolated",
        action="store_true",
        help="keep nodes without edges (by default they are removed)",
    )
    components = parser.add_mutually_exclusive_group()
    components.add_argument(
        "--all-components",
        action="store_true",
        help="cluster the whole graph (by default only its largest connected "
        "component, as the literature does: with components first, a small "
        "component is a cluster of its own at small k)",
    )
    components.add_argument(
        "--largest-component",
        action="store_true",
        help="cluster only the largest connected component (the default)",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        metavar="N",
        help="k-means runs per k (default auto: 1, or 10 to 100 where the "
        "embedding's eigenvalues repeat, as on symmetric graphs)",
    )
    add_run_arguments(
        parser,
        out="skclust-graph",
        data_help="folder with the study's nodes.txt and edges.txt",
    )
    parser.set_defaults(run=run)


def load_study_graph(
    nodes=None, edges=None, data=None, *, remove_isolated=True, all_components=False
):
    """The graph of a run: given files, else political blogs, else karate.

    ``edges`` alone reads an unlabelled edge list. Unless ``all_components``,
    only the largest connected component is kept (Karrer and Newman 2011 and
    most of the literature cluster the 1222 blogs of its largest component).

    Returns
    -------
    graph : GraphData
        With ``source`` naming the component when others were left out.
    inputs : tuple of Path
        The files read (none for the embedded graph).
    note : str or None
        One line saying what was left out, if anything.
    """
    from ..datasets import (
        load_karate_club,
        read_edge_list,
        read_graph,
        study_data_dir,
        study_file,
    )

    if nodes is not None and edges is None:
        raise ValueError("--nodes needs --edges (an edges file alone is unlabelled)")
    if edges is not None:
        if nodes is None:
            graph = read_edge_list(edges, remove_isolated=remove_isolated)
            inputs = (edges,)
        else:
            graph = read_graph(nodes, edges, remove_isolated=remove_isolated)
            inputs = (nodes, edges)
    elif study_data_dir(data) is None:
        graph, inputs = load_karate_club(remove_isolated=remove_isolated), ()
    else:
        nodes, edges = study_file("nodes.txt", data), study_file("edges.txt", data)
        graph = read_graph(nodes, edges, remove_isolated=remove_isolated)
        graph.source = "political blogs"
        inputs = (nodes, edges)
    note = None if all_components else _keep_largest_component(graph)
    return graph, inputs, note


def _keep_largest_component(graph):
    """Restrict ``graph`` in place to its largest connected component.

    Returns the note saying what was left out, or None for a connected graph.
    """
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    n_comp, components = connected_components(graph.adjacency, directed=False)
    if n_comp == 1:
        return None
    keep = np.flatnonzero(components == np.argmax(np.bincount(components)))
    dropped, total = graph.n_nodes - keep.shape[0], graph.n_nodes
    graph.adjacency = graph.adjacency[keep][:, keep]
    for name in ("labels", "names"):
        value = getattr(graph, name)
        if value is not None:
            setattr(graph, name, value[keep])
    graph.node_ids = graph.node_ids[keep]
    graph.source += " (largest component)"
    return (
        f"note: clustering the largest connected component ({keep.shape[0]} of "
        f"{total} nodes); {counted(dropped, 'node')} in "
        f"{counted(n_comp - 1, 'smaller component')} left out (--all-components "
        f"keeps {'it' if dropped == 1 else 'them'})"
    )


def _default_ks(graph):
    return [k for k in STUDY_KS if k <= graph.n_nodes // 2] or [min(2, graph.n_nodes)]


def _default_tune(graph):
    high = min(DEFAULT_TUNE[1], max(graph.n_nodes // 2, DEFAULT_TUNE[0]))
    return DEFAULT_TUNE[0], high


def clip_to_graph(graph, ks, tune, log, explicit_ks, auto=False):
    """Keep the k the graph can reach; say what was dropped.

    An explicit ``-k`` above the number of nodes is an error; other values
    beyond the reachable k (twins are never separated) are dropped or
    clipped with a note. A k given twice is run once. When none of the
    default k is reachable (a triangle, a single edge), the reachable k is
    run instead. With ``auto`` (``-k auto``, whose k is always reachable)
    no k need be left.
    """
    from .._spectral import max_n_clusters

    ks = list(dict.fromkeys(ks))
    largest = max(ks, default=0)
    if explicit_ks and largest > graph.n_nodes:
        raise ValueError(
            f"k={largest} is larger than the number of nodes ({graph.n_nodes}) of "
            f"{graph.source}"
        )
    reachable = max_n_clusters(graph.adjacency)
    kept = [k for k in ks if k <= reachable]
    if len(kept) < len(ks):
        dropped = ", ".join(str(k) for k in ks if k > reachable)
        log(
            f"note: {graph.source} can be split into at most "
            f"{_clusters(reachable)} (nodes with the same neighbours stay "
            f"together); k = {dropped} dropped"
        )
    if not kept and not explicit_ks:
        log(f"note: k = {reachable} run instead")
        kept = [reachable]
    if not kept and not auto:
        raise ValueError(
            f"no k left: {graph.source} can be split into at most "
            f"{_clusters(reachable)}"
        )
    if tune and tune[1] > reachable:
        clipped = (min(tune[0], reachable), reachable)
        log(
            f"note: tuning range {tune[0]}:{tune[1]} clipped to "
            f"{clipped[0]}:{clipped[1]} (at most {_clusters(reachable)})"
        )
        tune = clipped
    return kept, tune


def _clusters(count):
    return counted(count, "cluster")


@dataclass
class GraphStudy:
    """What one method gave on a graph: scores per k and the tuning curve."""

    laplacian: str
    ks: list
    labelled: bool = True
    tables: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    seconds: float = 0.0
    tune_ks: list = field(default_factory=list)
    strategy: str = DEFAULT_STRATEGY
    auto_k: int = None
    # The k of ``ks`` that came from ``-k auto`` (printed as such).
    auto_ks: set = field(default_factory=set)

    @property
    def name(self):
        """The Laplacian, and the strategy when it is not the default."""
        if self.strategy == DEFAULT_STRATEGY:
            return self.laplacian
        return f"{self.laplacian}, {self.strategy}"

    def rate(self, k):
        return self.tables[k].overall_rate

    @property
    def criterion(self):
        """What the tuned k maximizes: ARI with labels, else modularity."""
        return "ari" if self.labelled else "modularity"

    @property
    def best_k(self):
        """The tuned k: highest ARI (modularity), the smallest k on a tie."""
        return max(self.tune_ks, key=lambda k: (self.scores[k][self.criterion], -k))

    def overall_rows(self, ks=None):
        return [self._row(k) for k in (self.ks if ks is None else ks)]

    def _row(self, k):
        score = self.scores[k]
        if not self.labelled:
            return {
                "k": k,
                "clusters": k,
                "modularity": round(score["modularity"], 6),
                "mean_conductance": round(score["mean_conductance"], 6),
            }
        return {
            "k": k,
            "mismatches": self.tables[k].n_mismatches,
            "nodes": self.tables[k].n_samples,
            "overall_mismatch_rate": round(score["mismatch_rate"], 6),
            "ari": round(score["ari"], 6),
            "nmi": round(score["nmi"], 6),
        }

    @property
    def columns(self):
        return LABELLED_COLUMNS if self.labelled else UNLABELLED_COLUMNS


def _score(graph, labels):
    import numpy as np

    from ..metrics import conductance, label_agreement, modularity

    if graph.labels is None:
        return {
            "modularity": modularity(graph.adjacency, labels),
            "mean_conductance": float(np.mean(conductance(graph.adjacency, labels))),
        }
    return label_agreement(graph.labels, labels)


def run_study(graph, ks, tune, laplacian, seed, n_init, log, strategy=None, auto=False):
    """Fit every k of ``ks`` and of the ``tune`` range, and ``"auto"``.

    With ``auto`` (``-k auto``), the k that ``n_clusters="auto"`` finds is
    added to ``ks`` and its partition is that fit's (on one connected
    component the same as that k's; with several, each is split into its
    own count), unless that k was given too.

    Returns
    -------
    GraphStudy
    """
    from .._spectral import SpectralGraphClusterer, sweep_n_clusters
    from .._spectral._laplacian import EigensolverError
    from ..metrics import majority_label_mismatch

    strategy = strategy or DEFAULT_STRATEGY
    tune_ks = list(range(tune[0], tune[1] + 1)) if tune else []
    estimator = SpectralGraphClusterer(
        laplacian=laplacian,
        strategy=strategy,
        n_init=n_init or "auto",
        random_state=seed,
    )
    study = GraphStudy(
        laplacian,
        list(ks),
        labelled=graph.labels is not None,
        tune_ks=tune_ks,
        strategy=strategy,
    )
    auto_labels = None
    if tune_ks or auto:
        auto_labels = _fit_auto(study, estimator, graph.adjacency, log, auto)
    all_ks = sorted(set(study.ks) | set(tune_ks))
    start = time.perf_counter()
    try:
        fits = sweep_n_clusters(estimator, graph.adjacency, all_ks)
    except EigensolverError as error:
        raise ValueError(f"{error} (-k and --tune set them)") from None
    study.seconds = time.perf_counter() - start
    labels = {k: fit.labels_ for k, fit in zip(all_ks, fits, strict=True)}
    if auto_labels is not None:
        labels[study.auto_k] = auto_labels
    for k in all_ks:
        study.labels[k] = labels[k]
        study.scores[k] = score = _score(graph, labels[k])
        if study.labelled:
            table = majority_label_mismatch(graph.labels, labels[k])
            study.tables[k] = table
            log(
                f"{study.name} k={k}: overall mismatch "
                f"{100 * table.overall_rate:.2f}% ({table.n_mismatches} of "
                f"{table.n_samples} nodes), ARI {score['ari']:.3f}, "
                f"NMI {score['nmi']:.3f}"
            )
        else:
            log(
                f"{study.name} k={k}: modularity {score['modularity']:.4f}, "
                f"mean conductance {score['mean_conductance']:.4f}"
            )
    log(f"{study.name}: {counted(len(all_ks), 'fit')} in {study.seconds:.2f} s")
    return study


def _fit_auto(study, estimator, adjacency, log, required):
    """Fit ``n_clusters="auto"`` and set ``study.auto_k``.

    With ``required`` (``-k auto``) a failure is an error, and the k found
    joins ``study.ks``; its labels are returned unless that k was already
    there (then the given k's fit is reported). Otherwise a failure is
    logged: the tables and curves stand without the count.
    """
    from sklearn.base import clone

    from .._spectral._laplacian import EigensolverError

    try:
        fitted = clone(estimator).set_params(n_clusters="auto").fit(adjacency)
    except EigensolverError as error:
        if required:
            raise ValueError(f"{error} (-k auto)") from None
        log(f"{study.name}: n_clusters='auto' found no count: {error}")
        return None
    study.auto_k = int(fitted.n_clusters_)
    log(f"{study.name}: n_clusters='auto' (Bethe Hessian) finds {study.auto_k}")
    if not required or study.auto_k in study.ks:
        return None
    study.ks.append(study.auto_k)
    study.auto_ks.add(study.auto_k)
    return fitted.labels_


def plot_tuning(studies, title):
    """Mismatch (or modularity) and ARI against k; tuned and auto k marked."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 3.8), layout="constrained")
    ax = figure.add_subplot()
    for study, colour in zip(studies, ("tab:blue", "tab:orange"), strict=False):
        ks = study.tune_ks
        if study.labelled:
            values = [100 * study.rate(k) for k in ks]
            ax.plot(ks, values, "o-", color=colour, label=f"{study.name}: mismatch %")
            ari = [100 * study.scores[k]["ari"] for k in ks]
            ax.plot(ks, ari, "s--", color=colour, label=f"{study.name}: ARI x 100")
            best_value = 100 * study.scores[study.best_k]["ari"]
        else:
            values = [study.scores[k]["modularity"] for k in ks]
            ax.plot(ks, values, "o-", color=colour, label=f"{study.name}: modularity")
            best_value = study.scores[study.best_k]["modularity"]
        ax.plot(
            [study.best_k],
            [best_value],
            "o",
            markersize=13,
            markerfacecolor="none",
            markeredgecolor="tab:red",
            label=f"{study.name}: tuned k = {study.best_k}",
        )
        if study.auto_k is not None:
            ax.axvline(
                study.auto_k,
                color=colour,
                linestyle=":",
                label=f"{study.name}: auto k = {study.auto_k}",
            )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("percent" if studies[0].labelled else "modularity")
    ax.set_title(title)
    # Beside the axes, not over the curves: k = 2 to 6 is where they matter.
    figure.legend(loc="outside right upper", fontsize="x-small")
    return figure


def write_study(study, graph, out):
    """Write tables, the study-shaped JSON and the tuning table under ``out``."""
    import numpy as np

    from ..metrics import conductance, majority_label_summary

    prefix = "" if study.laplacian == "regularized" else f"{study.laplacian}_"
    if study.labelled:
        for k in study.ks:
            write_table(
                study.tables[k].to_rows(),
                CLUSTER_COLUMNS,
                out / f"{prefix}mismatch_k{k}",
            )
        summaries = {
            str(k): majority_label_summary(graph.labels, study.labels[k])
            for k in study.ks
        }
        write_text(
            out / f"{prefix}majority_labels.json", json.dumps(summaries, indent=2)
        )
    else:
        for k in study.ks:
            sizes = np.bincount(study.labels[k])
            phi = conductance(graph.adjacency, study.labels[k])
            rows = [
                {"cluster": c, "size": int(sizes[c]), "conductance": float(phi[c])}
                for c in range(sizes.shape[0])
            ]
            write_table(
                rows, ["cluster", "size", "conductance"], out / f"{prefix}clusters_k{k}"
            )
    for k in study.ks:
        write_text(
            out / f"{prefix}assignments_k{k}.csv",
            _assignments_csv(graph, study.labels[k]),
        )
    write_table(study.overall_rows(), study.columns, out / f"{prefix}overall")
    if study.tune_ks:
        write_table(
            study.overall_rows(study.tune_ks), study.columns, out / f"{prefix}tuning"
        )


def _assignments_csv(graph, labels):
    """Each node's cluster, by the ids of the input files, as CSV text.

    The tables gave only per-cluster figures: the clusters of an unlabelled
    graph, the point of running the command on one, were written nowhere.
    """
    columns = {"node": graph.node_ids}
    if graph.names is not None:
        columns["name"] = graph.names
    if graph.labels is not None:
        columns["label"] = graph.labels
    columns["cluster"] = labels
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(
        zip(*(values.tolist() for values in columns.values()), strict=True)
    )
    return buffer.getvalue()


def _print_results(study, tune):
    for k in study.ks:
        score = study.scores[k]
        name = f"{k} (auto)" if k in study.auto_ks else k
        if study.labelled:
            table = study.tables[k]
            print(
                f"\nk = {name}: overall mismatch rate {table.overall_rate:.4f} "
                f"({table.n_mismatches} of {table.n_samples}), ARI "
                f"{score['ari']:.4f}, NMI {score['nmi']:.4f}"
            )
            # The rates to the 4 decimals of the line above (the CSV keeps
            # every digit).
            rows = [
                {**row, "mismatch_rate": f"{row['mismatch_rate']:.4f}"}
                for row in table.to_rows()
            ]
            print(markdown_table(rows, CLUSTER_COLUMNS), end="")
        else:
            print(
                f"\nk = {name}: modularity {score['modularity']:.4f}, mean "
                f"conductance {score['mean_conductance']:.4f}"
            )
    if study.tune_ks:
        best = study.best_k
        found = "found no count" if study.auto_k is None else f"finds {study.auto_k}"
        print(
            f"\ntuned k over {tune[0]}..{tune[1]}: {best} (highest "
            f"{study.criterion.upper() if study.labelled else study.criterion}, "
            f"{study.scores[best][study.criterion]:.4f}); n_clusters='auto' {found}"
        )
        if study.labelled:
            print(
                "(the mismatch rate falls whenever clusters are split, so it is "
                "shown but does not choose k)"
            )


def run(args):
    if args.quiet:  # errors only: they are raised, and printed by main
        with contextlib.redirect_stdout(io.StringIO()):
            return _run(args)
    return _run(args)


def _run(args):
    graph, inputs, note = load_study_graph(
        args.nodes,
        args.edges,
        args.data,
        remove_isolated=not args.keep_isolated,
        all_components=args.all_components,
    )
    print(graph.summary())
    if note:
        print(note)
    given = args.n_clusters or []
    auto = "auto" in given
    ks, tune = clip_to_graph(
        graph,
        [k for k in given if k != "auto"] or ([] if auto else _default_ks(graph)),
        args.tune or _default_tune(graph),
        print,
        explicit_ks=args.n_clusters is not None,
        auto=auto,
    )
    study = run_study(
        graph,
        ks,
        tune,
        args.laplacian,
        args.seed,
        args.n_init,
        print,
        args.strategy,
        auto=auto,
    )
    _print_results(study, tune)
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)
    write_study(study, graph, out)
    save_figure(
        plot_tuning([study], f"{graph.source}: tuning k"), out / "tuning.png", dpi=120
    )
    print(f"wrote {args.out}")
    return 0


def check_report_inputs(data):
    """Read the graph the report's section clusters: a bad file fails here."""
    load_study_graph(data=data)


def report_section(out_dir, data, seed, log):
    """The graph part of ``skclust report``: both Laplacians side by side."""
    graph, _, note = load_study_graph(data=data)
    log(graph.summary())
    if note:
        log(note)
    out = out_dir / "graph"
    out.mkdir(exist_ok=True)
    ks, tune = clip_to_graph(
        graph, _default_ks(graph), _default_tune(graph), log, explicit_ks=False
    )
    # The default against the textbook method (plain Laplacian, flat k-means).
    studies = [
        run_study(graph, ks, tune, "regularized", seed, None, log),
        run_study(graph, ks, tune, "normalized", seed, None, log, strategy="kmeans"),
    ]
    for study in studies:
        write_study(study, graph, out)
    figure = save_figure(
        plot_tuning(studies, f"{graph.source}: mismatch and ARI against k"),
        out / "tuning.png",
        dpi=120,
    )
    section = Section("Spectral graph clustering")
    section.paragraph(
        f"{graph.summary()}. "
        + (f"{note[len('note: ') :].capitalize()}. " if note else "")
        + "Each cluster is given its majority label; the overall "
        "mismatch rate is the share of nodes whose label differs from their "
        "cluster's. Splitting a cluster never raises it, so it cannot compare "
        "different k: the adjusted Rand index (ARI) and normalized mutual "
        "information (NMI), which penalize needless splits, are shown beside "
        "it. 'regularized' is the default SpectralGraphClusterer "
        "(degree-regularized Laplacian, SCORE ratios); 'normalized' is the "
        "textbook method, the plain symmetric normalized Laplacian with "
        "k-means on k eigenvectors, as scikit-learn's SpectralClustering. "
        "Only the largest connected component is clustered, as in the "
        "literature; the estimator itself puts components first (with as many "
        "clusters as components, the clusters are the components)."
    )
    regularized, normalized = studies
    rows = [
        {
            "k": k,
            "regularized": f"{100 * regularized.rate(k):.2f}%",
            "normalized": f"{100 * normalized.rate(k):.2f}%",
            "regularized ARI": f"{regularized.scores[k]['ari']:.3f}",
            "normalized ARI": f"{normalized.scores[k]['ari']:.3f}",
            "regularized NMI": f"{regularized.scores[k]['nmi']:.3f}",
            "normalized NMI": f"{normalized.scores[k]['nmi']:.3f}",
        }
        for k in ks
    ]
    settings = (
        "k-means++ with n_init='auto' (one run per k unless eigenvalues "
        f"repeat), seed {seed}"
    )
    section.table(
        rows,
        [
            Column("k"),
            Column("regularized", "regularized: mismatch"),
            Column("normalized", "normalized, k-means: mismatch"),
            Column("regularized ARI", "regularized: ARI"),
            Column("normalized ARI", "normalized: ARI"),
            Column("regularized NMI", "regularized: NMI"),
            Column("normalized NMI", "normalized: NMI"),
        ],
        "Overall mismatch rate (share of nodes unlike their cluster's majority), "
        "ARI and NMI",
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
    section.figure(
        figure, "Mismatch and ARI against k; the tuned k circled, auto k dotted"
    )
    section.paragraph(
        "; ".join(
            f"{s.name}: tuned k = {s.best_k} over {tune[0]}..{tune[1]} "
            f"(highest ARI, {s.scores[s.best_k]['ari']:.3f}); "
            f"n_clusters='auto' finds {s.auto_k}"
            for s in studies
        )
        + ". The ARI is measured on the labels themselves, so the tuned k "
        "describes this graph; it is not a held-out choice."
    )
    return section
