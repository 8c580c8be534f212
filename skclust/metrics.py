"""Quality figures for clusterings and reconstructions.

Image compression: mean squared error, PSNR and the size of a palette image.
Embedding compression: cosine similarity, relative squared error and
nearest-neighbour recall of a reconstructed table.
"""

import math

import numpy as np


def image_mse(original, reconstructed):
    """Mean squared error per channel value between two images.

    Parameters
    ----------
    original, reconstructed : array-like of the same shape
        Values on the 0-255 scale.

    Returns
    -------
    float

    Examples
    --------
    >>> from skclust.metrics import image_mse
    >>> image_mse([[0, 0, 0], [10, 10, 10]], [[0, 0, 0], [10, 10, 13]])
    1.5
    """
    a = np.asarray(original, dtype=np.float64)
    b = np.asarray(reconstructed, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.mean((a - b) ** 2))


def psnr(original, reconstructed, max_value=255.0):
    """Peak signal-to-noise ratio in decibels: ``10 log10(max^2 / MSE)``.

    Returns ``inf`` for identical images.

    Examples
    --------
    >>> from skclust.metrics import psnr
    >>> round(psnr([[0, 0, 0]], [[0, 0, 255]]), 3)
    4.771
    """
    mse = image_mse(original, reconstructed)
    return math.inf if mse == 0 else 10.0 * math.log10(max_value**2 / mse)


def palette_image_size(n_pixels, n_colors, n_channels=3):
    """Bytes of a raw 8-bit image and of its palette-plus-indices encoding.

    The palette holds ``n_colors`` colours of ``n_channels`` bytes; each pixel
    stores an index of ``ceil(log2(n_colors))`` bits (zero for one colour),
    packed.

    Returns
    -------
    dict
        ``raw_bytes``, ``palette_bytes``, ``index_bits``, ``compressed_bytes``
        and ``ratio`` (raw over compressed).

    Examples
    --------
    >>> from skclust.metrics import palette_image_size
    >>> size = palette_image_size(n_pixels=1000, n_colors=16)
    >>> size["index_bits"], size["compressed_bytes"], size["ratio"]
    (4, 548, 5.474452554744525)
    """
    index_bits = math.ceil(math.log2(n_colors)) if n_colors > 1 else 0
    raw = n_pixels * n_channels
    palette = n_colors * n_channels
    compressed = palette + math.ceil(n_pixels * index_bits / 8)
    return {
        "raw_bytes": raw,
        "palette_bytes": palette,
        "index_bits": index_bits,
        "compressed_bytes": compressed,
        "ratio": raw / compressed,
    }


# --- Embedding compression (vector quantization) ------------------------------
# Quality of a reconstructed embedding table against the original.


def _as_table(X, name):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {X.shape}")
    return X


def _paired_tables(X, X_reconstructed):
    X = _as_table(X, "X")
    R = _as_table(X_reconstructed, "X_reconstructed")
    if X.shape != R.shape:
        raise ValueError(f"shapes differ: {X.shape} and {R.shape}")
    return X, R


def row_cosine_similarity(X, X_reconstructed):
    """Cosine similarity between each row of ``X`` and the same row rebuilt.

    A zero row has no direction: its similarity is 1 with a zero row and 0
    with any other, so the result never holds NaN.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skclust.metrics import row_cosine_similarity
    >>> row_cosine_similarity([[1, 0], [0, 2], [0, 0]], [[2, 0], [1, 1], [0, 0]])
    array([1.        , 0.70710678, 1.        ])
    """
    X, R = _paired_tables(X, X_reconstructed)
    dot = np.einsum("ij,ij->i", X, R)
    norms = np.linalg.norm(X, axis=1) * np.linalg.norm(R, axis=1)
    cosine = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
    both_zero = ~X.any(axis=1) & ~R.any(axis=1)
    cosine[both_zero] = 1.0
    return cosine


def mean_cosine_similarity(X, X_reconstructed):
    """Mean over rows of the cosine similarity between a row and its rebuild.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)

    Returns
    -------
    float
        1 for a perfect reconstruction (up to row lengths, which cosine
        ignores).

    Examples
    --------
    >>> from skclust.metrics import mean_cosine_similarity
    >>> mean_cosine_similarity([[1, 0], [0, 1]], [[3, 0], [1, 1]])
    0.8535533905932737
    """
    return float(row_cosine_similarity(X, X_reconstructed).mean())


