"""KMeansL2 and KMeansL1: references, hand-worked examples, edge cases, API."""

import itertools
import pickle
import threading
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances, manhattan_distances
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclust import KMeansL1, KMeansL2, kmeans_l1, kmeans_l2
from skclust._kmeans import _medians
from skclust._kmeans._base import _reseeded, _tolerance
from skclust._kmeans._cluster_sums import weighted_spread
from skclust._kmeans._engine import kmeans_plusplus, lloyd
from skclust._kmeans._inmemory import in_memory_runs
from skclust._kmeans._medians import grouped_medians
from skclust._kmeans._metrics import Euclidean, Manhattan

ESTIMATORS = [KMeansL2, KMeansL1]


def _blobs(seed, n_features=3, n_samples=600):
    X, _ = make_blobs(
        n_samples,
        centers=6,
        n_features=n_features,
        cluster_std=2.5,
        random_state=seed,
    )
    return X


def _l1_cost(X, centers, labels, weights=None):
    weights = np.ones(len(X)) if weights is None else weights
    return float(weights @ np.abs(X - centers[labels]).sum(axis=1))


# --- KMeansL2 against scikit-learn's Lloyd -----------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_clusters", [1, 3, 8])
@pytest.mark.parametrize("tol, max_iter", [(0.0, 300), (1e-4, 300), (0.0, 2)])
@pytest.mark.parametrize("n_features", [3, 20])
def test_l2_equals_sklearn_lloyd(seed, n_clusters, tol, max_iter, n_features):
    # 20 features exercises the matrix-product path, 3 the compiled scan.
    X = _blobs(seed, n_features)
    rng = np.random.default_rng(seed)
    init = X[rng.choice(len(X), n_clusters, replace=False)]
    params = dict(init=init, n_init=1, tol=tol, max_iter=max_iter)
    ref = KMeans(n_clusters, algorithm="lloyd", **params).fit(X)
    ours = KMeansL2(n_clusters, **params).fit(X)
    assert_array_equal(ours.labels_, ref.labels_)
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize(("seed", "init_seed"), [(5, 500), (6, 601)])
def test_l2_equals_sklearn_lloyd_where_a_cluster_empties(seed, init_seed):
    # After the first step one cluster is empty in both fits; its center goes
    # to the point farthest from the center it was assigned to, as
    # scikit-learn's Lloyd takes it. Measured from the updated centers, these
    # two fits ended 212 and 348 labels away from scikit-learn's.
    X = make_blobs(2000, n_features=10, centers=5, random_state=seed)[0]
    init = X[np.random.RandomState(init_seed).choice(len(X), 12, replace=False)]
    params = dict(init=init, n_init=1, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = KMeans(12, algorithm="lloyd", max_iter=1, **params).fit(X)
    assert np.bincount(first.labels_, minlength=12).min() == 0
    ref = KMeans(12, algorithm="lloyd", **params).fit(X)
    ours = KMeansL2(12, **params).fit(X)
    assert_array_equal(ours.labels_, ref.labels_)
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)
    assert ours.n_iter_ == ref.n_iter_


def test_l2_equals_sklearn_with_sample_weight():
    X = _blobs(3)
    weights = np.random.default_rng(3).uniform(0.1, 5.0, len(X))
    init = X[:5]
    params = dict(init=init, n_init=1, tol=0.0)
    ref = KMeans(5, algorithm="lloyd", **params).fit(X, sample_weight=weights)
    ours = KMeansL2(5, **params).fit(X, sample_weight=weights)
    assert_array_equal(ours.labels_, ref.labels_)
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert ours.n_iter_ == ref.n_iter_


def _assert_lloyd_fixed_point(X, estimator):
    """Every label is a nearest center and every center its cluster's mean."""
    centers, labels = estimator.cluster_centers_, estimator.labels_
    sq = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    own = sq[np.arange(len(X)), labels]
    assert np.all(own <= sq.min(axis=1) + 1e-9 * (1 + sq.min(axis=1)))
    for j in range(len(centers)):
        assert_allclose(centers[j], X[labels == j].mean(axis=0), rtol=1e-9)


