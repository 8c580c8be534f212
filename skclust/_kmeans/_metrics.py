"""The two metrics of k-means: squared Euclidean (L2) and Manhattan (L1).

A metric gathers what differs between them: the distance, the per-point cost
that the inertia sums, and the center update that minimises a cluster's cost
(the mean for L2, the coordinate-wise weighted median for L1), both from the
statistics kept between steps of an in-memory fit (``updater``) and from the
per-cluster statistics that a pass over blocks of rows reduces
(``block_stats`` and ``centers_from``). The Lloyd loop is shared
(``skclust._kmeans._engine``). A metric is a class of static methods, named by
``name``: "l2" or "l1", the one spelling of the choice in skclust.

``Euclidean32`` is the L2 metric of vector quantization: it ranks float32
rows by float32 matrix products, several times faster than the exact ranking
on large tables with many features.

``SphericalEuclidean`` and ``SphericalEuclidean32`` are spherical k-means:
the same assignment, but every center is the mean of its cluster scaled to
unit length. For unit centers the nearest in L2 is the one of largest inner
product, so the bounds and kernels of L2 apply unchanged; the points are not
centered, since centering would move them off the sphere.
"""

from dataclasses import dataclass

import numpy as np

from ._bounds import (
    bounded_assignment,
    half_gaps,
    pairwise_cost,
    squares_from_products,
)
from ._cluster_sums import add_weighted_rows, sum_rows_by_label, weighted_inertia
from ._inmemory import nearest_exactly
from ._medians import ClusterMedians, MedianLayout, MedianStats, medians_from
from ._nearest import CENTER_BLOCK, nearest_centers
from ._row_blocks import row_blocks, weighted_feature_sums

# Up to this many features, distance matrices are summed feature by feature
# from coordinate differences; beyond, the L2 ones use a matrix product.
_DIRECT_MAX_FEATURES = 16

# Up to this many centers, distances are computed center by center.
_FEW_CENTERS = 8


def _rounded(values, dtype):
    """float64 ``values`` rounded to ``dtype`` (float32 or float64)."""
    return values.astype(dtype).astype(np.float64)


class _Metric:
    """What the two metrics share: calls of the compiled kernels with their
    metric, and the exact nearest center of rows read in blocks."""

    _manhattan = False
    float32 = False

    @classmethod
    def half_gaps(cls, centers, out):
        """Half the distance from each center to the nearest other one."""
        half_gaps(centers, cls._manhattan, out)

    @classmethod
    def scan_assignment(cls, X, centers, state, moves, scan, center_bounds=None):
        """The compiled bounded assignment step (see ``_bounds``)."""
        return bounded_assignment(
            X, centers, state, moves, cls._manhattan, scan, center_bounds
        )

    @classmethod
    def block_labels(cls, rows, centers, with_distance=True):
        """Nearest center of each row and the distance to it, exactly as the
        bounded in-memory assignment finds them."""
        return nearest_exactly(rows, centers, cls)

    @staticmethod
    def prepared_for_blocks(centers):
        """What ``block_labels`` takes, computed once per pass."""
        return centers

    @classmethod
    def cost_to_centers(cls, X):
        """``centers -> pairwise_cost(X, centers)``, as k-means++ calls it."""
        return lambda centers: cls.pairwise_cost(X, centers)


