"""Lloyd runs over rows read in blocks: memory maps, dask chunks, batches.

``BlockedRuns`` is what the Lloyd engine (``skclust._kmeans._engine``) runs
over when the rows come from a source of ``skclust._kmeans._sources``: every
assignment step is one ``reduce`` of the source, a kernel mapped over blocks
of rows (each block split into sub-blocks shared by the source's threads)
and a sum of the per-block results in a fixed tree. Each block is assigned
in every run still going, so product quantization reads the table once per
iteration for all its sub-codebooks.

Between passes, a run may keep each row's label and Hamerly's bounds
(``RowBounds``, 12 bytes a row): an assignment pass then computes distances
only for the rows whose bounds fail, with the kernels of the in-memory fit,
and the other passes read the kept labels. Without them (dask chunks, vector
quantization), labels are recomputed from the centers whenever a pass needs
them.

The kernels take a block of raw rows, the index of its first row, their own
arguments, the source's ``RowPrep`` and a thread pool (or None), and return
a result that adds with ``+``.
"""

import threading
from dataclasses import dataclass

import numpy as np

from ._engine import Candidates, Step
from ._inmemory import resumed_bounds
from ._sources import RowPrep

# Elements of the (rows x centers) distance matrix of one sub-block: 4 MB in
# float32, which measured as fast as larger blocks for the matrix product
# and keeps the scratch memory small.
_SUB_BLOCK_ELEMENTS = 1 << 20

# ... and at most this many rows, so that a block of 65,536 rows makes eight
# sub-blocks to share among the threads. With few centers and narrow rows the
# elements alone allowed 32,768 rows: a block of 34,464 rows (the end of a
# 100,000-row table) was then one thread's 32,768 rows while the other
# waited: two threads took two thirds of one thread's time, not half.
_SUB_BLOCK_MAX_ROWS = 8192


def sub_block_rows(n_clusters, n_features):
    """Rows of a sub-block for ``n_clusters`` centers of ``n_features``.

    Examples
    --------
    >>> from skclust._kmeans._blocked import sub_block_rows
    >>> sub_block_rows(16, 32), sub_block_rows(256, 32), sub_block_rows(16, 2**16)
    (8192, 4096, 64)
    """
    return min(
        _SUB_BLOCK_MAX_ROWS,
        max(64, _SUB_BLOCK_ELEMENTS // max(n_clusters, n_features)),
    )


def sum_over_sub_blocks(block, offset, rows, prep, pool, work):
    """Sum of ``work(prepared rows, start)`` over sub-blocks of ``rows`` rows.

    The results are added in sub-block order as they arrive, so only a few
    are held at a time whatever the size of the block, and the sum does not
    depend on the number of threads.
    """
    starts = range(0, block.shape[0], rows)

    def one(start):
        part = block[start : start + rows]
        return work(part if prep is None else prep(part, offset + start), start)

    results = map(one, starts) if pool is None else pool.map(one, starts)
    total = next(results)
    for result in results:
        total = total + result
    return total


# --- Statistics of the table -------------------------------------------------


@dataclass
class TableStats:
    """Row count, mean and sum of squared deviations per column (Chan et
    al.), the number of all-zero rows, and optionally each column's range and
    integrality."""

    count: int
    mean: np.ndarray
    m2: np.ndarray
    zero_rows: int = 0
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    integral: np.ndarray | None = None

    @property
    def variance(self):
        return self.m2 / self.count

    def __add__(self, other):
        if not self.count or not other.count:
            return self if other.count == 0 else other
        count = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / count)
        m2 = self.m2 + other.m2 + delta**2 * (self.count * other.count / count)
        zero_rows = self.zero_rows + other.zero_rows
        if self.low is None:
            return TableStats(count, mean, m2, zero_rows)
        return TableStats(
            count,
            mean,
            m2,
            zero_rows,
            np.minimum(self.low, other.low),
            np.maximum(self.high, other.high),
            self.integral & other.integral,
        )