def relative_mse(X, X_reconstructed):
    """Squared reconstruction error relative to the table's squared size.

    ``sum (X - X_reconstructed)^2 / sum X^2``: 0 for a perfect reconstruction,
    1 for an all-zero one.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)

    Returns
    -------
    float

    Examples
    --------
    >>> from skclust.metrics import relative_mse
    >>> relative_mse([[1, 0], [0, 1]], [[1, 0], [0, 0]])
    0.5
    """
    X, R = _paired_tables(X, X_reconstructed)
    total = float(np.einsum("ij,ij->", X, X))
    if total == 0:
        raise ValueError("X is all zeros: the relative error is undefined")
    diff = X - R
    return float(np.einsum("ij,ij->", diff, diff)) / total


def _top_neighbors(similarity, exclude, n_neighbors):
    """Indices of the ``n_neighbors`` most similar columns of each row.

    ``exclude`` gives, per row, a column left out (the query itself). Ties go
    to the lowest column index, so the result does not depend on how the
    partial sort breaks them.
    """
    rows = np.arange(similarity.shape[0])
    similarity[rows, exclude] = -np.inf
    # The n-th largest value of each row, then every column above it plus the
    # lowest-indexed columns equal to it.
    kth = -np.partition(-similarity, n_neighbors - 1, axis=1)[:, n_neighbors - 1]
    above = similarity > kth[:, None]
    tied = similarity == kth[:, None]
    room = n_neighbors - above.sum(axis=1)
    tied &= np.cumsum(tied, axis=1) <= room[:, None]
    chosen = above | tied
    return np.nonzero(chosen)[1].reshape(len(rows), n_neighbors)


def neighbor_recall(
    X,
    X_reconstructed,
    n_neighbors=10,
    *,
    metric="cosine",
    n_queries=None,
    random_state=None,
):
    """Recall of the nearest neighbours found in a reconstructed table.

    Each query is a row of ``X``. Its true neighbours are the ``n_neighbors``
    other rows of ``X`` closest to it; the found ones are the ``n_neighbors``
    rows of ``X_reconstructed`` closest to the (original) query, leaving out
    its own row, as a search over the compressed table would return them.
    The recall is the fraction of true neighbours found, averaged over
    queries. Rows that share a code are tied in the reconstructed table; ties
    go to the lowest row index.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)
        At least ``n_neighbors + 1`` rows.
    n_neighbors : int, default=10
    metric : {"cosine", "euclidean"}, default="cosine"
        Cosine similarity (zero rows are similar to nothing) or Euclidean
        distance.
    n_queries : int, default=None
        Use this many rows, drawn at random, as queries; None uses every row.
        The cost is ``n_queries * n_samples`` similarities.
    random_state : int, RandomState instance or None, default=None
        Draws the queries.

    Returns
    -------
    float
        Between 0 and 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.metrics import neighbor_recall
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> neighbor_recall(X, X, n_neighbors=1)
    1.0
    >>> neighbor_recall(X, X[[0, 2, 1, 3]], n_neighbors=1)
    0.0
    """
    from sklearn.utils import check_random_state

    X, R = _paired_tables(X, X_reconstructed)
    n_samples = X.shape[0]
    if not 1 <= n_neighbors < n_samples:
        raise ValueError(
            f"n_neighbors={n_neighbors} needs between 2 and n_samples - 1 = "
            f"{n_samples - 1} rows besides the query"
        )
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    if n_queries is None or n_queries >= n_samples:
        queries = np.arange(n_samples)
    else:
        rng = check_random_state(random_state)
        queries = np.sort(rng.choice(n_samples, n_queries, replace=False))

    def similarity(A, B):
        if metric == "cosine":
            A = _unit_rows(A)
            B = _unit_rows(B)
            return A @ B.T
        # Minus the squared distance, less the query's own squared norm.
        return 2.0 * (A @ B.T) - np.einsum("ij,ij->i", B, B)[None, :]

    found = 0
    step = max(1, (1 << 22) // n_samples)
    for start in range(0, len(queries), step):
        rows = queries[start : start + step]
        true = _top_neighbors(similarity(X[rows], X), rows, n_neighbors)
        near = _top_neighbors(similarity(X[rows], R), rows, n_neighbors)
        found += sum(
            np.intersect1d(t, n, assume_unique=True).size
            for t, n in zip(true, near, strict=True)
        )
    return found / (len(queries) * n_neighbors)


def _unit_rows(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
