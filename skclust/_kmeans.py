"""K-means in the squared Euclidean (L2) and Manhattan (L1) metrics.

The two metrics differ only in three things, gathered in one small class each:
the distance, the per-point cost that the inertia sums, and the center update
that minimises a cluster's cost (the mean for L2, the coordinate-wise median
for L1). The Lloyd loop, seeding and seed search are shared
(``skclust._lloyd`` and ``skclust._base``).
"""

import numpy as np

from ._base import _BaseKMeans
from ._cluster_sums import add_weighted_rows

# Up to this many features, distance matrices are summed feature by feature
# from coordinate differences; beyond, the L2 ones use a matrix product.
_DIRECT_MAX_FEATURES = 16

# Up to this many centers, distances are computed center by center.
_FEW_CENTERS = 8


class _EuclideanMetric:
    """Squared Euclidean cost; Euclidean distance for bounds; mean update.

    The per-cluster weighted sums are kept between iterations and updated from
    the points that changed cluster only, unless many did. With integer data
    and integer weights (8-bit images) the updates are exact.
    """

    manhattan = False

    def __init__(self, X, sample_weight, n_clusters):
        self._X = X
        self._weights = sample_weight
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
    def pairwise_cost(X, centers):
        """Squared distances: from coordinate differences for few features
        (exact and faster), else through a matrix product."""
        if X.shape[1] <= _DIRECT_MAX_FEATURES:
            return _summed_over_features(X, centers, np.square)
        sq = X @ centers.T
        sq *= -2.0
        sq += np.einsum("ij,ij->i", X, X)[:, None]
        sq += np.einsum("ij,ij->i", centers, centers)[None, :]
        return np.maximum(sq, 0.0, out=sq)

    @classmethod
    def pairwise(cls, X, centers):
        return np.sqrt(cls.pairwise_cost(X, centers))

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
            self._weight = np.bincount(labels, self._weights, minlength=n_clusters)
            self._sums = np.zeros((n_clusters, self._X.shape[1]))
            every = np.arange(labels.shape[0], dtype=np.intp)
            add_weighted_rows(self._X, self._weights, every, labels, 1.0, self._sums)
        elif changed.size:
            new = labels[changed]
            self._sizes += np.bincount(new, minlength=n_clusters)
            self._sizes -= np.bincount(previous, minlength=n_clusters)
            weights = self._weights[changed]
            self._weight += np.bincount(new, weights, minlength=n_clusters)
            self._weight -= np.bincount(previous, weights, minlength=n_clusters)
            changed = np.ascontiguousarray(changed, dtype=np.intp)
            previous = np.ascontiguousarray(previous, dtype=np.intp)
            add_weighted_rows(self._X, self._weights, changed, new, 1.0, self._sums)
            add_weighted_rows(
                self._X, self._weights, changed, previous, -1.0, self._sums
            )
            # Clear the rounding left in clusters that emptied.
            self._weight[self._sizes == 0] = 0.0
            self._sums[self._sizes == 0] = 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._sums / self._weight[:, None], self._sizes.copy()


def _summed_over_features(X, centers, elementwise):
    """``sum_j elementwise(X[:, j] - centers[:, j])`` for every (row, center).

    Computed center by row, with the samples along the contiguous axis (which
    numpy vectorizes well even for a handful of centers), and returned as a
    transposed (n_samples, n_centers) view.
    """
    total = np.zeros((centers.shape[0], X.shape[0]))
    if centers.shape[0] <= _FEW_CENTERS:
        # Scalar-by-column operations are several times faster than a
        # broadcast over a short axis (measured: 1.1 ms against 5.7 ms for
        # 96,000 points and 4 centers).
        columns = np.ascontiguousarray(X.T)
        scratch = np.empty(X.shape[0])
        for row, center in zip(total, centers, strict=True):
            for column, value in zip(columns, center, strict=True):
                np.subtract(column, value, out=scratch)
                elementwise(scratch, out=scratch)
                row += scratch
        return total.T
    scratch = np.empty_like(total)
    for j in range(X.shape[1]):
        np.subtract(X[None, :, j], centers[:, j, None], out=scratch)
        elementwise(scratch, out=scratch)
        total += scratch
    return total.T


