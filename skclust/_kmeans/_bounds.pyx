# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Hamerly's bounded assignment step, fused into one pass over the points.

numpy needs about ten passes over all points per Lloyd iteration to apply the
bounds (gathers, comparisons, index lists); these kernels read each point once,
which is what makes the bounds pay off (see README, "Compiled kernels").

``bounded_assignment`` scans the points whose bounds fail against every center
from coordinate differences (few features). ``bounded_product_assignment``
gathers them into chunks and ranks the centers through one BLAS matrix product
per chunk, in single or double precision, then finds the nearest and second
nearest in two vectorized passes over each row of the product (many features,
squared Euclidean distance). ``half_gaps`` gives the center-to-center half
distances of Hamerly's test.
"""

from libc.float cimport DBL_EPSILON, DBL_MIN, FLT_EPSILON, FLT_MIN
from libc.math cimport INFINITY, fabs, sqrt
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport dgemm, sgemm

from ._kernels cimport cost, floating, real_rows, require, squared_distance


cdef class PointBounds:
    """The per-point state of an assignment step over one block of rows.

    Attributes
    ----------
    labels : ndarray of shape (n_samples,), intp
        In/out: each point's center.
    upper, lower : ndarray of shape (n_samples,), float64
        In/out: Hamerly's bounds on the distance to the point's own center
        and to every other center (``lower = -inf`` examines the point).
    out_index, out_previous : ndarray of shape (n_samples,), intp
        Out: the first entries list the points a step reports (see each
        step) and their labels before it.
    """

    cdef Py_ssize_t[::1] labels
    cdef double[::1] upper
    cdef double[::1] lower
    cdef Py_ssize_t[::1] out_index
    cdef Py_ssize_t[::1] out_previous

    def __init__(
        self, Py_ssize_t[::1] labels, double[::1] upper, double[::1] lower,
        Py_ssize_t[::1] out_index, Py_ssize_t[::1] out_previous,
    ):
        cdef Py_ssize_t n = labels.shape[0]
        require(
            upper.shape[0] == n and lower.shape[0] == n
            and out_index.shape[0] >= n and out_previous.shape[0] >= n,
            "every per-point array needs one entry per row of X",
        )
        self.labels = labels
        self.upper = upper
        self.lower = lower
        self.out_index = out_index
        self.out_previous = out_previous


cdef class CenterMoves:
    """How the centers moved since the bounds were last moved (all inputs).

    Attributes
    ----------
    shift : ndarray of shape (n_clusters,)
        Distance each center moved.
    half_gap : ndarray of shape (n_clusters,)
        Half the distance from each center to the nearest other one (see
        ``half_gaps``); ``-inf`` disables that test.
    fastest, largest, runner_up
        Derived here: the center that moved most, its shift, and the largest
        shift of the others (0 with one center).
    """

    cdef const double[::1] shift
    cdef const double[::1] half_gap
    cdef Py_ssize_t fastest
    cdef double largest
    cdef double runner_up

    def __init__(self, const double[::1] shift, const double[::1] half_gap):
        cdef Py_ssize_t j
        require(
            half_gap.shape[0] == shift.shape[0],
            "every per-center array needs one entry per center",
        )
        self.shift = shift
        self.half_gap = half_gap
        self.fastest = 0
        self.largest = -INFINITY
        self.runner_up = 0.0
        for j in range(shift.shape[0]):
            if shift[j] > self.largest:
                self.largest = shift[j]
                self.fastest = j
        for j in range(shift.shape[0]):
            if j != self.fastest and shift[j] > self.runner_up:
                self.runner_up = shift[j]
        if shift.shape[0] == 0:
            self.largest = 0.0


cdef class CenterBounds:
    """Elkan's lower bounds, one per point and center, kept lazily.

    A bound on the distance from point ``i`` to center ``j`` is stored as
    ``offset[i, j] = bound + traveled[j]``, where ``traveled`` is the
    cumulative shift of every center when it was set: the triangle
    inequality keeps ``offset[i, j] - traveled_now[j]`` a lower bound on
    the current distance. So no bound is written when the centers move, and
    a row is read only for a point whose Hamerly bounds fail.

    Attributes
    ----------
    offset : ndarray of shape (n_samples, n_clusters), float64
        In/out; not read while ``fresh``.
    traveled : ndarray of shape (n_clusters,), float64
        In: the cumulative shift of every center, summed in float64.
    fresh : bool
        In: the rows hold nothing yet (every point is scanned in full).
    steps : int
        In: the number of shifts summed into ``traveled``, which bounds its
        rounding.
    """

    cdef double[:, ::1] offset
    cdef const double[::1] traveled
    cdef bint fresh
    cdef Py_ssize_t steps

    def __init__(
        self, double[:, ::1] offset, const double[::1] traveled, bint fresh,
        Py_ssize_t steps,
    ):
        require(
            offset.shape[1] == traveled.shape[0],
            "center bounds need one column per center",
        )
        self.offset = offset
        self.traveled = traveled
        self.fresh = fresh
        self.steps = steps


cdef struct _Elkan:
    # The arrays of a CenterBounds, as the scan reads them; ``margin``
    # scales each bound's allowance for rounding.
    double *offset
    const double *traveled
    bint fresh
    bint used
    double margin


cdef struct _Step:
    # The arrays of a PointBounds and a CenterMoves, as the loops read them.
    Py_ssize_t *labels
    double *upper
    double *lower
    Py_ssize_t *out_index
    Py_ssize_t *out_previous
    const double *shift
    const double *half_gap
    Py_ssize_t fastest
    double largest
    double runner_up


cdef _Step _step_of(PointBounds state, CenterMoves moves):
    """Raw views of checked, non-empty arrays (empty ones are never read)."""
    cdef _Step st
    st.labels = &state.labels[0] if state.labels.shape[0] else NULL
    st.upper = &state.upper[0] if state.upper.shape[0] else NULL
    st.lower = &state.lower[0] if state.lower.shape[0] else NULL
    st.out_index = &state.out_index[0] if state.out_index.shape[0] else NULL
    st.out_previous = (
        &state.out_previous[0] if state.out_previous.shape[0] else NULL
    )
    st.shift = &moves.shift[0] if moves.shift.shape[0] else NULL
    st.half_gap = &moves.half_gap[0] if moves.half_gap.shape[0] else NULL
    st.fastest = moves.fastest
    st.largest = moves.largest
    st.runner_up = moves.runner_up
    return st


cdef inline double _moved_bounds(
    _Step st, Py_ssize_t i, Py_ssize_t own, double *up, double *low,
) noexcept nogil:
    """Point ``i``'s bounds moved by the last center shift (into ``up`` and
    ``low``); returns the bound its upper bound must stay below to keep its
    label: the larger of ``low`` and its center's half gap."""
    up[0] = st.upper[i] + st.shift[own]
    low[0] = st.lower[i] - (st.runner_up if own == st.fastest else st.largest)
    return low[0] if low[0] > st.half_gap[own] else st.half_gap[own]


