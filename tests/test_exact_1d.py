"""Exact k-means and k-medians of one feature: the programme and the estimators."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from _lines import line_cost
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from skclust import KMeansL1, KMeansL2
from skclust._kmeans._optimal_1d import optimal_1d_centers, optimal_1d_runs
from skclust.image import ImageQuantizer

ESTIMATORS = [KMeansL2, KMeansL1]


def _run_cost(values, weights, manhattan):
    """Exact cost of one run about its best center, in fractions: the
    weighted mean, or the best of its own points (a weighted median is one)."""
    values = [Fraction(v) for v in values]
    weights = [Fraction(w) for w in weights]
    if manhattan:
        return min(
            sum(w * abs(x - t) for x, w in zip(values, weights, strict=True))
            for t in values
        )
    mean = sum(w * x for x, w in zip(values, weights, strict=True)) / sum(weights)
    return sum(w * (x - mean) ** 2 for x, w in zip(values, weights, strict=True))


def _brute_force_runs(values, weights, k, manhattan):
    """The least exact cost over every set of k - 1 cut points, and the cut
    points of the optimum that the contract names: among optimal cuts, the
    lowest last cut, then the lowest one before it, and so on."""
    n = len(values)
    best, chosen = None, None
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        cost = sum(
            _run_cost(values[a:b], weights[a:b], manhattan)
            for a, b in itertools.pairwise(bounds)
        )
        # Compared on the reversed bounds: lowest last cut first.
        if best is None or (cost, bounds[::-1]) < (best, chosen[::-1]):
            best, chosen = cost, bounds
    return best, np.array(chosen)


@pytest.mark.parametrize("manhattan", [False, True])
@pytest.mark.parametrize("seed", range(25))
def test_runs_reach_the_brute_force_optimum(seed, manhattan):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 10))
    # Few distinct levels and small weights: many exact ties between
    # clusterings (equal gaps, symmetric runs).
    values = np.sort(rng.choice(12, size=n, replace=False)).astype(float)
    weights = rng.integers(1, 4, size=n).astype(float)
    k = int(rng.integers(1, min(n, 4) + 1))
    optimum, brute_bounds = _brute_force_runs(values, weights, k, manhattan)
    bounds = optimal_1d_runs(values, weights, k, manhattan)
    centers = optimal_1d_centers(values, weights, k, manhattan)
    assert line_cost(values, weights, centers, manhattan) == pytest.approx(
        float(optimum), rel=1e-12, abs=1e-12
    )
    if manhattan:
        # Integer absolute costs are exact in float64: ties go as documented.
        assert_array_equal(bounds, brute_bounds)


def test_ties_go_to_the_lowest_cut_points():
    # 0, 1, 2 in two runs: {0} {1, 2} and {0, 1} {2} cost the same (1/2 for
    # squares, 1 for absolute values); the lowest cut, after 0, is taken.
    values, weights = np.array([0.0, 1.0, 2.0]), np.ones(3)
    for manhattan in (False, True):
        assert_array_equal(optimal_1d_runs(values, weights, 2, manhattan), [0, 1, 3])
    assert_allclose(optimal_1d_centers(values, weights, 2), [0.0, 1.5])
    # Four equally spaced points in three runs: a pair and two single points,
    # the pair last (cuts 1, 2) where the lowest last cut is 2.
    values = np.array([0.0, 1.0, 2.0, 3.0])
    assert_array_equal(optimal_1d_runs(values, np.ones(4), 3), [0, 1, 2, 4])


def _float_cost(x, w, manhattan):
    """Cost of one cluster about its best center, in float64: the weighted
    mean, or the first value where the cumulative weight reaches half."""
    if manhattan:
        order = np.argsort(x)
        x, w = x[order], w[order]
        median = x[np.searchsorted(np.cumsum(w), w.sum() / 2.0)]
        return (w * np.abs(x - median)).sum()
    return (w * (x - (w * x).sum() / w.sum()) ** 2).sum()


def _quadratic_optimum(values, weights, k, manhattan):
    """The optimal cost by the plain O(k n^2) programme over every run, each
    run's cost summed directly (written here, independently of the code
    under test)."""
    n = len(values)
    cost = np.full((n + 1, n + 1), np.inf)
    for i in range(n):
        for j in range(i + 1, n + 1):
            cost[i, j] = _float_cost(values[i:j], weights[i:j], manhattan)
    best = cost[0].copy()
    for _ in range(1, k):
        best = (best[:, None] + cost).min(axis=0)
    return best[n]


@pytest.mark.parametrize("manhattan", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_divide_and_conquer_matches_the_quadratic_programme(seed, manhattan):
    # Deeper recursion than brute force can reach: 60 points, up to 9 runs,
    # clustered values of varied weight.
    rng = np.random.default_rng(100 + seed)
    values = np.unique(
        np.concatenate([rng.normal(c, 1.0, 15) for c in rng.uniform(0, 30, 4)])
    )
    weights = rng.uniform(0.1, 5.0, size=values.size)
    for k in (2, 5, 9):
        centers = optimal_1d_centers(values, weights, k, manhattan)
        assert line_cost(values, weights, centers, manhattan) == pytest.approx(
            _quadratic_optimum(values, weights, k, manhattan), rel=1e-10
        )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("seed", range(6))
def test_estimator_reaches_the_optimum_over_every_labelling(Estimator, seed):
    # Rows with repeated values and zero weights, in any order: the fit
    # merges them into weighted distinct values first.
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, size=7).astype(float)
    weights = rng.integers(0, 4, size=7).astype(float)
    weights[rng.integers(7)] = 2.0
    k = int(rng.integers(1, min(len(np.unique(x[weights > 0])), 3) + 1))
    manhattan = Estimator is KMeansL1
    best = None
    for labels in itertools.product(range(k), repeat=7):
        labels = np.array(labels)
        total = sum(
            _float_cost(x[labels == c], weights[labels == c], manhattan)
            for c in range(k)
            if weights[labels == c].sum() > 0
        )
        best = total if best is None else min(best, total)
    km = Estimator(k, algorithm="exact").fit(x[:, None], sample_weight=weights)
    assert km.algorithm_ == "exact"
    assert km.inertia_ == pytest.approx(best, rel=1e-12, abs=1e-12)


def _mixture(seed, n=1000, k=12):
    rng = np.random.default_rng(seed)
    means = rng.uniform(0, 40, size=k)
    return rng.normal(means[rng.integers(k, size=n)], 1.0)[:, None]


@pytest.mark.parametrize("seed", range(2))
def test_never_worse_than_ten_lloyd_starts_or_scikit_learn(seed):
    X = _mixture(seed)
    exact = KMeansL2(12, random_state=seed).fit(X)
    assert exact.algorithm_ == "exact"
    assert exact.n_iter_ == 1
    lloyd = KMeansL2(12, algorithm="lloyd", n_init=10, random_state=seed).fit(X)
    theirs = KMeans(12, n_init=10, random_state=seed).fit(X)
    assert exact.inertia_ <= lloyd.inertia_ * (1 + 1e-12)
    assert exact.inertia_ <= theirs.inertia_ * (1 + 1e-12)
    medians = KMeansL1(12, random_state=seed).fit(X)
    lloyd_medians = KMeansL1(12, algorithm="lloyd", n_init=10, random_state=seed)
    assert medians.algorithm_ == "exact"
    assert medians.inertia_ <= lloyd_medians.fit(X).inertia_ * (1 + 1e-12)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fitted_attributes_agree(Estimator):
    X = _mixture(7, n=800, k=5)
    weights = np.random.default_rng(7).uniform(0.5, 2.0, size=800)
    km = Estimator(5, algorithm="exact").fit(X, sample_weight=weights)
    assert_array_equal(km.predict(X), km.labels_)
    assert -km.score(X, sample_weight=weights) == pytest.approx(km.inertia_)
    assert np.all(np.diff(km.cluster_centers_[:, 0]) > 0)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_weights_are_repeated_rows(Estimator):
    x = np.array([0.0, 1.0, 3.0, 7.0, 8.0, 20.0, 21.0])
    counts = np.array([3, 1, 2, 1, 4, 1, 2])
    weighted = Estimator(3).fit(x[:, None], sample_weight=counts)
    repeated = Estimator(3).fit(np.repeat(x, counts)[:, None])
    assert weighted.algorithm_ == repeated.algorithm_ == "exact"
    assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_invariant_to_row_order_scale_and_float32(Estimator):
    X = _mixture(3, n=2000, k=10)
    reference = Estimator(10).fit(X)
    order = np.random.default_rng(0).permutation(X.shape[0])
    shuffled = Estimator(10).fit(X[order])
    assert_array_equal(shuffled.labels_, reference.labels_[order])
    assert_allclose(shuffled.cluster_centers_, reference.cluster_centers_)
    # x -> -3 x + 1000 reverses the order of the values and multiplies the
    # costs by 3 (absolute) or 9 (squared).
    power = 1 if Estimator is KMeansL1 else 2
    moved = Estimator(10).fit(-3.0 * X + 1000.0)
    assert adjusted_rand_score(moved.labels_, reference.labels_) == 1.0
    assert moved.inertia_ == pytest.approx(3.0**power * reference.inertia_)
    assert_allclose(
        np.sort(moved.cluster_centers_[:, 0]),
        np.sort(-3.0 * reference.cluster_centers_[:, 0] + 1000.0),
    )
    # float32 rows (values that float64 holds exactly): the same clustering.
    X32 = X.astype(np.float32)
    single = Estimator(10).fit(X32)
    double = Estimator(10).fit(X32.astype(np.float64))
    assert single.algorithm_ == "exact"
    assert single.cluster_centers_.dtype == np.float32
    assert_array_equal(single.labels_, double.labels_)
    assert single.inertia_ == pytest.approx(double.inertia_, rel=1e-6)


def test_explicit_init_keeps_lloyd_and_scikit_learn_results():
    X = _mixture(5, n=1000, k=6)
    init = X[:6]
    ours = KMeansL2(6, init=init).fit(X)
    theirs = KMeans(6, init=init, n_init=1).fit(X)
    assert ours.algorithm_ == "lloyd"
    assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    picked = KMeansL1(6, init=lambda X, k, rs: X[:k]).fit(X)
    assert picked.algorithm_ == "lloyd"


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_exact_refuses_several_features(Estimator):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="one feature, got 2 features"):
        Estimator(3, algorithm="exact").fit(X)
    # "auto" takes Lloyd there.
    assert Estimator(3).fit(X).algorithm_ == "lloyd"


def test_exact_refuses_tables_read_in_blocks(tmp_path):
    path = tmp_path / "column.npy"
    np.save(path, np.arange(100, dtype=np.float64)[:, None])
    X = np.load(path, mmap_mode="r")
    with pytest.raises(ValueError, match="read in blocks"):
        KMeansL2(3, algorithm="exact", batch_size=10).fit(X)
    assert KMeansL2(3, batch_size=10).fit(X).algorithm_ == "lloyd"


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sparse_column_gets_the_dense_optimum(Estimator):
    X = _mixture(2, n=500, k=4)
    X[::3] = 0.0
    dense = Estimator(4).fit(X)
    sparse_fit = Estimator(4).fit(sparse.csr_matrix(X))
    assert sparse_fit.algorithm_ == dense.algorithm_ == "exact"
    assert_array_equal(sparse_fit.labels_, dense.labels_)


@pytest.mark.parametrize(
    ("Estimator", "limit"), [(KMeansL2, 50_000), (KMeansL1, 20_000)]
)
def test_auto_switches_at_the_documented_limit(Estimator, limit):
    # The limits in the docstrings of ``algorithm``: distinct values with
    # positive weight.
    assert f"at most {limit:,} distinct values" in " ".join(Estimator.__doc__.split())
    x = np.arange(limit + 1, dtype=np.float64)[:, None]
    weights = np.ones(limit + 1)
    weights[0] = 0.0
    at_limit = Estimator(2, max_iter=2).fit(x, sample_weight=weights)
    assert at_limit.algorithm_ == "exact"
    above = Estimator(2, max_iter=2).fit(x)
    assert above.algorithm_ == "lloyd"
    assert Estimator(2, algorithm="exact").fit(x).algorithm_ == "exact"
    assert Estimator(2, algorithm="lloyd").fit(x[:100]).algorithm_ == "lloyd"


@pytest.mark.parametrize(
    ("Estimator", "limit"), [(KMeansL2, 50_000), (KMeansL1, 20_000)]
)
def test_auto_keeps_the_table_of_cuts_within_64_mib(Estimator, limit):
    # 4 bytes per distinct value and cluster: "auto" takes the programme
    # while the table holds at most 2**24 cells, the figure in the docstring.
    most = 2**24 // limit
    assert f"up to {most} at {limit:,} values" in " ".join(Estimator.__doc__.split())
    x = np.arange(1000, dtype=np.float64)[:, None]
    fits = Estimator(2**24 // 1000, max_iter=1)
    assert fits._algorithm_for(x.shape) == "exact"
    assert fits.set_params(n_clusters=2**24 // 1000 + 1)._algorithm_for(x.shape) == (
        "lloyd"
    )
    # Whole fits: 4,200 values in 4,000 clusters would need 64.1 MiB.
    x = np.arange(4200, dtype=np.float64)[:, None] / 7
    assert Estimator(4000, max_iter=1).fit(x).algorithm_ == "lloyd"
    assert Estimator(3994, max_iter=1).fit(x).algorithm_ == "exact"


def test_grey_quantizer_lloyd_stays_lloyd():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(20, 20)).astype(np.uint8)
    quantizer = ImageQuantizer(8, algorithm="lloyd", random_state=0).fit(grey)
    assert quantizer.kmeans_.algorithm_ == "lloyd"
