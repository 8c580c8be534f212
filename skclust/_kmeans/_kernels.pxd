# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Helpers shared by the compiled kernels of the k-means family.

Inline functions only: each kernel module compiles its own copy, and no
module of this name exists at run time.
"""

from libc.math cimport fabs

ctypedef fused floating:
    float
    double

# The precision of the data rows, independent of ``floating`` where a kernel
# takes both (float32 rows ranked in double precision, say).
ctypedef fused real_rows:
    float
    double


cdef inline int require(bint ok, str message) except -1:
    """Refuse arrays whose shapes do not match: the loops do not check bounds."""
    if not ok:
        raise ValueError(message)
    return 0


cdef inline double cost(
    const floating[:, ::1] X, Py_ssize_t i, const double[:, ::1] C, Py_ssize_t j,
    bint manhattan,
) noexcept nogil:
    """Manhattan distance, or squared Euclidean distance, summed in feature
    order from coordinate differences."""
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


cdef inline double squared_distance(
    const real_rows[:, ::1] X, Py_ssize_t i, const double[:, ::1] C, Py_ssize_t j,
) noexcept nogil:
    """Squared Euclidean distance, summed in four interleaved partial sums.

    With many features a single running sum waits on every addition. float32
    rows are widened exactly, so the distance is that of their float64 copy.
    """
    cdef Py_ssize_t f = 0, n = X.shape[1]
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, d0, d1, d2, d3
    while f + 4 <= n:
        d0 = X[i, f] - C[j, f]
        d1 = X[i, f + 1] - C[j, f + 1]
        d2 = X[i, f + 2] - C[j, f + 2]
        d3 = X[i, f + 3] - C[j, f + 3]
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        f += 4
    while f < n:
        d0 = X[i, f] - C[j, f]
        s0 += d0 * d0
        f += 1
    return (s0 + s1) + (s2 + s3)
