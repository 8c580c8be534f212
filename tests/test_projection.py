"""Ranking centers by a lower bound in a few principal directions, against
brute force and against the ranking in all features."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans

from conftest import traced_peak
from skclust import KMeansL2
from skclust._kmeans import _inmemory as lloyd_module
from skclust._kmeans import _projection as projection_module
from skclust._kmeans._bounds import (
    CenterMoves,
    PointBounds,
    projected_product_assignment,
)
from skclust._kmeans._projection import (
    ProjectedRows,
    choose_rank,
    principal_basis,
    project,
)
from skclust.datasets import make_embeddings

DTYPES = [np.float32, np.float64]


def _serial(function):
    return [function(slice(None))]


def _low_rank(n_samples, n_features, rank, seed, noise=0.05):
    """Rows near a ``rank``-dimensional subspace, in groups, plus noise."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n_features, rank)))[0]
    topics = 3.0 * rng.standard_normal((12, rank))
    latent = topics[rng.integers(0, 12, n_samples)] + rng.standard_normal(
        (n_samples, rank)
    )
    return latent @ basis.T + noise * rng.standard_normal((n_samples, n_features))


def _assign(X, centers, rank, chunk_rows=7, counts=None, basis=None, labels=None):
    """One call of the projected kernel with no center shift, every point
    examined (from ``labels``, 0 if not given)."""
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    if basis is None:
        basis, rounding = principal_basis(X)
    else:
        rounding = 0.0
    rows = ProjectedRows(X, basis, rounding, rank, _serial)
    centers_projected, centers_ranked, center_norms = rows.centers(centers)
    start = np.zeros(n_samples, dtype=np.intp) if labels is None else labels
    labels = start.copy()
    upper = np.zeros(n_samples)
    lower = np.full(n_samples, -np.inf)
    index = np.empty(n_samples, dtype=np.intp)
    previous = np.empty(n_samples, dtype=np.intp)
    counts = np.zeros(2, dtype=np.intp) if counts is None else counts
    n_changed = projected_product_assignment(
        X,
        rows.rows,
        rows.squared_norms,
        centers,
        centers_projected,
        centers_ranked,
        center_norms,
        rows.basis_error,
        chunk_rows,
        PointBounds(labels, upper, lower, index, previous),
        CenterMoves(np.zeros(n_clusters), np.full(n_clusters, -np.inf)),
        counts,
    )
    assert counts[0] == n_samples
    assert_array_equal(np.sort(index[:n_changed]), np.flatnonzero(labels != start))
    assert_array_equal(previous[:n_changed], start[index[:n_changed]])
    return labels, upper, lower


def _check_against_brute_force(X, centers, labels, upper, lower):
    squared = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
    assert_array_equal(labels, squared.argmin(axis=1))
    rows = np.arange(len(X))
    assert_allclose(upper, np.sqrt(squared[rows, labels]), rtol=1e-12, atol=1e-12)
    squared[rows, labels] = np.inf
    assert np.all(lower <= np.sqrt(squared.min(axis=1)))