def _fixed_point_against_sklearn(X, n_clusters, seed):
    init = X[np.random.default_rng(seed).choice(len(X), n_clusters, replace=False)]
    params = dict(init=init, n_init=1, tol=0.0)
    ref = KMeans(n_clusters, algorithm="lloyd", **params).fit(X)
    ours = KMeansL2(n_clusters, **params).fit(X)
    _assert_lloyd_fixed_point(X, ours)
    # Exact ties can send the two runs down different paths; the quality of
    # the fixed point reached must be the same.
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=0.01)


@pytest.mark.parametrize("n_clusters", [6, 24])
def test_l2_on_8bit_pixels_reaches_a_lloyd_fixed_point(synthetic_pixels, n_clusters):
    _fixed_point_against_sklearn(synthetic_pixels, n_clusters, seed=0)


@pytest.mark.parametrize("n_clusters", [12, 48])
def test_l2_on_football_reaches_a_lloyd_fixed_point(football_pixels, n_clusters):
    _fixed_point_against_sklearn(football_pixels, n_clusters, seed=1)


# --- KMeansL1 against brute force --------------------------------------------


def test_weighted_median_minimises_l1_cost_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, k = rng.integers(1, 30), rng.integers(1, 4)
        values = rng.integers(0, 10, n).astype(float)
        weights = rng.integers(1, 4, n).astype(float)
        labels = rng.integers(0, k, n)
        sizes = np.bincount(labels, minlength=k)
        medians = grouped_medians(values[:, None], [0], weights, labels, sizes)[:, 0]
        for j in range(k):
            members = labels == j
            if not members.any():
                assert np.isnan(medians[j])
                continue
            v, w = values[members], weights[members]
            brute = min(w @ np.abs(v - c) for c in np.unique(v))
            assert w @ np.abs(v - medians[j]) == pytest.approx(brute, abs=1e-12)


def _median_by_full_sort(values, weights):
    """The weighted median rule spelled out: sort, find where the cumulative
    weight first reaches half, take the midpoint if it reaches it exactly."""
    order = np.argsort(values, kind="stable")
    ordered = values[order].astype(np.float64)
    cumulative = np.cumsum(weights[order])
    half = 0.5 * cumulative[-1]
    at = int(np.searchsorted(cumulative, half))
    if cumulative[at] == half and at + 1 < ordered.shape[0]:
        return 0.5 * (ordered[at] + ordered[at + 1])
    return ordered[at]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("sorted_group", [256, 2])
def test_grouped_medians_equal_a_full_sort(weighted, ties, sorted_group, monkeypatch):
    # Groups of a few hundred to a few thousand values: the selection rounds
    # run (all the way down to groups of two with sorted_group=2), on ties
    # and on heavy weights that put the median far from the middle rank.
    monkeypatch.setattr(_medians, "_SORTED_GROUP", sorted_group)
    rng = np.random.default_rng(int(weighted) + 2 * int(ties))
    n, k = 4000, 4
    X = rng.standard_normal((n, 5)).astype(np.float32)
    if ties:
        X = rng.integers(0, 6, (n, 5)).astype(np.float32)
    labels = np.minimum(rng.geometric(0.4, n) - 1, k - 1)
    labels[labels == 2] = 1  # cluster 2 empty
    weights = np.ones(n)
    if weighted:
        weights = rng.integers(1, 3, n).astype(float)
        weights[rng.random(n) < 0.01] = 300.0
    sizes = np.bincount(labels, minlength=k)
    medians = grouped_medians(
        X, [0, 1, 3, 4], weights if weighted else None, labels, sizes
    )
    assert np.isnan(medians[2]).all()
    for cluster in (0, 1, 3):
        members = labels == cluster
        for position, feature in enumerate([0, 1, 3, 4]):
            values = X[members, feature]
            expected = _median_by_full_sort(values, weights[members])
            assert medians[cluster, position] == expected
            if not weighted:
                assert expected == np.median(values.astype(np.float64))


