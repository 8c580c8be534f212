"""Checks added where mutation testing found the suite blind (session 15).

Each test compares with an independent reference: a hand-worked small
graph, scipy's graph search, a dense eigendecomposition, brute force over
partitions, the definitions written out.
"""

import numpy as np
import pytest
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components

from skclust import SpectralGraphClusterer


def _union(blocks, order=None):
    """The disjoint union of adjacency blocks, nodes optionally permuted.

    Returns the adjacency and each node's block.
    """
    A = linalg.block_diag(*blocks)
    block = np.repeat(np.arange(len(blocks)), [b.shape[0] for b in blocks])
    if order is not None:
        A = A[np.ix_(order, order)]
        block = block[order]
    return A, block


def _clique(n):
    return np.ones((n, n)) - np.eye(n)


def _path(n):
    A = np.zeros((n, n))
    A[np.arange(n - 1), np.arange(1, n)] = 1.0
    return A + A.T


def _cycle(n):
    A = _path(n)
    A[0, n - 1] = A[n - 1, 0] = 1.0
    return A


def _partition(labels):
    return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)}


# --- components: which share a cluster, and who gets the extra clusters ---


def test_fewer_clusters_than_components_keep_the_largest_then_heaviest_whole():
    # A path of 4 (volume 6), an edge, a 4-clique (volume 12), a triangle,
    # nodes interleaved. The docstring's rule: the k - 1 largest components
    # by size, then volume, are clusters of their own; the rest share one.
    # The path and the clique have 4 nodes each: the clique is heavier.
    blocks = [_path(4), _clique(2), _clique(4), _clique(3)]
    order = np.random.default_rng(0).permutation(13)
    A, block = _union(blocks, order)
    n_comp, _ = connected_components(sparse.csr_array(A), directed=False)
    assert n_comp == 4
    nodes = [frozenset(np.flatnonzero(block == b).tolist()) for b in range(4)]
    path, edge, clique, triangle = nodes
    expected = {
        2: {clique, path | edge | triangle},
        3: {clique, path, edge | triangle},
        4: {path, edge, clique, triangle},
    }
    for k, partition in expected.items():
        labels = SpectralGraphClusterer(k, random_state=0).fit(A).labels_
        assert _partition(labels) == partition, k


def _dhondt(n_clusters, sizes, volumes, capacities):
    """Clusters per component by D'Hondt's rule, written out plainly."""
    counts = [1] * len(sizes)
    for _ in range(n_clusters - len(sizes)):
        open_ = [c for c in range(len(sizes)) if counts[c] < capacities[c]]
        # Largest quotient, then the largest component, the heaviest, the first.
        c = max(
            open_,
            key=lambda c: (sizes[c] / (counts[c] + 1), sizes[c], volumes[c], -c),
        )
        counts[c] += 1
    return counts


