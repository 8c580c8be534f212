"""Corner cases found by an adversarial review of the spectral clusterer.

Each test reproduces one finding: dense and sparse input of the same graph,
the lists of k that :func:`sweep_n_clusters` takes, and error messages.
"""

import csv

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from skclust import SpectralGraphClusterer, sweep_n_clusters
from skclust._cli import main
from skclust._spectral import max_n_clusters
from skclust.datasets import read_edge_list, read_graph
from skclust.metrics import (
    all_nodes_split,
    conductance,
    mismatch_scorer,
    modularity,
)


def _two_triangles_joined(bridge_weight):
    # Two triangles of weight 1e300 joined by one edge of ``bridge_weight``.
    A = np.zeros((6, 6))
    heavy = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]
    for i, j in heavy:
        A[i, j] = A[j, i] = 1e300
    A[2, 3] = A[3, 2] = bridge_weight
    return A


def test_a_bridge_that_underflows_is_dropped_in_sparse_input_too():
    # 1e-300 / 1e300 underflows to 0 when the weights are scaled: the dense
    # matrix then has two components, and the sparse one must agree rather
    # than keep a stored zero as an edge.
    A = _two_triangles_joined(1e-300)
    dense = SpectralGraphClusterer(2, random_state=0).fit(A)
    for fmt in (sparse.csr_array, sparse.coo_matrix):
        model = SpectralGraphClusterer(2, random_state=0).fit(fmt(A))
        assert model.n_connected_components_ == dense.n_connected_components_ == 2
        np.testing.assert_array_equal(model.labels_, dense.labels_)
        assert max_n_clusters(fmt(A)) == max_n_clusters(A) == 2
        with pytest.raises(ValueError, match="n_clusters=3 cannot be reached"):
            SpectralGraphClusterer(3, random_state=0).fit(fmt(A))


@pytest.mark.parametrize("bad", [[2.5], [True, 2], [2, "auto"], [3, 0]])
def test_sweep_refuses_what_is_not_a_number_of_clusters(bad):
    # int() made 2.5 into 2 and True into 1 without a word, and "auto" gave
    # "invalid literal for int()".
    A = _two_triangles_joined(1.0)
    with pytest.raises(ValueError, match=r"n_clusters must hold ints of at least 1"):
        sweep_n_clusters(SpectralGraphClusterer(random_state=0), A, bad)


def test_sweep_takes_numpy_integers_duplicates_and_any_order():
    A = _two_triangles_joined(1.0)
    ks = [np.int64(3), 2, np.int32(3), 1]
    fits = sweep_n_clusters(SpectralGraphClusterer(random_state=0), A, ks)
    assert [fit.n_clusters_ for fit in fits] == [3, 2, 3, 1]
    assert [np.unique(fit.labels_).shape[0] for fit in fits] == [3, 2, 3, 1]
    np.testing.assert_array_equal(fits[0].labels_, fits[2].labels_)


def test_unreachable_message_counts_one_group_in_the_singular():
    edge = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"tells apart only 1 group of its 2"):
        SpectralGraphClusterer(2).fit(edge)


def test_files_with_a_byte_order_mark_read_like_plain_ones(tmp_path):
    # Windows editors start UTF-8 files with U+FEFF; the first id was then
    # refused as "'\ufeff7' is not an integer".
    lines = "7 3\r\n3 9\r\n9 7\r\n9 4\r\n"
    plain, marked = tmp_path / "plain.txt", tmp_path / "marked.txt"
    plain.write_text(lines, encoding="utf-8", newline="")
    marked.write_text("\ufeff" + lines, encoding="utf-8", newline="")
    graph, expected = read_edge_list(marked), read_edge_list(plain)
    assert graph.node_ids.tolist() == expected.node_ids.tolist() == [3, 4, 7, 9]
    assert (graph.adjacency != expected.adjacency).nnz == 0
    nodes = tmp_path / "nodes.txt"
    nodes.write_text("\ufeff3\ta\t0\n4\tb\t0\n7\tc\t1\n9\td\t1\n", encoding="utf-8")
    labelled = read_graph(nodes, plain)
    assert labelled.node_ids.tolist() == [3, 4, 7, 9]
    assert labelled.labels.tolist() == [0, 0, 1, 1]


