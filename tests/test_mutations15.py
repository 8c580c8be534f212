"""Tests that kill the mutants the rest of the suite let live (mutk15).

Each test checks a property against a hand-worked example, brute force or
numpy, never against a value computed by the code under test. The mutants
they kill are listed in the report of session 15 (mutk15).
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skclust import KMeansL1, KMeansL2, MemoryUsage, VectorQuantizer
from skclust._kmeans import _medians
from skclust._kmeans._dedup import merge_duplicate_rows
from skclust._kmeans._engine import random_points, seeding_sample
from skclust._kmeans._medians import grouped_medians
from skclust._kmeans._sources import ArraySource
from skclust._vq._codes import decode_codes
from skclust._vq._scale import _farthest_first
from skclust.datasets import make_embeddings

ESTIMATORS = [KMeansL2, KMeansL1]


# --- Empty clusters ----------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_empty_cluster_never_takes_the_last_point_of_another(Estimator):
    # Centers 0, 100, 1000 on the points 0, 1, 2, 60: 60 is alone in the
    # cluster of 100 and farthest from its center (40), so it stays; the
    # next farthest, 2 (at 2 from 0), moves to the empty cluster of 1000.
    # Hand-worked after one step: 0.5 (of 0 and 1), 60, 2.
    X = np.array([[0.0], [1.0], [2.0], [60.0]])
    init = np.array([[0.0], [100.0], [1000.0]])
    km = Estimator(3, init=init, max_iter=1).fit(X)
    assert_array_equal(km.cluster_centers_.ravel(), [0.5, 60.0, 2.0])
    assert_array_equal(km.labels_, [0, 0, 2, 1])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_two_empty_clusters_do_not_empty_a_cluster_of_two(Estimator):
    # Centers 0, 50, 1000, 2000 on -10, 9, 50, 51: the clusters of 1000 and
    # 2000 are empty. By decreasing distance to their centers: -10 (10),
    # 9 (9), 51 (1), 50 (0). -10 moves to 1000; 9 is then the last point of
    # the cluster of 0 and stays; 51 moves to 2000.
    X = np.array([[-10.0], [9.0], [50.0], [51.0]])
    init = np.array([[0.0], [50.0], [1000.0], [2000.0]])
    km = Estimator(4, init=init, max_iter=1).fit(X)
    assert_array_equal(km.cluster_centers_.ravel(), [9.0, 50.0, -10.0, 51.0])
    assert_array_equal(km.labels_, [2, 0, 1, 3])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fewer_distinct_points_than_clusters_count_one_iteration(Estimator):
    # Two distinct points and three clusters: every point is a center after
    # one assignment step, which scikit-learn's KMeans counts as n_iter_=1.
    X = np.array([[0.0], [0.0], [1.0]])
    with pytest.warns(ConvergenceWarning, match="duplicate centers"):
        km = Estimator(3, random_state=0).fit(X)
    reference = KMeans(3, n_init=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        reference.fit(X)
    assert km.n_iter_ == reference.n_iter_ == 1
    assert km.inertia_ == reference.inertia_ == 0.0


# --- Seeding -----------------------------------------------------------------


def test_random_init_draws_points_in_proportion_to_their_weight():
    # One center drawn 4000 times among three points of weights 1, 2, 7:
    # each is drawn about 10%, 20% and 70% of the time (the binomial
    # standard deviation of a frequency is below 0.008 here).
    X = np.array([[0.0], [1.0], [2.0]])
    weights = np.array([1.0, 2.0, 7.0])
    rng = np.random.RandomState(0)
    drawn = [random_points(X, weights, 1, rng)[0, 0] for _ in range(4000)]
    frequency = np.bincount(np.asarray(drawn, dtype=int), minlength=3) / 4000
    assert_allclose(frequency, weights / weights.sum(), atol=0.04)


@pytest.mark.parametrize("seed", range(5))
def test_random_init_draws_distinct_points(seed):
    # As many centers as points: every point exactly once.
    X = np.arange(6.0).reshape(6, 1)
    centers = random_points(X, np.ones(6), 6, np.random.RandomState(seed))
    assert_array_equal(np.sort(centers.ravel()), X.ravel())


@pytest.mark.parametrize("n_rows, n_clusters, expected", [(1000, 5, 40), (30, 5, 30)])
def test_seeding_of_a_table_in_blocks_reads_eight_rows_per_cluster(
    n_rows, n_clusters, expected
):
    # INIT_ROWS_PER_CLUSTER = 8 distinct rows per cluster, the whole table
    # when it has fewer: not the whole table, which a memory map larger
    # than memory would read once more just to seed.
    X = np.arange(2.0 * n_rows).reshape(n_rows, 2)
    sample = seeding_sample(
        ArraySource(X, 100, None), n_clusters, np.random.RandomState(0)
    )
    assert sample.shape == (expected, 2)
    assert np.unique(sample, axis=0).shape[0] == expected
    assert np.isin(sample[:, 0], X[:, 0]).all()


# --- Medians -----------------------------------------------------------------


def _medians_by_numpy(X, labels, n_clusters):
    return np.array([np.median(X[labels == j], axis=0) for j in range(n_clusters)])


def test_l1_centers_are_numpy_medians_with_many_clusters_and_mixed_columns():
    # 150 clusters (more than an int8 label holds) and a column of small
    # integers (kept as per-cluster histograms) between two continuous ones
    # (medians selected from the rows grouped by cluster): converged with
    # tol=0, every center is the numpy median of its cluster.
    rng = np.random.default_rng(3)
    X = np.column_stack(
        [
            rng.normal(size=1500),
            rng.integers(0, 20, 1500).astype(float),
            rng.normal(size=1500),
        ]
    )
    km = KMeansL1(150, tol=0.0, max_iter=300, random_state=0).fit(X)
    assert km.n_iter_ < 300
    assert_array_equal(km.cluster_centers_, _medians_by_numpy(X, km.labels_, 150))


def test_l1_centers_are_numpy_medians_around_a_column_of_small_integers():
    # 40 columns: the medians are selected a few consecutive columns at a
    # time, and the histogram column 1 splits the others into two runs.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 40))
    X[:, 1] = rng.integers(0, 5, 400)
    km = KMeansL1(4, tol=0.0, max_iter=300, random_state=0).fit(X)
    assert km.n_iter_ < 300
    assert_array_equal(km.cluster_centers_, _medians_by_numpy(X, km.labels_, 4))


@pytest.mark.parametrize("weighted", [False, True])
def test_grouped_medians_of_more_than_127_clusters(weighted):
    # Labels above 127 sorted as int8 would wrap around and mix clusters.
    rng = np.random.default_rng(0)
    k = 300
    labels = rng.permutation(np.arange(3 * k) % k)
    X = rng.normal(size=(3 * k, 2))
    weights = rng.integers(1, 4, 3 * k).astype(float) if weighted else None
    sizes = np.bincount(labels, minlength=k)
    medians = grouped_medians(X, [0, 1], weights, labels, sizes)
    for j in range(k):
        members = labels == j
        for f in range(2):
            v = X[members, f]
            w = np.ones(v.shape[0]) if weights is None else weights[members]
            # Brute force: the weighted L1 cost is least at the median.
            best = min(w @ np.abs(v - c) for c in v)
            assert w @ np.abs(v - medians[j, f]) == pytest.approx(best, abs=1e-12)
            if weights is None:
                assert medians[j, f] == np.median(v)


def _bracketed_weights(split):
    """Values 0..999 shuffled, weighted so that the values below ``split``
    carry exactly half the total weight (564 and 436 are 1000 - split and
    split for split=436; 436 and 564 the other way round for split=564)."""
    rng = np.random.default_rng(1)
    values = rng.permutation(1000).astype(float)
    weights = np.where(values < split, 1000 - split, split).astype(float)
    assert weights[values < split].sum() == weights[values >= split].sum()
    return values, weights


# 1000 values take the selection rounds (more than _SORTED_GROUP = 256); their
# first round partitions at ranks 500 -/+ 2 sqrt(1000): 436 and 563. When the
# weight below 436 (or up to 563) is exactly half, the median is the midpoint
# of the values either side, as numpy.median's rule for unit weights.
@pytest.mark.parametrize("split, expected", [(436, 435.5), (564, 563.5)])
def test_weighted_median_when_half_the_weight_ends_at_a_bracket(split, expected):
    values, weights = _bracketed_weights(split)
    assert _medians._weighted_median(values.copy(), weights.copy()) == expected
    labels = np.zeros(1000, dtype=np.intp)
    grouped = grouped_medians(values[:, None], [0], weights, labels, np.array([1000]))
    assert grouped[0, 0] == expected
    # The L1 cost is least there (and all along [split - 1, split]).
    costs = [weights @ np.abs(values - c) for c in (expected, split - 1, split)]
    assert costs[0] == pytest.approx(min(weights @ np.abs(values - v) for v in values))
    assert costs[0] == pytest.approx(costs[1]) == pytest.approx(costs[2])


# --- Merging repeated rows ---------------------------------------------------


def test_integer_keys_are_only_used_when_every_row_is_integral():
    # The first 64 rows are integers, the next ones are not: keyed as
    # integers, 0.5 and 1.25 were truncated onto the rows 0 and 1.
    X = np.concatenate([np.arange(64.0), [0.5, 1.25, 0.5]])[:, None]
    distinct = merge_duplicate_rows(X, None)
    assert_array_equal(np.sort(distinct.points.ravel()), np.unique(X))
    assert_array_equal(distinct.points[distinct.inverse], X)
    assert distinct.weights.sum() == 67
    assert distinct.weights[distinct.points.ravel() == 0.5] == 2


def test_integer_keys_of_values_beyond_32_bits_stay_distinct():
    # Offsets from the column's low value above 2**31 need 64-bit keys.
    X = np.array([[0.0], [2.0**32], [1.0], [2.0**32 + 1], [2.0**32], [3.0]])
    distinct = merge_duplicate_rows(X, None)
    assert_array_equal(np.sort(distinct.points.ravel()), np.unique(X))
    assert_array_equal(distinct.points[distinct.inverse], X)


# --- Codes and their memory --------------------------------------------------


def test_negative_codes_are_refused_not_read_from_the_end():
    # Code -1 indexed the last centroid: a silently wrong row.
    codebook = np.array([[[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]])
    with pytest.raises(ValueError, match=r"code -1 is outside 0\.\.2"):
        decode_codes(np.array([[0], [-1]], dtype=np.int8), codebook)
    with pytest.raises(ValueError, match=r"code 3 is outside 0\.\.2"):
        decode_codes(np.array([[0], [3]], dtype=np.int8), codebook)
    assert_array_equal(
        decode_codes(np.array([[2], [0]], dtype=np.int8), codebook),
        [[2.0, 2.0], [0.0, 1.0]],
    )


def test_memory_of_the_widest_codebook():
    # 65536 codes are the most uint16 holds: two bytes per code, not refused.
    usage = MemoryUsage.of(n_rows=10, n_features=4, n_clusters=65536)
    assert usage.code_dtype == "uint16"
    assert usage.codes_bytes == 10 * 2
    assert usage.codebook_bytes == 65536 * 4 * 4


# --- Estimators --------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_score_weighs_each_row(Estimator):
    # Minus the weighted cost of every row to its nearest center, by brute
    # force: squared Euclidean for KMeansL2, Manhattan for KMeansL1.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    km = Estimator(4, random_state=0).fit(X)
    Y, weights = rng.normal(size=(30, 3)), rng.uniform(0.5, 3.0, 30)
    difference = Y[:, None, :] - km.cluster_centers_[None, :, :]
    if Estimator is KMeansL2:
        cost = (difference**2).sum(axis=2).min(axis=1)
    else:
        cost = np.abs(difference).sum(axis=2).min(axis=1)
    assert km.score(Y, sample_weight=weights) == pytest.approx(-(weights @ cost))
    assert km.score(Y) == pytest.approx(-cost.sum())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sparse_fit_keeps_the_best_of_its_runs(Estimator):
    # The runs' seeds are drawn up front, so the first of five runs is the
    # run of n_init=1: the best of the five is never worse, and on these
    # data it is better. Its inertia is that of its labels and centers.
    rng = np.random.default_rng(0)
    X = rng.random((200, 5))
    X[X < 0.5] = 0.0
    params = dict(n_clusters=6, init="random", random_state=0)
    five = Estimator(n_init=5, **params).fit(sparse.csr_matrix(X))
    one = Estimator(n_init=1, **params).fit(sparse.csr_matrix(X))
    assert five.inertia_ < one.inertia_
    difference = X - five.cluster_centers_[five.labels_]
    cost = (difference**2).sum() if Estimator is KMeansL2 else np.abs(difference).sum()
    assert five.inertia_ == pytest.approx(cost)


def test_l2_centers_of_data_far_from_the_origin_are_their_exact_means():
    # Rows near 1e8 (20 features: distances through matrix products): the
    # fit centers them, so the centers are the exactly summed means of their
    # clusters (math.fsum) up to 2 units in the last place; uncentered sums
    # were 5 to 9 units off.
    X, _ = make_blobs(600, n_features=20, centers=5, cluster_std=3.0, random_state=0)
    X += 1e8
    km = KMeansL2(5, init=X[:5], tol=0.0).fit(X)
    exact = [
        [math.fsum(X[km.labels_ == j, f]) / np.sum(km.labels_ == j) for f in range(20)]
        for j in range(5)
    ]
    assert_allclose(km.cluster_centers_, exact, rtol=0, atol=2 * np.spacing(1e8))


def test_data_largest_on_the_negative_side_is_scaled_as_its_magnitude():
    # Rows near -2**700 and one row at +1: the data's scale is set by its
    # largest magnitude, 2**700 on the negative side, not by its largest
    # value, 1 (whose scale left squared distances of 2**1400 overflowing).
    # Scaling by a power of two is exact: the fit is scikit-learn's on the
    # data scaled back.
    rng = np.random.default_rng(0)
    small = np.vstack([-rng.uniform(1.0, 9.0, size=(60, 2)), [[2.0**-700] * 2]])
    init = small[[0, 1, 2]]
    reference = KMeans(3, init=init, n_init=1, tol=0.0, algorithm="lloyd").fit(small)
    with pytest.warns(RuntimeWarning, match="inertia exceeds"):
        big = KMeansL2(3, init=init * 2.0**700, tol=0.0).fit(small * 2.0**700)
    assert_array_equal(big.labels_, reference.labels_)
    assert_allclose(big.cluster_centers_, reference.cluster_centers_ * 2.0**700)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_spherical_centroid_of_opposite_rows_stays_zero(batch_size):
    # From centroids x and z, the rows y and -y tie and go to x (the lower
    # index), z and (0, 0.6, 0.8) to z. One step: the mean of y and -y is
    # zero, which has no direction and stays zero (not 0/0); the other is
    # (0, 0.6, 1.8) / |(0, 0.6, 1.8)| = (0, 1, 3) / sqrt(10).
    X = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.6, 0.8]])
    init = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    vq = VectorQuantizer(
        2, spherical=True, init=init, batch_size=batch_size, max_iter=1
    ).fit(X)
    expected = [[0.0, 0.0, 0.0], [0.0, 1.0 / np.sqrt(10), 3.0 / np.sqrt(10)]]
    assert_allclose(vq.codebook_[0], expected, atol=1e-7)


def test_blocked_fit_keeps_the_best_of_its_runs():
    # The first of five runs read in blocks is the run of n_init=1 (the same
    # seed and seeding sample): the best of the five rebuilds the unit rows
    # with a smaller squared error, measured here from the codes.
    X = make_embeddings(600, 8, random_state=0)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    errors = []
    for n_init in (1, 5):
        vq = VectorQuantizer(
            16, init="random", n_init=n_init, batch_size=100, random_state=0
        ).fit(X)
        errors.append(((vq.inverse_transform(vq.transform(X)) - unit) ** 2).sum())
    assert errors[1] < errors[0]


# --- Searching the codes -----------------------------------------------------


def test_reranked_cosine_distance_of_a_zero_row_is_one():
    # A zero row has no direction: cosine 0, distance 1 (not 0/0).
    X = make_embeddings(40, 8, random_state=0)
    X[5] = 0.0
    with pytest.warns(UserWarning, match="zero"):
        vq = VectorQuantizer(4, random_state=0).fit(X)
    vq.add(X)
    distances, indices = vq.kneighbors(
        X[:1], n_neighbors=40, metric="cosine", rerank_with=X, n_candidates=40
    )
    assert distances[0][indices[0] == 5] == [1.0]
    assert np.isfinite(distances).all()


def test_reranked_ties_go_to_the_lowest_row():
    # Rows 3, 10 and 17 are the same row: the same exact distance to any
    # query, listed by increasing row index.
    X = make_embeddings(30, 8, random_state=1)
    X[10] = X[17] = X[3]
    vq = VectorQuantizer(4, random_state=0).fit(X).add(X)
    _, indices = vq.kneighbors(X[3:4], n_neighbors=3, rerank_with=X, n_candidates=30)
    assert_array_equal(indices, [[3, 10, 17]])


def test_load_refuses_a_code_equal_to_the_number_of_centroids(tmp_path):
    # Codes run from 0 to n_clusters - 1: code 4 of a codebook of 4 is not one.
    X = make_embeddings(50, 8, random_state=0)
    VectorQuantizer(4, random_state=0).fit(X).add(X).save(tmp_path / "vq.npz")
    with np.load(tmp_path / "vq.npz") as archive:
        arrays = dict(archive)
    arrays["codes"] = arrays["codes"].copy()
    arrays["codes"][7, 0] = 4
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"bad\.npz: code 4 is outside 0\.\.3"):
        VectorQuantizer.load(tmp_path / "bad.npz")


def test_scanned_distance_of_a_row_to_itself_is_not_negative():
    # Each of 200 rows has a centroid of its own, so a row's distance to its
    # reconstruction is zero up to rounding, never below it.
    X = make_embeddings(200, 8, random_state=2)
    with pytest.warns(ConvergenceWarning, match="repeat"):
        vq = VectorQuantizer(256, random_state=0).fit(X)
    distances, indices = vq.add(X).kneighbors(X, n_neighbors=1)
    assert_array_equal(indices.ravel(), np.arange(200))
    assert (distances >= 0).all()
    assert distances.max() < 1e-6


def test_rerank_reads_four_candidates_per_neighbour_by_default():
    # n_candidates defaults to 4 * n_neighbors: the same answers as asking
    # for them, and the exact nearest row more often than one candidate.
    X = make_embeddings(300, 8, random_state=3)
    vq = VectorQuantizer(8, random_state=0).fit(X).add(X)
    queries = make_embeddings(50, 8, random_state=4)
    default = vq.kneighbors(queries, 2, rerank_with=X)
    assert_array_equal(
        default[1], vq.kneighbors(queries, 2, rerank_with=X, n_candidates=8)[1]
    )
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    exact = ((q[:, None] - unit[None]) ** 2).sum(axis=2).argmin(axis=1)
    narrow = vq.kneighbors(queries, 2, rerank_with=X, n_candidates=2)[1]
    assert (default[1][:, 0] == exact).sum() > (narrow[:, 0] == exact).sum()


# --- Re-seeding unused centroids ---------------------------------------------


def test_farthest_first_is_gonzalez_by_brute_force():
    # Each pick is the row farthest from the centroids (``distance``, squared)
    # and from the rows picked before it; no row is picked twice.
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(50, 4)).astype(np.float32)
    distance = rng.uniform(0.5, 4.0, 50)
    expected, left = [], distance.copy()
    for _ in range(6):
        best = int(np.argmax(left))
        expected.append(best)
        to_best = ((rows.astype(np.float64) - rows[best]) ** 2).sum(axis=1)
        left = np.minimum(left, to_best)
        left[best] = 0.0
    assert_array_equal(_farthest_first(distance, rows, 6), expected)
    every = _farthest_first(distance, rows, 80)
    assert np.unique(every).shape[0] == every.shape[0] == 50


def test_partial_fit_reseeds_unused_centroids_onto_rows_in_their_own_space():
    # Rows near 100 (normalize=False, so the origin the batches are centered
    # on is far from zero). The first batch has two distinct rows a and b:
    # centroids 2 and 3 repeat them and get no rows. The second batch holds
    # c and d: d is farthest from every centroid (12 from a), then c (8 from
    # a); they move onto them, each gets its own rows, and by hand the
    # codebook is a, b, d, c.
    a, b = [100.0, 100.0, 100.0], [104.0, 100.0, 100.0]
    c, d = [100.0, 108.0, 100.0], [100.0, 100.0, 112.0]
    vq = VectorQuantizer(4, normalize=False, random_state=0)
    with pytest.warns(ConvergenceWarning, match="repeat"):
        vq.partial_fit(np.array([a, b] * 10))
    vq.partial_fit(np.array([c, d] * 10))
    assert_array_equal(vq.codebook_[0], [a, b, d, c])
