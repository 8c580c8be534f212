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


def test_no_weights_count_the_copies_of_each_row():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(20, 3)).astype(np.float32)
    X = rows[rng.integers(0, 20, size=200)]
    weighted = _check_merge(X, np.ones(200))
    counted = merge_duplicate_rows(X, None)
    assert_array_equal(counted.points, weighted.points)
    assert counted.weights.dtype == np.float64
    assert_array_equal(counted.weights, weighted.weights)
    # Positions of 200 rows fit in 32 bits: half the memory of intp.
    assert counted.inverse.dtype == np.int32
    assert_array_equal(counted.points[counted.inverse], X)


def test_hash_collisions_fall_back_to_exact_sorting(monkeypatch):
    def constant_hash(bits):
        return np.zeros(len(bits), np.uint64)

    monkeypatch.setattr(_dedup, "_row_hashes", constant_hash)
    X = np.array([[0.5, 1.5], [2.5, 3.5], [0.5, 1.5]])
    distinct = _check_merge(X, np.ones(3))
    assert len(distinct.points) == 2


def test_packed_keys_beyond_float_precision_stay_distinct():
    # Mixed-radix keys of these rows exceed 2**53; in float64 the first two
    # rows used to share a key.
    X = np.array([[2**29, 0], [2**29, 1], [0, 0], [0, 2**31 - 1]], dtype=float)
    distinct = _check_merge(X, np.ones(4))
    assert len(distinct.points) == 4


def test_random_rows_near_2_to_the_53_match_numpy_unique():
    rng = np.random.default_rng(0)
    for span in (4, 2**20, 2**40):
        base = rng.integers(0, span, size=(200, 3)) + (2**53 - span)
        # Neighbours differing by 1 in the last feature only, and repeats.
        nudged = base.copy()
        nudged[:, -1] = np.where(base[:, -1] > 2**53 - span, base[:, -1] - 1, 2**53)
        X = np.vstack([base, nudged, base[:50]]).astype(float)
        distinct = _check_merge(X, np.ones(len(X)))
        assert len(distinct.points) == len(np.unique(X, axis=0))


def test_kmeans_sees_every_distinct_row_and_its_true_inertia():
    import warnings

    from skclust import KMeansL2

    X = np.array([[2**29, 0], [2**29, 1], [0, 0], [0, 2**31 - 1]], dtype=float)
    km = KMeansL2(3, random_state=0).fit(X)
    # Brute force: the inertia is the squared distance of each row to its center.
    expected = ((X - km.cluster_centers_[km.labels_]) ** 2).sum()
    assert km.inertia_ == expected
    assert km.inertia_ == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fewer distinct points" warning
        km4 = KMeansL2(4, random_state=0).fit(X)
    assert km4.inertia_ == 0.0
    assert len(np.unique(km4.labels_)) == 4


def test_wide_integer_tables_are_refused_packed_keys_on_their_first_rows(
    monkeypatch,
):
    # 64 features of 0..16 (digits): the first rows' spans already make keys
    # too wide, so the columns of the whole table are not scanned for them.
    rng = np.random.default_rng(2)
    X = rng.integers(0, 17, size=(1797, 64)).astype(np.float64)
    seen = []
    spans = _dedup._key_spans

    def recording(rows):
        seen.append(rows.shape[0])
        return spans(rows)

    monkeypatch.setattr(_dedup, "_key_spans", recording)
    assert _dedup._packed_integer_keys(X) is None
    assert seen == [64]
    # Narrow first rows, wide table: refused after the whole table's spans.
    seen.clear()
    X = np.zeros((1797, 64))
    X[-1] = 16
    assert _dedup._packed_integer_keys(X) is None
    assert seen == [64, 1797]
    _check_merge(X, np.ones(1797))
