"""The assignment step of Lloyd on in-memory points, with Hamerly's bounds.

``InMemoryRuns`` is what the Lloyd engine (``skclust._kmeans._engine``) runs
over when the points fit in memory: validated float64 or float32 arrays of *distinct*
points with positive weights, and a ``metric`` (``skclust._kmeans._metrics``)
that supplies the distance, the per-point cost and the center update. None of
the functions here validates its input.

The Lloyd loop keeps Hamerly's two bounds per point: an upper bound on the
distance to its own center and a lower bound on the distance to every other
center. A point whose upper bound is below its lower bound (or below half the
gap from its center to the nearest other center) cannot change label, so most
points skip the distance computation after the first few iterations. Where
that leaves many points to examine (tens of centers, 6 to 16 features), Elkan's
bounds, one per point and center, spare most of their distances too. The labels
are those of plain Lloyd iterations; only the work differs.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import pairwise

import numpy as np
from scipy import sparse

from .._threads import blas_threads
from ._bounds import (
    CenterBounds,
    CenterMoves,
    PointBounds,
    bounded_product_assignment,
    projected_product_assignment,
)
from ._engine import Candidates, Step
from ._projection import (
    ProjectedRows,
    choose_rank,
    may_pay,
    principal_basis,
    worth_choosing,
)

# Up to this many features, points whose bounds fail are scanned against every
# center inside the compiled kernel; beyond, a blocked matrix product is faster.
_SCAN_MAX_FEATURES = 16

# Centered data whose largest absolute value lies in this range is ranked in
# single precision (see _ranking_dtype).
_SINGLE_MIN_SCALE = 1e-10
_SINGLE_MAX_SCALE = 1e10

# Blocks of rows per thread in the assignment step by matrix products: with
# several per thread, a thread slowed down by other work on the machine leaves
# its remaining blocks to the others (200,000 x 64: 1.13x -> 1.05x
# scikit-learn's time). The cheaper scan of few features is best with one
# (football.bmp, k = 48: 0.30 s against 0.33 s with four).
_BLOCKS_PER_THREAD = 4

# Elements of the (rows x centers) product, and of the (rows x features)
# gathered rows, that the compiled L2 kernel handles at a time: they then stay
# in a core's cache, and the scratch memory does not grow with the data.
_PRODUCT_CHUNK_ELEMENTS = 1 << 16

# When more than this fraction of the points ranked in single precision must
# be re-examined by exact distances, the rest of the fit ranks in double
# precision. Rounding then rivals the gaps between centers (an outlier center
# or groups far from the mean make the allowance large): measured on 30,000 x
# 64 with k = 128, such data took 0.56-1.01 s in single precision against
# 0.21-0.22 s in double.
_SINGLE_MAX_RECHECKED = 0.1

# Below this many rows per thread, splitting the assignment costs more than it
# saves.
_MIN_ROWS_PER_THREAD = 20_000

# The same for the assignment by matrix products, where each row costs
# n_clusters x n_features multiply-adds: on 30,000 x 64 with k = 128, two
# threads took a 15-iteration Lloyd run from 0.133 s to 0.084 s.
_MIN_PRODUCT_ROWS_PER_THREAD = 2_000


def _min_rows_per_thread(n_features, metric):
    if metric.uses_product(n_features):
        return _MIN_PRODUCT_ROWS_PER_THREAD
    return _MIN_ROWS_PER_THREAD


def splits_rows(n_samples, n_features, metric):
    """Whether the assignment step over so many rows may run on several threads."""
    return n_samples >= 2 * _min_rows_per_thread(n_features, metric)


# Rows per block when a full (rows x centers) distance matrix is computed:
# large enough for an efficient matrix product (256-row blocks made a pass
# over 200,000 x 64 points 5x slower), small enough to stay near the cache.
_BLOCK_ELEMENTS = 1 << 18

# Elkan's bounds (one per point and center) are kept, besides Hamerly's, when
# the points are scanned in the compiled kernel (see _keeps_center_bounds).
# A row of bounds is read for each point whose Hamerly bounds fail, instead
# of computing its distance to every center: that pays when a distance costs
# more than reading a bound. Measured (KMeansL2, blobs, k-means++ init,
# loaded machine), the median assignment step with / without: 100,000 x 6,
# k = 48 (38 MB of bounds), 6.1 ms / 3.7 ms; 100,000 x 12, k = 32 (26 MB),
# 0.54x; 200,000 x 16, k = 32 (51 MB), 0.84x; whole fits: 20,000 x 6,
# k = 64 (10 MB), 0.93x; football.bmp's colours (3 features), k = 48, 2.1x.
# With fewer centers Hamerly's one bound rules out nearly as much, and the
# first step's writing of the bounds is not repaid (50,000 x 16 blobs, k = 3,
# 3 iterations: 1.16x the time; k = 8: 0.99x; k = 12: 0.95x).
_CENTER_BOUNDS_MIN_CLUSTERS = 10
_CENTER_BOUNDS_MIN_FEATURES = 6
# Below this many features, only bounds that stay in a processor's cache.
_CENTER_BOUNDS_UNCACHED_MIN_FEATURES = 12
_CENTER_BOUNDS_CACHED_ELEMENTS = 1 << 21
# At most 64 MiB of float64 bounds in any case.
_CENTER_BOUNDS_MAX_ELEMENTS = 1 << 23


def _keeps_center_bounds(n_samples, n_features, n_clusters):
    """Whether Elkan's bounds pay for these shapes (see above)."""
    elements = n_samples * n_clusters
    if n_clusters < _CENTER_BOUNDS_MIN_CLUSTERS:
        return False
    if n_features < _CENTER_BOUNDS_MIN_FEATURES:
        return False
    if n_features < _CENTER_BOUNDS_UNCACHED_MIN_FEATURES:
        return elements <= _CENTER_BOUNDS_CACHED_ELEMENTS
    return elements <= _CENTER_BOUNDS_MAX_ELEMENTS