def test_unweighted_median_is_numpy_median():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    km = KMeansL1(4, random_state=0).fit(X)
    for j in range(4):
        assert_allclose(km.cluster_centers_[j], np.median(X[km.labels_ == j], axis=0))


def test_l1_assignment_is_brute_force_argmin():
    X = _blobs(4, n_features=5)
    km = KMeansL1(7, random_state=0).fit(X)
    brute = np.abs(X[:, None, :] - km.cluster_centers_[None]).sum(axis=2)
    assert_array_equal(km.labels_, brute.argmin(axis=1))
    assert_array_equal(km.predict(X), brute.argmin(axis=1))
    assert km.inertia_ == pytest.approx(brute.min(axis=1).sum(), rel=1e-12)


def _best_l1_partition_cost(X, n_clusters):
    best = np.inf
    for assignment in itertools.product(range(n_clusters), repeat=len(X)):
        labels = np.asarray(assignment)
        if len(set(assignment)) < n_clusters:
            continue
        cost = sum(
            np.abs(X[labels == j] - np.median(X[labels == j], axis=0)).sum()
            for j in range(n_clusters)
        )
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l1_finds_the_brute_force_optimum_on_tiny_data(seed):
    X = np.random.default_rng(seed).integers(0, 20, size=(8, 2)).astype(float)
    km = KMeansL1(2, init="random", n_init=30, random_state=seed).fit(X)
    assert km.inertia_ == pytest.approx(_best_l1_partition_cost(X, 2), abs=1e-9)


@pytest.mark.parametrize("data", ["pixels", "continuous"])
def test_l1_inertia_never_increases(data, synthetic_pixels):
    X = synthetic_pixels if data == "pixels" else _blobs(5)
    init = X[np.random.default_rng(0).choice(len(X), 10, replace=False)]
    inertias = [
        KMeansL1(10, init=init, n_init=1, tol=0, max_iter=m).fit(X).inertia_
        for m in range(1, 25)
    ]
    assert all(b <= a + 1e-9 * a for a, b in itertools.pairwise(inertias))
    assert inertias[-1] < inertias[0]


def test_l1_histogram_and_sorted_median_paths_agree(synthetic_pixels):
    # Integer data takes the per-cluster histogram path; shifted by 0.5 it is
    # no longer integer and takes the sorted path. Medians shift by 0.5 exactly.
    init = synthetic_pixels[:: len(synthetic_pixels) // 12][:12]
    params = dict(init=init, n_init=1, tol=0)
    weights = np.random.default_rng(0).integers(1, 5, len(synthetic_pixels))
    whole = KMeansL1(12, **params).fit(synthetic_pixels, sample_weight=weights)
    shifted = KMeansL1(12, **{**params, "init": init + 0.5}).fit(
        synthetic_pixels + 0.5, sample_weight=weights
    )
    assert_array_equal(whole.labels_, shifted.labels_)
    assert_array_equal(whole.cluster_centers_ + 0.5, shifted.cluster_centers_)
    assert whole.n_iter_ == shifted.n_iter_


def test_l1_median_update_beats_a_mean_update():
    X = np.random.default_rng(2).standard_exponential(size=(500, 2))
    km = KMeansL1(3, random_state=0).fit(X)
    means = np.stack([X[km.labels_ == j].mean(axis=0) for j in range(3)])
    assert km.inertia_ < _l1_cost(X, means, km.labels_)


# --- Hand-worked examples ----------------------------------------------------


def test_hand_worked_l2():
    X = np.array([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    km = KMeansL2(2, init=np.array([[0.0, 1.0], [1.0, 1.0]]), n_init=1).fit(X)
    # Centers start at x=0 and x=1: the right pair moves to x=1, then x=4.
    assert_array_equal(km.labels_, [0, 0, 1, 1])
    assert_allclose(km.cluster_centers_, [[0.0, 1.0], [4.0, 1.0]])
    assert km.inertia_ == pytest.approx(4.0)
    assert km.score(X) == pytest.approx(-4.0)
    assert_allclose(km.transform([[0.0, 1.0]]), [[0.0, 4.0]])


def test_hand_worked_l1():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 9.0], [5.0, 5.0]])
    km = KMeansL1(2, init=np.array([[0.0, 0.0], [5.0, 5.0]]), n_init=1).fit(X)
    # [0, 9] is at L1 distance 9 from both centers; the tie goes to center 0.
    assert_array_equal(km.labels_, [0, 0, 0, 1])
    # Median of (0, 1, 9) is 1, where the mean would be 10/3.
    assert_allclose(km.cluster_centers_, [[0.0, 1.0], [5.0, 5.0]])
    assert km.inertia_ == pytest.approx(1 + 0 + 8 + 0)
    assert_allclose(km.transform([[1.0, 1.0]]), [[1.0, 8.0]])


