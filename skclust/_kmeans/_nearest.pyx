# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Nearest center of float32 rows, ranked and compared in registers.

``Euclidean32`` ranks centers by ``|c|^2 - 2 x.c``. Through BLAS that is a
(rows x centers) matrix written to memory, then read again for the argmin;
for the narrow rows of product quantization (subvectors of 4 to 32 values)
the product itself is cheap and those two trips through memory took most of
the time (a fit of 65,536 x 128 rows, 8 x 256 centroids, 25 iterations: 11 s
against faiss's 6 s). Here four rows at a time are ranked against sixteen
centers held in vector registers, and a running minimum per lane keeps the
best center, so nothing but the labels leaves the registers.

x86-64 processors with AVX-512 take a loop of eight rows against
thirty-two centers (sixteen where there are no more), those with AVX2 and
FMA the loop of four rows against sixteen, chosen at run time (the module itself is compiled for the baseline
instruction set); others a plain loop that the compiler vectorizes as it
can. On the 2-core Xeon of the benchmarks, one core ranking 1,000,000 rows
of 64 features against 256 centers took 0.22 s with AVX-512, 0.43 s with
AVX2 and 0.70 s through a float32 BLAS product and an argmin.
"""

from libc.stdlib cimport free, malloc

from ._kernels cimport require


cdef extern from *:
    """
    #include <math.h>
    #include <stddef.h>

    /* Plain version: one row at a time through a scratch row of n_padded
       ranks. */
    static void skclust_nearest_plain(
            const float *X, Py_ssize_t n_rows, Py_ssize_t stride,
            Py_ssize_t width, const float *ct, const float *norms,
            Py_ssize_t n_padded, float *scratch, Py_ssize_t *labels,
            float *best) {
        for (Py_ssize_t i = 0; i < n_rows; i++) {
            const float *x = X + i * stride;
            for (Py_ssize_t j = 0; j < n_padded; j++) scratch[j] = norms[j];
            for (Py_ssize_t f = 0; f < width; f++) {
                const float v = x[f];
                const float *c = ct + f * n_padded;
                for (Py_ssize_t j = 0; j < n_padded; j++) scratch[j] += v * c[j];
            }
            float b = scratch[0];
            Py_ssize_t at = 0;
            for (Py_ssize_t j = 1; j < n_padded; j++) {
                if (scratch[j] < b) {
                    b = scratch[j];
                    at = j;
                }
            }
            labels[i] = at;
            best[i] = b;
        }
    }

    #if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    #include <immintrin.h>

    /* Smallest of eight lanes, in every lane. */
    __attribute__((target("avx2,fma")))
    static inline __m256 skclust_min_ps(__m256 v) {
        v = _mm256_min_ps(v, _mm256_permute2f128_ps(v, v, 1));
        v = _mm256_min_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
        return _mm256_min_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    }

    /* Smallest of eight integer lanes, in every lane. */
    __attribute__((target("avx2,fma")))
    static inline __m256i skclust_min_epi32(__m256i v) {
        v = _mm256_min_epi32(v, _mm256_permute2x128_si256(v, v, 1));
        v = _mm256_min_epi32(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
        return _mm256_min_epi32(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    }

    /* The lowest index of the smallest value among sixteen lanes (two
       registers of values, two of their indices), without leaving the
       registers: the smallest value, then the lowest index among the lanes
       that hold it (equal values differ at most in the sign of a zero).
       No lane holds NaN: a lane only takes a value smaller than its own.
       Stored and compared lane by lane, with a branch per lane, this took
       2.3 ms of the 3.7 ms of ranking 100,000 rows of 32 features against
       16 centers on one core: the branches mispredict. */
    __attribute__((target("avx2,fma")))
    static inline void skclust_best_of_lanes(
            __m256 low_value, __m256 high_value, __m256i low_index,
            __m256i high_index, float *best, Py_ssize_t *label) {
        const __m256 smallest = skclust_min_ps(_mm256_min_ps(low_value, high_value));
        const __m256 none = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
        const __m256 low = _mm256_blendv_ps(
            none, _mm256_castsi256_ps(low_index),
            _mm256_cmp_ps(low_value, smallest, _CMP_EQ_OQ));
        const __m256 high = _mm256_blendv_ps(
            none, _mm256_castsi256_ps(high_index),
            _mm256_cmp_ps(high_value, smallest, _CMP_EQ_OQ));
        const __m256i at = skclust_min_epi32(_mm256_min_epi32(
            _mm256_castps_si256(low), _mm256_castps_si256(high)));
        *best = _mm256_cvtss_f32(smallest);
        *label = _mm256_cvtsi256_si32(at);
    }

    /* Four rows against sixteen centers per step: eight accumulators, two
       loads of centers and four broadcasts per feature. */
    __attribute__((target("avx2,fma")))
    static void skclust_nearest_avx2(
            const float *X, Py_ssize_t n_rows, Py_ssize_t stride,
            Py_ssize_t width, const float *ct, const float *norms,
            Py_ssize_t n_padded, Py_ssize_t *labels, float *best) {
        const __m256i step = _mm256_set1_epi32(8);
        for (Py_ssize_t i = 0; i < n_rows; i += 4) {
            const Py_ssize_t n_here = n_rows - i < 4 ? n_rows - i : 4;
            const float *x[4];
            for (int r = 0; r < 4; r++)
                x[r] = X + (i + (r < n_here ? r : 0)) * stride;
            __m256 low_value[4], high_value[4];
            __m256i low_index[4], high_index[4];
            for (int r = 0; r < 4; r++) {
                low_value[r] = high_value[r] = _mm256_set1_ps(INFINITY);
                low_index[r] = high_index[r] = _mm256_setzero_si256();
            }
            __m256i low_at = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            for (Py_ssize_t j = 0; j < n_padded; j += 16) {
                const __m256i high_at = _mm256_add_epi32(low_at, step);
                const __m256 n0 = _mm256_loadu_ps(norms + j);
                const __m256 n1 = _mm256_loadu_ps(norms + j + 8);
                __m256 a0 = n0, a1 = n0, a2 = n0, a3 = n0;
                __m256 b0 = n1, b1 = n1, b2 = n1, b3 = n1;
                const float *c = ct + j;
                for (Py_ssize_t f = 0; f < width; f++, c += n_padded) {
                    const __m256 c0 = _mm256_loadu_ps(c);
                    const __m256 c1 = _mm256_loadu_ps(c + 8);
                    __m256 v = _mm256_broadcast_ss(x[0] + f);
                    a0 = _mm256_fmadd_ps(v, c0, a0);
                    b0 = _mm256_fmadd_ps(v, c1, b0);
                    v = _mm256_broadcast_ss(x[1] + f);
                    a1 = _mm256_fmadd_ps(v, c0, a1);
                    b1 = _mm256_fmadd_ps(v, c1, b1);
                    v = _mm256_broadcast_ss(x[2] + f);
                    a2 = _mm256_fmadd_ps(v, c0, a2);
                    b2 = _mm256_fmadd_ps(v, c1, b2);
                    v = _mm256_broadcast_ss(x[3] + f);
                    a3 = _mm256_fmadd_ps(v, c0, a3);
                    b3 = _mm256_fmadd_ps(v, c1, b3);
                }
                __m256 low[4] = {a0, a1, a2, a3}, high[4] = {b0, b1, b2, b3};
                for (int r = 0; r < 4; r++) {
                    /* Strictly smaller: each lane keeps its first minimum. */
                    __m256 less = _mm256_cmp_ps(low[r], low_value[r], _CMP_LT_OQ);
                    low_value[r] = _mm256_blendv_ps(low_value[r], low[r], less);
                    low_index[r] = _mm256_castps_si256(_mm256_blendv_ps(
                        _mm256_castsi256_ps(low_index[r]),
                        _mm256_castsi256_ps(low_at), less));
                    less = _mm256_cmp_ps(high[r], high_value[r], _CMP_LT_OQ);
                    high_value[r] = _mm256_blendv_ps(high_value[r], high[r], less);
                    high_index[r] = _mm256_castps_si256(_mm256_blendv_ps(
                        _mm256_castsi256_ps(high_index[r]),
                        _mm256_castsi256_ps(high_at), less));
                }
                low_at = _mm256_add_epi32(high_at, step);
            }
            for (int r = 0; r < n_here; r++)
                skclust_best_of_lanes(low_value[r], high_value[r], low_index[r],
                                      high_index[r], best + i + r, labels + i + r);
        }
    }

    /* The same ranks with AVX-512: eight rows against thirty-two centers
       (two registers of sixteen) per step, with a running minimum and its
       index per lane and row; with sixteen centers in all, one register
       (``two`` is 0). A last block of sixteen centers masks the second
       register (centers of rank +inf). Each lane adds the features in the
       same order, by the same fused multiply-adds, as the AVX2 loop, so
       both give the same ranks, labels and ties; twice as many centers per
       instruction and twice as many rows per load of the centers. */
    #define SKCLUST_ROWS 8
    __attribute__((target("avx512f"), always_inline))
    static inline void skclust_rank_avx512(
            const float *X, Py_ssize_t n_rows, Py_ssize_t stride,
            Py_ssize_t width, const float *ct, const float *norms,
            Py_ssize_t n_padded, Py_ssize_t *labels, float *best,
            const int two) {
        const __m512i step = _mm512_set1_epi32(16);
        const __m512 infinite = _mm512_set1_ps(INFINITY);
        for (Py_ssize_t i = 0; i < n_rows; i += SKCLUST_ROWS) {
            const Py_ssize_t n_here =
                n_rows - i < SKCLUST_ROWS ? n_rows - i : SKCLUST_ROWS;
            const float *x[SKCLUST_ROWS];
            __m512 value[SKCLUST_ROWS];
            __m512i index[SKCLUST_ROWS];
            for (int r = 0; r < SKCLUST_ROWS; r++) {
                x[r] = X + (i + (r < n_here ? r : 0)) * stride;
                value[r] = infinite;
                index[r] = _mm512_setzero_si512();
            }
            __m512i low_at = _mm512_setr_epi32(
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (Py_ssize_t j = 0; j < n_padded; j += two ? 32 : 16) {
                const __mmask16 second = two && n_padded - j >= 32 ? 0xffff : 0;
                const __m512i high_at = _mm512_add_epi32(low_at, step);
                const __m512 n0 = _mm512_loadu_ps(norms + j);
                __m512 n1 = infinite;
                if (two)
                    n1 = _mm512_mask_loadu_ps(infinite, second, norms + j + 16);
                __m512 a[SKCLUST_ROWS], b[SKCLUST_ROWS];
                #pragma GCC unroll 8
                for (int r = 0; r < SKCLUST_ROWS; r++) {
                    a[r] = n0;
                    b[r] = n1;
                }
                const float *c = ct + j;
                for (Py_ssize_t f = 0; f < width; f++, c += n_padded) {
                    const __m512 c0 = _mm512_loadu_ps(c);
                    __m512 c1 = c0;
                    if (two)
                        c1 = _mm512_maskz_loadu_ps(second, c + 16);
                    #pragma GCC unroll 8
                    for (int r = 0; r < SKCLUST_ROWS; r++) {
                        const __m512 v = _mm512_set1_ps(x[r][f]);
                        a[r] = _mm512_fmadd_ps(v, c0, a[r]);
                        if (two)
                            b[r] = _mm512_fmadd_ps(v, c1, b[r]);
                    }
                }
                #pragma GCC unroll 8
                for (int r = 0; r < SKCLUST_ROWS; r++) {
                    /* Strictly smaller: each lane keeps its first minimum. */
                    __mmask16 less = _mm512_cmp_ps_mask(a[r], value[r], _CMP_LT_OQ);
                    value[r] = _mm512_mask_mov_ps(value[r], less, a[r]);
                    index[r] = _mm512_mask_mov_epi32(index[r], less, low_at);
                    if (two) {
                        less = _mm512_cmp_ps_mask(b[r], value[r], _CMP_LT_OQ);
                        value[r] = _mm512_mask_mov_ps(value[r], less, b[r]);
                        index[r] = _mm512_mask_mov_epi32(index[r], less, high_at);
                    }
                }
                low_at = two ? _mm512_add_epi32(high_at, step) : high_at;
            }
            for (int r = 0; r < n_here; r++) {
                const float smallest = _mm512_reduce_min_ps(value[r]);
                const __mmask16 at = _mm512_cmp_ps_mask(
                    value[r], _mm512_set1_ps(smallest), _CMP_EQ_OQ);
                labels[i + r] = _mm512_mask_reduce_min_epi32(at, index[r]);
                best[i + r] = smallest;
            }
        }
    }

    __attribute__((target("avx512f")))
    static void skclust_nearest_avx512(
            const float *X, Py_ssize_t n_rows, Py_ssize_t stride,
            Py_ssize_t width, const float *ct, const float *norms,
            Py_ssize_t n_padded, Py_ssize_t *labels, float *best) {
        if (n_padded == 16)
            skclust_rank_avx512(X, n_rows, stride, width, ct, norms, n_padded,
                                labels, best, 0);
        else
            skclust_rank_avx512(X, n_rows, stride, width, ct, norms, n_padded,
                                labels, best, 1);
    }

    /* The widest path this processor (and its operating system) runs:
       2 for AVX-512, 1 for AVX2 with FMA, 0 for the plain loop. */
    static int skclust_widest_path(void) {
        static int known = -1;
        if (known < 0) {
            __builtin_cpu_init();
            known = __builtin_cpu_supports("avx512f") ? 2
                : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        }
        return known;
    }
    #else
    static void skclust_nearest_avx2(
            const float *X, Py_ssize_t n_rows, Py_ssize_t stride,
            Py_ssize_t width, const float *ct, const float *norms,
            Py_ssize_t n_padded, Py_ssize_t *labels, float *best) {}
    static void skclust_nearest_avx512(
            const float *X, Py_ssize_t n_rows, Py_ssize_t stride,
            Py_ssize_t width, const float *ct, const float *norms,
            Py_ssize_t n_padded, Py_ssize_t *labels, float *best) {}
    static int skclust_widest_path(void) { return 0; }
    #endif
    """
    void skclust_nearest_plain(
        const float *X, Py_ssize_t n_rows, Py_ssize_t stride, Py_ssize_t width,
        const float *ct, const float *norms, Py_ssize_t n_padded,
        float *scratch, Py_ssize_t *labels, float *best,
    ) noexcept nogil
    void skclust_nearest_avx2(
        const float *X, Py_ssize_t n_rows, Py_ssize_t stride, Py_ssize_t width,
        const float *ct, const float *norms, Py_ssize_t n_padded,
        Py_ssize_t *labels, float *best,
    ) noexcept nogil
    void skclust_nearest_avx512(
        const float *X, Py_ssize_t n_rows, Py_ssize_t stride, Py_ssize_t width,
        const float *ct, const float *norms, Py_ssize_t n_padded,
        Py_ssize_t *labels, float *best,
    ) noexcept nogil
    int skclust_widest_path() noexcept nogil

# The AVX2 and AVX-512 loops, which take the same arguments.
ctypedef void (*vector_loop)(
    const float *, Py_ssize_t, Py_ssize_t, Py_ssize_t, const float *,
    const float *, Py_ssize_t, Py_ssize_t *, float *,
) noexcept nogil

# Centers are ranked sixteen at a time: the caller pads them to a multiple.
CENTER_BLOCK = 16

# The kernel's paths by name, from the widest; ``available_paths`` lists
# those this processor runs.
_PATHS = ("avx512", "avx2", "plain")


def available_paths():
    """Names of the paths this processor runs, the widest first."""
    return _PATHS[2 - skclust_widest_path():]


def nearest_centers(
    const float[:, :] X,
    const float[:, ::1] minus_twice_t,
    const float[::1] squared_norms,
    Py_ssize_t[::1] labels,
    float[::1] best,
    str path="auto",
):
    """Nearest center of every row by the ranking ``|c|^2 - 2 x.c``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, width), float32
        In: rows whose values are contiguous (any row stride, e.g. columns
        sliced from a wider block).
    minus_twice_t : ndarray of shape (width, n_padded), float32
        In: ``-2 C^T``, padded with zero columns to a multiple of
        ``CENTER_BLOCK``.
    squared_norms : ndarray of shape (n_padded,), float32
        In: ``|c|^2``, padded with ``+inf`` (a padding center never wins).
    labels : ndarray of shape (n_rows,), intp
        Out: the center of smallest rank; ties go to the lowest index.
    best : ndarray of shape (n_rows,), float32
        Out: that smallest rank (the squared distance less ``|x|^2``).
    path : {"auto", "avx512", "avx2", "plain"}, default="auto"
        In: "auto" takes the widest of ``available_paths()``; a name takes
        that path (tests compare them). The vector paths give the same
        ranks, bit for bit.
    """
    cdef Py_ssize_t n_rows = X.shape[0], width = X.shape[1]
    cdef Py_ssize_t n_padded = squared_norms.shape[0]
    require(
        minus_twice_t.shape[0] == width
        and minus_twice_t.shape[1] == n_padded
        and n_padded % CENTER_BLOCK == 0
        and labels.shape[0] == n_rows
        and best.shape[0] == n_rows
        and (width < 2 or X.strides[1] == sizeof(float)),
        "rows, padded centers, labels and best do not match",
    )
    cdef int chosen = skclust_widest_path()
    if path != "auto":
        if path not in available_paths():
            raise ValueError(f"path {path!r} is not one of {available_paths()}")
        chosen = 2 - _PATHS.index(path)
    if n_rows == 0 or n_padded == 0:
        return
    cdef Py_ssize_t stride = X.strides[0] // <Py_ssize_t> sizeof(float)
    cdef float *scratch
    if X.strides[0] % sizeof(float):
        raise ValueError("rows must be aligned on float32 values")
    cdef vector_loop loop
    if chosen:
        loop = skclust_nearest_avx512 if chosen == 2 else skclust_nearest_avx2
        with nogil:
            loop(
                &X[0, 0], n_rows, stride, width, &minus_twice_t[0, 0],
                &squared_norms[0], n_padded, &labels[0], &best[0],
            )
        return
    scratch = <float *> malloc(n_padded * sizeof(float))
    if scratch == NULL:
        raise MemoryError()
    with nogil:
        skclust_nearest_plain(
            &X[0, 0], n_rows, stride, width, &minus_twice_t[0, 0],
            &squared_norms[0], n_padded, scratch, &labels[0], &best[0],
        )
    free(scratch)
