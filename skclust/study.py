"""The study's function interfaces, on top of the estimators.

The graduate study that skclust grew out of asked for plain functions: k-means
returning 1-based labels, an image ``compress`` returning a dictionary, and a
sweep of vector quantizers over k with memory and quality figures. They live
here, each mapping its own arguments (``norm_distance=1 or 2``) onto the
estimators' (``KMeansL1``, ``KMeansL2``, ``metric="l1"`` or ``"l2"``).
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.utils import check_array

from ._checks import check_count, check_finite
from ._kmeans import KMeansL1, KMeansL2, normalize_rows
from ._plural import counted
from ._typing import ArrayLike, NDArray, RandomStateLike
from ._vq import VectorQuantizer
from .image import ImageQuantizer, _check_image_array
from .metrics import row_cosine_similarity


def _one_based_result(estimator, pixels):
    # Checked here to be named: the estimator calls its argument X.
    pixels = check_array(pixels, accept_sparse=True, ensure_all_finite=False)
    check_finite(pixels, "pixels", f"{type(estimator).__name__} needs finite values")
    estimator.fit(pixels)
    return estimator.labels_.reshape(-1, 1) + 1, estimator.cluster_centers_


def kmeans_l2(
    pixels: ArrayLike, n_clusters: int, **params: Any
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Cluster the rows of ``pixels`` with ``KMeansL2``, homework style.

    Parameters
    ----------
    pixels : array-like of shape (n_pixels, n_channels)
        One row per pixel.
    n_clusters : int
        Number of clusters.
    **params
        Other ``KMeansL2`` parameters (``random_state``, ``n_init``, ...).

    Returns
    -------
    labels : ndarray of shape (n_pixels, 1)
        Cluster of each pixel, from 1 to ``n_clusters`` (int32).
    centers : ndarray of shape (n_clusters, n_channels)
        Cluster means.

    Examples
    --------
    >>> from skclust import kmeans_l2
    >>> labels, centers = kmeans_l2([[0, 0, 0], [1, 1, 1], [250, 250, 250]], 2,
    ...                             random_state=0)
    >>> labels.shape, sorted(set(labels.ravel().tolist()))
    ((3, 1), [1, 2])
    """
    return _one_based_result(KMeansL2(n_clusters, **params), pixels)