# --- Empty clusters, seeds, parallelism --------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_empty_cluster_is_relocated(Estimator, capsys):
    X = _blobs(6, n_features=2)
    init = np.vstack([X[:3], [[1e4, 1e4]]])
    km = Estimator(4, init=init, n_init=1, verbose=1).fit(X)
    assert_array_equal(np.unique(km.labels_), np.arange(4))
    assert np.all(np.abs(km.cluster_centers_) < 100)
    assert "Relocated 1 empty cluster(s) [3]" in capsys.readouterr().out


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_n_jobs_does_not_change_the_result(Estimator, init):
    X = _blobs(7)
    fits = [
        Estimator(6, init=init, n_init=4, random_state=3, n_jobs=n_jobs).fit(X)
        for n_jobs in (1, 2)
    ]
    assert_array_equal(fits[0].labels_, fits[1].labels_)
    assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    assert fits[0].inertia_ == fits[1].inertia_


def test_reseeded_random_state_draws_as_a_new_one():
    # Draws that leave state behind (a cached Gaussian, an odd count) first.
    _reseeded(5).standard_normal(3)
    weights = np.arange(1.0, 11.0) / 55.0
    for seed in (0, 7, np.int64(2**31 - 2)):
        ours, fresh = _reseeded(seed), np.random.RandomState(seed)
        assert_array_equal(ours.standard_normal(3), fresh.standard_normal(3))
        assert_array_equal(ours.uniform(size=4), fresh.uniform(size=4))
        assert_array_equal(
            ours.choice(10, 4, replace=False, p=weights),
            fresh.choice(10, 4, replace=False, p=weights),
        )
        assert_array_equal(
            ours.randint(2**31 - 1, size=3), fresh.randint(2**31 - 1, size=3)
        )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_integer_seed_fits_as_a_new_random_state_in_any_thread(Estimator, init):
    X = _blobs(9)

    def fit(random_state):
        return Estimator(5, init=init, n_init=3, random_state=random_state).fit(X)

    reference = fit(np.random.RandomState(4))
    results = [fit(4), fit(4)]
    thread = threading.Thread(target=lambda: results.append(fit(4)))
    thread.start()
    thread.join()
    for km in results:
        assert_array_equal(km.labels_, reference.labels_)
        assert_array_equal(km.cluster_centers_, reference.cluster_centers_)
        assert km.inertia_ == reference.inertia_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_best_of_n_init_has_lowest_inertia(Estimator):
    X = _blobs(8)
    best = Estimator(6, init="random", n_init=6, random_state=0).fit(X)
    seeds = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=6)
    singles = [
        Estimator(
            6,
            init=lambda X, k, rs, seed=seed: X[
                np.random.RandomState(seed).choice(len(X), k, replace=False)
            ],
            n_init=1,
        )
        .fit(X)
        .inertia_
        for seed in seeds
    ]
    assert best.inertia_ <= min(singles) * (1 + 1e-9)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_auto_n_init(Estimator):
    X = _blobs(9)
    auto = Estimator(5, init="random", random_state=0).fit(X)
    ten = Estimator(5, init="random", n_init=10, random_state=0).fit(X)
    assert auto.inertia_ == ten.inertia_
    one = Estimator(5, random_state=0).fit(X)
    plus = Estimator(5, n_init=1, random_state=0).fit(X)
    assert one.inertia_ == plus.inertia_
    # Given centers: one run, with no warning about n_init.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given = Estimator(5, init=X[:5]).fit(X)
    assert given.inertia_ == Estimator(5, init=X[:5], n_init=1).fit(X).inertia_
    # A callable: ten runs, as in scikit-learn.
    calls = []

    def init(points, n_clusters, random_state):
        calls.append(1)
        return points[random_state.choice(len(points), n_clusters, replace=False)]

    Estimator(5, init=init, random_state=0).fit(X)
    assert len(calls) == 10


