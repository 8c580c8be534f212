"""Metric-generic k-means kernels: seeding, bounded Lloyd iterations, relocation.

Every function here works on validated float64 arrays of *distinct* points with
positive weights and takes a ``metric`` object that supplies the distance, the
per-point cost and the center update (see ``skclust._kmeans``). None of them
validates its input.

The Lloyd loop keeps Hamerly's two bounds per point: an upper bound on the
distance to its own center and a lower bound on the distance to every other
center. A point whose upper bound is below its lower bound (or below half the
gap from its center to the nearest other center) cannot change label, so most
points skip the distance computation after the first few iterations. The labels
are those of plain Lloyd iterations; only the work differs.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .._threads import blas_threads
from ._bounds import bounded_assignment, bounded_product_assignment, half_gaps
from ._cluster_sums import weighted_inertia

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


def _uses_product(n_features, metric):
    """Whether the assignment ranks centers by matrix products (L2, many
    features) rather than scanning them."""
    return n_features > _SCAN_MAX_FEATURES and not metric.manhattan


def _min_rows_per_thread(n_features, metric):
    if _uses_product(n_features, metric):
        return _MIN_PRODUCT_ROWS_PER_THREAD
    return _MIN_ROWS_PER_THREAD


# Rows per block when a full (rows x centers) distance matrix is computed:
# large enough for an efficient matrix product (256-row blocks made a pass
# over 200,000 x 64 points 5x slower), small enough to stay near the cache.
_BLOCK_ELEMENTS = 1 << 18

# When more than this fraction of the points fail their bounds, they are all
# assigned by blocked matrix products over the contiguous data instead of
# being gathered and scanned one by one (the gathers cost more than the
# distances in 64 dimensions, where the bounds skip little).
_FULL_PASS_FRACTION = 0.3


@dataclass
class LloydResult:
    """Outcome of one Lloyd run from one initialization."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int


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
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        dist = metric.pairwise(X[start:stop], centers)
        labels[start:stop] = dist.argmin(axis=1)
        distance[start:stop] = dist[np.arange(stop - start), labels[start:stop]]
    return labels, distance


def nearest_two(X, centers, metric):
    """Nearest center of each row, and distances to the nearest and second nearest.

    The metric's ``ranking`` gives, per block of rows, a matrix whose row-wise
    order is that of the distances and which ``from_ranking`` turns into
    distances for the two selected columns only (for L2, the squared distance
    less the row's squared norm: no square root over the whole matrix). Ties go
    to the lowest center index, as with ``numpy.argmin``.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
    nearest : ndarray of shape (n_samples,)
    second : ndarray of shape (n_samples,)
        ``inf`` when there is a single center.
    """
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    labels = np.empty(n_samples, dtype=np.intp)
    nearest = np.empty(n_samples)
    second = np.full(n_samples, np.inf)
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


def kmeans_plusplus(X, sample_weight, n_clusters, metric, random_state):
    """Greedy k-means++ seeding in the metric's own cost.

    Each new center is drawn with probability proportional to
    ``weight * cost(distance to the nearest chosen center)``, where the cost is
    the squared distance for L2 and the distance itself for L1, and the best of
    ``2 + log(n_clusters)`` candidates (lowest total cost) is kept (Arthur and
    Vassilvitskii, 2007). A point already chosen has zero probability, so the
    centers are distinct points.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    """
    n_local_trials = 2 + int(np.log(n_clusters))
    cumulative = np.cumsum(sample_weight)
    first = _draw(cumulative, random_state.uniform(size=1))
    chosen = [first[0]]
    closest = metric.pairwise_cost(X, X[chosen])[:, 0]
    for _ in range(1, n_clusters):
        cumulative = np.cumsum(sample_weight * closest)
        candidates = _draw(cumulative, random_state.uniform(size=n_local_trials))
        candidate_cost = metric.pairwise_cost(X, X[candidates])
        np.minimum(candidate_cost, closest[:, None], out=candidate_cost)
        best = np.argmin(sample_weight @ candidate_cost)
        chosen.append(candidates[best])
        closest = candidate_cost[:, best]
    return X[chosen].copy()


def _draw(cumulative, uniforms):
    # side="right" skips points whose weight*cost is zero (e.g. chosen centers).
    picks = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    return np.minimum(picks, cumulative.shape[0] - 1)


def random_points(X, sample_weight, n_clusters, random_state):
    """``n_clusters`` distinct points drawn with probability proportional to weight."""
    probabilities = sample_weight / sample_weight.sum()
    chosen = random_state.choice(
        X.shape[0], size=n_clusters, replace=False, p=probabilities
    )
    return X[chosen].copy()