class _ManhattanMetric:
    """Manhattan cost and distance; coordinate-wise weighted median update.

    A feature whose values are integers of small range (8-bit colours) keeps a
    weighted histogram of its values per cluster, updated from the points that
    changed cluster; its medians are read off the cumulative histogram. Other
    features are sorted once per fit and their medians found by a linear-time
    regrouping by cluster at every update.
    """

    manhattan = True

    def __init__(self, X, sample_weight, n_clusters):
        self._columns = np.ascontiguousarray(X.T)
        self._weights = sample_weight
        self._n_clusters = n_clusters
        self._codes = [_small_integer_codes(column) for column in self._columns]
        self._order = [
            None if codes else np.argsort(column, kind="stable")
            for codes, column in zip(self._codes, self._columns, strict=True)
        ]
        self._histograms = [None] * len(self._columns)

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
        return _summed_over_features(X, centers, np.abs)

    pairwise_cost = pairwise

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

        ``changed`` holds the points whose label is new since the last call
        and ``previous`` their old labels.

        Returns
        -------
        centers : ndarray of shape (n_clusters, n_features)
        sizes : ndarray of shape (n_clusters,)
        """
        k = self._n_clusters
        sizes = np.bincount(labels, minlength=k)
        weight = np.bincount(labels, weights=self._weights, minlength=k)
        medians = []
        for j, column in enumerate(self._columns):
            if self._codes[j] is None:
                medians.append(
                    _weighted_medians(
                        column, self._order[j], self._weights, labels, weight
                    )
                )
                continue
            codes, low, span = self._codes[j]
            self._histograms[j] = _update_histogram(
                self._histograms[j],
                codes,
                span,
                self._weights,
                labels,
                changed,
                previous,
                k,
            )
            self._histograms[j][sizes == 0] = 0.0
            medians.append(_histogram_medians(self._histograms[j]) + low)
        return np.stack(medians, axis=1), sizes


# Widest value range (max - min + 1) kept as a per-cluster histogram.
_HISTOGRAM_MAX_SPAN = 4096


def _small_integer_codes(column):
    """``(codes, low, span)`` when ``column`` holds integers of small range."""
    low, high = column.min(), column.max()
    span = int(high - low) + 1
    if span > _HISTOGRAM_MAX_SPAN or not np.array_equal(column, np.rint(column)):
        return None
    return (column - low).astype(np.intp), low, span


def _update_histogram(histogram, codes, span, weights, labels, changed, previous, k):
    """Per-cluster weighted histogram of ``codes``, shape (k, span).

    Rebuilt from all points on the first call or when many points changed;
    otherwise the changed points are moved from their old row to the new one.
    """
    if histogram is None or 4 * changed.size > labels.shape[0]:
        flat = np.bincount(labels * span + codes, weights=weights, minlength=k * span)
        return flat.reshape(k, span)
    if changed.size:
        moved_codes, moved_weights = codes[changed], weights[changed]
        histogram += np.bincount(
            labels[changed] * span + moved_codes,
            weights=moved_weights,
            minlength=k * span,
        ).reshape(k, span)
        histogram -= np.bincount(
            previous * span + moved_codes, weights=moved_weights, minlength=k * span
        ).reshape(k, span)
    return histogram


def _histogram_medians(histogram):
    """Weighted median bin of each row of a (k, span) histogram (NaN if empty).

    As in :func:`_weighted_medians`, when the cumulative weight reaches exactly
    half the total, the midpoint between that bin and the next non-empty one is
    returned.
    """
    cumulative = np.cumsum(histogram, axis=1)
    total = cumulative[:, -1]
    half = 0.5 * total
    position = np.argmax(cumulative >= half[:, None], axis=1)
    rows = np.arange(histogram.shape[0])
    bins = np.arange(histogram.shape[1])
    later = (histogram > 0) & (bins[None, :] > position[:, None])
    has_later = later.any(axis=1)
    halfway = (cumulative[rows, position] == half) & has_later
    median = position.astype(np.float64)
    median[halfway] = 0.5 * (position[halfway] + np.argmax(later[halfway], axis=1))
    median[total == 0] = np.nan
    return median


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
        is kept. "auto" means 10 runs for ``init="random"`` or a callable, as
        in scikit-learn, and 1 otherwise.
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
    ``KMeans(algorithm="lloyd")``, except where a point is equally near two
    centers up to the last bits of float64: skclust settles such near ties
    by coordinate differences, scikit-learn by its matrix-product rounding.
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