cdef _check_step_shapes(
    Py_ssize_t n_samples, Py_ssize_t n_features, Py_ssize_t n_clusters,
    Py_ssize_t center_features, PointBounds state, CenterMoves moves,
):
    """The shape checks shared by the two assignment steps."""
    require(center_features == n_features, "centers and X differ in features")
    require(
        state.labels.shape[0] == n_samples,
        "every per-point array needs one entry per row of X",
    )
    require(
        moves.shift.shape[0] == n_clusters,
        "every per-center array needs one entry per center",
    )


cdef inline double _as_distance(double value, bint manhattan) noexcept nogil:
    return value if manhattan else sqrt(value)


cdef _Elkan _elkan_of(
    CenterBounds bounds, Py_ssize_t n_samples, Py_ssize_t n_clusters,
    Py_ssize_t n_features,
):
    """Raw views of checked arrays; ``used`` is false without bounds."""
    cdef _Elkan el
    el.used = bounds is not None and n_samples > 0 and n_clusters > 0
    if not el.used:
        return el
    require(
        bounds.offset.shape[0] == n_samples
        and bounds.offset.shape[1] == n_clusters,
        "center bounds need one row per point and one column per center",
    )
    el.offset = &bounds.offset[0, 0]
    el.traveled = &bounds.traveled[0]
    el.fresh = bounds.fresh
    # The rounding of a sum of ``steps`` shifts, of one addition and one
    # subtraction, and of a distance of ``n_features`` terms, with room.
    el.margin = 4.0 * (bounds.steps + n_features + 4) * DBL_EPSILON
    return el


cdef inline Py_ssize_t _filtered_scan(
    const real_rows[:, ::1] X, Py_ssize_t i, const double[:, ::1] centers,
    Py_ssize_t own, double own_cost, double up, bint manhattan, _Elkan el,
    double *bounds, double *upper, double *lower,
) noexcept nogil:
    """The nearest center of point ``i``, as a scan of every center finds it
    (ties to the lowest index), skipping the centers whose Elkan bound
    exceeds ``up``, the exact distance to its center ``own`` (cost
    ``own_cost``): they are farther.

    Each bound is lowered by ``el.margin`` times the size of its terms, more
    than their rounding. A center whose distance is computed gets a new
    bound: that distance. ``bounds`` is scratch space for one row. Out: the
    upper bound (exact distance to the nearest) and Hamerly's lower bound
    (the smallest bound of the others).

    The bounds are moved and the smallest found in loops without branches,
    which the compiler vectorizes: with one test per center in the loop
    that computes distances, a row of bounds cost about as much as the
    distances it saved with few features.
    """
    cdef Py_ssize_t j, n_clusters = centers.shape[0], best = own
    cdef double *row = el.offset + i * n_clusters
    cdef const double *traveled = el.traveled
    cdef double nearest = own_cost, value, other = INFINITY
    cdef double keep = 1.0 - el.margin, grow = 1.0 + el.margin
    if el.fresh:
        for j in range(n_clusters):
            bounds[j] = -INFINITY
    else:
        for j in range(n_clusters):
            bounds[j] = row[j] * keep - traveled[j] * grow
    bounds[own] = INFINITY
    for j in range(n_clusters):
        if bounds[j] <= up:
            value = cost(X, i, centers, j, manhattan)
            bounds[j] = _as_distance(value, manhattan)
            row[j] = bounds[j] + traveled[j]
            if value < nearest or (value == nearest and j < best):
                nearest = value
                best = j
    bounds[own] = up
    row[own] = up + traveled[own]
    bounds[best] = INFINITY
    for j in range(n_clusters):
        other = bounds[j] if bounds[j] < other else other
    upper[0] = _as_distance(nearest, manhattan)
    lower[0] = other
    return best