def _run_graph(tmp_path, lines, *options):
    edges = tmp_path / "e.txt"
    edges.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["graph", "--edges", str(edges), "--out", str(out), "-q", *options])
    return code, out


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_graph_command_runs_a_repeated_k_once(tmp_path, monkeypatch):
    # "-k 3 2 2 3" wrote four rows in overall.csv, each k twice.
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    triangles = ["1 2", "2 3", "1 3", "4 5", "5 6", "4 6", "3 4", "6 7", "7 8"]
    code, out = _run_graph(tmp_path, triangles, "-k", "3", "2", "2", "3")
    assert code == 0
    assert [int(row["k"]) for row in _read_csv(out / "overall.csv")] == [3, 2]


def test_graph_command_says_one_cluster_in_the_singular(tmp_path, capsys):
    # A triangle: its three nodes are twins, so one cluster is all it has.
    code, _ = _run_graph(tmp_path, ["1 2", "2 3", "1 3"], "-k", "2")
    assert code == 2
    error = capsys.readouterr().err
    assert "can be split into at most 1 cluster\n" in error
    assert error.count("\n") == 1


PATH4 = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], float)


@pytest.mark.parametrize("score", [modularity, conductance])
@pytest.mark.parametrize(
    ("adjacency", "message"),
    [
        (-PATH4, "negative weights"),
        (np.where(PATH4 > 0, np.nan, 0.0), "NaN or infinite"),
        (np.triu(PATH4), "must be symmetric"),
        (sparse.csr_array(np.triu(PATH4)), "must be symmetric"),
    ],
)
def test_graph_scores_refuse_what_is_not_an_undirected_graph(score, adjacency, message):
    # Before, modularity(-A) gave 0.1667, the value of A itself, and a
    # one-way edge list gave 0.111 against 0.1667 for the graph it means.
    with pytest.raises(ValueError, match=message):
        score(adjacency, [0, 0, 1, 1])


def test_graph_scores_name_the_shapes_and_empty_labels():
    with pytest.raises(ValueError, match=r"labels are empty"):
        modularity(np.zeros((0, 0)), [])
    with pytest.raises(ValueError, match=r"\(4, 4\) does not match labels of shape"):
        conductance(PATH4, [[0, 0, 1, 1]])


def test_graph_scores_take_any_label_values():
    # Hand-worked: the path 0-1-2-3 cut in the middle has Q = 1/6 and each
    # half conductance 1/3, whatever the two labels are.
    for labels in (["b", "b", "a", "a"], [-1, -1, -7, -7], [0.5, 0.5, 2.5, 2.5]):
        assert modularity(PATH4, labels) == pytest.approx(1 / 6)
        np.testing.assert_allclose(conductance(PATH4, labels), [1 / 3, 1 / 3])
    assert modularity(2.5 * PATH4, [0, 0, 1, 1]) == pytest.approx(1 / 6)


@pytest.mark.parametrize("n_clusters", [1, 5])
@pytest.mark.parametrize("container", [np.zeros, sparse.csr_array])
def test_edgeless_graph_with_a_fixed_regularization_and_arpack(container, n_clusters):
    # 201 nodes take ARPACK, which stopped with "Starting vector is zero" on
    # the affinity of an edgeless graph (all zero once tau > 0).
    A = container((201, 201))
    model = SpectralGraphClusterer(n_clusters, regularization=1.0, random_state=0)
    model.fit(A)
    assert np.unique(model.labels_).shape[0] == n_clusters
    # The Laplacian I - D_tau^-1/2 A D_tau^-1/2 is the identity here.
    np.testing.assert_array_equal(model.eigenvalues_, np.ones(n_clusters))
    dense = SpectralGraphClusterer(
        n_clusters, regularization=1.0, eigen_solver="dense", random_state=0
    ).fit(A)
    np.testing.assert_array_equal(model.labels_, dense.labels_)


