"""KMeansL2 and KMeansL1 on memory maps and dask arrays, through the engine.

From the same explicit init, a table read in blocks gives the labels and
centers of the in-memory fit: the same exact assignment, means up to the
order of the sums, and exactly the same medians.
"""

import operator
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs

from skclust import KMeansL1, KMeansL2
from skclust._kmeans._blocked import RowBounds, _float32_at_least, _float32_at_most
from skclust._kmeans._cluster_sums import sum_paths, sum_rows_by_label
from skclust._kmeans._medians import key_values, select_medians, sortable_keys
from skclust._kmeans._out_of_core import keeps_bounds
from skclust._kmeans._sources import ArraySource, streamed_tree_sum, tree_sum


def _mapped(tmp_path, X):
    np.save(tmp_path / "table.npy", X)
    return np.load(tmp_path / "table.npy", mmap_mode="r")


def _blobs(n_features, seed=0, n_samples=3000):
    X, _ = make_blobs(n_samples, n_features=n_features, centers=8, random_state=seed)
    return X


def _assert_same_fit(blocked, in_memory, exact_centers):
    assert_array_equal(blocked.labels_, in_memory.labels_)
    if exact_centers:
        assert_array_equal(blocked.cluster_centers_, in_memory.cluster_centers_)
    else:
        assert_allclose(
            blocked.cluster_centers_, in_memory.cluster_centers_, rtol=1e-12, atol=1e-12
        )
    assert blocked.n_iter_ == in_memory.n_iter_
    assert blocked.inertia_ == pytest.approx(in_memory.inertia_, rel=1e-10)


def _pixels(seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(12, 3))
    noise = rng.integers(-20, 21, size=(4000, 3))
    return np.clip(base[rng.integers(0, 12, 4000)] + noise, 0, 255).astype(float)


# 3 features: compiled scan; 24: compiled matrix-product ranking.
@pytest.mark.parametrize("n_features", [3, 24])
def test_l2_on_a_memmap_equals_the_in_memory_fit(tmp_path, n_features):
    X = _blobs(n_features)
    init = X[np.random.default_rng(1).choice(len(X), 8, replace=False)]
    params = dict(n_clusters=8, init=init, tol=0.0)
    in_memory = KMeansL2(**params).fit(X)
    blocked = KMeansL2(**params, batch_size=700).fit(_mapped(tmp_path, X))
    _assert_same_fit(blocked, in_memory, exact_centers=False)
    assert_array_equal(blocked.predict(_mapped(tmp_path, X)), in_memory.labels_)


# 24 features, bounds kept or not (blocks of 10,000 or 1,000 rows): float32
# rows stay float32 as in memory, centered on the same float32 mean, so even
# heavily overlapping clusters get the same labels and float32 centers (the
# float64 rows of before gave centers 4e-6 away).
@pytest.mark.parametrize("batch_size", [10_000, 1_000])
def test_l2_on_a_float32_memmap_equals_the_in_memory_fit(tmp_path, batch_size):
    rng = np.random.default_rng(3)
    topics = rng.normal(size=(16, 24))
    X = topics[rng.integers(0, 16, 20_000)] + rng.normal(scale=0.9, size=(20_000, 24))
    X = (X + 100.0).astype(np.float32)
    params = dict(n_clusters=16, init=X[:16].astype(np.float64), tol=0.0, max_iter=30)
    in_memory = KMeansL2(**params).fit(X)
    blocked = KMeansL2(**params, batch_size=batch_size).fit(_mapped(tmp_path, X))
    assert blocked.cluster_centers_.dtype == np.float32
    assert_array_equal(blocked.labels_, in_memory.labels_)
    # float64 means summed in two orders, then rounded to the same float32.
    assert_array_equal(blocked.cluster_centers_, in_memory.cluster_centers_)
    assert blocked.inertia_ == pytest.approx(in_memory.inertia_, rel=1e-10)


