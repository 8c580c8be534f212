"""Elkan's per-center bounds in the compiled scan: the same labels, fewer distances."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from skclust import KMeansL1, KMeansL2
from skclust._kmeans import _inmemory
from skclust._kmeans._bounds import (
    CenterBounds,
    CenterMoves,
    PointBounds,
    bounded_assignment,
)
from skclust._kmeans._inmemory import _keeps_center_bounds


def _distances(X, centers, manhattan):
    diff = np.asarray(X, dtype=np.float64)[:, None, :] - centers[None, :, :]
    if manhattan:
        return np.abs(diff).sum(axis=-1)
    return np.sqrt((diff**2).sum(axis=-1))


class _Steps:
    """Calls of ``bounded_assignment`` with Elkan's bounds over moving centers,
    keeping the state between steps as ``_inmemory`` does."""

    def __init__(self, n_samples, n_clusters, manhattan):
        self.manhattan = manhattan
        self.labels = np.zeros(n_samples, dtype=np.intp)
        self.upper = np.zeros(n_samples)
        self.lower = np.full(n_samples, -np.inf)
        self.offset = np.empty((n_samples, n_clusters))
        self.traveled = np.zeros(n_clusters)
        self.steps = 0
        self.shift = np.zeros(n_clusters)

    def assign(self, X, centers):
        n_samples = len(X)
        self.traveled += self.shift
        self.steps += 1
        before = self.labels.copy()
        index = np.empty(n_samples, dtype=np.intp)
        previous = np.empty(n_samples, dtype=np.intp)
        n_changed = bounded_assignment(
            X,
            centers,
            PointBounds(self.labels, self.upper, self.lower, index, previous),
            CenterMoves(self.shift, np.full(len(centers), -np.inf)),
            self.manhattan,
            True,
            CenterBounds(self.offset, self.traveled, self.steps == 1, self.steps),
        )
        changed = index[:n_changed]
        assert_array_equal(np.sort(changed), np.flatnonzero(self.labels != before))
        assert_array_equal(previous[:n_changed], before[changed])

    def move(self, old, new):
        diff = new - old
        self.shift = (
            np.abs(diff).sum(axis=1)
            if self.manhattan
            else np.sqrt((diff**2).sum(axis=1))
        )


@pytest.mark.parametrize("manhattan", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_clusters", [1, 2, 5, 30])
def test_steps_with_moving_centers_match_brute_force(manhattan, dtype, n_clusters):
    rng = np.random.default_rng(n_clusters)
    X = rng.standard_normal((200, 8)).astype(dtype)
    centers = np.asarray(X[rng.choice(200, n_clusters, replace=False)], np.float64)
    steps = _Steps(len(X), n_clusters, manhattan)
    for step in range(8):
        steps.assign(X, centers)
        distance = _distances(X, centers, manhattan)
        # Ties go to the lowest index (argmin), as in a scan of every center.
        assert_array_equal(steps.labels, distance.argmin(axis=1))
        rows = np.arange(len(X))
        own = distance[rows, steps.labels]
        assert np.all(steps.upper >= own * (1 - 1e-12) - 1e-12)
        # Every stored bound, moved by the shifts since, is a lower bound.
        assert np.all(steps.offset - steps.traveled <= distance * (1 + 1e-12) + 1e-12)
        others = distance.copy()
        others[rows, steps.labels] = np.inf
        assert np.all(steps.lower <= others.min(axis=1) * (1 + 1e-12) + 1e-12)
        # Small moves (most bounds hold) and, every third step, a large one.
        scale = 1.0 if step % 3 == 2 else 0.02
        new = centers + scale * rng.standard_normal(centers.shape)
        steps.move(centers, new)
        centers = new


def test_exact_ties_go_to_the_lowest_index_when_bounds_skip_centers():
    # Each point is at the same distance from centers 1 and 3 (mirror images
    # through the plane of the first feature); center 2 is far, so its bound
    # rules it out after the first step.
    offsets = np.random.default_rng(0).integers(-3, 4, size=(20, 7))
    X = np.hstack([np.zeros((20, 1)), offsets])
    first = np.array([[0.0], [1.0], [0.0], [-1.0]])
    rest = np.array([[30.0], [0.0], [-40.0], [0.0]]) * np.ones(7)
    centers = np.hstack([first, rest])
    steps = _Steps(len(X), 4, manhattan=False)
    steps.assign(X, centers)
    assert_array_equal(steps.labels, 1)
    # Move the tied pair by the same amount, away from the points' side of
    # center 0: Hamerly's bound fails for every point, the tie remains.
    new = centers.copy()
    new[1, 0], new[3, 0] = 1.5, -1.5
    steps.move(centers, new)
    # As a relocation does: the points moved to center 3, their lower
    # bounds unknown.
    steps.labels[:] = 3
    steps.upper[:] = 0.0
    steps.lower[:] = 0.0
    steps.assign(X, new)
    assert_array_equal(steps.labels, 1)


def test_the_kernel_trusts_the_bounds():
    # Bounds that claim every other center is far keep each point on its
    # center without a distance: the filter is what spares the work (these
    # bounds are false; the kernel never makes such ones).
    X = np.random.default_rng(1).standard_normal((30, 8))
    centers = X[:4].copy()
    steps = _Steps(len(X), 4, manhattan=False)
    steps.assign(X, centers)
    truth = steps.labels.copy()
    steps.offset[:] = 1e6
    steps.labels[:] = 0
    steps.upper[:] = 0.0
    steps.lower[:] = -np.inf
    steps.assign(X, centers)
    rows = np.flatnonzero(truth != 0)
    assert rows.size
    assert_array_equal(steps.labels[rows], 0)


def _with_and_without(monkeypatch, fit):
    """``fit()`` with Elkan's bounds forced on, then off (the former path)."""
    with monkeypatch.context() as patch:
        patch.setattr(_inmemory, "_keeps_center_bounds", lambda *shape: True)
        on = fit()
    with monkeypatch.context() as patch:
        patch.setattr(_inmemory, "_keeps_center_bounds", lambda *shape: False)
        off = fit()
    return on, off


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
@pytest.mark.parametrize(
    "n_samples, n_features, n_clusters",
    [(300, 8, 1), (300, 8, 2), (300, 12, 25), (300, 16, 40), (60, 6, 59), (60, 6, 60)],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_fits_match_the_hamerly_path(
    monkeypatch, estimator, n_samples, n_features, n_clusters, dtype, weighted
):
    X, _ = make_blobs(
        n_samples, n_features=n_features, centers=6, cluster_std=3.0, random_state=1
    )
    # Half-integer coordinates: many exact ties between centers.
    X = (np.round(2 * X) / 2).astype(dtype)
    rng = np.random.default_rng(n_clusters)
    weights = rng.uniform(0.5, 3.0, len(X)) if weighted else None
    init = np.unique(X, axis=0)[rng.permutation(len(np.unique(X, axis=0)))][:n_clusters]

    def fit():
        model = estimator(n_clusters, init=init, n_init=1, tol=0.0)
        return model.fit(X, sample_weight=weights)

    on, off = _with_and_without(monkeypatch, fit)
    assert_array_equal(on.labels_, off.labels_)
    assert_array_equal(on.cluster_centers_, off.cluster_centers_)
    assert on.n_iter_ == off.n_iter_


# Inits from which the Hamerly path and scikit-learn reach the same labels too
# (from seed 1 with k = 24 both our paths reach another fixed point).
@pytest.mark.parametrize("seed, n_clusters", [(0, 12), (1, 12), (0, 24), (2, 24)])
def test_l2_equals_sklearn_lloyd_with_center_bounds(seed, n_clusters):
    X, _ = make_blobs(2000, n_features=10, centers=8, random_state=seed)
    init = X[np.random.default_rng(seed).choice(len(X), n_clusters, replace=False)]
    params = dict(init=init, n_init=1, tol=0.0)
    ref = KMeans(n_clusters, algorithm="lloyd", **params).fit(X)
    assert _keeps_center_bounds(len(X), X.shape[1], n_clusters)
    ours = KMeansL2(n_clusters, **params).fit(X)
    assert_array_equal(ours.labels_, ref.labels_)
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)
    assert ours.n_iter_ == ref.n_iter_


def test_center_bounds_are_kept_only_where_they_pay():
    # Few features: a bound costs about what the distance it saves costs.
    assert not _keeps_center_bounds(100_000, 3, 48)
    # Too few centers for more than Hamerly's one bound.
    assert not _keeps_center_bounds(50_000, 16, 8)
    assert _keeps_center_bounds(50_000, 16, 32)
    # 6 to 11 features: only while the bounds stay in cache.
    assert _keeps_center_bounds(20_000, 8, 64)
    assert not _keeps_center_bounds(100_000, 8, 48)
    # Memory is capped.
    assert not _keeps_center_bounds(10_000_000, 16, 32)