def kmeans_l1(
    pixels: ArrayLike, n_clusters: int, **params: Any
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Cluster the rows of ``pixels`` with ``KMeansL1``, homework style.

    Parameters
    ----------
    pixels : array-like of shape (n_pixels, n_channels)
        One row per pixel.
    n_clusters : int
        Number of clusters.
    **params
        Other ``KMeansL1`` parameters (``random_state``, ``n_init``, ...).

    Returns
    -------
    labels : ndarray of shape (n_pixels, 1)
        Cluster of each pixel, from 1 to ``n_clusters`` (int32).
    centers : ndarray of shape (n_clusters, n_channels)
        Cluster coordinate-wise medians.

    Examples
    --------
    >>> from skclust import kmeans_l1
    >>> labels, centers = kmeans_l1([[0, 0, 0], [2, 2, 2], [250, 250, 250]], 2,
    ...                             random_state=0)
    >>> labels.shape, sorted(set(labels.ravel().tolist()))
    ((3, 1), [1, 2])
    """
    return _one_based_result(KMeansL1(n_clusters, **params), pixels)


def compress(
    pixels: ArrayLike,
    num_clusters: int,
    norm_distance: Literal[1, 2] = 2,
    *,
    n_init: int = 1,
    random_state: RandomStateLike = None,
) -> dict[str, Any]:
    """The study's interface: cluster pixels and rebuild the image.

    Parameters
    ----------
    pixels : array-like of shape (n_pixels, 3) or (height, width, 3)
        RGB values in [0, 255]; grey levels as (n_pixels, 1) or
        (height, width, 1), clustered on their one channel (see
        :class:`~skclust.image.ImageQuantizer`).
    num_clusters : int
        Number of colours k.
    norm_distance : {1, 2}, default=2
        2 for squared Euclidean k-means (mean centers), 1 for Manhattan
        k-medians (median centers).
    n_init : int, default=1
        Number of random starts; the one with the lowest inertia is kept.
    random_state : int, RandomState instance or None, default=None
        Seeds of the starts.

    Returns
    -------
    dict
        ``"class"``: labels from 1 to k, shape (n_pixels, 1);
        ``"centroid"``: the k centers, floats in [0, 255], shape (k, 3) or
        (k, 1) for grey levels;
        ``"img"``: the reconstructed image (uint8, the shape of ``pixels``);
        ``"number_of_iterations"``; ``"time_taken"`` (seconds);
        ``"additional_args"``: ``{"inertia", "metric", "n_init"}``.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.image import compress
    >>> pixels = np.array([[0, 0, 0], [2, 2, 2], [250, 250, 250], [252, 252, 252]])
    >>> result = compress(pixels, 2, norm_distance=1, random_state=0)
    >>> sorted(result)  # doctest: +NORMALIZE_WHITESPACE
    ['additional_args', 'centroid', 'class', 'img',
     'number_of_iterations', 'time_taken']
    >>> sorted(result["class"].ravel().tolist())
    [1, 1, 2, 2]
    """
    # True == 1: a flag passed by mistake chose the L1 metric silently.
    if isinstance(norm_distance, (bool, np.bool_)) or norm_distance not in (1, 2):
        raise ValueError(f"norm_distance must be 1 or 2; got {norm_distance!r}")
    array = np.asarray(pixels)
    if array.ndim not in (2, 3):
        # Any other shape was flattened into one row of pixels.
        raise ValueError(
            "pixels must be of shape (n_pixels, n_channels) or (height, width, "
            f"n_channels); got {array.shape}"
        )
    image = array if array.ndim == 3 else array.reshape(1, -1, array.shape[-1])
    # Checked here to be named: ImageQuantizer calls its argument image. It
    # takes the uint8 image returned as it is, grey levels given back their
    # third axis: a grey image 3 or 4 pixels wide is not read as RGB rows.
    image = _check_image_array(image, "pixels").reshape((*image.shape[:2], -1))
    metric = "l2" if norm_distance == 2 else "l1"
    start = time.perf_counter()
    quantizer = ImageQuantizer(
        num_clusters, metric=metric, n_init=n_init, random_state=random_state
    )
    reconstructed = quantizer.fit_transform(image)
    elapsed = time.perf_counter() - start
    return {
        "class": quantizer.labels_.reshape(-1, 1) + 1,
        "centroid": quantizer.cluster_centers_,
        "img": reconstructed.reshape(array.shape),
        "number_of_iterations": quantizer.n_iter_,
        "time_taken": elapsed,
        "additional_args": {
            "inertia": quantizer.inertia_,
            "metric": metric,
            "n_init": n_init,
        },
    }


@dataclass
class EmbeddingCompression:
    """Result of :func:`compress_embeddings`.

    Attributes
    ----------
    rows : list of dict
        One row of memory and quality figures per k, in increasing k.
    fitted : dict
        ``{k: (quantizer, codes)}``: each fitted ``VectorQuantizer`` and the
        codes of the table's rows, which the quantizer also holds as its
        searchable ``codes_`` (added with ``add``).
    """

    rows: list = field(default_factory=list)
    fitted: dict = field(default_factory=dict)


def _unit_rows(X, name):
    """Unit rows of float64 ``X`` (in place), as the quantizer scales them;
    the study refuses rows of zero length rather than keep them zero."""
    nonzero = X.any(axis=1)
    if not nonzero.all():
        raise ValueError(
            f"{name}: row {int(np.argmin(nonzero))} has zero length; "
            "drop it or do not normalize"
        )
    return normalize_rows(X)


# Rows per centroid that train_size="auto" samples, as faiss's k-means
# (max_points_per_centroid) does.
TRAIN_ROWS_PER_CENTROID = 256

# Table rows compared with all recall queries at once by the exact search.
_EXACT_BLOCK_ROWS = 4096


def _exact_neighbors(unit, queries, n_neighbors):
    """The ``n_neighbors`` rows of largest cosine to each query row, itself
    left out, nearest first (ties: lower row).

    ``unit`` holds unit rows; ``queries`` are sorted row indices. The table
    is read in blocks, each compared with all queries at once by one float32
    matrix product. Only the similarities above a query's current
    ``n_neighbors``-th best are kept from a block: after the first blocks
    they are few, and sorting whole blocks took most of the time.
    """
    n_queries = len(queries)
    targets = np.asarray(unit[queries], dtype=np.float32)
    best_sim = np.full((n_queries, n_neighbors), -np.inf)
    best_row = np.full((n_queries, n_neighbors), -1, dtype=np.intp)
    own = np.arange(n_queries)
    for start in range(0, unit.shape[0], _EXACT_BLOCK_ROWS):
        block = np.asarray(unit[start : start + _EXACT_BLOCK_ROWS], dtype=np.float32)
        sim = targets @ block.T
        inside = (queries >= start) & (queries < start + block.shape[0])
        sim[own[inside], queries[inside] - start] = -np.inf
        # A later row ties with a kept one and loses (ties: lower row), so
        # only larger similarities can enter.
        passing = sim > best_sim[:, -1:].astype(np.float32)
        if np.count_nonzero(passing) > 4 * passing.shape[0] * n_neighbors:
            # The first blocks, where most pass: each query's best of the
            # block first (ties at its edge are rare in float products).
            top = np.argpartition(-sim, n_neighbors - 1, axis=1)[:, :n_neighbors]
            chosen = np.zeros_like(passing)
            np.put_along_axis(chosen, top, True, axis=1)
            passing &= chosen
        # The 1-D search is several times faster than np.nonzero's 2-D one.
        query, column = np.divmod(np.flatnonzero(passing), passing.shape[1])
        if not query.size:
            continue
        query = np.concatenate([np.repeat(own, n_neighbors), query])
        rows = np.concatenate([best_row.ravel(), column + start])
        sims = np.concatenate(
            [best_sim.ravel(), sim[query[n_queries * n_neighbors :], column]]
        )
        order = np.lexsort((rows, -sims, query))
        first = np.searchsorted(query[order], own)
        keep = order[first[:, None] + np.arange(n_neighbors)]
        best_sim, best_row = sims[keep], rows[keep]
    return best_row


def _recall_from_codes(quantizer, X, queries, truth):
    """Share of each query row's true neighbours found by a search over the
    quantizer's added codes (cosine, asymmetric distances), leaving out the
    query's own row."""
    n_neighbors = truth.shape[1]
    found = quantizer.kneighbors(
        X[queries], n_neighbors + 1, metric="cosine", return_distance=False
    )
    hits = 0
    for query, near, true in zip(queries, found, truth, strict=True):
        near = near[near != query][:n_neighbors]
        hits += np.intersect1d(near, true).size
    return hits / truth.size


# Rows per block of the quality figures: full-table temporaries (several
# times the table in float64) cost more in page faults than in arithmetic.
_QUALITY_BLOCK_ROWS = 65_536


def _quality(X, target, rebuilt):
    """Mean cosine of ``X`` and ``rebuilt`` rows, and the relative squared
    error of ``rebuilt`` against ``target``, as ``mean_cosine_similarity``
    and ``relative_mse`` give them, summed block by block."""
    cosine = squared_error = 0.0
    for start in range(0, X.shape[0], _QUALITY_BLOCK_ROWS):
        rows = slice(start, start + _QUALITY_BLOCK_ROWS)
        cosine += float(row_cosine_similarity(X[rows], rebuilt[rows]).sum())
        diff = target[rows] - rebuilt[rows]
        squared_error += float(np.einsum("ij,ij->", diff, diff))
    total = float(np.einsum("ij,ij->", target, target))
    if total == 0:
        raise ValueError("X is all zeros: the relative error is undefined")
    return cosine / X.shape[0], squared_error / total


def _train_rows(n_rows, k, train_size, rng):
    """Rows a fit for ``k`` trains on (sorted), or None for all of them."""
    size = TRAIN_ROWS_PER_CENTROID * k if train_size == "auto" else train_size
    if size is None or size >= n_rows:
        return None
    return np.sort(rng.choice(n_rows, max(size, k), replace=False))


def compress_embeddings(
    X: NDArray[np.floating],
    ks: Iterable[int],
    *,
    n_subvectors: int = 1,
    n_init: int | Literal["auto"] = 10,
    normalize: bool = True,
    batch_size: int | None = None,
    train_size: int | Literal["auto"] | None = None,
    recall_queries: int = 2000,
    random_state: int = 0,
    name: str = "table",
    log: Callable[[str], object] = print,
) -> EmbeddingCompression:
    """The study's interface: one ``VectorQuantizer`` per k, with its figures.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The embedding table.
    ks : iterable of int
        Codebook sizes; each is fitted once, in increasing order.
    n_subvectors : int, default=1
        Product quantization into this many sub-codebooks.
    n_init : int or "auto", default=10
        k-means++ starts per codebook; the lowest squared error is kept.
        ``"auto"`` is one start, as in ``VectorQuantizer``.
    normalize : bool, default=True
        Scale rows to unit length first (the quantizer's ``normalize``).
    batch_size : int or None, default=None
        The quantizer's ``batch_size``.
    train_size : int, "auto" or None, default=None
        Rows drawn at random (without replacement) to fit each k; all rows
        are then encoded. ``"auto"`` draws ``256 * k`` rows, as faiss's
        k-means samples at most 256 rows per centroid; None fits on every
        row. A size of at least the table fits on every row; one below k
        is raised to k rows (the ``train_rows`` column shows the size used).
    recall_queries : int, default=2000
        Rows used as queries of the recall@10 estimate. Their exact
        neighbours (cosine, by brute force) are found once for all k; each
        k's are found by searching its codes (``VectorQuantizer.kneighbors``,
        cosine), without rebuilding the table.
    random_state : int, default=0
        Seed of the fits, the training rows and the recall queries.
    name : str, default="table"
        Name of the table in messages.
    log : callable, default=print
        Receives one line per fitted k.

    Returns
    -------
    EmbeddingCompression
        Rows with k, code type, memory before and after (MB), the ratios, mean
        cosine similarity, relative squared error, recall@10, iterations,
        training rows and seconds; and the fitted quantizers with their codes.

    Raises
    ------
    ValueError
        For a k larger than the number of rows, and with ``normalize`` for a
        row of zero length, naming the table and the row. A study's figures
        would be misleading there, where ``VectorQuantizer`` itself only
        warns (duplicate centroids; zero rows left zero).

    Examples
    --------
    >>> from skclust.datasets import make_embeddings
    >>> from skclust.study import compress_embeddings
    >>> X = make_embeddings(300, 8, random_state=0)
    >>> result = compress_embeddings(X, [4, 16], n_init=1, log=lambda line: None)
    >>> [row["k"] for row in result.rows]
    [4, 16]
    >>> result.rows[1]["cosine"] > result.rows[0]["cosine"]
    True
    """
    n_rows, n_features = X.shape
    # A list: ks is read twice (checked, then fitted), and a generator
    # would be empty the second time.
    ks = sorted(set(ks))
    check_count(recall_queries, "recall_queries")
    for k in ks:
        if k > n_rows:
            raise ValueError(
                f"{name}: k={k} is larger than the number of rows ({n_rows})"
            )
        if k > 65536:
            raise ValueError(f"k={k}: at most 65536 codes fit in uint16")
    if n_features % n_subvectors:
        raise ValueError(
            f"{name}: n_subvectors={n_subvectors} does not divide the "
            f"{n_features} features"
        )
    if normalize and n_features == 1:
        # Checked before any fit, so the message names the table.
        raise ValueError(
            f"{name}: one feature; normalized it keeps only the sign of each "
            "row: do not normalize"
        )
    target = X.astype(np.float64)
    if normalize:
        target = _unit_rows(target, name)
    rng = np.random.RandomState(random_state)
    truth = queries = None
    if n_rows > 10:
        n_queries = min(recall_queries, n_rows)
        queries = np.sort(rng.choice(n_rows, n_queries, replace=False))
        unit = target if normalize else normalize_rows(target.copy())
        truth = _exact_neighbors(unit, queries, 10)
    result = EmbeddingCompression()
    for k in ks:
        train = _train_rows(n_rows, k, train_size, rng)
        start = time.perf_counter()
        vq = VectorQuantizer(
            k,
            normalize=normalize,
            n_subvectors=n_subvectors,
            n_init=n_init,
            random_state=random_state,
            batch_size=batch_size,
        ).fit(X if train is None else X[train])
        seconds = time.perf_counter() - start
        codes = vq.add(X).codes_
        rebuilt = vq.inverse_transform(codes)
        usage = vq.memory_usage(n_rows)
        cosine, error = _quality(X, target, rebuilt)
        recall = float("nan")
        if truth is not None:
            recall = _recall_from_codes(vq, X, queries, truth)
        row = {
            "k": k,
            "subvectors": n_subvectors,
            "code_dtype": usage.code_dtype,
            "original_mb": f"{usage.original_mb:.4f}",
            "compressed_mb": f"{usage.compressed_mb:.4f}",
            "ratio": round(usage.ratio, 3),
            "mb_ratio": round(usage.mb_ratio, 3),
            "cosine": round(cosine, 4),
            "relative_mse": round(error, 4),
            "recall_at_10": round(recall, 4),
            "iterations": vq.n_iter_,
            "train_rows": n_rows if train is None else len(train),
            "seconds": round(seconds, 3),
        }
        result.rows.append(row)
        result.fitted[k] = (vq, codes)
        # M is named when it is not 1: the report fits k = 256 once per M.
        codebooks = f" M={n_subvectors}" if n_subvectors > 1 else ""
        log(
            f"{name} k={k}{codebooks}: {counted(row['iterations'], 'iteration')}, "
            f"{seconds:.2f} s, {row['compressed_mb']} MB (ratio {usage.ratio:.3f}), "
            f"cosine {cosine:.4f}"
        )
    return result
