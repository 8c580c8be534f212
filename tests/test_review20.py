"""Review 20: the graph side as a scikit-learn and networkx user meets it."""

import csv
from itertools import pairwise

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclust import KMeansL2, SpectralGraphClusterer, sweep_n_clusters
from skclust._cli import main
from skclust._spectral import max_n_clusters
from skclust.datasets import graph_from_adjacency, load_karate_club
from skclust.metrics import all_nodes_split, conductance, mismatch_scorer, modularity
from skclust.model_selection import elbow, silhouette_scorer


class Graph:
    """What numpy sees of a networkx graph: an iterable of its nodes.

    networkx is not a test dependency; its graph classes live in modules
    named ``networkx.classes.*``, which is what the check reads.
    """

    __module__ = "networkx.classes.graph"

    def __init__(self, n_nodes):
        self.nodes = list(range(n_nodes))

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self):
        return len(self.nodes)


def _path(n_nodes):
    adjacency = np.zeros((n_nodes, n_nodes))
    index = np.arange(n_nodes - 1)
    adjacency[index, index + 1] = adjacency[index + 1, index] = 1
    return adjacency


GRAPH_TAKERS = {
    "fit": lambda graph: SpectralGraphClusterer(2).fit(graph),
    "fit_predict": lambda graph: SpectralGraphClusterer(2).fit_predict(graph),
    "sweep": lambda graph: sweep_n_clusters(SpectralGraphClusterer(), graph, [2]),
    "max_n_clusters": max_n_clusters,
    "modularity": lambda graph: modularity(graph, [0, 0, 1, 1]),
    "conductance": lambda graph: conductance(graph, [0, 0, 1, 1]),
    "graph_from_adjacency": graph_from_adjacency,
}


@pytest.mark.parametrize("take", GRAPH_TAKERS.values(), ids=GRAPH_TAKERS)
def test_a_networkx_graph_is_refused_with_what_to_pass(take):
    # It failed with scikit-learn's "Expected 2D array, got 1D array instead"
    # (the graph read as its list of nodes), or "adjacency of shape (4,) does
    # not match labels of shape (4,)".
    with pytest.raises(TypeError, match=r"networkx Graph.*to_scipy_sparse_array"):
        take(Graph(4))


@pytest.mark.parametrize("take", GRAPH_TAKERS.values(), ids=GRAPH_TAKERS)
def test_a_graph_data_is_refused_with_what_to_pass(take):
    # fit(read_graph(...)) failed with "Expected 2D array, got scalar array",
    # modularity and graph_from_adjacency with scipy's "function missing 1
    # required positional argument: 'shape'".
    graph = graph_from_adjacency(_path(4))
    with pytest.raises(TypeError, match=r"GraphData.*pass its \.adjacency"):
        take(graph)


def test_the_advice_for_a_directed_graph_is_one_that_fit_takes():
    # The message advised graph_from_adjacency, whose GraphData fit refused.
    directed = np.triu(_path(4))
    with pytest.raises(ValueError, match=r"graph_from_adjacency\(X\)\.adjacency"):
        SpectralGraphClusterer(2).fit(directed)
    with pytest.raises(ValueError, match=r"graph_from_adjacency\(adjacency\)\."):
        modularity(directed, [0, 0, 1, 1])
    labels = SpectralGraphClusterer(2, random_state=0).fit_predict(
        graph_from_adjacency(directed).adjacency
    )
    assert labels.tolist() == [0, 0, 1, 1]


def test_a_square_table_of_features_read_as_a_graph_is_told_so():
    # Four points with four features: "auto" reads them as an adjacency, and
    # the refusal of a negative or one-way "weight" did not say why.
    features = np.array(
        [
            [0.0, 1.0, -2.0, 0.5],
            [1.0, 0.0, 3.0, 1.0],
            [2.0, 1.0, 0.0, 0.0],
            [1, 2, 3, 4],
        ],
    )
    hint = r"affinity='auto' reads a square X as an adjacency.*affinity='rbf'"
    with pytest.raises(ValueError, match=f"Negative values.*{hint}"):
        SpectralGraphClusterer(2).fit(features)
    with pytest.raises(ValueError, match=f"symmetric.*{hint}"):
        SpectralGraphClusterer(2).fit(np.abs(features))
    # Given explicitly, "precomputed" needs no such hint.
    with pytest.raises(ValueError, match="symmetric") as refused:
        SpectralGraphClusterer(2, affinity="precomputed").fit(np.abs(features))
    assert "affinity='auto'" not in str(refused.value)
    labels = SpectralGraphClusterer(2, affinity="rbf", random_state=0).fit_predict(
        features
    )
    assert labels.shape == (4,)


