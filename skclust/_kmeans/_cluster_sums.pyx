# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Weighted sums over the clusters of the L2 metric, in one pass each.

``add_weighted_rows`` keeps the cluster sums of the center update, which
moves the points that changed cluster from one sum to another, and
``weighted_inertia`` gives the inertia. Through numpy and scipy the update
was a gather of the moved rows and two sparse products per iteration (0.1 s
per fit of 200,000 x 64, k = 256, 10 iterations); this pass reads each moved
row once and adds it in place.
"""


cdef _require(bint ok, str message):
    """Refuse arrays whose shapes do not match: the loops do not check bounds."""
    if not ok:
        raise ValueError(message)


def add_weighted_rows(
    const double[:, ::1] X,
    const double[::1] weights,
    const Py_ssize_t[::1] index,
    const Py_ssize_t[::1] clusters,
    double sign,
    double[:, ::1] sums,
):
    """``sums[clusters[r]] += sign * weights[index[r]] * X[index[r]]`` for each r.

    Rows are added in the order of ``index``.
    """
    cdef Py_ssize_t r, f, i, c, n_features = X.shape[1]
    cdef double w
    _require(
        index.shape[0] == clusters.shape[0] and weights.shape[0] == X.shape[0]
        and sums.shape[1] == n_features,
        "index, clusters, weights and sums do not match X",
    )
    with nogil:
        for r in range(index.shape[0]):
            i = index[r]
            c = clusters[r]
            w = sign * weights[i]
            for f in range(n_features):
                sums[c, f] += w * X[i, f]


def weighted_inertia(
    const double[:, ::1] X,
    const double[::1] weights,
    const double[:, ::1] centers,
    const Py_ssize_t[::1] labels,
):
    """``sum_i weights[i] * |X[i] - centers[labels[i]]|^2``, from differences."""
    cdef Py_ssize_t i, f, c, n_features = X.shape[1]
    cdef double total = 0.0, row, diff
    _require(
        weights.shape[0] == X.shape[0] and labels.shape[0] == X.shape[0]
        and centers.shape[1] == n_features,
        "weights, labels and centers do not match X",
    )
    with nogil:
        for i in range(X.shape[0]):
            c = labels[i]
            row = 0.0
            for f in range(n_features):
                diff = X[i, f] - centers[c, f]
                row += diff * diff
            total += weights[i] * row
    return total