@pytest.mark.parametrize("n_features", [3, 20])
def test_threaded_assignment_matches_single_thread(n_features):
    # 3 features: compiled scan; 20: compiled matrix-product ranking.
    X = np.random.default_rng(0).normal(size=(50_000, n_features))
    results = []
    for n in (1, 2):
        with in_memory_runs(X, np.ones(len(X)), 20, KMeansL2._metric, n) as runs:
            results.extend(lloyd(runs, [X[:20].copy()], [0.0], 100))
    assert_array_equal(results[0].labels, results[1].labels)
    assert_array_equal(results[0].centers, results[1].centers)
    assert results[0].n_iter == results[1].n_iter


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_kmeans_plusplus_picks_distinct_points(Estimator):
    X = np.repeat(np.arange(6.0).reshape(-1, 1), 50, axis=0)
    km = Estimator(6, n_init=1, max_iter=1, random_state=0).fit(X)
    assert len(np.unique(km.cluster_centers_)) == 6


def _textbook_kmeans_plusplus(X, weights, n_clusters, cost, random_state):
    # Greedy k-means++ on the whole (rows x candidates) cost matrix at once.
    trials = 2 + int(np.log(n_clusters))

    def draw(closest, size):
        cumulative = np.cumsum(weights * closest)
        picks = np.searchsorted(
            cumulative, random_state.uniform(size=size) * cumulative[-1], "right"
        )
        return np.minimum(picks, X.shape[0] - 1)

    chosen = [draw(np.ones(X.shape[0]), 1)[0]]
    closest = cost(X, X[chosen])[:, 0]
    for _ in range(1, n_clusters):
        candidates = draw(closest, trials)
        costs = np.minimum(cost(X, X[candidates]), closest[:, None])
        best = np.argmin(weights @ costs)
        chosen.append(candidates[best])
        closest = costs[:, best]
    return X[chosen]


@pytest.mark.parametrize(
    ("metric", "cost"),
    [
        (Euclidean, lambda X, C: euclidean_distances(X, C, squared=True)),
        (Manhattan, manhattan_distances),
    ],
)
def test_kmeans_plusplus_in_blocks_picks_the_textbook_seeds(metric, cost):
    # 70,000 rows: the candidates' costs are summed in two blocks of rows.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(70_000, 3))
    weights = rng.uniform(0.5, 2.0, size=X.shape[0])
    ours = kmeans_plusplus(X, weights, 9, metric, np.random.RandomState(5))
    textbook = _textbook_kmeans_plusplus(X, weights, 9, cost, np.random.RandomState(5))
    assert_array_equal(ours, textbook)


def test_callable_init_receives_distinct_points():
    X = np.repeat(np.arange(5.0).reshape(-1, 1), 3, axis=0)
    seen = {}

    def init(points, n_clusters, random_state):
        seen["points"] = points
        return points[:n_clusters]

    KMeansL2(2, init=init, n_init=1).fit(X)
    assert sorted(seen["points"].ravel()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight_equals_repeated_rows(Estimator):
    X = _blobs(10)[:100]
    counts = np.random.default_rng(0).integers(0, 4, len(X))
    weighted = Estimator(5, random_state=1).fit(X, sample_weight=counts)
    repeated = Estimator(5, random_state=1).fit(np.repeat(X, counts, axis=0))
    assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_)