@pytest.mark.parametrize(
    "make", [lambda: _blobs(4, seed=2), _pixels, lambda: _mixed_columns()]
)
def test_l1_on_a_memmap_has_the_exact_medians_of_the_in_memory_fit(tmp_path, make):
    X = make()
    init = X[np.random.default_rng(3).choice(len(X), 6, replace=False)]
    params = dict(n_clusters=6, init=init, tol=0.0, max_iter=30)
    in_memory = KMeansL1(**params).fit(X)
    blocked = KMeansL1(**params, batch_size=512).fit(_mapped(tmp_path, X))
    _assert_same_fit(blocked, in_memory, exact_centers=True)


def _mixed_columns():
    # A column of small integers (histogram), one of floats with many
    # repeated values (ties at the median), one of floats spanning signs and
    # exponents (several counting passes).
    rng = np.random.default_rng(4)
    n = 3000
    return np.column_stack(
        [
            rng.integers(0, 40, n),
            np.round(rng.normal(size=n), 1),
            rng.standard_cauchy(n) * 1e3,
        ]
    ).astype(float)


def test_empty_clusters_move_to_the_same_points_as_in_memory(tmp_path):
    X = _blobs(4, seed=5)
    init = np.vstack([X[:4], [[500.0] * 4, [-500.0] * 4]])
    for Estimator in (KMeansL2, KMeansL1):
        params = dict(n_clusters=6, init=init, tol=0.0, max_iter=50)
        in_memory = Estimator(**params).fit(X)
        blocked = Estimator(**params, batch_size=400).fit(_mapped(tmp_path, X))
        _assert_same_fit(blocked, in_memory, exact_centers=Estimator is KMeansL1)
        assert np.bincount(blocked.labels_, minlength=6).min() > 0


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_seeded_memmap_fit_is_a_lloyd_fixed_point(tmp_path, Estimator):
    X = _blobs(5, seed=6)
    km = Estimator(8, n_init=3, random_state=0, batch_size=1000)
    km.fit(_mapped(tmp_path, X))
    # Refitting in memory from the centers found changes nothing.
    again = Estimator(8, init=km.cluster_centers_, tol=0.0).fit(X)
    assert_array_equal(again.labels_, km.labels_)
    assert again.n_iter_ <= 2


