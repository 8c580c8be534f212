"""``copy_x=False``: the fit rearranges the caller's rows in place instead of
copying them, and puts every bit back."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_inplace_ensure_writeable

from conftest import traced_peak
from skclust import KMeansL1, KMeansL2
from skclust._kmeans import _dedup
from skclust._kmeans._row_order import permute_rows

ESTIMATORS = [KMeansL2, KMeansL1]


def _bits(X):
    """The bytes of ``X``: equal bits, not equal values (-0.0 is not 0.0)."""
    return np.ascontiguousarray(X).view(np.uint8).copy()


def _table(dtype=np.float64, n_samples=400, seed=0):
    """Blobs with repeated rows, signed zeros and a row of -0.0 beside 0.0."""
    X, _ = make_blobs(n_samples, 6, centers=5, random_state=seed)
    X = np.vstack([X, X[::7], np.zeros((3, 6)), -np.zeros((2, 6))])
    X[::5, 2] = 0.0
    X[1::5, 2] = -0.0
    return np.random.default_rng(seed).permutation(X).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
@pytest.mark.parametrize("n_rows", [1, 2, 5, 300])
def test_permute_rows_forward_and_back(dtype, n_rows):
    rng = np.random.default_rng(n_rows)
    X = rng.normal(scale=100, size=(n_rows, 3)).astype(dtype)
    original = X.copy()
    seen = np.empty(n_rows, dtype=np.uint8)
    orders = [
        rng.permutation(n_rows),
        np.arange(n_rows),
        np.arange(n_rows)[::-1].copy(),
        np.roll(np.arange(n_rows), 1),  # one cycle through every row
    ]
    for order in orders:
        order = order.astype(np.intp)
        permute_rows(X.view(np.uint8), order, seen, False)
        assert_array_equal(X, original[order])
        permute_rows(X.view(np.uint8), order, seen, True)
        assert_array_equal(X, original)


def test_row_moves_undo_only_what_moved():
    X = _table()
    before = _bits(X)
    moves = _dedup.RowMoves(X)
    moves.undo()  # nothing moved: nothing to put back
    assert_array_equal(_bits(X), before)
    moves.apply(np.random.default_rng(0).permutation(X.shape[0]))
    assert not np.array_equal(_bits(X), before)
    moves.undo()
    moves.undo()  # a second undo (a finally after an interrupted one) is a no-op
    assert_array_equal(_bits(X), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_bit_of_X_is_put_back(Estimator, dtype):
    X = _table(dtype)
    before = _bits(X)
    weights = np.random.default_rng(1).integers(0, 3, X.shape[0])
    Estimator(5, random_state=0, copy_x=False).fit(X)
    assert_array_equal(_bits(X), before)
    Estimator(5, random_state=0, copy_x=False).fit(X, sample_weight=weights)
    assert_array_equal(_bits(X), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_X_is_rearranged_during_the_fit_and_put_back_when_it_raises(Estimator):
    X = _table()
    before = _bits(X)
    seen = {}

    def failing_init(points, n_clusters, random_state):
        # The points handed to the init are the first rows of X itself.
        seen["shares"] = np.shares_memory(points, X)
        seen["moved"] = not np.array_equal(_bits(X), before)
        raise RuntimeError("init failed")

    with pytest.raises(RuntimeError, match="init failed"):
        Estimator(5, init=failing_init, copy_x=False).fit(X)
    assert seen == {"shares": True, "moved": True}
    assert_array_equal(_bits(X), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_init_that_views_X_keeps_its_rows(Estimator):
    # init=X[:5] is a view of the rows that the fit moves.
    X = _table()
    expected = Estimator(5, init=X[:5].copy()).fit(X)
    in_place = Estimator(5, init=X[:5], copy_x=False).fit(X)
    assert_array_equal(in_place.labels_, expected.labels_)
    np.testing.assert_allclose(
        in_place.cluster_centers_, expected.cluster_centers_, rtol=1e-12
    )


@pytest.mark.parametrize("seed", range(3))
def test_l1_result_is_that_of_the_copy(seed):
    # L1 is not centered: the same points in the same order, the same result.
    X = _table(seed=seed)
    weights = np.random.default_rng(seed).uniform(0, 2, X.shape[0])
    copied = KMeansL1(6, random_state=seed).fit(X, sample_weight=weights)
    in_place = KMeansL1(6, random_state=seed, copy_x=False).fit(
        X, sample_weight=weights
    )
    assert_array_equal(in_place.labels_, copied.labels_)
    assert_array_equal(in_place.cluster_centers_, copied.cluster_centers_)
    assert in_place.inertia_ == copied.inertia_
    assert in_place.n_iter_ == copied.n_iter_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l2_uncentered_fit_matches_scikit_learn_from_the_same_init(dtype):
    # Far from the origin, where the uncentered products round the most.
    X, _ = make_blobs(3000, 32, centers=8, cluster_std=2.0, random_state=3)
    X = (X + 500.0).astype(dtype)
    init = X[:8].astype(np.float64)
    ours = KMeansL2(8, init=init, copy_x=False).fit(X)
    theirs = KMeans(8, init=init, n_init=1, algorithm="lloyd").fit(X)
    assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-5
    )
    assert_array_equal(ours.predict(X), ours.labels_)
    # Each label is the nearest center, by exact float64 distances.
    centers = ours.cluster_centers_.astype(np.float64)
    distances = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    assert_array_equal(ours.labels_, distances.argmin(axis=1))


def _read_only(X):
    X = X.copy()
    X.flags.writeable = False
    return X


def _mapped_file(X, tmp_path):
    mapped = np.lib.format.open_memmap(
        tmp_path / "X.npy", mode="w+", dtype=X.dtype, shape=X.shape
    )
    mapped[:] = X
    return mapped


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "make",
    [
        lambda X, _: np.asfortranarray(X),
        lambda X, _: X * 1e150,  # extreme magnitude: scaled on a copy
        lambda X, _: _read_only(X),
        # Small enough to be loaded, not read in blocks: a kill mid-fit
        # would leave the file's rows moved.
        _mapped_file,
    ],
    ids=["fortran", "extreme", "read-only", "memmap"],
)
def test_arrays_that_cannot_be_rearranged_are_copied(
    Estimator, make, tmp_path, monkeypatch
):
    X = make(_table(), tmp_path)
    before = _bits(X)
    copied = Estimator(5, random_state=0).fit(X)

    def refuse(*args):
        raise AssertionError("rows moved")

    monkeypatch.setattr("skclust._kmeans._dedup.permute_rows", refuse)
    in_place = Estimator(5, random_state=0, copy_x=False).fit(X)
    assert_array_equal(_bits(X), before)
    assert_array_equal(in_place.labels_, copied.labels_)
    assert_array_equal(in_place.cluster_centers_, copied.cluster_centers_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_scikit_learn_check_of_in_place_estimators(Estimator):
    # Read-only input is copied, left read-only and unchanged.
    check_inplace_ensure_writeable(Estimator.__name__, Estimator(3, copy_x=False))


def test_parallel_runs_on_rearranged_rows():
    X = _table()
    before = _bits(X)
    one = KMeansL2(5, n_init=3, random_state=0, copy_x=False).fit(X)
    two = KMeansL2(5, n_init=3, random_state=0, copy_x=False, n_jobs=2).fit(X)
    assert_array_equal(_bits(X), before)
    assert_array_equal(one.labels_, two.labels_)
    assert_array_equal(one.cluster_centers_, two.cluster_centers_)


@pytest.mark.parametrize(
    ("Estimator", "bound"),
    # Measured: 0.33 and 0.58 (and 1.30 and 1.54 with the copy, in
    # test_float32).
    [(KMeansL2, 0.4), (KMeansL1, 0.65)],
)
# Zero weights: the same (1.36 and 1.60 when the rows of positive weight were
# a selection copied from X).
@pytest.mark.parametrize("zero_weights", [False, True])
def test_no_copy_of_the_rows(Estimator, bound, zero_weights, monkeypatch):
    monkeypatch.setattr("skclust._kmeans._base.cpu_count", lambda: 2)
    X = np.random.default_rng(0).standard_normal((100_000, 64)).astype(np.float32)
    weights = None
    if zero_weights:
        weights = np.ones(X.shape[0])
        weights[::1000] = 0.0

    def fit(X):
        Estimator(4, random_state=0, n_init=1, max_iter=5, copy_x=False).fit(
            X, sample_weight=weights
        )

    assert traced_peak(fit, X) < bound * X.nbytes


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_interrupt_during_the_move_puts_X_back(Estimator, monkeypatch):
    # The kernel runs without the GIL: a Ctrl-C that arrives while it moves
    # the rows is raised only once it returns, with every row moved.
    move = _dedup.permute_rows

    def interrupted(rows, order, seen, inverse):
        move(rows, order, seen, inverse)
        if not inverse:
            raise KeyboardInterrupt

    monkeypatch.setattr(_dedup, "permute_rows", interrupted)
    X = _table()
    before = _bits(X)
    with pytest.raises(KeyboardInterrupt):
        Estimator(5, random_state=0, copy_x=False).fit(X)
    assert_array_equal(_bits(X), before)


@pytest.mark.parametrize("sparse_input", [False, True])
def test_every_point_a_center_warning_points_at_the_caller(sparse_input):
    # The dense fit went one call deeper (fit -> _fit_distinct) with copy_x.
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 3.0]])
    X = sparse.csr_matrix(X) if sparse_input else X
    with pytest.warns(ConvergenceWarning, match="distinct points") as record:
        KMeansL2(3, copy_x=False).fit(X)
    assert [warning.filename for warning in record] == [__file__]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("n_clusters", [5, 60])
def test_zero_weights_give_the_copy_result(Estimator, n_clusters):
    # Rows of zero weight are moved after the others: labels still map to
    # the caller's order. 60 clusters: fewer distinct points of positive
    # weight than clusters.
    X = _table()[:150]
    before = _bits(X)
    weights = np.random.default_rng(2).integers(0, 2, X.shape[0]) * 1.5
    weights[:40] = 0.0
    if n_clusters == 60:
        weights[60:] = 0.0
    copied = Estimator(n_clusters, random_state=0).fit(X, sample_weight=weights)
    in_place = Estimator(n_clusters, random_state=0, copy_x=False).fit(
        X, sample_weight=weights
    )
    assert_array_equal(_bits(X), before)
    assert_array_equal(in_place.predict(X), in_place.labels_)
    if Estimator is KMeansL1 or n_clusters == 60:
        assert_array_equal(in_place.labels_, copied.labels_)
        assert_array_equal(in_place.cluster_centers_, copied.cluster_centers_)
        assert in_place.inertia_ == copied.inertia_


class _SignallingCondition(type(_dedup._claims_changed)):
    """The claims' condition, setting ``waiting`` when a fit starts to wait."""

    def __init__(self):
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout=None):
        self.waiting.set()
        return super().wait(timeout)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("second_rows", [slice(None), slice(100, None)])