def bounded_assignment(
    const real_rows[:, ::1] X,
    const double[:, ::1] centers,
    PointBounds state not None,
    CenterMoves moves not None,
    bint manhattan,
    bint scan,
    CenterBounds center_bounds=None,
):
    """Move the bounds by the last center shift, then assign what may change.

    For each point with label ``a``: the upper bound grows by ``shift[a]`` and
    the lower bound shrinks by the largest shift of another center. A point is
    skipped when its upper bound is below ``max(lower, half_gap[a])``;
    otherwise the upper bound is tightened to the exact distance and the test
    repeated. A point that still fails is either scanned against every center
    here (``scan``; ties go to the lowest index) or listed in
    ``state.out_index`` for the caller to scan.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        In.
    centers : ndarray of shape (n_clusters, n_features)
        In.
    state : PointBounds
        In/out: labels and bounds; out: the listed points.
    moves : CenterMoves
        In.
    manhattan : bool
        In: L1 distance, else Euclidean.
    scan : bool
        In.
    center_bounds : CenterBounds, default=None
        In/out: with ``scan``, Elkan's bounds of the same points; a point
        whose Hamerly bounds fail is then compared only with the centers
        they do not rule out (``_filtered_scan``), with the same result.

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
    _check_step_shapes(
        n_samples, X.shape[1], n_clusters, centers.shape[1], state, moves
    )
    cdef _Step st = _step_of(state, moves)
    cdef _Elkan el = _elkan_of(center_bounds, n_samples, n_clusters, X.shape[1])
    cdef double own_cost
    cdef double *scratch = NULL
    if el.used:
        scratch = <double *> malloc(n_clusters * sizeof(double))
        if scratch == NULL:
            raise MemoryError()
    with nogil:
        for i in range(n_samples):
            own = st.labels[i]
            bound = _moved_bounds(st, i, own, &up, &low)
            if up < bound:
                st.upper[i] = up
                st.lower[i] = low
                continue
            own_cost = cost(X, i, centers, own, manhattan)
            up = _as_distance(own_cost, manhattan)
            st.upper[i] = up
            st.lower[i] = low
            if up < bound:
                continue
            if not scan:
                st.out_index[n_out] = i
                n_out += 1
                continue
            if el.used:
                best = _filtered_scan(
                    X, i, centers, own, own_cost, up, manhattan, el,
                    scratch, &st.upper[i], &st.lower[i],
                )
                st.labels[i] = best
                if best != own:
                    st.out_index[n_out] = i
                    st.out_previous[n_out] = own
                    n_out += 1
                continue
            best = 0
            nearest = INFINITY
            second = INFINITY
            # Costs are compared (no square root per center); only the two
            # kept are turned into distances.
            for j in range(n_clusters):
                dist = cost(X, i, centers, j, manhattan)
                if dist < nearest:
                    second = nearest
                    nearest = dist
                    best = j
                elif dist < second:
                    second = dist
            st.labels[i] = best
            st.upper[i] = _as_distance(nearest, manhattan)
            st.lower[i] = _as_distance(second, manhattan)
            if best != own:
                st.out_index[n_out] = i
                st.out_previous[n_out] = own
                n_out += 1
    free(scratch)
    return n_out


def half_gaps(const double[:, ::1] centers, bint manhattan, double[::1] out):
    """Half the distance from each center to the nearest other one.

    From coordinate differences, each pair once. Hamerly's test skips a point
    whose upper bound is below half this gap for its center. ``centers`` and
    ``manhattan`` are inputs; ``out`` (one entry per center) is the output.
    """
    cdef Py_ssize_t a, b, n_clusters = centers.shape[0]
    cdef double gap
    require(out.shape[0] == n_clusters, "out needs one entry per center")
    with nogil:
        for a in range(n_clusters):
            out[a] = INFINITY
        for a in range(n_clusters):
            for b in range(a + 1, n_clusters):
                if manhattan:
                    gap = cost(centers, a, centers, b, True)
                else:
                    gap = squared_distance(centers, a, centers, b)
                if gap < out[a]:
                    out[a] = gap
                if gap < out[b]:
                    out[b] = gap
        for a in range(n_clusters):
            out[a] = 0.5 * _as_distance(out[a], manhattan)


cdef inline double _term(double diff, bint manhattan) noexcept nogil:
    """One feature's share of ``cost``: ``|diff|`` or ``diff ** 2``."""
    return fabs(diff) if manhattan else diff * diff


def pairwise_cost(
    const floating[:, ::1] X,
    const double[:, ::1] centers,
    bint manhattan,
    double[:, ::1] out,
):
    """``cost`` from every row of ``X`` to every center, into ``out``: the
    Manhattan distance, or the squared Euclidean distance.

    Each cost is summed in feature order from float64 differences, as
    ``cost`` sums it (so a label ranked here equals the bounded steps'), but
    four centers at a time: four independent sums keep the processor busy
    where one waits on every addition. numpy needed three passes over an
    (n_centers x n_rows) array per feature; on k-means++ seeding of
    300,000 x 128 float32 rows, k = 16, L1, that was 3.96 s of an 11.6 s fit,
    and on 50,000 x 16 rows, k = 8, L2, 27 ms of a 47 ms fit.
    """
    cdef Py_ssize_t i, j, f, n_centers = centers.shape[0]
    cdef double x, t0, t1, t2, t3
    require(
        centers.shape[1] == X.shape[1]
        and out.shape[0] == X.shape[0]
        and out.shape[1] == n_centers,
        "rows, centers and out do not match",
    )
    with nogil:
        for i in range(X.shape[0]):
            j = 0
            while j + 4 <= n_centers:
                t0 = t1 = t2 = t3 = 0.0
                for f in range(X.shape[1]):
                    x = X[i, f]
                    t0 += _term(x - centers[j, f], manhattan)
                    t1 += _term(x - centers[j + 1, f], manhattan)
                    t2 += _term(x - centers[j + 2, f], manhattan)
                    t3 += _term(x - centers[j + 3, f], manhattan)
                out[i, j] = t0
                out[i, j + 1] = t1
                out[i, j + 2] = t2
                out[i, j + 3] = t3
                j += 4
            while j < n_centers:
                out[i, j] = cost(X, i, centers, j, manhattan)
                j += 1


def squares_from_products(
    double[:, ::1] product,
    const double[::1] row_norms,
    const double[::1] center_norms,
):
    """In place, ``product[i, j] = max(|x_i|^2 - 2 x_i.c_j + |c_j|^2, 0)``
    from ``product[i, j] = x_i.c_j``: squared distances from a matrix product.

    The operations are numpy's, in its order (``*= -2``, ``+= row_norms``,
    ``+= center_norms``, ``maximum(., 0)``; the product by -2 is exact), so
    the values are the same bits, in one pass instead of four, two of them
    broadcasts along a short axis: k-means++ ranks 2 + log k candidates at a
    time, and on 1,797 x 64 rows those passes took 20 us of a 90 us step.

    Parameters
    ----------
    product : ndarray of shape (n_samples, n_centers)
        In: the products; out: the squared distances.
    row_norms : ndarray of shape (n_samples,)
        In: ``|x_i|^2``.
    center_norms : ndarray of shape (n_centers,)
        In: ``|c_j|^2``.
    """
    cdef Py_ssize_t i, j, n_centers = product.shape[1]
    cdef double value, norm
    require(
        row_norms.shape[0] == product.shape[0]
        and center_norms.shape[0] == n_centers,
        "norms do not match the product",
    )
    with nogil:
        for i in range(product.shape[0]):
            norm = row_norms[i]
            for j in range(n_centers):
                value = product[i, j] * -2.0 + norm
                value = value + center_norms[j]
                # NaN stays NaN, as with numpy.maximum.
                if not (value >= 0.0 or value != value):
                    value = 0.0
                product[i, j] = value


