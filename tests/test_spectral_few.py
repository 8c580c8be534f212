"""regularization="auto" where the Bethe Hessian counts few communities.

Where the count of ``n_clusters="auto"`` is one, the default splits the
graph by nested bisection with twice the mean degree; where it is at most
half the clusters asked for, it keeps the mean degree instead of choosing
among its candidates by modularity.
"""

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.metrics import adjusted_rand_score

from skclust import SpectralGraphClusterer
from skclust._spectral._estimator import _community_counter, _shows_few_communities


def _largest_component(upper):
    A = sparse.csr_array((upper | upper.T).astype(np.float64))
    _, comp = connected_components(A, directed=False)
    keep = np.flatnonzero(comp == np.argmax(np.bincount(comp)))
    return A[keep][:, keep]


def _random_graph(n, p, seed):
    """Erdos-Renyi: no communities, so the Bethe Hessian counts one."""
    rng = np.random.default_rng(seed)
    return _largest_component(np.triu(rng.random((n, n)) < p, 1))


def _blocks(n_blocks, size, p_in, p_out, seed):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_blocks), size)
    p = np.where(labels[:, None] == labels[None, :], p_in, p_out)
    return _largest_component(np.triu(rng.random(p.shape) < p, 1))


def _auto_count(A):
    return SpectralGraphClusterer("auto", random_state=0).fit(A).n_clusters_


def test_few_communities_is_the_auto_count_against_half_of_k():
    # Four clear blocks ("auto" counts 4) and graphs without communities
    # (it counts 1 or 2), against k from 2 to 9.
    graphs = [_blocks(4, 60, 0.3, 0.01, 0)]
    graphs += [_random_graph(240, p, seed) for p in (0.03, 0.05) for seed in (0, 1)]
    seen = set()
    for A in graphs:
        count = _auto_count(A)
        for k in range(2, 10):
            few = _shows_few_communities(_community_counter(A, "auto", 0), k)
            assert few == (count <= k / 2), (count, k)
            seen.add(few)
    assert seen == {True, False}


def test_a_graph_too_small_to_count_is_not_few():
    path = sparse.csr_array(np.diag(np.ones(1), 1) + np.diag(np.ones(1), -1))
    assert not _shows_few_communities(_community_counter(path, "auto", 0), 2)


@pytest.mark.parametrize(
    ("n", "p", "seed"), [(300, 0.03, 2), (240, 0.03, 0), (240, 0.03, 3)]
)
def test_the_default_keeps_the_mean_degree_where_the_count_is_two(n, p, seed):
    # Graphs without communities that the Bethe Hessian counts 2: at most
    # half of k = 4, so the mean degree is kept. Before the rule the
    # modularity choice kept 2, 0 or a quarter of the mean degree on such
    # graphs: which tau fits the graph's noise best.
    A = _random_graph(n, p, seed)
    assert _auto_count(A) == 2
    default = SpectralGraphClusterer(4, random_state=0).fit(A)
    mean = SpectralGraphClusterer(4, random_state=0, regularization="mean_degree")
    assert default.regularization_ == pytest.approx(A.sum() / A.shape[0])
    np.testing.assert_array_equal(default.labels_, mean.fit(A).labels_)


def _doubled_mean_degree(monkeypatch):
    """Make regularization="mean_degree" twice the mean degree of every
    (sub)graph, in every module that reads it."""
    from skclust._spectral import _divisive, _estimator, _laplacian

    plain = _laplacian._regularization

    def doubled(degree, laplacian, regularization):
        tau = plain(degree, laplacian, regularization)
        return 2.0 * tau if regularization == "mean_degree" else tau

    for module in (_laplacian, _estimator, _divisive):
        monkeypatch.setattr(module, "_regularization", doubled)


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 3, 4])
def test_where_the_count_is_one_the_default_is_nested_bisection(k, seed, monkeypatch):
    # The spectrum shows no community: "divisive" with tau twice the mean
    # degree of each part, computed here by that strategy with the mean
    # degree doubled wherever it is read.
    A = _random_graph(300, 0.03, seed)
    assert _auto_count(A) == 1
    default = SpectralGraphClusterer(k, random_state=seed).fit(A)
    assert default.regularization_ == pytest.approx(2 * A.sum() / A.shape[0])
    _doubled_mean_degree(monkeypatch)
    nested = SpectralGraphClusterer(
        k, random_state=seed, strategy="divisive", regularization="mean_degree"
    ).fit(A)
    np.testing.assert_array_equal(default.labels_, nested.labels_)


def test_the_counter_finds_one_community_as_auto_does():
    graphs = [_random_graph(240, p, seed) for p in (0.03, 0.05) for seed in range(4)]
    graphs += [_blocks(3, 80, p_in, 0.02, 0) for p_in in (0.03, 0.2)]
    seen = set()
    for A in graphs:
        one = _community_counter(A, "auto", 0)(2) == 1
        assert one == (_auto_count(A) == 1)
        seen.add(one)
    assert seen == {True, False}


def test_nested_bisection_of_a_graph_without_communities_ignores_the_node_order():
    A = _random_graph(300, 0.03, 0)
    labels = SpectralGraphClusterer(4, random_state=0).fit(A).labels_
    rng = np.random.default_rng(5)
    for _ in range(3):
        order = rng.permutation(A.shape[0])
        shuffled = SpectralGraphClusterer(4, random_state=0).fit(A[order][:, order])
        assert adjusted_rand_score(labels[order], shuffled.labels_) == 1.0


def test_the_choice_still_runs_where_the_spectrum_shows_the_blocks():
    # Four clear blocks in four clusters: the choice is made, and it finds
    # the blocks (any candidate would), as before.
    A = _blocks(4, 60, 0.3, 0.01, 0)
    assert not _shows_few_communities(_community_counter(A, "auto", 0), 4)
    labels = SpectralGraphClusterer(4, random_state=0).fit(A).labels_
    assert len(np.unique(labels)) == 4
