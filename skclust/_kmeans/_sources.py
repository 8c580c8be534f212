"""Tables read in blocks: the data sources of the Lloyd engine.

A source hands out a table's rows in blocks: ``ArraySource`` for an in-memory
array or a numpy memory map (one block at a time, in this process), and
``DaskSource`` for a dask array (one task per row chunk, on whatever scheduler
is active). Both offer the same ``reduce(kernel, *args)``, a map of a kernel
over blocks followed by a sum of the per-block results in a fixed tree, and
``map_rows(kernel, *args)``, a per-row result in row order, so the passes of
``skclust._kmeans._blocked`` run unchanged on either.

Every block is prepared by a ``RowPrep`` before a kernel sees it: checked for
NaN and infinity, scaled to unit length (vector quantization), centered.

dask is an optional extra, imported inside ``DaskSource`` only, so that this
module loads (and skclust works) without it. Nothing here validates
parameters; the estimators do.
"""

import mmap
import operator
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .._checks import check_finite
from .._threads import blas_threads

# Rows prepared at a time when an in-memory table is prepared once.
PREPARE_ROWS = 8192


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array``, without importing dask."""
    # dask is an optional extra: a dask array can only exist once the user
    # has imported dask.array, so looking it up never imports dask.
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def check_table_shape(X, name="X"):
    """Checks of a memory-mapped or dask table that do not read its values."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D {name}, got an array of shape {X.shape}")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if any(np.isnan(n) for n in X.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes; call compute_chunk_sizes() first"
        )


def validate_lazy_table(estimator, X, reset):
    """Validate a memory map or a dask array for ``estimator`` without
    reading its values: shape, dtype, at least 2 rows when fitting, and the
    number of features (``n_features_in_``)."""
    from sklearn.utils.validation import validate_data

    check_table_shape(X)
    if reset and X.shape[0] < 2:
        raise ValueError(f"n_samples={X.shape[0]} while a minimum of 2 is required.")
    validate_data(estimator, X, skip_check_array=True, reset=reset)


# --- Preparing rows ----------------------------------------------------------


@dataclass(frozen=True)
class RowPrep:
    """How raw rows become the rows that are clustered.

    Rows are checked for NaN and infinity, multiplied by ``2**exponent``
    (exactly: k-means on data of extreme magnitude, see ``_scaling``), scaled
    to unit length when ``normalize`` (rows of zero length stay zero), and
    shifted by ``-origin`` when given. ``float32`` casts the result for the
    matrix products of vector quantization. k-means otherwise works on
    float64 rows, except that with ``keep_float32`` raw float32 rows stay
    float32 throughout: scaled and centered in float32, as the in-memory L2
    fit (and scikit-learn's ``KMeans``) does with a float32 table, which
    gives the same rows and avoids a float64 copy of every block.
    ``checked`` skips the test for NaN and infinity, for the passes of a fit
    after one that made it (about a tenth of a Lloyd pass's time); ``needs``
    ends its message, as in memory (``"KMeansL2 needs finite values"``).
    """

    normalize: bool
    origin: np.ndarray | None = None
    float32: bool = True
    exponent: int = 0
    keep_float32: bool = False
    checked: bool = False
    needs: str = "k-means needs finite values"

    def __call__(self, raw, offset, float32=None, out=None):
        """The prepared rows of ``raw``, the rows of the table from
        ``offset`` on; written to ``out`` if given, whose dtype then stands
        for ``float32`` (the values are those returned without it)."""
        if self.keep_float32 and raw.dtype == np.float32 and not self.normalize:
            rows = self._in_float32(raw, offset)
            if out is None:
                return rows
            out[...] = rows
            return out
        float32 = self.float32 if float32 is None else float32
        rows = np.array(raw, dtype=np.float64)
        if not self.checked:
            _check_finite(rows, offset, self.needs)
        if self.exponent:
            np.ldexp(rows, self.exponent, out=rows)
        if self.normalize:
            rows = normalize_rows(rows)
        if out is not None:
            # The float64 difference rounded once into ``out``: the values of
            # the subtraction and cast below, without the float32 copy.
            if self.origin is None:
                out[...] = rows
            else:
                np.subtract(rows, self.origin, out=out, casting="same_kind")
            return out
        if self.origin is not None:
            rows -= self.origin
        return rows.astype(np.float32) if float32 else rows

    def _in_float32(self, raw, offset):
        rows = np.asarray(raw)
        if not self.checked:
            _check_finite(rows, offset, self.needs)
        if self.exponent:
            rows = np.ldexp(rows, self.exponent).astype(np.float32, copy=False)
        if self.origin is not None:
            # float32 less float32: the correctly rounded difference, the
            # value the in-memory fit gets by subtracting in float64 and
            # rounding (its origin is rounded to float32 too).
            rows = rows - self.origin.astype(np.float32)
        return rows


