"""The compiled Manhattan distances of k-means++ seeding and L1 ranking."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skclust import KMeansL1
from skclust._kmeans._bounds import pairwise_manhattan
from skclust._kmeans._engine import kmeans_plusplus
from skclust._kmeans._metrics import Manhattan, _summed_over_features


def _in_feature_order(X, centers):
    """Each distance summed one feature after the other in Python floats."""
    out = np.empty((X.shape[0], centers.shape[0]))
    for i, row in enumerate(X.tolist()):
        for j, center in enumerate(centers.tolist()):
            total = 0.0
            for x, c in zip(row, center, strict=True):
                total += abs(x - c)
            out[i, j] = total
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_centers", range(1, 10))
def test_sums_equal_the_feature_order_sums_bit_for_bit(dtype, n_centers):
    # Four centers at a time, then one by one: every remainder is covered.
    rng = np.random.default_rng(n_centers)
    X = (rng.standard_normal((23, 11)) * 1e3).astype(dtype)
    centers = rng.standard_normal((n_centers, 11)) * 1e3
    out = np.full((23, n_centers), np.nan)
    pairwise_manhattan(X, centers, out)
    assert_array_equal(out, _in_feature_order(X, centers))
    brute = np.abs(X.astype(np.float64)[:, None] - centers[None]).sum(axis=-1)
    assert_allclose(out, brute, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_metric_gives_the_numpy_sums_for_every_layout(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 40)).astype(dtype)
    centers = rng.standard_normal((6, 40))
    expected = _summed_over_features(X, centers, np.abs)
    assert_array_equal(Manhattan.pairwise(X, centers), expected)
    # Layouts the kernel does not read go through numpy, with the same sums.
    for other in (np.asfortranarray(X), X[::2], X.astype(np.float16)):
        assert_array_equal(
            Manhattan.pairwise(other, centers),
            _summed_over_features(other, centers, np.abs),
        )


@pytest.mark.parametrize("n_clusters", [16, 450])
def test_seeding_picks_the_same_centers_as_the_numpy_sums(monkeypatch, n_clusters):
    # 450 clusters take 8 candidates per step: numpy's wide path.
    rng = np.random.default_rng(n_clusters)
    X = np.round(rng.standard_normal((3000, 16)) * 3).astype(np.float32)
    weights = rng.random(3000)
    compiled = kmeans_plusplus(
        X, weights, n_clusters, Manhattan, np.random.RandomState(0)
    )
    monkeypatch.setattr(
        Manhattan,
        "pairwise_cost",
        staticmethod(lambda X, c: _summed_over_features(X, c, np.abs)),
    )
    numpy_sums = kmeans_plusplus(
        X, weights, n_clusters, Manhattan, np.random.RandomState(0)
    )
    assert_array_equal(compiled, numpy_sums)


def test_predict_ranks_as_the_fit_assigned_on_tied_integer_rows():
    rng = np.random.default_rng(3)
    X = rng.integers(-3, 4, size=(2000, 9)).astype(np.float32)
    model = KMeansL1(40, random_state=0).fit(X)
    assert_array_equal(model.predict(X), model.labels_)


def test_kernel_refuses_arrays_that_do_not_match():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="do not match"):
        pairwise_manhattan(X, np.zeros((2, 4)), np.empty((5, 2)))
    with pytest.raises(ValueError, match="do not match"):
        pairwise_manhattan(X, np.zeros((2, 3)), np.empty((5, 3)))
