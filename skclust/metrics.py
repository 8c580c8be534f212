"""Quality figures for clusterings and reconstructions.

Majority-label mismatch (graph clustering): each cluster is given the label
most of its members carry (its majority label); a member with another label is
a mismatch. The overall mismatch rate is the number of mismatches over the
number of nodes, so it does not depend on how clusters are numbered and it
falls to 0 when every cluster is pure. Splitting a cluster can never raise
the rate, so it keeps falling as k grows (every node alone scores 0): it must
not be used to compare different k. :func:`label_agreement` gives it beside
the adjusted Rand index and the normalized mutual information, which do
penalize splitting; :func:`modularity` and :func:`conductance` rate a
clustering of a graph without labels.

Image compression: mean squared error, PSNR and the size of a palette image.
Embedding compression: cosine similarity, relative squared error and
nearest-neighbour recall of a reconstructed table.
"""

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import ClusterMixin
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from ._checks import check_count, check_not_graph_object, real_csr
from ._kmeans import normalize_rows
from ._typing import ArrayLike, MatrixLike, NDArray, RandomStateLike

# Values handled at a time where whole float64 copies would cost memory.
_CHUNK = 1 << 18


@dataclass
class MismatchTable:
    """Per-cluster and overall majority-label mismatch.

    Attributes
    ----------
    clusters : ndarray of shape (n_clusters,)
        The cluster labels, sorted.
    sizes : ndarray of shape (n_clusters,)
        Members of each cluster.
    majority_labels : ndarray of shape (n_clusters,)
        The most frequent true label in each cluster (the smallest on a tie).
    mismatches : ndarray of shape (n_clusters,)
        Members whose label is not the majority label.
    n_samples : int
    """

    clusters: np.ndarray
    sizes: np.ndarray
    majority_labels: np.ndarray
    mismatches: np.ndarray
    n_samples: int

    @property
    def rates(self) -> NDArray[np.float64]:
        """Mismatch rate of each cluster (mismatches / size)."""
        return self.mismatches / self.sizes

    @property
    def n_mismatches(self) -> int:
        """Total number of mismatched samples."""
        return int(self.mismatches.sum())

    @property
    def overall_rate(self) -> float:
        """Total mismatches over the number of samples."""
        return self.n_mismatches / self.n_samples

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per cluster, for tables."""
        return [
            {
                "cluster": _plain(cluster),
                "size": int(size),
                "majority_label": _plain(label),
                "mismatches": int(mismatches),
                "mismatch_rate": float(rate),
            }
            for cluster, size, label, mismatches, rate in zip(
                self.clusters,
                self.sizes,
                self.majority_labels,
                self.mismatches,
                self.rates,
                strict=True,
            )
        ]


def _plain(value):
    """A numpy scalar as the matching Python scalar."""
    return value.item() if isinstance(value, np.generic) else value


def majority_label_mismatch(
    labels_true: ArrayLike, labels_pred: ArrayLike
) -> MismatchTable:
    """Per-cluster majority labels and mismatches of a clustering.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Known labels (any sortable values).
    labels_pred : array-like of shape (n_samples,)
        Cluster of each sample.

    Returns
    -------
    MismatchTable

    Examples
    --------
    >>> from skclust.metrics import majority_label_mismatch
    >>> table = majority_label_mismatch([0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1])
    >>> table.majority_labels.tolist(), table.mismatches.tolist()
    ([0, 1], [1, 1])
    >>> round(table.overall_rate, 4)
    0.3333
    """
    labels_true = np.asarray(labels_true)
    labels_pred = np.asarray(labels_pred)
    if labels_true.ndim != 1 or labels_true.shape != labels_pred.shape:
        raise ValueError(
            "labels_true and labels_pred must be 1-D and of the same length; got "
            f"shapes {labels_true.shape} and {labels_pred.shape}"
        )
    if labels_true.shape[0] == 0:
        raise ValueError("labels are empty: no samples to compare")
    classes, true_index = _sorted_labels(labels_true, "labels_true")
    clusters, cluster_index = _sorted_labels(labels_pred, "labels_pred")
    counts = np.zeros((clusters.shape[0], classes.shape[0]), dtype=np.int64)
    np.add.at(counts, (cluster_index.ravel(), true_index.ravel()), 1)
    sizes = counts.sum(axis=1)
    # argmax takes the first maximum: the smallest label wins a tie.
    majority = counts.argmax(axis=1)
    return MismatchTable(
        clusters=clusters,
        sizes=sizes,
        majority_labels=classes[majority],
        mismatches=sizes - counts.max(axis=1),
        n_samples=labels_true.shape[0],
    )


def _sorted_labels(labels, name):
    """The distinct labels, sorted, and the index of each sample's label."""
    if labels.dtype.kind in "fc" and np.isnan(labels).any():
        # scikit-learn's "Input contains NaN." named neither argument.
        raise ValueError(f"{name} holds NaN; a label must be a value")
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError:
        # numpy's message ("'<' not supported between instances of
        # 'NoneType' and 'int'") named neither the argument nor the cause.
        kinds = sorted({type(label).__name__ for label in labels.ravel()})
        raise ValueError(
            f"{name} mixes values that cannot be sorted together ({', '.join(kinds)})"
        ) from None


