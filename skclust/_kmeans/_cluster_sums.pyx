# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Weighted sums over the clusters of the L2 metric, in one pass each.

``add_weighted_rows`` keeps the cluster sums of the center update (in memory,
it moves the points that changed cluster from one sum to another),
``sum_rows_by_label`` sums each block of rows read in blocks (float32
rows with AVX2 where the processor has it, chosen at run time),
``weighted_inertia`` gives the
inertia and ``weighted_spread`` the spread of the rows about one point. Through numpy and scipy the update was a gather of the moved rows
and two sparse products per iteration (0.1 s per fit of 200,000 x 64, k =
256, 10 iterations); this pass reads each moved row once and adds it in
place.
"""

from ._kernels cimport cost, floating, real_rows, require, squared_distance


def add_weighted_rows(
    const floating[:, ::1] X,
    const double[::1] weights,
    const Py_ssize_t[::1] index,
    const Py_ssize_t[::1] clusters,
    double sign,
    double[:, ::1] sums,
):
    """``sums[clusters[r]] += sign * weights[index[r]] * X[index[r]]`` for each r.

    Rows are added in the order of ``index``, in float64.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        In.
    weights : ndarray of shape (n_samples,) or None
        In; None weighs every row 1.
    index, clusters : ndarray of shape (n_moved,)
        In: the rows to add and the cluster each is added to.
    sign : float
        In: 1 adds, -1 subtracts.
    sums : ndarray of shape (n_clusters, n_features)
        In/out: the cluster sums, updated in place.
    """
    cdef Py_ssize_t r, f, i, c, n_features = X.shape[1]
    cdef bint weighted = weights is not None
    cdef double w = sign
    require(
        index.shape[0] == clusters.shape[0]
        and (not weighted or weights.shape[0] == X.shape[0])
        and sums.shape[1] == n_features,
        "index, clusters, weights and sums do not match X",
    )
    with nogil:
        for r in range(index.shape[0]):
            i = index[r]
            c = clusters[r]
            if weighted:
                w = sign * weights[i]
            for f in range(n_features):
                sums[c, f] += w * X[i, f]


cdef extern from *:
    """
    #if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    #include <immintrin.h>

    /* sums[labels[i]] += X[i] and sizes[labels[i]] += 1 for float32 rows,
       row after row, in double precision, with AVX2: a row's features four
       at a time, the last width % 4 one by one. Each sum still adds its
       rows in row order, so the sums are those of the plain loop of
       ``sum_rows_by_label`` bit for bit. */
    __attribute__((target("avx2")))
    static void skclust_sum_rows_avx2(
            const float *X, Py_ssize_t n_rows, Py_ssize_t width,
            const Py_ssize_t *labels, double *sums, Py_ssize_t *sizes) {
        const Py_ssize_t whole = width - width % 4;
        for (Py_ssize_t i = 0; i < n_rows; i++) {
            const float *x = X + i * width;
            double *s = sums + labels[i] * width;
            Py_ssize_t f = 0;
            for (; f < whole; f += 4)
                _mm256_storeu_pd(s + f, _mm256_add_pd(
                    _mm256_loadu_pd(s + f), _mm256_cvtps_pd(_mm_loadu_ps(x + f))));
            for (; f < width; f++) s[f] += (double) x[f];
            sizes[labels[i]]++;
        }
    }

    static int skclust_has_avx2(void) {
        static int known = -1;
        if (known < 0) {
            __builtin_cpu_init();
            known = __builtin_cpu_supports("avx2");
        }
        return known;
    }
    #else
    /* Never called: skclust_has_avx2() says there is no such loop. */
    static void skclust_sum_rows_avx2(
            const float *X, Py_ssize_t n_rows, Py_ssize_t width,
            const Py_ssize_t *labels, double *sums, Py_ssize_t *sizes) {}
    static int skclust_has_avx2(void) { return 0; }
    #endif
    """
    void skclust_sum_rows_avx2(
        const float *X, Py_ssize_t n_rows, Py_ssize_t width,
        const Py_ssize_t *labels, double *sums, Py_ssize_t *sizes,
    ) noexcept nogil
    int skclust_has_avx2() noexcept nogil


def sum_paths():
    """Names of the loops over float32 rows of ``sum_rows_by_label`` that
    this processor runs, the widest first."""
    return ("avx2", "plain") if skclust_has_avx2() else ("plain",)


def sum_rows_by_label(
    const floating[:, ::1] X,
    const Py_ssize_t[::1] labels,
    double[:, ::1] sums,
    Py_ssize_t[::1] sizes,
    str path="auto",
):
    """``sums[labels[i]] += X[i]`` and ``sizes[labels[i]] += 1`` for each row i.

    Rows are added in row order, in float64: the sums of
    ``add_weighted_rows`` with every row, unit weights, bit for bit. Without
    its index, weights and product, summing 32,768 rows of 32 float32
    features into 16 clusters took 0.20 ms instead of 0.28 (with the index
    and a ``bincount`` for the sizes). float32 rows of four features or more
    are added four features at a time with AVX2 where the processor has it
    (the module is compiled for the baseline instruction set, two doubles
    a vector): 8,192 rows of 32 features into 8 clusters took 33 us
    instead of 54 on one core of the benchmarks' Xeon. Each sum still
    adds its rows in row order, so both loops give the same sums bit for
    bit.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64
        In.
    labels : ndarray of shape (n_rows,)
        In: the cluster of each row, each in ``[0, n_clusters)`` (not
        checked).
    sums : ndarray of shape (n_clusters, n_features)
        In/out: the cluster sums, updated in place.
    sizes : ndarray of shape (n_clusters,)
        In/out: the rows in each cluster, updated in place.
    path : {"auto", "avx2", "plain"}, default="auto"
        In, for float32 rows: a name among ``sum_paths()`` takes that loop
        (tests compare them); float64 rows always take the plain loop.
    """
    cdef Py_ssize_t i, f, c, n_rows = X.shape[0], n_features = X.shape[1]
    require(
        labels.shape[0] == n_rows
        and sums.shape[1] == n_features
        and sizes.shape[0] == sums.shape[0],
        "labels, sums and sizes do not match X",
    )
    if path != "auto" and path not in sum_paths():
        raise ValueError(f"path {path!r} is not one of {sum_paths()}")
    if n_rows == 0 or n_features == 0:
        return
    # Below four features there is no whole vector to add.
    if floating is float and (
        path == "avx2"
        or (path == "auto" and n_features >= 4 and skclust_has_avx2())
    ):
        with nogil:
            skclust_sum_rows_avx2(
                &X[0, 0], n_rows, n_features, &labels[0], &sums[0, 0], &sizes[0]
            )
        return
    # The plain loop, which the compiler vectorizes for the baseline
    # instruction set (two doubles a vector).
    with nogil:
        for i in range(n_rows):
            c = labels[i]
            sizes[c] += 1
            for f in range(n_features):
                sums[c, f] += X[i, f]


def weighted_inertia(
    const floating[:, ::1] X,
    const double[::1] weights,
    const double[:, ::1] centers,
    const Py_ssize_t[::1] labels,
):
    """``sum_i weights[i] * |X[i] - centers[labels[i]]|^2``, from differences.

    All arguments are inputs.
    """
    cdef Py_ssize_t i, n_features = X.shape[1]
    cdef double total = 0.0
    require(
        weights.shape[0] == X.shape[0] and labels.shape[0] == X.shape[0]
        and centers.shape[1] == n_features,
        "weights, labels and centers do not match X",
    )
    with nogil:
        for i in range(X.shape[0]):
            total += weights[i] * cost(X, i, centers, labels[i], False)
    return total


def weighted_spread(
    const real_rows[:, ::1] X,
    const double[::1] weights,
    const double[:, ::1] center,
):
    """``sum_i weights[i] * |X[i] - center[0]|^2``, from differences.

    All arguments are inputs; ``center`` holds one row. One pass, with no
    temporary: ``X - center`` and its squares were two of the table's size,
    which a fit of 1,797 x 64 rows page-faulted in at every fit.
    """
    cdef Py_ssize_t i
    cdef double total = 0.0
    require(
        weights.shape[0] == X.shape[0]
        and center.shape[0] == 1
        and center.shape[1] == X.shape[1],
        "weights and center do not match X",
    )
    with nogil:
        for i in range(X.shape[0]):
            total += weights[i] * squared_distance(X, i, center, 0)
    return total
