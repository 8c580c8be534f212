"""Lloyd and mini-batch k-means over a table read block by block.

These engines serve ``VectorQuantizer`` when the table is not clustered in
memory by ``KMeansL2``: a memory-mapped table larger than memory, a dask array
spread over a cluster, an in-memory table given a ``batch_size``, and
``partial_fit``. Every pass over the data is a ``reduce`` of a source (see
``skclust._vq._sources``): a kernel of ``skclust._vq._kernels`` mapped over
blocks of rows, then a sum of the per-block results, so the same functions
run on a numpy memory map (one block at a time, in this process) and on a
dask array (one task per chunk, on whatever scheduler is active).

The functions take a source of validated rows and validated parameters, and
run inside the source's ``running()``; the callers in ``skclust._vq``
validate.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._kmeans._dedup import merge_duplicate_rows
from .._kmeans._lloyd import kmeans_plusplus, random_points
from .._kmeans._metrics import _EuclideanMetric
from ._kernels import farthest_kernel, models_of, stats_kernel, totals_kernel
from ._sources import RowPrep, warn_zero_rows

# Rows per block when reading a memory map and no batch_size is given.
DEFAULT_BATCH_ROWS = 65_536

# Rows sampled per cluster for the k-means++ seeding of a blocked fit.
_INIT_ROWS_PER_CLUSTER = 8

_MAX_SEED = np.iinfo(np.int32).max


def center_on_mean(source, normalize, stacklevel=1):
    """Make ``source`` center its prepared rows on their mean, found in one pass.

    The pass also checks every row (NaN, infinity) and, with ``normalize``,
    warns about the rows of zero length, which stay zero (``stacklevel``
    counts from the caller, as ``warnings.warn``'s does).

    Returns
    -------
    mean, variance : ndarray of shape (n_features,)
        Per column, of the prepared rows before centering.
    """
    stats = source.reduce(stats_kernel)
    if normalize:
        warn_zero_rows(stats.zero_rows, stats.count, stacklevel)
    source.use_prep(RowPrep(normalize, stats.mean))
    return stats.mean, stats.m2 / stats.count


# --- Seeding -----------------------------------------------------------------


def sample_rows(source, n_rows, random_state):
    """``n_rows`` distinct rows of ``source`` drawn uniformly, in float64.

    The rows are prepared as the source prepares its blocks, so the sample
    lies in the space being clustered.
    """
    n_samples = source.shape[0]
    if n_rows >= n_samples:
        indices = np.arange(n_samples)
    else:
        indices = np.sort(random_state.choice(n_samples, n_rows, replace=False))
    rows = source.take(indices)
    if source.prep is not None:
        # The float32 rows the passes see, whichever source prepared them.
        rows = source.prep(rows, 0).astype(np.float64)
    return rows


def _seeding_sample(source, n_clusters, random_state):
    """The rows that k-means++ or random seeding choose the centers from."""
    size = min(source.shape[0], _INIT_ROWS_PER_CLUSTER * n_clusters)
    return sample_rows(source, size, random_state)


def seed_centers(sample, n_clusters, init, random_state):
    """k-means++ or random initial centers from the sample's distinct rows.

    With fewer distinct rows than ``n_clusters``, every distinct row is seeded
    and the centers repeat them, with a ``ConvergenceWarning``, as
    ``KMeansL2`` does.
    """
    distinct = merge_duplicate_rows(sample, np.ones(sample.shape[0]))
    n_seeded = min(n_clusters, distinct.points.shape[0])
    if n_seeded < n_clusters:
        warnings.warn(
            f"n_clusters={n_clusters} is larger than the number of distinct rows "
            f"({n_seeded}) among the {sample.shape[0]} rows sampled for the "
            "initialization: the codebook repeats centroids",
            ConvergenceWarning,
            stacklevel=2,
        )
    if init == "random":
        centers = random_points(
            distinct.points, distinct.weights, n_seeded, random_state
        )
    else:
        centers = kmeans_plusplus(
            distinct.points, distinct.weights, n_seeded, _EuclideanMetric, random_state
        )
    return centers[np.arange(n_clusters) % n_seeded]


# --- Lloyd over blocks -------------------------------------------------------


@dataclass
class BlockedResult:
    centers: list
    n_iter: np.ndarray
    counts: list
    sq_error: np.ndarray


def blocked_lloyd(source, columns, inits, tols, max_iter):
    """Lloyd's algorithm for several codebooks at once, one pass per iteration.

    Each pass reads every block once and assigns its rows in every model that
    has not converged. The update, the stopping rules and the relocation of
    empty clusters are those of ``KMeansL2``: a model stops when the squared
    center shift summed over centers is at most its tolerance (a pass that
    changes no label gives exactly the same centers, hence a zero shift), or
    after ``max_iter`` passes.

    Parameters
    ----------
    source : ArraySource or DaskSource
    columns : list of slice
        Columns of each model.
    inits : list of ndarray of shape (n_clusters, width)
        Initial centers of each model, in the prepared (centered) space.
    tols : list of float
        Absolute tolerance of each model on the summed squared shift.
    max_iter : int

    Returns
    -------
    BlockedResult
        Final centers (float64), iterations, the cluster sizes of each model's
        last pass, and its summed squared distance at that pass.
    """
    centers = [np.asarray(c, dtype=np.float64) for c in inits]
    n_models = len(centers)
    n_iter = np.zeros(n_models, dtype=int)
    counts = [np.zeros(c.shape[0], dtype=np.int64) for c in centers]
    sq_error = np.zeros(n_models)
    active = list(range(n_models))
    for iteration in range(max_iter):
        models = models_of([columns[i] for i in active], [centers[i] for i in active])
        totals = source.reduce(totals_kernel, models)
        updated, empties = [], []
        for j, i in enumerate(active):
            counts[i] = totals.counts[j]
            sq_error[i] = totals.sq_error[j]
            with np.errstate(invalid="ignore", divide="ignore"):
                updated.append(totals.sums[j] / counts[i][:, None])
            empties.append(np.flatnonzero(counts[i] == 0))
        relocating = [j for j, empty in enumerate(empties) if empty.size]
        if relocating:
            limit = max(empties[j].size + models[j].n_clusters for j in relocating)
            farthest = source.reduce(
                farthest_kernel,
                [models[j] for j in relocating],
                [updated[j] for j in relocating],
                limit,
            )
            for position, j in enumerate(relocating):
                i = active[j]
                sums = totals.sums[j]
                _relocate(_Candidates(farthest, position), sums, counts[i], empties[j])
                with np.errstate(invalid="ignore", divide="ignore"):
                    updated[j] = sums / counts[i][:, None]
                # A cluster no row could be moved to keeps its center.
                still = np.isnan(updated[j][:, 0])
                updated[j][still] = centers[i][still]
        still_active = []
        for j, i in enumerate(active):
            shift = float(((updated[j] - centers[i]) ** 2).sum())
            centers[i] = updated[j]
            n_iter[i] = iteration + 1
            if shift > tols[i]:
                still_active.append(i)
        active = still_active
        if not active:
            break
    return BlockedResult(centers, n_iter, counts, sq_error)


class _Candidates:
    """The merged farthest rows of one model, as (distance, label, row) lists."""

    def __init__(self, farthest, position):
        self.distance = farthest.distance[position]
        self.labels = farthest.labels[position]
        self.rows = farthest.rows[position]


def _relocate(farthest, sums, counts, empty):
    """Move empty clusters onto the farthest rows, as ``KMeansL2`` does.

    Rows are taken in decreasing distance to their updated center, skipping a
    row that is the last of its cluster or sits on its center. ``sums`` and
    ``counts`` change in place.

    Returns
    -------
    int
        How many empty clusters got a row.
    """
    moved = 0
    for distance, label, row in zip(
        farthest.distance, farthest.labels, farthest.rows, strict=True
    ):
        if moved == len(empty):
            break
        if counts[label] > 1 and distance > 0:
            target = empty[moved]
            counts[label] -= 1
            sums[label] -= row
            counts[target] += 1
            sums[target] += row
            moved += 1
    return moved


def final_sq_error(source, columns, centers):
    """Summed squared distance of every model's rows to its final centers."""
    return source.reduce(totals_kernel, models_of(columns, centers)).sq_error


# --- The engines -------------------------------------------------------------


@dataclass
class FittedCodebooks:
    """The outcome of a fit: codebooks in the space of the (normalized) rows.

    ``origin`` is the mean of the normalized rows, on which the passes center
    them; ``centers``, ``counts`` and ``n_iter`` hold one entry per subvector;
    ``n_samples`` counts the rows fitted.
    """

    origin: np.ndarray
    centers: list
    counts: list
    n_iter: np.ndarray
    n_samples: int


def fit_blocked(
    source,
    columns,
    mean,
    variance,
    n_clusters,
    init,
    n_init,
    max_iter,
    tol,
    random_state,
):
    """Codebooks of every subvector by exact Lloyd iterations over blocks.

    The ``n_init`` runs of all subvectors go through the table together, one
    pass per iteration; per subvector the run with the lowest squared error
    is kept.

    Parameters
    ----------
    source : ArraySource or DaskSource
        The validated table, centered by ``center_on_mean``.
    columns : list of slice
        Columns of each subvector.
    mean, variance : ndarray of shape (n_features,)
        As returned by ``center_on_mean``.
    n_clusters : int
    init : {"k-means++", "random"} or list of ndarray of shape (n_clusters, \
width)
        Seeding, or the validated initial centers of each subvector.
    n_init : int
        Runs per subvector (1 for explicit centers).
    max_iter : int
    tol : float
        Relative to the mean per-feature variance of each subvector's rows.
    random_state : RandomState
        Draws one seed per subvector first, then the seeding sample.

    Returns
    -------
    FittedCodebooks
    """
    seeds = random_state.randint(_MAX_SEED, size=len(columns))
    tols = [tol * float(np.mean(variance[c])) for c in columns]
    if isinstance(init, str):
        sample = _seeding_sample(source, n_clusters, random_state)
        inits = []
        for m, cols in enumerate(columns):
            runs = np.random.RandomState(seeds[m])
            for seed in runs.randint(_MAX_SEED, size=n_init):
                inits.append(
                    seed_centers(
                        sample[:, cols], n_clusters, init, np.random.RandomState(seed)
                    )
                )
    else:
        inits = [
            centers - mean[cols] for centers, cols in zip(init, columns, strict=True)
        ]
    model_columns = [cols for cols in columns for _ in range(n_init)]
    tols = [tol for tol in tols for _ in range(n_init)]
    result = blocked_lloyd(source, model_columns, inits, tols, max_iter)
    if n_init > 1:
        errors = final_sq_error(source, model_columns, result.centers)
    else:
        errors = result.sq_error
    best = [
        m * n_init + int(np.argmin(errors[m * n_init : (m + 1) * n_init]))
        for m in range(len(columns))
    ]
    return FittedCodebooks(
        origin=mean,
        centers=[
            result.centers[i] + mean[cols]
            for i, cols in zip(best, columns, strict=True)
        ],
        counts=[result.counts[i] for i in best],
        n_iter=result.n_iter[best],
        n_samples=source.shape[0],
    )


def first_codebooks(source, columns, origin, n_clusters, init, random_state):
    """Initial codebooks of ``partial_fit``, from its first mini-batch.

    Parameters
    ----------
    source : ArraySource
        The first batch, centered on ``origin`` by ``center_on_mean``.
    columns : list of slice
    origin : ndarray of shape (n_features,)
    n_clusters : int
    init : {"k-means++", "random"} or list of ndarray of shape (n_clusters, \
width)
        Seeding, or the validated initial centers of each subvector (then
        ``random_state`` is not used).
    random_state : RandomState

    Returns
    -------
    list of ndarray of shape (n_clusters, width)
        In the space of the (normalized) rows.
    """
    if not isinstance(init, str):
        return init
    seeds = random_state.randint(_MAX_SEED, size=len(columns))
    sample = _seeding_sample(source, n_clusters, random_state)
    return [
        seed_centers(sample[:, cols], n_clusters, init, np.random.RandomState(s))
        + origin[cols]
        for cols, s in zip(columns, seeds, strict=True)
    ]


def mini_batch_step(source, columns, origin, centers, counts):
    """One mini-batch update of every codebook (Sculley, 2010).

    Each centroid moves to the running mean of all rows ever assigned to it.

    Parameters
    ----------
    source : ArraySource
        The batch, prepared with ``origin``.
    columns : list of slice
    origin : ndarray of shape (n_features,)
    centers : list of ndarray of shape (n_clusters, width), float64
        Codebooks in the space of the (normalized) rows.
    counts : ndarray of shape (n_subvectors, n_clusters), int64
        Rows assigned so far to each centroid; updated in place.

    Returns
    -------
    list of ndarray of shape (n_clusters, width)
        The updated codebooks.
    """
    centered = [c - origin[cols] for c, cols in zip(centers, columns, strict=True)]
    totals = source.reduce(totals_kernel, models_of(columns, centered))
    updated = []
    for m, cols in enumerate(columns):
        batch = totals.counts[m]
        counts[m] += batch
        seen = batch > 0
        moved = centers[m] - origin[cols]
        moved[seen] += (
            totals.sums[m][seen] - batch[seen, None] * moved[seen]
        ) / counts[m][seen, None]
        updated.append(moved + origin[cols])
    return updated
