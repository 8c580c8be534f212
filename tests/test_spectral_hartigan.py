"""Hartigan's single-point moves (skclust._spectral._hartigan)."""

import itertools

import numpy as np
import pytest

from skclust._spectral._hartigan import _hartigan_moves, hartigan_kmeans


def _cost(points, weights, labels):
    total = 0.0
    for c in np.unique(labels):
        mask = labels == c
        center = np.average(points[mask], axis=0, weights=weights[mask])
        total += weights[mask] @ ((points[mask] - center) ** 2).sum(axis=1)
    return total


def test_a_lloyd_fixed_point_is_left_by_a_move():
    # Worked by hand: {-2, 0} and {0.4, 2} have centers -1 and 1.2, and
    # every point is nearest its own (Lloyd stops), cost 2 + 1.28. Moving 0
    # to the right (2/3 * 1.2^2 < 2/1 * 1^2): cost 0 + 2.24, and then no
    # move lowers it.
    points = np.array([[-2.0], [0.0], [0.4], [2.0]])
    labels = np.array([0, 0, 1, 1])
    centers = np.array([[-1.0], [1.2]])
    assert np.array_equal(np.abs(points - centers.T).argmin(axis=1), labels)
    moved = _hartigan_moves(points, np.ones(4), labels, 2)
    assert moved.tolist() == [0, 1, 1, 1]
    assert _cost(points, np.ones(4), moved) == pytest.approx(2.24)


@pytest.mark.parametrize("seed", range(5))
def test_no_single_move_lowers_the_cost_after_the_moves(seed):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(12, 2))
    weights = rng.integers(1, 4, size=12).astype(float)
    labels = np.arange(12) % 3
    moved = _hartigan_moves(points, weights, labels, 3)
    cost = _cost(points, weights, moved)
    assert cost <= _cost(points, weights, labels)
    for i, c in itertools.product(range(12), range(3)):
        other = moved.copy()
        other[i] = c
        if np.unique(other).shape[0] == 3:
            assert _cost(points, weights, other) >= cost * (1 - 1e-9)


def test_hartigan_kmeans_finds_the_best_weighted_partition_by_brute_force():
    rng = np.random.default_rng(3)
    points = rng.normal(size=(8, 2))
    weights = rng.integers(1, 5, size=8).astype(float)
    best = min(
        _cost(points, weights, np.array(labels))
        for labels in itertools.product(range(3), repeat=8)
        if len(set(labels)) == 3
    )
    labels = hartigan_kmeans(points, weights, 3, 20, 0)
    assert _cost(points, weights, labels) == pytest.approx(best)


@pytest.mark.parametrize("side, used", [(14, True), (15, False)])
def test_moves_only_on_small_embeddings(monkeypatch, side, used):
    # A torus's eigenvalues repeat at every size; on 15 x 15 = 225 points the
    # moves (points x clusters each) would cost a large torus minutes: an
    # 80 x 80 one took 86.5 s against 0.91 s with Lloyd.
    from scipy import sparse

    from skclust import SpectralGraphClusterer
    from skclust._spectral import _estimator

    calls = []

    def counted(*args):
        calls.append(args[0].shape[0])
        return hartigan_kmeans(*args)

    monkeypatch.setattr(_estimator, "hartigan_kmeans", counted)
    # The side x side torus, node i * side + j (networkx's grid order).
    cells = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([cells.ravel(), cells.ravel()])
    cols = np.concatenate(
        [np.roll(cells, 1, axis=0).ravel(), np.roll(cells, 1, axis=1).ravel()]
    )
    adjacency = sparse.coo_array(
        (np.ones(rows.shape[0]), (rows, cols)), shape=(side * side, side * side)
    )
    adjacency = sparse.csr_array(adjacency + adjacency.T)
    # In 4 clusters the embedding holds a repeated eigenvalue (of 4 copies).
    model = SpectralGraphClusterer(4, random_state=0).fit(adjacency)
    assert np.bincount(model.labels_).size == 4
    assert bool(calls) is used
    assert all(n <= 200 for n in calls)


@pytest.mark.parametrize("seed", range(3))
def test_the_partition_key_ignores_order_names_and_rotation(seed):
    from scipy.stats import special_ortho_group

    from skclust._spectral._hartigan import _partition_key

    rng = np.random.default_rng(seed)
    points = rng.normal(size=(20, 4))
    weights = rng.integers(1, 4, size=20).astype(float)
    labels = np.arange(20) % 5
    key = _partition_key(points, weights, labels, 5)
    order = rng.permutation(20)
    rotation = special_ortho_group.rvs(4, random_state=seed)
    names = rng.permutation(5)
    moved = _partition_key(
        points[order] @ rotation, weights[order], names[labels[order]], 5
    )
    assert moved == key