class Euclidean(_Metric):
    """Squared Euclidean cost; Euclidean distance for bounds; mean update."""

    name = "l2"

    # A fit read in blocks keeps float32 rows float32 (``RowPrep``).
    keeps_float32_rows = True

    @staticmethod
    def origin(points, weights):
        """Where an in-memory fit centers its points: the weighted mean,
        rounded to the points' precision.

        Centered data keeps the matrix-product distances accurate. float32
        points are centered in float32 (as scikit-learn does) on a float32
        mean, so that a fit read in blocks, which sums the mean in another
        order, centers on the same value and gets the same rows.
        """
        mean = weighted_feature_sums(points, weights) / weights.sum()
        return _rounded(mean, points.dtype)

    @staticmethod
    def block_origin(mean, dtype):
        """Where a fit read in blocks centers its rows of ``dtype``: on
        their mean, rounded to ``dtype`` as ``origin`` rounds it."""
        return _rounded(mean, dtype)

    @staticmethod
    def norm(diff):
        return np.sqrt(np.einsum("...j,...j->...", diff, diff))

    @classmethod
    def paired(cls, X, centers):
        return cls.norm(X - centers)

    @staticmethod
    def pairwise_cost(X, centers, row_norms=None):
        """Squared distances: from coordinate differences for few features
        (exact and faster), else through a matrix product (``row_norms``:
        ``|x|^2`` of the rows, if already known)."""
        if X.shape[1] <= _DIRECT_MAX_FEATURES:
            return _direct_cost(X, centers, manhattan=False)
        if row_norms is None:
            row_norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        sq = X @ centers.T
        sq *= -2.0
        # Norms summed in float64 also for float32 rows.
        sq += row_norms[:, None]
        sq += np.einsum("ij,ij->i", centers, centers, dtype=np.float64)[None, :]
        return np.maximum(sq, 0.0, out=sq)

    @classmethod
    def cost_to_centers(cls, X):
        """``centers -> pairwise_cost(X, centers)``, with ``|x|^2`` of dense
        rows computed once: k-means++ calls it once per center, and
        recomputing the norms read the rows a second time at every call."""
        if X.shape[1] <= _DIRECT_MAX_FEATURES or not isinstance(X, np.ndarray):
            return super().cost_to_centers(X)
        row_norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        if X.dtype == np.float64:
            return lambda centers: _seeding_costs(X, centers, row_norms)
        return lambda centers: cls.pairwise_cost(X, centers, row_norms)

    @classmethod
    def pairwise(cls, X, centers):
        return np.sqrt(cls.pairwise_cost(X, centers))

    @staticmethod
    def prepare_centers(centers, dtype=np.float64):
        """Factors of :meth:`ranking` in ``dtype``: ``-2 C^T`` and ``|c|^2``."""
        # An initial center beyond float32's range becomes infinite there:
        # infinitely far from every row, which it is as far as ranks go.
        with np.errstate(over="ignore"):
            centers = centers.astype(dtype, copy=False)
        return (
            np.ascontiguousarray(-2.0 * centers.T),
            np.einsum("ij,ij->i", centers, centers),
        )

    @staticmethod
    def ranking(X, prepared):
        """``|c|^2 - 2 x.c``: the squared distance less ``|x|^2``."""
        minus_twice_t, squared_norms = prepared
        rank = X @ minus_twice_t
        rank += squared_norms
        return rank

    @staticmethod
    def from_ranking(X, rank):
        squared = rank + np.einsum("ij,ij->i", X, X, dtype=np.float64)
        return np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)

    @staticmethod
    def cost(distance):
        return distance**2

    @staticmethod
    def uses_product(n_features):
        """Whether the bounded assignment ranks centers by matrix products."""
        return n_features > _DIRECT_MAX_FEATURES

    @staticmethod
    def inertia(X, sample_weight, centers, labels):
        """Weighted cost from coordinate differences."""
        return weighted_inertia(X, sample_weight, centers, labels)

    @staticmethod
    def updater(X, sample_weight, n_clusters):
        """The center update of an in-memory fit, kept between steps."""
        return ClusterMeans(X, sample_weight, n_clusters)

    # --- rows read in blocks ---

    @staticmethod
    def block_stats(rows, labels, n_clusters, layout=None):
        return MeanStats.of(rows, labels, n_clusters)

    @staticmethod
    def centers_from(stats, layout=None, refine=None):
        """Mean of each cluster (NaN rows for empty clusters)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return stats.sums / stats.sizes[:, None]

    # Whether ``block_layout`` needs the columns' ranges in ``TableStats``.
    needs_value_ranges = False

    @staticmethod
    def block_layout(stats):
        """Nothing: the mean needs no knowledge of the values."""
        return None


class Euclidean32(Euclidean):
    """L2 on float32 rows ranked in float32 (vector quantization).

    The ranking ``|c|^2 - 2 x.c`` and its minimum are computed in registers
    by a compiled kernel (``_nearest``), which for narrow rows is many times
    faster than a matrix product followed by an argmin. Ties between centers
    within float32 rounding go to whichever ranks first; sums stay in float64.
    """

    float32 = True

    @classmethod
    def block_labels(cls, rows, centers, with_distance=True):
        """Nearest center of each row (ties: lowest index in float32 ranking)
        and, if asked, the distance to it."""
        rows = np.asarray(rows, dtype=np.float32)
        if rows.shape[1] > 1 and rows.strides[1] != rows.itemsize:
            rows = np.ascontiguousarray(rows)
        labels = np.empty(rows.shape[0], dtype=np.intp)
        best = np.empty(rows.shape[0], dtype=np.float32)
        nearest_centers(rows, *centers, labels, best)
        if not with_distance:
            return labels, None
        return labels, cls.from_ranking(rows, best.astype(np.float64))

    @classmethod
    def prepared_for_blocks(cls, centers):
        """What ``block_labels`` takes, computed once per pass: ``-2 C^T``
        and ``|c|^2`` in float32, padded to whole blocks of the kernel."""
        minus_twice_t, squared_norms = cls.prepare_centers(centers, np.float32)
        n_clusters = squared_norms.shape[0]
        n_padded = -(-n_clusters // CENTER_BLOCK) * CENTER_BLOCK
        padded_t = np.zeros((minus_twice_t.shape[0], n_padded), dtype=np.float32)
        padded_t[:, :n_clusters] = minus_twice_t
        padded_norms = np.full(n_padded, np.inf, dtype=np.float32)
        padded_norms[:n_clusters] = squared_norms
        return padded_t, padded_norms


def _seeding_costs(X, centers, row_norms):
    """``Euclidean.pairwise_cost`` of float64 rows (to the rounding of the
    product), faster for the few centers of a k-means++ step: the
    transposed centers are copied before the product (BLAS took twice as
    long on the transposed view: 60 us against 30 us for 1,797 x 64 rows
    and 5 centers) and the norms are added in one compiled pass
    (``_bounds.squares_from_products``)."""
    product = X @ np.ascontiguousarray(centers.T)
    center_norms = np.einsum("ij,ij->i", centers, centers, dtype=np.float64)
    squares_from_products(product, row_norms, center_norms)
    return product


def unit_rows(centers):
    """Rows scaled to unit length; zero rows and NaN rows (empty clusters)
    stay as they are."""
    norms = np.sqrt(np.einsum("ij,ij->i", centers, centers))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, centers / norms, centers)


class _Uncentered:
    """Metrics that run on the points as given: L1, and spherical k-means,
    whose points must stay on the sphere."""

    # L1 fits read in blocks take float64 rows (their histograms and exact
    # selections of medians are written for them).
    keeps_float32_rows = False

    @staticmethod
    def origin(points, weights):
        return np.zeros(points.shape[1])

    @staticmethod
    def block_origin(mean, dtype):
        return np.zeros_like(mean)


class _Spherical(_Uncentered):
    """What makes an L2 metric spherical: no centering, unit centers."""

    @staticmethod
    def updater(X, sample_weight, n_clusters):
        return UnitClusterMeans(X, sample_weight, n_clusters)

    @staticmethod
    def centers_from(stats, layout=None, refine=None):
        """Mean of each cluster scaled to unit length (NaN rows when empty)."""
        return unit_rows(Euclidean.centers_from(stats))


class SphericalEuclidean(_Spherical, Euclidean):
    """Spherical k-means on float64 points, ranked exactly."""

    name = "spherical"


class SphericalEuclidean32(_Spherical, Euclidean32):
    """Spherical k-means on float32 rows (vector quantization)."""

    name = "spherical"


@dataclass
class MeanStats:
    """Rows and their sum per cluster, as one pass over blocks reduces them."""

    sizes: np.ndarray
    sums: np.ndarray

    @classmethod
    def of(cls, rows, labels, n_clusters):
        sums = np.zeros((n_clusters, rows.shape[1]))
        sizes = np.zeros(n_clusters, dtype=np.intp)
        sum_rows_by_label(np.ascontiguousarray(rows), labels, sums, sizes)
        return cls(sizes, sums)

    def __add__(self, other):
        return MeanStats(self.sizes + other.sizes, self.sums + other.sums)


class ClusterMeans:
    """Weighted means of in-memory points, kept between steps.

    The per-cluster weighted sums are updated from the points that changed
    cluster only, unless many did. With integer data and integer weights
    (8-bit images) the updates are exact.
    """

    def __init__(self, X, sample_weight, n_clusters):
        self._X = X
        self._weights = sample_weight
        self._n_clusters = n_clusters
        self._sums = None

    def update(self, labels, changed, previous):
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
            self._add_all(labels)
        elif changed.size:
            new = labels[changed]
            self._sizes += np.bincount(new, minlength=n_clusters)
            self._sizes -= np.bincount(previous, minlength=n_clusters)
            weights = self._weights[changed]
            self._weight += np.bincount(new, weights, minlength=n_clusters)
            self._weight -= np.bincount(previous, weights, minlength=n_clusters)
            self._move(changed, weights, new, previous)
            # Clear the rounding left in clusters that emptied.
            emptied = self._sizes == 0
            if emptied.any():
                self._weight[emptied] = 0.0
                self._sums[emptied] = 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._sums / self._weight[:, None], self._sizes.copy()

    def _add_all(self, labels):
        """Add every point's weighted row to the sums of its cluster."""
        every = np.arange(labels.shape[0], dtype=np.intp)
        add_weighted_rows(self._X, self._weights, every, labels, 1.0, self._sums)

    def _move(self, changed, weights, new, previous):
        """Move the weighted rows ``changed`` (weighing ``weights``) from the
        sums of their ``previous`` clusters to those of their ``new`` ones."""
        changed = np.ascontiguousarray(changed, dtype=np.intp)
        previous = np.ascontiguousarray(previous, dtype=np.intp)
        add_weighted_rows(self._X, self._weights, changed, new, 1.0, self._sums)
        add_weighted_rows(self._X, self._weights, changed, previous, -1.0, self._sums)