def test_elbow_refuses_a_clusterer_without_inertia():
    # It failed with "fit() got an unexpected keyword argument
    # 'sample_weight'", a sample_weight nobody had given.
    adjacency = load_karate_club().adjacency
    with pytest.raises(TypeError, match="SpectralGraphClusterer has none"):
        elbow(SpectralGraphClusterer(random_state=0), adjacency, [2, 3, 4])


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_skclust_graph_writes_each_nodes_cluster_of_an_unlabelled_graph(tmp_path):
    # Two triangles, ids 10-30 and 40-60, joined by a light edge 30-40; nodes
    # 70 and 80 are left out with their smaller component. The run wrote only
    # per-cluster sizes and conductances: the clusters themselves nowhere.
    edges = tmp_path / "e.txt"
    edges.write_text(
        "10 20 5\n20 30 5\n10 30 5\n40 50 5\n50 60 5\n40 60 5\n30 40 1\n70 80\n"
    )
    out = tmp_path / "out"
    argv = ["graph", "--edges", str(edges), "-k", "2", "--out", str(out), "-q"]
    assert main(argv) == 0
    rows = _read_csv(out / "assignments_k2.csv")
    assert list(rows[0]) == ["node", "cluster"]
    cluster = {int(row["node"]): int(row["cluster"]) for row in rows}
    assert sorted(cluster) == [10, 20, 30, 40, 50, 60]
    assert cluster[10] == cluster[20] == cluster[30]
    assert cluster[40] == cluster[50] == cluster[60] != cluster[10]


