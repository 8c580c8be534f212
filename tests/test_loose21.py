"""Loose ends of review 20: "auto" on tiny graphs, NaN messages, n_jobs, -k auto."""

import csv
import re

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer
from skclust._cli import main
from skclust._spectral._laplacian import _count_below_bulk
from skclust.image import ImageQuantizer
from skclust.metrics import modularity
from skclust.model_selection import elbow


def _adjacency(n_nodes, edges):
    adjacency = np.zeros((n_nodes, n_nodes))
    for i, j in edges:
        adjacency[i, j] = adjacency[j, i] = 1.0
    return adjacency


def _clique_pair(size):
    """Two cliques of ``size`` nodes joined by one edge."""
    first = [(i, j) for i in range(size) for j in range(i + 1, size)]
    second = [(i + size, j + size) for i, j in first]
    return _adjacency(2 * size, first + second + [(size - 1, size)])


@pytest.mark.parametrize(
    "edges",
    [[(0, 1), (1, 2)], [(1, 0), (0, 2)]],
    ids=["path", "star"],
)
def test_auto_keeps_a_three_node_path_whole(edges):
    # It counted 2 and split the middle node from both ends: modularity
    # -0.5, below the 0 of one cluster and the -0.125 of the best split. Its
    # Bethe Hessian has three eigenvalues (0.13, 1.33, 3.54): 1.33 was
    # compared with 3.54, the top of the spectrum rather than a bulk.
    model = SpectralGraphClusterer("auto", random_state=0).fit(_adjacency(3, edges))
    assert model.n_clusters_ == 1
    assert set(model.labels_) == {0}


def test_auto_still_splits_two_cliques_and_longer_paths():
    # What the count of the smallest graphs did not change.
    for size in (2, 3, 4):
        model = SpectralGraphClusterer("auto", random_state=0).fit(_clique_pair(size))
        assert model.n_clusters_ == 2
        assert list(model.labels_) == [0] * size + [1] * size
    path = _adjacency(6, [(i, i + 1) for i in range(5)])
    model = SpectralGraphClusterer("auto", random_state=0).fit(path)
    assert model.n_clusters_ == 2
    # Halves: each holds 2 of the 5 edges and half of the degree.
    assert modularity(path, model.labels_) == pytest.approx(2 * (2 / 5 - 0.5**2))


def test_the_bulk_is_not_the_top_of_the_whole_spectrum():
    values = np.array([0.13, 1.33, 3.54])
    # The smallest three of a larger graph: 3.54 may be the bulk's edge.
    assert _count_below_bulk(values) == 2
    # All three of a three-node graph: it is the largest eigenvalue.
    assert _count_below_bulk(values, 3) == 1
    assert _count_below_bulk(np.array([-2.0, 0.2, 0.5, 3.0, 3.1]), 5) == 3


ESTIMATORS = [
    KMeansL1(2, n_init=1),
    KMeansL2(2, n_init=1),
    VectorQuantizer(2, n_init=1),
]


def _rows():
    return np.arange(24, dtype=np.float64).reshape(8, 3) % 5


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(("bad", "kind"), [(np.nan, "NaN"), (-np.inf, "infinity")])
def test_values_that_are_not_finite_are_named_in_our_words(estimator, bad, kind):
    # scikit-learn's message ended with advice on HistGradientBoosting.
    X = _rows()
    X[5, 2] = bad
    name = type(estimator).__name__
    message = f"^X holds {kind} at row 5, column 2: {name} needs finite values$"
    with pytest.raises(ValueError, match=message):
        clone(estimator).fit(X)
    fitted = clone(estimator).fit(_rows())
    with pytest.raises(ValueError, match=message):
        fitted.transform(X)
    if hasattr(fitted, "predict"):
        with pytest.raises(ValueError, match=message):
            fitted.predict(sparse.csr_array(X) if name == "KMeansL2" else X)


@pytest.mark.parametrize("layout", [np.asarray, sparse.csr_array, sparse.coo_array])
def test_a_nan_edge_weight_is_named(layout):
    adjacency = _clique_pair(3)
    adjacency[4, 1] = adjacency[1, 4] = np.nan
    message = (
        r"^the adjacency matrix X holds NaN at row 1, column 4: "
        r"SpectralGraphClusterer needs finite edge weights$"
    )
    with pytest.raises(ValueError, match=message):
        SpectralGraphClusterer(2).fit(layout(adjacency))


def test_features_of_a_feature_graph_are_checked_in_the_same_words():
    X = _rows()
    X[0, 1] = np.inf
    with pytest.raises(ValueError, match=r"^X holds infinity at row 0, column 1: "):
        SpectralGraphClusterer(2, affinity="rbf").fit(X)


def test_values_past_the_float_range_when_summed_are_finite():
    # The fast check sums the values; a sum that overflows is looked into.
    X = np.array([[3e38, 3e38], [3e38, 3e38], [-3e38, 0], [0, 3e38]], np.float32)
    assert KMeansL2(2, n_init=1, random_state=0).fit(X).labels_.shape == (4,)


