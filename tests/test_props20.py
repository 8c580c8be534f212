"""Invariances of the estimators, searched for with hypothesis.

Each property holds exactly where the arithmetic allows it (powers of two,
integer weights, permutations) and within a stated tolerance elsewhere. The
heavier searches that found the cases pinned here ran outside the test suite.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.base import clone

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer
from skclust._spectral import max_n_clusters
from skclust.metrics import conductance, modularity

ESTIMATORS = [KMeansL2, KMeansL1]


def _fit(Estimator, X, init, sample_weight=None, **params):
    with warnings.catch_warnings():
        # Fewer distinct points than clusters, or a relocated empty cluster.
        warnings.simplefilter("ignore")
        model = Estimator(init.shape[0], init=init, n_init=1, **params)
        return model.fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("weight", [0.3, 1 / 3, 102.41414776593439])
def test_equal_weights_keep_the_unweighted_median(weight):
    # Six values, -2 repeated: the merged weights are unequal, and their
    # cumulative sum reaches half the total at -2 only in exact arithmetic.
    # Summed in float64 it fell short or went past, so the center was 0 or
    # -2, not the midpoint -1 of the unweighted fit.
    X = np.array([[3.0], [1.0], [0.0], [-2.0], [-2.0], [-4.0]])
    model = _fit(KMeansL1, X, np.array([[3.0]]), np.full(6, weight))
    assert model.cluster_centers_[0, 0] == -1.0
    assert model.inertia_ == 12.0 * weight


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    weight=st.floats(1e-3, 1e3).filter(lambda w: np.frexp(w)[0] != 0.5),
)
def test_equal_weights_change_nothing_but_the_inertia(Estimator, seed, weight):
    # Integer data ties often: the L2 fit centered on a weighted mean that
    # rounded otherwise broke a tie the other way (KMeansL2, w = 1.5, 15
    # values); the L1 medians above (KMeansL1 on 3,000 random pixels in 6
    # clusters, w = 0.3: 182 labels changed).
    rng = np.random.default_rng(seed)
    X = rng.integers(-4, 5, (int(rng.integers(6, 40)), 2)).astype(np.float64)
    distinct = np.unique(X, axis=0)
    k = int(rng.integers(1, min(5, distinct.shape[0]) + 1))
    init = distinct[rng.choice(distinct.shape[0], k, replace=False)] + 0.01
    plain = _fit(Estimator, X, init)
    weighted = _fit(Estimator, X, init, np.full(X.shape[0], weight))
    np.testing.assert_array_equal(weighted.labels_, plain.labels_)
    np.testing.assert_array_equal(weighted.cluster_centers_, plain.cluster_centers_)
    assert weighted.n_iter_ == plain.n_iter_
    # The inertia of the unweighted fit times the weight, rounded once.
    assert weighted.inertia_ == plain.inertia_ * weight


def _adjacency(n, edges):
    A = np.zeros((n, n))
    for i, j in edges:
        A[i, j] = A[j, i] = 1.0
    return A


STAR = _adjacency(4, [(0, 1), (0, 2), (0, 3)])
PATH = _adjacency(4, [(0, 1), (1, 2), (2, 3)])
HEXAGON = _adjacency(6, [(i, (i + 1) % 6) for i in range(6)])


def _sizes_and_cut(A, labels):
    """What an order-free partition keeps: cluster sizes and the weight cut."""
    sizes = tuple(sorted(np.bincount(labels)))
    return sizes, float(A[labels[:, None] != labels[None, :]].sum())


@pytest.mark.parametrize(
    ("blocks", "path", "k", "kinds"),
    [
        # One more cluster than components: the extra one went to whichever
        # of the star and the path came first (the star split off its
        # centre, a cut of 3; the path split in the middle, a cut of 1).
        ([STAR, PATH], 4, 3, {((1, 3, 4), 6.0), ((2, 2, 4), 2.0)}),
        # Fewer clusters than components: whichever came first of the star
        # and the path was a cluster of its own, the other shared one with
        # the isolated node; the sizes and cut are the same, the clusters
        # not.
        ([HEXAGON, STAR, PATH, np.zeros((1, 1))], 10, 3, {((4, 5, 6), 0.0)}),
    ],
)
def test_components_of_equal_size_and_volume_in_any_order(blocks, path, k, kinds):
    # ``path``: the first node of the path in ``blocks``.
    A = sparse.block_diag(blocks).toarray()
    rng = np.random.default_rng(0)
    found, path_alone = set(), set()
    for _ in range(12):
        perm = rng.permutation(A.shape[0])
        B = A[np.ix_(perm, perm)]
        labels = SpectralGraphClusterer(k, random_state=0).fit(B).labels_
        found.add(_sizes_and_cut(B, labels))
        back = np.empty_like(labels)
        back[perm] = labels
        # Whether the path's cluster holds the path alone.
        path_alone.add(bool(np.sum(back == back[path]) == 4))
    assert len(found) == 1 and found <= kinds, found
    assert len(path_alone) == 1


def test_one_cluster_of_real_weights_has_conductance_zero():
    # The cut was the volume minus the weight inside, summed in another
    # order: -1.1e-16 over a side of volume 0 gave -inf.
    A = np.array([[0.0, 0.1, 0.2], [0.1, 0.0, 0.7], [0.2, 0.7, 0.0]])
    assert conductance(A, [0, 0, 0]).tolist() == [0.0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), loops=st.booleans())
def test_clusters_without_edges_out_have_conductance_zero(seed, loops):
    # Before: 1,287 of 2,000 such random graphs (real weights) had a cluster
    # of conductance about 1e-16, and 362 one of +-inf.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 25))
    labels = rng.integers(0, int(rng.integers(1, 5)), n)
    upper = np.triu(rng.random((n, n)) < 0.5, 1) * rng.uniform(0.01, 3, (n, n))
    A = (upper + upper.T) * (labels[:, None] == labels[None, :])
    if loops:
        A[np.diag_indices(n)] = rng.uniform(0, 2, n) * (rng.random(n) < 0.3)
    if not A.any():
        A[0, 0] = 1.0
    for graph in (A, sparse.csr_array(A)):
        np.testing.assert_array_equal(conductance(graph, labels), 0.0)
    # An edge between two clusters: the two clusters' cut is its weight.
    if np.unique(labels).shape[0] > 1:
        i = 0
        j = int(np.flatnonzero(labels != labels[0])[0])
        A[i, j] = A[j, i] = 0.5
        phi = conductance(A, labels)
        degree = A.sum(axis=1) + np.diag(A)
        for c, value in zip(np.unique(labels), phi, strict=True):
            volume = degree[labels == c].sum()
            cut = 0.5 if c in (labels[i], labels[j]) else 0.0
            expected = cut and cut / min(volume, degree.sum() - volume)
            assert value == pytest.approx(expected, rel=1e-12, abs=0)


# --- k-means against Lloyd's algorithm in exact arithmetic --------------------


class _Tie(Exception):
    """The exact run met a (near) tie or an empty cluster: rounding decides."""


def _exact_median(values, weights):
    """Weighted median of Fractions, the midpoint where the cumulative weight
    of the distinct values reaches exactly half the total."""
    total = {}
    for value, weight in zip(values, weights, strict=True):
        total[value] = total.get(value, 0) + weight
    keys = sorted(total)
    half, cumulative = sum(total.values()) / 2, 0
    for at, value in enumerate(keys):
        cumulative += total[value]
        if cumulative >= half:
            if cumulative == half and at + 1 < len(keys):
                return (value + keys[at + 1]) / 2
            return value
    raise AssertionError("no median")


def _exact_lloyd(X, init, weights, manhattan):
    """Labels and centers of Lloyd's algorithm on the exact values of X."""
    points = [[Fraction(float(v)) for v in row] for row in X]
    centers = [[Fraction(float(v)) for v in row] for row in init]
    weights = [Fraction(float(w)) for w in weights]

    def cost(x, c):
        if manhattan:
            return sum(abs(a - b) for a, b in zip(x, c, strict=True))
        return sum((a - b) ** 2 for a, b in zip(x, c, strict=True))

    labels = None
    for _ in range(100):
        new = []
        for x in points:
            costs = [cost(x, c) for c in centers]
            best = min(costs)
            # A tie up to 1e-9 relative: rounding may settle it either way.
            if sum(c - best <= best * Fraction(1, 10**9) for c in costs) > 1:
                raise _Tie
            new.append(costs.index(best))
        if new == labels:
            break
        labels = new
        for j in range(len(centers)):
            # Rows of zero weight are labelled, not part of any center.
            members = [i for i, label in enumerate(labels) if label == j and weights[i]]
            if not members:
                raise _Tie
            columns = zip(*(points[i] for i in members), strict=True)
            member_weights = [weights[i] for i in members]
            if manhattan:
                centers[j] = [_exact_median(col, member_weights) for col in columns]
            else:
                total = sum(member_weights)
                centers[j] = [
                    sum(w * v for w, v in zip(member_weights, col, strict=True)) / total
                    for col in columns
                ]
    return np.array(labels), np.array([[float(v) for v in c] for c in centers])