def mismatch_rate(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """Overall majority-label mismatch rate of a clustering.

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_samples,)

    Returns
    -------
    float
        Between 0 (every cluster pure) and ``1 - 1 / n_classes``.

    Examples
    --------
    >>> from skclust.metrics import mismatch_rate
    >>> mismatch_rate([0, 0, 1, 1], [5, 5, 5, 7])
    0.25
    """
    return majority_label_mismatch(labels_true, labels_pred).overall_rate


def majority_label_summary(
    labels_true: ArrayLike, labels_pred: ArrayLike, decimals: int = 2
) -> dict[str, Any]:
    """The mismatch in the shape the study grades (``find_majority_labels``).

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_samples,)
    decimals : int, default=2
        Rates are rounded to this many decimals.

    Returns
    -------
    dict
        ``{"overall_mismatch_rate": rate, "mismatch_rates": [{"majority_index":
        label, "mismatch_rate": rate}, ...]}`` with one entry per cluster in
        increasing cluster order; ``majority_index`` is the cluster's majority
        label.

    Examples
    --------
    >>> from skclust.metrics import majority_label_summary
    >>> majority_label_summary([0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1])
    {'overall_mismatch_rate': 0.33, 'mismatch_rates': [{'majority_index': 0, \
'mismatch_rate': 0.33}, {'majority_index': 1, 'mismatch_rate': 0.33}]}
    """
    table = majority_label_mismatch(labels_true, labels_pred)
    return {
        "overall_mismatch_rate": round(table.overall_rate, decimals),
        "mismatch_rates": [
            {
                "majority_index": _plain(label),
                "mismatch_rate": round(float(rate), decimals),
            }
            for label, rate in zip(table.majority_labels, table.rates, strict=True)
        ],
    }


def label_agreement(labels_true: ArrayLike, labels_pred: ArrayLike) -> dict:
    """Mismatch, adjusted Rand index and normalized mutual information.

    The majority-label mismatch can only fall when a cluster is split, so it
    cannot compare clusterings with different numbers of clusters; the
    adjusted Rand index (ARI, Hubert and Arabie 1985; 1 for the true
    partition, about 0 for a random one) and the normalized mutual
    information (NMI, arithmetic normalization; 1 for the true partition)
    penalize splitting the true groups as well as merging them. Both are
    scikit-learn's.

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_samples,)

    Returns
    -------
    dict
        ``{"mismatch_rate": float, "ari": float, "nmi": float}``.

    Examples
    --------
    >>> from skclust.metrics import label_agreement
    >>> scores = label_agreement([0, 0, 1, 1], [0, 0, 1, 2])
    >>> scores["mismatch_rate"], round(scores["ari"], 3), round(scores["nmi"], 3)
    (0.0, 0.571, 0.8)
    """
    rate = mismatch_rate(labels_true, labels_pred)
    return {
        "mismatch_rate": rate,
        "ari": float(adjusted_rand_score(labels_true, labels_pred)),
        "nmi": float(normalized_mutual_info_score(labels_true, labels_pred)),
    }


def _graph_and_labels(adjacency, labels):
    """The adjacency as CSR and each node's cluster index, both checked."""
    check_not_graph_object(adjacency, "adjacency")
    adjacency = real_csr(adjacency, copy=True)
    labels = np.asarray(labels)
    if labels.ndim != 1 or adjacency.shape != (labels.shape[0], labels.shape[0]):
        raise ValueError(
            f"adjacency of shape {adjacency.shape} does not match labels of "
            f"shape {labels.shape}"
        )
    if labels.shape[0] == 0:
        raise ValueError("labels are empty: a graph with no nodes has no clusters")
    _check_undirected_weights(adjacency)
    # Both scores are ratios of weights: dividing by the largest keeps sums
    # of weights near the float maximum from overflowing to NaN.
    largest = adjacency.data.max(initial=0.0)
    if largest > 0:
        adjacency.data /= largest
    _, index = _sorted_labels(labels, "labels")
    return adjacency, index.ravel()


def _check_undirected_weights(adjacency):
    """Refuse weights that are not finite, negative ones and a directed graph.

    Without this a negative or NaN weight, or an edge given in one direction
    only, gave a number that means nothing.
    """
    weights = adjacency.data
    if not np.all(np.isfinite(weights)):
        raise ValueError("the adjacency holds NaN or infinite weights")
    if np.any(weights < 0):
        raise ValueError("the adjacency holds negative weights")
    gap = np.abs((adjacency - adjacency.T).data).max(initial=0.0)
    if gap > 1e-10 * weights.max(initial=0.0):
        raise ValueError(
            "the adjacency must be symmetric (an undirected graph); symmetrize "
            "it first, for instance with "
            "skclust.datasets.graph_from_adjacency(adjacency).adjacency (each "
            "edge weighs the larger of its two directions)"
        )


def _cluster_sums(adjacency, index):
    """Per cluster: total degree, the weight of edges inside (both ends) and
    the weight of edges leaving it.

    A self-loop (diagonal entry ``A[i, i] = w``, the way networkx and
    scipy store one loop of weight w) counts twice, as it has two ends:
    2w in its node's degree and 2w inside its cluster. The sums are those
    of ``A + diag(A)``, which gives networkx's modularity and conductance.
    The cut is summed from the leaving edges themselves: the volume minus
    the weight inside, summed in another order, left about 1e-16 for a
    cluster without such edges.
    """
    loops = adjacency.diagonal()
    degree = np.asarray(adjacency.sum(axis=1)).ravel() + loops
    n_clusters = int(index.max()) + 1
    volumes = np.bincount(index, weights=degree, minlength=n_clusters)
    coo = adjacency.tocoo()
    same = index[coo.row] == index[coo.col]
    inside = np.bincount(
        index[coo.row[same]], weights=coo.data[same], minlength=n_clusters
    ) + np.bincount(index, weights=loops, minlength=n_clusters)
    cut = np.bincount(
        index[coo.row[~same]], weights=coo.data[~same], minlength=n_clusters
    )
    return volumes, inside, cut


def modularity(adjacency: MatrixLike, labels: ArrayLike) -> float:
    """Newman's modularity of a clustering of an undirected graph.

    ``Q = sum_c (e_c / 2m - (vol_c / 2m)^2)`` with ``e_c`` twice the weight of
    the edges inside cluster c, ``vol_c`` its total degree and ``2m`` the total
    degree of the graph (Newman and Girvan 2004). 0 for one cluster; higher
    means more edges inside clusters than the degrees alone explain.

    A self-loop of weight w, stored as ``A[i, i] = w`` (as
    ``networkx.to_scipy_sparse_array`` stores it), has two ends: it adds 2w
    to node i's degree and 2w to ``e_c``, so the figure is networkx's
    ``community.modularity``. :class:`~skclust.SpectralGraphClusterer`
    ignores the diagonal: to score the graph it clustered, drop the loops
    first (``A.setdiag(0)`` or :func:`skclust.datasets.graph_from_adjacency`).

    Parameters
    ----------
    adjacency : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, non-negative; the diagonal holds self-loops, each
        counted twice in its node's degree.
    labels : array-like of shape (n_nodes,)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.metrics import modularity
    >>> A = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> round(modularity(A, [0, 0, 1, 1]), 4)
    0.1667
    """
    adjacency, index = _graph_and_labels(adjacency, labels)
    volumes, inside, _ = _cluster_sums(adjacency, index)
    # Sums over the clusters taken exactly (then rounded once): renaming the
    # clusters reorders them, which changed the last bit.
    total = math.fsum(volumes)
    if total == 0:
        raise ValueError("the graph has no edges: modularity is undefined")
    return math.fsum(inside / total - (volumes / total) ** 2)


def conductance(adjacency: MatrixLike, labels: ArrayLike) -> NDArray[np.float64]:
    """Conductance of each cluster: cut weight over the smaller volume side.

    ``phi(c) = cut(c) / min(vol(c), vol(V) - vol(c))`` (lower is a better
    separated cluster); a cluster without edges out scores 0. A self-loop
    ``A[i, i] = w`` adds 2w to the volume of node i's cluster and nothing to
    its cut, as in networkx's ``cuts.conductance``; see :func:`modularity`
    for scoring the loop-free graph that
    :class:`~skclust.SpectralGraphClusterer` clusters.

    Parameters
    ----------
    adjacency : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, non-negative; the diagonal holds self-loops, each
        counted twice in its node's degree.
    labels : array-like of shape (n_nodes,)

    Returns
    -------
    ndarray of shape (n_clusters,)
        In the order of the sorted cluster labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.metrics import conductance
    >>> A = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> conductance(A, [0, 0, 1, 1]).tolist()
    [0.3333333333333333, 0.3333333333333333]
    """
    adjacency, index = _graph_and_labels(adjacency, labels)
    volumes, _, cut = _cluster_sums(adjacency, index)
    # The total summed exactly, in whatever order the clusters are named.
    smaller = np.minimum(volumes, math.fsum(volumes) - volumes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cut == 0, 0.0, cut / smaller)


def mismatch_scorer(estimator: ClusterMixin, X: MatrixLike, y: ArrayLike) -> float:
    """Minus the overall mismatch rate of a fitted clusterer's training labels.

    For ``GridSearchCV(scoring=mismatch_scorer)`` over a graph clusterer such
    as :class:`~skclust.SpectralGraphClusterer`, which labels the nodes it
    was fitted on and cannot predict new ones. The split must therefore test
    on the training nodes: pass ``cv=all_nodes_split(n_nodes)``. Higher is
    better, as scikit-learn scorers require.

    Parameters
    ----------
    estimator : fitted clusterer with ``labels_``, or a Pipeline ending in one
    X : array-like
        The test part of the input; for a precomputed graph the adjacency of
        the test nodes to the training nodes. It is only compared with the
        training input (number of rows, and the ``input_row_sums_`` that
        skclust's graph estimator records), to check that the test nodes are
        the training nodes.
    y : array-like of shape (n_samples,)
        The known labels of the test nodes.

    Returns
    -------
    float
        ``-mismatch_rate(y, estimator.labels_)``.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skclust import SpectralGraphClusterer
    >>> from skclust.datasets import load_karate_club
    >>> from skclust.metrics import all_nodes_split, mismatch_scorer
    >>> graph = load_karate_club()
    >>> search = GridSearchCV(
    ...     SpectralGraphClusterer(random_state=0), {"n_clusters": [2, 3, 4]},
    ...     scoring=mismatch_scorer, cv=all_nodes_split(graph.n_nodes),
    ... ).fit(graph.adjacency, graph.labels)
    >>> search.best_params_, round(float(-search.best_score_), 3)
    ({'n_clusters': 2}, 0.029)
    """
    from .model_selection import _final_step

    # A pipeline has no labels_ of its own: its clusterer is the last step,
    # and saw X as the others transform it.
    estimator, X = _final_step(estimator, X)
    labels = getattr(estimator, "labels_", None)
    if labels is None:
        raise ValueError(
            f"{type(estimator).__name__} is not fitted or has no labels_ to score"
        )
    if y is None:
        raise ValueError("mismatch_scorer needs the known labels y")
    # The test part must be the training input itself: same rows, and for
    # skclust's estimators the same row sums (a split of a precomputed graph
    # on other nodes gives the test nodes' links to the training nodes).
    row_sums = getattr(estimator, "input_row_sums_", None)
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    given = None
    if row_sums is not None and X.shape[0] == labels.shape[0]:
        given = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    if X.shape[0] != labels.shape[0] or (
        given is not None and not _same_sums(given, row_sums)
    ):
        raise ValueError(
            "mismatch_scorer rates the labels of the training nodes, but the "
            "test part of this split holds other nodes: use "
            "cv=all_nodes_split(n_nodes)"
        )
    return -mismatch_rate(y, labels)


def _same_sums(given, fitted):
    """Whether two vectors of row sums are equal up to rounding, at any scale.

    ``np.allclose``'s absolute tolerance of 1e-8 took every graph with
    weights near 1e-10 for the one fitted.
    """
    scale = max(float(np.abs(fitted).max(initial=0.0)), np.finfo(np.float64).tiny)
    return bool(np.allclose(given / scale, fitted / scale, rtol=1e-9, atol=1e-12))


def all_nodes_split(
    n_nodes: int,
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """A single cross-validation split that trains and tests on every node.

    Parameters
    ----------
    n_nodes : int

    Returns
    -------
    list of one (train, test) pair of index arrays

    Examples
    --------
    >>> from skclust.metrics import all_nodes_split
    >>> all_nodes_split(3)
    [(array([0, 1, 2]), array([0, 1, 2]))]
    """
    nodes = np.arange(check_count(n_nodes, "n_nodes", 1))
    return [(nodes, nodes.copy())]


def image_mse(original: ArrayLike, reconstructed: ArrayLike) -> float:
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
    a, b = np.asarray(original), np.asarray(reconstructed)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("the images are empty")
    a, b = a.reshape(-1), b.reshape(-1)
    # Chunks of float64 differences: a few bytes a value rather than the 24
    # of whole float64 copies, and exact for 8-bit images (every partial sum
    # is an integer below 2**53).
    total = 0.0
    for start in range(0, a.shape[0], _CHUNK):
        difference = a[start : start + _CHUNK].astype(np.float64)
        difference -= b[start : start + _CHUNK]
        total += float(difference @ difference)
    if not math.isfinite(total):
        # A NaN pixel gave NaN, an infinite one inf: no error to report.
        raise ValueError("the images hold NaN or infinite values")
    return total / a.shape[0]


def psnr(
    original: ArrayLike, reconstructed: ArrayLike, max_value: float = 255.0
) -> float:
    """Peak signal-to-noise ratio in decibels: ``10 log10(max^2 / MSE)``.

    Returns ``inf`` for identical images.

    Examples
    --------
    >>> from skclust.metrics import psnr
    >>> round(psnr([[0, 0, 0]], [[0, 0, 255]]), 3)
    4.771
    """
    if not (np.isfinite(max_value) and max_value > 0):
        raise ValueError(
            f"max_value must be a positive number (the largest pixel value); "
            f"got {max_value!r}"
        )
    mse = image_mse(original, reconstructed)
    return math.inf if mse == 0 else 10.0 * math.log10(max_value**2 / mse)


def palette_image_size(
    n_pixels: int, n_colors: int, n_channels: int = 3
) -> dict[str, float]:
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
    n_pixels = check_count(n_pixels, "n_pixels", 1)
    n_colors = check_count(n_colors, "n_colors", 1)
    n_channels = check_count(n_channels, "n_channels", 1)
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
    # A NaN or an infinity gave a NaN cosine or error without a word, and
    # failed the neighbour search with a broadcasting error.
    for table, name in ((X, "X"), (R, "X_reconstructed")):
        if not np.isfinite(table).all():
            raise ValueError(f"{name} holds NaN or infinity")
    return X, R


def row_cosine_similarity(
    X: ArrayLike, X_reconstructed: ArrayLike
) -> NDArray[np.float64]:
    """Cosine similarity between each row of ``X`` and the same row rebuilt.

    A zero row has no direction: its similarity is 1 with a zero row and 0
    with any other, so the result never holds NaN.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)
        Finite values.

    Returns
    -------
    ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        When the shapes differ or a table holds NaN or infinity.

    Examples
    --------
    >>> from skclust.metrics import row_cosine_similarity
    >>> row_cosine_similarity([[1, 0], [0, 2], [0, 0]], [[2, 0], [1, 1], [0, 0]])
    array([1.        , 0.70710678, 1.        ])
    """
    X, R = _paired_tables(X, X_reconstructed)
    # Rows brought to unit length first (exactly rescaled when their squares
    # would overflow or vanish), so rows near 1e300 or 1e-300 give no NaN;
    # zero rows stay zero and give 0.
    dot = np.einsum(
        "ij,ij->i",
        normalize_rows(np.array(X, dtype=np.float64)),
        normalize_rows(np.array(R, dtype=np.float64)),
    )
    cosine = np.clip(dot, -1.0, 1.0)
    both_zero = ~X.any(axis=1) & ~R.any(axis=1)
    cosine[both_zero] = 1.0
    return cosine


def mean_cosine_similarity(X: ArrayLike, X_reconstructed: ArrayLike) -> float:
    """Mean over rows of the cosine similarity between a row and its rebuild.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)

    Returns
    -------
    float
        1 for a perfect reconstruction (up to row lengths, which cosine
        ignores).

    Raises
    ------
    ValueError
        When the tables have no rows, their shapes differ or one holds NaN
        or infinity.

    Examples
    --------
    >>> from skclust.metrics import mean_cosine_similarity
    >>> mean_cosine_similarity([[1, 0], [0, 1]], [[3, 0], [1, 1]])
    0.8535533905932737
    """
    cosine = row_cosine_similarity(X, X_reconstructed)
    if cosine.size == 0:
        # The mean of no rows was NaN, with a RuntimeWarning.
        raise ValueError("X has no rows: the mean cosine is undefined")
    return float(cosine.mean())


def relative_mse(X: ArrayLike, X_reconstructed: ArrayLike) -> float:
    """Squared reconstruction error relative to the table's squared size.

    ``sum (X - X_reconstructed)^2 / sum X^2``: 0 for a perfect reconstruction,
    1 for an all-zero one.

    Parameters
    ----------
    X, X_reconstructed : array-like of shape (n_samples, n_features)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``X`` is all zeros, the shapes differ or a table holds NaN or
        infinity.

    Examples
    --------
    >>> from skclust.metrics import relative_mse
    >>> relative_mse([[1, 0], [0, 1]], [[1, 0], [0, 0]])
    0.5
    """
    X, R = _paired_tables(X, X_reconstructed)
    # Both tables over X's largest magnitude: the ratio is unchanged, and
    # squares of values near 1e200 no longer overflow (inf / inf gave NaN)
    # nor those near 1e-200 vanish (a non-zero X was called all zeros).
    largest = np.abs(X).max(initial=0.0)
    if largest == 0:
        raise ValueError("X is all zeros: the relative error is undefined")
    X, R = X / largest, R / largest
    diff = X - R
    return float(np.einsum("ij,ij->", diff, diff)) / float(np.einsum("ij,ij->", X, X))


def _top_neighbors(similarity, exclude, n_neighbors):
    """Indices of the ``n_neighbors`` most similar columns of each row.

    ``exclude`` gives, per row, a column left out (the query itself). Ties go
    to the lowest column index, so the result does not depend on how the
    partial sort breaks them.
    """
    rows = np.arange(similarity.shape[0])
    similarity[rows, exclude] = -np.inf
    # The n-th largest value of each row; the columns at or above it are the
    # neighbours, unless ties at that value make too many of them. One
    # comparison pass over the matrix finds them; only the rows with such
    # ties (common in a reconstructed table, where rows share codes) are
    # settled one by one, taking the lowest-indexed tied columns.
    position = similarity.shape[1] - n_neighbors
    kth = np.partition(similarity, position, axis=1)[:, position]
    at_least = similarity >= kth[:, None]
    counts = np.count_nonzero(at_least, axis=1)
    chosen = np.empty((len(rows), n_neighbors), dtype=np.intp)
    plain = counts == n_neighbors
    chosen[plain] = np.nonzero(at_least[plain])[1].reshape(-1, n_neighbors)
    for row in np.flatnonzero(~plain):
        values = similarity[row]
        above = np.flatnonzero(values > kth[row])
        tied = np.flatnonzero(values == kth[row])[: n_neighbors - above.size]
        chosen[row] = np.sort(np.concatenate([above, tied]))
    return chosen


def neighbor_recall(
    X: ArrayLike,
    X_reconstructed: ArrayLike,
    n_neighbors: int = 10,
    *,
    metric: Literal["cosine", "euclidean"] = "cosine",
    n_queries: int | None = None,
    random_state: RandomStateLike = None,
) -> float:
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
        distance (measured after moving both tables by the mean of ``X``,
        which keeps rows far from the origin apart).
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
    n_neighbors = check_count(n_neighbors, "n_neighbors", 1)
    if n_neighbors >= n_samples:
        raise ValueError(
            f"n_neighbors={n_neighbors} needs at least {n_neighbors + 1} rows "
            f"(the query and its neighbours); got {n_samples}"
        )
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    if n_queries is not None:
        n_queries = check_count(n_queries, "n_queries", 1)
    if n_queries is None or n_queries >= n_samples:
        queries = np.arange(n_samples)
    else:
        rng = check_random_state(random_state)
        queries = np.sort(rng.choice(n_samples, n_queries, replace=False))

    if metric == "cosine":
        # Unit rows once, so that each block of queries is one matrix product.
        # Copies: normalize_rows works in place (zero rows stay zero).
        X = normalize_rows(np.array(X, dtype=np.float64))
        R = normalize_rows(np.array(R, dtype=np.float64))
        squared_norms = None
    else:
        # Both tables over the power of two of their largest magnitude, which
        # is exact and keeps every neighbour: squared distances of rows near
        # 1e200 overflowed (a broadcasting error) and those of rows near
        # 1e-170 vanished, so that every row tied and any table scored 1.
        largest = max(np.abs(X).max(), np.abs(R).max())
        if largest > 0:
            exponent = int(np.frexp(largest)[1])
            X, R = np.ldexp(X, -exponent), np.ldexp(R, -exponent)
        # Then both moved by the mean of X, which changes no distance: the
        # squared distances come from products, which lose the digits that
        # rows far from the origin share (rows near 1e8 spread by 1 found
        # 5% of their neighbours in the same rows moved by 1e-3).
        origin = X.mean(axis=0)
        X, R = X - origin, R - origin
        squared_norms = np.einsum("ij,ij->i", R, R)

    def similarity(queries, table, norms):
        product = queries @ table.T
        if norms is None:
            return product
        # Minus the squared distance, less the query's own squared norm.
        product *= 2.0
        product -= norms[None, :]
        return product

    true_norms = None if squared_norms is None else np.einsum("ij,ij->i", X, X)
    found = 0
    step = max(1, (1 << 23) // n_samples)
    for start in range(0, len(queries), step):
        rows = queries[start : start + step]
        true = _top_neighbors(similarity(X[rows], X, true_norms), rows, n_neighbors)
        near = _top_neighbors(similarity(X[rows], R, squared_norms), rows, n_neighbors)
        found += sum(
            np.intersect1d(t, n, assume_unique=True).size
            for t, n in zip(true, near, strict=True)
        )
    return found / (len(queries) * n_neighbors)
