"""What ``VectorQuantizer``'s own passes compute on one block of rows.

A kernel takes a block of raw rows, the index of its first row, its own
arguments, the source's ``RowPrep`` and a thread pool (or None), and returns a
per-block result (see ``skclust._kmeans._sources``). The fit goes through the
Lloyd engine of ``skclust._kmeans``; what is left here is encoding rows into
codes and scoring reconstructions.

Inside a block, rows are taken a sub-block at a time: normalized and centered
in float64, then cast to float32, and each sub-block's nearest centers come
from one float32 matrix product and an argmin (``Euclidean32``).
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