@pytest.mark.parametrize(
    "lines", [["1 2"], ["1 2", "2 3", "1 3"], ["1 2", "3 4", "5 6"]]
)
def test_graph_command_runs_one_cluster_when_no_default_k_is_reachable(
    tmp_path, capsys, lines
):
    # An edge, a triangle, or pairs (largest component an edge): every node
    # of what is clustered is a twin of the others, so only k = 1 exists.
    # Without -k the command exited 2 with "no k left".
    code, out = _run_graph(tmp_path, lines)
    assert code == 0
    assert [int(row["k"]) for row in _read_csv(out / "overall.csv")] == [1]
    # With -k it is still the error the user asked for.
    code, _ = _run_graph(tmp_path, lines, "-k", "2", "--force")
    assert code == 2
    assert "can be split into at most 1 cluster\n" in capsys.readouterr().err


def test_mismatch_scorer_takes_a_list_and_the_split_needs_nodes():
    # A nested list has no .shape: the scorer stopped with AttributeError.
    A = _two_triangles_joined(1.0)
    labels = [0, 0, 0, 1, 1, 1]
    model = SpectralGraphClusterer(2, random_state=0).fit(A)
    assert mismatch_scorer(model, A.tolist(), labels) == 0.0
    assert mismatch_scorer(model, A, labels) == 0.0
    # all_nodes_split(0) gave an empty split that GridSearchCV fails on later.
    for bad in (0, -3, 2.0):
        with pytest.raises(ValueError, match="n_nodes must be"):
            all_nodes_split(bad)


@pytest.mark.parametrize("scale", [1e-310, 5e-324])
def test_sparse_input_with_subnormal_weights(scale):
    # scipy's sparse division multiplies by 1 / scale = inf: the embedding
    # became NaN and k-means refused it ("Input X contains NaN").
    A = (_two_triangles_joined(1.0) > 0).astype(float)
    dense = SpectralGraphClusterer(2, random_state=0).fit(A)
    model = SpectralGraphClusterer(2, random_state=0).fit(sparse.csr_array(A * scale))
    np.testing.assert_array_equal(model.labels_, dense.labels_)
    assert np.all(np.isfinite(model.eigenvalues_))


@pytest.mark.parametrize("scale", [1e308, 1e-310])
def test_graph_scores_of_weights_near_the_float_limits(scale):
    # Degrees of weights 1e308 overflowed: modularity and conductance gave
    # NaN. Hand-worked on the path 0-1-2-3 cut in the middle: 1/6 and 1/3.
    for adjacency in (PATH4 * scale, sparse.csr_array(PATH4 * scale)):
        assert modularity(adjacency, [0, 0, 1, 1]) == pytest.approx(1 / 6)
        np.testing.assert_allclose(conductance(adjacency, [0, 0, 1, 1]), [1 / 3] * 2)


def test_graph_scores_leave_the_input_alone():
    adjacency = sparse.csr_array(PATH4 * 3.0)
    modularity(adjacency, [0, 0, 1, 1])
    np.testing.assert_array_equal(adjacency.toarray(), PATH4 * 3.0)


def _cycles(sizes):
    # Disjoint cycles of the given lengths; a length of 1 is an isolated node.
    blocks = []
    for size in sizes:
        if size == 1:
            blocks.append(sparse.csr_array((1, 1)))
            continue
        i = np.arange(size)
        cycle = sparse.csr_array((np.ones(size), (i, (i + 1) % size)), (size, size))
        blocks.append(cycle + cycle.T)
    return sparse.csr_array(sparse.block_diag(blocks, format="csr"))


def test_eigenvalues_of_a_disconnected_graph_count_every_component():
    # 214 nodes (ARPACK): cycles of 120 and 90 nodes and four isolated nodes.
    # The normalized Laplacian of a cycle of n nodes has eigenvalues
    # 1 - cos(2 pi j / n); with four isolated nodes (0 each) the nine
    # smallest are six zeros, twice 1 - cos(2 pi / 120), 1 - cos(2 pi / 90).
    # One solve on the whole graph found three of the six zeros.
    A = _cycles([120, 90, 1, 1, 1, 1])
    model = SpectralGraphClusterer(9, laplacian="normalized", random_state=0).fit(A)
    first, second = 1 - np.cos(2 * np.pi / 120), 1 - np.cos(2 * np.pi / 90)
    expected = [0, 0, 0, 0, 0, 0, first, first, second]
    np.testing.assert_allclose(model.eigenvalues_, expected, atol=1e-9)


