"""The k-means|| rounds that refine the block kernels' k-means++ seeds."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skclust import KMeansL2, VectorQuantizer
from skclust._kmeans import (
    ArraySource,
    Euclidean,
    Euclidean32,
    seed_from_sample,
    seeding_sample,
)
from skclust._kmeans._metrics import Manhattan
from skclust._kmeans._oversampling import (
    CandidateRun,
    block_seeds,
    oversampling_rounds,
)


def _separated_blobs(sizes, n_features=3, spread=1000.0, seed=0):
    """Blobs of the given sizes and unit spread, their centers on the
    diagonal ``spread * sqrt(n_features)`` apart, in random order."""
    rng = np.random.default_rng(seed)
    centers = (
        spread
        * rng.permutation(np.arange(len(sizes)))[:, None]
        * np.ones((1, n_features))
    )
    rows = [
        c + rng.normal(size=(size, n_features))
        for c, size in zip(centers, sizes, strict=True)
    ]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return np.concatenate(rows), labels


# Eleven blobs of 300 rows and five of 8: a sample of 8 * 16 = 128 of the
# 3,340 rows holds about 0.3 rows of each small blob.
_SIZES = [300] * 11 + [8] * 5


def _blob_of_each_seed(X, labels, seeds):
    nearest = ((seeds[:, None, :] - X[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return labels[nearest]


def test_the_sample_alone_misses_small_blobs_that_the_rounds_find():
    X, labels = _separated_blobs(_SIZES)
    source = ArraySource(X, 1000, None)
    # Seed 0: the 8 * 16-row sample holds no row of two small blobs, so
    # k-means++ on it gives two large blobs two seeds each.
    sample = seeding_sample(source, 16, np.random.RandomState(0))
    missed = set(range(16)) - set(labels[np.isin(X[:, 0], sample[:, 0])])
    assert missed == {14, 15}
    alone = seed_from_sample(
        sample, 16, "k-means++", Euclidean, np.random.RandomState(1)
    )
    assert len(set(_blob_of_each_seed(X, labels, alone))) == 14
    for seed in range(5):
        (seeds,) = block_seeds(
            source,
            Euclidean,
            [slice(None)],
            16,
            "k-means++",
            np.random.RandomState(seed),
            [np.random.RandomState(seed + 1)],
        )
        assert_array_equal(np.sort(_blob_of_each_seed(X, labels, seeds)), np.arange(16))


def test_a_default_fit_in_blocks_puts_one_center_in_each_blob(tmp_path):
    # Through KMeansL2 on a memory map read in blocks, and VectorQuantizer
    # given a batch_size: the sample alone left two blobs on one center.
    X, labels = _separated_blobs(_SIZES)
    path = tmp_path / "blobs.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    km = KMeansL2(16, random_state=0, batch_size=1000).fit(mapped)
    assert_array_equal(
        np.sort(_blob_of_each_seed(X, labels, km.cluster_centers_)), np.arange(16)
    )
    vq = VectorQuantizer(16, normalize=False, random_state=0, batch_size=1000).fit(X)
    centers = vq.codebook_[0].astype(np.float64)
    assert_array_equal(np.sort(_blob_of_each_seed(X, labels, centers)), np.arange(16))


@pytest.mark.parametrize("metric", [Euclidean, Euclidean32, Manhattan])
def test_seeds_depend_on_the_random_state_not_on_the_blocks(metric):
    X = np.random.default_rng(0).normal(size=(700, 4))

    def seeds(batch_rows, state):
        return block_seeds(
            ArraySource(X, batch_rows, None),
            metric,
            [slice(0, 2), slice(2, 4)],
            8,
            "k-means++",
            np.random.RandomState(state),
            [np.random.RandomState(state + 1), np.random.RandomState(state + 2)],
        )

    first = seeds(100, 0)
    for again in (seeds(100, 0), seeds(333, 0), seeds(700, 0)):
        for a, b in zip(first, again, strict=True):
            assert_array_equal(a, b)
    assert not np.array_equal(first[0], seeds(100, 5)[0])
    # Every seed is a row of its columns.
    for centers, cols in zip(first, [slice(0, 2), slice(2, 4)], strict=True):
        assert (centers[:, None, :] == X[None, :, cols]).all(axis=2).any(axis=1).all()


@pytest.mark.parametrize("metric", [Euclidean, Manhattan])
def test_candidate_weights_and_costs_are_the_brute_force_ones(metric):
    # Every row's cost is its squared distance (L1: its distance) to the
    # nearest candidate, and each candidate weighs the rows nearest to it
    # (ties: the earlier candidate), whatever the rounds drew.
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, size=(60, 2)).astype(float)
    weight = rng.integers(0, 3, size=60).astype(float)
    run = CandidateRun(slice(None), 60, weight, np.random.RandomState(0))
    run.add(X[[0, 1]])
    oversampling_rounds(ArraySource(X, 7, None), metric, [run], 3, 2, 1.0)
    candidates = np.concatenate(run.candidates)
    assert candidates.shape[0] > 2
    gaps = X[:, None, :] - candidates[None, :, :]
    if metric is Manhattan:
        costs = np.abs(gaps).sum(axis=2)
    else:
        costs = (gaps**2).sum(axis=2)
    assert_allclose(run.cost, costs.min(axis=1), atol=1e-9)
    nearest = costs.argmin(axis=1)
    expected = np.zeros(candidates.shape[0])
    for row, j in enumerate(nearest):
        expected[j] += weight[row]
    assert_array_equal(run.weights(), expected)


class _Uniforms:
    """A random state whose uniforms are given."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def uniform(self, size):
        drawn, self.values = self.values[:size], self.values[size:]
        return drawn


