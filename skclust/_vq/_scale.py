"""How ``VectorQuantizer`` fits tables read in blocks, through the Lloyd engine.

A memory-mapped table larger than memory, a dask array spread over a
cluster, an in-memory table given a ``batch_size``, and ``partial_fit`` read
their rows through a source of ``skclust._kmeans`` (``ArraySource`` or
``DaskSource``). ``fit_blocked`` runs the Lloyd engine of ``skclust._kmeans``
on it for every sub-codebook and seed at once, one pass over the table per
iteration, with the float32 L2 metric (``Euclidean32``). What is specific to
vector quantization stays here: the rows are normalized and centered as they
are read, the seeding sample, and the mini-batch update of ``partial_fit``
with its re-seeding of unused centroids.

The functions take a source of validated rows and validated parameters, and
run inside the source's ``running()``; the callers in ``skclust._vq``
validate.
"""

from dataclasses import dataclass

import numpy as np

from .._kmeans import (
    BlockedRuns,
    Euclidean32,
    RowPrep,
    block_seeds,
    cluster_stats,
    lloyd,
    seed_from_sample,
    seeding_sample,
    table_stats,
    unit_rows,
    warn_zero_rows,
)
from ._kernels import farthest_kernel

# Rows per block when reading a memory map and no batch_size is given.
DEFAULT_BATCH_ROWS = 65_536

# The rows of a batch, farthest from their centroids, among which
# ``reseed_unused`` chooses. Not ``batch_size``, which only says how the
# batch is read: with batch_size=64, one partial_fit on 20,000 rows left 187
# of 251 repeated centroids where they were (a 64-row pool), and with 256
# rows the mean cosine was 0.80 instead of 0.84.
RESEED_CANDIDATES = 65_536

# ... but no more rows than this many bytes of float32 features take, unless
# the blocks read are larger: re-seeding loads its candidates, and 65,536
# rows of 4096 features are 1 GiB where a batch_size of 1024 reads 16 MiB.
RESEED_BYTES = 64 * 2**20

_MAX_SEED = np.iinfo(np.int32).max


def center_on_mean(source, normalize, stacklevel=1, center=True):
    """Make ``source`` center its prepared rows on their mean, found in one pass.

    With ``center=False`` (spherical k-means, whose rows must stay on the
    sphere) the origin is zero and the rows are not moved. The pass also
    checks every row (NaN, infinity) and, with ``normalize``, warns about the
    rows of zero length, which stay zero (``stacklevel`` counts from the
    caller, as ``warnings.warn``'s does).

    Returns
    -------
    origin, variance : ndarray of shape (n_features,)
        Per column: the mean of the prepared rows (zero with
        ``center=False``), and their variance.
    """
    stats = table_stats(source)
    if normalize:
        warn_zero_rows(stats.zero_rows, stats.count, stacklevel)
    origin = stats.mean if center else np.zeros_like(stats.mean)
    # That pass checked every row for NaN and infinity: the later ones (and
    # the preparation of an in-memory table) need not, as in
    # ``_kmeans._out_of_core``.
    source.use_prep(RowPrep(normalize, origin, checked=True))
    return origin, stats.variance


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