def test_memmap_input_errors(tmp_path):
    X = _mapped(tmp_path, _blobs(3))
    with pytest.raises(ValueError, match="sample_weight is not supported"):
        KMeansL2(3, batch_size=100).fit(X, sample_weight=np.ones(len(X)))
    with pytest.raises(ValueError, match="larger than the number of rows"):
        KMeansL2(4000, batch_size=100).fit(X)
    fitted = KMeansL2(3, batch_size=100, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(_mapped(tmp_path, _blobs(4)))


# --- bounds kept between passes ----------------------------------------------


@pytest.fixture
def bound_passes(monkeypatch):
    """Counts the sub-blocks assigned through kept bounds."""
    calls = []
    assign = RowBounds.assign

    def counted(self, *args):
        calls.append(args[2])
        return assign(self, *args)

    monkeypatch.setattr(RowBounds, "assign", counted)
    return calls


# 3 features: compiled scan; 20: L2 matrix products, L1 scan in numpy. The
# init puts two centers far away: their clusters empty and are relocated.
@pytest.mark.parametrize("n_features", [3, 20])
@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_a_fit_keeping_bounds_equals_the_in_memory_fit(
    tmp_path, bound_passes, Estimator, n_features
):
    X = _blobs(n_features, seed=10)
    init = np.vstack([X[:5], np.full((2, n_features), 300.0)])
    params = dict(n_clusters=7, init=init, tol=0.0, max_iter=40)
    in_memory = Estimator(**params).fit(X)
    # Blocks of half the rows hold more bytes than the state of every row.
    blocked = Estimator(**params, batch_size=1500).fit(_mapped(tmp_path, X))
    assert bound_passes
    _assert_same_fit(blocked, in_memory, exact_centers=Estimator is KMeansL1)
    assert np.bincount(blocked.labels_, minlength=7).min() > 0


def test_bounds_are_kept_while_they_take_no_more_memory_than_a_block(tmp_path):
    X = _mapped(tmp_path, _blobs(3))  # 3000 rows of 3 float64: 12 bytes a row
    assert keeps_bounds(ArraySource(X, 1500, None), n_runs=1)
    assert not keeps_bounds(ArraySource(X, 1499, None), n_runs=1)
    assert not keeps_bounds(ArraySource(X, 1500, None), n_runs=2)
    assert keeps_bounds(ArraySource(X, 3000, None), n_runs=2)


def test_a_memmap_fit_allocates_little_beyond_its_block(tmp_path):
    # One block of the whole table (51 MB): the fit's scratch memory is a few
    # sub-blocks (8 MB each), not float64 copies of the block (which took 4
    # times the block).
    X = np.random.default_rng(0).normal(size=(400_000, 32)).astype(np.float32)
    mapped = _mapped(tmp_path, X)
    block_bytes = X.nbytes
    tracemalloc.start()
    try:
        KMeansL2(16, init=X[:16], tol=0.0, max_iter=3, batch_size=len(X)).fit(mapped)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * block_bytes


def test_float32_bounds_round_outward():
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.normal(size=1000) * 1e3, [0.0, -np.inf, np.inf]])
    state = RowBounds(values.size, 2)
    state.upper[:] = _float32_at_least(values)
    state.lower[:] = _float32_at_most(values)
    assert (state.upper.astype(np.float64) >= values).all()
    assert (state.lower.astype(np.float64) <= values).all()
    # ... by at most one float32 step.
    assert_allclose(state.upper[:1000], values[:1000], rtol=2.0**-23)
    assert_allclose(state.lower[:1000], values[:1000], rtol=2.0**-23)


# --- dask on a LocalCluster --------------------------------------------------


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_dask_array_on_a_cluster_equals_the_in_memory_fit(Estimator, dask_client):
    da = pytest.importorskip("dask.array")
    X = _mixed_columns() if Estimator is KMeansL1 else _blobs(20, seed=7)
    init = X[np.random.default_rng(8).choice(len(X), 6, replace=False)]
    params = dict(n_clusters=6, init=init, tol=0.0, max_iter=30)
    in_memory = Estimator(**params).fit(X)
    lazy = da.from_array(X, chunks=(700, 2))  # columns get rechunked
    on_cluster = Estimator(**params).fit(lazy)
    _assert_same_fit(on_cluster, in_memory, exact_centers=Estimator is KMeansL1)
    labels = on_cluster.predict(lazy)
    assert isinstance(labels, da.Array)
    assert_array_equal(labels.compute(), in_memory.predict(X))


# --- the pieces --------------------------------------------------------------


class _Sum(str):
    """A sum that shows its parentheses."""

    def __add__(self, other):
        return _Sum(f"({self}+{other})")


def test_streamed_tree_sum_adds_in_the_order_of_tree_sum():
    for n in range(1, 20):
        items = [_Sum(i) for i in range(n)]
        assert streamed_tree_sum(iter(items)) == tree_sum(items, operator.add)


def test_sortable_keys_order_floats():
    values = np.array([-np.inf, -1e300, -2.5, -1e-300, -0.0, 0.0, 1e-300, 3.0, np.inf])
    keys = sortable_keys(values)
    assert (np.diff(keys.astype(object)) > 0).all()
    assert_array_equal(key_values(keys), values)


def _two_blocks(values, labels):
    """A ``refine`` over two blocks, added as a source adds them."""
    half = values.shape[0] // 2

    def refine(kernel, *args):
        return kernel(values[:half], labels[:half], *args) + kernel(
            values[half:], labels[half:], *args
        )

    return refine


