"""The codes of a vector quantizer: their layout, encoding and decoding.

A codebook of shape ``(n_subvectors, n_clusters, width)`` gives every row one
code per subvector, a contiguous range of ``width`` columns. Codes are stored
in the narrowest unsigned integer type that holds ``0 .. n_clusters - 1``.
``encode_rows`` turns the rows of a source into codes; ``check_codes``,
``rebuild_rows`` and ``decode_codes`` turn codes back into rows and refuse
codes that do not belong to the codebook.
"""

import numpy as np

from .._kmeans import DaskSource
from ._kernels import encode_block


def code_dtype(n_clusters):
    """Narrowest unsigned integer type holding codes ``0 .. n_clusters - 1``."""
    return np.dtype(np.uint8 if n_clusters <= 256 else np.uint16)


def subvector_slices(n_features, n_subvectors):
    """Contiguous column ranges of equal width, one per subvector."""
    width = n_features // n_subvectors
    return [slice(m * width, (m + 1) * width) for m in range(n_subvectors)]


# --- Rows to codes -----------------------------------------------------------


def encode_rows(source, columns, centers, dtype):
    """Codes of every row of a source, shape (n_samples, n_subvectors).

    Parameters
    ----------
    source : ArraySource or DaskSource
        Prepares its rows as ``centers`` expect (normalized and centered).
    columns : list of slice
        Columns of each subvector.
    centers : list of ndarray of shape (n_clusters, width)
        Centered codebook of each subvector.
    dtype : numpy.dtype
        Of the codes.

    Returns
    -------
    codes : ndarray or dask array
        Lazy, and chunked like the rows, when ``source`` is a ``DaskSource``.
    """
    if isinstance(source, DaskSource):
        return _encode_dask(source, columns, centers, dtype)
    codes = np.empty((source.shape[0], len(columns)), dtype=dtype)
    with source.running():
        for start, block in source.blocks():
            codes[start : start + block.shape[0]] = encode_block(
                block, start, columns, centers, dtype, source.prep, source.pool
            )
    return codes


def _encode_dask(source, columns, centers, dtype):
    """Codes of a dask array, as a lazy dask array chunked like its rows."""
    X, prep, offsets = source.X, source.prep, source.offsets

    def encode_chunk(block, block_info=None):
        where = 0 if block_info is None else block_info[0]["chunk-location"][0]
        return encode_block(block, offsets[where], columns, centers, dtype, prep)

    return X.map_blocks(
        encode_chunk,
        dtype=dtype,
        chunks=(X.chunks[0], (len(columns),)),
        meta=np.empty((0, len(columns)), dtype=dtype),
    )


# --- Codes to rows -----------------------------------------------------------


def check_codes(codes, n_subvectors):
    """Refuse codes that are not 2-D integers with one column per subvector."""
    if codes.ndim != 2 or codes.shape[1] != n_subvectors:
        raise ValueError(
            f"codes of shape {codes.shape} do not fit a codebook of "
            f"{n_subvectors} subvector(s): expected (n_samples, {n_subvectors})"
        )
    if codes.dtype.kind not in "iu":
        raise ValueError(f"codes must be integers, got dtype {codes.dtype}")


def rebuild_rows(codes, codebook):
    """Rows rebuilt from checked ``codes``, after checking their range.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_subvectors), integer
        Passed by ``check_codes``.
    codebook : ndarray of shape (n_subvectors, n_clusters, width), float32

    Returns
    -------
    ndarray of shape (n_samples, n_subvectors * width), float32
    """
    n_subvectors, n_clusters, width = codebook.shape
    if codes.size:
        low, high = int(codes.min()), int(codes.max())
        if low < 0 or high >= n_clusters:
            bad = low if low < 0 else high
            raise ValueError(
                f"code {bad} is outside 0..{n_clusters - 1}: these codes do not "
                "come from this codebook"
            )
    out = np.empty((codes.shape[0], n_subvectors * width), dtype=np.float32)
    for m in range(n_subvectors):
        out[:, m * width : (m + 1) * width] = codebook[m][codes[:, m]]
    return out


def decode_codes(codes, codebook):
    """Rows rebuilt from ``codes`` and a ``codebook`` saved by ``skclust vq``.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_subvectors), integer
    codebook : ndarray of shape (n_subvectors, n_clusters, width), float

    Returns
    -------
    ndarray of shape (n_samples, n_subvectors * width), float32

    Raises
    ------
    ValueError
        When the codes do not belong to the codebook (shape or range), or
        the codebook is not finite in float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._vq._codes import decode_codes
    >>> codebook = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    >>> decode_codes(np.array([[1], [0]], dtype=np.uint8), codebook)
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    codebook = np.asarray(codebook)
    if codebook.ndim != 3 or codebook.dtype.kind != "f" or 0 in codebook.shape:
        raise ValueError(
            "codebook must be a non-empty float array of shape (n_subvectors, "
            f"n_clusters, width), got {codebook.dtype} of shape {codebook.shape}"
        )
    if not np.isfinite(codebook).all():
        # A damaged or hand-made file: decoding it wrote a table of NaN.
        raise ValueError("the codebook holds NaN or infinite values")
    with np.errstate(over="ignore"):
        codebook = codebook.astype(np.float32, copy=False)
    if not np.isfinite(codebook).all():
        # A float64 codebook beyond float32's range: decoding it wrote a
        # table of infinities, after a RuntimeWarning.
        raise ValueError(
            "the codebook holds values beyond the float32 range "
            f"(+-{np.finfo(np.float32).max:.3g})"
        )
    codes = np.asarray(codes)
    check_codes(codes, codebook.shape[0])
    return rebuild_rows(codes, codebook)