def _seeded(source, columns, n_clusters, init, n_init, seeds, random_state, metric):
    """Initial centers of every (subvector, seed) run, all seeded together."""
    run_columns, run_states = [], []
    for m, cols in enumerate(columns):
        runs = np.random.RandomState(seeds[m])
        for seed in runs.randint(_MAX_SEED, size=n_init):
            run_columns.append(cols)
            run_states.append(np.random.RandomState(seed))
    return block_seeds(
        source, metric, run_columns, n_clusters, init, random_state, run_states
    )


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
    metric=Euclidean32,
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
    metric : Euclidean32 or SphericalEuclidean32
        Spherical k-means for ``VectorQuantizer(spherical=True)``.

    Returns
    -------
    FittedCodebooks
    """
    seeds = random_state.randint(_MAX_SEED, size=len(columns))
    tols = [tol * float(np.mean(variance[c])) for c in columns]
    if isinstance(init, str):
        inits = _seeded(
            source, columns, n_clusters, init, n_init, seeds, random_state, metric
        )
    else:
        inits = [
            centers - mean[cols] for centers, cols in zip(init, columns, strict=True)
        ]
    model_columns = [cols for cols in columns for _ in range(n_init)]
    tols = [tol for tol in tols for _ in range(n_init)]
    runs = BlockedRuns(source, metric, model_columns, n_clusters)
    results = lloyd(runs, inits, tols, max_iter, with_inertia=n_init > 1)
    best = [
        m * n_init
        + int(np.argmin([r.inertia for r in results[m * n_init : (m + 1) * n_init]]))
        if n_init > 1
        else m
        for m in range(len(columns))
    ]
    return FittedCodebooks(
        origin=mean,
        centers=[
            results[i].centers + mean[cols]
            for i, cols in zip(best, columns, strict=True)
        ],
        counts=[results[i].sizes for i in best],
        n_iter=np.asarray([results[i].n_iter for i in best]),
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
    sample = seeding_sample(source, n_clusters, random_state)
    return [
        seed_from_sample(
            sample[:, cols], n_clusters, init, Euclidean32, np.random.RandomState(s)
        )
        + origin[cols]
        for cols, s in zip(columns, seeds, strict=True)
    ]


def reseed_unused(source, columns, origin, centers, counts):
    """Move the centroids that no row has reached onto far rows of a batch.

    A centroid is unused when ``counts`` holds no row for it and no row of
    the batch is nearest to it (a first batch with fewer distinct rows than
    ``n_clusters`` leaves such copies: ties go to the lowest index, so the
    copies never get a row). Per codebook, the unused centroids, in index
    order, move onto rows of the batch chosen farthest-first
    (``_farthest_first``) among the :func:`reseed_pool` rows (the whole
    batch when it has no more) farthest from their nearest centroid. With
    fewer such rows distinct from every centroid, the rest stay for the next
    batch. Nothing is read when every centroid has rows.

    Parameters
    ----------
    source : ArraySource
        The batch, prepared with ``origin``.
    columns : list of slice
    origin : ndarray of shape (n_features,)
    centers : list of ndarray of shape (n_clusters, width), float64
        Codebooks in the space of the (normalized) rows.
    counts : ndarray of shape (n_subvectors, n_clusters), int64
        Rows assigned so far to each centroid.

    Returns
    -------
    list of ndarray of shape (n_clusters, width)
        The codebooks, those without unused centroids unchanged.
    """
    unused = counts == 0
    if not unused.any():
        return centers
    centered = [c - origin[cols] for c, cols in zip(centers, columns, strict=True)]
    pool = reseed_pool(source.batch_rows, origin.shape[0])
    found = source.reduce(farthest_kernel, columns, centered, pool)
    reseeded = []
    for m, cols in enumerate(columns):
        free = np.flatnonzero(unused[m] & (found.sizes[m] == 0))
        moved = centers[m].copy()
        if free.size:
            # In the order of the table, which ``take`` reads block by block.
            order = np.argsort(found.index[m], kind="stable")
            rows = source.take(found.index[m][order])
            prepared = np.empty_like(rows, dtype=np.float32)
            prepared[order] = rows if source.prep is None else source.prep(rows, 0)
            part = prepared[:, cols]
            chosen = _farthest_first(found.distance[m], part, free.size)
            moved[free[: chosen.size]] = part[chosen] + origin[cols]
        reseeded.append(moved)
    return reseeded


def reseed_pool(batch_rows, n_features):
    """How many of a batch's rows farthest from their centroids re-seeding
    chooses among: ``RESEED_CANDIDATES``, or fewer where their float32
    features would take more than ``RESEED_BYTES``, but never fewer than the
    ``batch_rows`` read at a time.

    Examples
    --------
    >>> from skclust._vq._scale import reseed_pool
    >>> reseed_pool(64, 32), reseed_pool(1024, 4096), reseed_pool(65_536, 4096)
    (65536, 4096, 65536)
    """
    fitting = RESEED_BYTES // (4 * max(n_features, 1))
    return min(RESEED_CANDIDATES, max(batch_rows, fitting))


def _farthest_first(distance, rows, n_chosen):
    """Positions of at most ``n_chosen`` distinct rows, each the farthest from
    the centroids and from the rows chosen before it (Gonzalez, 1985).

    ``distance`` holds each row's squared distance to its nearest centroid.
    A row at distance zero (equal to a centroid) is never chosen, nor a
    repeat of a row chosen; ties go to the lowest position (for rows sorted
    as ``FarthestRows`` sorts them: the farther from the centroids, then the
    earlier in the batch). Each choice
    updates the distances with one matrix-vector product, in float32 as the
    assignment ranks, so that choosing ``n_chosen`` rows costs about as much
    as assigning them to ``n_chosen`` centroids.
    """
    _, first = np.unique(rows, axis=0, return_index=True)
    candidates = np.sort(first)
    rows = np.ascontiguousarray(rows[candidates], dtype=np.float32)
    distance = distance[candidates].astype(np.float32)
    squared = np.einsum("ij,ij->i", rows, rows)
    chosen = []
    while len(chosen) < n_chosen:
        best = int(np.argmax(distance))
        if distance[best] <= 0:
            break
        chosen.append(best)
        gap = rows @ (-2 * rows[best])
        gap += squared
        gap += squared[best]
        np.minimum(distance, gap, out=distance)
        distance[best] = 0
    return candidates[np.asarray(chosen, dtype=np.intp)]


def mini_batch_step(source, columns, origin, centers, counts, spherical=False):
    """One mini-batch update of every codebook (Sculley, 2010).

    Each centroid moves to the running mean of all rows ever assigned to it,
    scaled back to unit length when ``spherical``.

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
    stats = cluster_stats(source, Euclidean32, columns, centered)
    updated = []
    for m, cols in enumerate(columns):
        batch = stats[m].sizes
        counts[m] += batch
        seen = batch > 0
        moved = centered[m].copy()
        moved[seen] += (stats[m].sums[seen] - batch[seen, None] * moved[seen]) / counts[
            m
        ][seen, None]
        moved += origin[cols]
        updated.append(unit_rows(moved) if spherical else moved)
    return updated
