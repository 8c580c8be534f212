# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Hamerly's bounded assignment step, fused into one pass over the points.

numpy needs about ten passes over all points per Lloyd iteration to apply the
bounds (gathers, comparisons, index lists); this kernel reads each point once,
which is what makes the bounds pay off (see README, "Compiled kernel").
"""

from libc.math cimport INFINITY, fabs, sqrt


cdef inline double _cost(
    const double[:, ::1] X, Py_ssize_t i, const double[:, ::1] C, Py_ssize_t j,
    bint manhattan,
) noexcept nogil:
    """Manhattan distance, or squared Euclidean distance (monotone in it)."""
    cdef Py_ssize_t f
    cdef double total = 0.0, diff
    if manhattan:
        for f in range(X.shape[1]):
            total += fabs(X[i, f] - C[j, f])
        return total
    for f in range(X.shape[1]):
        diff = X[i, f] - C[j, f]
        total += diff * diff
    return total


cdef inline double _as_distance(double cost, bint manhattan) noexcept nogil:
    return cost if manhattan else sqrt(cost)


def bounded_assignment(
    const double[:, ::1] X,
    const double[:, ::1] centers,
    Py_ssize_t[::1] labels,
    double[::1] upper,
    double[::1] lower,
    const double[::1] shift,
    Py_ssize_t fastest,
    double largest_shift,
    double runner_up_shift,
    const double[::1] half_gap,
    bint manhattan,
    bint scan,
    Py_ssize_t[::1] out_index,
    Py_ssize_t[::1] out_previous,
):
    """Move the bounds by the last center shift, then assign what may change.

    For each point with label ``a``: the upper bound grows by ``shift[a]`` and
    the lower bound shrinks by the largest shift of another center. A point is
    skipped when its upper bound is below ``max(lower, half_gap[a])``;
    otherwise the upper bound is tightened to the exact distance and the test
    repeated. A point that still fails is either scanned against every center
    here (``scan``; ties go to the lowest index) or listed in ``out_index`` for
    the caller to scan.

    Returns
    -------
    int
        With ``scan``: the number of points that changed label, listed in
        ``out_index`` with their old labels in ``out_previous``. Without:
        the number of points listed for the caller to scan.
    """
    cdef Py_ssize_t n_samples = X.shape[0], n_clusters = centers.shape[0]
    cdef Py_ssize_t i, j, own, best, n_out = 0
    cdef double up, low, bound, dist, nearest, second
    with nogil:
        for i in range(n_samples):
            own = labels[i]
            up = upper[i] + shift[own]
            low = lower[i] - (runner_up_shift if own == fastest else largest_shift)
            bound = low if low > half_gap[own] else half_gap[own]
            if up < bound:
                upper[i] = up
                lower[i] = low
                continue
            up = _as_distance(_cost(X, i, centers, own, manhattan), manhattan)
            upper[i] = up
            lower[i] = low
            if up < bound:
                continue
            if not scan:
                out_index[n_out] = i
                n_out += 1
                continue
            best = 0
            nearest = INFINITY
            second = INFINITY
            # Costs are compared (no square root per center); only the two
            # kept are turned into distances.
            for j in range(n_clusters):
                dist = _cost(X, i, centers, j, manhattan)
                if dist < nearest:
                    second = nearest
                    nearest = dist
                    best = j
                elif dist < second:
                    second = dist
            labels[i] = best
            upper[i] = _as_distance(nearest, manhattan)
            lower[i] = _as_distance(second, manhattan)
            if best != own:
                out_index[n_out] = i
                out_previous[n_out] = own
                n_out += 1
    return n_out