# --- Bad input ----------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "X, kwargs, message",
    [
        ([[0.0, np.nan], [1.0, 1.0]], {}, "NaN"),
        ([[0.0, np.inf], [1.0, 1.0]], {}, "infinity"),
        (np.empty((0, 2)), {}, "0 sample"),
        ([[0.0, 1.0]], {}, "1 sample"),
        ([[0.0], [1.0], [2.0]], {"n_clusters": 4}, "n_clusters=4 is larger"),
        ([["a", "b"], ["c", "d"]], {}, "could not convert string to float"),
        ([[0.0], [1.0], [2.0]], {"init": [[0.0]]}, r"shape of the initial centers"),
    ],
)
def test_bad_input_raises_a_clear_error(Estimator, X, kwargs, message):
    params = {"n_clusters": 2, "n_init": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        Estimator(**params).fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fewer_distinct_points_than_clusters_warns_and_repeats_centers(Estimator):
    # Three distinct points, one of them with weight zero, and four clusters:
    # as scikit-learn's KMeans, a ConvergenceWarning and duplicate centers.
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 1.0], [5.0, 1.0], [9.0, 9.0]])
    weights = np.array([1.0, 2.0, 1.0, 1.0, 0.0])
    with pytest.warns(ConvergenceWarning, match=r"distinct points .*\(2\).*\(4\)"):
        km = Estimator(4, random_state=0).fit(X, sample_weight=weights)
    centers = km.cluster_centers_
    assert centers.shape == (4, 2)
    assert {tuple(c) for c in centers.tolist()} == {(0.0, 0.0), (5.0, 1.0)}
    np.testing.assert_array_equal(centers[km.labels_][:4], X[:4])
    # The weightless point goes to its nearest center, as predict says.
    assert km.labels_[4] == km.predict(X[4:])[0]
    assert km.inertia_ == 0.0
    assert km.score(X[:4]) == 0.0
    with pytest.warns(ConvergenceWarning):
        reference = KMeans(4, n_init=1, random_state=0).fit(X, sample_weight=weights)
    assert reference.inertia_ == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_sample_weight(Estimator):
    X = _blobs(11)[:20]
    with pytest.raises(ValueError, match="Negative values"):
        Estimator(2).fit(X, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="at least one non-zero"):
        Estimator(2).fit(X, sample_weight=np.zeros(20))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_with_wrong_number_of_features(Estimator):
    km = Estimator(2).fit(_blobs(12)[:50])
    with pytest.raises(ValueError, match=r"X has 2 features, but .* is expecting 3"):
        km.predict(np.zeros((4, 2)))


def test_explicit_init_with_several_runs_warns():
    X = _blobs(13)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeansL2(3, init=X[:3], n_init=5).fit(X)


def test_invalid_parameter_names_the_parameter():
    with pytest.raises(ValueError, match="'init' parameter"):
        KMeansL2(init="kmeans").fit(_blobs(0))