cdef extern from *:
    """
    #include <math.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    /* v[j] += a[j] for the n values of type T, and the smallest sum, written
       once for float and double. SSE2 is part of x86-64: the vector sums
       (vector type VEC of W values, intrinsics suffix S) feed four running
       minima that overlap their comparisons. Elsewhere, one at a time. */
    #if defined(__SSE2__)
    #define SKCLUST_ADDED_MINIMA(VEC, W, S) \
        VEC m0 = _mm_set1_##S(INFINITY), m1 = m0, m2 = m0, m3 = m0, s0, s1, s2, s3; \
        for (; j + 4 * W <= n; j += 4 * W) { \
            s0 = _mm_add_##S(_mm_loadu_##S(v + j), _mm_loadu_##S(a + j)); \
            s1 = _mm_add_##S(_mm_loadu_##S(v + j + W), _mm_loadu_##S(a + j + W)); \
            s2 = _mm_add_##S(_mm_loadu_##S(v + j + 2 * W), _mm_loadu_##S(a + j + 2 * W)); \
            s3 = _mm_add_##S(_mm_loadu_##S(v + j + 3 * W), _mm_loadu_##S(a + j + 3 * W)); \
            _mm_storeu_##S(v + j, s0); \
            _mm_storeu_##S(v + j + W, s1); \
            _mm_storeu_##S(v + j + 2 * W, s2); \
            _mm_storeu_##S(v + j + 3 * W, s3); \
            m0 = _mm_min_##S(m0, s0); \
            m1 = _mm_min_##S(m1, s1); \
            m2 = _mm_min_##S(m2, s2); \
            m3 = _mm_min_##S(m3, s3); \
        } \
        _mm_storeu_##S(lanes, _mm_min_##S(_mm_min_##S(m0, m1), _mm_min_##S(m2, m3)));
    #else
    #define SKCLUST_ADDED_MINIMA(VEC, W, S)
    #endif

    #define SKCLUST_ADD_SMALLEST(T, VEC, W, S) \
        static T skclust_add_smallest_##T(T *v, const T *a, Py_ssize_t n) { \
            Py_ssize_t j = 0; \
            T m = INFINITY, lanes[4] = {INFINITY, INFINITY, INFINITY, INFINITY}; \
            SKCLUST_ADDED_MINIMA(VEC, W, S) \
            for (int l = 0; l < 4; l++) m = lanes[l] < m ? lanes[l] : m; \
            for (; j < n; j++) { v[j] += a[j]; m = v[j] < m ? v[j] : m; } \
            return m; \
        }

    SKCLUST_ADD_SMALLEST(float, __m128, 4, ps)
    SKCLUST_ADD_SMALLEST(double, __m128d, 2, pd)

    /* Index of the first of n values equal to their smallest, nearest (0
       if none), and in *second the smallest of the others: nearest again
       if it occurs twice. One pass: with SSE2, per vector, a comparison
       mask gives the matches, and the matches replaced by infinity feed
       four running minima, four vectors at a time; elsewhere, one value
       at a time. */
    #if defined(__SSE2__)
    #define SKCLUST_MATCHES_OFF(W, S, K) \
        x = _mm_loadu_##S(v + j + K * W); \
        eq = _mm_cmpeq_##S(x, t); \
        mask |= _mm_movemask_##S(eq) << (K * W); \
        m##K = _mm_min_##S(m##K, _mm_or_##S(_mm_and_##S(eq, inf), _mm_andnot_##S(eq, x)));
    #define SKCLUST_FIRST_AND_SECOND_VECTORS(VEC, W, S) \
        VEC t = _mm_set1_##S(nearest), inf = _mm_set1_##S(INFINITY); \
        VEC m0 = inf, m1 = inf, m2 = inf, m3 = inf, x, eq; \
        for (; j + 4 * W <= n; j += 4 * W) { \
            int mask = 0; \
            SKCLUST_MATCHES_OFF(W, S, 0) \
            SKCLUST_MATCHES_OFF(W, S, 1) \
            SKCLUST_MATCHES_OFF(W, S, 2) \
            SKCLUST_MATCHES_OFF(W, S, 3) \
            if (mask) { \
                if (first < 0) first = j + __builtin_ctz(mask); \
                matches += __builtin_popcount(mask); \
            } \
        } \
        _mm_storeu_##S(lanes, _mm_min_##S(_mm_min_##S(m0, m1), _mm_min_##S(m2, m3))); \
        for (int l = 0; l < W; l++) other = lanes[l] < other ? lanes[l] : other;
    #else
    #define SKCLUST_FIRST_AND_SECOND_VECTORS(VEC, W, S)
    #endif

    #define SKCLUST_FIRST_AND_SECOND(T, VEC, W, S) \
        static Py_ssize_t skclust_first_and_second_##T( \
                const T *v, Py_ssize_t n, T nearest, T *second) { \
            Py_ssize_t j = 0, first = -1, matches = 0; \
            T other = INFINITY, lanes[W]; \
            SKCLUST_FIRST_AND_SECOND_VECTORS(VEC, W, S) \
            for (; j < n; j++) { \
                if (v[j] == nearest) { \
                    if (first < 0) first = j; \
                    matches++; \
                } else if (v[j] < other) other = v[j]; \
            } \
            *second = matches > 1 ? nearest : other; \
            return first < 0 ? 0 : first; \
        }

    SKCLUST_FIRST_AND_SECOND(float, __m128, 4, ps)
    SKCLUST_FIRST_AND_SECOND(double, __m128d, 2, pd)
    """
    void __builtin_prefetch(const void *address) noexcept nogil
    float skclust_add_smallest_float(
        float *values, const float *added, Py_ssize_t n) noexcept nogil
    double skclust_add_smallest_double(
        double *values, const double *added, Py_ssize_t n) noexcept nogil
    Py_ssize_t skclust_first_and_second_float(
        const float *values, Py_ssize_t n, float nearest, float *second
    ) noexcept nogil
    Py_ssize_t skclust_first_and_second_double(
        const double *values, Py_ssize_t n, double nearest, double *second
    ) noexcept nogil


