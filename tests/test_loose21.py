"""Loose ends of review 20: "auto" on tiny graphs, NaN messages, n_jobs, -k auto."""

import numpy as np
import pytest

from skclust import SpectralGraphClusterer
from skclust._spectral._laplacian import _count_below_bulk
from skclust.metrics import modularity


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