def test_two_threads_fitting_the_same_X(Estimator, second_rows, monkeypatch):
    # A second copy_x=False fit of X (or of rows of it) started while the
    # first has X's rows moved waits until they are back, then moves them
    # itself. It used to copy them as they were, moved or in mid-move, and
    # fitted wrong rows.
    X = _table()
    before = _bits(X)
    init = X[second_rows][:5].copy()
    # copy_x=False on a copy: KMeansL2 does not center in place (see Notes).
    expected = Estimator(5, init=init, n_init=1, copy_x=False).fit(
        X[second_rows].copy()
    )
    condition = _SignallingCondition()
    monkeypatch.setattr(_dedup, "_claims_changed", condition)
    seen = {}

    def second_init(points, n_clusters, random_state):
        seen["second moves X"] = np.shares_memory(points, X)
        return init

    def second():
        seen["second"] = Estimator(5, init=second_init, n_init=1, copy_x=False).fit(
            X[second_rows]
        )

    thread = threading.Thread(target=second)

    def first_init(points, n_clusters, random_state):
        thread.start()
        seen["second waited"] = condition.waiting.wait(30)
        return points[:n_clusters]

    Estimator(5, init=first_init, n_init=1, copy_x=False).fit(X)
    thread.join(30)
    assert_array_equal(_bits(X), before)
    assert seen.pop("second waited") and seen.pop("second moves X")
    assert_array_equal(seen["second"].labels_, expected.labels_)
    assert seen["second"].inertia_ == pytest.approx(expected.inertia_)


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(2, 60),
    n_features=st.integers(1, 4),
    n_values=st.integers(1, 5),
    float32=st.booleans(),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_merge_in_place_property(n_rows, n_features, n_values, float32, weighted, seed):
    # Few values (signed zeros among them): many repeated rows.
    rng = np.random.default_rng(seed)
    values = np.array([0.0, -0.0, 1.5, -2.0, 1e-310])[:n_values]
    X = rng.choice(values, (n_rows, n_features))
    X = X.astype(np.float32) if float32 else X
    weights = rng.integers(0, 3, n_rows).astype(float) if weighted else None
    before = _bits(X)
    copied = _dedup.merge_duplicate_rows(X.copy(), weights)
    moves = _dedup.RowMoves(X)
    try:
        moved = _dedup.merge_duplicate_rows(X, weights, moves)
        assert np.shares_memory(moved.points, X)
        # Every row is its distinct row, and each distinct row carries the
        # weight the copy's merge gives it.
        assert_array_equal(moved.points[moved.inverse], copied.points[copied.inverse])
        for i in range(n_rows):
            assert moved.weights[moved.inverse[i]] == copied.weights[copied.inverse[i]]
        positive = moved.weights > 0
        assert positive[: np.count_nonzero(positive)].all()
        # The rows of positive weight keep the copy's order.
        assert_array_equal(
            _bits(moved.points[positive]),
            _bits(copied.points[copied.weights > 0]),
        )
    finally:
        moves.undo()
    assert_array_equal(_bits(X), before)