cdef inline floating _add_smallest(
    floating *values, const floating *added, Py_ssize_t n,
) noexcept nogil:
    """Add ``added`` to ``values`` in place; returns the smallest sum.

    Vectorized in C: with one running minimum, each comparison waits for the
    previous one, and this pass over each row of the product took as long
    as the single-precision product itself.
    """
    if floating is float:
        return skclust_add_smallest_float(values, added, n)
    else:
        return skclust_add_smallest_double(values, added, n)


cdef inline Py_ssize_t _first_and_second(
    const floating *values, Py_ssize_t n, floating nearest, double *second,
) noexcept nogil:
    """Index of the first of ``values`` equal to their smallest, ``nearest``,
    and the smallest of the others in ``second``; one vectorized pass in C,
    as ``_add_smallest``."""
    cdef floating other
    cdef Py_ssize_t first
    if floating is float:
        first = skclust_first_and_second_float(values, n, nearest, &other)
    else:
        first = skclust_first_and_second_double(values, n, nearest, &other)
    second[0] = other
    return first


cdef inline Py_ssize_t _nearest_exactly(
    const real_rows[:, ::1] X, Py_ssize_t i, const double[:, ::1] centers,
    const floating *values, double threshold, double offset,
    double *nearest, double *other, Py_ssize_t *n_exact,
) noexcept nogil:
    """Nearest center, from coordinate differences, among those ranked
    ``<= threshold``; ties go to the lowest index.

    Out: its squared distance (``nearest``), and a lower bound on the squared
    distance to every other center (``other``): the exact one of those
    examined, ``value + offset`` of the others. ``n_exact`` counts the
    distances computed.
    """
    cdef Py_ssize_t j, best = 0
    cdef double value, smallest = INFINITY, runner = INFINITY
    cdef double unexamined = INFINITY
    for j in range(centers.shape[0]):
        if values[j] <= threshold:
            value = squared_distance(X, i, centers, j)
            n_exact[0] += 1
            if value < smallest:
                runner = min(runner, smallest)
                smallest = value
                best = j
            else:
                runner = min(runner, value)
        else:
            unexamined = min(unexamined, values[j] + offset)
    nearest[0] = smallest
    # Less the rounding of a sum of squares: a bound, not an estimate.
    runner *= 1.0 - 2.0 * (X.shape[1] + 2) * DBL_EPSILON
    other[0] = min(runner, unexamined)
    return best


cdef Py_ssize_t _chunk_size(
    Py_ssize_t[::1] counts, Py_ssize_t chunk_rows, Py_ssize_t n_samples,
):
    """Rows per chunk of a product kernel (0 without rows); zeroes its counts."""
    counts[0] = 0
    counts[1] = 0
    return max(1, min(chunk_rows, n_samples)) if n_samples else 0


cdef struct _Scratch:
    # The work arrays of a product kernel: gathered rows, their product with
    # the centers, and the indices of the rows ranked.
    void *gathered
    void *product
    Py_ssize_t *ranked


cdef int _allocate(
    _Scratch *scratch, Py_ssize_t chunk_rows, Py_ssize_t row_length,
    Py_ssize_t n_clusters, size_t item_size,
) except -1:
    """Work arrays for chunks of ``chunk_rows`` rows; MemoryError if none."""
    with nogil:
        scratch.gathered = malloc(chunk_rows * row_length * item_size)
        scratch.product = malloc(chunk_rows * n_clusters * item_size)
        scratch.ranked = <Py_ssize_t *> malloc(chunk_rows * sizeof(Py_ssize_t))
    if scratch.gathered == NULL or scratch.product == NULL or scratch.ranked == NULL:
        _release(scratch)
        raise MemoryError()
    return 0


cdef void _release(_Scratch *scratch) noexcept nogil:
    free(scratch.gathered)
    free(scratch.product)
    free(scratch.ranked)


cdef inline const floating *_chunk_of(
    const real_rows[:, ::1] X, Py_ssize_t start, Py_ssize_t stop,
    const Py_ssize_t *ranked, Py_ssize_t n_ranked, floating *gathered,
) noexcept nogil:
    """The ``ranked`` rows of ``X`` in the precision of the ranking: the
    rows ``start:stop`` themselves when all are ranked and already in that
    precision, else gathered (and converted: a float32 copy of a float64
    table would cost half its memory)."""
    cdef Py_ssize_t r, f, n_features = X.shape[1]
    if n_ranked == stop - start and (
        (real_rows is float and floating is float)
        or (real_rows is double and floating is double)
    ):
        return <const floating *> &X[start, 0]
    for r in range(n_ranked):
        for f in range(n_features):
            gathered[r * n_features + f] = <floating> X[ranked[r], f]
    return gathered


