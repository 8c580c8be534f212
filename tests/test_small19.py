"""Small loose ends (small19): self-loops in the graph scores, the dtype of
labels, n_iter_ of the exact one-feature path, the rows prepared by the
vector quantizer's first passes."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.exceptions import ConvergenceWarning

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer
from skclust._kmeans._optimal_1d import optimal_1d_centers
from skclust._kmeans._sources import RowPrep
from skclust.metrics import conductance, modularity


def _path_with_loops():
    """Path 0-1-2-3 with a loop of weight 1 on each end node."""
    A = np.zeros((4, 4))
    for i in range(3):
        A[i, i + 1] = A[i + 1, i] = 1.0
    A[0, 0] = A[3, 3] = 1.0
    return A


@pytest.mark.parametrize("container", [np.array, sparse.csr_array, sparse.coo_matrix])
def test_graph_scores_count_a_self_loop_twice(container):
    # The scores refused any self-loop, so a networkx LFR graph (which has
    # some) clustered by SpectralGraphClusterer could not be scored. A loop
    # has two ends, as in networkx: degrees 3, 2, 2, 3, 2m = 10; each
    # cluster {0, 1}, {2, 3} holds weight 2 (loop + edge) and volume 5, so
    # Q = 2 (2/5 - (5/10)^2) = 0.3 and phi = 1/5. Counting a loop once gives
    # 0.25 and 1/4; dropping it 1/6 and 1/3.
    A = container(_path_with_loops())
    assert modularity(A, [0, 0, 1, 1]) == pytest.approx(0.3)
    assert_allclose(conductance(A, [0, 0, 1, 1]), [0.2, 0.2])


def test_graph_scores_match_networkx_on_a_weighted_loop():
    # Loop of weight 2 on node 0, edges 0-1 and 1-2: networkx's degrees are
    # 5, 2, 1 and m = 4; {0, 1} holds 3 of it, so
    # Q = 3/4 - (7/8)^2 + 0 - (1/8)^2 = -1/32.
    A = np.array([[2.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert modularity(A, [0, 0, 1]) == pytest.approx(-1 / 32)
    assert modularity(A, [0, 0, 0]) == pytest.approx(0.0)


def test_clusterer_ignores_the_loops_the_scores_count():
    # The clusterer drops the diagonal; the scores of its labels on the graph
    # without loops are those of the loop-free graph, and a loop moves them.
    rng = np.random.default_rng(0)
    blocks = np.kron(np.eye(2), np.ones((6, 6)))
    A = np.triu((rng.random((12, 12)) < 0.8) * blocks, 1)
    A[0, 11] = 1.0
    A = A + A.T
    looped = A.copy()
    looped[[0, 5, 7], [0, 5, 7]] = 1.0
    model = SpectralGraphClusterer(n_clusters=2, random_state=0)
    labels = model.fit_predict(looped)
    assert_array_equal(labels, model.fit_predict(A))
    assert modularity(looped, labels) != pytest.approx(modularity(A, labels))
    dropped = sparse.csr_array(looped)
    dropped.setdiag(0)
    assert modularity(dropped, labels) == pytest.approx(modularity(A, labels))


def _tables():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return {
        "float64": X,
        "float32": X.astype(np.float32),
        "sparse": sparse.csr_array(np.where(X > 0, X, 0.0)),
        "one feature": X[:, :1],
        "fewer distinct rows than clusters": np.repeat(X[:2], 20, axis=0),
    }


@pytest.mark.parametrize("Estimator", [KMeansL1, KMeansL2])
@pytest.mark.parametrize("table", list(_tables()))
def test_kmeans_labels_are_int32_as_scikit_learns(Estimator, table):
    # labels_, predict and fit_predict were intp (int64), where
    # scikit-learn's KMeans gives int32 whatever the input.
    X = _tables()[table]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = KMeans(3, n_init=1, random_state=0).fit(X)
        model = Estimator(3, random_state=0)
        results = [model.fit(X).labels_, model.predict(X), model.fit_predict(X)]
    assert theirs.labels_.dtype == theirs.predict(X).dtype == np.int32
    assert [r.dtype for r in results] == [np.dtype(np.int32)] * 3


@pytest.mark.parametrize("Estimator", [KMeansL1, KMeansL2])
def test_kmeans_labels_of_a_memory_map_are_int32(Estimator, tmp_path):
    X = np.random.default_rng(1).normal(size=(600, 2))
    np.save(tmp_path / "X.npy", X)
    table = np.load(tmp_path / "X.npy", mmap_mode="r")
    model = Estimator(3, random_state=0, batch_size=100).fit(table)
    assert model.labels_.dtype == model.predict(table).dtype == np.int32


@pytest.mark.parametrize("affinity", ["precomputed", "rbf"])
@pytest.mark.parametrize("container", [np.array, sparse.csr_array])
def test_spectral_labels_are_int32_as_scikit_learns(affinity, container):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 2))
    if affinity == "precomputed":
        X = np.exp(-np.square(X[:, None] - X[None]).sum(axis=2))
    X = container(X)
    theirs = SpectralClustering(2, affinity=affinity, random_state=0).fit(X)
    model = SpectralGraphClusterer(2, affinity=affinity, random_state=0)
    assert theirs.labels_.dtype == np.int32
    assert model.fit(X).labels_.dtype == model.fit_predict(X).dtype == np.int32


@pytest.mark.parametrize("Estimator", [KMeansL1, KMeansL2])
def test_exact_one_feature_fit_takes_one_step(Estimator):
    # 0, 1 | 10, 11: the optimal runs are the pairs; their means and their
    # medians (the midpoint where the cumulative weight reaches exactly
    # half) are 0.5 and 10.5. KMeansL1's programme gave the lowest medians,
    # 0 and 10, which Lloyd's first step moved: n_iter_ was 2, KMeansL2's 1.
    X = np.array([[11.0], [0.0], [10.0], [1.0]])
    model = Estimator(2).fit(X)
    assert model.algorithm_ == "exact"
    assert model.n_iter_ == 1
    assert_array_equal(np.sort(model.cluster_centers_[:, 0]), [0.5, 10.5])


def test_exact_medians_are_lloyds_medians():
    # Weights 1, 1 | 2, 1, 1: the second run reaches half its weight (2) at
    # 20 exactly, so every value from 20 to 21 is a median: 20.5.
    values = np.array([0.0, 1.0, 20.0, 21.0, 22.0])
    weights = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    centers = optimal_1d_centers(values, weights, 2, manhattan=True)
    assert_array_equal(centers, [0.5, 20.5])
    model = KMeansL1(2).fit(values[:, None], sample_weight=weights)
    assert model.n_iter_ == 1
    assert_array_equal(model.cluster_centers_[:, 0], centers)


@pytest.mark.parametrize("weighted", [False, True])
def test_exact_fits_of_continuous_values_take_one_step(weighted):
    # Values without ties: no costless move is left to Lloyd's steps, so
    # both estimators report one iteration (KMeansL1 gave 2 on about half
    # of such fits, whenever a run had an even number of unit weights).
    rng = np.random.default_rng(4)
    for n in (6, 9, 40, 41):
        x = rng.normal(size=(n, 1))
        weights = rng.uniform(0.5, 2.0, n) if weighted else None
        for Estimator in (KMeansL1, KMeansL2):
            model = Estimator(3).fit(x, sample_weight=weights)
            assert (model.algorithm_, model.n_iter_) == ("exact", 1)


def test_row_check_names_the_first_bad_row_and_lets_huge_rows_pass():
    # The check sums the block first and looks at rows only when the sum is
    # not finite: a NaN, an infinity, or (finite rows) a sum past the range.
    prep = RowPrep(False, float32=False)
    rows = np.ones((6, 3))
    rows[4, 1] = np.nan
    rows[5] = [np.inf, -np.inf, 0.0]
    needs = "k-means needs finite values"
    with pytest.raises(
        ValueError, match=rf"^X holds NaN at row 104, column 1: {needs}$"
    ):
        prep(rows, 100)
    rows[4, 1] = 0.0
    with pytest.raises(
        ValueError, match=rf"^X holds infinity at row 105, column 0: {needs}$"
    ):
        prep(rows, 100)
    huge = np.full((4, 3), 1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(prep(huge, 0), huge)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("float32", [False, True])
@pytest.mark.parametrize("raw_dtype", [np.float32, np.float64])
def test_rows_prepared_into_a_buffer_are_the_rows_returned(
    normalize, centered, float32, raw_dtype
):
    # Preparing an in-memory table writes each block into the table's
    # buffer (one rounding of the float64 difference) instead of copying a
    # float32 result: the values must be the same to the bit.
    rng = np.random.default_rng(5)
    raw = (rng.normal(size=(50, 7)) * 10.0 ** rng.integers(-3, 4, (50, 1))).astype(
        raw_dtype
    )
    raw[3] = 0.0
    origin = rng.normal(size=7) if centered else None
    for prep in (
        RowPrep(normalize, origin, float32=float32),
        RowPrep(normalize, origin, float32=float32, exponent=-3, keep_float32=True),
    ):
        expected = prep(raw, 0)
        out = np.empty(raw.shape, dtype=expected.dtype)
        assert prep(raw, 0, out=out) is out
        assert_array_equal(out, expected)


def test_memory_map_with_a_bad_row_in_a_late_block(tmp_path):
    # The passes after the first skip the check (it found nothing): the bad
    # row must be reported by the first, wherever it is.
    X = np.random.default_rng(6).normal(size=(3000, 4)).astype(np.float32)
    X[2999, 2] = np.nan
    np.save(tmp_path / "X.npy", X)
    table = np.load(tmp_path / "X.npy", mmap_mode="r")
    with pytest.raises(ValueError, match="NaN at row 2999, column 2"):
        VectorQuantizer(4, batch_size=500, random_state=0).fit(table)
