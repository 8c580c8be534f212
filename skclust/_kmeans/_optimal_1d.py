"""Exact k-means and k-medians of weighted points on a line.

In one dimension some optimal clustering is made of runs of consecutive
points in sorted order, so the best split of the first ``j`` points into
``c`` runs is the best split of the first ``i`` into ``c - 1`` plus the run
``i:j``: a dynamic programme over the (n + 1)^2 runs, O(k n^2) in time
(Bellman 1973; Wang and Song 2011 for k-means). Lloyd's algorithm finds a
local optimum only; on the grey levels of photographs (n <= 256) this finds
the global one in a few milliseconds.
"""

import numpy as np


def optimal_1d_centers(values, weights, n_clusters, manhattan=False):
    """The centers of an optimal clustering of weighted points on a line.

    Parameters
    ----------
    values : ndarray of shape (n,)
        The points, float64, in strictly increasing order.
    weights : ndarray of shape (n,)
        Their weights, positive.
    n_clusters : int
        Between 1 and ``n``.
    manhattan : bool, default=False
        Minimise the weighted sum of absolute distances (k-medians) instead
        of squared distances (k-means).

    Returns
    -------
    centers : ndarray of shape (n_clusters,)
        In increasing order: the weighted mean (k-means) or the lowest
        weighted median (k-medians) of each run of an optimal clustering.
        Ties between optimal clusterings go to the lowest cut points, taken
        from the last one back.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._kmeans._optimal_1d import optimal_1d_centers
    >>> values = np.array([0.0, 1.0, 10.0, 11.0, 12.0])
    >>> optimal_1d_centers(values, np.ones(5), 2)
    array([ 0.5, 11. ])
    """
    n = values.shape[0]
    cost, centers = _run_costs(values, weights, manhattan)
    # By end: by_end[j, i] is the run i:j, so that the minimum over the
    # start i of each end j reads a contiguous row (a third faster at k = 48).
    by_end = np.ascontiguousarray(cost.T)
    every = np.arange(n + 1)
    best = cost[0].copy()  # best[j]: one run over values[:j]
    cuts = np.zeros((n_clusters, n + 1), dtype=np.intp)
    total = np.empty_like(by_end)
    for c in range(1, n_clusters):
        # total[j, i]: the best c runs over values[:i], then the run i:j.
        np.add(by_end, best, out=total)
        cuts[c] = total.argmin(axis=1)
        best = total[every, cuts[c]]
    bounds = [n]
    for c in range(n_clusters - 1, 0, -1):
        bounds.append(cuts[c, bounds[-1]])
    bounds.append(0)
    bounds = np.array(bounds[::-1])
    return centers[bounds[:-1], bounds[1:]]


def _run_costs(values, weights, manhattan):
    """Cost and center of every run ``values[i:j]``, arrays of (n + 1, n + 1).

    Runs with ``j <= i`` are empty and cost infinity. From prefix sums: the
    squared cost is ``sum w x^2 - (sum w x)^2 / sum w``; the absolute cost is
    taken about the run's lowest weighted median ``x_m`` (the first point
    where the run's cumulative weight reaches half its weight).
    """
    n = values.shape[0]
    W = np.concatenate([[0.0], np.cumsum(weights)])
    S = np.concatenate([[0.0], np.cumsum(weights * values)])
    i = np.arange(n + 1)[:, None]
    j = np.arange(n + 1)[None, :]
    empty = j <= i
    mass = np.where(empty, 1.0, W[j] - W[i])
    if manhattan:
        # W increases strictly (positive weights): the median's index m is
        # the first with W[m + 1] >= W[i] + mass / 2.
        m = np.searchsorted(W[1:], W[i] + mass / 2.0, side="left")
        m = np.minimum(np.maximum(m, i), n - 1)
        centers = values[m]
        below = centers * (W[m] - W[i]) - (S[m] - S[i])
        above = (S[j] - S[m]) - centers * (W[j] - W[m])
        cost = below + above
    else:
        Q = np.concatenate([[0.0], np.cumsum(weights * values * values)])
        centers = (S[j] - S[i]) / mass
        cost = (Q[j] - Q[i]) - (S[j] - S[i]) * centers
        # Rounding can leave a run of one value slightly below zero.
        np.maximum(cost, 0.0, out=cost)
    cost[empty] = np.inf
    return cost, centers