def _check_finite(rows, offset, needs):
    """Raise if a block holds NaN or infinity, naming the first such entry
    (its row in the table) in the words of the in-memory check."""
    # A NaN or an infinity makes the sum of the block NaN or infinite: one
    # read of the rows, where a bool written per value and reduced row by
    # row took five times as long (a fifth of VectorQuantizer's first pass
    # and of preparing its table). check_finite sums first too, and looks
    # at the values one by one only when the sum is not finite, which a sum
    # past the float range also gives: the block that raises, no other.
    check_finite(rows, "X", needs, first_row=offset)


# Below this norm, the squares summed for it are subnormal.
_SMALL_NORM = 2.0**-500


def _row_norms(X):
    """Euclidean length of every row of ``X`` (float64), as
    ``sklearn.preprocessing.normalize`` computes it (``einsum``): five times
    faster than ``numpy.linalg.norm(X, axis=1)`` on rows of 64 values, whose
    reduction along short rows took most of the time of normalizing them."""
    return np.sqrt(np.einsum("ij,ij->i", X, X))


def normalize_rows(X):
    """Rows of ``X`` (float64) scaled to unit Euclidean length, in place.

    Rows of zero length stay zero.
    """
    with np.errstate(over="ignore"):
        norms = _row_norms(X)
    # Squares beyond the float64 range, or so small that they lose digits or
    # vanish (subnormal rows): such a row is first scaled exactly, by the
    # power of two that puts its largest entry in [0.5, 1).
    awkward = np.isinf(norms) | (norms < _SMALL_NORM)
    if awkward.any():
        _, exponents = np.frexp(np.abs(X[awkward]).max(axis=1))
        rows = np.ldexp(X[awkward], -exponents[:, None])
        X[awkward] = rows
        norms[awkward] = _row_norms(rows)
    # A zero row has no direction and stays zero, as
    # sklearn.preprocessing.normalize leaves it; fits warn about such rows.
    norms[norms == 0] = 1.0
    X /= norms[:, None]
    return X


