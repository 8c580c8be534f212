"""The dask side of ``VectorQuantizer``: passes and encoding over row chunks.

dask is an optional extra, imported inside these functions only, so that this
module loads (and skclust works) without it. Every pass runs the kernels of
``skclust._vq_scale`` as one task per row chunk and adds their results in a
fixed tree, on the active scheduler (a ``dask.distributed`` client if one
exists).
"""

from contextlib import contextmanager

import numpy as np

from ._vq_scale import encode_block


class DaskSource:
    """The row chunks of a dask array (its columns in one chunk)."""

    def __init__(self, X, prep):
        self.X = X
        self.prep = prep

    @property
    def shape(self):
        return self.X.shape

    @contextmanager
    def running(self):
        yield self

    def reduce(self, kernel, *args):
        import dask

        blocks = self.X.to_delayed().ravel()
        offsets = np.concatenate([[0], np.cumsum(self.X.chunks[0])[:-1]]).tolist()
        shared = dask.delayed(args, pure=True, traverse=False)
        parts = [
            dask.delayed(_apply_kernel, pure=True)(
                kernel, block, offset, shared, self.prep
            )
            for block, offset in zip(blocks, offsets, strict=True)
        ]
        while len(parts) > 1:
            pairs = [
                dask.delayed(_add, pure=True)(a, b)
                for a, b in zip(parts[::2], parts[1::2], strict=False)
            ]
            parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
        return parts[0].compute()

    def take(self, rows):
        return np.asarray(self.X[rows].compute(), dtype=np.float64)


def _apply_kernel(kernel, block, offset, args, prep):
    return kernel(block, offset, *args, prep, None)


def _add(a, b):
    return a + b


def encode_dask(X, columns, centers, dtype, prep):
    """Codes of a dask array, as a lazy dask array chunked like its rows."""
    offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]])

    def encode_chunk(block, block_info=None):
        where = 0 if block_info is None else block_info[0]["chunk-location"][0]
        offset = int(offsets[where])
        return encode_block(block, offset, columns, centers, dtype, prep)

    return X.map_blocks(
        encode_chunk,
        dtype=dtype,
        chunks=(X.chunks[0], (len(columns),)),
        meta=np.empty((0, len(columns)), dtype=dtype),
    )