# --- API: attributes, pipelines, search, persistence -------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pandas_output_in_a_pipeline_and_a_column_transformer(Estimator):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_blobs(21)[:60], columns=["x", "y", "z"])
    prefix = Estimator.__name__.lower()
    pipeline = make_pipeline(StandardScaler(), Estimator(3, random_state=0))
    out = pipeline.set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == [f"{prefix}{i}" for i in range(3)]
    assert_allclose(out.to_numpy(), pipeline.transform(X).to_numpy())
    # The columns are the distances to the centers, in order.
    km = pipeline[-1]
    scaled = pipeline[0].transform(X).to_numpy()
    distances = euclidean_distances if Estimator is KMeansL2 else manhattan_distances
    assert_allclose(out.to_numpy(), distances(scaled, km.cluster_centers_))
    columns = ColumnTransformer(
        [("km", Estimator(2, random_state=0), ["x", "y"]), ("z", "passthrough", ["z"])]
    ).set_output(transform="pandas")
    out = columns.fit_transform(X)
    assert list(out.columns) == [f"km__{prefix}0", f"km__{prefix}1", "z__z"]
    assert_array_equal(out["z__z"], X["z"])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_labels_are_consecutive_and_match_predict(Estimator):
    X = _blobs(14)
    km = Estimator(6, random_state=0).fit(X)
    assert_array_equal(np.unique(km.labels_), np.arange(6))
    assert_array_equal(km.predict(X), km.labels_)
    assert km.labels_.dtype.kind == "i"
    assert km.n_iter_ >= 1


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_transform_is_the_metric_distance(Estimator):
    X = _blobs(15)
    km = Estimator(4, random_state=0).fit(X)
    reference = euclidean_distances if Estimator is KMeansL2 else manhattan_distances
    assert_allclose(km.transform(X), reference(X, km.cluster_centers_), atol=1e-9)
    assert_allclose(km.fit_transform(X), km.transform(X))
    assert km.score(X) == pytest.approx(-km.inertia_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pipeline_grid_search_clone_and_pickle(Estimator, tmp_path):
    X = _blobs(16)
    pipe = make_pipeline(StandardScaler(), Estimator(random_state=0))
    search = GridSearchCV(pipe, {f"{Estimator.__name__.lower()}__n_clusters": [2, 6]})
    search.fit(X)
    assert search.best_params_
    fitted = pipe.fit(X)
    assert clone(fitted).get_params()["steps"][1][1].random_state == 0
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    assert_array_equal(joblib.load(path).predict(X), fitted.predict(X))
    assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X), fitted.predict(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_feature_names_are_recorded(Estimator):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_blobs(17)[:, :2], columns=["red", "green"])
    km = Estimator(3).fit(X)
    assert_array_equal(km.feature_names_in_, ["red", "green"])


@pytest.mark.parametrize(
    "function, Estimator", [(kmeans_l2, KMeansL2), (kmeans_l1, KMeansL1)]
)
def test_homework_functions(function, Estimator, synthetic_pixels):
    labels, centers = function(synthetic_pixels, 5, random_state=0)
    assert labels.shape == (len(synthetic_pixels), 1)
    assert_array_equal(np.unique(labels), np.arange(1, 6))
    reference = Estimator(5, random_state=0).fit(synthetic_pixels)
    assert_array_equal(labels.ravel() - 1, reference.labels_)
    assert_allclose(centers, reference.cluster_centers_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_verbose_reports_iterations(Estimator, capsys):
    Estimator(3, n_init=1, random_state=0, verbose=1).fit(_blobs(18))
    out = capsys.readouterr().out
    assert "Iteration 0, inertia" in out
    assert "Converged at iteration" in out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tolerance_is_tol_times_the_mean_weighted_variance(dtype):
    rng = np.random.default_rng(4)
    X = (rng.standard_normal((500, 7)) * [1, 10, 100, 1, 1, 3, 1e-3] + 50).astype(dtype)
    weights = rng.random(500) * 3
    mean = np.average(X.astype(np.float64), axis=0, weights=weights)
    variance = np.average((X - mean) ** 2, axis=0, weights=weights)
    expected = 1e-4 * variance.mean()
    assert _tolerance(X, weights, 1e-4) == pytest.approx(expected, rel=1e-12)
    assert _tolerance(X, weights, 0.0) == 0.0


def test_weighted_spread_refuses_arrays_that_do_not_match():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="do not match"):
        weighted_spread(X, np.ones(4), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="do not match"):
        weighted_spread(X, np.ones(5), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="do not match"):
        weighted_spread(X, np.ones(5), np.zeros((2, 3)))