def _cycle_with_chord(n):
    A = _cycle(n)
    A[0, n // 2] = A[n // 2, 0] = 1.0
    return A


@pytest.mark.parametrize(
    ("blocks", "hand"),
    [
        # 10 and 6 nodes: quotients 5, 3 -> the 10-cycle; 3.33, 3 -> again;
        # then 2.5 against 3 -> the 6-cycle; then 2.5 against 2 -> the 10.
        ([_cycle(10), _cycle(6)], {4: [3, 1], 5: [3, 2], 6: [4, 2]}),
        # Equal sizes: the heavier component (a chord) takes the extra one,
        # although it comes second in the node order.
        ([_cycle(6), _cycle_with_chord(6)], {3: [1, 2], 4: [2, 2]}),
    ],
)
def test_extra_clusters_go_by_the_dhondt_rule(blocks, hand):
    A, block = _union(blocks)
    sizes = [b.shape[0] for b in blocks]
    volumes = [b.sum() for b in blocks]
    for k, counts in hand.items():
        assert _dhondt(k, sizes, volumes, sizes) == counts
        labels = SpectralGraphClusterer(k, random_state=0).fit(A).labels_
        got = [np.unique(labels[block == b]).shape[0] for b in range(len(blocks))]
        assert got == counts, k


# --- Hartigan's moves: the largest gain first, with weights ---


def _weighted_sse(points, weights, labels, n_clusters):
    total = 0.0
    for c in range(n_clusters):
        members = labels == c
        w = weights[members]
        center = (w[:, None] * points[members]).sum(axis=0) / w.sum()
        total += float((w * ((points[members] - center) ** 2).sum(axis=1)).sum())
    return total


def _best_move_descent(points, weights, labels, n_clusters):
    """Hartigan's method by brute force: each step makes the single move
    (a point to another cluster, never emptying one) that lowers the
    weighted sum of squares most, recomputed from scratch."""
    labels = labels.copy()
    while True:
        cost = _weighted_sse(points, weights, labels, n_clusters)
        best_gain, best = 1e-9 * cost, None
        for i in range(points.shape[0]):
            if np.sum(labels == labels[i]) == 1:
                continue
            for b in range(n_clusters):
                if b == labels[i]:
                    continue
                moved = labels.copy()
                moved[i] = b
                gain = cost - _weighted_sse(points, weights, moved, n_clusters)
                if gain > best_gain:
                    best_gain, best = gain, (i, b)
        if best is None:
            return labels
        labels[best[0]] = best[1]


@pytest.mark.parametrize("seed", range(8))
def test_hartigan_moves_follow_the_largest_gain(seed):
    from skclust._spectral._hartigan import _hartigan_moves

    rng = np.random.default_rng(seed)
    n, k = 14, 3
    points = rng.normal(size=(n, 2))
    weights = rng.integers(1, 5, n).astype(float)
    labels = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    expected = _best_move_descent(points, weights, labels, k)
    np.testing.assert_array_equal(_hartigan_moves(points, weights, labels, k), expected)


# --- divisive: exact 2-means ties and two-node clusters ---


def test_two_means_refuses_ties_and_never_splits_equal_values():
    from skclust._spectral._divisive import _two_means_1d

    # Two equal values: no threshold separates anything.
    assert _two_means_1d(np.array([2.0, 2.0])) is None
    # 0 1 2: {0, 1} | {2} and {0} | {1, 2} both leave 0.5, a tie of two.
    assert _two_means_1d(np.array([0.0, 1.0, 2.0])) is None
    # 0 0 1 | 5 (SSE 2/3) beats 0 0 | 1 5 (8) and 0 | 0 1 5.
    np.testing.assert_array_equal(
        _two_means_1d(np.array([1.0, 5.0, 0.0, 0.0])), [True, False, True, True]
    )


def test_a_two_node_cluster_bisects_with_its_second_eigenvalue():
    from skclust._spectral._divisive import _bisect_subgraph

    # The middle edge of a path of 4: its subgraph is one edge, whose
    # normalized affinity [[0, 1], [1, 0]] has eigenvalues 1 and -1.
    A = sparse.csr_array(_path(4))
    first, second, strength = _bisect_subgraph(
        A, np.array([1, 2]), ("normalized", 0.0), "none", "dense", 0, np.arange(4)
    )
    assert first.tolist() == [1] and second.tolist() == [2]
    assert strength == pytest.approx(-1.0)


def test_a_cluster_with_a_node_alone_inside_still_bisects():
    from skclust._spectral._divisive import _bisect_subgraph

    # Nodes 0, 1 and 3 of a path of 4: the edge 0-1 and node 3 with no edge
    # inside. tau is the subgraph's mean degree, 2/3: the affinity is
    # [[0, .6, 0], [.6, 0, 0], [0, 0, 0]], eigenvalues .6, 0 and -.6; the
    # second one's eigenvector is node 3 alone.
    A = sparse.csr_array(_path(4))
    expected = np.array([[0, 0.6, 0], [0.6, 0, 0], [0, 0, 0]])
    assert np.sort(np.linalg.eigvalsh(expected))[::-1] == pytest.approx([0.6, 0, -0.6])
    first, second, strength = _bisect_subgraph(
        A,
        np.array([0, 1, 3]),
        ("regularized", "mean_degree"),
        "none",
        "dense",
        0,
        np.arange(4),
    )
    assert first.tolist() == [0, 1] and second.tolist() == [3]
    assert strength == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("solver", ["arpack", "dense"])
def test_bisection_never_separates_twins_whatever_the_solver(solver):
    from skclust._spectral._divisive import _bisect_subgraph

    # A star with 4 leaves (twins): its normalized affinity has eigenvalues
    # 1, 0 (three times: differences between leaves) and -1. The second
    # eigenvector is any mix of leaf differences; averaged over the twin
    # class it is 0 everywhere, so nothing can be split.
    star = np.zeros((5, 5))
    star[0, 1:] = star[1:, 0] = 1.0
    classes = np.array([0, 1, 1, 1, 1])
    result = _bisect_subgraph(
        sparse.csr_array(star),
        np.arange(5),
        ("normalized", 0.0),
        "none",
        solver,
        0,
        classes,
    )
    if result is not None:
        first, second, _ = result
        for half in (first, second):
            leaves = np.isin(np.arange(1, 5), half)
            assert leaves.all() or not leaves.any()


# --- n_clusters="auto": the Bethe Hessian count past the first block ---


def _count_by_rule(values, whole=True):
    """The documented count on ascending eigenvalues: the negative ones,
    then each positive one at most half the next; where ``values`` is the
    whole spectrum (``whole``), the next is never the largest."""
    count = int(np.sum(values < -1e-9))
    end = values.shape[0] - 1 if whole else values.shape[0]
    while (
        count + 1 < end
        and values[count] > 1e-9
        and 2.0 * values[count] <= values[count + 1]
    ):
        count += 1
    return count


def test_bethe_hessian_count_goes_past_the_first_block_of_eight():
    from skclust._spectral._laplacian import _bethe_hessian_count

    # Ten planted communities (seed chosen so that): six negative
    # eigenvalues, then 0.06, 0.45 and 1.57, each at most half the next, so
    # the count is 9, which the first 8 eigenvalues cannot show.
    rng = np.random.default_rng(4)
    n_blocks = rng.integers(8, 11)
    sizes = rng.integers(3, 9, n_blocks)
    n = sizes.sum()
    block = np.repeat(np.arange(n_blocks), sizes)
    inside, outside = rng.uniform(0.4, 0.9), rng.uniform(0.01, 0.06)
    P = np.where(block[:, None] == block[None, :], inside, outside)
    A = np.triu((rng.random((n, n)) < P).astype(float), 1)
    A = A + A.T
    assert connected_components(sparse.csr_array(A), directed=False)[0] == 1
    degree = A.sum(axis=1)
    r = np.sqrt(degree.mean())
    hessian = (r * r - 1.0) * np.eye(n) - r * A + np.diag(degree)
    values = np.linalg.eigvalsh(hessian)
    assert np.sum(values < 0) == 6
    assert _count_by_rule(values) == 9
    assert _count_by_rule(values[:8], whole=False) == 7
    assert _bethe_hessian_count(A, "dense", 0, 50) == 9
    assert _bethe_hessian_count(sparse.csr_array(A), "arpack", 0, 50) == 9


def test_weighted_bethe_hessian_has_the_documented_couplings():
    from skclust._spectral._laplacian import _bethe_hessian

    # Off the diagonal H_ij = -w / (1 - w^2) with w = tanh(beta A_ij); on
    # it 1 + sum_j w^2 / (1 - w^2); beta makes (mean neighbours) * mean(w^2)
    # over the edges 1. Each w is read back from H_ij (the positive root of
    # h w^2 + w - h = 0) and the three statements are checked.
    rng = np.random.default_rng(0)
    n = 30
    mask = np.triu(rng.random((n, n)) < 0.3, 1)
    A = np.where(mask, rng.uniform(0.2, 1.0, (n, n)), 0.0)
    A = A + A.T
    A /= A.max()
    H = _bethe_hessian(A)
    rows, cols = np.nonzero(A)
    h = -H[rows, cols]
    w = (np.sqrt(1.0 + 4.0 * h * h) - 1.0) / (2.0 * h)
    beta = np.arctanh(w) / A[rows, cols]
    assert np.all(beta * A[rows, cols] < 3.0)  # below the cap
    np.testing.assert_allclose(beta, beta[0], rtol=1e-9)
    assert rows.shape[0] / n * np.mean(w**2) == pytest.approx(1.0, rel=1e-9)
    on = np.zeros(n)
    np.add.at(on, rows, w**2 / (1.0 - w**2))
    np.testing.assert_allclose(np.diag(H), 1.0 + on, rtol=1e-9)
    # No entry where A has none.
    assert np.all(H[(A == 0) & ~np.eye(n, dtype=bool)] == 0)


# --- eigenvalues_ of a disconnected graph: the union of the spectra ---


@pytest.mark.parametrize("n_components", [None, 5])
def test_eigenvalues_of_a_disconnected_graph_come_from_every_component(n_components):
    from scipy.sparse.csgraph import laplacian

    # A path of 8 and a triangle; 3 clusters: two in the path. With five
    # eigenvectors the path's own fit holds more eigenvalues than k, but
    # the graph's smallest three are 0 twice (two components) and the
    # path's second, 1 - cos(pi / 7).
    A, _ = _union([_path(8), _clique(3)])
    model = SpectralGraphClusterer(
        3, laplacian="normalized", n_components=n_components, random_state=0
    ).fit(A)
    expected = np.linalg.eigvalsh(laplacian(A, normed=True))[:3]
    np.testing.assert_allclose(expected, [0, 0, 1 - np.cos(np.pi / 7)], atol=1e-12)
    np.testing.assert_allclose(model.eigenvalues_, expected, atol=1e-10)


def test_auto_counts_a_three_node_component_too():
    from scipy.optimize import brentq

    # A path 0 - 1 - 2 with weights 1 and 0.1, beside a 4-cycle. The
    # weighted Bethe Hessian of the path, built here from its definition,
    # has eigenvalues 0.38, 2.67 and 202.7, each at most half the next; but
    # 202.7 is the largest of the three, no bulk, so the count is 1 (it was
    # 2, the weak edge cut: modularity -0.004, as any split of a connected
    # graph into one node and the rest is negative, -x^2 / 2 for a share x
    # of the weight cut). The 4-cycle has two twin classes (opposite
    # corners) and its count is checked in the same way.
    path = np.array([[0, 1, 0], [1, 0, 0.1], [0, 0.1, 0]])
    A, _ = _union([path, _cycle(4)])

    def weighted_bethe_hessian(W):
        rows, cols = np.nonzero(W)
        neighbours = rows.shape[0] / W.shape[0]
        weights = W[rows, cols]

        def excess(log_beta):
            x = np.minimum(np.exp(log_beta) * weights, 3.0)
            return neighbours * np.mean(np.tanh(x) ** 2) - 1.0

        beta = np.exp(brentq(excess, -20.0, 20.0, xtol=1e-14))
        w = np.zeros_like(W)
        w[rows, cols] = np.tanh(np.minimum(beta * weights, 3.0))
        return np.diag(1.0 + (w**2 / (1 - w**2)).sum(axis=1)) - w / (1 - w**2)

    values = np.linalg.eigvalsh(weighted_bethe_hessian(path))
    np.testing.assert_allclose(values, [0.3815, 2.6734, 202.7412], atol=1e-4)
    assert _count_by_rule(values) == 1
    assert _count_by_rule(values, whole=False) == 2
    # The 4-cycle has equal weights: (r^2 - 1) I - r A + D with r^2 = 2.
    cycle = _cycle(4)
    r = np.sqrt(2.0)
    values = np.linalg.eigvalsh((r * r - 1) * np.eye(4) - r * cycle + 2 * np.eye(4))
    expected_cycle = max(1, min(_count_by_rule(values), 2))
    model = SpectralGraphClusterer("auto", random_state=0).fit(A)
    assert model.n_clusters_ == 1 + expected_cycle
    labels = model.labels_
    assert labels[0] == labels[1] == labels[2]


def test_regularization_is_reported_in_the_units_of_the_weights():
    # The weights are divided by the largest before any arithmetic;
    # regularization_ is back in the units given: 2.5 times a graph whose
    # mean degree is 2 has mean degree 5, and a fixed tau stays as given.
    A = 2.5 * _cycle(6)
    fitted = SpectralGraphClusterer(
        2, regularization="mean_degree", random_state=0
    ).fit(A)
    assert fitted.regularization_ == pytest.approx(5.0)
    fitted = SpectralGraphClusterer(2, regularization=3.0, random_state=0).fit(A)
    assert fitted.regularization_ == pytest.approx(3.0)
    # With fewer clusters than components no component is embedded.
    two, _ = _union([A, A])
    fitted = SpectralGraphClusterer(2, regularization=3.0, random_state=0).fit(two)
    assert fitted.regularization_ == pytest.approx(3.0)


# --- conductance: the smaller side may be the complement ---


@pytest.mark.parametrize("seed", range(3))
def test_conductance_of_a_cluster_holding_most_of_the_volume(seed):
    from skclust.metrics import conductance

    # phi(c) = cut(c) / min(vol(c), vol(V) - vol(c)): for the cluster that
    # holds most of the volume the division is by the volume of the rest.
    rng = np.random.default_rng(seed)
    n = 24
    upper = np.triu(rng.random((n, n)) < 0.3, 1) * rng.integers(1, 4, (n, n))
    A = (upper + upper.T).astype(float)
    labels = np.where(np.arange(n) < 18, 0, 1 + np.arange(n) % 2)
    volume = A.sum(axis=1)
    assert volume[labels == 0].sum() > volume.sum() / 2
    expected = []
    for c in range(3):
        inside = labels == c
        cut = A[np.ix_(inside, ~inside)].sum()
        expected.append(cut / min(volume[inside].sum(), volume[~inside].sum()))
    np.testing.assert_allclose(conductance(A, labels), expected, rtol=1e-12)


@pytest.mark.parametrize("score", ["modularity", "conductance"])
def test_graph_scores_refuse_a_graph_one_part_in_a_million_asymmetric(score):
    from skclust import metrics

    # One direction of one edge heavier by 1e-6: a directed graph, refused
    # like the estimator refuses it (it allows rounding, 1e-10 relative).
    A = _cycle(6)
    A[0, 1] += 1e-6
    with pytest.raises(ValueError, match="symmetric"):
        getattr(metrics, score)(A, [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="symmetric"):
        SpectralGraphClusterer(2).fit(A)


def test_mismatch_scorer_refuses_row_sums_one_part_in_a_million_off():
    from skclust.metrics import mismatch_scorer

    # "Equal up to rounding": a graph with one weight changed by 1e-6 is
    # another graph, not the training one.
    A = _cycle(6)
    model = SpectralGraphClusterer(2, random_state=0).fit(A)
    y = np.array([0, 0, 0, 1, 1, 1])
    assert mismatch_scorer(model, A, y) <= 0.0
    other = A.copy()
    other[0, 1] = other[1, 0] = 1.0 + 1e-6
    with pytest.raises(ValueError, match="other nodes"):
        mismatch_scorer(model, other, y)


# --- knee_index: per unit of x, a rise or flat after a point, the first ---


def test_knee_index_hand_worked_cases():
    from skclust.model_selection import knee_index

    # Slopes per unit of x 40, 20, 2, 1 (x steps 1, 1, 10, 10): ratios 2,
    # 10, 2, so the knee is at index 2; the raw drops 40, 20, 20, 10 would
    # have put it at 1.
    assert knee_index([0, 1, 2, 12, 22], [100, 60, 40, 20, 10]) == 2
    # A rise after index 2 makes it a perfect knee (ratio 1 / floor), ahead
    # of the 90 / 1 at index 1.
    assert knee_index([1, 2, 3, 4, 5], [100, 10, 9, 9.5, 9]) == 2
    # Slopes 1000, 1, 1e-4: ratios 1000 and 10000.
    assert knee_index([1, 2, 3, 4], [2000, 1000, 999, 998.9999]) == 2
    # Slopes 8, 4, 1: ratios 2 and 4, the last one largest.
    assert knee_index([1, 2, 3, 4], [20, 12, 8, 7]) == 2
    # Equal ratios (slopes 8, 4, 2, 1): the first.
    assert knee_index([1, 2, 3, 4, 5], [30, 22, 18, 16, 15]) == 1


def test_silhouette_scorer_measures_kmeans_l1_in_manhattan_distance():
    from sklearn.metrics import silhouette_score

    from skclust import KMeansL1
    from skclust.model_selection import silhouette_scorer

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(4, 1, (20, 3))])
    X[:, 0] *= 5.0
    model = KMeansL1(3, random_state=0).fit(X)
    labels = model.predict(X)
    manhattan = silhouette_score(X, labels, metric="manhattan")
    assert abs(manhattan - silhouette_score(X, labels)) > 1e-3
    score = silhouette_scorer(sample_size=None)(model, X)
    assert score == pytest.approx(manhattan, rel=1e-12)