def _variants(X, init, rng):
    """The same problem as other arrays: layouts, dtypes, exact transforms."""
    yield "Fortran", np.asfortranarray(X), init
    yield "csr", sparse.csr_matrix(X), init
    yield "csc", sparse.csc_array(X), init
    yield "float32", X.astype(np.float32), init
    c = 2.0 ** int(rng.integers(-40, 40))
    yield "power of two", X * c, init * c
    t = rng.integers(-50, 50, X.shape[1]) / 4.0
    yield "translation", X + t, init + t
    s = rng.choice([-1.0, 1.0], X.shape[1])
    yield "sign flips", X * s, init * s
    c = float(rng.uniform(0.1, 10.0))
    yield "any scale", X * c, init * c


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    weighting=st.sampled_from(["none", "integers", "equal"]),
)
def test_lloyd_is_exact_lloyd_wherever_no_tie_decides(Estimator, seed, weighting):
    # Eighths in -8..8 are exact in float32 and under these transforms; any
    # fit whose exact run meets no near tie must give the exact labels, in
    # every layout and dtype and after every transform. The heavier search
    # (24,227 such fits) found no other difference once equal weights were
    # fixed.
    rng = np.random.default_rng(seed)
    X = rng.integers(-64, 65, (int(rng.integers(3, 16)), 2)) / 8.0
    distinct = np.unique(X, axis=0)
    k = int(rng.integers(1, min(4, distinct.shape[0]) + 1))
    init = distinct[rng.choice(distinct.shape[0], k, replace=False)] + 1 / 64
    weights = {
        "none": np.ones(X.shape[0]),
        "integers": rng.integers(0, 4, X.shape[0]).astype(float),
        # Not a power of two: sums of it round (see the equal-weight tests).
        "equal": np.full(X.shape[0], 0.3),
    }[weighting]
    if not weights.any():
        weights[0] = 1.0
    manhattan = Estimator is KMeansL1
    for name, Y, start in [("as given", X, init), *_variants(X, init, rng)]:
        dense = Y.toarray() if sparse.issparse(Y) else np.asarray(Y, np.float64)
        try:
            labels, centers = _exact_lloyd(dense, start, weights, manhattan)
        except _Tie:
            continue
        model = _fit(Estimator, Y, start, weights, tol=0)
        np.testing.assert_array_equal(model.labels_, labels, err_msg=name)
        # float32 rows are centered in float32 (KMeansL2): their means carry
        # the rounding of that step, float32's resolution at the data's scale.
        resolution = 1e-6 if name == "float32" else 1e-12
        np.testing.assert_allclose(
            model.cluster_centers_,
            centers,
            rtol=0,
            atol=resolution * (1 + np.abs(dense).max()),
            err_msg=name,
        )
        np.testing.assert_array_equal(model.predict(Y), labels, err_msg=name)


