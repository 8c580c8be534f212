"""SpectralGraphClusterer: spectra against brute force, components, quality."""

import warnings

import numpy as np
import pytest
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components, laplacian
from scipy.sparse.linalg import ArpackNoConvergence
from sklearn.cluster import SpectralClustering
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils import get_tags

from skclust import SpectralGraphClusterer, sweep_n_clusters
from skclust._spectral._laplacian import (
    EigensolverError,
    _bethe_hessian_count,
    _count_below_bulk,
    _leading_eigenpairs,
    _normalized_affinity,
    _twin_directions_last,
)
from skclust.datasets import load_karate_club, read_graph
from skclust.metrics import (
    all_nodes_split,
    mismatch_rate,
    mismatch_scorer,
    modularity,
)


def _planted_partition(sizes, p_in, p_out, seed, isolated=0):
    """Symmetric 0/1 adjacency with dense blocks on the diagonal."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    n = labels.shape[0]
    p = np.where(labels[:, None] == labels[None, :], p_in, p_out)
    upper = np.triu(rng.random((n, n)) < p, k=1)
    A = (upper | upper.T).astype(float)
    if isolated:
        A = np.pad(A, (0, isolated))
        labels = np.concatenate([labels, np.zeros(isolated, dtype=int)])
    return A, labels


def _dense_laplacian(A, tau):
    """``I - D_tau^-1/2 A D_tau^-1/2`` written out with numpy."""
    d = A.sum(axis=1) + tau
    s = np.zeros_like(d)
    s[d > 0] = 1.0 / np.sqrt(d[d > 0])
    L = np.eye(A.shape[0]) - s[:, None] * A * s[None, :]
    if tau == 0:
        # scipy's convention: an isolated node has a zero row.
        L[d == 0, d == 0] = 0.0
    return L


def _partition(labels):
    return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)}


def _components_of(model):
    return {frozenset(c.tolist()) for c in model.connected_components_}


@pytest.mark.parametrize("seed", range(5))
def test_karate_factions_are_recovered(seed):
    graph = load_karate_club()
    model = SpectralGraphClusterer(2, random_state=seed).fit(graph.adjacency)
    # Stated bound: at most one of the 34 members misplaced. It is member 9,
    # whom Zachary's own flow model also put with the officer.
    wrong = np.flatnonzero(model.labels_ != graph.labels)
    assert wrong.size <= 1
    assert set(graph.node_ids[wrong].tolist()) <= {9}
    assert model.n_connected_components_ == 1


def test_star_plus_isolated_node_has_two_components():
    # The 5-node example: node 0 joined to 1, 2, 3; node 4 alone.
    A = np.zeros((5, 5))
    A[0, 1:4] = A[1:4, 0] = 1.0
    for lap in ("regularized", "normalized"):
        model = SpectralGraphClusterer(2, laplacian=lap, random_state=0).fit(A)
        assert model.n_connected_components_ == 2
        assert [c.tolist() for c in model.connected_components_] == [[0, 1, 2, 3], [4]]
    # Read off the spectrum: the normalized Laplacian has 0 twice.
    plain = SpectralGraphClusterer(2, laplacian="normalized").fit(A)
    np.testing.assert_allclose(plain.eigenvalues_, [0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_blocks", [1, 3, 12])
def test_components_match_scipy_on_random_graphs(seed, n_blocks):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 40, n_blocks)
    # Sparse blocks, so some split further into several components.
    A, _ = _planted_partition(sizes, 0.12, 0.0, seed, isolated=int(rng.integers(0, 4)))
    A = sparse.csr_array(A)
    expected_n, expected = connected_components(A, directed=False)
    model = SpectralGraphClusterer(1, random_state=seed).fit(A)
    assert model.n_connected_components_ == expected_n
    assert _components_of(model) == _partition(expected)


@pytest.mark.parametrize("solver", ["arpack", "dense"])
def test_components_with_many_identical_parts(solver):
    # 40 triangles and 30 single edges beside a 400-node random graph: the
    # eigenvalue 1 of D^-1/2 A D^-1/2 has multiplicity 71, found in blocks.
    A, _ = _planted_partition([400], 0.03, 0.0, seed=1)
    A = sparse.block_diag(
        [sparse.csr_array(A)]
        + [sparse.csr_array(np.ones((3, 3)) - np.eye(3))] * 40
        + [sparse.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))] * 30,
        format="csr",
    )
    expected_n, expected = connected_components(A, directed=False)
    assert expected_n == 71
    model = SpectralGraphClusterer(1, eigen_solver=solver, random_state=0).fit(A)
    assert model.n_connected_components_ == 71
    assert _components_of(model) == _partition(expected)


@pytest.mark.parametrize("n", [40, 300])
@pytest.mark.parametrize("laplacian_name", ["regularized", "normalized"])
def test_spectrum_matches_a_dense_eigendecomposition(n, laplacian_name):
    A, _ = _planted_partition([n // 2, n - n // 2], 0.3, 0.05, seed=n)
    A[0, :] = A[:, 0] = 0.0  # an isolated node
    tau = A.sum() / n if laplacian_name == "regularized" else 0.0
    L = _dense_laplacian(A, tau)
    values, vectors = np.linalg.eigh(L)
    # The first k >= 3 after which the spectrum has a gap, so that the
    # subspace of the k smallest eigenvalues is well defined.
    k = next(k for k in range(3, 10) if values[k] - values[k - 1] > 1e-3)
    model = SpectralGraphClusterer(
        k,
        laplacian=laplacian_name,
        regularization="mean_degree",
        row_scaling="none",
        random_state=0,
    ).fit(sparse.csr_array(A))
    np.testing.assert_allclose(model.eigenvalues_, values[:k], atol=1e-8)
    assert model.regularization_ == pytest.approx(tau)
    # The embedding is that of the component that holds the clusters (all
    # but the isolated node), with its own mean degree.
    B = A[1:, 1:]
    tau = B.sum() / (n - 1) if laplacian_name == "regularized" else 0.0
    _, vectors = np.linalg.eigh(_dense_laplacian(B, tau))
    # Compare subspaces (eigenvectors are defined up to sign and rotation).
    angles = linalg.subspace_angles(model.embedding_[1:], vectors[:, : k - 1])
    assert np.max(angles) < 1e-6


def test_normalized_laplacian_matches_scipy():
    A, _ = _planted_partition([30, 30], 0.3, 0.05, seed=3)
    A[7, :] = A[:, 7] = 0.0
    expected = np.linalg.eigvalsh(laplacian(A, normed=True))[:5]
    model = SpectralGraphClusterer(5, laplacian="normalized", random_state=0).fit(A)
    np.testing.assert_allclose(model.eigenvalues_, expected, atol=1e-10)


@pytest.mark.parametrize("solver", ["arpack", "dense"])
def test_leading_eigenpairs_against_numpy(solver):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((250, 250))
    M = sparse.csr_array(M + M.T)
    values, vectors = _leading_eigenpairs(M, 6, solver, seed=0)
    expected, expected_vectors = np.linalg.eigh(M.toarray())
    np.testing.assert_allclose(values, expected[::-1][:6], rtol=1e-10)
    for j in range(6):
        # Each eigenvalue is simple here: the vectors agree up to sign, and
        # the sign makes the sum of cubes positive (free of the node order).
        assert np.sum(vectors[:, j] ** 3) > 0
        assert abs(vectors[:, j] @ expected_vectors[:, -1 - j]) == pytest.approx(1)


def _two_cliques(size):
    # Two cliques joined by one edge: eigenvalues repeated size - 2 times.
    A = np.zeros((2 * size, 2 * size))
    for part in (slice(0, size), slice(size, 2 * size)):
        A[part, part] = 1.0
    np.fill_diagonal(A, 0.0)
    A[size - 1, size] = A[size, size - 1] = 1.0
    return A


def test_leading_eigenpairs_with_many_repeated_eigenvalues():
    # LAPACK's syevr on a range of such a spectrum returned fewer
    # eigenvalues than asked, or failed with "Internal Error", in some node
    # orders (two 8-cliques: 57 of 40 orders x 6 tau x 14 counts).
    A = _two_cliques(8)
    for seed in range(6):
        order = np.random.default_rng(seed).permutation(16)
        B = A[np.ix_(order, order)]
        degree = B.sum(axis=1)
        for factor in (0.0, 0.1, 0.25, 0.5, 1.0, 2.0):
            M = _normalized_affinity(B, degree, factor * degree.mean())
            expected = np.linalg.eigvalsh(M)[::-1]
            for n_eigen in range(1, 15):
                values, vectors = _leading_eigenpairs(M, n_eigen, "dense", seed=0)
                np.testing.assert_allclose(values, expected[:n_eigen], atol=1e-12)
                np.testing.assert_allclose(M @ vectors, vectors * values, atol=1e-12)
                np.testing.assert_allclose(
                    vectors.T @ vectors, np.eye(n_eigen), atol=1e-12
                )


def test_two_cliques_in_an_order_that_broke_the_eigensolver():
    order = [1, 0, 5, 14, 3, 2, 13, 8, 7, 9, 4, 10, 15, 12, 6, 11]
    A = _two_cliques(8)[np.ix_(order, order)]
    labels = SpectralGraphClusterer(4, random_state=0).fit(A).labels_
    assert np.unique(labels).shape[0] == 4
    # Twins (the clique nodes but the two joined ones) stay together.
    side = np.asarray(order) < 8
    for members in (side & ~np.isin(order, [7]), ~side & ~np.isin(order, [8])):
        assert np.unique(labels[members]).shape[0] == 1


def test_score_embedding_is_the_weighted_ratio():
    A, _ = _planted_partition([30, 30, 30], 0.4, 0.05, seed=5)
    tau = A.sum() / A.shape[0]
    mu, u = np.linalg.eigh(np.eye(90) - _dense_laplacian(A, tau))
    mu, u = mu[::-1], u[:, ::-1]
    u[:, 0] *= np.sign(u[:, 0].sum())
    expected = u[:, 1:3] / u[:, [0]] * (mu[1:3] / mu[0]) ** 3
    model = SpectralGraphClusterer(3, random_state=0).fit(A)
    assert model.embedding_.shape == (90, 2)
    # Column signs are arbitrary.
    signs = np.sign(np.sum(model.embedding_ * expected, axis=0))
    np.testing.assert_allclose(model.embedding_ * signs, expected, atol=1e-8)


def test_unit_rows():
    A, _ = _planted_partition([25, 25], 0.4, 0.05, seed=2)
    model = SpectralGraphClusterer(2, row_scaling="unit", random_state=0).fit(A)
    np.testing.assert_allclose(np.linalg.norm(model.embedding_, axis=1), 1.0)


@pytest.mark.parametrize("laplacian_name", ["regularized", "normalized"])
def test_planted_partition_is_recovered(laplacian_name):
    A, labels = _planted_partition([60, 50, 40], 0.5, 0.02, seed=11)
    model = SpectralGraphClusterer(3, laplacian=laplacian_name, random_state=0)
    assert adjusted_rand_score(labels, model.fit_predict(A)) == 1.0
    # Clusters are numbered in order of first appearance.
    assert model.labels_[0] == 0


def test_eigengap_finds_the_number_of_planted_blocks():
    A, labels = _planted_partition([60, 50, 40], 0.5, 0.02, seed=12)
    for k in (3, 6, 9):
        model = SpectralGraphClusterer(k, n_components="eigengap", random_state=0)
        model.fit(A)
        assert model.n_components_ == 3
        # Extra clusters subdivide the three blocks rather than mixing them.
        table = np.zeros((k, 3), dtype=int)
        np.add.at(table, (model.labels_, labels), 1)
        assert np.all((table > 0).sum(axis=1) == 1)
    assert SpectralGraphClusterer(2, n_components="eigengap").fit(A).n_components_ == 2


@pytest.mark.parametrize(
    "strategy, n_components, expected",
    [
        ("kmeans", None, 5),
        ("divisive", None, 3),  # the eigengap: three planted blocks
        ("kmeans", 3, 3),
        ("divisive", 3, 3),
        ("kmeans", 7, 7),
        ("divisive", 7, 7),
    ],
)
def test_n_components_sets_the_embedding(strategy, n_components, expected):
    A, _ = _planted_partition([40, 40, 40], 0.4, 0.05, seed=13)
    model = SpectralGraphClusterer(
        5,
        strategy=strategy,
        n_components=n_components,
        row_scaling="none",
        random_state=0,
    ).fit(A)
    assert model.n_components_ == expected
    assert model.embedding_.shape == (120, expected)
    assert len(np.unique(model.labels_)) == 5


def test_n_components_larger_than_the_graph_is_refused():
    A, _ = _planted_partition([5, 5], 0.9, 0.1, seed=14)
    with pytest.raises(ValueError, match="n_components=11 is larger than the number"):
        SpectralGraphClusterer(2, n_components=11).fit(A)


def test_dense_and_sparse_input_agree():
    A, _ = _planted_partition([40, 40], 0.3, 0.05, seed=4)
    dense = SpectralGraphClusterer(2, random_state=0).fit(A)
    for container in (sparse.csr_matrix, sparse.coo_array, sparse.csc_array):
        fitted = SpectralGraphClusterer(2, random_state=0).fit(container(A))
        np.testing.assert_array_equal(fitted.labels_, dense.labels_)


@pytest.mark.parametrize(
    ("affinity", "params"), [("rbf", {"gamma": 0.5}), ("nearest_neighbors", {})]
)
def test_feature_affinities_find_blobs(affinity, params):
    X, y = make_blobs(150, centers=3, cluster_std=0.5, random_state=0)
    model = SpectralGraphClusterer(3, affinity=affinity, random_state=0, **params)
    assert adjusted_rand_score(y, model.fit_predict(X)) == 1.0
    assert model.n_features_in_ == 2


def test_pairwise_tag_follows_the_affinity():
    assert get_tags(SpectralGraphClusterer(affinity="precomputed")).input_tags.pairwise
    assert not get_tags(SpectralGraphClusterer(affinity="rbf")).input_tags.pairwise
    # "auto" takes features as well as graphs.
    assert not get_tags(SpectralGraphClusterer()).input_tags.pairwise


def test_auto_affinity_reads_graphs_and_features():
    A, _ = _planted_partition([12, 10], 0.8, 0.05, seed=3)
    X, y = make_blobs(60, centers=3, cluster_std=0.5, random_state=0)
    for graph in (A, sparse.csr_array(A), A.tolist()):
        auto = SpectralGraphClusterer(2, random_state=0).fit(graph)
        given = SpectralGraphClusterer(2, affinity="precomputed", random_state=0)
        assert auto.affinity_ == "precomputed"
        np.testing.assert_array_equal(auto.labels_, given.fit(graph).labels_)
    auto = SpectralGraphClusterer(3, random_state=0).fit(X)
    rbf = SpectralGraphClusterer(3, affinity="rbf", random_state=0).fit(X)
    assert auto.affinity_ == "rbf"
    np.testing.assert_array_equal(auto.labels_, rbf.labels_)
    assert adjusted_rand_score(y, auto.labels_) == 1.0
    sparse_features = SpectralGraphClusterer(3, random_state=0)
    sparse_features.fit(sparse.csr_array(X))
    assert sparse_features.affinity_ == "rbf"
    np.testing.assert_array_equal(sparse_features.labels_, rbf.labels_)


def test_bad_input_messages():
    A, _ = _planted_partition([5, 5], 0.9, 0.1, seed=0)
    with pytest.raises(ValueError, match="square adjacency"):
        SpectralGraphClusterer(affinity="precomputed").fit(A[:, :7])
    with pytest.raises(ValueError, match="Negative values"):
        SpectralGraphClusterer().fit(-A)
    asymmetric = A.copy()
    asymmetric[0, 9] = 3.0
    with pytest.raises(ValueError, match="must be symmetric"):
        SpectralGraphClusterer().fit(asymmetric)
    with pytest.raises(ValueError, match=r"n_clusters=11 is larger than .* \(10\)"):
        SpectralGraphClusterer(11).fit(A)
    # No edges: every node is a component, any k up to their number works.
    assert SpectralGraphClusterer(3).fit(np.eye(4)).labels_.tolist() == [0, 1, 2, 2]
    # A star: its leaves are twins, so it tells apart only 2 groups.
    star = np.zeros((6, 6))
    star[0, 1:] = star[1:, 0] = 1.0
    with pytest.raises(ValueError, match=r"n_clusters=3 cannot be reached.* only 2"):
        SpectralGraphClusterer(3, random_state=0).fit(star)
    for strategy in ("kmeans", "divisive"):
        model = SpectralGraphClusterer(2, n_components=1, strategy=strategy)
        assert model.fit(star).labels_.tolist() == [0, 1, 1, 1, 1, 1]


def test_isolated_nodes_are_labelled_and_counted():
    graph = load_karate_club()
    A = sparse.block_diag([graph.adjacency, sparse.csr_array((3, 3))], format="csr")
    model = SpectralGraphClusterer(5, random_state=0).fit(A)
    assert model.labels_.shape == (37,)
    assert model.n_connected_components_ == 4
    assert [c.tolist() for c in model.connected_components_[1:]] == [[34], [35], [36]]
    # Components first: the isolated nodes are singletons and the one extra
    # cluster splits the core like the clubs.
    assert model.labels_[34:].tolist() == [2, 3, 4]
    assert mismatch_rate(graph.labels, model.labels_[:34]) <= 1 / 34


@pytest.mark.parametrize("strategy", ["divisive", "kmeans"])
@pytest.mark.parametrize("laplacian_name", ["regularized", "normalized"])
def test_sweep_reproduces_single_fits(laplacian_name, strategy):
    # With the dense solver the eigenvectors do not depend on how many are
    # asked, so the sweep gives exactly the labels of separate fits.
    A, _ = _planted_partition([70, 50, 40], 0.15, 0.03, seed=8)
    params = dict(
        laplacian=laplacian_name,
        strategy=strategy,
        eigen_solver="dense",
        random_state=3,
    )
    ks = [5, 2, 3, 8]
    fits = sweep_n_clusters(SpectralGraphClusterer(**params), A, ks)
    for k, fit in zip(ks, fits, strict=True):
        single = SpectralGraphClusterer(k, **params).fit(A)
        assert fit.n_clusters == k
        np.testing.assert_array_equal(fit.labels_, single.labels_)
        np.testing.assert_allclose(fit.eigenvalues_, single.eigenvalues_, atol=1e-12)
        assert fit.n_connected_components_ == single.n_connected_components_
    with pytest.raises(ValueError, match="larger than the number of nodes"):
        sweep_n_clusters(SpectralGraphClusterer(), A, [2, 500])
    with pytest.raises(ValueError, match="empty"):
        sweep_n_clusters(SpectralGraphClusterer(), A, [])


def test_grid_search_tunes_n_clusters_on_a_precomputed_graph():
    A, labels = _planted_partition([40, 30, 30], 0.4, 0.02, seed=6)
    A = sparse.csr_array(A)
    search = GridSearchCV(
        SpectralGraphClusterer(random_state=0),
        {"n_clusters": [2, 3, 4, 5]},
        scoring=mismatch_scorer,
        cv=all_nodes_split(A.shape[0]),
    ).fit(A, labels)
    # k = 2 must merge two blocks; from k = 3 every cluster is pure, and the
    # smallest of the tied k ranks first.
    assert search.best_params_ == {"n_clusters": 3}
    assert search.best_score_ == 0.0
    assert search.cv_results_["mean_test_score"][0] == pytest.approx(-30 / 100)
    np.testing.assert_array_equal(search.best_estimator_.labels_.shape, (100,))


def test_grid_search_agrees_with_the_sweep_on_karate():
    graph = load_karate_club()
    ks = list(range(2, 9))
    search = GridSearchCV(
        SpectralGraphClusterer(random_state=0, eigen_solver="dense"),
        {"n_clusters": ks},
        scoring=mismatch_scorer,
        cv=all_nodes_split(graph.n_nodes),
    ).fit(graph.adjacency, graph.labels)
    fits = sweep_n_clusters(
        SpectralGraphClusterer(random_state=0, eigen_solver="dense"),
        graph.adjacency,
        ks,
    )
    rates = [mismatch_rate(graph.labels, fit.labels_) for fit in fits]
    np.testing.assert_allclose(-search.cv_results_["mean_test_score"], rates)
    assert search.best_params_["n_clusters"] == ks[int(np.argmin(rates))]


def test_scorer_refuses_a_split_with_other_test_nodes():
    A, labels = _planted_partition([20, 20], 0.5, 0.05, seed=1)
    with pytest.raises(ValueError, match="all_nodes_split"):
        GridSearchCV(
            SpectralGraphClusterer(random_state=0),
            {"n_clusters": [2, 3]},
            scoring=mismatch_scorer,
            cv=2,
            error_score="raise",
        ).fit(A, labels)


def test_political_blogs_target(political_blogs_files):
    graph = read_graph(*political_blogs_files, remove_isolated=True)
    n, components = connected_components(graph.adjacency, directed=False)
    # Components first: at k = 2 (the number of components) the clusters
    # are the 1222-blog component and the two-blog one, as scikit-learn has.
    at_two = SpectralGraphClusterer(2, random_state=0).fit(graph.adjacency)
    assert at_two.n_connected_components_ == n == 2
    assert _partition(at_two.labels_) == _partition(components)
    # One cluster more splits the large component: the literature's 4.17%.
    default = SpectralGraphClusterer(3, random_state=0).fit(graph.adjacency)
    assert mismatch_rate(graph.labels, default.labels_) <= 0.042
    # On the large component alone, k = 2 is that same split.
    core = np.flatnonzero(components == np.argmax(np.bincount(components)))
    alone = SpectralGraphClusterer(2, random_state=0).fit(
        graph.adjacency[core][:, core]
    )
    assert mismatch_rate(graph.labels[core], alone.labels_) <= 0.042


def test_political_blogs_against_scikit_learn_at_three(political_blogs_files):
    # At k = 3 (the components plus one) the default splits the large
    # component along the labels; SpectralClustering, with the same seed,
    # does not.
    graph = read_graph(*political_blogs_files, remove_isolated=True)
    ours = SpectralGraphClusterer(3, random_state=0).fit(graph.adjacency).labels_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # not fully connected
        theirs = (
            SpectralClustering(3, affinity="precomputed", random_state=0)
            .fit(graph.adjacency)
            .labels_
        )
    assert mismatch_rate(graph.labels, ours) < mismatch_rate(graph.labels, theirs)
    assert adjusted_rand_score(graph.labels, ours) > adjusted_rand_score(
        graph.labels, theirs
    )


# The first graph's best is a smaller tau (beyond the margin); the second's
# is the plain embedding, by less than the margin (the rule's second step);
# on the third both plain embeddings beat the kept one and the rows divided
# by sqrt(degree) beat the plain rows (each plain one replaces the kept).
@pytest.mark.parametrize(
    "sizes, p_in, seed, case",
    [
        ([50, 30, 20], 0.3, 5, "smaller tau"),
        ([30, 30, 30], 0.25, 7, "plain within margin"),
        ([50, 30, 20], 0.25, 1, "degree rows after plain"),
    ],
)
def test_auto_regularization_keeps_the_most_modular_candidate(sizes, p_in, seed, case):
    # Brute force: each candidate embedding fitted on its own (a fixed tau,
    # a fixed row scaling); "auto" must return the labels of the one of
    # highest modularity: among the multiples of the mean degree, its own
    # unless beaten by over 0.5%, then each plain embedding if higher still.
    A, _ = _planted_partition(sizes, p_in, 0.08, seed=seed)
    mean = A.sum() / A.shape[0]
    candidates = [(f * mean, "score") for f in (1.0, 0.0, 0.1, 0.25, 0.5, 2.0)]
    candidates += [(0.0, "none"), (0.0, "degree")]
    fits = [
        SpectralGraphClusterer(
            3, regularization=tau, row_scaling=scaling, random_state=0
        ).fit(A)
        for tau, scaling in candidates
    ]
    scores = [modularity(A, fit.labels_) for fit in fits]
    best = int(np.argmax(scores[:6]))
    if scores[best] <= scores[0] * 1.005:
        best = 0
    multiple = best
    for plain in (6, 7):
        if scores[plain] > scores[best]:
            best = plain
    # The graph exercises the case it was picked for.
    exercised = {
        "smaller tau": 0 < best < 6,
        "plain within margin": best == 6 and scores[0] < scores[6] <= scores[0] * 1.005,
        "degree rows after plain": best == 7 and scores[6] > scores[multiple],
    }
    assert exercised[case]
    auto = SpectralGraphClusterer(3, random_state=0).fit(A)
    np.testing.assert_array_equal(auto.labels_, fits[best].labels_)
    assert auto.regularization_ == pytest.approx(candidates[best][0])
    # Its eigenvalues are those of the Laplacian with the chosen tau.
    values = np.linalg.eigvalsh(_dense_laplacian(A, auto.regularization_))
    np.testing.assert_allclose(auto.eigenvalues_, values[:3], atol=1e-8)


def test_degree_rows_are_the_random_walk_eigenvectors():
    # Rows divided by sqrt(degree) are eigenvectors of D^-1 A (Shi and
    # Malik), up to a scale per column: scikit-learn's points.
    A, _ = _planted_partition([30, 30, 30], 0.4, 0.05, seed=5)
    model = SpectralGraphClusterer(
        3, laplacian="normalized", row_scaling="degree", random_state=0
    ).fit(A)
    walk = A / A.sum(axis=1, keepdims=True)
    points = model.embedding_
    assert points.shape == (90, 3)
    eigenvalues = 1.0 - model.eigenvalues_
    np.testing.assert_allclose(walk @ points, points * eigenvalues, atol=1e-8)
    # The leading column is constant, scaled to 1.
    np.testing.assert_allclose(np.abs(points[:, 0]), 1.0, atol=1e-8)


def test_mean_degree_regularization_is_one_fit():
    A, _ = _planted_partition([40, 40], 0.3, 0.05, seed=4)
    model = SpectralGraphClusterer(2, regularization="mean_degree", random_state=0)
    fixed = SpectralGraphClusterer(2, regularization=A.sum() / 80, random_state=0)
    np.testing.assert_array_equal(model.fit(A).labels_, fixed.fit(A).labels_)
    assert model.regularization_ == pytest.approx(A.sum() / 80)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([-5.0, -1.0, 0.3, 2.0, 2.1], 3),  # 0.3 is far below the bulk at 2
        ([-5.0, 0.3, 0.5, 0.6], 1),  # 0.3 is the bulk's edge
        ([-5.0, -1.0, 2.0, 2.1], 2),
        ([-5.0, -1.0, 0.2, 0.5, 2.0, 2.2], 4),  # two below the bulk
        ([0.5, 2.0], 1),  # no negative one, but one far below the next
    ],
)
def test_bethe_hessian_counts_eigenvalues_below_the_bulk(values, expected):
    assert _count_below_bulk(np.array(values)) == expected


def test_auto_finds_small_communities_and_none_in_a_random_graph():
    # Blocks of 120, 60 and 30 nodes: the smallest block's eigenvalue is
    # positive but far below the bulk. A graph with the same density and no
    # blocks has one community.
    A, _ = _planted_partition([120, 60, 30], 0.15, 0.01, seed=5)
    model = SpectralGraphClusterer("auto", random_state=0).fit(sparse.csr_array(A))
    assert model.n_clusters_ == 3
    B, _ = _planted_partition([210], A.sum() / 210 / 209, 0.0, seed=6)
    assert _component_count(B) == 1
    model = SpectralGraphClusterer("auto", random_state=0).fit(sparse.csr_array(B))
    assert model.n_clusters_ == 1


def _component_count(A):
    return connected_components(sparse.csr_array(A), directed=False)[0]


def test_twin_directions_last_whatever_the_solver_basis():
    # Eigenvalue 0.5 twice, on t (nodes 0 and 1 in opposition: twins cancel
    # it) and g (the same on the twins), returned by a solver as any
    # rotation of the two: the class direction comes first, g itself.
    t = np.array([1.0, -1.0, 0.0, 0.0, 0.0]) / np.sqrt(2)
    g = np.array([1.0, 1.0, -1.0, -1.0, 0.0]) / 2
    lead = np.full(5, 1 / np.sqrt(5))
    twins = np.array([0, 0, 1, 2, 3])
    values = np.array([1.0, 0.5, 0.5])
    for angle in (0.0, 0.3, 2.0, -1.1):
        c, s = np.cos(angle), np.sin(angle)
        vectors = np.column_stack([lead, c * g + s * t, -s * g + c * t])
        rotated = _twin_directions_last(values, vectors, twins)
        np.testing.assert_allclose(rotated[:, 0], lead)
        np.testing.assert_allclose(rotated[:, 1], g, atol=1e-12)
        assert abs(rotated[:, 2] @ t) == pytest.approx(1.0)


def _unconverged_beyond(resolved, monkeypatch):
    """ARPACK as for a large graph on which it resolves only the ``resolved``
    largest eigenvalues when asked for 16 (the count's second block), as on
    a 99,873-node block model of 10 blocks."""
    import skclust._spectral._laplacian as laplacian_module

    real = laplacian_module.eigsh
    asked = []

    def eigsh(matrix, k, **options):
        asked.append(k)
        values, vectors = real(matrix, k=k, **options)
        if k != 16:
            return values, vectors
        top = np.argsort(-values)[:resolved]
        raise ArpackNoConvergence("not converged", values[top], vectors[:, top])

    monkeypatch.setattr(laplacian_module, "eigsh", eigsh)
    monkeypatch.setattr(laplacian_module, "_DENSE_FALLBACK_MAX_NODES", 100)
    return asked


def test_auto_counts_the_eigenvalues_resolved_when_the_rest_do_not_converge(
    monkeypatch,
):
    # Ten blocks: the first 8 eigenvalues are all negative, so the count
    # asks for 16, of which ARPACK resolves 10 (the negative ones) and not
    # the bulk's. It raised "did not converge ... try fewer clusters" from
    # n_clusters="auto"; the 10 resolved are the count.
    A, _ = _planted_partition([40] * 10, 0.5, 0.01, seed=3)
    graph = sparse.csr_array(A)
    full = _bethe_hessian_count(graph, "arpack", 0, 50)
    assert full == 10
    asked = _unconverged_beyond(10, monkeypatch)
    assert _bethe_hessian_count(graph, "arpack", 0, 50) == 10
    assert asked == [8, 16]
    assert SpectralGraphClusterer("auto", random_state=0).fit(graph).n_clusters_ == 10


def test_auto_says_which_solver_failed_when_nothing_converges(monkeypatch):
    A, _ = _planted_partition([40] * 10, 0.5, 0.01, seed=3)
    _unconverged_beyond(0, monkeypatch)
    with pytest.raises(EigensolverError, match="400-node graph for 16 eigenvectors"):
        _bethe_hessian_count(sparse.csr_array(A), "arpack", 0, 50)