def test_skclust_graph_assignments_carry_names_and_labels(tmp_path):
    nodes = tmp_path / "n.txt"
    nodes.write_text(
        "".join(f'{i}\t"blog, {i}"\t{int(i > 3)}\n' for i in range(1, 7)),
        encoding="utf-8",
    )
    edges = tmp_path / "e.txt"
    edges.write_text("1 2\n2 3\n1 3\n4 5\n5 6\n4 6\n3 4\n")
    out = tmp_path / "out"
    argv = ["graph", "--nodes", str(nodes), "--edges", str(edges), "-k", "2"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    rows = _read_csv(out / "assignments_k2.csv")
    assert list(rows[0]) == ["node", "name", "label", "cluster"]
    assert [row["name"] for row in rows] == [f"blog, {i}" for i in range(1, 7)]
    assert [row["label"] for row in rows] == ["0", "0", "0", "1", "1", "1"]
    clusters = [row["cluster"] for row in rows]
    assert clusters[:3] == [clusters[0]] * 3 and clusters[3:] == [clusters[3]] * 3
    assert clusters[0] != clusters[3]
    # Only -k gets the file, not the tuning range.
    assert sorted(p.name for p in out.glob("assignments_*")) == ["assignments_k2.csv"]


def test_skclust_graph_with_its_output_closed_writes_its_files(tmp_path, monkeypatch):
    # `skclust graph >&-`: Python sets sys.stdout to None, and the first
    # print raised AttributeError ('NoneType' object has no attribute
    # 'write'): a traceback, exit 1, no files.
    monkeypatch.delenv("SKCLUST_DATA", raising=False)  # the karate club
    monkeypatch.setattr("sys.stdout", None)
    out = tmp_path / "out"
    assert main(["graph", "-k", "2", "--tune", "2:3", "--out", str(out)]) == 0
    assert len(_read_csv(out / "assignments_k2.csv")) == 34


def test_mismatch_scorer_rates_a_pipeline_ending_in_the_graph_clusterer():
    # Features scaled, then clustered on their neighbour graph: the search
    # failed with "Pipeline is not fitted or has no labels_ to score".
    rng = np.random.default_rng(0)
    centres = np.repeat([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], 20, axis=0)
    X = centres + rng.normal(size=centres.shape)
    y = np.repeat([0, 1, 2], 20)
    pipe = make_pipeline(
        StandardScaler(), SpectralGraphClusterer(affinity="nearest_neighbors")
    )
    search = GridSearchCV(
        pipe,
        {"spectralgraphclusterer__n_clusters": [2, 3]},
        scoring=mismatch_scorer,
        cv=all_nodes_split(60),
        error_score="raise",
    ).fit(X, y)
    # Three far-apart blobs: k = 3 is pure, k = 2 mislabels a blob of 20.
    assert search.cv_results_["mean_test_score"].tolist() == [-1 / 3, 0.0]
    # A test part that is not the training nodes is still refused.
    fitted = search.best_estimator_
    with pytest.raises(ValueError, match="all_nodes_split"):
        mismatch_scorer(fitted, X[::-1] + 1.0, y)


def _refines(fine, coarse):
    return all(np.unique(coarse[fine == c]).size == 1 for c in np.unique(fine))


def _planted_blocks(n_blocks, size, seed):
    rng = np.random.default_rng(seed)
    blocks = np.repeat(np.arange(n_blocks), size)
    p = np.where(blocks[:, None] == blocks[None, :], 0.4, 0.02)
    upper = np.triu(rng.random(p.shape) < p, k=1)
    return (upper | upper.T).astype(float)


def test_divisive_is_nested_from_the_eigengap_on_as_documented():
    # The docstring said the divisive clusterings of successive k are
    # nested; up to the eigengap's d (here the 4 blocks) each k is a
    # k-means partition of its own, nested only from there on.
    adjacency = _planted_blocks(4, 20, seed=2)
    ks = range(2, 8)
    fits = sweep_n_clusters(
        SpectralGraphClusterer(strategy="divisive", random_state=0), adjacency, ks
    )
    assert [fit.n_components_ for fit in fits] == [2, 3, 4, 4, 4, 4]
    nested = [_refines(b.labels_, a.labels_) for a, b in pairwise(fits)]
    assert nested[2:] == [True] * 3
    assert not all(nested[:2])
    bisections = sweep_n_clusters(
        SpectralGraphClusterer(strategy="divisive", n_components=1, random_state=0),
        adjacency,
        ks,
    )
    assert all(_refines(b.labels_, a.labels_) for a, b in pairwise(bisections))


@pytest.mark.parametrize(
    "estimator",
    [KMeansL2(), make_pipeline(StandardScaler(), SpectralGraphClusterer())],
    ids=["KMeansL2", "Pipeline"],
)
def test_sweep_refuses_what_is_not_the_graph_clusterer(estimator):
    # "'KMeansL2' object has no attribute '_prepare'", and for a pipeline
    # "Invalid parameter 'n_clusters' for estimator Pipeline(...)".
    features = np.arange(40.0).reshape(20, 2) % 7
    name = type(estimator).__name__
    with pytest.raises(TypeError, match=f"SpectralGraphClusterer; got {name}"):
        sweep_n_clusters(estimator, features, [2, 3])


def test_max_n_clusters_takes_an_adjacency_only():
    # It read a table of features as "auto" does (its rbf graph's count),
    # and would have told a caller of a non-symmetric matrix to give an
    # affinity it does not take.
    with pytest.raises(ValueError, match="needs a square adjacency matrix"):
        max_n_clusters(np.arange(12.0).reshape(6, 2))
    with pytest.raises(ValueError, match="symmetric") as refused:
        max_n_clusters(np.triu(_path(4)))
    assert "affinity" not in str(refused.value)
    assert max_n_clusters(_path(4)) == 4


def test_scorers_take_a_pipeline_of_one_step():
    # Its empty slice [:-1] has no transform: both scorers raised
    # "This 'Pipeline' has no attribute 'transform'".
    graph = load_karate_club()
    pipe = make_pipeline(SpectralGraphClusterer(2, random_state=0))
    pipe.fit(graph.adjacency)
    # One member of 34 joined the other club (the estimator's doctest).
    assert mismatch_scorer(pipe, graph.adjacency, graph.labels) == -1 / 34
    points = np.repeat([[0.0, 0.0], [5.0, 5.0]], 10, axis=0) + np.tile(
        [[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1], [0.05, 0.05]], (4, 1)
    )
    kmeans = make_pipeline(KMeansL2(2, random_state=0)).fit(points)
    assert silhouette_scorer(sample_size=None)(kmeans, points) > 0.9
