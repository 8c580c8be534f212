"""Divisive spectral clustering: exact 2-means, bisection, nested refinement."""

import itertools

import numpy as np
import pytest
from scipy import linalg, sparse

from skclust import SpectralGraphClusterer, sweep_n_clusters
from skclust._spectral._divisive import (
    _bisect_subgraph,
    _Division,
    _two_means_1d,
    _uncancelled_direction,
)
from skclust.datasets import load_karate_club


def _sse(values, mask):
    return sum(
        ((part - part.mean()) ** 2).sum() for part in (values[mask], values[~mask])
    )


@pytest.mark.parametrize("seed", range(6))
def test_two_means_on_a_line_is_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    # Small integers give ties; every split into two non-empty sets is tried.
    values = rng.integers(0, 5, 8).astype(float) if seed % 2 else rng.normal(size=8)
    if np.all(values == values[0]):
        values[0] += 1.0
    low = _two_means_1d(values)
    best = min(
        _sse(values, np.isin(np.arange(8), subset))
        for size in range(1, 8)
        for subset in itertools.combinations(range(8), size)
    )
    assert _sse(values, low) == pytest.approx(best, abs=1e-12)
    # A threshold split: every low value is below every high one.
    assert values[low].max() < values[~low].min()


def test_two_means_hand_worked_and_constant():
    # {0, 1} against {10}: SSE 0.5, where {0} against {1, 10} gives 40.5.
    np.testing.assert_array_equal(
        _two_means_1d(np.array([10.0, 0.0, 1.0])), [False, True, True]
    )
    assert _two_means_1d(np.full(4, 2.5)) is None


def _cliques(sizes, links):
    """Disjoint cliques joined by the given edges."""
    A = linalg.block_diag(*[np.ones((n, n)) - np.eye(n) for n in sizes])
    for i, j in links:
        A[i, j] = A[j, i] = 1.0
    return A


# Three 6-cliques: A (0-5) and B (6-11) joined by three edges, C (12-17)
# hanging on B by one edge.
_THREE_CLIQUES = _cliques([6, 6, 6], [(0, 6), (1, 7), (2, 8), (11, 12)])


def test_bisection_splits_a_subgraph_and_reports_its_strength():
    A = _THREE_CLIQUES
    nodes = np.arange(12)  # A and B, without C
    first, second, strength = _bisect_subgraph(
        sparse.csr_array(A), nodes, ("regularized", "mean_degree"), "score", "auto", 0
    )
    assert first.tolist() == list(range(6)) and second.tolist() == list(range(6, 12))
    # The strength is the second eigenvalue of the subgraph's own regularized
    # normalized affinity, written out with numpy.
    sub = A[:12, :12]
    scale = 1.0 / np.sqrt(sub.sum(axis=1) + sub.sum(axis=1).mean())
    expected = np.linalg.eigvalsh(scale[:, None] * sub * scale[None, :])[-2]
    assert strength == pytest.approx(expected, rel=1e-10)


def test_bisection_refuses_what_cannot_be_split():
    A = sparse.csr_array(_THREE_CLIQUES)
    args = (("regularized", "mean_degree"), "score", "auto", 0)
    assert _bisect_subgraph(A, np.array([3]), *args) is None
    # One node of each clique: no edges among them.
    assert _bisect_subgraph(A, np.array([3, 9, 15]), *args) is None


def test_recursive_bisection_hand_worked():
    # n_components=1: one top-level cluster, then bisection only. The first
    # cut is the single edge to C; then A and B part, the subgraph with the
    # strongest two-community structure (a clique has none).
    model = SpectralGraphClusterer(n_components=1, strategy="divisive", random_state=0)
    fits = sweep_n_clusters(model, _THREE_CLIQUES, [1, 2, 3])
    blocks = np.repeat([0, 1, 2], 6)
    assert fits[0].labels_.tolist() == [0] * 18
    np.testing.assert_array_equal(fits[1].labels_, blocks == 2)
    np.testing.assert_array_equal(fits[2].labels_, blocks)


