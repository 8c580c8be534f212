"""K-means in the squared Euclidean (L2) and Manhattan (L1) metrics.

The two metrics differ only in three things, gathered in one small class each:
the distance, the per-point cost that the inertia sums, and the center update
that minimises a cluster's cost (the mean for L2, the coordinate-wise median
for L1). The Lloyd loop, seeding and seed search are shared
(``skclust._lloyd`` and ``skclust._base``).
"""

import numpy as np
from scipy import sparse

from ._base import _BaseKMeans

# Above this many features the L2 cluster sums go through one sparse product
# instead of one weighted bincount per feature.
_BINCOUNT_MAX_FEATURES = 16


class _EuclideanMetric:
    """Squared Euclidean cost; Euclidean distance for bounds; mean update.

    The per-cluster weighted sums are kept between iterations and updated from
    the points that changed cluster only, unless many did. With integer data
    and integer weights (8-bit images) the updates are exact.
    """

    manhattan = False

    def __init__(self, X, sample_weight, n_clusters):
        self._weights = sample_weight
        self._weighted = X * sample_weight[:, None]
        self._n_clusters = n_clusters
        self._sums = None

    @staticmethod
    def origin(points, weights):
        return weights @ points / weights.sum()

    @staticmethod
    def norm(diff):
        return np.sqrt(np.einsum("...j,...j->...", diff, diff))

    @classmethod
    def paired(cls, X, centers):
        return cls.norm(X - centers)

    @staticmethod
    def pairwise(X, centers):
        sq = X @ centers.T
        sq *= -2.0
        sq += np.einsum("ij,ij->i", X, X)[:, None]
        sq += np.einsum("ij,ij->i", centers, centers)[None, :]
        np.maximum(sq, 0.0, out=sq)
        return np.sqrt(sq, out=sq)

    @staticmethod
    def prepare_centers(centers):
        return -2.0 * centers.T, np.einsum("ij,ij->i", centers, centers)

    @staticmethod
    def ranking(X, prepared):
        """``|c|^2 - 2 x.c``: the squared distance less ``|x|^2``."""
        minus_twice_t, squared_norms = prepared
        rank = X @ minus_twice_t
        rank += squared_norms
        return rank

    @staticmethod
    def from_ranking(X, rank):
        squared = rank + np.einsum("ij,ij->i", X, X)
        return np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)

    @staticmethod
    def cost(distance):
        return distance**2

    def cluster_centers(self, labels, changed, previous):
        """Weighted mean of each cluster (NaN rows for empty clusters).

        ``changed`` holds the points whose label is new since the last call
        and ``previous`` their old labels.

        Returns
        -------
        centers : ndarray of shape (n_clusters, n_features)
        sizes : ndarray of shape (n_clusters,)
            Number of points in each cluster.
        """
        n_clusters = self._n_clusters
        if self._sums is None or 4 * changed.size > labels.shape[0]:
            self._sizes = np.bincount(labels, minlength=n_clusters)
            self._weight = _sums_by_label(self._weights, labels, n_clusters)
            self._sums = _sums_by_label(self._weighted, labels, n_clusters)
        elif changed.size:
            new = labels[changed]
            self._sizes += np.bincount(new, minlength=n_clusters)
            self._sizes -= np.bincount(previous, minlength=n_clusters)
            weights, weighted = self._weights[changed], self._weighted[changed]
            self._weight += _sums_by_label(weights, new, n_clusters)
            self._weight -= _sums_by_label(weights, previous, n_clusters)
            self._sums += _sums_by_label(weighted, new, n_clusters)
            self._sums -= _sums_by_label(weighted, previous, n_clusters)
            # Clear the rounding left in clusters that emptied.
            self._weight[self._sizes == 0] = 0.0
            self._sums[self._sizes == 0] = 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._sums / self._weight[:, None], self._sizes.copy()


def _sums_by_label(values, labels, n_clusters):
    """Sum of ``values`` (1-D, or rows of a 2-D array) over each label."""
    if values.ndim == 1:
        return np.bincount(labels, weights=values, minlength=n_clusters)
    n_samples, n_features = values.shape
    if n_features <= _BINCOUNT_MAX_FEATURES:
        return np.stack(
            [
                np.bincount(labels, weights=values[:, j], minlength=n_clusters)
                for j in range(n_features)
            ],
            axis=1,
        )
    indicator = sparse.csr_matrix(
        (np.ones(n_samples), (labels, np.arange(n_samples))),
        shape=(n_clusters, n_samples),
    )
    return np.asarray(indicator @ values)