def test_projected_rows_bound_every_distance_from_below():
    X = _low_rank(200, 24, 4, seed=0)
    centers = X[:9] + 0.3
    basis, _ = principal_basis(X)
    original = X.copy()
    for rank in (1, 4, 12):
        x, c = project(X, basis, rank), project(centers, basis, rank)
        assert_array_equal(X, original)
        bound = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1)
        exact = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
        assert np.all(bound <= exact * (1 + 1e-12))
    # With every direction kept, the residual is zero and the bound exact.
    x, c = project(X, basis, 24), project(centers, basis, 24)
    bound = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1)
    assert_allclose(bound, exact, rtol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rank", [1, 4, 8, 20])
@pytest.mark.parametrize("chunk_rows", [1, 7, 500])
def test_labels_and_bounds_match_brute_force(dtype, rank, chunk_rows):
    X = _low_rank(300, 32, 6, seed=rank).astype(dtype)
    centers = X[np.random.default_rng(1).choice(300, 20, replace=False)].astype(
        np.float64
    ) + 0.01 * np.random.default_rng(2).standard_normal((20, 32))
    labels, upper, lower = _assign(X, centers, rank, chunk_rows)
    _check_against_brute_force(X.astype(np.float64), centers, labels, upper, lower)


@pytest.mark.parametrize("dtype", DTYPES)
def test_isotropic_data_still_gets_exact_labels(dtype):
    # The bound is loose here (many exact comparisons), never wrong.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 40)).astype(dtype)
    centers = rng.standard_normal((30, 40))
    counts = np.zeros(2, dtype=np.intp)
    labels, upper, lower = _assign(X, centers, 8, counts=counts)
    _check_against_brute_force(X.astype(np.float64), centers, labels, upper, lower)
    assert counts[1] > 200


@pytest.mark.parametrize("dtype", DTYPES)
def test_duplicated_centers_go_to_the_lowest_index(dtype):
    X = _low_rank(150, 24, 3, seed=4).astype(dtype)
    distinct = X[:6].astype(np.float64) + 0.5
    # Every center twice; the kernel must never pick the second copy.
    centers = np.vstack([distinct, distinct])
    labels, upper, lower = _assign(X, centers, 3)
    _check_against_brute_force(X.astype(np.float64), centers, labels, upper, lower)
    assert labels.max() < 6
    # The copy is at the same distance, so the lower bound meets the upper.
    assert_allclose(lower, upper, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rank", [1, 5])
def test_exact_ties_go_to_the_lowest_index(dtype, rank):
    # Mirror images through the plane of the first feature: every point is
    # exactly as far from center 2 as from center 1 (integer sums).
    rng = np.random.default_rng(5)
    X = np.zeros((40, 24))
    X[:, 1:] = rng.integers(-3, 4, size=(40, 23))
    centers = np.zeros((4, 24))
    centers[0, 1:] = 50.0
    centers[1, 0], centers[2, 0] = -1.0, 1.0
    centers[3, 1:] = -40.0
    labels, upper, lower = _assign(X.astype(dtype), centers, rank)
    assert_array_equal(labels, 1)
    _check_against_brute_force(X, centers, labels, upper, lower)


def test_near_ties_below_single_precision_are_resolved_exactly():
    # Centers 1 and 2 differ by 1e-9 along a direction of the data, far
    # below the rounding of a float32 ranking.
    rng = np.random.default_rng(6)
    X = _low_rank(60, 32, 4, seed=6)
    X[:, 0] = np.where(np.arange(60) % 2, 1.0, -1.0)
    centers = np.zeros((3, 32))
    centers[0] = 100.0
    centers[1, 0], centers[2, 0] = 1e-9, -1e-9
    centers[1:, 1:] = 0.01 * rng.standard_normal(31)
    labels, upper, lower = _assign(X, centers, 4)
    assert_array_equal(labels, np.where(np.arange(60) % 2, 1, 2))
    _check_against_brute_force(X, centers, labels, upper, lower)


@pytest.mark.parametrize("dtype", DTYPES)
def test_near_ties_are_resolved_from_the_twin_a_point_had(dtype):
    # Every point starts at the wrong one of two twin centers 1e-9 apart:
    # the test of its own center against the others' bounds must not keep it.
    rng = np.random.default_rng(9)
    X = _low_rank(60, 32, 4, seed=9)
    X[:, 0] = np.where(np.arange(60) % 2, 1.0, -1.0)
    X = X.astype(dtype)
    centers = np.zeros((3, 32))
    centers[0] = 100.0
    centers[1, 0], centers[2, 0] = 1e-9, -1e-9
    centers[1:, 1:] = 0.01 * rng.standard_normal(31)
    truth = np.where(np.arange(60) % 2, 1, 2)
    labels, upper, lower = _assign(X, centers, 4, labels=3 - truth)
    assert_array_equal(labels, truth)
    _check_against_brute_force(X.astype(np.float64), centers, labels, upper, lower)
    # Starting right, every point stays.
    labels, _, _ = _assign(X, centers, 4, labels=truth.copy())
    assert_array_equal(labels, truth)


def test_a_basis_not_quite_orthonormal_keeps_the_labels_exact():
    # The allowance for the basis is measured from V^T V - I.
    X = _low_rank(200, 24, 4, seed=7)
    centers = X[:15] + 0.2
    basis, _ = principal_basis(X)
    basis = basis * (1 + 1e-7)
    rows = ProjectedRows(X, basis, 0.0, 4, _serial)
    assert rows.basis_error < 1e-10
    rounding = float(np.linalg.norm(basis.T @ basis - np.eye(24)))
    assert ProjectedRows(X, basis, rounding, 4, _serial).basis_error > 2e-7
    labels, upper, lower = _assign(X, centers, 4, basis=basis)
    _check_against_brute_force(X, centers, labels, upper, lower)


def test_rank_is_chosen_only_where_it_pays():
    rng = np.random.default_rng(8)
    structured = make_embeddings(4000, 64, random_state=0).astype(np.float64)
    structured -= structured.mean(axis=0)
    centers = structured[rng.choice(4000, 128, replace=False)]
    centers = KMeans(128, init=centers, n_init=1, max_iter=2).fit(structured)
    centers = centers.cluster_centers_
    assert choose_rank(structured, centers, principal_basis(structured)[0]) == 16
    isotropic = rng.standard_normal((4000, 64))
    centers = isotropic[:128] * 0.5
    assert choose_rank(isotropic, centers, principal_basis(isotropic)[0]) is None
    # Few features: the product in all of them is cheap.
    narrow = structured[:, :16]
    assert choose_rank(narrow, narrow[:128], principal_basis(narrow)[0]) is None


def _fit_both(monkeypatch, X, k, **params):
    """KMeansL2 with the projection, and with it disabled.

    The rank is chosen whatever the size of ``X``: these tests are about the
    projected path, and the small tables they use would not try it (see
    ``test_small_fits_do_not_choose_a_rank``).
    """
    monkeypatch.setattr(projection_module, "_MIN_ROWS", 0)
    used = []
    chooser = lloyd_module._projection_for

    def recording(*args):
        projection = chooser(*args)
        used.append(projection is not None)
        return projection

    monkeypatch.setattr(lloyd_module, "_projection_for", recording)
    projected = KMeansL2(k, **params).fit(X)
    monkeypatch.setattr(lloyd_module, "_projection_for", lambda *args: None)
    full = KMeansL2(k, **params).fit(X)
    return projected, full, used


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_matches_the_full_ranking_and_scikit_learn(monkeypatch, dtype):
    X = make_embeddings(6000, 48, random_state=1).astype(dtype)
    init = X[np.random.default_rng(0).choice(6000, 96, replace=False)]
    params = dict(init=init, n_init=1, tol=0.0, max_iter=15)
    projected, full, used = _fit_both(monkeypatch, X, 96, **params)
    assert used == [True]
    assert_array_equal(projected.labels_, full.labels_)
    assert_array_equal(projected.cluster_centers_, full.cluster_centers_)
    assert projected.n_iter_ == full.n_iter_
    reference = KMeans(96, algorithm="lloyd", **params).fit(X)
    assert_array_equal(projected.labels_, reference.labels_)
    assert projected.n_iter_ == reference.n_iter_


def _rank_choices(monkeypatch):
    """The list that records each rank chosen (None: none pays) in a fit."""
    chosen = []
    chooser = lloyd_module._projection_for

    def recording(*args):
        projection = chooser(*args)
        chosen.append(None if projection is None else projection.rank)
        return projection

    monkeypatch.setattr(lloyd_module, "_projection_for", recording)
    return chosen


@pytest.mark.parametrize(
    ("n_samples", "tried"), [(1797, False), (9999, False), (10_000, True)]
)
def test_small_fits_do_not_choose_a_rank(monkeypatch, n_samples, tried):
    # Choosing a rank took a quarter of a default fit of digits (1,797 x 64,
    # k = 32), and the projection did not repay it below 10,000 rows; the
    # labels are the same either way.
    X = make_embeddings(n_samples, 48, random_state=3)
    init = X[:64]
    chosen = _rank_choices(monkeypatch)
    fitted = KMeansL2(64, init=init, n_init=1, max_iter=4).fit(X)
    assert len(chosen) == (1 if tried else 0)
    reference = KMeans(64, init=init, n_init=1, max_iter=4).fit(X)
    assert_array_equal(fitted.labels_, reference.labels_)


def test_fit_leaves_the_projection_when_it_stops_paying(monkeypatch):
    X = make_embeddings(5000, 48, random_state=2)
    params = dict(init=X[:64], n_init=1, tol=0.0, max_iter=10)
    steps = []

    def never(self, n_clusters, ranked, extra_exact):
        steps.append(ranked)
        return False

    monkeypatch.setattr(ProjectedRows, "pays", never)
    projected, full, used = _fit_both(monkeypatch, X, 64, **params)
    # Asked once, after the one projected step, then never again.
    assert used == [True] and len(steps) == 1
    assert_array_equal(projected.labels_, full.labels_)
    assert_array_equal(projected.cluster_centers_, full.cluster_centers_)


def test_projection_adds_its_table_and_no_copy(monkeypatch):
    # The projected rows are (r + 1) float32 values and a float64 norm per row
    # (76 bytes against the input's 256 here, r = 16); nothing else of the
    # table's size. Measured 1.65 times the input traced, 1.32 without the
    # projection.
    monkeypatch.setattr("skclust._kmeans._base.cpu_count", lambda: 2)
    X = make_embeddings(100_000, 64, random_state=0)
    used = []
    chooser = lloyd_module._projection_for

    def recording(*args):
        projection = chooser(*args)
        used.append(projection.rank)
        return projection

    monkeypatch.setattr(lloyd_module, "_projection_for", recording)
    fit = KMeansL2(256, random_state=0, n_init=1, max_iter=4).fit
    assert traced_peak(fit, X) < 1.75 * X.nbytes
    assert used == [16]