# When more than this fraction of the points fail their bounds, they are all
# assigned by blocked matrix products over the contiguous data instead of
# being gathered and scanned one by one (the gathers cost more than the
# distances in 64 dimensions, where the bounds skip little).
_FULL_PASS_FRACTION = 0.3


def block_rows(n_clusters):
    """Number of rows per block for a distance matrix with ``n_clusters`` columns."""
    return max(64, _BLOCK_ELEMENTS // max(1, n_clusters))


def nearest_center(X, centers, metric):
    """Nearest center of each row and the distance to it, computed in blocks.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Ties go to the lowest center index.
    distance : ndarray of shape (n_samples,)
    """
    n_samples = X.shape[0]
    labels = np.empty(n_samples, dtype=np.intp)
    distance = np.empty(n_samples)
    step = block_rows(centers.shape[0])
    rows_near, centers = _near_the_centers(X, centers, metric)
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        dist = metric.pairwise(rows_near(X[start:stop]), centers)
        labels[start:stop] = dist.argmin(axis=1)
        distance[start:stop] = dist[np.arange(stop - start), labels[start:stop]]
    return labels, distance


def pairwise_in_blocks(X, centers, metric, dtype=None):
    """Distances from every row to every center, in ``dtype`` (by default
    that of ``X``).

    Computed in float64 a block of rows at a time, so that float32 rows are
    never copied to float64 whole.
    """
    out = np.empty((X.shape[0], centers.shape[0]), dtype=dtype or X.dtype)
    step = block_rows(centers.shape[0])
    rows_near, centers = _near_the_centers(X, centers, metric)
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        out[rows] = metric.pairwise(rows_near(X[rows]), centers)
    return out


def _near_the_centers(X, centers, metric):
    """A function that moves blocks of ``X`` by the centers' mean, and the
    centers so moved, where the distances come from a matrix product.

    ``|x|^2 - 2 x.c + |c|^2`` loses the digits that rows far from the origin
    share with the centers (data near 1e5 spread by 1e-3 gave other labels
    than the fit's for most rows): the fit works on centered data, and rows
    moved near the centers keep the distances accurate here too. Sparse rows
    (moving them would densify them) and distances from coordinate
    differences are left as they are.
    """
    if sparse.issparse(X) or not metric.uses_product(X.shape[1]):
        return _as_given, centers
    origin = centers.mean(axis=0)
    return (lambda rows: rows - origin), centers - origin


def _as_given(rows):
    return rows


def nearest_two(X, centers, metric, out=None):
    """Nearest center of each row, and distances to the nearest and second nearest.

    The metric's ``ranking`` gives, per block of rows, a matrix whose row-wise
    order is that of the distances and which ``from_ranking`` turns into
    distances for the two selected columns only (for L2, the squared distance
    less the row's squared norm: no square root over the whole matrix). Ties go
    to the lowest center index, as with ``numpy.argmin``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centers : ndarray of shape (n_clusters, n_features)
    metric : class
    out : tuple of three ndarrays of shape (n_samples,), default=None
        Where to write the three results (intp, float64, float64), instead
        of new arrays.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
    nearest : ndarray of shape (n_samples,)
    second : ndarray of shape (n_samples,)
        ``inf`` when there is a single center.
    """
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    if out is None:
        out = (
            np.empty(n_samples, dtype=np.intp),
            np.empty(n_samples),
            np.empty(n_samples),
        )
    labels, nearest, second = out
    second.fill(np.inf)
    step = block_rows(n_clusters)
    prepared = metric.prepare_centers(centers)
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        block = X[start:stop]
        rank = metric.ranking(block, prepared)
        rows = np.arange(stop - start)
        best = rank.argmin(axis=1)
        labels[start:stop] = best
        nearest[start:stop] = metric.from_ranking(block, rank[rows, best])
        if n_clusters > 1:
            rank[rows, best] = np.inf
            second[start:stop] = metric.from_ranking(block, rank.min(axis=1))
    return labels, nearest, second


def _ranking_dtype(X):
    """float32 for ranking centers by matrix products, unless the scale of
    ``X`` is outside ``[_SINGLE_MIN_SCALE, _SINGLE_MAX_SCALE]``.

    The compiled kernel corrects single-precision rankings by exact
    distances wherever rounding could change a label, so the precision
    changes the speed only; far from unit scale, single precision would
    overflow, or leave too many near ties to re-examine.
    """
    if _SINGLE_MIN_SCALE <= _largest_magnitude(X) <= _SINGLE_MAX_SCALE:
        return np.float32
    return np.float64


def _largest_magnitude(X):
    # max(-min, max) rather than max(abs): no temporary copy of X.
    return max(-float(X.min(initial=0.0)), float(X.max(initial=0.0)))


def _projection_for(X, centers, over_blocks):
    """``ProjectedRows`` of ``X`` if ranking in few dimensions pays with
    these centers (see ``_projection.choose_rank``), else None.
    ``over_blocks(f)`` calls ``f`` on the row blocks of the assignment."""
    if not may_pay(*centers.shape):
        return None
    basis, rounding = principal_basis(X)
    rank = choose_rank(X, centers, basis)
    if rank is None:
        return None
    return ProjectedRows(X, basis, rounding, rank, over_blocks)


class _CenterBounds:
    """Elkan's lower bounds of every point to every center, stored with the
    centers' cumulative shifts added (see ``_bounds.CenterBounds``): moving
    the centers writes nothing per point."""

    def __init__(self, n_samples, n_clusters):
        # Not written until the first step scans every point.
        self.offset = np.empty((n_samples, n_clusters))
        self.traveled = np.zeros(n_clusters)
        self.steps = 0

    def advance(self, shift):
        """Start a step after the centers moved by ``shift``."""
        lost = ~np.isfinite(shift)
        if lost.any():
            # A center that came from infinitely far (an initial center far
            # outside the data) moved by more than float64 holds: its stored
            # bounds less its travel are inf - inf, NaN, which ruled it out
            # for good. They restart from nothing, and its travel from zero.
            self.offset[:, lost] = -np.inf
            self.traveled[lost] = 0.0
            shift = np.where(lost, 0.0, shift)
        self.traveled += shift
        self.steps += 1

    def of_rows(self, rows):
        return CenterBounds(
            self.offset[rows], self.traveled, self.steps == 1, self.steps
        )


class _Bounds:
    """Hamerly's bounds for every point, and the assignment step that uses them.

    ``upper`` bounds each point's distance to its own center and ``lower`` its
    distance to every other center. The compiled kernel moves the bounds by the
    last center shift and re-examines only the points whose bounds no longer
    prove their label. With few features it scans them against every center
    from coordinate differences; with many features, in the L2 metric, it
    ranks the centers by a BLAS matrix product per chunk of such points and
    keeps the nearest and second nearest in the same pass. Otherwise (L1 with
    many features) they are scanned here, by blocks.

    With ``center_bounds``, where the kernel scans and the shapes pay
    (``_keeps_center_bounds``), Elkan's bounds of every point to every center
    are kept too: a point whose Hamerly bounds fail is compared only with
    the centers they do not rule out.
    """

    def __init__(
        self,
        X,
        n_clusters,
        metric,
        pool=None,
        n_threads=1,
        norms_once=True,
        project=False,
        center_bounds=False,
    ):
        n_samples = X.shape[0]
        self.X = X
        self.metric = metric
        self.labels = np.zeros(n_samples, dtype=np.intp)
        self.upper = np.zeros(n_samples)
        # -inf everywhere makes the first step examine and scan every point.
        self.lower = np.full(n_samples, -np.inf)
        self._half_gap = np.full(n_clusters, -np.inf)
        self._shift = np.zeros(n_clusters)
        self._index = np.empty(n_samples, dtype=np.intp)
        self._previous = np.empty(n_samples, dtype=np.intp)
        self._scan = X.shape[1] <= _SCAN_MAX_FEATURES
        self._product = metric.uses_product(X.shape[1])
        self._center_bounds = None
        if (
            center_bounds
            and self._scan
            and not self._product
            and _keeps_center_bounds(n_samples, X.shape[1], n_clusters)
        ):
            self._center_bounds = _CenterBounds(n_samples, n_clusters)
        if self._product:
            # ``|x|^2`` of every point, once per fit; or, for rows seen once
            # whose bounds mostly hold, summed by the kernel for the rows
            # it ranks.
            self._squared_norms = None
            if norms_once:
                self._squared_norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
            self._chunk_rows = max(
                16, _PRODUCT_CHUNK_ELEMENTS // max(n_clusters, X.shape[1])
            )
            self._ranking_dtype = _ranking_dtype(X)
        # Whether to try ranking in a few principal directions, then the
        # ProjectedRows. Decided at the second step: initial centers are data
        # points, whose own residuals make the bound loose (on 200,000 x 64
        # embeddings, k = 256: 5.6 exact distances per point at the first
        # step, 1.1 at the second).
        self._projection_pending = (
            project
            and self._product
            and worth_choosing(n_samples, n_clusters, X.shape[1])
        )
        self._projection = None
        self._stepped = False
        self._pool = pool
        n_blocks = 1
        if pool is not None:
            n_blocks = n_threads * (_BLOCKS_PER_THREAD if self._product else 1)
        min_rows = _min_rows_per_thread(X.shape[1], metric)
        n_blocks = max(1, min(n_blocks, n_samples // min_rows))
        # One block without numpy: linspace took 7 us of a fit of iris.
        edges = [0, n_samples]
        if n_blocks > 1:
            edges = np.linspace(0, n_samples, n_blocks + 1).astype(int).tolist()
        self._blocks = [slice(a, b) for a, b in pairwise(edges)]
        # Points ranked and re-examined, per block, by the product kernel.
        self._counts = np.zeros((len(self._blocks), 2), dtype=np.intp)

    def _over_blocks(self, function, items=None):
        """``function(rows)`` for each block of rows (or ``function(item)``
        for each of ``items``, one per block), in the thread pool."""
        items = self._blocks if items is None else items
        if len(self._blocks) == 1:
            return [function(item) for item in items]
        return list(self._pool.map(function, items))

    def move_centers(self, shift, centers):
        """Record that the centers moved by ``shift`` to ``centers``."""
        self._shift = shift
        if centers.shape[0] > 1:
            self.metric.half_gaps(centers, self._half_gap)

    def reset(self, index, own_distance, other_distance):
        self.upper[index] = own_distance
        self.lower[index] = other_distance

    def _full_pass(self, centers):
        """Every point assigned by ``nearest_two``, one block of rows per
        thread, its bounds reset to the two distances (accurate to rounding,
        like the assignment itself); labels change in place.

        The new labels go to the ``_previous`` scratch array and the bounds
        are written in place, so that the pass allocates only the list of the
        points that changed (it made three arrays of the table's length, and
        copies of them, when it had each block return its own).

        Returns
        -------
        changed, previous : ndarray of int
            As :meth:`assign`; ``previous`` is a view of ``_index``.
        """
        new_labels = self._previous

        def block(rows):
            out = (new_labels[rows], self.upper[rows], self.lower[rows])
            nearest_two(self.X[rows], centers, self.metric, out=out)

        self._over_blocks(block)
        changed = np.flatnonzero(new_labels != self.labels)
        previous = self._index[: changed.shape[0]]
        np.take(self.labels, changed, out=previous)
        self.labels[:] = new_labels
        return changed, previous

    def assign(self, centers):
        """One Lloyd assignment step; labels change in place.

        Returns
        -------
        changed : ndarray of int
            Points whose label changed.
        previous : ndarray of int
            Their labels before the step.

        Both may be views of this object's scratch arrays, valid until the
        next call: a step that examines every point then needs no arrays of
        the table's length besides the ones kept.
        """
        shift = self._shift
        moves = CenterMoves(shift, self._half_gap)

        if self._product:
            dtype = self._ranking_dtype
            if dtype == np.float32 and _largest_magnitude(centers) > _SINGLE_MAX_SCALE:
                # An explicit init far outside the data would overflow.
                dtype = np.float64
            if self._projection_pending and self._stepped and dtype == np.float32:
                self._projection_pending = False
                self._projection = _projection_for(self.X, centers, self._over_blocks)
            projection = self._projection if dtype == np.float32 else None
            if projection is not None:
                centers_projected, centers_ranked, center_norms = projection.centers(
                    centers
                )
            else:
                centers_ranked = centers.astype(dtype)
                center_norms = np.einsum("ij,ij->i", centers, centers).astype(dtype)

        def assign_block(block):
            rows = self._blocks[block]
            state = PointBounds(
                self.labels[rows],
                self.upper[rows],
                self.lower[rows],
                self._index[rows],
                self._previous[rows],
            )
            if self._product and projection is not None:
                return projected_product_assignment(
                    self.X[rows],
                    projection.rows[rows],
                    projection.squared_norms[rows],
                    centers,
                    centers_projected,
                    centers_ranked,
                    center_norms,
                    projection.basis_error,
                    self._chunk_rows,
                    state,
                    moves,
                    self._counts[block],
                )
            if self._product:
                return bounded_product_assignment(
                    self.X[rows],
                    None if self._squared_norms is None else self._squared_norms[rows],
                    centers,
                    centers_ranked,
                    center_norms,
                    self._chunk_rows,
                    state,
                    moves,
                    self._counts[block],
                )
            return self.metric.scan_assignment(
                self.X[rows],
                centers,
                state,
                moves,
                self._scan,
                None if elkan is None else elkan.of_rows(rows),
            )

        elkan = self._center_bounds
        if elkan is not None:
            elkan.advance(shift)
        counts = self._over_blocks(assign_block, range(len(self._blocks)))
        if self._product and projection is not None:
            ranked, extra_exact = self._counts.sum(axis=0)
            if not projection.pays(centers.shape[0], ranked, extra_exact):
                self._projection = None
        elif self._product and dtype == np.float32:
            # Python integers: numpy scalars made this test slower than the
            # sums (it runs at every step of a small fit).
            ranked, rechecked = self._counts.sum(axis=0).tolist()
            if rechecked > _SINGLE_MAX_RECHECKED * ranked:
                self._ranking_dtype = np.float64
        self._stepped = True
        # The kernel lists positions within its block, from the block's
        # start; they move to the front of the scratch arrays, as positions
        # in the table (copies of them would be as long as the table at the
        # first step).
        n_listed = 0
        for rows, n in zip(self._blocks, counts, strict=True):
            target = slice(n_listed, n_listed + n)
            if n_listed < rows.start:
                # Overlapping ranges (numpy copies through a buffer).
                source = slice(rows.start, rows.start + n)
                self._index[target] = self._index[source]
                self._previous[target] = self._previous[source]
            if rows.start:
                self._index[target] += rows.start
            n_listed += n
        index = self._index[:n_listed]
        self._shift = np.zeros(shift.shape[0])
        if self._scan or self._product:
            return index, self._previous[:n_listed]
        if index.size > _FULL_PASS_FRACTION * self.labels.shape[0]:
            return self._full_pass(centers)
        suspect = index
        previous = self.labels[suspect]
        # A block of suspects at a time: their gathered rows and differences
        # would otherwise be copies of up to a third of the table, in float64.
        step = block_rows(max(centers.shape))
        for start in range(0, suspect.shape[0], step):
            part = suspect[start : start + step]
            rows = self.X[part]
            new_labels, _, second = nearest_two(rows, centers, self.metric)
            self.labels[part] = new_labels
            own = self.metric.paired(rows, centers[new_labels])
            self.reset(part, own, second)
        changed = self.labels[suspect] != previous
        return suspect[changed], previous[changed]


def nearest_exactly(X, centers, metric):
    """Nearest center of each row and the distance to it, as the bounded
    assignment finds them (ties to the lowest index, near ties settled by
    coordinate differences), for rows seen once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64, C-contiguous
    centers : ndarray of shape (n_clusters, n_features)
    metric : class
        ``Euclidean`` or ``Manhattan``.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
    distance : ndarray of shape (n_samples,)
    """
    bounds = _Bounds(X, centers.shape[0], metric)
    bounds.assign(np.ascontiguousarray(centers, dtype=np.float64))
    return bounds.labels, bounds.upper


def resumed_bounds(X, metric, labels, upper, lower, shift, half_gap):
    """``_Bounds`` of rows read again, resuming the state a previous step left.

    For rows read in blocks (``skclust._kmeans._blocked.RowBounds``): one
    assignment step over ``X`` with the in-memory kernels, examining only the
    rows whose bounds fail.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64, C-contiguous
    metric : class
    labels : ndarray of shape (n_samples,), intp
    upper, lower : ndarray of shape (n_samples,), float64
        The state of the rows, changed in place by ``assign``.
    shift : ndarray of shape (n_clusters,)
        How far each center moved since the state was left.
    half_gap : ndarray of shape (n_clusters,)
        Half the gap from each current center to the nearest other one
        (``-inf`` disables that test).
    """
    bounds = _Bounds(X, shift.shape[0], metric, norms_once=False)
    bounds.labels, bounds.upper, bounds.lower = labels, upper, lower
    bounds._shift, bounds._half_gap = shift, half_gap
    return bounds


class InMemoryRuns:
    """Lloyd runs over in-memory distinct points: the fast path of the engine.

    Keeps, per run, the labels and Hamerly's bounds of every point (``_Bounds``)
    and the metric's center update (its ``updater``), so that an assignment
    step examines only the points whose bounds fail and an update adds only
    the points that changed cluster.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Distinct points, C-contiguous float64 or float32 (distances, bounds
        and sums are computed in float64 either way).
    sample_weight : ndarray of shape (n_samples,)
        Positive weights.
    n_clusters : int
    metric : class
    pool : ThreadPoolExecutor or None
    n_threads : int
    """

    def __init__(self, X, sample_weight, n_clusters, metric, pool=None, n_threads=1):
        self.X = X
        self.sample_weight = sample_weight
        self.metric = metric
        self._bounds = _Bounds(
            X, n_clusters, metric, pool, n_threads, project=True, center_bounds=True
        )
        self._updater = metric.updater(X, sample_weight, n_clusters)
        self._changed = None

    def assign(self, runs, centers):
        (center,) = centers
        changed, previous = self._bounds.assign(center)
        self._changed = changed
        new_centers, sizes = self._updater.update(
            self._bounds.labels, changed, previous
        )
        return [Step(new_centers, sizes, changed.size)]

    def farthest(self, runs, assigned, limit):
        (centers,) = assigned
        labels = self._bounds.labels
        distance = np.empty(labels.shape[0])
        # A block of rows at a time: the differences of the whole table would
        # be a float64 table of its size.
        step = block_rows(self.X.shape[1])
        for start in range(0, labels.shape[0], step):
            rows = slice(start, start + step)
            distance[rows] = self.metric.paired(self.X[rows], centers[labels[rows]])
        order = np.argsort(-distance, kind="stable")[:limit]
        return [Candidates(distance[order], order, labels[order])]

    def move(self, run, index, targets):
        labels = self._bounds.labels
        previous = labels[index]
        labels[index] = targets
        centers, sizes = self._updater.update(labels, index, previous)
        # A moved point sits on its new center; its lower bound is unknown.
        own = self.metric.paired(self.X[index], centers[labels[index]])
        self._bounds.reset(index, own, 0)
        changed = np.union1d(self._changed, index)
        return Step(centers, sizes, changed.size)

    def centers_moved(self, run, old, new):
        self._bounds.move_centers(self.metric.paired(new, old), new)

    def finish(self, centers, strict):
        """Labels of the final centers (one more step unless converged)."""
        if not strict[0]:
            self._bounds.assign(centers[0])
        return [self._bounds.labels]

    def costs(self, runs, centers):
        return [
            self.metric.inertia(self.X, self.sample_weight, c, self._bounds.labels)
            for c in centers
        ]


@contextmanager
def in_memory_runs(X, sample_weight, n_clusters, metric, n_threads=1):
    """``InMemoryRuns`` with its thread pool, BLAS on one thread meanwhile.

    The assignment is parallel over blocks of rows, and its products of a few
    hundred rows lose more than they gain when BLAS splits them (20,000 x 64,
    k = 16: 2x slower).
    """
    with blas_threads(1):
        if n_threads > 1 and splits_rows(*X.shape, metric):
            with ThreadPoolExecutor(n_threads) as pool:
                yield InMemoryRuns(
                    X, sample_weight, n_clusters, metric, pool, n_threads
                )
        else:
            yield InMemoryRuns(X, sample_weight, n_clusters, metric)
