"""Components split without a fit of their own give what a fit gives.

SpectralGraphClusterer looks each small component up among those already
fitted (the same adjacency in the same node order, the same count and twin
classes) and reuses the result, and gives a component split into as many
clusters as twin classes one cluster per class without a fit (except the
one that gives ``embedding_``). These tests compare it with the plain path,
which fits every component that is split, and with fits of each component
alone, on a graph of repeated paths, cycles, stars and bridged triangles
beside distinct components, in several node orders.
"""

import numpy as np
import pytest
from scipy import sparse

from skclust import SpectralGraphClusterer
from skclust._spectral import _estimator

ATTRIBUTES = ("labels_", "embedding_", "n_components_", "eigenvalues_", "n_clusters_")


def _edges(n, pairs):
    A = np.zeros((n, n))
    for i, j in pairs:
        A[i, j] = A[j, i] = 1.0
    return A


def _mixed_graph():
    """Repeated small shapes, distinct random ones and a two-block graph.

    90 nodes: LAPACK solves every component, and no BLAS thread limit is
    set, as for each component fitted alone.
    """
    rng = np.random.default_rng(3)
    path = _edges(4, [(0, 1), (1, 2), (2, 3)])
    cycle = _edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)])
    star = _edges(5, [(0, 1), (0, 2), (0, 3), (0, 4)])
    bridged = _edges(6, [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])
    blocks = [path, cycle, star, bridged] * 3
    for size in (5, 8):
        block = np.triu(rng.random((size, size)) < 0.4, k=1).astype(float)
        block = np.maximum(
            block + block.T, _edges(size, [(i, i + 1) for i in range(size - 1)])
        )
        blocks.append(block)
    labels = np.repeat([0, 1], 10)
    inside = rng.random((20, 20)) < np.where(labels[:, None] == labels, 0.7, 0.08)
    two = np.triu(inside, k=1)
    blocks.append((two | two.T).astype(float))
    return sparse.block_diag(blocks).toarray()


def _fit(A, n_clusters, params, plain, monkeypatch):
    with monkeypatch.context() as patch:
        if plain:
            patch.setattr(_estimator, "_REPEATS_MAX_NODES", 0)
            patch.setattr(_estimator, "_twins_decide", lambda count, capacity: False)
        return SpectralGraphClusterer(n_clusters, random_state=0, **params).fit(A)


def _assert_same_fit(fast, plain):
    for name in ATTRIBUTES:
        np.testing.assert_array_equal(getattr(fast, name), getattr(plain, name), name)
    assert fast.regularization_ == plain.regularization_


# With 36 clusters the copies of the bridged triangles get 3, 3 and 2
# (D'Hondt's rule between equal components) and the stars 2: copies of one
# matrix are split into different counts.
CASES = [
    ("auto", {}),
    (36, {}),
    ("auto", {"laplacian": "normalized"}),
    (36, {"strategy": "divisive"}),
    ("auto", {"strategy": "divisive", "laplacian": "normalized"}),
]


@pytest.mark.parametrize(("n_clusters", "params"), CASES)
def test_repeated_components_fit_once_and_as_the_plain_path(
    n_clusters, params, monkeypatch
):
    A = _mixed_graph()
    fitted = []
    original = SpectralGraphClusterer._cluster_connected

    def counting(self, adjacency, *args, **kwargs):
        fitted.append(adjacency.shape[0])
        return original(self, adjacency, *args, **kwargs)

    monkeypatch.setattr(SpectralGraphClusterer, "_cluster_connected", counting)
    fast = _fit(A, n_clusters, params, False, monkeypatch)
    n_fast = len(fitted)
    plain = _fit(A, n_clusters, params, True, monkeypatch)
    # The plain path fits every component that is split, the fast one only
    # the first copy of each matrix and count, where twins do not decide.
    n_plain = len(fitted) - n_fast
    assert 0 < n_fast < n_plain
    _assert_same_fit(fast, plain)


def _first_appearance(labels):
    """Labels renumbered 0, 1, ... in order of first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse.ravel()]


@pytest.mark.parametrize(("n_clusters", "params"), CASES[:3])
def test_each_component_is_split_as_when_fitted_alone(n_clusters, params):
    A = _mixed_graph()
    model = SpectralGraphClusterer(n_clusters, random_state=0, **params).fit(A)
    n_split = 0
    for nodes in model.connected_components_:
        own = _first_appearance(model.labels_[nodes])
        k = own.max() + 1
        if k == 1:
            continue
        n_split += 1
        block = A[np.ix_(nodes, nodes)]
        alone = SpectralGraphClusterer(
            "auto" if n_clusters == "auto" else k, random_state=0, **params
        ).fit(block)
        np.testing.assert_array_equal(alone.labels_, own)
    assert n_split >= 4


@pytest.mark.parametrize(("seed", "n_clusters"), [(0, "auto"), (1, 36), (2, "auto")])
def test_random_node_orders_give_the_plain_path_result(seed, n_clusters, monkeypatch):
    A = _mixed_graph()
    perm = np.random.default_rng(seed).permutation(A.shape[0])
    B = sparse.csr_array(A[np.ix_(perm, perm)])
    fast = _fit(B, n_clusters, {}, False, monkeypatch)
    _assert_same_fit(fast, _fit(B, n_clusters, {}, True, monkeypatch))
