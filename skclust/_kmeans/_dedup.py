"""Exact merging of repeated rows into weighted distinct rows."""

import math
import mmap
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy < 2
    byte_bounds = np.byte_bounds  # noqa: NPY201 (the name numpy 1 has)

from ._row_hash import row_hashes
from ._row_order import permute_rows


@dataclass(frozen=True)
class DistinctRows:
    """Distinct rows of a data set with the total weight each one carries.

    Attributes
    ----------
    points : ndarray of shape (n_distinct, n_features)
        One copy of every distinct row.
    weights : ndarray of shape (n_distinct,)
        Sum of the sample weights of the rows equal to each distinct row
        (float64).
    inverse : ndarray of shape (n_samples,)
        ``points[inverse]`` equals the original data. From
        :func:`merge_duplicate_rows`, int32 below 2**31 rows (half the memory
        of intp, which a table of a million rows notices).
    """

    points: np.ndarray
    weights: np.ndarray
    inverse: np.ndarray


class RowMoves:
    """The rows of ``X`` that :func:`merge_duplicate_rows` moves in place,
    and their way back.

    Made before the move, so that the caller holds it before anything can
    happen: ``undo`` in a ``finally`` then puts the rows back whenever the
    move started, also after a Ctrl-C raised as soon as the (uninterruptible)
    kernel returns, and does nothing if no row moved. ``seen``, the kernel's
    scratch, is allocated up front so that undoing cannot run out of memory.
    """

    def __init__(self, X):
        self.X = X
        self.order = None
        self.seen = np.zeros(X.shape[0], dtype=np.uint8)

    def apply(self, order):
        """Row ``i`` becomes the old row ``order[i]``."""
        self.order = order
        permute_rows(_row_bytes(self.X), order, self.seen, False)

    def undo(self):
        """Put the rows back if they moved."""
        # The kernel marks ``seen`` as it moves rows, none before the first.
        if self.order is not None and self.seen.any():
            permute_rows(_row_bytes(self.X), self.order, self.seen, True)
        self.order = None


def _row_bytes(X):
    """A C-contiguous 2-D array's rows as bytes (one row of bytes per row)."""
    return X.reshape(X.shape[0], -1).view(np.uint8)


def can_rearrange(X):
    """Whether :func:`merge_duplicate_rows` may move the rows of ``X`` in
    place: a writeable, C-contiguous 2-D array in memory, not in a mapped
    file (a process killed mid-fit would leave the file's rows moved)."""
    return (
        X.flags.c_contiguous
        and X.flags.writeable
        and X.ndim == 2
        and not _maps_a_file(X)
    )


def _maps_a_file(X):
    """Whether ``X`` views a memory map (``numpy.memmap`` or ``mmap``)."""
    base = X
    while base is not None:
        if isinstance(base, np.memmap | mmap.mmap):
            return True
        base = getattr(base, "base", None)
    return False


# Memory that fits are reading or moving now, as (first byte, end, thread,
# moving) claims, and the condition fits wait on for the claims to change.
_claimed = []
_claims_changed = threading.Condition()


@contextmanager
def claimed_rows(X, move=True):
    """Claim the memory of ``X`` for reading, or for moving its rows if
    ``move``, for the ``with`` block.

    Yields whether this fit may move the rows of ``X``. A fit that read ``X``
    while another had its rows moved saw them out of place or in mid-move:
    fits of ``X`` and ``X[1000:]`` from two threads got wrong labels. So a
    fit waits while another thread moves rows of the same memory, and a fit
    that moves them waits while another thread reads it. A fit in the
    thread that holds an overlapping claim (a fit inside a callable ``init``)
    does not wait, which would never end: it reads the rows as its caller
    moved them, and copies them.
    """
    if X is None:
        yield False
        return
    low, high = byte_bounds(X)
    me = threading.get_ident()
    with _claims_changed:
        while any(
            _overlaps(c, low, high) and c[2] != me and (move or c[3]) for c in _claimed
        ):
            _claims_changed.wait()
        moving = move and not any(_overlaps(c, low, high) for c in _claimed)
        claim = (low, high, me, moving)
        _claimed.append(claim)
    try:
        yield moving
    finally:
        with _claims_changed:
            _claimed.remove(claim)
            _claims_changed.notify_all()


def _overlaps(claim, low, high):
    return not (high <= claim[0] or claim[1] <= low)


def _row_hashes(bits):
    """64-bit hash of each row of ``bits`` (float64 data viewed as uint64,
    float32 data as uint32)."""
    hashes = np.empty(bits.shape[0], dtype=np.uint64)
    row_hashes(bits, hashes)
    return hashes


def distinct_weights(inverse, sample_weight, n_distinct):
    """Total float64 weight of each distinct row: its number of copies when
    ``sample_weight`` is None (no array of ones the length of the data)."""
    weights = np.bincount(inverse, weights=sample_weight, minlength=n_distinct)
    return weights.astype(np.float64, copy=False)


def _index_type(n_samples):
    """int32 for ``DistinctRows.inverse`` when it can hold every position."""
    return np.int32 if n_samples <= np.iinfo(np.int32).max else np.intp


# Packed keys stay below 2**62 so that they and their partial sums fit int64.
_KEY_LIMIT = 2**62
# Feature spans up to 2**53 make ``X - low`` exact in float64.
_SPAN_LIMIT = 2.0**53