class _ManhattanMetric:
    """Manhattan cost and distance; coordinate-wise weighted median update."""

    manhattan = True

    def __init__(self, X, sample_weight, n_clusters):
        self._columns = np.ascontiguousarray(X.T)
        self._order = np.argsort(self._columns, axis=1, kind="stable")
        self._weights = sample_weight
        self._n_clusters = n_clusters

    @staticmethod
    def origin(points, weights):
        return np.zeros(points.shape[1])

    @staticmethod
    def norm(diff):
        return np.abs(diff).sum(axis=-1)

    @classmethod
    def paired(cls, X, centers):
        return cls.norm(X - centers)

    @staticmethod
    def pairwise(X, centers):
        dist = np.zeros((X.shape[0], centers.shape[0]))
        scratch = np.empty_like(dist)
        for j in range(X.shape[1]):
            np.subtract(X[:, j, None], centers[None, :, j], out=scratch)
            np.abs(scratch, out=scratch)
            dist += scratch
        return dist

    @staticmethod
    def prepare_centers(centers):
        return centers

    ranking = pairwise

    @staticmethod
    def from_ranking(X, rank):
        return rank

    @staticmethod
    def cost(distance):
        return distance

    def cluster_centers(self, labels, changed, previous):
        """Weighted coordinate-wise median of each cluster (NaN rows if empty).

        Medians are recomputed from all points; ``changed`` and ``previous``
        are accepted for the common interface.

        Returns
        -------
        centers : ndarray of shape (n_clusters, n_features)
        sizes : ndarray of shape (n_clusters,)
        """
        weight = np.bincount(labels, weights=self._weights, minlength=self._n_clusters)
        centers = np.stack(
            [
                _weighted_medians(column, order, self._weights, labels, weight)
                for column, order in zip(self._columns, self._order, strict=True)
            ],
            axis=1,
        )
        return centers, np.bincount(labels, minlength=self._n_clusters)


def _weighted_medians(values, order, weights, labels, cluster_weight):
    """Weighted median of ``values`` within each cluster.

    The median of a cluster is a value at which the cluster's cumulative weight
    first reaches half its total. When it reaches exactly half, every value
    between that one and the next minimises the L1 cost; the midpoint is
    returned, which is what ``numpy.median`` gives for unit weights.

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
    order : ndarray of shape (n_samples,)
        ``argsort(values)``, computed once per fit since values never change.
    weights : ndarray of shape (n_samples,)
        Positive weights.
    labels : ndarray of shape (n_samples,)
    cluster_weight : ndarray of shape (n_clusters,)
        Total weight of each cluster.

    Returns
    -------
    medians : ndarray of shape (n_clusters,)
        NaN for empty clusters.
    """
    n_clusters = cluster_weight.shape[0]
    # A stable sort of the labels, taken in value order, groups the points by
    # cluster with values still ascending inside each group. Small integer keys
    # make numpy use a linear-time radix sort.
    key_type = np.int16 if n_clusters <= np.iinfo(np.int16).max else np.int32
    grouped = order[np.argsort(labels[order].astype(key_type), kind="stable")]
    sorted_values = values[grouped]
    cumulative = np.cumsum(weights[grouped])
    sizes = np.bincount(labels, minlength=n_clusters)
    stops = np.cumsum(sizes)
    starts = stops - sizes
    medians = np.full(n_clusters, np.nan)
    filled = sizes > 0
    start, stop = starts[filled], stops[filled]
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + 0.5 * cluster_weight[filled]
    position = np.clip(np.searchsorted(cumulative, target), start, stop - 1)
    median = sorted_values[position]
    halfway = (cumulative[position] == target) & (position + 1 < stop)
    median[halfway] = 0.5 * (
        sorted_values[position[halfway]] + sorted_values[position[halfway] + 1]
    )
    medians[filled] = median
    return medians


