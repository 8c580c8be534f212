"""regularization="auto" where the Bethe Hessian counts few communities.

Where the count of ``n_clusters="auto"`` is at most half the clusters asked
for, the default keeps the mean degree instead of choosing among its
candidates by modularity.
"""

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from skclust import SpectralGraphClusterer
from skclust._spectral._estimator import _shows_few_communities


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
            few = _shows_few_communities(A, k, "auto", 0)
            assert few == (count <= k / 2), (count, k)
            seen.add(few)
    assert seen == {True, False}


def test_a_graph_too_small_to_count_is_not_few():
    path = sparse.csr_array(np.diag(np.ones(1), 1) + np.diag(np.ones(1), -1))
    assert not _shows_few_communities(path, 2, "auto", 0)


@pytest.mark.parametrize("seed", [0, 1, 3, 4, 6, 7])
def test_the_default_keeps_the_mean_degree_on_a_graph_without_communities(seed):
    # On these graphs the modularity choice kept 2, 0 or a quarter of the
    # mean degree: which tau fits the graph's noise best.
    A = _random_graph(300, 0.03, seed)
    default = SpectralGraphClusterer(4, random_state=0).fit(A)
    mean = SpectralGraphClusterer(4, random_state=0, regularization="mean_degree")
    assert default.regularization_ == pytest.approx(A.sum() / A.shape[0])
    np.testing.assert_array_equal(default.labels_, mean.fit(A).labels_)


def test_the_choice_still_runs_where_the_spectrum_shows_the_blocks():
    # Four clear blocks in four clusters: the choice is made, and it finds
    # the blocks (any candidate would), as before.
    A = _blocks(4, 60, 0.3, 0.01, 0)
    assert not _shows_few_communities(A, 4, "auto", 0)
    labels = SpectralGraphClusterer(4, random_state=0).fit(A).labels_
    assert len(np.unique(labels)) == 4
