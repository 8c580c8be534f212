"""The compiled bounded assignment by matrix products, against brute force."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skclust import KMeansL2
from skclust._kmeans import _inmemory as lloyd_module
from skclust._kmeans._bounds import (
    CenterMoves,
    PointBounds,
    bounded_product_assignment,
)
from skclust._kmeans._inmemory import _ranking_dtype

DTYPES = [np.float32, np.float64]


def _exact_squared(X, centers):
    """Squared distances from coordinate differences, as the brute force."""
    return ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)


def _assign(
    X,
    centers,
    dtype,
    labels=None,
    upper=None,
    lower=None,
    chunk_rows=4,
    counts=None,
    norms_given=True,
):
    """One call of the kernel with no center shift; returns its outputs.

    Without ``norms_given`` the kernel sums ``|x|^2`` of the rows it ranks.
    """
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    labels = np.zeros(n_samples, dtype=np.intp) if labels is None else labels
    upper = np.zeros(n_samples) if upper is None else upper
    lower = np.full(n_samples, -np.inf) if lower is None else lower
    previous_labels = labels.copy()
    index = np.empty(n_samples, dtype=np.intp)
    previous = np.empty(n_samples, dtype=np.intp)
    counts = np.full(2, -1, dtype=np.intp) if counts is None else counts
    n_changed = bounded_product_assignment(
        X,
        np.einsum("ij,ij->i", X, X) if norms_given else None,
        centers,
        centers.astype(dtype),
        np.einsum("ij,ij->i", centers, centers).astype(dtype),
        chunk_rows,
        PointBounds(labels, upper, lower, index, previous),
        CenterMoves(np.zeros(n_clusters), np.full(n_clusters, -np.inf)),
        counts,
    )
    assert 0 <= counts[1] <= counts[0] <= n_samples
    changed = index[:n_changed]
    assert_array_equal(np.sort(changed), np.flatnonzero(labels != previous_labels))
    assert_array_equal(previous[:n_changed], previous_labels[changed])
    return labels, upper, lower


def _check_against_brute_force(X, centers, labels, upper, lower):
    squared = _exact_squared(X, centers)
    assert_array_equal(labels, squared.argmin(axis=1))
    rows = np.arange(len(X))
    assert_allclose(upper, np.sqrt(squared[rows, labels]), rtol=1e-12, atol=1e-12)
    others = squared.copy()
    others[rows, labels] = np.inf
    # The lower bound never exceeds the distance to any other center.
    assert np.all(lower <= np.sqrt(others.min(axis=1)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_clusters", [1, 2, 7, 40])
@pytest.mark.parametrize("chunk_rows", [1, 3, 64])
@pytest.mark.parametrize("norms_given", [True, False])
def test_labels_and_bounds_match_brute_force(
    dtype, n_clusters, chunk_rows, norms_given
):
    rng = np.random.default_rng(n_clusters)
    X = rng.standard_normal((40, 24))
    centers = X[rng.choice(40, n_clusters, replace=False)] + 0.1
    labels, upper, lower = _assign(
        X, centers, dtype, chunk_rows=chunk_rows, norms_given=norms_given
    )
    _check_against_brute_force(X, centers, labels, upper, lower)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_point_a_center(dtype):
    # k = n: each point is its own nearest center, at distance zero.
    X = np.random.default_rng(0).standard_normal((30, 20))
    labels, upper, lower = _assign(X, X.copy(), dtype)
    assert_array_equal(labels, np.arange(30))
    assert_array_equal(upper, 0.0)
    _check_against_brute_force(X, X, labels, upper, lower)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_ties_go_to_the_lowest_index(dtype):
    # Every point is at the same distance from centers 1 and 2 (mirror images
    # through the plane of the first feature), and farther from center 0.
    rng = np.random.default_rng(1)
    X = np.zeros((12, 20))
    X[:, 1:] = rng.integers(-3, 4, size=(12, 19))
    centers = np.zeros((3, 20))
    centers[0, 1:] = 50.0
    centers[1, 0], centers[2, 0] = 1.0, -1.0
    labels, upper, lower = _assign(X, centers, dtype)
    assert_array_equal(labels, 1)
    _check_against_brute_force(X, centers, labels, upper, lower)
    # Float32 bounds are looser by the rounding allowance (scaled by the
    # largest center).
    assert_allclose(lower, upper, rtol=1e-2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_near_ties_below_single_precision_are_resolved_exactly(dtype):
    # Centers 1 and 2 differ by 1e-9 along the axis that separates the
    # points, far below what a float32 ranking of |x| ~ 10 can resolve.
    rng = np.random.default_rng(2)
    n_features = 32
    X = 10.0 * rng.standard_normal((50, n_features))
    X[:, 0] = np.where(np.arange(50) % 2, 1.0, -1.0)
    centers = np.zeros((3, n_features))
    centers[0] = 1000.0
    centers[1, 0] = 1e-9
    centers[2, 0] = -1e-9
    labels, upper, lower = _assign(X, centers, dtype)
    assert_array_equal(labels, np.where(np.arange(50) % 2, 1, 2))
    _check_against_brute_force(X, centers, labels, upper, lower)


@pytest.mark.parametrize("seed", range(4))
def test_dense_near_ties_in_single_precision_are_resolved_exactly(seed):
    # Centers 0 and 1 differ by a dense perturbation of relative size 1e-7:
    # their float32 ranked values differ by a few units of the last place, in
    # either order, so only the exact re-examination gets the labels right.
    rng = np.random.default_rng(seed)
    n_samples, n_features = 400, 31
    base = 3.0 * rng.standard_normal(n_features)
    centers = np.vstack(
        [base, base + 1e-6 * rng.standard_normal(n_features), base + 10.0]
    )
    X = base + rng.standard_normal((n_samples, n_features))
    counts = np.zeros(2, dtype=np.intp)
    labels, upper, lower = _assign(X, centers, np.float32, chunk_rows=16, counts=counts)
    _check_against_brute_force(X, centers, labels, upper, lower)
    # Both twins win some points, and every point was re-examined.
    assert set(labels.tolist()) == {0, 1}
    assert counts.tolist() == [n_samples, n_samples]


def test_well_separated_centers_need_no_re_examination():
    rng = np.random.default_rng(6)
    centers = 20.0 * rng.standard_normal((6, 40))
    X = centers[rng.integers(0, 6, 300)] + rng.standard_normal((300, 40))
    counts = np.zeros(2, dtype=np.intp)
    labels, upper, lower = _assign(X, centers, np.float32, counts=counts)
    _check_against_brute_force(X, centers, labels, upper, lower)
    assert counts.tolist() == [300, 0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_points_whose_bounds_hold_are_skipped(dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((25, 20))
    centers = rng.standard_normal((5, 20))
    labels, _, _ = _assign(X, centers, dtype)
    # Wrong labels with bounds that prove them are left alone (the kernel
    # trusts the bounds); points with no lower bound are re-ranked.
    kept = np.arange(25) % 3 == 0
    forced = labels.copy()
    forced[kept] = (labels[kept] + 1) % 5
    lower_forced = np.where(kept, np.inf, -np.inf)
    new_labels, _, _ = _assign(
        X, centers, dtype, forced, np.zeros(25), lower_forced, chunk_rows=4
    )
    assert_array_equal(new_labels[kept], forced[kept])
    assert_array_equal(new_labels[~kept], labels[~kept])


def test_ranking_precision_follows_the_scale_of_the_data():
    assert _ranking_dtype(np.ones((3, 20))) == np.float32
    assert _ranking_dtype(np.full((3, 20), 1e12)) == np.float64
    assert _ranking_dtype(np.full((3, 20), 1e-12)) == np.float64


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_single_and_double_precision_rankings_give_the_same_fit(monkeypatch, scale):
    rng = np.random.default_rng(4)
    X = scale * (rng.standard_normal((3000, 24)) + rng.integers(0, 4, (3000, 1)))
    init = X[:16]
    params = dict(init=init, n_init=1, tol=0.0, max_iter=50)
    assert _ranking_dtype(X - X.mean(axis=0)) == np.float32
    single = KMeansL2(16, **params).fit(X)
    monkeypatch.setattr(lloyd_module, "_SINGLE_MAX_SCALE", 0.0)
    double = KMeansL2(16, **params).fit(X)
    assert_array_equal(single.labels_, double.labels_)
    assert_array_equal(single.cluster_centers_, double.cluster_centers_)
    assert single.n_iter_ == double.n_iter_


def test_init_far_outside_the_data_is_ranked_in_double_precision(monkeypatch):
    # A center at 1e20 would overflow its float32 squared norm; the first
    # step falls back to float64 and later ones (centers are means) use
    # float32.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((500, 20))
    init = np.vstack([X[:3], np.full((1, 20), 1e20)])
    params = dict(init=init, n_init=1, tol=0.0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        single = KMeansL2(4, **params).fit(X)
    monkeypatch.setattr(lloyd_module, "_SINGLE_MAX_SCALE", 0.0)
    double = KMeansL2(4, **params).fit(X)
    assert_array_equal(single.labels_, double.labels_)
    assert_array_equal(single.cluster_centers_, double.cluster_centers_)
    assert np.isfinite(single.inertia_)


def _ranking_dtypes(monkeypatch):
    """Record the precision of every call of the product kernel."""
    seen = []

    def recording(*args):
        seen.append(args[3].dtype)
        return bounded_product_assignment(*args)

    monkeypatch.setattr(lloyd_module, "bounded_product_assignment", recording)
    return seen


def test_ranking_falls_back_to_double_precision_when_rounding_rivals_the_gaps(
    monkeypatch,
):
    # Two tight groups far from the mean: the single-precision allowance,
    # which grows with the largest center, exceeds the gaps between centers
    # within a group, and nearly every point would be re-examined.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3000, 40))
    X[:1500, 0] += 1e4
    X[1500:, 0] -= 1e4
    params = dict(init=X[rng.choice(3000, 32, replace=False)], tol=0.0, max_iter=8)
    seen = _ranking_dtypes(monkeypatch)
    fitted = KMeansL2(32, **params).fit(X)
    assert seen[0] == np.float32
    assert all(dtype == np.float64 for dtype in seen[1:])
    monkeypatch.setattr(lloyd_module, "_SINGLE_MAX_SCALE", 0.0)
    double = KMeansL2(32, **params).fit(X)
    assert_array_equal(fitted.labels_, double.labels_)


def test_ranking_stays_in_single_precision_on_ordinary_data(monkeypatch):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((3000, 40)) + 4.0 * rng.integers(0, 5, (3000, 1))
    seen = _ranking_dtypes(monkeypatch)
    KMeansL2(16, init=X[:16], tol=0.0, max_iter=8).fit(X)
    assert len(seen) > 1
    assert all(dtype == np.float32 for dtype in seen)


def test_kernels_refuse_arrays_of_the_wrong_shape():
    from skclust._kmeans._bounds import bounded_assignment, half_gaps
    from skclust._kmeans._cluster_sums import add_weighted_rows, weighted_inertia

    X = np.ones((4, 20))
    centers = np.zeros((2, 20))
    n, k = 4, 2
    short = np.zeros(n - 1)
    with pytest.raises(ValueError, match="per-point array"):
        PointBounds(
            np.zeros(n, np.intp),
            np.zeros(n),
            short,
            np.empty(n, np.intp),
            np.empty(n, np.intp),
        )
    state = PointBounds(
        np.zeros(n - 1, np.intp),
        np.zeros(n - 1),
        np.zeros(n - 1),
        np.empty(n, np.intp),
        np.empty(n, np.intp),
    )
    with pytest.raises(ValueError, match="per-point array"):
        bounded_assignment(
            X, centers, state, CenterMoves(np.zeros(k), np.zeros(k)), False, True
        )
    with pytest.raises(ValueError, match="per center"):
        CenterMoves(np.zeros(k), np.zeros(k + 1))
    with pytest.raises(ValueError, match="differ in features"):
        _assign(X, np.zeros((2, 19)), np.float64)
    with pytest.raises(ValueError, match="per center"):
        half_gaps(centers, False, np.zeros(3))
    with pytest.raises(ValueError, match="do not match X"):
        add_weighted_rows(
            X,
            np.ones(n),
            np.arange(n, dtype=np.intp),
            np.zeros(n - 1, np.intp),
            1.0,
            np.zeros((k, 20)),
        )
    with pytest.raises(ValueError, match="do not match X"):
        weighted_inertia(X, np.ones(n), centers, np.zeros(n - 1, np.intp))
