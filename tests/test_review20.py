"""Review 20: the graph side as a scikit-learn and networkx user meets it."""

import numpy as np
import pytest

from skclust import SpectralGraphClusterer, sweep_n_clusters
from skclust._spectral import max_n_clusters
from skclust.datasets import graph_from_adjacency, load_karate_club
from skclust.metrics import conductance, modularity
from skclust.model_selection import elbow


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
