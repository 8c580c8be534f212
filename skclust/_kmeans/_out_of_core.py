"""``KMeansL2`` and ``KMeansL1`` on tables read in blocks: memory maps, dask.

A ``numpy.memmap`` is read ``batch_size`` rows at a time (every pass releases
the pages it read, so the memory used stays near one block whatever the size
of the table), and a dask array one task per row chunk on the active
scheduler. Both go through the Lloyd engine (``_engine``) with
``BlockedRuns`` (``_blocked``): from the same initial centers, the labels and
centers are those of the in-memory fit (the same exact assignment, exact
means and exact medians), up to the rounding of sums taken in another order.

The functions take validated parameters and a table whose shape and dtype
were checked; the estimators validate.
"""

from dataclasses import dataclass

import numpy as np

from ._blocked import (
    BlockedRuns,
    RowBounds,
    nearest_labels,
    sub_block_rows,
    sum_over_sub_blocks,
    table_stats,
)
from ._engine import lloyd
from ._oversampling import block_seeds
from ._scaling import scaled
from ._sources import ArraySource, DaskSource, RowPrep, is_dask_array

# Rows per block when reading a memory map and no batch_size is given.
DEFAULT_BATCH_ROWS = 65_536

_MAX_SEED = np.iinfo(np.int32).max


def reads_in_blocks(X, batch_size):
    """Whether ``fit`` reads ``X`` in blocks rather than loading it.

    Dask arrays always are; memory maps when ``batch_size`` is given or when
    they hold more than one default block.
    """
    if is_dask_array(X):
        return True
    return isinstance(X, np.memmap) and (
        batch_size is not None or X.shape[0] > DEFAULT_BATCH_ROWS
    )


def table_source(X, batch_size, n_threads, needs):
    """A source of the raw float64 rows of a checked memory map or dask array;
    ``needs`` ends the message naming a NaN or an infinity (``RowPrep``)."""
    prep = RowPrep(normalize=False, origin=None, float32=False, needs=needs)
    if is_dask_array(X):
        return DaskSource(X.rechunk({1: -1}), prep)
    return ArraySource(X, batch_size or DEFAULT_BATCH_ROWS, prep, n_threads)


def keeps_bounds(source, n_runs):
    """Whether the runs keep every row's label and bounds between passes.

    Only on a source read in this process (an ``ArraySource``: the state of
    dask chunks would have to travel with them, so dask passes recompute
    every distance), and only while the state of all runs (12 bytes a row
    each) takes no more memory than one block of rows, so that it at most
    doubles the memory of a fit.
    """
    if not isinstance(source, ArraySource):
        return False
    n_rows, n_features = source.shape
    block_bytes = min(source.batch_rows, n_rows) * n_features * source.X.itemsize
    return n_runs * n_rows * RowBounds.BYTES_PER_ROW <= block_bytes


@dataclass(frozen=True)
class _Largest:
    """The largest magnitude seen; the sum of two keeps the larger, so that
    the sources' ``reduce`` (a sum over blocks) gives the table's largest."""

    value: float

    def __add__(self, other):
        return _Largest(max(self.value, other.value))


def _largest_kernel(block, offset, prep, pool):
    # Sub-block by sub-block: the float64 copy of a whole block of a float32
    # map, and its absolute values, took four times the block's memory.
    def work(rows, start):
        return _Largest(float(np.max(np.abs(rows), initial=0.0)))

    # The rows as they are: their largest magnitude is that of the table.
    raw = RowPrep(normalize=False, origin=None, float32=False, needs=prep.needs)
    rows = sub_block_rows(1, block.shape[1])
    return sum_over_sub_blocks(block, offset, rows, raw, pool, work)


def table_largest(source):
    """The largest magnitude in the rows of ``source``, in one pass."""
    return source.reduce(_largest_kernel).value


@dataclass
class BlockedFit:
    """The kept run of a fit read in blocks."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int


def fit_in_blocks(
    source, metric, n_clusters, init, n_init, max_iter, tol, random_state, verbose
):
    """Lloyd runs from ``n_init`` seeds over a source, one pass per iteration.

    A first pass gives the mean (L2 runs on centered rows, as in memory), the
    variance behind ``tol`` and, for L1, which features keep histograms.
    k-means++ seeds on a sample of ``8 * n_clusters`` rows and two
    k-means|| rounds over every row (``_oversampling.block_seeds``);
    ``"random"`` draws its centers from the sample.
    Each run keeps its rows' labels and bounds when ``keeps_bounds``.

    Parameters
    ----------
    source : ArraySource or DaskSource
        From ``table_source``; runs inside its ``running()``.
    metric : class
        ``Euclidean`` or ``Manhattan``.
    n_clusters : int
    init : {"k-means++", "random"} or ndarray of shape (n_clusters, n_features)
    n_init : int
    max_iter : int
    tol : float
        Relative to the mean per-feature variance.
    random_state : RandomState
    verbose : int

    Returns
    -------
    BlockedFit
        Centers and inertia of the rows as the source's ``RowPrep`` scales
        them (times ``2**exponent``, see ``_scaling.exponent_for``); labels as an
        ndarray.
    """
    if n_clusters > source.shape[0]:
        raise ValueError(
            f"n_clusters={n_clusters} is larger than the number of rows "
            f"({source.shape[0]})."
        )
    exponent = source.prep.exponent
    stats = table_stats(source, ranges=metric.needs_value_ranges)
    origin = metric.block_origin(stats.mean, source.dtype)
    # The pass of ``table_stats`` (and ``table_largest`` before it) checked
    # every row for NaN and infinity: the later passes need not.
    source.use_prep(
        RowPrep(
            False,
            origin,
            float32=False,
            exponent=exponent,
            keep_float32=metric.keeps_float32_rows,
            checked=True,
        )
    )
    seeds = random_state.randint(_MAX_SEED, size=n_init)
    if isinstance(init, str):
        inits = block_seeds(
            source,
            metric,
            [slice(None)] * n_init,
            n_clusters,
            init,
            random_state,
            [np.random.RandomState(seed) for seed in seeds],
        )
    else:
        inits = [scaled(init, exponent) - origin]
    layout = metric.block_layout(stats)
    runs = BlockedRuns(
        source,
        metric,
        [slice(None)] * len(inits),
        n_clusters,
        layout,
        keep_bounds=keeps_bounds(source, len(inits)),
    )
    tols = [tol * float(np.mean(stats.variance))] * len(inits)
    results = lloyd(runs, inits, tols, max_iter, verbose)
    # Lowest inertia wins; on an exact tie the earliest seed.
    best = min(results, key=lambda result: result.inertia)
    if best.labels is not None:
        labels = best.labels
    else:
        labels = nearest_labels(source, metric, best.centers)
    if not isinstance(labels, np.ndarray):
        labels = labels.compute()
    return BlockedFit(best.centers + origin, labels, best.inertia, best.n_iter)
