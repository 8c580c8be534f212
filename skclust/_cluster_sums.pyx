# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Per-cluster weighted sums of rows, added or removed in one pass.

The L2 center update keeps each cluster's weighted sum of its points and moves
the points that changed cluster. Through numpy and scipy that was a gather of
the moved rows and two sparse products per iteration (0.1 s per fit of
200,000 x 64, k = 256, 10 iterations); this pass reads each moved row once
and adds it in place.
"""


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
    with nogil:
        for r in range(index.shape[0]):
            i = index[r]
            c = clusters[r]
            w = sign * weights[i]
            for f in range(n_features):
                sums[c, f] += w * X[i, f]