_SHARED_PARAMETERS = """
    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters. At most the number of distinct training points.
    init : {{"k-means++", "random"}}, callable or array-like of shape \
(n_clusters, n_features), default="k-means++"
        How to choose the initial centers.

        - "k-means++": greedy k-means++ seeding with probabilities proportional
          to {seeding} to the nearest chosen center.
        - "random": ``n_clusters`` distinct training points, drawn with
          probability proportional to their weight.
        - an array: the initial centers themselves.
        - a callable ``init(X, n_clusters, random_state)`` returning the
          centers; ``X`` holds the distinct training points.
    n_init : "auto" or int, default="auto"
        Number of runs from different seeds; the run with the lowest inertia
        is kept. "auto" means 10 runs for ``init="random"`` and 1 otherwise.
        An explicit array init always gives one run.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        A run also stops when the squared Euclidean center shift summed over
        the centers is at most ``tol`` times the mean per-feature variance of
        the (weighted) data, as in scikit-learn. It always stops when an
        iteration changes no label.
    random_state : int, RandomState instance or None, default=None
        Seeds of the runs are drawn from it up front, so results do not depend
        on ``n_jobs``.
    n_jobs : int, default=None
        Number of runs executed in parallel through joblib. ``None`` means 1
        unless in a ``joblib.parallel_config`` context, whose backend (loky,
        threading, dask, ...) is used. Inside parallel workers BLAS is limited
        to its share of the CPUs, so that threads are not oversubscribed.
    verbose : int, default=0
        Print the inertia at each iteration, convergence and any relocation of
        empty clusters.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centers of the best run.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample, from 0 to ``n_clusters - 1``; every
        cluster has at least one sample.
    inertia_ : float
        {inertia}
    n_iter_ : int
        Number of iterations of the best run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
"""

_SHARED_NOTES = """
    Each iteration keeps Hamerly's bounds on every point's distance to its own
    and to the nearest other center, so points whose label cannot change are
    not compared with every center; this changes the work, not the result.
    Identical rows are merged into one weighted point before fitting.

    An empty cluster is never dropped: its center moves to the point farthest
    from its own center (never the last point of a cluster), so exactly
    ``n_clusters`` clusters come back.
"""


class KMeansL2(_BaseKMeans):
    __doc__ = (
        """K-means clustering with the squared Euclidean distance (Lloyd).

    Each center is the weighted mean of its cluster and each sample belongs to
    the nearest center. From the same explicit initialization, labels,
    centers, inertia and number of iterations are those of scikit-learn's
    ``KMeans(algorithm="lloyd")``.
"""
        + _SHARED_PARAMETERS.format(
            seeding="the squared distance",
            inertia="Sum of weighted squared Euclidean distances of the samples "
            "to their centers.",
        )
        + """
    See Also
    --------
    KMeansL1 : The same estimator with the Manhattan distance and medians.
    sklearn.cluster.KMeans : scikit-learn's k-means.

    Notes
    -----"""
        + _SHARED_NOTES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skclust import KMeansL2
    >>> X = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])
    >>> km = KMeansL2(n_clusters=2, random_state=0).fit(X)
    >>> np.sort(km.cluster_centers_, axis=0)
    array([[ 0.,  1.],
           [10.,  1.]])
    >>> km.inertia_
    4.0
    >>> bool(km.predict([[9.0, 1.0]])[0] == km.labels_[2])
    True
    """
    )

    _metric = _EuclideanMetric


class KMeansL1(_BaseKMeans):
    __doc__ = (
        """K-medians: k-means with the Manhattan (L1) distance.

    Each sample belongs to the center nearest in Manhattan distance and each
    center is the weighted coordinate-wise median of its cluster, which is what
    minimises the cluster's summed Manhattan distance (a mean update would
    not). The inertia never increases from one iteration to the next.
"""
        + _SHARED_PARAMETERS.format(
            seeding="the Manhattan distance",
            inertia="Sum of weighted Manhattan distances of the samples to "
            "their centers.",
        )
        + """
    See Also
    --------
    KMeansL2 : The same estimator with the squared Euclidean distance.

    Notes
    -----"""
        + _SHARED_NOTES
        + """
    The median of a cluster is found by a stable radix sort of the labels in
    the per-feature order computed once per fit, so an update costs
    O(n_samples * n_features) per iteration. When the cumulative weight of a
    cluster reaches exactly half its total, the midpoint of the two middle
    values is used, as ``numpy.median`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust import KMeansL1
    >>> X = np.array([[0, 0], [0, 1], [0, 5], [10, 0], [10, 1], [10, 2]])
    >>> km = KMeansL1(n_clusters=2, random_state=0).fit(X)
    >>> np.sort(km.cluster_centers_, axis=0)
    array([[ 0.,  1.],
           [10.,  1.]])
    >>> km.inertia_
    7.0
    """
    )

    _metric = _ManhattanMetric


def _one_based_result(estimator, pixels):
    estimator.fit(pixels)
    return estimator.labels_.reshape(-1, 1) + 1, estimator.cluster_centers_


def kmeans_l2(pixels, n_clusters, **params):
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
        Cluster of each pixel, from 1 to ``n_clusters``.
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


def kmeans_l1(pixels, n_clusters, **params):
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
        Cluster of each pixel, from 1 to ``n_clusters``.
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