def relocate_empty_clusters(X, labels, centers, empty, metric):
    """Move each empty cluster's center onto a point far from its own center.

    Points are taken in decreasing distance to their center, skipping any point
    that is the last member of its cluster, so that no cluster becomes empty by
    giving a point away. Labels never point at an empty cluster, so its
    undefined center is not read. Updates ``labels`` in place.

    Returns
    -------
    moved : ndarray of int
        Indices of the points that moved.
    previous : ndarray of int
        Their labels before the move.
    """
    n_clusters = centers.shape[0]
    sizes = np.bincount(labels, minlength=n_clusters)
    distance = metric.paired(X, centers[labels])
    moved, previous = [], []
    for far in np.argsort(-distance, kind="stable"):
        if len(moved) == len(empty):
            break
        if sizes[labels[far]] > 1 and distance[far] > 0:
            sizes[labels[far]] -= 1
            previous.append(labels[far])
            labels[far] = empty[len(moved)]
            moved.append(far)
    return np.asarray(moved, dtype=np.intp), np.asarray(previous, dtype=np.intp)


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
    """

    def __init__(self, X, n_clusters, metric, pool=None, n_threads=1):
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
        self._product = _uses_product(X.shape[1], metric)
        if self._product:
            self._squared_norms = np.einsum("ij,ij->i", X, X)
            self._chunk_rows = max(
                16, _PRODUCT_CHUNK_ELEMENTS // max(n_clusters, X.shape[1])
            )
            self._ranking_dtype = _ranking_dtype(X)
        self._pool = pool
        n_blocks = 1
        if pool is not None:
            n_blocks = n_threads * (_BLOCKS_PER_THREAD if self._product else 1)
        min_rows = _min_rows_per_thread(X.shape[1], metric)
        n_blocks = max(1, min(n_blocks, n_samples // min_rows))
        edges = np.linspace(0, n_samples, n_blocks + 1).astype(int)
        self._blocks = [slice(a, b) for a, b in pairwise(edges.tolist())]
        # Points ranked and re-examined, per block, by the product kernel.
        self._counts = np.zeros((len(self._blocks), 2), dtype=np.intp)

    def move_centers(self, shift, centers):
        """Record that the centers moved by ``shift`` to ``centers``."""
        self._shift = shift
        if centers.shape[0] > 1:
            half_gaps(centers, self.metric.manhattan, self._half_gap)

    def reset(self, index, own_distance, other_distance):
        self.upper[index] = own_distance
        self.lower[index] = other_distance

    def _full_pass(self, centers):
        """``nearest_two`` over all points, one block of rows per thread."""
        if len(self._blocks) == 1:
            return nearest_two(self.X, centers, self.metric)
        parts = list(
            self._pool.map(
                lambda rows: nearest_two(self.X[rows], centers, self.metric),
                self._blocks,
            )
        )
        return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))

    def assign(self, centers):
        """One Lloyd assignment step; labels change in place.

        Returns
        -------
        changed : ndarray of int
            Points whose label changed.
        previous : ndarray of int
            Their labels before the step.
        """
        shift = self._shift
        fastest = int(np.argmax(shift))
        largest = float(shift[fastest])
        runner_up = float(np.max(np.delete(shift, fastest), initial=0.0))

        if self._product:
            dtype = self._ranking_dtype
            if dtype == np.float32 and _largest_magnitude(centers) > _SINGLE_MAX_SCALE:
                # An explicit init far outside the data would overflow.
                dtype = np.float64
            centers_ranked = centers.astype(dtype)
            center_norms = np.einsum("ij,ij->i", centers, centers).astype(dtype)

        def assign_block(block):
            rows = self._blocks[block]
            if self._product:
                return bounded_product_assignment(
                    self.X[rows],
                    self._squared_norms[rows],
                    centers,
                    centers_ranked,
                    center_norms,
                    self.labels[rows],
                    self.upper[rows],
                    self.lower[rows],
                    shift,
                    fastest,
                    largest,
                    runner_up,
                    self._half_gap,
                    self._chunk_rows,
                    self._index[rows],
                    self._previous[rows],
                    self._counts[block],
                )
            return bounded_assignment(
                self.X[rows],
                centers,
                self.labels[rows],
                self.upper[rows],
                self.lower[rows],
                shift,
                fastest,
                largest,
                runner_up,
                self._half_gap,
                self.metric.manhattan,
                self._scan,
                self._index[rows],
                self._previous[rows],
            )

        if len(self._blocks) == 1:
            counts = [assign_block(0)]
        else:
            counts = list(self._pool.map(assign_block, range(len(self._blocks))))
        if self._product and dtype == np.float32:
            ranked, rechecked = self._counts.sum(axis=0)
            if rechecked > _SINGLE_MAX_RECHECKED * ranked:
                self._ranking_dtype = np.float64
        listed = [
            slice(rows.start, rows.start + n)
            for rows, n in zip(self._blocks, counts, strict=True)
        ]
        # The kernel lists positions within its block.
        index = np.concatenate([self._index[s] + s.start for s in listed])
        self._shift = np.zeros_like(shift)
        if self._scan or self._product:
            return index, np.concatenate([self._previous[s] for s in listed])
        if index.size > _FULL_PASS_FRACTION * self.labels.shape[0]:
            new_labels, nearest, second = self._full_pass(centers)
            changed = np.flatnonzero(new_labels != self.labels)
            previous = self.labels[changed]
            self.labels[:] = new_labels
            # Distances from the matrix product: accurate to rounding, like
            # the assignment itself.
            self.reset(slice(None), nearest, second)
            return changed, previous
        suspect = index
        new_labels, _, second = nearest_two(self.X[suspect], centers, self.metric)
        previous = self.labels[suspect]
        self.labels[suspect] = new_labels
        own = self.metric.paired(self.X[suspect], centers[new_labels])
        self.reset(suspect, own, second)
        changed = new_labels != previous
        return suspect[changed], previous[changed]


def lloyd(
    X, sample_weight, centers_init, metric, max_iter, tol, verbose=0, n_threads=1
):
    """Lloyd's algorithm in the given metric, from one initialization.

    Alternates assignment (each point to its nearest center) and update (each
    center to the minimiser of its cluster's weighted cost: the mean for L2, the
    coordinate-wise median for L1). Stops when an assignment step changes no
    label ("strict convergence"), when the squared Euclidean center shift summed
    over centers is at most ``tol``, or after ``max_iter`` iterations; in the
    last two cases a final assignment step makes the labels match the centers.
    Iteration counts and stopping rule are those of scikit-learn's Lloyd.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Distinct points, C-contiguous.
    sample_weight : ndarray of shape (n_samples,)
        Positive weights.
    centers_init : ndarray of shape (n_clusters, n_features)
    metric : object
        Distance, cost and update (see ``skclust._kmeans``), bound to X.
    max_iter : int
    tol : float
        Absolute tolerance on the summed squared center shift.
    verbose : int
    n_threads : int, default=1
        Threads for the assignment step (the compiled kernel releases the GIL).

    Returns
    -------
    LloydResult
    """
    with ExitStack() as stack:
        # BLAS runs on one thread: the assignment is parallel over blocks of
        # rows, and its products of a few hundred rows lose more than they
        # gain when BLAS splits them (20,000 x 64, k = 16: 2x slower).
        stack.enter_context(blas_threads(1))
        pool = None
        min_rows = _min_rows_per_thread(X.shape[1], metric)
        if n_threads > 1 and X.shape[0] >= 2 * min_rows:
            pool = stack.enter_context(ThreadPoolExecutor(n_threads))
        bounds = _Bounds(X, centers_init.shape[0], metric, pool, n_threads)
        return _lloyd(
            X, sample_weight, centers_init, metric, max_iter, tol, verbose, bounds
        )


def _lloyd(X, sample_weight, centers_init, metric, max_iter, tol, verbose, bounds):
    centers = np.ascontiguousarray(centers_init, dtype=np.float64)
    labels = bounds.labels
    strict = False
    for iteration in range(max_iter):
        changed, previous = bounds.assign(centers)
        new_centers, sizes = metric.cluster_centers(labels, changed, previous)
        empty = np.flatnonzero(sizes == 0)
        if empty.size:
            moved, moved_from = relocate_empty_clusters(
                X, labels, new_centers, empty, metric
            )
            new_centers, _ = metric.cluster_centers(labels, moved, moved_from)
            # A moved point sits on its new center; its lower bound is unknown.
            bounds.reset(moved, metric.paired(X[moved], new_centers[labels[moved]]), 0)
            changed = np.union1d(changed, moved)
            if verbose:
                print(
                    f"Relocated {empty.size} empty cluster(s) {empty.tolist()} "
                    "to the points farthest from their centers."
                )
        if verbose:
            cost = _inertia(X, sample_weight, new_centers, labels, metric)
            print(f"Iteration {iteration}, inertia {cost:.6g}")
        if iteration and not changed.size:
            strict = True
            centers = new_centers
            if verbose:
                print(f"Converged at iteration {iteration}: strict convergence.")
            break
        shift_sq = float(((new_centers - centers) ** 2).sum())
        bounds.move_centers(metric.paired(new_centers, centers), new_centers)
        centers = new_centers
        if shift_sq <= tol:
            if verbose:
                print(
                    f"Converged at iteration {iteration}: center shift "
                    f"{shift_sq:.3g} within tolerance {tol:.3g}."
                )
            break
    if not strict:
        bounds.assign(centers)
    inertia = _inertia(X, sample_weight, centers, labels, metric)
    return LloydResult(centers, labels, inertia, iteration + 1)


def _inertia(X, sample_weight, centers, labels, metric):
    """Weighted cost from coordinate differences (in blocks of rows for L1)."""
    if not metric.manhattan:
        return weighted_inertia(X, sample_weight, centers, labels)
    total = 0.0
    step = block_rows(X.shape[1])
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        distance = metric.paired(X[rows], centers[labels[rows]])
        total += float(sample_weight[rows] @ metric.cost(distance))
    return total