@pytest.mark.parametrize("laplacian", ["normalized", "regularized"])
def test_eigenvalues_of_a_large_component_beside_many_small_ones(laplacian):
    # 60 triangles (normalized affinity 1, -1/2, -1/2) beside a 300-node
    # graph, k = 100: the large component is asked for 8 values, then 16,
    # 32 and 64 while its smallest lies above the 100th largest of all
    # (-1/2, from the triangles). Checked against numpy on the whole matrix.
    rng = np.random.default_rng(3)
    big = sparse.random_array((300, 300), density=0.03, random_state=rng)
    big = ((big + big.T) > 0).astype(float)
    big.setdiag(0)
    triangle = np.ones((3, 3)) - np.eye(3)
    A = sparse.csr_array(sparse.block_diag([big] + [triangle] * 60))
    assert connected_components(A)[0] == 61
    model = SpectralGraphClusterer(
        100, laplacian=laplacian, regularization=1.0, random_state=0
    ).fit(A)
    degree = np.asarray(A.sum(axis=1)).ravel()
    tau = 0.0 if laplacian == "normalized" else 1.0
    scale = 1.0 / np.sqrt(degree + tau)
    affinity = A.toarray() * scale[:, None] * scale[None, :]
    expected = np.linalg.eigvalsh(np.eye(A.shape[0]) - affinity)[:100]
    np.testing.assert_allclose(model.eigenvalues_, expected, atol=1e-9)


def test_eigenvalues_of_isolated_nodes_with_a_regularized_laplacian():
    # Isolated nodes are read off the diagonal, not solved for. With tau > 0
    # their rows of D_tau^-1/2 A D_tau^-1/2 are zero: Laplacian eigenvalue 1.
    # A triangle (degree 2, tau = 1) has 1 - 2/3 = 1/3 and twice 1 + 1/3.
    A = np.zeros((300, 300))
    A[0, 1] = A[1, 2] = A[0, 2] = 1.0
    A = A + A.T
    model = SpectralGraphClusterer(5, regularization=1.0, random_state=0).fit(A)
    np.testing.assert_allclose(model.eigenvalues_, [1 / 3, 1, 1, 1, 1], atol=1e-9)
    # As many clusters as components: 297 isolated nodes and the triangle.
    model.set_params(n_clusters=298).fit(A)
    np.testing.assert_allclose(model.eigenvalues_, [1 / 3] + [1] * 297, atol=1e-9)


def test_weak_edges_connect_a_dense_graph_as_they_do_a_sparse_one():
    # scipy's graph search reads a dense matrix as if weights up to 1e-8
    # were missing edges: this path with weights of 1e-9 fell into seven
    # components as a dense array and was one in sparse form.
    A = np.zeros((8, 8))
    for i, weight in enumerate([1e-9, 1e-9, 1e-9, 1.0, 1e-9, 1e-9, 1e-9]):
        A[i, i + 1] = A[i + 1, i] = weight
    dense = SpectralGraphClusterer("auto", random_state=0).fit(A)
    as_sparse = SpectralGraphClusterer("auto", random_state=0).fit(sparse.csr_array(A))
    assert dense.n_connected_components_ == as_sparse.n_connected_components_ == 1
    assert dense.n_clusters_ == as_sparse.n_clusters_
    for k in (2, 3):
        np.testing.assert_array_equal(
            SpectralGraphClusterer(k, random_state=0).fit(A).labels_,
            SpectralGraphClusterer(k, random_state=0).fit(sparse.csr_array(A)).labels_,
        )


