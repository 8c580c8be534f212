"""Numerical range: k-means and VectorQuantizer on data of any float64 magnitude.

Data drawn at unit scale and multiplied by an exact power of two must give
the unit-scale fit mapped back: the same labels, the centers times the power,
the inertia times the power (L1) or its square (L2), and ``predict`` on the
training data must give ``labels_``.
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skclust import KMeansL1, KMeansL2, VectorQuantizer

# log2 of 1e-300 and 1e300.
_EXPONENTS = st.integers(min_value=-996, max_value=996)
_SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


def _blobs(seed, n=60, n_features=3, n_blobs=3):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-5, 5, size=(n_blobs, n_features))
    return means[rng.integers(n_blobs, size=n)] + rng.normal(size=(n, n_features))


def _power_of_two(exponent):
    return np.ldexp(1.0, exponent)


def _mapped_back(value, exponent):
    with np.errstate(over="ignore"):
        return np.ldexp(value, exponent)


def _assert_close_or_both_inf(actual, expected):
    if np.isinf(expected):
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
@settings(max_examples=30, deadline=None)
@given(exponent=_EXPONENTS, seed=_SEEDS)
def test_kmeans_fit_is_the_unit_fit_mapped_back(estimator, exponent, seed):
    # From the same initial centers (the first rows); the distinct rows are
    # summed in an order that depends on their bits, so the centers agree up
    # to rounding.
    X = _blobs(seed)
    power = 1 if estimator is KMeansL1 else 2
    unit = estimator(3, init=X[:3]).fit(X)
    scaled_X = np.ldexp(X, exponent)
    with warnings.catch_warnings():
        # A squared inertia near 2**1992 cannot be a float64 (checked below).
        warnings.simplefilter("ignore", RuntimeWarning)
        big = estimator(3, init=scaled_X[:3]).fit(scaled_X)
        distances = big.transform(scaled_X)
        score = big.score(scaled_X)
    assert np.isfinite(big.cluster_centers_).all()
    np.testing.assert_array_equal(big.labels_, unit.labels_)
    np.testing.assert_allclose(
        big.cluster_centers_,
        np.ldexp(unit.cluster_centers_, exponent),
        rtol=1e-12,
        atol=np.ldexp(1e-12, exponent),
    )
    np.testing.assert_array_equal(big.predict(scaled_X), big.labels_)
    _assert_close_or_both_inf(
        big.inertia_, _mapped_back(unit.inertia_, power * exponent)
    )
    _assert_close_or_both_inf(-score, _mapped_back(-unit.score(X), power * exponent))
    np.testing.assert_allclose(
        distances,
        np.ldexp(unit.transform(X), exponent),
        rtol=1e-9,
        atol=np.ldexp(1e-9, exponent),
    )


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
@settings(max_examples=30, deadline=None)
@given(exponent=_EXPONENTS, seed=_SEEDS)
def test_kmeans_plusplus_at_any_scale(estimator, exponent, seed):
    # The default seeding draws among distinct rows in an order that depends
    # on their bits, so only the guarantees are compared across scales.
    X = np.ldexp(_blobs(seed), exponent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        km = estimator(3, random_state=seed).fit(X)
    assert np.isfinite(km.cluster_centers_).all()
    assert np.abs(km.cluster_centers_).max() <= np.abs(X).max()
    assert len(set(km.labels_)) == 3
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def _memmap(X, folder):
    table = np.memmap(Path(folder) / "X.dat", np.float64, "w+", shape=X.shape)
    table[:] = X
    table.flush()
    return np.memmap(table.filename, np.float64, "r", shape=X.shape)


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
@settings(max_examples=20, deadline=None)
@given(exponent=_EXPONENTS, seed=_SEEDS)
def test_kmeans_read_in_blocks_is_the_in_memory_fit_at_any_scale(
    estimator, exponent, seed
):
    # A memory map read in blocks of 16 rows, from the in-memory fit's
    # initial centers: the same labels, centers up to the rounding of sums
    # taken in another order, and predict giving labels_.
    X = np.ldexp(_blobs(seed), exponent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        in_memory = estimator(3, init=X[:3]).fit(X)
        with tempfile.TemporaryDirectory() as folder:
            table = _memmap(X, folder)
            blocked = estimator(3, init=X[:3], batch_size=16).fit(table)
            predicted = blocked.predict(table)
    assert np.isfinite(blocked.cluster_centers_).all()
    np.testing.assert_array_equal(blocked.labels_, in_memory.labels_)
    np.testing.assert_array_equal(predicted, blocked.labels_)
    np.testing.assert_allclose(
        blocked.cluster_centers_,
        in_memory.cluster_centers_,
        rtol=1e-12,
        atol=np.ldexp(1e-12, exponent),
    )
    _assert_close_or_both_inf(blocked.inertia_, in_memory.inertia_)


@pytest.mark.parametrize("scale", [1e306, 1e307, 1.7e308])
def test_kmeans_l2_near_the_top_of_float64(scale):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.uniform(-1, -0.5, (30, 2)), rng.uniform(0.5, 1, (30, 2))])
    X *= scale
    with pytest.warns(RuntimeWarning, match="inertia exceeds the float64 range"):
        km = KMeansL2(2, random_state=0).fit(X)
    assert np.isfinite(km.cluster_centers_).all()
    assert np.all(np.abs(km.cluster_centers_) <= np.abs(X).max())
    assert km.inertia_ == np.inf
    # The two halves, brute force: every row's sign says its half.
    halves = X[:, 0] > 0
    assert len(set(km.labels_[halves])) == 1
    assert len(set(km.labels_[~halves])) == 1
    assert km.labels_[halves][0] != km.labels_[~halves][0]
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
def test_kmeans_on_subnormal_values(estimator):
    # Integers times the smallest subnormal: the data is exact, and the fit
    # must be the fit of the integers mapped back, up to the rounding of
    # the centers to the subnormal grid.
    rng = np.random.default_rng(1)
    integers = np.concatenate(
        [rng.integers(0, 50, (40, 2)), rng.integers(1000, 1050, (40, 2))]
    ).astype(float)
    tiny = np.ldexp(1.0, -1074)
    X = integers * tiny
    assert np.all(X[X != 0] < np.finfo(float).tiny)
    km = estimator(2, init=X[[0, -1]]).fit(X)
    unit = estimator(2, init=integers[[0, -1]]).fit(integers)
    assert np.isfinite(km.cluster_centers_).all()
    np.testing.assert_array_equal(km.labels_, unit.labels_)
    np.testing.assert_allclose(
        km.cluster_centers_ / tiny, unit.cluster_centers_, atol=1, rtol=0
    )
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert np.isfinite(km.inertia_)


@pytest.mark.parametrize("estimator", [KMeansL2, KMeansL1])
def test_kmeans_read_in_blocks_on_subnormal_values(estimator, tmp_path):
    rng = np.random.default_rng(2)
    integers = np.concatenate(
        [rng.integers(0, 50, (40, 2)), rng.integers(1000, 1050, (40, 2))]
    ).astype(float)
    X = integers * np.ldexp(1.0, -1074)
    in_memory = estimator(2, init=X[[0, -1]]).fit(X)
    table = _memmap(X, tmp_path)
    blocked = estimator(2, init=X[[0, -1]], batch_size=16).fit(table)
    np.testing.assert_array_equal(blocked.labels_, in_memory.labels_)
    np.testing.assert_array_equal(blocked.cluster_centers_, in_memory.cluster_centers_)
    np.testing.assert_array_equal(blocked.predict(table), blocked.labels_)
    assert np.isfinite(blocked.inertia_)


def test_kmeans_mixed_signs_near_1e307():
    X = np.array([[1e307, 1e307], [9e306, 1.1e307], [-1e307, -1e307], [-9e306, -1e307]])
    with pytest.warns(RuntimeWarning, match="inertia"):
        km = KMeansL2(2, random_state=0).fit(X)
    assert np.isfinite(km.cluster_centers_).all()
    assert km.labels_[0] == km.labels_[1] != km.labels_[2] == km.labels_[3]
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@settings(max_examples=30, deadline=None)
@given(exponent=st.integers(min_value=-45, max_value=45), seed=_SEEDS)
def test_vector_quantizer_fit_is_the_unit_fit_mapped_back(exponent, seed):
    X = _blobs(seed, n=40, n_features=4)
    scaled_X = np.ldexp(X, exponent)
    # From the same initial centroids (the first rows), as in the k-means
    # test: the codebooks agree up to the rounding of the sums.
    init = X[:4].reshape(4, 2, 2).transpose(1, 0, 2)
    kwargs = dict(n_clusters=4, n_subvectors=2, normalize=False)
    unit = VectorQuantizer(**kwargs, init=init).fit(X)
    big = VectorQuantizer(**kwargs, init=np.ldexp(init, exponent)).fit(scaled_X)
    assert np.isfinite(big.codebook_).all()
    codes = big.transform(scaled_X)
    np.testing.assert_array_equal(codes, unit.transform(X))
    np.testing.assert_allclose(
        big.codebook_, np.ldexp(unit.codebook_, exponent), rtol=1e-6
    )
    np.testing.assert_allclose(
        big.inverse_transform(codes),
        np.ldexp(unit.inverse_transform(codes), exponent),
        rtol=1e-6,
    )
    assert big.score(scaled_X) == pytest.approx(unit.score(X), rel=1e-6)


@pytest.mark.parametrize("scale", [1e300, 1e20, 1e-20, 1e-300, 5e-324])
def test_vector_quantizer_refuses_magnitudes_float32_cannot_hold(scale):
    X = _blobs(0, n=40, n_features=4) * scale
    with pytest.raises(ValueError, match=r"largest magnitude in X is .*normalize=True"):
        VectorQuantizer(4, normalize=False, random_state=0).fit(X)
    with pytest.raises(ValueError, match="largest magnitude in X"):
        VectorQuantizer(4, normalize=False, batch_size=16, random_state=0).fit(X)
    fitted = VectorQuantizer(4, normalize=False, random_state=0).fit(X / scale)
    with pytest.raises(ValueError, match="largest magnitude in X"):
        fitted.transform(X)


@pytest.mark.parametrize("exponent", [996, -996, -1070])
def test_vector_quantizer_normalizes_rows_of_any_magnitude(exponent):
    X = _blobs(0, n=40, n_features=4)
    unit = VectorQuantizer(4, random_state=0).fit(X)
    scaled_X = np.ldexp(X, exponent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = VectorQuantizer(4, random_state=0).fit(scaled_X)
        codes = extreme.transform(scaled_X)
        score = extreme.score(scaled_X)
    assert np.isfinite(extreme.codebook_).all()
    assert np.isfinite(score)
    if exponent > -1022:
        # Scaled by a power of two without reaching subnormals, the rows have
        # exactly the directions of the unit-scale rows.
        np.testing.assert_array_equal(codes, unit.transform(X))
        assert score == pytest.approx(unit.score(X), rel=1e-12)
    else:
        # Subnormal rows keep a few bits: their directions are close.
        assert score > 0.5