def _key_spans(X):
    """The lowest value of each feature of ``X`` (float64) and the number of
    integers it spans (int64), or None when the keys of its rows would not
    fit (see ``_packed_integer_keys``)."""
    # In float64: differences of float32 integers above 2**24 would round.
    low = X.min(axis=0).astype(np.float64)
    high = X.max(axis=0).astype(np.float64)
    with np.errstate(over="ignore"):
        # An infinite span (data near the float64 maximum) is over the limit.
        spans = high - low + 1
    if np.any(spans > _SPAN_LIMIT):
        return None
    # Python integers: the product of the spans is exact, never overflows.
    if math.prod(int(span) for span in spans) >= _KEY_LIMIT:
        return None
    return low, spans.astype(np.int64)


def _packed_integer_keys(X):
    """Exact 64-bit keys for integer-valued data of small range, else None.

    Each row becomes its mixed-radix number, computed in int64 (float64 would
    round keys above 2**53 and merge distinct rows), so equal keys mean equal
    rows and no check is needed (8-bit images take this path).
    """
    head = X[:64]
    if not np.array_equal(head, np.rint(head)):
        return None
    # The first rows' spans are no wider than the table's: a table whose
    # keys would not fit is mostly refused here, before a pass over every
    # column (0.1 ms of a fit of 1,797 x 64 small integers).
    if _key_spans(head) is None:
        return None
    found = _key_spans(X)
    if found is None or not np.array_equal(X, np.rint(X)):
        return None
    low, spans = found
    strides = np.cumprod(np.concatenate([[1], spans[:0:-1]]))[::-1]
    keys = np.zeros(X.shape[0], dtype=np.int64)
    for column, stride in enumerate(strides):
        offset = np.subtract(X[:, column], low[column], dtype=np.float64)
        keys += offset.astype(np.int64) * stride
    return keys


def merge_duplicate_rows(X, sample_weight, moves=None):
    """Collapse identical rows of ``X`` into weighted distinct rows.

    Two rows are identical when every feature compares equal (``-0.0`` equals
    ``0.0``). The distinct rows come back in an order that depends only on the
    set of rows, not on their order or multiplicity in ``X``, so that fitting
    on repeated rows and on the same rows with integer weights gives the same
    result. Integer-valued data of small range is keyed exactly; other data by
    a 64-bit hash of its bits, with every merge checked for exact equality.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32
        Validated, finite data; the distinct rows keep its dtype.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights; None gives every row weight one.
    moves : RowMoves or None, default=None
        Move the rows of ``X`` (see :func:`can_rearrange`) with ``moves`` so
        that the distinct rows come first, in the merge's order, those of
        positive weight before those of zero weight, instead of copying
        them: ``points`` is then a view of the first rows of ``X``. The
        caller calls ``moves.undo()`` when done, whatever happens.

    Returns
    -------
    DistinctRows
    """
    n_samples = X.shape[0]
    keys = _packed_integer_keys(X)
    exact = keys is not None
    if not exact:
        bits = np.uint32 if X.dtype == np.float32 else np.uint64
        keys = _row_hashes(np.ascontiguousarray(X).view(bits))
    order = np.argsort(keys)
    sorted_keys = keys[order]
    starts = np.empty(n_samples, dtype=bool)
    starts[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=starts[1:])
    del keys, sorted_keys
    if not exact:
        # Only rows that share a hash are compared (by value, so -0.0 == 0.0).
        merged = np.flatnonzero(~starts[1:])
        if not np.array_equal(X[order[merged]], X[order[merged + 1]]):
            return _merge_by_sorting(X, sample_weight)
    index_type = _index_type(n_samples)
    group = np.cumsum(starts, dtype=index_type)
    group -= 1
    inverse = np.empty(n_samples, dtype=index_type)
    inverse[order] = group
    n_distinct = int(group[-1]) + 1 if n_samples else 0
    del group
    weights = distinct_weights(inverse, sample_weight, n_distinct)
    if moves is None:
        return DistinctRows(X[order[starts]], weights, inverse)
    distinct_rows, repeated_rows = order[starts], order[~starts]
    del order, starts
    positive = weights > 0
    if not positive.all():
        # The distinct rows of zero weight go after those of positive weight,
        # so that the fit's points are the first rows of X, not a selection
        # copied from them.
        by_weight = np.concatenate(
            [np.flatnonzero(positive), np.flatnonzero(~positive)]
        )
        distinct_rows = distinct_rows[by_weight]
        weights = weights[by_weight]
        renumbered = np.empty(n_distinct, dtype=index_type)
        renumbered[by_weight] = np.arange(n_distinct, dtype=index_type)
        inverse = renumbered[inverse]
    # The repeated rows follow the distinct ones, in the sort's order.
    full_order = np.concatenate([distinct_rows, repeated_rows])
    del distinct_rows, repeated_rows
    moves.apply(full_order)
    return DistinctRows(X[:n_distinct], weights, inverse)


def _merge_by_sorting(X, sample_weight):
    # Fallback for the (astronomically rare) hash collision between distinct rows.
    points, inverse = np.unique(X + 0.0, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(_index_type(inverse.size), copy=False)
    weights = distinct_weights(inverse, sample_weight, points.shape[0])
    return DistinctRows(points, weights, inverse)