@pytest.mark.parametrize(
    "uniforms, drawn",
    [([0.14, 0.67, 0.0], [0, 1]), ([0.15, 0.68, 0.0], []), ([0.0, 0.0, 0.5], [0, 1])],
)
def test_a_row_of_weight_w_is_drawn_as_w_copies_are(uniforms, drawn):
    # Costs 1, 3 and 5, weights 1, 2 and 0: total 1 + 6 = 7. With one row
    # drawn per round in expectation, a copy of the first is drawn with
    # probability 1/7 (0.1429), of the second 3/7, so the second (two
    # copies) is drawn when either copy is: 1 - (4/7)**2 = 33/49 (0.6735).
    # A row of weight zero is never drawn.
    run = CandidateRun(slice(None), 3, np.array([1.0, 2.0, 0.0]), _Uniforms(uniforms))
    run.cost = np.array([1.0, 3.0, 5.0])
    assert_array_equal(run.draw(1.0), drawn)


def test_integer_weights_draw_as_repeated_rows_do():
    # The same table with its rows repeated and with integer weights: the
    # probability of drawing each distinct row agrees (over 4,000 rounds).
    costs = np.array([1.0, 2.0, 4.0, 0.5])
    weights = np.array([3.0, 1.0, 2.0, 4.0])
    repeated = np.repeat(costs, weights.astype(int))
    owner = np.repeat(np.arange(4), weights.astype(int))
    weighted = CandidateRun(slice(None), 4, weights, np.random.RandomState(0))
    weighted.cost = costs
    copies = CandidateRun(slice(None), repeated.size, None, np.random.RandomState(1))
    copies.cost = repeated
    a, b = np.zeros(4), np.zeros(4)
    for _ in range(4000):
        a[weighted.draw(2.0)] += 1
        b[np.unique(owner[copies.draw(2.0)])] += 1
    assert_allclose(a / 4000, b / 4000, atol=0.03)
    total = costs @ weights
    assert_allclose(a / 4000, 1 - (1 - 2 * costs / total) ** weights, atol=0.03)


def test_a_table_of_fewer_distinct_rows_than_clusters_repeats_with_one_warning():
    X = np.repeat(np.arange(5.0)[:, None], 40, axis=0)
    source = ArraySource(X, 64, None)
    with pytest.warns(Warning, match="the centers repeat") as caught:
        (seeds,) = block_seeds(
            source,
            Euclidean,
            [slice(None)],
            8,
            "k-means++",
            np.random.RandomState(0),
            [np.random.RandomState(1)],
        )
    assert len(caught) == 1
    assert_array_equal(np.unique(seeds), np.arange(5.0))


def test_the_draws_do_not_depend_on_how_many_rows_are_drawn_at_a_time(
    monkeypatch,
):
    import skclust._kmeans._oversampling as oversampling

    cost = np.random.default_rng(2).exponential(size=1000).astype(np.float32)
    weight = np.random.default_rng(3).integers(0, 4, size=1000).astype(float)

    def drawn():
        run = CandidateRun(slice(None), 1000, weight, np.random.RandomState(4))
        run.cost = cost
        return run.draw(50.0)

    whole = drawn()
    monkeypatch.setattr(oversampling, "_DRAW_ROWS", 7)
    assert_array_equal(drawn(), whole)
    assert 20 < whole.size < 80