cdef inline void _rank_centers(
    const floating *rows, int n_rows, const floating *centers,
    int n_clusters, int n_features, floating *out,
) noexcept nogil:
    """``out[r, j] = -2 rows[r] . c_j``, row-major (n_rows, n_clusters).

    In BLAS's column-major terms, ``centers^T rows`` of shape (n_clusters,
    n_rows). The caller adds ``|c_j|^2`` in its first pass over each row
    (``_add_smallest``): no copy of the norms into ``out`` for BLAS to read.
    """
    cdef char transpose = b"T"
    cdef char keep = b"N"
    cdef floating alpha = -2.0, beta = 0.0
    if floating is float:
        sgemm(
            &transpose, &keep, &n_clusters, &n_rows, &n_features, &alpha,
            <float *> centers, &n_features, <float *> rows, &n_features, &beta,
            out, &n_clusters,
        )
    else:
        dgemm(
            &transpose, &keep, &n_clusters, &n_rows, &n_features, &alpha,
            <double *> centers, &n_features, <double *> rows, &n_features, &beta,
            out, &n_clusters,
        )


cdef inline void _prefetch_row(const void *row, Py_ssize_t n_bytes) noexcept nogil:
    cdef Py_ssize_t offset = 0
    while offset < n_bytes:
        __builtin_prefetch(<const char *> row + offset)
        offset += 64


cdef inline Py_ssize_t _rows_to_rank(
    const real_rows[:, ::1] X, const double[:, ::1] centers, _Step st,
    Py_ssize_t start, Py_ssize_t stop, Py_ssize_t *ranked,
) noexcept nogil:
    """Move the bounds of rows ``start:stop`` and tighten the upper bounds
    that fail; lists in ``ranked`` the rows whose bounds still fail and
    returns their number."""
    cdef Py_ssize_t i, own, n_ranked = 0
    cdef Py_ssize_t ahead = 4 if X.shape[1] * sizeof(real_rows) >= 128 else 0
    cdef double up, low, bound
    for i in range(start, stop):
        # Most rows are read: the row a few ahead is on its way meanwhile
        # (the load of each row was a fifth of this pass on 64 features).
        if ahead and i + ahead < X.shape[0]:
            _prefetch_row(&X[i + ahead, 0], X.shape[1] * sizeof(real_rows))
        own = st.labels[i]
        bound = _moved_bounds(st, i, own, &up, &low)
        st.lower[i] = low
        if up < bound:
            st.upper[i] = up
            continue
        up = sqrt(squared_distance(X, i, centers, own))
        st.upper[i] = up
        if up < bound:
            continue
        ranked[n_ranked] = i
        n_ranked += 1
    return n_ranked


cdef double _largest_norm(const double[:, ::1] centers):
    """The largest Euclidean norm of the rows of ``centers``, rounded up: a
    rounding bound must not rest on the rounding of this norm."""
    cdef Py_ssize_t j, f, n_features = centers.shape[1]
    cdef double value, largest = 0.0
    for j in range(centers.shape[0]):
        value = 0.0
        for f in range(n_features):
            value += centers[j, f] * centers[j, f]
        largest = max(largest, value)
    return sqrt(largest) * (1.0 + 4.0 * (n_features + 2) * DBL_EPSILON)


cdef inline double _ranking_error(
    double relative, double underflow, double largest, double norm2,
    Py_ssize_t n_features,
) noexcept nogil:
    """Bound on ``|value - exact|`` of every center's ranked value, plus the
    rounding of ``|x|^2`` (float64) and of inputs flushed to zero (see
    ``bounded_product_assignment``)."""
    return (
        relative * largest * (sqrt(norm2) + largest)
        + 4.0 * (n_features + 2) * DBL_EPSILON * norm2
        + underflow * (sqrt(norm2) + largest + 1.0)
    )


cdef inline void _record(
    _Step st, Py_ssize_t i, Py_ssize_t best, double other, Py_ssize_t *n_out,
) noexcept nogil:
    """Point ``i``'s new label ``best`` (listed if it changed) and its lower
    bound, from ``other``, a bound on its squared distance to the others."""
    cdef Py_ssize_t own = st.labels[i]
    if best != own:
        st.labels[i] = best
        st.out_index[n_out[0]] = i
        st.out_previous[n_out[0]] = own
        n_out[0] += 1
    st.lower[i] = sqrt(other) if other > 0.0 else 0.0


ctypedef fused ranked_rows:
    # The precision of the rows a product kernel ranks (the rows of X, or
    # their projections), independent of X's and of the ranking's.
    float
    double


cdef Py_ssize_t _rank_chunk(
    const real_rows[:, ::1] X, const double[:, ::1] centers, _Step st,
    const ranked_rows[:, ::1] source, const floating *centers_ranked,
    Py_ssize_t n_clusters, Py_ssize_t start, Py_ssize_t stop, _Scratch *scratch,
) noexcept nogil:
    """One chunk of a product kernel: the bounds of rows ``start:stop`` of
    ``X`` moved and tested (``_rows_to_rank``), then the failing rows of
    ``source`` ranked against ``centers_ranked`` into ``scratch.product``
    (``_rank_centers``). Returns the number of rows ranked, listed in
    ``scratch.ranked``."""
    cdef Py_ssize_t n_ranked = _rows_to_rank(X, centers, st, start, stop, scratch.ranked)
    cdef const floating *rows
    if n_ranked:
        rows = _chunk_of(
            source, start, stop, scratch.ranked, n_ranked,
            <floating *> scratch.gathered,
        )
        _rank_centers(
            rows, <int> n_ranked, centers_ranked, <int> n_clusters,
            <int> source.shape[1], <floating *> scratch.product,
        )
    return n_ranked


