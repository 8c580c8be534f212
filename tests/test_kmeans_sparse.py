"""Sparse input: KMeansL2 and KMeansL1 on scipy sparse rows give the dense fit."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from skclust import KMeansL1, KMeansL2, VectorQuantizer
from skclust._kmeans._base import _tolerance
from skclust._kmeans._engine import kmeans_plusplus
from skclust._kmeans._estimators import SphericalKMeansL2
from skclust._kmeans._metrics import Euclidean, Manhattan
from skclust._kmeans._sparse import (
    SparseEuclidean,
    SparseManhattan,
    SparseMedians,
    _merge_sparse_by_content,
    as_csr,
    merge_duplicate_sparse_rows,
    row_subsets,
    sparse_seed,
    sparse_tolerance,
)


def sparse_table(n_rows=300, n_features=30, density=0.2, seed=0):
    """Random non-negative CSR rows with a few all-zero rows."""
    X = sparse.random(
        n_rows, n_features, density=density, format="csr", random_state=seed
    )
    X = X.tolil()
    X[::37] = 0.0
    return X.tocsr()


def signed_table(n_rows=300, n_features=30, seed=0):
    """Sparse rows with negative and positive values and a few zero rows."""
    X = sparse_table(n_rows, n_features, seed=seed)
    X.data -= 0.5
    return X


def explicit_init(X, k, seed):
    rows = np.random.default_rng(seed).choice(X.shape[0], k, replace=False)
    return X[rows].toarray()


def assert_same_fit(ours, reference):
    np.testing.assert_array_equal(ours.labels_, reference.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, reference.cluster_centers_, rtol=0, atol=1e-12
    )
    assert ours.inertia_ == pytest.approx(reference.inertia_, rel=1e-12)
    assert ours.n_iter_ == reference.n_iter_


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [2, 5, 16])
@pytest.mark.parametrize("n_features", [8, 30])
@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
def test_sparse_fit_equals_dense_fit(estimator, seed, k, n_features):
    # Negative and positive values: the L1 medians fall on either side of
    # the implicit zeros.
    X = signed_table(n_features=n_features, seed=seed)
    init = explicit_init(X, k, seed)
    ours = estimator(k, init=init).fit(X)
    dense = estimator(k, init=init).fit(X.toarray())
    assert_same_fit(ours, dense)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    # An expanded L2 distance of a row on its center is the square root of
    # a rounding error (about 1e-8), as in scikit-learn.
    np.testing.assert_allclose(
        ours.transform(X), dense.transform(X.toarray()), rtol=1e-12, atol=1e-7
    )
    assert ours.score(X) == pytest.approx(dense.score(X.toarray()), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 3])
def test_sparse_fit_equals_scikit_learn_on_sparse(seed):
    X = sparse_table(n_rows=400, n_features=40, seed=seed)
    init = explicit_init(X, 12, seed)
    ours = KMeansL2(12, init=init).fit(X)
    theirs = KMeans(12, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, theirs.cluster_centers_, atol=1e-12
    )
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-10)
    assert ours.n_iter_ == theirs.n_iter_


def test_sample_weight_equals_dense():
    X = sparse_table(seed=4)
    weights = np.random.default_rng(4).integers(0, 4, X.shape[0]).astype(float)
    init = explicit_init(X[weights > 0], 6, 4)
    ours = KMeansL2(6, init=init).fit(X, sample_weight=weights)
    dense = KMeansL2(6, init=init).fit(X.toarray(), sample_weight=weights)
    assert_same_fit(ours, dense)
    assert ours.score(X, sample_weight=weights) == pytest.approx(
        dense.score(X.toarray(), sample_weight=weights), rel=1e-12
    )


@pytest.mark.parametrize(
    "container",
    [sparse.csc_matrix, sparse.csr_array, sparse.csc_array, sparse.coo_matrix],
)
@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
def test_sparse_formats_give_the_csr_fit(container, estimator):
    X = sparse_table(seed=5)
    init = explicit_init(X, 5, 5)
    reference = estimator(5, init=init).fit(X)
    ours = estimator(5, init=init).fit(container(X))
    assert_same_fit(ours, reference)
    np.testing.assert_array_equal(ours.predict(container(X)), reference.labels_)


def test_float32_sparse_equals_dense_of_the_same_values():
    X = sparse_table(seed=6).astype(np.float32)
    init = explicit_init(X, 5, 6)
    ours = KMeansL2(5, init=init).fit(X)
    dense = KMeansL2(5, init=init).fit(X.toarray().astype(np.float64))
    # The fit of the float64 values, its centers rounded once to float32.
    np.testing.assert_array_equal(ours.labels_, dense.labels_)
    assert ours.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(
        ours.cluster_centers_, dense.cluster_centers_, rtol=2**-23, atol=1e-12
    )
    assert ours.inertia_ == pytest.approx(dense.inertia_, rel=1e-12)
    assert ours.n_iter_ == dense.n_iter_


def test_unsorted_indices_and_stored_zeros():
    X = sparse_table(seed=7)
    init = explicit_init(X, 4, 7)
    reference = KMeansL2(4, init=init).fit(X)
    # The same rows with reversed column order, a stored zero and a value
    # split into two duplicate entries.
    coo = X.tocoo()
    rows = np.concatenate([coo.row[::-1], [0, 1, 1]])
    cols = np.concatenate([coo.col[::-1], [29, coo.col[0], coo.col[0]]])
    data = np.concatenate([coo.data[::-1], [0.0, 0.25, -0.25]])
    messy = sparse.csr_matrix((data, (rows, cols)), shape=X.shape)
    messy.has_canonical_format = False
    ours = KMeansL2(4, init=init).fit(messy)
    assert_same_fit(ours, reference)


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
def test_many_empty_rows_and_repeated_rows_merge_as_dense(estimator):
    X = sparse_table(n_rows=200, seed=8)
    X = sparse.vstack([X, X[:50], sparse.csr_matrix((40, X.shape[1]))]).tocsr()
    init = explicit_init(X, 6, 8)
    ours = estimator(6, init=init).fit(X)
    dense = estimator(6, init=init).fit(X.toarray())
    assert_same_fit(ours, dense)


def test_repeated_rows_are_weighted_rows():
    X = sparse_table(n_rows=100, seed=9)
    repeats = np.random.default_rng(9).integers(1, 4, X.shape[0])
    init = explicit_init(X, 5, 9)
    repeated = KMeansL2(5, init=init).fit(X[np.repeat(np.arange(100), repeats)])
    weighted = KMeansL2(5, init=init).fit(X, sample_weight=repeats.astype(float))
    np.testing.assert_allclose(
        repeated.cluster_centers_, weighted.cluster_centers_, atol=1e-12
    )
    np.testing.assert_array_equal(
        repeated.labels_, np.repeat(weighted.labels_, repeats)
    )


def test_merge_of_sparse_rows_matches_numpy_unique():
    X = sparse_table(n_rows=60, n_features=4, density=0.3, seed=10)
    X = sparse.vstack([X, X[::3]]).tocsr()
    weights = np.arange(X.shape[0], dtype=float)
    distinct = merge_duplicate_sparse_rows(as_csr(X), weights)
    dense = distinct.points.toarray()
    np.testing.assert_array_equal(dense[distinct.inverse], X.toarray())
    assert dense.shape[0] == np.unique(X.toarray(), axis=0).shape[0]
    np.testing.assert_allclose(
        distinct.weights, np.bincount(distinct.inverse, weights=weights)
    )


def test_merge_by_content_equals_merge_by_keys():
    X = as_csr(sparse.vstack([sparse_table(n_rows=40, seed=18)] * 3))
    weights = np.random.default_rng(18).random(X.shape[0])
    by_keys = merge_duplicate_sparse_rows(X, weights)
    by_content = _merge_sparse_by_content(X, weights)
    for distinct in (by_keys, by_content):
        np.testing.assert_array_equal(
            distinct.points.toarray()[distinct.inverse], X.toarray()
        )
    assert by_content.points.shape == by_keys.points.shape
    np.testing.assert_allclose(
        np.sort(by_content.weights), np.sort(by_keys.weights), rtol=1e-12
    )


def test_seeded_fit_does_not_depend_on_row_order():
    X = sparse_table(seed=19)
    order = np.random.default_rng(19).permutation(X.shape[0])
    first = KMeansL2(5, random_state=0).fit(X)
    shuffled = KMeansL2(5, random_state=0).fit(X[order])
    np.testing.assert_array_equal(first.labels_[order], shuffled.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, shuffled.cluster_centers_)


def test_fewer_distinct_rows_than_clusters_warns_as_dense():
    X = sparse.csr_matrix(np.repeat(np.eye(3, 20), 4, axis=0))
    with pytest.warns(ConvergenceWarning, match="duplicate centers"):
        ours = KMeansL2(5, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning, match="duplicate centers"):
        dense = KMeansL2(5, random_state=0).fit(X.toarray())
    assert ours.inertia_ == 0.0
    np.testing.assert_array_equal(
        np.unique(ours.cluster_centers_, axis=0),
        np.unique(dense.cluster_centers_, axis=0),
    )
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
def test_empty_cluster_is_relocated_as_dense(estimator):
    X = sparse_table(seed=11)
    init = explicit_init(X, 5, 11)
    init[2] = 50.0  # no row is nearest to it at first
    ours = estimator(5, init=init).fit(X)
    dense = estimator(5, init=init).fit(X.toarray())
    assert_same_fit(ours, dense)
    assert np.bincount(ours.labels_, minlength=5).min() > 0


def test_huge_and_tiny_magnitudes_are_scaled_exactly():
    X = sparse_table(seed=12)
    init = explicit_init(X, 4, 12)
    reference = KMeansL2(4, init=init).fit(X)
    huge = 2.0**1000
    with pytest.warns(RuntimeWarning, match="inertia exceeds the float64 range"):
        ours = KMeansL2(4, init=init * huge).fit(X * huge)
    np.testing.assert_array_equal(ours.labels_, reference.labels_)
    np.testing.assert_array_equal(
        ours.cluster_centers_ / huge, reference.cluster_centers_
    )
    # Subnormal values have lost bits: the reference is the dense fit of them.
    tiny = X * 2.0**-1060
    ours = KMeansL2(4, init=init * 2.0**-1060).fit(tiny)
    dense = KMeansL2(4, init=init * 2.0**-1060).fit(tiny.toarray())
    np.testing.assert_array_equal(ours.labels_, dense.labels_)
    # The two fits sum in different orders (numpy 1.25 and 2.x differ here),
    # so their scaled means may differ in the last bit, which maps back to at
    # most one subnormal step.
    np.testing.assert_allclose(
        ours.cluster_centers_, dense.cluster_centers_, rtol=0, atol=2.0**-1074
    )
    np.testing.assert_array_equal(ours.predict(tiny), ours.labels_)


@pytest.mark.parametrize(
    ("sparse_metric", "dense_metric"),
    [(SparseEuclidean, Euclidean), (SparseManhattan, Manhattan)],
)
def test_kmeans_plusplus_on_sparse_rows_picks_the_dense_seeds(
    sparse_metric, dense_metric
):
    X = signed_table(seed=13)
    weights = np.ones(X.shape[0])
    ours = sparse_seed(
        as_csr(X), weights, 7, "k-means++", sparse_metric, np.random.RandomState(0)
    )
    dense = kmeans_plusplus(
        X.toarray(), weights, 7, dense_metric, np.random.RandomState(0)
    )
    np.testing.assert_array_equal(ours, dense)


def test_seeded_fit_on_sparse_is_reproducible_and_close_to_dense():
    X = sparse_table(seed=14)
    first = KMeansL2(5, random_state=0).fit(X)
    second = KMeansL2(5, random_state=0).fit(X)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    # A local optimum from its own seeds: within a few percent of the dense one.
    dense = KMeansL2(5, random_state=0).fit(X.toarray())
    assert first.inertia_ == pytest.approx(dense.inertia_, rel=0.1)


@pytest.mark.parametrize(
    "rows", [[1, 3, 2, 4], [0, 1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1, 0], [3, 9, 12]]
)
def test_row_subsets_keep_the_order_of_the_rows(rows):
    X = as_csr(sparse_table(n_rows=20, seed=22))
    rows = np.asarray(rows)
    gathered = np.zeros((rows.size, X.shape[1]))
    for part, block in row_subsets(X, rows, 3):
        gathered[part] = block.toarray()
    np.testing.assert_array_equal(gathered, X.toarray()[rows])


def test_tolerance_of_sparse_rows_equals_dense():
    X = sparse_table(seed=15)
    weights = np.random.default_rng(15).random(X.shape[0])
    expected = _tolerance(X.toarray(), weights, 1e-4)
    assert sparse_tolerance(as_csr(X), weights, 1e-4) == pytest.approx(
        expected, rel=1e-12
    )


@pytest.mark.parametrize("integer_weights", [True, False])
def test_sparse_medians_with_weights_equal_dense(integer_weights):
    X = signed_table(seed=20)
    rng = np.random.default_rng(20)
    weights = rng.integers(0, 4, X.shape[0]).astype(float)
    if not integer_weights:
        weights *= rng.random(X.shape[0])
    init = explicit_init(X[weights > 0], 6, 20)
    ours = KMeansL1(6, init=init).fit(X, sample_weight=weights)
    dense = KMeansL1(6, init=init).fit(X.toarray(), sample_weight=weights)
    assert_same_fit(ours, dense)


def test_sparse_medians_equal_numpy_median_with_implicit_zeros():
    # Even cluster sizes and unit weights: the midpoint rule of numpy.median,
    # including halves that fall between a negative value and the zeros. The
    # first feature is stored in every row, so no cluster has zeros there.
    dense = signed_table(n_rows=120, n_features=6, seed=21).toarray()
    dense[:, 0] = np.random.default_rng(21).uniform(-1, 1, dense.shape[0])
    X = as_csr(sparse.csr_matrix(dense))
    labels = np.arange(X.shape[0]) % 4
    medians, sizes = SparseMedians(X, np.ones(X.shape[0]), 4).update(
        labels, np.arange(X.shape[0]), labels
    )
    expected = np.stack([np.median(dense[labels == c], axis=0) for c in range(4)])
    np.testing.assert_array_equal(medians, expected)
    np.testing.assert_array_equal(sizes, np.bincount(labels))


def test_spherical_kmeans_refuses_sparse_input():
    with pytest.raises(TypeError, match=r"sparse input.*X\.toarray\(\)"):
        SphericalKMeansL2(3).fit(sparse_table(seed=16))


def test_vector_quantizer_refuses_sparse_input():
    X = sparse_table(seed=17)
    with pytest.raises(TypeError, match=r"Sparse data.*toarray"):
        VectorQuantizer(n_clusters=3).fit(X)
    fitted = VectorQuantizer(n_clusters=3, normalize=False).fit(X.toarray())
    with pytest.raises(TypeError, match=r"Sparse data.*toarray"):
        fitted.transform(X)
