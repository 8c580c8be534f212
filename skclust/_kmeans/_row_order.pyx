# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Rows of a table rearranged in place, and put back.

``KMeansL2(copy_x=False)`` fits on the caller's own array in the merge's
order instead of on a copy of it: this follows the cycles of the
permutation, moving each row once through a one-row buffer, so that the
memory it needs is that buffer and one byte a row.
"""

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


def permute_rows(
    unsigned char[:, ::1] rows,
    const Py_ssize_t[::1] order,
    unsigned char[::1] seen,
    bint inverse,
):
    """Rearrange ``rows`` (a table's rows viewed as bytes) in place.

    Row ``i`` becomes the old row ``order[i]``; with ``inverse``, the old
    row ``i`` moves to row ``order[i]``, which undoes the first. ``order``
    must be a permutation of the rows (not checked) and ``seen`` a scratch
    array of one byte per row, so that putting the rows back allocates
    nothing but the one-row buffer.
    """
    cdef Py_ssize_t n_rows = rows.shape[0], width = rows.shape[1]
    cdef Py_ssize_t start, here, there
    cdef unsigned char *carried
    cdef unsigned char *swap
    if order.shape[0] != n_rows or seen.shape[0] != n_rows:
        raise ValueError("order and seen must have one entry per row")
    if n_rows == 0 or width == 0:
        return
    carried = <unsigned char *> malloc(2 * width)
    if carried == NULL:
        raise MemoryError()
    swap = carried + width
    with nogil:
        seen[:] = 0
        for start in range(n_rows):
            if seen[start]:
                continue
            seen[start] = 1
            if order[start] == start:
                continue
            memcpy(carried, &rows[start, 0], width)
            if inverse:
                # The row carried belongs at order[here]: drop it there and
                # pick up the row it displaces, until the cycle closes.
                here = order[start]
                while here != start:
                    memcpy(swap, &rows[here, 0], width)
                    memcpy(&rows[here, 0], carried, width)
                    memcpy(carried, swap, width)
                    seen[here] = 1
                    here = order[here]
                memcpy(&rows[start, 0], carried, width)
            else:
                # Row ``here`` takes row order[here]; the first row of the
                # cycle, held aside, closes it.
                here = start
                there = order[here]
                while there != start:
                    memcpy(&rows[here, 0], &rows[there, 0], width)
                    seen[there] = 1
                    here = there
                    there = order[here]
                memcpy(&rows[here, 0], carried, width)
    free(carried)
