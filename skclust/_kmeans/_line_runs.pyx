# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The layers of the exact 1-D k-means and k-medians programme, compiled.

Each layer finds, for every prefix of the sorted points, the best last cut;
the best cut moves right as the prefix grows (the run costs satisfy the
quadrangle inequality; Gronlund et al. 2017), so divide and conquer over the
prefixes needs O(n log n) run costs per layer. The same loops in numpy,
level by level over the recursion, took 0.8 s at 10,000 points and k = 64,
60 times a Lloyd fit (14 ms); here they take a few milliseconds.
"""

import numpy as np

from libc.math cimport INFINITY


cdef struct Prefix:
    # Points in increasing order, and prefix sums (index i: the first i
    # points) of the weights, of weight * point and of weight * point^2.
    const double *x
    const double *W
    const double *S
    const double *Q
    bint manhattan


cdef inline Py_ssize_t median_from(
    const Prefix *p, Py_ssize_t i, Py_ssize_t j, Py_ssize_t m
) noexcept nogil:
    """The lowest weighted median of the run of points i to j - 1: the first
    point m where the run's cumulative weight W[m + 1] - W[i] reaches half
    its weight, searched from ``m`` up (``m`` at most the median)."""
    cdef double half = p.W[i] + (p.W[j] - p.W[i]) / 2.0
    if m < i:
        m = i
    while m < j - 1 and p.W[m + 1] < half:
        m += 1
    return m


cdef inline Py_ssize_t median_of(const Prefix *p, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    """The lowest weighted median of the run of points i to j - 1, by
    binary search."""
    cdef double half = p.W[i] + (p.W[j] - p.W[i]) / 2.0
    cdef Py_ssize_t lo = i, hi = j - 1, m
    while lo < hi:
        m = (lo + hi) // 2
        if p.W[m + 1] >= half:
            hi = m
        else:
            lo = m + 1
    return lo


cdef inline double run_cost(
    const Prefix *p, Py_ssize_t i, Py_ssize_t j, Py_ssize_t m
) noexcept nogil:
    """Cost of the run of points i to j - 1 about its best center (for
    absolute costs, the point m, its median)."""
    cdef double total, center
    if p.manhattan:
        center = p.x[m]
        total = (
            center * (p.W[m] - p.W[i]) - (p.S[m] - p.S[i])
            + (p.S[j] - p.S[m]) - center * (p.W[j] - p.W[m])
        )
    else:
        total = (p.S[j] - p.S[i]) * (p.S[j] - p.S[i]) / (p.W[j] - p.W[i])
        total = (p.Q[j] - p.Q[i]) - total
    # Rounding can leave a run of one value slightly below zero.
    return total if total > 0.0 else 0.0


cdef void best_cuts(
    const Prefix *p,
    const double *previous,
    double *current,
    int *cut,
    Py_ssize_t first,
    Py_ssize_t last,
    Py_ssize_t low,
    Py_ssize_t high,
) noexcept nogil:
    """``current[j]``, the least ``previous[i] + run_cost(i, j)``, and
    ``cut[j]``, the lowest ``i`` reaching it, for ``j`` from ``first`` to
    ``last``, given that the cuts of those ``j`` lie in ``low..high``."""
    cdef Py_ssize_t middle, i, top, arg, median = 0
    cdef double best, value
    # Recursion on the left half, a loop on the right: depth log n.
    while first <= last:
        middle = (first + last) // 2
        top = high if high < middle - 1 else middle - 1
        best = INFINITY
        arg = low
        if p.manhattan:
            median = median_of(p, low, middle)
        for i in range(low, top + 1):
            if p.manhattan:
                # The median of the run i:middle moves right with i: found
                # by walking on from the last one.
                median = median_from(p, i, middle, median)
            value = previous[i] + run_cost(p, i, middle, median)
            if value < best:
                best = value
                arg = i
        current[middle] = best
        cut[middle] = <int>arg
        best_cuts(p, previous, current, cut, first, middle - 1, low, arg)
        first = middle + 1
        low = arg


def optimal_cuts(
    const double[::1] x,
    const double[::1] W,
    const double[::1] S,
    const double[::1] Q,
    Py_ssize_t n_clusters,
    bint manhattan,
):
    """The best last cut of every prefix, for each number of runs.

    Parameters
    ----------
    x : ndarray of shape (n,)
        In: the points, in increasing order.
    W, S, Q : ndarray of shape (n + 1,)
        In: prefix sums of the weights (positive), of weight * x and of
        weight * x^2 (not read for ``manhattan``), each starting at 0.
    n_clusters : int
        In: the number of runs, from 1 to ``n`` (``n`` below 2**31).
    manhattan : bool
        In: absolute costs about the lowest weighted median (else squared
        costs about the mean).

    Returns
    -------
    cuts : ndarray of shape (n_clusters, n + 1), int32
        ``cuts[c, j]``: where the last of ``c + 1`` optimal runs over the
        first ``j`` points starts (the lowest such start), for the ``j``
        an optimal clustering of all ``n`` points can reach; row 0 is zero.
    cost : float
        The least total cost of ``n_clusters`` runs over all the points.
    """
    cdef Py_ssize_t n = x.shape[0], k = n_clusters, c, j
    cdef Prefix p
    p.x = &x[0]
    p.W = &W[0]
    p.S = &S[0]
    p.Q = &Q[0] if not manhattan else &W[0]
    p.manhattan = manhattan
    cuts_array = np.zeros((k, n + 1), dtype=np.int32)
    previous_array = np.full(n + 1, INFINITY)
    current_array = np.full(n + 1, INFINITY)
    cdef int[:, ::1] cuts = cuts_array
    cdef double[::1] previous_view = previous_array
    cdef double[::1] current_view = current_array
    cdef double *previous = &previous_view[0]
    cdef double *current = &current_view[0]
    cdef double *swap
    with nogil:
        # One run over the first j points, for the j that leave a point to
        # each of the other runs.
        for j in range(1, n - k + 2):
            previous[j] = run_cost(&p, 0, j, median_of(&p, 0, j))
        for c in range(1, k):
            # c + 1 runs over the first j points, c <= j - 1 <= n - k + c.
            best_cuts(
                &p, previous, current, &cuts[c, 0],
                c + 1, n - k + c + 1, c, n - k + c,
            )
            swap = previous
            previous = current
            current = swap
    return cuts_array, float(previous[n])