def warn_zero_rows(n_zero, n_rows, stacklevel):
    """Warn that ``n_zero`` of ``n_rows`` rows have no direction, if any.

    ``stacklevel`` counts from the caller, as ``warnings.warn``'s does.
    """
    if n_zero:
        warnings.warn(
            f"{n_zero} of the {n_rows} rows have zero length: normalize=True "
            "leaves them zero, as sklearn.preprocessing.normalize does",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


# --- Adding per-block results ------------------------------------------------


def tree_sum(items, add=operator.add):
    """Sum of ``items`` added pairwise, level by level, in a fixed order.

    Both sources build this same tree of additions (``DaskSource`` with an
    ``add`` that makes a dask task), so both give the same floating-point
    result for the same blocks.
    """
    items = list(items)
    while len(items) > 1:
        pairs = [add(a, b) for a, b in zip(items[::2], items[1::2], strict=False)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def streamed_tree_sum(items):
    """``tree_sum(items)``, holding only O(log n) partial sums at a time.

    A partial sum of ``2**level`` items waits on a stack until a sum of the
    same size joins it; the leftovers are added from the smallest up, which
    is where ``tree_sum`` carries an odd item (checked against it in the
    tests). Blocks of a memory map can then return large statistics (the
    per-cluster histograms of the median update) without piling up.
    """
    stack = []  # (level, partial sum), levels strictly decreasing
    for item in items:
        level = 0
        while stack and stack[-1][0] == level:
            item = stack.pop()[1] + item
            level += 1
        stack.append((level, item))
    total = stack.pop()[1]
    while stack:
        total = stack.pop()[1] + total
    return total


# --- In-memory arrays and memory maps ----------------------------------------


def _mapped_file(array):
    """The ``mmap.mmap`` behind a read-only numpy memory map, else None."""
    if getattr(array, "mode", None) != "r":
        return None
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base


def _release_pages(view, mapped):
    """Drop the pages of ``view`` from this process's resident memory.

    Pages read from a memory map stay counted in the resident set until the
    kernel needs the memory back; without this, reading a table larger than
    the memory budget once would make the process look as large as the table.
    The pages stay in the file cache. Only used on read-only maps, where
    dropping a page loses nothing.
    """
    if (
        mapped is None
        or not hasattr(mmap, "MADV_DONTNEED")
        or view.size == 0
        or not view.flags.c_contiguous
    ):
        return
    start = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    begin = view.ctypes.data - start
    end = begin + view.nbytes
    begin -= begin % mmap.PAGESIZE
    mapped.madvise(mmap.MADV_DONTNEED, begin, min(end, len(mapped)) - begin)


class ArraySource:
    """Blocks of ``batch_rows`` rows of an in-memory array or a memory map.

    Blocks are processed one after the other; inside a block, sub-blocks are
    shared among ``n_threads`` threads, with BLAS limited to one thread each.

    Parameters
    ----------
    X : ndarray or numpy.memmap of shape (n_samples, n_features)
    batch_rows : int
    prep : RowPrep or None
        Applied to every sub-block; None when ``X`` is already prepared
        (float32, normalized and centered).
    n_threads : int
    prepare_once : bool, default=False
        Whether ``use_prep`` prepares the whole table once (an in-memory
        table) instead of leaving the preparation to every pass.
    """

    def __init__(self, X, batch_rows, prep, n_threads=1, prepare_once=False):
        self.X = X
        self.batch_rows = batch_rows
        self.prep = prep
        self.n_threads = n_threads
        self.prepare_once = prepare_once
        self.pool = None
        self._mapped = _mapped_file(X)

    @property
    def shape(self):
        return self.X.shape

    @property
    def dtype(self):
        return self.X.dtype

    @contextmanager
    def running(self):
        """Keep one thread pool (and the BLAS limit) for a whole fit."""
        if self.n_threads <= 1:
            yield self
            return
        with (
            blas_threads(1),
            ThreadPoolExecutor(self.n_threads) as pool,
        ):
            self.pool = pool
            try:
                yield self
            finally:
                self.pool = None

    def use_prep(self, prep):
        """Prepare rows with ``prep`` from now on."""
        if self.prepare_once:
            # An in-memory table is prepared once, not at every pass.
            self.prepare_table(prep)
        else:
            self.prep = prep

    def prepare_table(self, prep):
        """Replace an in-memory table by its prepared copy, once."""
        X = self.X
        out = np.empty(X.shape, dtype=np.float32 if prep.float32 else np.float64)

        def work(start):
            stop = start + PREPARE_ROWS
            prep(X[start:stop], start, out=out[start:stop])

        starts = range(0, X.shape[0], PREPARE_ROWS)
        if self.pool is None:
            for start in starts:
                work(start)
        else:
            list(self.pool.map(work, starts))
        self.X, self.prep = out, None

    def blocks(self):
        """``(offset, block)`` of every block of raw rows, in order.

        The pages of a memory-mapped block are released once the caller asks
        for the next block.
        """
        for start in range(0, self.X.shape[0], self.batch_rows):
            block = self.X[start : start + self.batch_rows]
            yield start, block
            _release_pages(block, self._mapped)

    def reduce(self, kernel, *args):
        """``tree_sum`` of ``kernel(block, offset, *args, prep, pool)`` over blocks."""
        return streamed_tree_sum(
            kernel(block, start, *args, self.prep, self.pool)
            for start, block in self.blocks()
        )

    def map_rows(self, kernel, *args):
        """``kernel(block, offset, *args, prep, pool)`` of every block, in order.

        The kernel returns one value per row of its block; the result is an
        ndarray of one value per row of the table.
        """
        return np.concatenate(
            [
                kernel(block, start, *args, self.prep, self.pool)
                for start, block in self.blocks()
            ]
        )

    def take(self, rows):
        """Raw rows at sorted indices ``rows``, as float64.

        Read block by block, releasing each block's pages: rows spread over
        the whole file would otherwise map pages all over it (on every fault
        the kernel also maps the neighbouring pages it has cached).
        """
        parts = []
        for start in range(0, self.X.shape[0], self.batch_rows):
            low, high = np.searchsorted(rows, [start, start + self.batch_rows])
            if high > low:
                block = self.X[start : start + self.batch_rows]
                parts.append(np.asarray(block[rows[low:high] - start], np.float64))
                _release_pages(block, self._mapped)
        return np.concatenate(parts)


# --- Dask arrays -------------------------------------------------------------


class DaskSource:
    """The row chunks of a dask array (its columns in one chunk).

    Every ``reduce`` runs the kernel as one task per row chunk and adds the
    results in the tree of ``tree_sum``, on the active scheduler (a
    ``dask.distributed`` client if one exists).
    """

    def __init__(self, X, prep):
        self.X = X
        self.prep = prep

    @property
    def shape(self):
        return self.X.shape

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def offsets(self):
        """Index of the first row of every row chunk."""
        return np.concatenate([[0], np.cumsum(self.X.chunks[0])[:-1]]).tolist()

    @contextmanager
    def running(self):
        yield self

    def use_prep(self, prep):
        """Prepare rows with ``prep`` from now on."""
        self.prep = prep

    def reduce(self, kernel, *args):
        import dask

        blocks = self.X.to_delayed().ravel()
        shared = dask.delayed(args, pure=True, traverse=False)
        parts = [
            dask.delayed(_apply_kernel, pure=True)(
                kernel, block, offset, shared, self.prep
            )
            for block, offset in zip(blocks, self.offsets, strict=True)
        ]
        return tree_sum(parts, dask.delayed(operator.add, pure=True)).compute()

    def map_rows(self, kernel, *args):
        """Lazy dask array of ``kernel(...)`` over the row chunks (1-D)."""
        offsets, prep = self.offsets, self.prep

        def one_chunk(block, block_info=None):
            where = 0 if block_info is None else block_info[0]["chunk-location"][0]
            return kernel(block, offsets[where], *args, prep, None)

        return self.X.map_blocks(one_chunk, drop_axis=1, dtype=np.intp)

    def take(self, rows):
        return np.asarray(self.X[rows].compute(), dtype=np.float64)


def _apply_kernel(kernel, block, offset, args, prep):
    return kernel(block, offset, *args, prep, None)