class UnitClusterMeans(ClusterMeans):
    """The weighted means of ``ClusterMeans`` scaled to unit length."""

    def update(self, labels, changed, previous):
        centers, sizes = super().update(labels, changed, previous)
        return unit_rows(centers), sizes


def _kernel_rows(X):
    """Whether the compiled kernels read ``X`` as it is (C-ordered float rows)."""
    return (
        isinstance(X, np.ndarray)
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
    )


def _direct_cost(X, centers, manhattan):
    """Manhattan or squared Euclidean distance of every (row, center), summed
    in feature order from coordinate differences: by the compiled kernel for
    C-ordered float rows, else by numpy (same sums, same bits)."""
    if _kernel_rows(X):
        out = np.empty((X.shape[0], centers.shape[0]))
        centers = np.ascontiguousarray(centers, dtype=np.float64)
        pairwise_cost(X, centers, manhattan, out)
        return out
    return _summed_over_features(X, centers, np.abs if manhattan else np.square)


def _summed_over_features(X, centers, elementwise):
    """``sum_j elementwise(X[:, j] - centers[:, j])`` for every (row, center).

    Computed center by row, with the samples along the contiguous axis (which
    numpy vectorizes well even for a handful of centers), and returned as a
    transposed (n_samples, n_centers) view. Tables larger than a block are
    done a block of rows at a time, so the transposed copy of the rows stays
    the size of a block.
    """
    if X.shape[0] > 4096 and len(blocks := row_blocks(X)) > 1:
        total = np.empty((centers.shape[0], X.shape[0]))
        for rows in blocks:
            total[:, rows] = _summed_over_features(X[rows], centers, elementwise).T
        return total.T
    total = np.zeros((centers.shape[0], X.shape[0]))
    if centers.shape[0] <= _FEW_CENTERS:
        # Scalar-by-column operations are several times faster than a
        # broadcast over a short axis (measured: 1.1 ms against 5.7 ms for
        # 96,000 points and 4 centers).
        columns = np.ascontiguousarray(X.T, dtype=np.float64)
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


