"""Blocks of rows, and weighted sums over rows taken a block at a time.

A leaf module: the metrics and the Lloyd engine's seeding both sum over
rows without making a float64 copy of a whole table.
"""

import numpy as np

# Rows per block when a full (rows x features) difference is formed.
_BLOCK_ELEMENTS = 1 << 18


def row_blocks(X):
    """Slices of rows holding about ``_BLOCK_ELEMENTS`` values each."""
    step = max(64, _BLOCK_ELEMENTS // max(1, X.shape[1]))
    return [slice(start, start + step) for start in range(0, X.shape[0], step)]


def weighted_feature_sums(X, weights, center=None):
    """``weights @ X``, or ``weights @ (X - center)**2`` given ``center``.

    In float64 whatever the dtype of ``X``, a block of rows at a time, so
    that no float64 copy of a float32 table (nor a full table of squares) is
    made.
    """
    total = np.zeros(X.shape[1])
    for rows in row_blocks(X):
        block = X[rows]
        if center is not None:
            # Squared in place: a second temporary of the block's size made
            # the memory freed after each fit too large to keep, and a
            # 1797 x 64 fit page-faulted it back in (1 ms, a tenth of it).
            block = block - center
            np.square(block, out=block)
        total += weights[rows] @ block
    return total
