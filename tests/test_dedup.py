"""Exact merging of repeated rows."""

import numpy as np
from numpy.testing import assert_array_equal

from skclust._kmeans import _dedup
from skclust._kmeans._dedup import merge_duplicate_rows


def _check_merge(X, weights):
    distinct = merge_duplicate_rows(X, weights)
    assert_array_equal(distinct.points[distinct.inverse], X)
    assert len(np.unique(distinct.points, axis=0)) == len(distinct.points)
    for i, row in enumerate(distinct.points):
        assert distinct.weights[i] == weights[(X == row).all(axis=1)].sum()
    return distinct


def test_integer_rows_are_merged_with_summed_weights():
    X = np.array([[1, 2], [3, 4], [1, 2], [1, 2], [0, 0]], dtype=float)
    distinct = _check_merge(X, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert len(distinct.points) == 3


def test_float_rows_and_signed_zero():
    X = np.array([[0.5, -0.0], [0.5, 0.0], [0.25, 1e-300], [0.25, 1e-300]])
    distinct = _check_merge(X, np.ones(4))
    assert len(distinct.points) == 2


def test_order_depends_only_on_the_set_of_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    first = merge_duplicate_rows(X, np.ones(50))
    shuffled = np.repeat(X[rng.permutation(50)], 3, axis=0)
    second = merge_duplicate_rows(shuffled, np.ones(150))
    assert_array_equal(first.points, second.points)
    assert_array_equal(second.weights, 3 * first.weights)


def test_hash_collisions_fall_back_to_exact_sorting(monkeypatch):
    def constant_hash(bits):
        return np.zeros(len(bits), np.uint64)

    monkeypatch.setattr(_dedup, "_row_hashes", constant_hash)
    X = np.array([[0.5, 1.5], [2.5, 3.5], [0.5, 1.5]])
    distinct = _check_merge(X, np.ones(3))
    assert len(distinct.points) == 2
