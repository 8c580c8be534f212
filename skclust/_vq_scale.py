"""Lloyd and mini-batch k-means over a table read block by block.

These kernels serve ``VectorQuantizer`` when the table is not clustered in
memory by ``KMeansL2``: a memory-mapped table larger than memory, a dask array
spread over a cluster, an in-memory table given a ``batch_size``, and
``partial_fit``. Every pass over the data is a map over blocks of rows followed
by a sum of the per-block results, so the same functions run on a numpy
memory map (one block at a time, in this process) and on a dask array (one
task per chunk, on whatever scheduler is active; see ``skclust._vq_dask``).

Inside a block, rows are taken ``_sub_block_rows`` at a time: the rows are
normalized and centered in float64, then cast to float32, and each
sub-block's nearest centers come from one float32 matrix product and an
argmin; cluster sums accumulate in float64. Working memory is a few
sub-blocks, whatever the size of the block or of the table.

Nothing here validates parameters; the callers in ``skclust._vq`` do.
"""

import mmap
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from ._dedup import merge_duplicate_rows
from ._kmeans import _EuclideanMetric
from ._lloyd import kmeans_plusplus, random_points

# Elements of the float32 (rows x centers) distance matrix of one sub-block:
# 4 MB, which measured as fast as larger blocks for the matrix product and
# keeps the scratch memory small.
_SUB_BLOCK_ELEMENTS = 1 << 20

# Rows per block when reading a memory map and no batch_size is given.
DEFAULT_BATCH_ROWS = 65_536

# Rows prepared at a time when an in-memory table is prepared once.
PREPARE_ROWS = 8192

# Rows sampled per cluster for the k-means++ seeding of a blocked fit.
_INIT_ROWS_PER_CLUSTER = 8