def bounded_product_assignment(
    const real_rows[:, ::1] X,
    const double[::1] squared_norms,
    const double[:, ::1] centers,
    const floating[:, ::1] centers_ranked,
    const floating[::1] center_squared_norms,
    Py_ssize_t chunk_rows,
    PointBounds state not None,
    CenterMoves moves not None,
    Py_ssize_t[::1] counts,
):
    """Bounded L2 assignment, ranking the centers of failing points by BLAS.

    The bounds move and are tested as in ``bounded_assignment``. Points whose
    bounds still fail are taken ``chunk_rows`` at a time (copied together
    unless the whole chunk fails); one matrix product gives ``-2 x.c`` for all
    their centers, added to ``|c|^2``, and two vectorized passes over each row
    find the smallest and second smallest value, as scikit-learn's Lloyd
    ranks centers.

    The ranking may be computed in single precision: the labels are still
    those of exact arithmetic. Each ranked value is within a bound ``e`` of
    the exact ``|c|^2 - 2 x.c``, from the rounding of the inputs and of a
    dot product of ``n_features`` terms (``e = 2 (n_features + 4) eps (|x|
    max|c| + max|c|^2)``, twice the textbook bound). When the second smallest
    value is within ``2 e`` of the smallest, the candidates within ``2 e``
    are compared by exact distances (coordinate differences). The upper
    bound of a ranked point is its exact distance to its center; the lower
    bound comes from the smallest value of the other centers less ``e``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        In.
    squared_norms : ndarray of shape (n_samples,) or None
        In: ``|x|^2`` of every row of ``X`` (in memory, computed once per
        fit), or None to sum it in float64 for the ranked rows only (rows
        read in blocks, seen once per pass: no pass over the rows whose
        bounds hold).
    centers : ndarray of shape (n_clusters, n_features)
        In.
    centers_ranked : ndarray of shape (n_clusters, n_features)
        In: ``centers`` in the precision of the ranking, float32 or float64;
        the rows of ``X`` are rounded to it chunk by chunk.
    center_squared_norms : ndarray of shape (n_clusters,)
        In: ``|c|^2``, computed in float64, in the precision of the ranking.
    chunk_rows : int
        In: rows per matrix product.
    state : PointBounds
        In/out: labels and bounds; out: the points that changed label and
        their old labels.
    moves : CenterMoves
        In.
    counts : ndarray of shape (2,)
        Out: the number of points ranked and, of those, the number
        re-examined by exact distances, from which the caller sees when
        single precision stops paying.

    Returns
    -------
    int
        The number of points that changed label.
    """
    cdef Py_ssize_t n_samples = X.shape[0], n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = centers.shape[0]
    cdef Py_ssize_t i, j, r, best, start, stop, n_ranked, n_out = 0
    cdef Py_ssize_t total_ranked = 0, total_rechecked = 0
    _check_step_shapes(
        n_samples, n_features, n_clusters, centers.shape[1], state, moves
    )
    cdef bint norms_given = squared_norms is not None
    require(
        (not norms_given or squared_norms.shape[0] == n_samples)
        and centers_ranked.shape[0] == n_clusters
        and centers_ranked.shape[1] == n_features
        and center_squared_norms.shape[0] == n_clusters
        and counts.shape[0] >= 2,
        "squared norms, ranked centers or counts do not match X and centers",
    )
    cdef double nearest, second, other, error, exact, norm2
    cdef double relative, underflow, largest = 0.0
    cdef Py_ssize_t n_exact = 0
    cdef _Step st = _step_of(state, moves)
    cdef floating *values
    cdef _Scratch scratch
    chunk_rows = _chunk_size(counts, chunk_rows, n_samples)
    if chunk_rows == 0:
        return 0
    largest = _largest_norm(centers)
    if floating is float:
        relative = 2.0 * (n_features + 4) * FLT_EPSILON
        underflow = 2.0 * n_features * FLT_MIN
    else:
        relative = 2.0 * (n_features + 4) * DBL_EPSILON
        underflow = 2.0 * n_features * DBL_MIN
    _allocate(&scratch, chunk_rows, n_features, n_clusters, sizeof(floating))
    with nogil:
        start = 0
        while start < n_samples:
            stop = min(start + chunk_rows, n_samples)
            n_ranked = _rank_chunk(
                X, centers, st, X, &centers_ranked[0, 0], n_clusters, start,
                stop, &scratch,
            )
            total_ranked += n_ranked
            for r in range(n_ranked):
                i = scratch.ranked[r]
                values = &(<floating *> scratch.product)[r * n_clusters]
                nearest = _add_smallest(
                    values, &center_squared_norms[0], n_clusters
                )
                best = _first_and_second(
                    values, n_clusters, <floating> nearest, &second
                )
                if norms_given:
                    norm2 = squared_norms[i]
                else:
                    norm2 = 0.0
                    for j in range(n_features):
                        norm2 += (<double> X[i, j]) * (<double> X[i, j])
                error = _ranking_error(
                    relative, underflow, largest, norm2, n_features
                )
                other = second + norm2 - error
                if second - nearest <= 2.0 * error:
                    total_rechecked += 1
                    best = _nearest_exactly(
                        X, i, centers, values, nearest + 2.0 * error,
                        norm2 - error, &exact, &other, &n_exact,
                    )
                if best != st.labels[i]:
                    st.upper[i] = sqrt(squared_distance(X, i, centers, best))
                _record(st, i, best, other, &n_out)
            start = stop
        _release(&scratch)
    counts[0] = total_ranked
    counts[1] = total_rechecked
    return n_out