def test_degree_scaled_rows_of_nodes_with_tiny_degrees_stay_finite():
    # Weights of 1e308 beside 1 (a valid edge file): after scaling two nodes
    # have degrees near 1e-308, and the total divided by one of them
    # overflowed; inf times an eigenvector's 0 made k-means refuse NaN.
    A = np.zeros((5, 5))
    for (i, j), weight in {(0, 1): 1e308, (1, 2): 1e308, (2, 4): 1.0}.items():
        A[i, j] = A[j, i] = weight
    A[3, 4] = A[4, 3] = 1.0
    for params in ({}, {"laplacian": "normalized", "row_scaling": "degree"}):
        model = SpectralGraphClusterer(2, random_state=0, **params)
        model.fit(sparse.csr_array(A))
        assert np.bincount(model.labels_).shape == (2,)
        assert np.all(np.isfinite(model.embedding_))


# Three pairs of points, each point's nearest other point its partner at
# distance 1, the pairs at distance 5 or more from one another.
_THREE_PAIRS = np.array([[0, 0], [0, 1], [5, 5], [5, 6], [10, 0], [10, 1]], float)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_nearest_neighbors_of_features_at_extreme_scales(scale, container):
    # Neighbours do not depend on the scale: the graph is the three pairs.
    # Squared norms near 1e400 gave NaN distances (and another graph), and
    # squared differences near 1e-400 gave 0 for every pair of points.
    model = SpectralGraphClusterer(
        3, affinity="nearest_neighbors", n_neighbors=2, random_state=0
    ).fit(container(_THREE_PAIRS * scale))
    assert model.n_connected_components_ == 3
    np.testing.assert_array_equal(model.labels_, [0, 0, 1, 1, 2, 2])


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_gaussian_kernel_of_features_near_the_float_maximum(container):
    # exp(-|x - y|^2) with |x - y| >= 1e200 is 0: six isolated points. The
    # kernel held NaN (inf - inf) and LAPACK refused it.
    X = container(_THREE_PAIRS * 1e200)
    model = SpectralGraphClusterer(6, affinity="rbf", random_state=0).fit(X)
    assert model.n_connected_components_ == 6
    # A gamma that undoes the scale gives the kernel of the plain points.
    scaled = SpectralGraphClusterer(3, affinity="rbf", gamma=1e-300, random_state=0)
    np.testing.assert_array_equal(
        scaled.fit(container(_THREE_PAIRS * 1e150)).labels_, [0, 0, 1, 1, 2, 2]
    )


@pytest.mark.parametrize("dense", [False, True])
def test_eigenvalues_of_many_small_components_and_a_large_one(dense):
    # Components of up to 16 nodes are solved as stacks of dense blocks, one
    # per size; larger ones alone. Against numpy on the whole Laplacian.
    rng = np.random.default_rng(0)
    blocks = []
    for size in [2, 2, 3, 3, 3, 5, 16, 16, 17, 40]:
        # A path (connected) plus random chords, random weights.
        block = np.diag(np.ones(size - 1), 1)
        block += np.triu(rng.random((size, size)) < 0.3, 2)
        block *= rng.uniform(0.5, 2.0, (size, size))
        blocks.append(block + block.T)
    A = sparse.block_diag([*blocks, np.zeros((1, 1))]).toarray()
    order = rng.permutation(A.shape[0])
    A = A[np.ix_(order, order)]
    k = 12
    for laplacian in ("normalized", "regularized"):
        model = SpectralGraphClusterer(k, laplacian=laplacian, random_state=0)
        model.fit(A if dense else sparse.csr_array(A))
        scaled = A / A.max()
        degree = scaled.sum(axis=1)
        # regularization_ is in the units of the weights given.
        tau = 0.0 if laplacian == "normalized" else model.regularization_ / A.max()
        inverse_root = np.zeros_like(degree)
        np.divide(1, np.sqrt(degree + tau), out=inverse_root, where=degree + tau > 0)
        affinity = scaled * inverse_root[:, None] * inverse_root[None, :]
        affinity[np.diag_indices_from(affinity)] += degree + tau == 0
        expected = np.sort(1 - np.linalg.eigvalsh(affinity))[:k]
        np.testing.assert_allclose(model.eigenvalues_, expected, atol=1e-9)