class Manhattan(_Uncentered, _Metric):
    """Manhattan cost and distance; coordinate-wise weighted median update."""

    name = "l1"
    _manhattan = True

    @staticmethod
    def norm(diff):
        return np.abs(diff).sum(axis=-1)

    @classmethod
    def paired(cls, X, centers):
        return cls.norm(X - centers)

    @staticmethod
    def pairwise(X, centers):
        return _direct_cost(X, centers, manhattan=True)

    pairwise_cost = pairwise

    @staticmethod
    def prepare_centers(centers, dtype=np.float64):
        return centers

    ranking = pairwise

    @staticmethod
    def from_ranking(X, rank):
        return rank

    @staticmethod
    def cost(distance):
        return distance

    @staticmethod
    def uses_product(n_features):
        return False

    @classmethod
    def inertia(cls, X, sample_weight, centers, labels):
        """Weighted cost from coordinate differences, in blocks of rows."""
        total = 0.0
        for rows in row_blocks(X):
            distance = cls.paired(X[rows], centers[labels[rows]])
            total += float(sample_weight[rows] @ distance)
        return total

    @staticmethod
    def updater(X, sample_weight, n_clusters):
        return ClusterMedians(X, sample_weight, n_clusters)

    # --- rows read in blocks ---

    @staticmethod
    def block_stats(rows, labels, n_clusters, layout):
        return MedianStats.of(rows, labels, n_clusters, layout)

    @staticmethod
    def centers_from(stats, layout, refine):
        """Exact coordinate-wise median of each cluster (see ``_medians``)."""
        return medians_from(stats, layout, refine)

    needs_value_ranges = True

    @staticmethod
    def block_layout(stats):
        """Which features keep histograms, from the table's ``TableStats``."""
        return MedianLayout.of(stats.low, stats.high, stats.integral)


METRICS = {"l2": Euclidean, "l1": Manhattan}