N_JOBS_MESSAGE = (
    r"The 'n_jobs' parameter of {} must be an int in the range \(-inf, -1\], "
    r"an int in the range \[1, inf\) or None. Got {} instead."
)


@pytest.mark.parametrize(
    "estimator",
    [*ESTIMATORS, SpectralGraphClusterer(2, affinity="rbf"), ImageQuantizer(2)],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("n_jobs", [0, True])
def test_n_jobs_of_zero_is_refused_before_any_work(estimator, n_jobs):
    # 0 reached joblib ("n_jobs == 0 in Parallel has no meaning") after the
    # data was validated; True ran as one job.
    name = type(estimator).__name__
    X = np.zeros((4, 4, 3)) if name == "ImageQuantizer" else _rows()
    with pytest.raises(ValueError, match=N_JOBS_MESSAGE.format(name, n_jobs)):
        clone(estimator).set_params(n_jobs=n_jobs).fit(X)


def test_elbow_checks_n_jobs_before_fitting():
    with pytest.raises(ValueError, match=N_JOBS_MESSAGE.format("elbow", 0)):
        elbow(KMeansL2(n_init=1), _rows(), range(1, 5), n_jobs=0)
    result = elbow(KMeansL2(n_init=1, random_state=0), _rows(), [1, 2, 3], n_jobs=1)
    assert result.best_n_clusters in (1, 2, 3)


def _clique_edges(first, size):
    nodes = range(first, first + size)
    return [(i, j) for i in nodes for j in nodes if i < j]


def _write_edges(path, edges):
    path.write_text("".join(f"{i} {j}\n" for i, j in edges))
    return path


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _clusters_by_node(path):
    return {int(row["node"]): int(row["cluster"]) for row in _read_csv(path)}


def test_skclust_graph_k_auto_is_reported_as_the_k_it_finds(tmp_path, capsys):
    # Three 5-cliques in a chain (1-5, 6-10, 11-15): three communities. -k
    # auto was refused as "'auto' is not an integer".
    chain = [(5, 6), (10, 11)]
    edges = [*_clique_edges(1, 5), *_clique_edges(6, 5), *_clique_edges(11, 5)]
    path = _write_edges(tmp_path / "e.txt", edges + chain)
    out = tmp_path / "out"
    argv = ["graph", "--edges", str(path), "-k", "auto", "--tune", "2:4"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "\nk = 3 (auto): modularity " in printed
    assert sorted(p.name for p in out.glob("assignments_*")) == ["assignments_k3.csv"]
    assert [row["k"] for row in _read_csv(out / "overall.csv")] == ["3"]
    cluster = _clusters_by_node(out / "assignments_k3.csv")
    assert [len({cluster[i] for i in range(s, s + 5)}) for s in (1, 6, 11)] == [1] * 3
    assert len(set(cluster.values())) == 3


def test_skclust_graph_k_auto_beside_integers_on_every_component(tmp_path, capsys):
    # Two 4-cliques joined by an edge (1-8), and apart a 5-clique (9-13):
    # "auto" counts 2 and 1, 3 in all, and splits each component in its own.
    edges = [*_clique_edges(1, 4), *_clique_edges(5, 4), (4, 5), *_clique_edges(9, 5)]
    path = _write_edges(tmp_path / "e.txt", edges)
    out = tmp_path / "out"
    argv = ["graph", "--edges", str(path), "-k", "2", "AUTO", "--all-components"]
    assert main([*argv, "--tune", "2:3", "--out", str(out), "-q"]) == 0
    assert [row["k"] for row in _read_csv(out / "overall.csv")] == ["2", "3"]
    cluster = _clusters_by_node(out / "assignments_k3.csv")
    groups = [range(1, 5), range(5, 9), range(9, 14)]
    assert [len({cluster[i] for i in group}) for group in groups] == [1, 1, 1]
    assert len(set(cluster.values())) == 3
    assert len(set(_clusters_by_node(out / "assignments_k2.csv").values())) == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x", r"'x' is neither an integer nor auto \(see skclust graph --help\)$"),
        ("2,auto", r"'2,auto' is neither an integer nor auto: separate several"),
        ("0", r"0 is not a positive integer"),
    ],
)
def test_skclust_graph_k_refuses_what_is_neither_a_count_nor_auto(
    tmp_path, capsys, value, message
):
    out = tmp_path / "out"
    assert main(["graph", "-k", value, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skclust graph: error: ")
    assert re.search(message, err), err
    assert not out.exists()


def test_skclust_graph_help_describes_k_auto(capsys):
    assert main(["graph", "--help"]) == 0
    assert "or auto: the k that n_clusters='auto'" in " ".join(
        capsys.readouterr().out.split()
    )