def projected_product_assignment(
    const real_rows[:, ::1] X,
    const float[:, ::1] projected,
    const double[::1] projected_squared_norms,
    const double[:, ::1] centers,
    const double[:, ::1] centers_projected,
    const float[:, ::1] centers_ranked,
    const float[::1] center_squared_norms,
    double basis_error,
    Py_ssize_t chunk_rows,
    PointBounds state not None,
    CenterMoves moves not None,
    Py_ssize_t[::1] counts,
):
    """Bounded L2 assignment, ranking centers by a lower bound in few dimensions.

    As ``bounded_product_assignment``, but the matrix product of the points
    whose bounds fail is taken in ``m = r + 1`` dimensions instead of
    ``n_features``. With ``V = [P Q]`` an orthonormal basis, ``P`` its first
    ``r`` columns, a point ``x`` is stored as ``x' = (P^T x, |Q^T x|)`` and a
    center as ``c' = (P^T c, |Q^T c|)``. Then ``|x - c|^2 = |P^T (x - c)|^2 +
    |Q^T (x - c)|^2 >= |x' - c'|^2`` (triangle inequality on the last
    coordinate): the single-precision ranking of ``|x' - c'|^2``, less a
    bound ``e`` on its rounding, is a lower bound on every squared distance.
    Only centers whose lower bound is at most the exact distance ``D``
    (coordinate differences, float64) to the point's own center can be as
    near: when no other center's is, the point keeps its center (the
    usual case, decided in the pass that adds ``|c'|^2``). Otherwise ``D``
    is lowered to the exact distance of the center ranked first if nearer,
    and every center whose bound is at most ``D`` is compared exactly (ties
    to the lowest index). The labels are those of the exact comparison of
    all centers; the work per point is ``m x n_clusters`` multiply-adds
    plus ``n_features`` per exact distance.

    ``e`` is the rounding bound of ``bounded_product_assignment`` in ``m``
    dimensions, plus the rounding of ``x'`` to single precision
    (``eps |x'| (|x'| + max|c'|)``) and ``basis_error (|x'| + max|c'|)^2``
    for the basis (not exactly orthonormal) and the float64 computation of
    ``x'`` and ``c'``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        In.
    projected : ndarray of shape (n_samples, m), float32
        In: ``x'`` of every row of ``X``, computed in float64 and rounded.
    projected_squared_norms : ndarray of shape (n_samples,)
        In: ``|x'|^2`` of the rows of ``projected``, in float64.
    centers : ndarray of shape (n_clusters, n_features)
        In.
    centers_projected : ndarray of shape (n_clusters, m)
        In: ``c'``, float64.
    centers_ranked : ndarray of shape (n_clusters, m), float32
        In: ``c'`` rounded.
    center_squared_norms : ndarray of shape (n_clusters,), float32
        In: ``|c'|^2``, computed in float64 and rounded.
    basis_error : float
        In: relative error allowed for the basis and the float64 products.
    chunk_rows : int
        In: rows per matrix product.
    state : PointBounds
        In/out: labels and bounds; out: the points that changed label and
        their old labels.
    moves : CenterMoves
        In.
    counts : ndarray of shape (2,)
        Out: the number of points ranked, and the number of exact distances
        computed beyond one per ranked point, from which the caller sees
        when the projection stops paying.

    Returns
    -------
    int
        The number of points that changed label.
    """
    cdef Py_ssize_t n_samples = X.shape[0], n_features = X.shape[1]
    cdef Py_ssize_t n_clusters = centers.shape[0], m = projected.shape[1]
    cdef Py_ssize_t i, r, own, best, start, stop, n_ranked, n_out = 0
    cdef Py_ssize_t total_ranked = 0, n_exact = 0
    _check_step_shapes(
        n_samples, n_features, n_clusters, centers.shape[1], state, moves
    )
    require(
        projected.shape[0] == n_samples
        and projected_squared_norms.shape[0] == n_samples
        and centers_projected.shape[0] == n_clusters
        and centers_projected.shape[1] == m
        and centers_ranked.shape[0] == n_clusters
        and centers_ranked.shape[1] == m
        and center_squared_norms.shape[0] == n_clusters
        and counts.shape[0] >= 2,
        "projected rows, projected centers or counts do not match X and centers",
    )
    cdef double own_value, second, other, error, exact, first, norm2, size
    cdef double threshold
    cdef double largest, relative, underflow
    # The rounding of an exact squared distance.
    cdef double exact_rounding = 1.0 + 2.0 * (n_features + 2) * DBL_EPSILON
    cdef _Step st = _step_of(state, moves)
    cdef float *values
    cdef _Scratch scratch
    chunk_rows = _chunk_size(counts, chunk_rows, n_samples)
    if chunk_rows == 0:
        return 0
    largest = _largest_norm(centers_projected)
    relative = 2.0 * (m + 4) * FLT_EPSILON
    underflow = 2.0 * m * FLT_MIN
    _allocate(&scratch, chunk_rows, m, n_clusters, sizeof(float))
    with nogil:
        start = 0
        while start < n_samples:
            stop = min(start + chunk_rows, n_samples)
            n_ranked = _rank_chunk(
                X, centers, st, projected, &centers_ranked[0, 0], n_clusters,
                start, stop, &scratch,
            )
            total_ranked += n_ranked
            for r in range(n_ranked):
                i = scratch.ranked[r]
                own = st.labels[i]
                values = &(<float *> scratch.product)[r * n_clusters]
                # Most points keep their center: the smallest value of the
                # others, in the same pass that adds the norms, tells.
                own_value = values[own] + center_squared_norms[own]
                values[own] = INFINITY
                second = _add_smallest(
                    values, &center_squared_norms[0], n_clusters
                )
                values[own] = <float> own_value
                norm2 = projected_squared_norms[i]
                size = sqrt(norm2) * (1.0 + FLT_EPSILON) + largest
                error = (
                    _ranking_error(relative, underflow, largest, norm2, m)
                    + FLT_EPSILON * (1.0 + FLT_EPSILON) * sqrt(norm2) * size
                    + basis_error * size * size
                )
                # The upper bound of a ranked point was just tightened to its
                # exact distance; a center as near ranks at most here.
                exact = st.upper[i] * st.upper[i]
                threshold = exact * exact_rounding - norm2 + error
                best = own
                other = second + norm2 - error
                if second <= threshold:
                    # Another center may be nearer: the one ranked first,
                    # whose exact distance may bound the search tighter.
                    best = _first_and_second(
                        values, n_clusters, <float> min(second, own_value),
                        &second,
                    )
                    if best != own:
                        first = squared_distance(X, i, centers, best)
                        if first < exact:
                            exact = first
                            threshold = exact * exact_rounding - norm2 + error
                    other = second + norm2 - error
                    if second <= threshold:
                        best = _nearest_exactly(
                            X, i, centers, values, threshold, norm2 - error,
                            &exact, &other, &n_exact,
                        )
                        n_exact -= 1
                st.upper[i] = sqrt(exact)
                _record(st, i, best, other, &n_out)
            start = stop
        _release(&scratch)
    counts[0] = total_ranked
    counts[1] = n_exact
    return n_out