def _sub_block_rows(n_clusters, n_features):
    return max(64, _SUB_BLOCK_ELEMENTS // max(n_clusters, n_features))


def code_dtype(n_clusters):
    """Narrowest unsigned integer type holding codes ``0 .. n_clusters - 1``."""
    return np.dtype(np.uint8 if n_clusters <= 256 else np.uint16)


def subvector_slices(n_features, n_subvectors):
    """Contiguous column ranges of equal width, one per subvector."""
    width = n_features // n_subvectors
    return [slice(m * width, (m + 1) * width) for m in range(n_subvectors)]


# --- Preparing rows ----------------------------------------------------------


@dataclass(frozen=True)
class RowPrep:
    """How raw rows become the rows that are clustered.

    Rows are checked for NaN and infinity, scaled to unit length when
    ``normalize`` (rows of zero length are refused), and shifted by ``-origin``
    when given. ``float32`` casts the result for the matrix products.
    """

    normalize: bool
    origin: np.ndarray | None = None

    def __call__(self, raw, offset, float32=True):
        rows = np.array(raw, dtype=np.float64)
        finite = np.isfinite(rows).all(axis=1)
        if not finite.all():
            row = offset + int(np.argmin(finite))
            raise ValueError(f"row {row} holds NaN or infinity")
        if self.normalize:
            rows = normalize_rows(rows, offset)
        if self.origin is not None:
            rows -= self.origin
        return rows.astype(np.float32) if float32 else rows


def normalize_rows(X, offset=0):
    """Rows of ``X`` (float64) scaled to unit Euclidean length, in place.

    Raises
    ------
    ValueError
        When a row has zero length; the message gives its index plus ``offset``.
    """
    norms = np.linalg.norm(X, axis=1)
    huge = np.isinf(norms)
    if huge.any():
        # Squares beyond the float64 range: scale by the largest entry first.
        largest = np.abs(X[huge]).max(axis=1, keepdims=True)
        norms[huge] = largest[:, 0] * np.linalg.norm(X[huge] / largest, axis=1)
    if not norms.all():
        row = offset + int(np.argmin(norms))
        raise ValueError(
            f"row {row} has zero length: normalize=True cannot give it a "
            "direction (drop such rows, or use normalize=False)"
        )
    X /= norms[:, None]
    return X


# --- Sources: where blocks come from ----------------------------------------


def tree_sum(items):
    """Sum of ``items`` added pairwise, level by level, in a fixed order.

    The dask path builds the same tree of additions, so both give the same
    floating-point result for the same blocks.
    """
    items = list(items)
    while len(items) > 1:
        pairs = [a + b for a, b in zip(items[::2], items[1::2], strict=False)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


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
    """

    def __init__(self, X, batch_rows, prep, n_threads=1):
        self.X = X
        self.batch_rows = batch_rows
        self.prep = prep
        self.n_threads = n_threads
        self._mapped = _mapped_file(X)
        self._pool = None
        # Set by the estimator for an in-memory table, which it prepares once
        # (then sets ``prep`` to None) instead of at every pass.
        self.prepare_once = False

    @property
    def shape(self):
        return self.X.shape

    @contextmanager
    def running(self):
        """Keep one thread pool (and the BLAS limit) for a whole fit."""
        if self.n_threads <= 1:
            yield self
            return
        with (
            threadpool_limits(limits=1, user_api="blas"),
            ThreadPoolExecutor(self.n_threads) as pool,
        ):
            self._pool = pool
            try:
                yield self
            finally:
                self._pool = None

    def prepare_table(self, prep):
        """Replace an in-memory table by its prepared float32 copy, once."""
        X = self.X
        out = np.empty(X.shape, dtype=np.float32)

        def work(start):
            stop = start + PREPARE_ROWS
            out[start:stop] = prep(X[start:stop], start)

        starts = range(0, X.shape[0], PREPARE_ROWS)
        if self._pool is None:
            for start in starts:
                work(start)
        else:
            list(self._pool.map(work, starts))
        self.X, self.prep = out, None

    def reduce(self, kernel, *args):
        """``tree_sum`` of ``kernel(block, offset, *args, prep, pool)`` over blocks."""
        results = []
        for start in range(0, self.X.shape[0], self.batch_rows):
            block = self.X[start : start + self.batch_rows]
            results.append(kernel(block, start, *args, self.prep, self._pool))
            _release_pages(block, self._mapped)
        return tree_sum(results)

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


def _sum_over_sub_blocks(block, offset, rows, prep, pool, work):
    """Sum of ``work(prepared rows, start)`` over sub-blocks of ``rows`` rows.

    The results are added in sub-block order as they arrive, so only a few
    are held at a time whatever the size of the block, and the sum does not
    depend on the number of threads.
    """
    starts = range(0, block.shape[0], rows)

    def one(start):
        part = block[start : start + rows]
        return work(part if prep is None else prep(part, offset + start), start)

    results = map(one, starts) if pool is None else pool.map(one, starts)
    total = next(results)
    for result in results:
        total = total + result
    return total


# --- Pass 1: statistics of the prepared rows ---------------------------------


@dataclass
class Stats:
    """Row count, mean and sum of squared deviations per column (Chan et al.)."""

    count: int
    mean: np.ndarray
    m2: np.ndarray

    def __add__(self, other):
        if not self.count or not other.count:
            return self if other.count == 0 else other
        count = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / count)
        m2 = self.m2 + other.m2 + delta**2 * (self.count * other.count / count)
        return Stats(count, mean, m2)


def stats_kernel(block, offset, prep, pool):
    """Statistics of a block's prepared rows (which also checks the rows)."""

    def work(rows, start):
        mean = rows.mean(axis=0)
        return Stats(rows.shape[0], mean, ((rows - mean) ** 2).sum(axis=0))

    n_features = block.shape[1]
    # float64 copies of the rows are the scratch here: keep them near 2 MB.
    rows = max(64, _SUB_BLOCK_ELEMENTS // (4 * max(1, n_features)))
    unprepared = RowPrep(prep.normalize, None)

    def prepared64(part, start):
        return unprepared(part, start, float32=False)

    return _sum_over_sub_blocks(block, offset, rows, prepared64, pool, work)


def table_stats(source):
    """Mean and per-column variance of the prepared rows of ``source``."""
    stats = source.reduce(stats_kernel)
    return stats.mean, stats.m2 / stats.count


# --- The assignment pass -----------------------------------------------------


@dataclass(frozen=True)
class Model:
    """One codebook being fitted: its columns and its (centered) centers.

    ``minus_twice_t`` and ``squared_norms`` are the float32 factors of the
    ranking ``|c|^2 - 2 x.c``, whose argmin over centers is the nearest one.
    """

    columns: slice
    centers: np.ndarray
    minus_twice_t: np.ndarray
    squared_norms: np.ndarray

    @classmethod
    def of(cls, columns, centers):
        centers32 = centers.astype(np.float32)
        return cls(
            columns,
            centers,
            np.ascontiguousarray(-2.0 * centers32.T),
            np.einsum("ij,ij->i", centers32, centers32),
        )

    @property
    def n_clusters(self):
        return self.centers.shape[0]

    def nearest(self, rows):
        """Nearest center of each row, and the squared distance to it."""
        x = rows[:, self.columns]
        rank = x @ self.minus_twice_t
        rank += self.squared_norms
        labels = rank.argmin(axis=1)
        best = np.take_along_axis(rank, labels[:, None], axis=1)[:, 0]
        squared = best.astype(np.float64) + np.einsum("ij,ij->i", x, x)
        return labels, np.maximum(squared, 0.0, out=squared)


@dataclass
class Totals:
    """Per model: cluster sums (float64), sizes, and summed squared distance."""

    sums: list
    counts: list
    sq_error: np.ndarray

    def __add__(self, other):
        return Totals(
            [a + b for a, b in zip(self.sums, other.sums, strict=True)],
            [a + b for a, b in zip(self.counts, other.counts, strict=True)],
            self.sq_error + other.sq_error,
        )


def cluster_sums(values, labels, n_clusters):
    """Sum of the rows of ``values`` per label, in float64 (one sparse product)."""
    n_rows = values.shape[0]
    indicator = sparse.csr_matrix(
        (np.ones(n_rows), (labels, np.arange(n_rows))), shape=(n_clusters, n_rows)
    )
    return np.asarray(indicator @ values, dtype=np.float64)


def totals_kernel(block, offset, models, prep, pool):
    """Assign a block's rows to the nearest center of every model and sum."""

    def work(rows, start):
        sums, counts, errors = [], [], []
        for model in models:
            labels, squared = model.nearest(rows)
            k = model.n_clusters
            counts.append(np.bincount(labels, minlength=k))
            sums.append(cluster_sums(rows[:, model.columns], labels, k))
            errors.append(squared.sum())
        return Totals(sums, counts, np.asarray(errors))

    rows = _sub_block_rows(max(m.n_clusters for m in models), block.shape[1])
    return _sum_over_sub_blocks(block, offset, rows, prep, pool, work)


@dataclass
class Farthest:
    """Per model, the rows farthest from their updated center (at most ``limit``).

    Kept sorted by decreasing distance, ties by increasing row index.
    """

    distance: list
    index: list
    labels: list
    rows: list
    limit: int

    def __add__(self, other):
        merged = Farthest([], [], [], [], self.limit)
        for parts in zip(
            self.distance,
            other.distance,
            self.index,
            other.index,
            self.labels,
            other.labels,
            self.rows,
            other.rows,
            strict=True,
        ):
            distance = np.concatenate(parts[0:2])
            index = np.concatenate(parts[2:4])
            order = np.lexsort((index, -distance))[: self.limit]
            merged.distance.append(distance[order])
            merged.index.append(index[order])
            merged.labels.append(np.concatenate(parts[4:6])[order])
            merged.rows.append(np.concatenate(parts[6:8])[order])
        return merged


def farthest_kernel(block, offset, models, updated, limit, prep, pool):
    """Rows farthest from the updated center of the cluster they were assigned."""

    def work(rows, start):
        out = Farthest([], [], [], [], limit)
        for model, centers in zip(models, updated, strict=True):
            labels, _ = model.nearest(rows)
            x = rows[:, model.columns].astype(np.float64)
            diff = x - centers[labels]
            distance = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            order = np.lexsort((np.arange(len(distance)), -distance))[:limit]
            out.distance.append(distance[order])
            out.index.append(offset + start + order)
            out.labels.append(labels[order])
            out.rows.append(x[order])
        return out

    rows = _sub_block_rows(max(m.n_clusters for m in models), block.shape[1])
    return _sum_over_sub_blocks(block, offset, rows, prep, pool, work)


def _relocate(farthest, sums, counts, empty):
    """Move empty clusters onto the farthest rows, as ``KMeansL2`` does.

    Rows are taken in decreasing distance to their updated center, skipping a
    row that is the last of its cluster or sits on its center. ``sums`` and
    ``counts`` change in place.

    Returns
    -------
    int
        How many empty clusters got a row.
    """
    moved = 0
    for distance, label, row in zip(
        farthest.distance, farthest.labels, farthest.rows, strict=True
    ):
        if moved == len(empty):
            break
        if counts[label] > 1 and distance > 0:
            target = empty[moved]
            counts[label] -= 1
            sums[label] -= row
            counts[target] += 1
            sums[target] += row
            moved += 1
    return moved


# --- Seeding -----------------------------------------------------------------


def sample_rows(source, n_rows, random_state):
    """``n_rows`` distinct rows of ``source`` drawn uniformly, in float64.

    The rows are prepared as the source prepares its blocks, so the sample
    lies in the space being clustered.
    """
    n_samples = source.shape[0]
    if n_rows >= n_samples:
        indices = np.arange(n_samples)
    else:
        indices = np.sort(random_state.choice(n_samples, n_rows, replace=False))
    rows = source.take(indices)
    if source.prep is not None:
        # The float32 rows the passes see, whichever source prepared them.
        rows = source.prep(rows, 0).astype(np.float64)
    return rows


def seed_centers(sample, n_clusters, init, random_state):
    """k-means++ or random initial centers from the sample's distinct rows."""
    distinct = merge_duplicate_rows(sample, np.ones(sample.shape[0]))
    if distinct.points.shape[0] < n_clusters:
        raise ValueError(
            f"n_clusters={n_clusters} is larger than the number of distinct rows "
            f"({distinct.points.shape[0]}) among the {sample.shape[0]} rows sampled "
            "for the initialization"
        )
    if init == "random":
        return random_points(
            distinct.points, distinct.weights, n_clusters, random_state
        )
    return kmeans_plusplus(
        distinct.points, distinct.weights, n_clusters, _EuclideanMetric, random_state
    )


def init_sample_size(n_clusters):
    return _INIT_ROWS_PER_CLUSTER * n_clusters


# --- Lloyd over blocks -------------------------------------------------------


@dataclass
class BlockedResult:
    centers: list
    n_iter: np.ndarray
    counts: list
    sq_error: np.ndarray


def blocked_lloyd(source, columns, inits, tols, max_iter):
    """Lloyd's algorithm for several codebooks at once, one pass per iteration.

    Each pass reads every block once and assigns its rows in every model that
    has not converged. The update, the stopping rules and the relocation of
    empty clusters are those of ``KMeansL2``: a model stops when the squared
    center shift summed over centers is at most its tolerance (a pass that
    changes no label gives exactly the same centers, hence a zero shift), or
    after ``max_iter`` passes.

    Parameters
    ----------
    source : ArraySource or DaskSource
    columns : list of slice
        Columns of each model.
    inits : list of ndarray of shape (n_clusters, width)
        Initial centers of each model, in the prepared (centered) space.
    tols : list of float
        Absolute tolerance of each model on the summed squared shift.
    max_iter : int

    Returns
    -------
    BlockedResult
        Final centers (float64), iterations, the cluster sizes of each model's
        last pass, and its summed squared distance at that pass.
    """
    centers = [np.asarray(c, dtype=np.float64) for c in inits]
    n_models = len(centers)
    n_iter = np.zeros(n_models, dtype=int)
    counts = [np.zeros(c.shape[0], dtype=np.int64) for c in centers]
    sq_error = np.zeros(n_models)
    active = list(range(n_models))
    for iteration in range(max_iter):
        models = [Model.of(columns[i], centers[i]) for i in active]
        totals = source.reduce(totals_kernel, models)
        updated, empties = [], []
        for j, i in enumerate(active):
            counts[i] = totals.counts[j]
            sq_error[i] = totals.sq_error[j]
            with np.errstate(invalid="ignore", divide="ignore"):
                updated.append(totals.sums[j] / counts[i][:, None])
            empties.append(np.flatnonzero(counts[i] == 0))
        relocating = [j for j, empty in enumerate(empties) if empty.size]
        if relocating:
            limit = max(empties[j].size + models[j].n_clusters for j in relocating)
            farthest = source.reduce(
                farthest_kernel,
                [models[j] for j in relocating],
                [updated[j] for j in relocating],
                limit,
            )
            for position, j in enumerate(relocating):
                i = active[j]
                sums = totals.sums[j]
                _relocate(_Candidates(farthest, position), sums, counts[i], empties[j])
                with np.errstate(invalid="ignore", divide="ignore"):
                    updated[j] = sums / counts[i][:, None]
                # A cluster no row could be moved to keeps its center.
                still = np.isnan(updated[j][:, 0])
                updated[j][still] = centers[i][still]
        still_active = []
        for j, i in enumerate(active):
            shift = float(((updated[j] - centers[i]) ** 2).sum())
            centers[i] = updated[j]
            n_iter[i] = iteration + 1
            if shift > tols[i]:
                still_active.append(i)
        active = still_active
        if not active:
            break
    return BlockedResult(centers, n_iter, counts, sq_error)


class _Candidates:
    """The merged farthest rows of one model, as (distance, label, row) lists."""

    def __init__(self, farthest, position):
        self.distance = farthest.distance[position]
        self.labels = farthest.labels[position]
        self.rows = farthest.rows[position]


def final_sq_error(source, columns, centers):
    """Summed squared distance of every model's rows to its final centers."""
    models = [Model.of(c, x) for c, x in zip(columns, centers, strict=True)]
    return source.reduce(totals_kernel, models).sq_error


# --- Encoding ----------------------------------------------------------------


def encode_block(block, offset, columns, centers, dtype, prep, pool=None):
    """Codes of a block's rows, shape (n_rows, n_models), in ``dtype``."""
    models = [Model.of(c, x) for c, x in zip(columns, centers, strict=True)]
    codes = np.empty((block.shape[0], len(models)), dtype=dtype)
    rows = _sub_block_rows(max(m.n_clusters for m in models), block.shape[1])

    def work(start):
        part = block[start : start + rows]
        part = part if prep is None else prep(part, offset + start)
        for m, model in enumerate(models):
            codes[start : start + rows, m] = model.nearest(part)[0]

    starts = range(0, block.shape[0], rows)
    if pool is None or len(starts) == 1:
        for start in starts:
            work(start)
    else:
        list(pool.map(work, starts))
    return codes


def encode(source, columns, centers, dtype):
    """Codes of every row of an ArraySource, block by block."""
    n_rows = source.shape[0]
    codes = np.empty((n_rows, len(columns)), dtype=dtype)
    X = source.X
    with source.running():
        for start in range(0, n_rows, source.batch_rows):
            block = X[start : start + source.batch_rows]
            codes[start : start + block.shape[0]] = encode_block(
                block, start, columns, centers, dtype, source.prep, source._pool
            )
            _release_pages(block, source._mapped)
    return codes


def cosine_kernel(block, offset, columns, centers, codebook, prep, pool):
    """Summed cosine similarity of a block's rows and their reconstructions.

    ``centers`` are the centered codebooks used for encoding with ``prep``;
    ``codebook`` the same codebooks in the space of the rows, which rebuild
    them.
    """
    from .metrics import row_cosine_similarity

    codes = encode_block(block, offset, columns, centers, np.intp, prep, pool)
    rebuilt = np.hstack([book[codes[:, m]] for m, book in enumerate(codebook)])
    raw = np.asarray(block, dtype=np.float64)
    return CosineSum(float(row_cosine_similarity(raw, rebuilt).sum()), len(raw))


@dataclass
class CosineSum:
    total: float
    count: int

    def __add__(self, other):
        return CosineSum(self.total + other.total, self.count + other.count)