def test_division_order_ties_and_replay():
    strengths = {(0, 1, 2, 3): 0.9, (4, 5): 0.5, (0, 1): 0.5, (2, 3): 0.1}

    def bisect(nodes):
        key = tuple(nodes.tolist())
        if key not in strengths:
            return None
        half = nodes.shape[0] // 2
        return nodes[:half], nodes[half:], strengths[key]

    division = _Division(np.array([0, 0, 0, 0, 1, 1]), bisect)
    # Strongest first: 0-3 splits; then {4, 5} and {0, 1} tie at 0.5 and the
    # lower label, 0 (nodes 0 and 1), goes first.
    assert division.labels_at(3).tolist() == [0, 0, 2, 2, 1, 1]
    assert division.labels_at(4).tolist() == [0, 3, 2, 2, 1, 1]
    # Earlier levels are replayed from the same splits.
    assert division.labels_at(2).tolist() == [0, 0, 0, 0, 1, 1]
    assert division.labels_at(5).tolist() == [0, 3, 2, 2, 1, 4]
    with pytest.raises(ValueError, match="n_clusters=7 cannot be reached by bisection"):
        division.labels_at(7)


def _refines(fine, coarse):
    """Every cluster of ``fine`` lies inside one cluster of ``coarse``."""
    return all(np.unique(coarse[fine == c]).size == 1 for c in np.unique(fine))


def test_divisive_levels_are_nested_on_karate():
    graph = load_karate_club()
    ks = list(range(2, 11))
    fits = sweep_n_clusters(
        SpectralGraphClusterer(strategy="divisive", random_state=0), graph.adjacency, ks
    )
    for coarse, fine in itertools.pairwise(fits):
        assert len(np.unique(fine.labels_)) == fine.n_clusters
        assert _refines(fine.labels_, coarse.labels_)
    # The flat method is not nested in general; on karate it is not.
    flat = sweep_n_clusters(
        SpectralGraphClusterer(strategy="kmeans", random_state=0), graph.adjacency, ks
    )
    assert not all(
        _refines(fine.labels_, coarse.labels_)
        for coarse, fine in itertools.pairwise(flat)
    )


def test_divisive_is_kmeans_up_to_the_number_of_communities():
    rng = np.random.default_rng(5)
    labels = np.repeat([0, 1, 2], [50, 40, 30])
    p = np.where(labels[:, None] == labels[None, :], 0.5, 0.02)
    upper = np.triu(rng.random((120, 120)) < p, k=1)
    A = (upper | upper.T).astype(float)
    for k in (2, 3):
        divisive = SpectralGraphClusterer(k, strategy="divisive", random_state=0).fit(A)
        # "auto" regularization is the mean degree for the divisive strategy.
        flat = SpectralGraphClusterer(
            k,
            strategy="kmeans",
            n_components="eigengap",
            regularization="mean_degree",
            random_state=0,
        ).fit(A)
        np.testing.assert_array_equal(divisive.labels_, flat.labels_)
        np.testing.assert_array_equal(divisive.embedding_, flat.embedding_)


def test_the_direction_of_a_repeated_eigenvalue_that_twins_do_not_cancel():
    # A hand-made spectrum: eigenvalue 0.5 twice, on t (nodes 0 and 1 in
    # opposition: twins cancel it) and g (the same on the twins), rotated
    # by a random angle as a solver might return them.
    t = np.array([1.0, -1.0, 0.0, 0.0, 0.0]) / np.sqrt(2)
    g = np.array([1.0, 1.0, -1.0, -1.0, 0.0]) / 2
    others = linalg.null_space(np.vstack([t, g])).T
    basis = np.vstack([t, g, others]).T
    M = basis @ np.diag([0.5, 0.5, 1.0, 0.1, -0.3]) @ basis.T
    twins = np.array([0, 0, 1, 2, 3])
    direction = _uncancelled_direction(M, 0.5, twins)
    assert abs(direction @ g) == pytest.approx(1.0)
    # Without the twins both directions stand: nothing to choose.
    assert _uncancelled_direction(M, 0.5, np.arange(5)) is None
    # Only the twins' direction: nothing either.
    M2 = basis @ np.diag([0.5, 0.2, 1.0, 0.1, -0.3]) @ basis.T
    assert _uncancelled_direction(M2, 0.5, twins) is None