# --- invariances that held in the search, kept as fast properties -------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), random_state=st.integers(0, 10**6))
def test_seeded_fit_follows_the_rows_not_their_order_or_history(
    Estimator, seed, random_state
):
    # The merge orders the distinct rows by their bits, and the seeds are
    # drawn from random_state at every fit: a refit, a clone and a row
    # permutation start from the same seeds and give the same fit.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(int(rng.integers(6, 40)), 3))
    k = int(rng.integers(1, 5))
    model = Estimator(k, random_state=random_state, n_init=2)
    first = model.fit(X)
    labels, centers = first.labels_.copy(), first.cluster_centers_.copy()
    model.fit(rng.normal(size=X.shape))
    model.fit(X)
    np.testing.assert_array_equal(model.labels_, labels)
    np.testing.assert_array_equal(model.cluster_centers_, centers)
    perm = rng.permutation(X.shape[0])
    permuted = clone(model).fit(X[perm])
    np.testing.assert_array_equal(permuted.labels_, labels[perm])
    np.testing.assert_array_equal(permuted.cluster_centers_, centers)
    assert permuted.inertia_ == first.inertia_


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_subvectors=st.sampled_from([1, 2]))
def test_quantizer_codes_ignore_row_scales_by_powers_of_two(seed, n_subvectors):
    # normalize=True: a row times 2**e has the same unit row, bit for bit.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(int(rng.integers(8, 40)), 4)).astype(np.float32)
    scales = np.ldexp(1.0, rng.integers(-30, 30, X.shape[0])).astype(np.float32)
    Y = X * scales[:, None]
    k = int(rng.integers(1, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [
            VectorQuantizer(k, n_subvectors=n_subvectors, random_state=0).fit(T)
            for T in (X, Y)
        ]
    np.testing.assert_array_equal(fits[0].codebook_, fits[1].codebook_)
    codes = fits[0].transform(X)
    assert codes.dtype == np.uint8 and codes.shape == (X.shape[0], n_subvectors)
    np.testing.assert_array_equal(fits[0].transform(Y), codes)
    np.testing.assert_array_equal(fits[1].transform(Y), codes)
    rebuilt = fits[0].inverse_transform(codes)
    assert rebuilt.dtype == np.float32 and rebuilt.shape == X.shape


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_product_codebooks_are_those_of_each_subvector_alone(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(int(rng.integers(10, 40)), 6)).astype(np.float32)
    k = int(rng.integers(1, 5))
    init = np.stack(
        [
            X[rng.choice(X.shape[0], k, replace=False), 2 * m : 2 * m + 2]
            for m in range(3)
        ]
    )
    params = {"init": init, "normalize": False, "batch_size": 16}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        product = VectorQuantizer(k, n_subvectors=3, **params).fit(X)
        codes = product.transform(X)
        for m in range(3):
            part = X[:, 2 * m : 2 * m + 2]
            alone = VectorQuantizer(k, **{**params, "init": init[m]}).fit(part)
            np.testing.assert_array_equal(alone.codebook_[0], product.codebook_[m])
            np.testing.assert_array_equal(alone.transform(part)[:, 0], codes[:, m])


def _random_graph(rng, n):
    upper = np.triu(rng.random((n, n)) < 0.3, 1) * rng.integers(1, 4, (n, n))
    return (upper + upper.T).astype(float)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), exponent=st.integers(-300, 300))
