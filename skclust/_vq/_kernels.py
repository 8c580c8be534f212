"""What ``VectorQuantizer``'s passes compute on one block of rows.

A kernel takes a block of raw rows, the index of its first row, its own
arguments, the source's ``RowPrep`` and a thread pool (or None), and returns a
per-block result that adds with ``+``; a source's ``reduce`` sums these over
the table (see ``skclust._vq._sources``).

Inside a block, rows are taken ``_sub_block_rows`` at a time: the rows are
normalized and centered in float64, then cast to float32, and each
sub-block's nearest centers come from one float32 matrix product and an
argmin; cluster sums accumulate in float64. Working memory is a few
sub-blocks, whatever the size of the block or of the table.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._sources import RowPrep

# Elements of the float32 (rows x centers) distance matrix of one sub-block:
# 4 MB, which measured as fast as larger blocks for the matrix product and
# keeps the scratch memory small.
_SUB_BLOCK_ELEMENTS = 1 << 20


def _sub_block_rows(n_clusters, n_features):
    return max(64, _SUB_BLOCK_ELEMENTS // max(n_clusters, n_features))


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


# --- Statistics of the prepared rows -----------------------------------------


@dataclass
class Stats:
    """Row count, mean and sum of squared deviations per column (Chan et al.).

    ``zero_rows`` counts the rows that are all zeros.
    """

    count: int
    mean: np.ndarray
    m2: np.ndarray
    zero_rows: int = 0

    def __add__(self, other):
        if not self.count or not other.count:
            return self if other.count == 0 else other
        count = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / count)
        m2 = self.m2 + other.m2 + delta**2 * (self.count * other.count / count)
        return Stats(count, mean, m2, self.zero_rows + other.zero_rows)


def stats_kernel(block, offset, prep, pool):
    """Statistics of a block's prepared rows (which also checks the rows)."""

    def work(rows, start):
        mean = rows.mean(axis=0)
        zero_rows = rows.shape[0] - int(np.count_nonzero(rows.any(axis=1)))
        return Stats(rows.shape[0], mean, ((rows - mean) ** 2).sum(axis=0), zero_rows)

    n_features = block.shape[1]
    # float64 copies of the rows are the scratch here: keep them near 2 MB.
    rows = max(64, _SUB_BLOCK_ELEMENTS // (4 * max(1, n_features)))
    unprepared = RowPrep(prep.normalize, None)

    def prepared64(part, start):
        return unprepared(part, start, float32=False)

    return _sum_over_sub_blocks(block, offset, rows, prepared64, pool, work)


# --- Assignment to the nearest center ----------------------------------------


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


def models_of(columns, centers):
    """One ``Model`` per pair of columns and centers."""
    return [Model.of(c, x) for c, x in zip(columns, centers, strict=True)]


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


# --- Candidates for empty clusters -------------------------------------------


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


# --- Using a fitted codebook -------------------------------------------------


def encode_block(block, offset, columns, centers, dtype, prep, pool=None):
    """Codes of a block's rows, shape (n_rows, n_models), in ``dtype``."""
    models = models_of(columns, centers)
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


@dataclass
class CosineSum:
    total: float
    count: int

    def __add__(self, other):
        return CosineSum(self.total + other.total, self.count + other.count)


def cosine_kernel(block, offset, columns, centers, codebook, prep, pool):
    """Summed cosine similarity of a block's rows and their reconstructions.

    ``centers`` are the centered codebooks used for encoding with ``prep``;
    ``codebook`` the same codebooks in the space of the rows, which rebuild
    them.
    """
    from ..metrics import row_cosine_similarity

    codes = encode_block(block, offset, columns, centers, np.intp, prep, pool)
    rebuilt = np.hstack([book[codes[:, m]] for m, book in enumerate(codebook)])
    raw = np.asarray(block, dtype=np.float64)
    return CosineSum(float(row_cosine_similarity(raw, rebuilt).sum()), len(raw))