def _stats_kernel(block, offset, ranges, prep, pool):
    """Statistics of a block's rows, prepared but not centered (which also
    checks the rows)."""

    def work(rows, start):
        mean = rows.mean(axis=0)
        zero_rows = rows.shape[0] - int(np.count_nonzero(rows.any(axis=1)))
        # Squared in place: one scratch copy of the rows, not two.
        deviations = rows - mean
        np.square(deviations, out=deviations)
        deviations = deviations.sum(axis=0)
        stats = TableStats(rows.shape[0], mean, deviations, zero_rows)
        if ranges:
            stats.low, stats.high = rows.min(axis=0), rows.max(axis=0)
            stats.integral = (rows == np.rint(rows)).all(axis=0)
        return stats

    n_features = block.shape[1]
    # float64 copies of the rows are the scratch here: keep them near 2 MB.
    rows = max(64, _SUB_BLOCK_ELEMENTS // (4 * max(1, n_features)))
    uncentered = RowPrep(prep.normalize, None, False, prep.exponent, needs=prep.needs)
    return sum_over_sub_blocks(block, offset, rows, uncentered, pool, work)


def table_stats(source, ranges=False):
    """``TableStats`` of the prepared (uncentered) rows of ``source``, one pass.

    ``ranges`` adds each column's smallest and largest value and whether it
    holds integers only.
    """
    return source.reduce(_stats_kernel, ranges)


# --- Per-row state kept between passes ---------------------------------------


class RowBounds:
    """Each row's label and Hamerly's bounds, kept between passes of one run.

    Stored compactly, 12 bytes a row: int32 labels and float32 bounds rounded
    outward (the upper bound up, the lower bound down), so that they remain
    bounds and the labels stay those of the exact assignment. Each sub-block
    is widened to the float64 state of the in-memory kernels while it is
    assigned (``_inmemory.resumed_bounds``).

    Parameters
    ----------
    n_rows : int
    n_clusters : int
    """

    BYTES_PER_ROW = 12

    def __init__(self, n_rows, n_clusters):
        self.labels = np.zeros(n_rows, dtype=np.int32)
        self.upper = np.zeros(n_rows, dtype=np.float32)
        # -inf everywhere makes the first pass examine every row.
        self.lower = np.full(n_rows, -np.inf, dtype=np.float32)
        self._shift = np.zeros(n_clusters)
        self._half_gap = np.full(n_clusters, -np.inf)
        self._lock = threading.Lock()
        self.changed = 0

    def centers_moved(self, metric, old, new):
        """Record that the centers moved from ``old`` to ``new`` since the
        last assignment pass."""
        self._shift = self._shift + metric.paired(new, old)
        if new.shape[0] > 1:
            metric.half_gaps(np.ascontiguousarray(new), self._half_gap)

    def assign(self, metric, rows, first_row, centers):
        """Nearest center of ``rows``, the table's rows from ``first_row``.

        Moves their bounds by the recorded center shift and computes
        distances for the rows whose bounds fail; adds the number of labels
        that changed to ``changed``. Sub-blocks may be assigned by several
        threads at once; each pass must assign every row once, then call
        ``pass_done``.
        """
        here = slice(first_row, first_row + rows.shape[0])
        bounds = resumed_bounds(
            rows,
            metric,
            self.labels[here].astype(np.intp),
            self.upper[here].astype(np.float64),
            self.lower[here].astype(np.float64),
            self._shift,
            self._half_gap,
        )
        changed, _ = bounds.assign(centers)
        self.labels[here] = bounds.labels
        self.upper[here] = _float32_at_least(bounds.upper)
        self.lower[here] = _float32_at_most(bounds.lower)
        with self._lock:
            self.changed += changed.size
        return bounds.labels

    def pass_done(self):
        """The bounds now hold for the centers of the last assignment pass."""
        self._shift = np.zeros_like(self._shift)

    def labels_of(self, first_row, n_rows):
        return self.labels[first_row : first_row + n_rows].astype(np.intp)

    def relabel(self, index, targets):
        """Impose labels on rows; their distances are unknown until examined."""
        self.labels[index] = targets
        self.upper[index] = np.inf
        self.lower[index] = 0.0


def _float32_at_least(values):
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    below = out < values
    out[below] = np.nextafter(out[below], np.float32(np.inf))
    return out


def _float32_at_most(values):
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    above = out > values
    out[above] = np.nextafter(out[above], np.float32(-np.inf))
    return out


# --- The runs ----------------------------------------------------------------


class BlockedRuns:
    """Lloyd runs over the rows of a source, one pass per assignment step.

    Parameters
    ----------
    source : ArraySource or DaskSource
        Prepares its rows as the runs expect them (checked, centered).
    metric : class
        ``Euclidean``, ``Euclidean32`` (float32 rows) or ``Manhattan``.
    columns : list of slice
        Columns of each run's rows.
    n_clusters : int
    layout : object or None
        What ``metric.block_layout`` gave (the L1 histogram features).
    keep_bounds : bool, default=False
        Whether each run keeps every row's label and bounds (``RowBounds``)
        between passes; only for a source whose passes run in this process
        (``ArraySource``), with float64 or float32 rows.
    """

    def __init__(
        self, source, metric, columns, n_clusters, layout=None, keep_bounds=False
    ):
        self.source = source
        self.metric = metric
        self.columns = columns
        self.n_clusters = n_clusters
        self.layout = layout
        self._assigned = {}
        self._bounds = {}
        if keep_bounds:
            self._bounds = {
                i: RowBounds(source.shape[0], n_clusters) for i in range(len(columns))
            }

    def _models(self, runs, centers, assigning=False):
        return [
            _Model(
                self.columns[i],
                self.metric.prepared_for_blocks(c),
                bounds=self._bounds.get(i),
                assigning=assigning,
            )
            for i, c in zip(runs, centers, strict=True)
        ]

    def _assignment_pass(self, runs, centers):
        """Assign every row in ``runs``; returns their statistics."""
        models = self._models(runs, centers, assigning=True)
        for i in runs:
            if i in self._bounds:
                self._bounds[i].changed = 0
        stats = _reduce_stats(
            self.source, self.metric, models, self.n_clusters, self.layout
        )
        for i, model in zip(runs, models, strict=True):
            if i in self._bounds:
                self._bounds[i].pass_done()
            # Later passes read the labels this one left.
            self._assigned[i] = _Model(
                model.columns, model.prepared, None, model.bounds
            )
        return stats

    def _step(self, run, stats):
        model = self._assigned[run]

        def refine(kernel, *args):
            return self.source.reduce(_refine_kernel, self.metric, model, kernel, args)

        centers = self.metric.centers_from(stats, self.layout, refine)
        changed = self._bounds[run].changed if run in self._bounds else None
        return Step(centers, stats.sizes, changed)

    def assign(self, runs, centers):
        stats = self._assignment_pass(runs, centers)
        return [self._step(i, found) for i, found in zip(runs, stats, strict=True)]

    def farthest(self, runs, assigned, limit):
        models = [self._assigned[i] for i in runs]
        found = self.source.reduce(
            _farthest_kernel, self.metric, models, assigned, limit
        )
        return [
            Candidates(found.distance[j], found.index[j], found.labels[j])
            for j in range(len(runs))
        ]

    def move(self, run, index, targets):
        """Assign the rows at ``index`` to ``targets``, the rest as before.

        With kept bounds, ``changed`` of the step counts the moved rows on
        top of those the assignment changed (a row may count twice; only
        whether it is zero matters to the engine).
        """
        model = self._assigned[run]
        if model.bounds is not None:
            model.bounds.relabel(index, targets)
            model.bounds.changed += index.size
        else:
            model = _Model(model.columns, model.prepared, (index, targets))
        (stats,) = _reduce_stats(
            self.source, self.metric, [model], self.n_clusters, self.layout
        )
        self._assigned[run] = model
        return self._step(run, stats)

    def centers_moved(self, run, old, new):
        """Move the run's kept bounds, if any, at the next assignment pass."""
        if run in self._bounds:
            self._bounds[run].centers_moved(self.metric, old, new)

    def finish(self, centers, strict):
        """Kept labels of the final centers (int32; one more pass unless
        converged), or None for runs that keep none."""
        if not self._bounds:
            return [None] * len(centers)
        pending = [i for i in range(len(centers)) if not strict[i]]
        if pending:
            self._assignment_pass(pending, [centers[i] for i in pending])
        return [self._bounds[i].labels for i in range(len(centers))]

    def costs(self, runs, centers):
        """Each run's cost; with kept bounds, that of the final labels
        (call after ``finish``)."""
        runs = list(runs)
        models = self._models(runs, centers)
        found = self.source.reduce(_cost_kernel, self.metric, models)
        return [cost.total for cost in found.items]


@dataclass(frozen=True)
class _Model:
    """One run as the kernels see it: its columns, its centers prepared for
    ``metric.block_labels``, and rows whose label is imposed (index, labels).

    A run that keeps ``bounds`` assigns its rows through them in an
    assignment pass (``assigning``) and reads the kept labels in the others.
    """

    columns: slice
    prepared: object
    overrides: tuple | None = None
    bounds: RowBounds | None = None
    assigning: bool = False

    def labels(self, metric, rows, first_row, with_distance=True):
        """Label and distance of each row of a sub-block starting at ``first_row``."""
        if self.bounds is not None:
            if self.assigning:
                labels = self.bounds.assign(metric, rows, first_row, self.prepared)
            else:
                labels = self.bounds.labels_of(first_row, rows.shape[0])
            distance = None
            if with_distance:
                distance = metric.paired(rows, self.prepared[labels])
            return labels, distance
        labels, distance = metric.block_labels(rows, self.prepared, with_distance)
        if self.overrides is not None:
            index, targets = self.overrides
            inside = (index >= first_row) & (index < first_row + rows.shape[0])
            labels[index[inside] - first_row] = targets[inside]
        return labels, distance


def _rows_of(rows, model, metric):
    part = rows[:, model.columns]
    if metric.float32:
        return part
    # float32 rows were kept float32 by the source's ``RowPrep``.
    dtype = np.float32 if part.dtype == np.float32 else np.float64
    return np.ascontiguousarray(part, dtype=dtype)


@dataclass
class _PerRun:
    """One addable result per run."""

    items: list

    def __add__(self, other):
        return _PerRun([a + b for a, b in zip(self.items, other.items, strict=True)])


def _reduce_stats(source, metric, models, n_clusters, layout):
    """The metric's per-cluster statistics of each model, in one pass."""
    return source.reduce(_assign_kernel, metric, models, n_clusters, layout).items


def cluster_stats(source, metric, columns, centers):
    """Per-cluster statistics of the rows of ``source`` assigned to ``centers``.

    One pass; one result per pair of columns and centers (for L2: sizes and
    sums, ``MeanStats``).
    """
    models = [
        _Model(cols, metric.prepared_for_blocks(c))
        for cols, c in zip(columns, centers, strict=True)
    ]
    return _reduce_stats(source, metric, models, centers[0].shape[0], None)


def _assign_kernel(block, offset, metric, models, n_clusters, layout, prep, pool):
    """Assign a block's rows in every run and reduce the metric's statistics."""

    def work(rows, start):
        out = []
        for model in models:
            x = _rows_of(rows, model, metric)
            labels, _ = model.labels(metric, x, offset + start, False)
            out.append(metric.block_stats(x, labels, n_clusters, layout))
        return _PerRun(out)

    size = sub_block_rows(n_clusters, block.shape[1])
    return sum_over_sub_blocks(block, offset, size, prep, pool, work)


def _refine_kernel(block, offset, metric, model, kernel, args, prep, pool):
    """``kernel(rows, labels, *args)`` on a block, with one run's labels."""

    def work(rows, start):
        x = _rows_of(rows, model, metric)
        labels, _ = model.labels(metric, x, offset + start, False)
        return kernel(x, labels, *args)

    size = sub_block_rows(1024, block.shape[1])
    return sum_over_sub_blocks(block, offset, size, prep, pool, work)


@dataclass
class _Cost:
    total: float

    def __add__(self, other):
        return _Cost(self.total + other.total)


def _cost_kernel(block, offset, metric, models, prep, pool):
    """Summed cost of a block's rows to their nearest center, per run."""

    def work(rows, start):
        out = []
        for model in models:
            x = _rows_of(rows, model, metric)
            _, distance = model.labels(metric, x, offset + start)
            out.append(_Cost(float(metric.cost(distance).sum())))
        return _PerRun(out)

    size = sub_block_rows(1024, block.shape[1])
    return sum_over_sub_blocks(block, offset, size, prep, pool, work)


@dataclass
class _Farthest:
    """Per run, the rows farthest from their assigned center (at most ``limit``).

    Kept sorted by decreasing distance, ties by increasing row index.
    """

    distance: list
    index: list
    labels: list
    limit: int

    def __add__(self, other):
        merged = _Farthest([], [], [], self.limit)
        for parts in zip(
            self.distance,
            other.distance,
            self.index,
            other.index,
            self.labels,
            other.labels,
            strict=True,
        ):
            distance = np.concatenate(parts[0:2])
            index = np.concatenate(parts[2:4])
            order = np.lexsort((index, -distance))[: self.limit]
            merged.distance.append(distance[order])
            merged.index.append(index[order])
            merged.labels.append(np.concatenate(parts[4:6])[order])
        return merged


def _farthest_kernel(block, offset, metric, models, assigned, limit, prep, pool):
    """Rows farthest from the center they were assigned to."""

    def work(rows, start):
        out = _Farthest([], [], [], limit)
        for model, centers in zip(models, assigned, strict=True):
            x = _rows_of(rows, model, metric)
            labels, _ = model.labels(metric, x, offset + start, False)
            distance = metric.paired(np.asarray(x, dtype=np.float64), centers[labels])
            order = np.lexsort((np.arange(len(distance)), -distance))[:limit]
            out.distance.append(distance[order])
            out.index.append(offset + start + order)
            out.labels.append(labels[order])
        return out

    size = sub_block_rows(max(c.shape[0] for c in assigned), block.shape[1])
    return sum_over_sub_blocks(block, offset, size, prep, pool, work)


# --- Labels of the final centers ---------------------------------------------


def _labels_kernel(block, offset, metric, model, prep, pool):
    """Nearest center of each row of a block (intp)."""
    size = sub_block_rows(1024, block.shape[1])
    starts = range(0, block.shape[0], size)

    def one(start):
        part = block[start : start + size]
        part = part if prep is None else prep(part, offset + start)
        x = _rows_of(part, model, metric)
        return model.labels(metric, x, offset + start, False)[0]

    parts = map(one, starts) if pool is None else pool.map(one, starts)
    return np.concatenate(list(parts)).astype(np.intp)


def nearest_labels(source, metric, centers):
    """Nearest center of every row of a source: ndarray, or dask array."""
    model = _Model(slice(None), metric.prepared_for_blocks(centers))
    return source.map_rows(_labels_kernel, metric, model)
