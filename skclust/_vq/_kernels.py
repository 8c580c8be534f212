"""What ``VectorQuantizer``'s own passes compute on one block of rows.

A kernel takes a block of raw rows, the index of its first row, its own
arguments, the source's ``RowPrep`` and a thread pool (or None), and returns a
per-block result (see ``skclust._kmeans._sources``). The fit goes through the
Lloyd engine of ``skclust._kmeans``; what is left here is encoding rows into
codes and scoring reconstructions.

Inside a block, rows are taken a sub-block at a time: normalized and centered
in float64, then cast to float32, and each sub-block's nearest centers come
from the compiled float32 ranking of ``Euclidean32`` (``_nearest.pyx``).
"""

from dataclasses import dataclass

import numpy as np

from .._kmeans import Euclidean32, sub_block_rows


def encode_block(block, offset, columns, centers, dtype, prep, pool=None):
    """Codes of a block's rows, shape (n_rows, n_models), in ``dtype``."""
    prepared = [Euclidean32.prepared_for_blocks(c) for c in centers]
    codes = np.empty((block.shape[0], len(columns)), dtype=dtype)
    rows = sub_block_rows(max(c.shape[0] for c in centers), block.shape[1])

    def work(start):
        part = block[start : start + rows]
        part = part if prep is None else prep(part, offset + start)
        for m, (cols, factors) in enumerate(zip(columns, prepared, strict=True)):
            codes[start : start + rows, m] = Euclidean32.block_labels(
                part[:, cols], factors, False
            )[0]

    _each_sub_block(work, block.shape[0], rows, pool)
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


@dataclass
class FarthestRows:
    """Per codebook: the rows of a batch assigned to each centroid, and the
    ``limit`` rows farthest from their nearest centroid.

    ``distance`` and ``index`` are sorted by decreasing distance, ties by
    increasing row index, so that they do not depend on how the batch is cut
    into blocks.
    """

    sizes: list
    distance: list
    index: list
    limit: int

    def __add__(self, other):
        pairs = zip(self.sizes, other.sizes, strict=True)
        distances = zip(self.distance, other.distance, strict=True)
        indices = zip(self.index, other.index, strict=True)
        return FarthestRows(
            [a + b for a, b in pairs],
            [np.concatenate(pair) for pair in distances],
            [np.concatenate(pair) for pair in indices],
            self.limit,
        ).farthest()

    def farthest(self):
        """Keep the ``limit`` farthest rows of each codebook, sorted."""
        for m, distance in enumerate(self.distance):
            order = np.lexsort((self.index[m], -distance))[: self.limit]
            self.distance[m], self.index[m] = distance[order], self.index[m][order]
        return self


def farthest_kernel(block, offset, columns, centers, limit, prep, pool):
    """``FarthestRows`` of a block, for the centered codebooks ``centers``.

    Rows are assigned as ``encode_block`` does; the distance to the nearest
    centroid is then taken in float64 to the centroid rounded to float32, so
    that a row equal to a centroid in float32 is at distance zero.
    """
    prepared = [Euclidean32.prepared_for_blocks(c) for c in centers]
    rounded = [c.astype(np.float32).astype(np.float64) for c in centers]
    n_clusters = centers[0].shape[0]
    labels = np.empty((len(columns), block.shape[0]), dtype=np.intp)
    distance = np.empty((len(columns), block.shape[0]))
    rows = sub_block_rows(n_clusters, block.shape[1])

    def work(start):
        here = slice(start, start + rows)
        part = block[here]
        part = part if prep is None else prep(part, offset + start)
        for m, (cols, factors) in enumerate(zip(columns, prepared, strict=True)):
            x = part[:, cols]
            labels[m, here] = Euclidean32.block_labels(x, factors, False)[0]
            nearest = rounded[m][labels[m, here]]
            distance[m, here] = ((x.astype(np.float64) - nearest) ** 2).sum(axis=1)

    _each_sub_block(work, block.shape[0], rows, pool)
    index = np.arange(offset, offset + block.shape[0])
    return FarthestRows(
        [np.bincount(found, minlength=n_clusters) for found in labels],
        list(distance),
        [index] * len(columns),
        limit,
    ).farthest()


def _each_sub_block(work, n_rows, rows, pool):
    """``work(start)`` for each sub-block of ``rows`` rows, on ``pool``'s
    threads when there is more than one."""
    starts = range(0, n_rows, rows)
    if pool is None or len(starts) == 1:
        for start in starts:
            work(start)
    else:
        list(pool.map(work, starts))