def test_select_medians_equals_numpy_median_by_brute_force():
    rng = np.random.default_rng(9)
    for trial in range(30):
        n, k = int(rng.integers(1, 3000)), int(rng.integers(1, 5))
        kind = trial % 3
        if kind == 0:
            values = rng.normal(size=(n, 2)) * 10.0 ** rng.integers(-5, 5)
        elif kind == 1:
            values = rng.integers(-3, 4, size=(n, 2)).astype(float) / 4
        else:
            values = rng.standard_cauchy((n, 2))
        labels = rng.integers(0, k, n)
        sizes = np.bincount(labels, minlength=k)
        keys = sortable_keys(values)
        low = np.full((k, 2), np.iinfo(np.uint64).max, dtype=np.uint64)
        high = np.zeros((k, 2), dtype=np.uint64)
        for j in range(2):
            np.minimum.at(low[:, j], labels, keys[:, j])
            np.maximum.at(high[:, j], labels, keys[:, j])

        refine = _two_blocks(values, labels)
        medians = select_medians(sizes, low, high, [0, 1], refine)
        for c in range(k):
            if sizes[c] == 0:
                assert np.isnan(medians[c]).all()
            else:
                assert_array_equal(medians[c], np.median(values[labels == c], axis=0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_sums_add_the_rows_of_each_cluster_in_row_order(dtype):
    from skclust._kmeans._metrics import MeanStats

    rows = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0], [5.0, 6.0]], dtype=dtype)
    stats = MeanStats.of(rows, np.array([1, 1, 0, 1], dtype=np.intp), 3)
    assert stats.sizes.tolist() == [1, 3, 0]
    assert stats.sums.tolist() == [[10.0, 20.0], [9.0, 12.0], [0.0, 0.0]]
    # Many rows: each cluster's float64 sum in row order, as np.add.at adds.
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((5000, 7)).astype(dtype)
    labels = rng.integers(0, 9, 5000).astype(np.intp)
    expected = np.zeros((9, 7))
    np.add.at(expected, labels, rows.astype(np.float64))
    stats = MeanStats.of(rows, labels, 9)
    assert_array_equal(stats.sums, expected)
    assert_array_equal(stats.sizes, np.bincount(labels, minlength=9))
    with pytest.raises(ValueError, match="do not match"):
        sum_rows_by_label(rows, labels[:-1], np.zeros((9, 7)), np.zeros(9, np.intp))


@pytest.mark.parametrize("path", sum_paths())
@pytest.mark.parametrize("width", [1, 3, 4, 5, 8, 13, 32])
def test_block_sums_of_float32_rows_are_those_of_numpy_in_every_loop(path, width):
    # The AVX2 loop adds four features at a time and the rest (width % 4)
    # one by one; every loop must give numpy's float64 sums in row order.
    rng = np.random.default_rng(width)
    # Values whose float64 sums round differently in another order.
    rows = (
        rng.standard_normal((3000, width)) * 10.0 ** rng.integers(-6, 7, 3000)[:, None]
    ).astype(np.float32)
    labels = rng.integers(0, 5, 3000).astype(np.intp)
    labels[:40] = 2  # a run of one cluster: each row waits on the previous sum
    expected = np.full((5, width), 0.25)
    np.add.at(expected, labels, rows.astype(np.float64))
    sums, sizes = np.full((5, width), 0.25), np.full(5, 3, dtype=np.intp)
    sum_rows_by_label(rows, labels, sums, sizes, path)
    assert_array_equal(sums, expected)
    assert_array_equal(sizes, 3 + np.bincount(labels, minlength=5))


def test_block_sums_refuse_an_unknown_loop():
    rows = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="'avx9' is not one of"):
        sum_rows_by_label(
            rows, np.zeros(2, np.intp), np.zeros((1, 3)), np.zeros(1, np.intp), "avx9"
        )
