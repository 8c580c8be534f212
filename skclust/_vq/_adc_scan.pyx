# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The scan of a search over codes: sum lookup tables, keep the k smallest.

For every query and every stored row, the key is the sum over subvectors of
the query's table entry at the row's code. numpy needs one gather and one
addition per subvector over a (queries x rows) block, then a partition to
pick the best; that was 6 times slower than faiss's ``IndexPQ.search``. Here
each row's codes are read once per query and added in registers, four rows
at a time, and a bounded max-heap per query keeps the k smallest keys. Rows
are scanned in chunks that every query of the call goes over in turn, so the
codes come from memory once per chunk, not once per query.
"""

from libc.math cimport sqrt
from libc.stdint cimport int64_t, uint8_t, uint16_t
from libc.stdlib cimport free, malloc

ctypedef fused code_t:
    uint8_t
    uint16_t


cdef inline bint _after(float key_a, int64_t id_a, float key_b, int64_t id_b) noexcept nogil:
    """Whether (key_a, id_a) ranks after (key_b, id_b): ties go to the lower id."""
    return key_a > key_b or (key_a == key_b and id_a > id_b)


cdef inline void _replace_top(
    float* keys, int64_t* ids, Py_ssize_t k, float key, int64_t row,
) noexcept nogil:
    """Put (key, row) in place of the heap's largest entry and sift it down."""
    cdef Py_ssize_t i = 0, child
    while True:
        child = 2 * i + 1
        if child >= k:
            break
        if child + 1 < k and _after(keys[child + 1], ids[child + 1], keys[child], ids[child]):
            child += 1
        if not _after(keys[child], ids[child], key, row):
            break
        keys[i] = keys[child]
        ids[i] = ids[child]
        i = child
    keys[i] = key
    ids[i] = row


cdef inline void _offer(
    float* keys, int64_t* ids, Py_ssize_t k, float key, int64_t row,
) noexcept nogil:
    """Keep (key, row) if it beats the heap's largest; rows come in order."""
    if key < keys[0]:
        _replace_top(keys, ids, k, key, row)


def scan_codes(
    const float[:, :, ::1] tables,
    const code_t[:, ::1] codes,
    const float[:, ::1] norm_tables,
    float[:, ::1] keys,
    int64_t[:, ::1] ids,
    Py_ssize_t chunk_rows,
):
    """Merge the rows of ``codes`` into every query's heap of smallest keys.

    Parameters
    ----------
    tables : (n_queries, n_subvectors, n_clusters) float32
        Each query's table; the key of a row is the sum of its entries at the
        row's codes.
    codes : (n_rows, n_subvectors) uint8 or uint16
        Checked to lie in ``0 .. n_clusters - 1``.
    norm_tables : (n_subvectors, n_clusters) or (0, 0) float32
        Squared centroid norms for cosine: the key is then divided by the
        rebuilt row's length (rows of zero length get key 0). Empty: plain sums.
    keys, ids : (n_queries, k) float32 and int64
        Max-heaps, updated in place: start them at +inf and -1.
    chunk_rows : int
        Rows scanned by every query before the next chunk.
    """
    cdef Py_ssize_t n_queries = tables.shape[0], n_sub = tables.shape[1]
    cdef Py_ssize_t n_clusters = tables.shape[2], n_rows = codes.shape[0]
    cdef Py_ssize_t k = keys.shape[1], q, i, m, start, stop
    cdef bint cosine = norm_tables.shape[0] > 0
    cdef const float* table
    cdef const code_t* row
    cdef float total, length, sum0, sum1, sum2, sum3
    cdef float* scale = NULL
    if (
        codes.shape[1] != n_sub or keys.shape[0] != n_queries
        or ids.shape[0] != n_queries or ids.shape[1] != k or k < 1
        or chunk_rows < 1
        or (cosine and (norm_tables.shape[0] != n_sub
                        or norm_tables.shape[1] != n_clusters))
    ):
        raise ValueError("tables, codes, norm_tables and heaps do not match")
    if n_rows == 0 or n_queries == 0:
        return
    if cosine:
        scale = <float*> malloc(min(chunk_rows, n_rows) * sizeof(float))
        if scale == NULL:
            raise MemoryError()
    with nogil:
        start = 0
        while start < n_rows:
            stop = min(start + chunk_rows, n_rows)
            if cosine:
                for i in range(start, stop):
                    row = &codes[i, 0]
                    total = 0
                    for m in range(n_sub):
                        total = total + norm_tables[m, row[m]]
                    length = sqrt(total)
                    scale[i - start] = 1 / length if length > 0 else 0
            for q in range(n_queries):
                i = start
                # Four rows at a time: four independent sums keep the core's
                # adders busy (2.3 times one row at a time on 8 x 256 codes).
                while i + 3 < stop:
                    row = &codes[i, 0]
                    table = &tables[q, 0, 0]
                    sum0 = sum1 = sum2 = sum3 = 0
                    for m in range(n_sub):
                        sum0 = sum0 + table[row[m]]
                        sum1 = sum1 + table[row[m + n_sub]]
                        sum2 = sum2 + table[row[m + 2 * n_sub]]
                        sum3 = sum3 + table[row[m + 3 * n_sub]]
                        table = table + n_clusters
                    if cosine:
                        sum0 = sum0 * scale[i - start]
                        sum1 = sum1 * scale[i + 1 - start]
                        sum2 = sum2 * scale[i + 2 - start]
                        sum3 = sum3 * scale[i + 3 - start]
                    _offer(&keys[q, 0], &ids[q, 0], k, sum0, i)
                    _offer(&keys[q, 0], &ids[q, 0], k, sum1, i + 1)
                    _offer(&keys[q, 0], &ids[q, 0], k, sum2, i + 2)
                    _offer(&keys[q, 0], &ids[q, 0], k, sum3, i + 3)
                    i = i + 4
                while i < stop:
                    row = &codes[i, 0]
                    table = &tables[q, 0, 0]
                    sum0 = 0
                    for m in range(n_sub):
                        sum0 = sum0 + table[row[m]]
                        table = table + n_clusters
                    if cosine:
                        sum0 = sum0 * scale[i - start]
                    _offer(&keys[q, 0], &ids[q, 0], k, sum0, i)
                    i = i + 1
            start = stop
    free(scale)
