"""The compiled distances of k-means++ seeding and of ranking by coordinate
differences: Manhattan (L1) and squared Euclidean (L2, few features), and
the squared distances that L2 seeding forms from a matrix product (many
features)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skclust import KMeansL1, KMeansL2
from skclust._kmeans._bounds import pairwise_cost, squares_from_products
from skclust._kmeans._engine import kmeans_plusplus
from skclust._kmeans._metrics import Euclidean, Manhattan, _summed_over_features

# metric, its elementwise term, and a number of features its direct path takes
METRICS = [
    pytest.param(Manhattan, np.abs, 40, id="l1"),
    pytest.param(Euclidean, np.square, 12, id="l2"),
]


def _in_feature_order(X, centers, manhattan):
    """Each cost summed one feature after the other in Python floats."""
    out = np.empty((X.shape[0], centers.shape[0]))
    for i, row in enumerate(X.tolist()):
        for j, center in enumerate(centers.tolist()):
            total = 0.0
            for x, c in zip(row, center, strict=True):
                total += abs(x - c) if manhattan else (x - c) * (x - c)
            out[i, j] = total
    return out


@pytest.mark.parametrize("manhattan", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_centers", range(1, 10))
def test_sums_equal_the_feature_order_sums_bit_for_bit(manhattan, dtype, n_centers):
    # Four centers at a time, then one by one: every remainder is covered.
    rng = np.random.default_rng(n_centers)
    X = (rng.standard_normal((23, 11)) * 1e3).astype(dtype)
    centers = rng.standard_normal((n_centers, 11)) * 1e3
    out = np.full((23, n_centers), np.nan)
    pairwise_cost(X, centers, manhattan, out)
    assert_array_equal(out, _in_feature_order(X, centers, manhattan))
    diff = X.astype(np.float64)[:, None] - centers[None]
    brute = (np.abs(diff) if manhattan else diff**2).sum(axis=-1)
    assert_allclose(out, brute, rtol=1e-12)


@pytest.mark.parametrize(("metric", "term", "n_features"), METRICS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_metric_gives_the_numpy_sums_for_every_layout(metric, term, n_features, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, n_features)).astype(dtype)
    centers = rng.standard_normal((6, n_features))
    expected = _summed_over_features(X, centers, term)
    assert_array_equal(metric.pairwise_cost(X, centers), expected)
    # Layouts the kernel does not read go through numpy, with the same sums.
    for other in (np.asfortranarray(X), X[::2], X.astype(np.float16)):
        assert_array_equal(
            metric.pairwise_cost(other, centers),
            _summed_over_features(other, centers, term),
        )


@pytest.mark.parametrize(("metric", "term", "n_features"), METRICS)
@pytest.mark.parametrize("n_clusters", [16, 450])
def test_seeding_picks_the_same_centers_as_the_numpy_sums(
    monkeypatch, metric, term, n_features, n_clusters
):
    # 450 clusters take 8 candidates per step: numpy's wide path.
    rng = np.random.default_rng(n_clusters)
    X = np.round(rng.standard_normal((3000, n_features)) * 3).astype(np.float32)
    weights = rng.random(3000)
    compiled = kmeans_plusplus(X, weights, n_clusters, metric, np.random.RandomState(0))
    monkeypatch.setattr(
        metric,
        "pairwise_cost",
        staticmethod(lambda X, c, row_norms=None: _summed_over_features(X, c, term)),
    )
    numpy_sums = kmeans_plusplus(
        X, weights, n_clusters, metric, np.random.RandomState(0)
    )
    assert_array_equal(compiled, numpy_sums)


@pytest.mark.parametrize("estimator", [KMeansL1, KMeansL2])
def test_predict_ranks_as_the_fit_assigned_on_tied_integer_rows(estimator):
    rng = np.random.default_rng(3)
    X = rng.integers(-3, 4, size=(2000, 9)).astype(np.float32)
    model = estimator(40, random_state=0).fit(X)
    assert_array_equal(model.predict(X), model.labels_)


def test_kernel_refuses_arrays_that_do_not_match():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="do not match"):
        pairwise_cost(X, np.zeros((2, 4)), True, np.empty((5, 2)))
    with pytest.raises(ValueError, match="do not match"):
        pairwise_cost(X, np.zeros((2, 3)), False, np.empty((5, 3)))


def test_squares_from_products_are_the_numpy_steps_bit_for_bit():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((301, 40)) * 1e3
    # Centers on rows of X, and near them: some squares round below zero
    # and are clamped, as numpy.maximum clamps them.
    centers = X[[3, 70, 200]] + rng.standard_normal((3, 40)) * np.array(
        [[0.0], [1e-9], [1.0]]
    )
    row_norms = np.einsum("ij,ij->i", X, X)
    center_norms = np.einsum("ij,ij->i", centers, centers)
    product = X @ np.ascontiguousarray(centers.T)
    expected = product * -2.0
    expected += row_norms[:, None]
    expected += center_norms[None, :]
    assert (expected < 0).any()
    np.maximum(expected, 0.0, out=expected)
    squares_from_products(product, row_norms, center_norms)
    assert_array_equal(product.view(np.uint64), expected.view(np.uint64))


def test_squares_from_products_refuses_norms_that_do_not_match():
    with pytest.raises(ValueError, match="do not match"):
        squares_from_products(np.zeros((4, 2)), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="do not match"):
        squares_from_products(np.zeros((4, 2)), np.zeros(4), np.zeros(3))


@pytest.mark.parametrize("n_clusters", [5, 60])
def test_wide_float64_seeding_picks_the_centers_of_pairwise_cost(
    monkeypatch, n_clusters
):
    # Integer values: every product is exact, so the costs of the seeding's
    # own path and of pairwise_cost are the same bits.
    rng = np.random.default_rng(n_clusters)
    X = np.round(rng.standard_normal((2500, 48)) * 4)
    weights = rng.random(2500)
    fast = kmeans_plusplus(X, weights, n_clusters, Euclidean, np.random.RandomState(1))
    monkeypatch.setattr(
        Euclidean,
        "cost_to_centers",
        classmethod(lambda cls, X: lambda c: cls.pairwise_cost(X, c)),
    )
    reference = kmeans_plusplus(
        X, weights, n_clusters, Euclidean, np.random.RandomState(1)
    )
    assert_array_equal(fast, reference)
