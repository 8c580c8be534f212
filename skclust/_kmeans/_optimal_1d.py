"""Exact k-means and k-medians of weighted points on a line.

In one dimension some optimal clustering is made of runs of consecutive
points in sorted order, so the best split of the first ``j`` points into
``c`` runs is the best split of the first ``i`` into ``c - 1`` plus the run
``i:j`` (Bellman 1973; Wang and Song 2011 for k-means). The best start ``i``
of the last run never moves left as ``j`` grows, because the run costs
satisfy the quadrangle inequality (Gronlund, Larsen, Mathiasen, Nielsen,
Schneider and Song 2017), so each of the ``k`` layers of the programme is
found by divide and conquer over ``j`` with O(n log n) run costs
(``_line_runs``, compiled), each O(1) from prefix sums for squared costs and
O(log n) for absolute costs (a binary search for the median). Lloyd's
algorithm finds a local optimum only.
"""

import numpy as np

from ._line_runs import optimal_cuts


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
        In increasing order: the weighted mean (k-means) or the weighted
        median (k-medians) of each run of an optimal clustering. The median
        is the first value at which the run's cumulative weight reaches half
        its total; where it reaches exactly half, the midpoint of that value
        and the next, as Lloyd's median update (``_medians``) and
        ``numpy.median`` take it, so that a Lloyd step from these centers
        leaves them in place.
        Ties between optimal clusterings go to the lowest cut points, taken
        from the last one back (in exact arithmetic: run costs that tie up
        to rounding may be settled either way).

    Notes
    -----
    O(k n log n) time for k-means, O(k n log^2 n) for k-medians, and 4 bytes
    per point and cluster for the cut table (``n`` below 2**31). The run
    costs are differences of prefix sums taken about the weighted median of
    the points, so a run's cost is known to about ``1e-16`` times the
    total cost of one run over all the points: runs whose costs differ by
    less may be taken for equal. Integer values and weights (of sums below
    2**53) give exact absolute costs, and so exact ties.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._kmeans._optimal_1d import optimal_1d_centers
    >>> values = np.array([0.0, 1.0, 10.0, 11.0, 12.0])
    >>> optimal_1d_centers(values, np.ones(5), 2)
    array([ 0.5, 11. ])
    >>> optimal_1d_centers(values, np.ones(5), 2, manhattan=True)
    array([ 0.5, 11. ])
    """
    bounds = optimal_1d_runs(values, weights, n_clusters, manhattan)
    starts, ends = bounds[:-1], bounds[1:]
    if manhattan:
        cumulative = np.concatenate([[0.0], np.cumsum(weights)])
        half = cumulative[starts] + (cumulative[ends] - cumulative[starts]) / 2.0
        # The first point of each run whose cumulative weight reaches half.
        middle = np.clip(
            np.searchsorted(cumulative[1:], half, side="left"), starts, ends - 1
        )
        # Exactly half at that point: every value up to the next one is a
        # median. The lowest made Lloyd's first step move every such center
        # to the midpoint, so KMeansL1 reported n_iter_ = 2 where KMeansL2
        # reported 1.
        at_half = (cumulative[middle + 1] == half) & (middle + 1 < ends)
        following = values[np.minimum(middle + 1, values.shape[0] - 1)]
        return np.where(at_half, 0.5 * (values[middle] + following), values[middle])
    sums = np.add.reduceat(weights * values, starts)
    return sums / np.add.reduceat(weights, starts)


def optimal_1d_runs(values, weights, n_clusters, manhattan=False):
    """Where the runs of an optimal clustering of sorted points start and end.

    Parameters as :func:`optimal_1d_centers`.

    Returns
    -------
    bounds : ndarray of shape (n_clusters + 1,)
        Run ``r`` is ``values[bounds[r]:bounds[r + 1]]``: ``bounds[0]`` is 0,
        ``bounds[-1]`` is ``n`` and the bounds increase strictly.
    """
    n = values.shape[0]
    if n >= 2**31 - 1:
        raise ValueError(
            f"the exact 1-D programme takes fewer than 2**31 distinct values, not {n}"
        )
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    W = np.concatenate([[0.0], np.cumsum(weights)])
    # Sums about a central point, the weighted median: the squared costs are
    # differences of sums of squares, which lose fewer digits there. A point
    # of the data keeps integer data integer, and its sums exact.
    middle = values[min(np.searchsorted(W[1:], W[-1] / 2.0), n - 1)]
    shifted = np.ascontiguousarray(values - middle)
    S = np.concatenate([[0.0], np.cumsum(weights * shifted)])
    Q = W if manhattan else np.concatenate([[0.0], np.cumsum(weights * shifted**2)])
    cuts, _ = optimal_cuts(shifted, W, S, Q, n_clusters, manhattan)
    bounds = np.empty(n_clusters + 1, dtype=np.intp)
    bounds[n_clusters] = n
    for c in range(n_clusters - 1, 0, -1):
        bounds[c] = cuts[c, bounds[c + 1]]
    bounds[0] = 0
    return bounds