def test_spectral_labels_ignore_how_the_weights_are_given(seed, exponent):
    rng = np.random.default_rng(seed)
    A = _random_graph(rng, int(rng.integers(4, 30)))
    k = int(rng.integers(1, min(max_n_clusters(A), 5) + 1))
    reference = SpectralGraphClusterer(k, random_state=0).fit(A).labels_
    n = A.shape[0]
    upper = sparse.triu(sparse.coo_array(A), 1)
    rows, cols, weights = upper.row, upper.col, upper.data
    # Every edge stored as two halves in each direction: COO sums duplicates.
    halves = sparse.coo_array(
        (
            np.tile(weights / 2, 4),
            (np.r_[rows, rows, cols, cols], np.r_[cols, cols, rows, rows]),
        ),
        shape=A.shape,
    )
    # Explicit zeros stored where there is no edge.
    absent = np.argwhere(A == 0)[:5]
    with_zeros = sparse.csr_array(
        (
            np.r_[A[A != 0], np.zeros(len(absent))],
            (
                np.r_[np.nonzero(A)[0], absent[:, 0]],
                np.r_[np.nonzero(A)[1], absent[:, 1]],
            ),
        ),
        shape=A.shape,
    )
    loops = A + np.diag(rng.uniform(0, 5, n))
    graphs = {
        "power of two": A * 2.0**exponent,
        "times 3.7": A * 3.7,
        "float32": A.astype(np.float32),
        "int": A.astype(np.int32),
        "csc matrix": sparse.csc_matrix(A),
        "COO halves": halves,
        "explicit zeros": with_zeros,
        "diagonal": loops,
        "diagonal, sparse": sparse.csr_array(loops),
    }
    for name, graph in graphs.items():
        labels = SpectralGraphClusterer(k, random_state=0).fit(graph).labels_
        np.testing.assert_array_equal(labels, reference, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_graph_scores_follow_the_graph_not_the_names(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 25))
    A = _random_graph(rng, n) * rng.uniform(0.5, 2.0, (n, n))
    A = np.triu(A, 1) + np.triu(A, 1).T
    A[0, n - 1] = A[n - 1, 0] = 1.0
    labels = rng.integers(0, int(rng.integers(1, 5)), n)
    q, phi = modularity(A, labels), conductance(A, labels)
    # Renamed clusters: conductance comes in the order of the new names.
    names = np.array([7, -2, 30, 4])
    order = np.argsort(names[np.unique(labels)])
    # Renaming reorders the clusters' terms, now summed exactly: the last bit
    # differed in 174 of 2,000 such graphs (and a conductance's in 16).
    assert modularity(A, names[labels]) == q
    np.testing.assert_array_equal(conductance(A, names[labels]), phi[order])
    # Renumbered nodes.
    perm = rng.permutation(n)
    B = A[np.ix_(perm, perm)]
    assert modularity(B, labels[perm]) == pytest.approx(q, abs=1e-14)
    np.testing.assert_allclose(conductance(B, labels[perm]), phi, rtol=1e-13, atol=0)
