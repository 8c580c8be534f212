"""k-means++ seeds of a fit read in blocks, refined by k-means|| rounds.

A fit read in blocks cannot run k-means++ over every row (k passes over the
table), so it seeds from a sample. On a table of well separated clusters a
sample of ``8 * n_clusters`` rows misses some of them or gives two seeds to
one, and Lloyd's iterations do not repair it. The oversampling rounds of
k-means|| (Bahmani, Moseley, Vattani, Kumar and Vassilvitskii, "Scalable
k-means++", 2012) do: each round is one pass over the table, in the same
blocks as the Lloyd passes, that updates every row's cost to its nearest
candidate and draws each row independently with probability
``min(1, oversampling * cost / total cost)``. The candidates are then
weighted by the rows nearest to them and reduced to ``n_clusters`` seeds by
greedy k-means++ on the weighted candidates.

Here the rounds start from the seeds that k-means++ gives on the sample
rather than from one row drawn uniformly, and two rounds draw about
``n_clusters`` rows each: three passes, each comparing the rows with about
``n_clusters`` candidates, as a Lloyd iteration compares them with the
centers (``benchmarks/bench_block_seeding.py`` and ``docs/vq.rst``, "Seeding
in blocks", for what one round, more rounds and k-means|| from one row
gave). Between the passes each run keeps every row's cost to its nearest
candidate and that candidate (8 bytes a row for the float32 metric of
vector quantization, 12 for the others; updated in place by an in-process
source, sent back with the pass's result by dask chunks). The draws are
made over the whole table with the run's ``RandomState``, so the seeds do
not depend on how the table is cut into blocks or chunks.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._blocked import _rows_of, sub_block_rows, sum_over_sub_blocks
from ._engine import seed_from_sample, seeding_sample
from ._sources import ArraySource

# k-means|| rounds made on top of the sample's k-means++ seeds (0: the
# sample's seeds are kept as they are), and rows drawn per round, in
# expectation, per cluster.
ROUNDS = 2
OVERSAMPLING = 1.0

# What the rounds start from: "sample", the k-means++ seeds of the sample,
# or "row", one row drawn uniformly (k-means|| as published; measured and
# not kept, see docs/vq.rst).
START = "sample"

# Rows whose draw probabilities are computed at a time.
_DRAW_ROWS = 16_384


@dataclass
class _Nearest:
    """Per comparison, ``(first row, nearest new candidate, cost)`` of each
    sub-block read; the sum of two concatenates them."""

    parts: list

    def __add__(self, other):
        return _Nearest([a + b for a, b in zip(self.parts, other.parts, strict=True)])


@dataclass(frozen=True)
class _Comparison:
    """One run's new candidates as a pass compares them with the rows: its
    columns, the candidates prepared for ``metric.block_labels``, the
    index of the first of them, and the run when the pass runs in this
    process (its state is then updated in place, sub-block by sub-block)
    or None (the results come back with the pass's result)."""

    columns: slice
    prepared: object
    first: int
    run: object
    run_dtype: type


def _nearest_kernel(block, offset, metric, comparisons, n_candidates, prep, pool):
    """Nearest new candidate of each row of a block, and its cost, per run."""

    def work(rows, start):
        found = []
        for comparison in comparisons:
            x = _rows_of(rows, comparison, metric)
            labels, distance = metric.block_labels(x, comparison.prepared)
            labels = labels.astype(np.int32)
            cost = metric.cost(distance).astype(comparison.run_dtype)
            if comparison.run is None:
                found.append([(offset + start, labels, cost)])
            else:
                comparison.run.take_nearer(
                    offset + start, labels, cost, comparison.first
                )
                found.append([])
        return _Nearest(found)

    size = sub_block_rows(n_candidates, block.shape[1])
    return sum_over_sub_blocks(block, offset, size, prep, pool, work)


class CandidateRun:
    """The candidates of one run and every row's cost to the nearest one.

    Parameters
    ----------
    columns : slice
        The run's columns.
    n_rows : int
    sample_weight : ndarray of shape (n_rows,) or None
    random_state : RandomState
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Of the costs kept: float32 for a metric that ranks in float32, whose
        costs are no more precise (8 bytes a row with the int32 candidates,
        12 with float64 costs).
    """

    def __init__(self, columns, n_rows, sample_weight, random_state, dtype=np.float64):
        self.columns = columns
        self.sample_weight = sample_weight
        self.random_state = random_state
        self.cost = np.full(n_rows, np.inf, dtype=dtype)
        self.nearest = np.zeros(n_rows, dtype=np.int32)
        self.candidates = []
        self.n_candidates = 0
        self.new = None

    def add(self, rows):
        """Add candidates (rows of the run's columns), compared with the rows
        at the next pass."""
        self.new = np.ascontiguousarray(rows, dtype=np.float64)
        self.candidates.append(self.new)

    def take_nearer(self, first_row, labels, cost, first_candidate):
        """Take the nearest new candidate of the rows from ``first_row``
        where it is strictly nearer than those before it (ties: the earlier
        candidate); ``labels`` count from ``first_candidate``."""
        here = slice(first_row, first_row + labels.shape[0])
        nearer = cost < self.cost[here]
        self.cost[here][nearer] = cost[nearer]
        self.nearest[here][nearer] = labels[nearer] + first_candidate

    def draw(self, oversampling):
        """Sorted indices of the rows drawn in one round.

        Each row is drawn independently with probability ``min(1,
        oversampling * cost / total cost)``; a row of weight ``w`` as ``w``
        copies of it would be, that is when at least one copy is: with
        probability ``1 - (1 - p)**w``. Computed ``_DRAW_ROWS`` rows at a
        time (the uniforms are the same as drawn at once), so that no
        float64 copy of every row's cost is made.
        """
        n_rows = self.cost.shape[0]
        total = 0.0
        for start in range(0, n_rows, _DRAW_ROWS):
            cost = self.cost[start : start + _DRAW_ROWS].astype(np.float64)
            weights = self._weights_of(start, cost.shape[0])
            total += cost.sum() if weights is None else cost @ weights
        if not total > 0:
            return np.empty(0, dtype=np.intp)
        drawn = []
        for start in range(0, n_rows, _DRAW_ROWS):
            p = self.cost[start : start + _DRAW_ROWS].astype(np.float64)
            p *= oversampling / total
            np.minimum(p, 1.0, out=p)
            weights = self._weights_of(start, p.shape[0])
            if weights is not None:
                with np.errstate(divide="ignore"):
                    p = -np.expm1(weights * np.log1p(-p))
            uniforms = self.random_state.uniform(size=p.shape[0])
            drawn.append(start + np.flatnonzero(uniforms < p))
        return np.concatenate(drawn)

    def _weights_of(self, start, n_rows):
        if self.sample_weight is None:
            return None
        return self.sample_weight[start : start + n_rows]

    def weights(self):
        """Weight of the rows nearest to each candidate."""
        return np.bincount(
            self.nearest, weights=self.sample_weight, minlength=self.n_candidates
        ).astype(np.float64)


def _pass(source, metric, runs):
    """One pass: every run's rows compared with its new candidates."""
    in_process = isinstance(source, ArraySource)
    comparing = [run for run in runs if run.new is not None]
    comparisons = [
        _Comparison(
            run.columns,
            metric.prepared_for_blocks(run.new),
            run.n_candidates,
            run if in_process else None,
            run.cost.dtype,
        )
        for run in comparing
    ]
    most = max(run.new.shape[0] for run in comparing)
    found = source.reduce(_nearest_kernel, metric, comparisons, most)
    for run, parts in zip(comparing, found.parts, strict=True):
        for first_row, labels, cost in parts:
            run.take_nearer(first_row, labels, cost, run.n_candidates)
        run.n_candidates += run.new.shape[0]
        run.new = None


def _prepared_rows(source, index):
    """The rows of ``source`` at sorted ``index``, prepared, in float64."""
    rows = source.take(index)
    if source.prep is not None:
        rows = source.prep(rows, 0)
    return np.asarray(rows, dtype=np.float64)


def oversampling_rounds(
    source, metric, runs, n_clusters, rounds, oversampling, min_candidates=0
):
    """Draw ``rounds`` rounds of candidates for every run, one pass each.

    Every run already has candidates not yet compared with the rows (its
    ``new``); a first pass compares them. A run stops drawing when a round
    draws no row (every row is a candidate) and, after ``rounds`` rounds,
    once it has ``min_candidates``.

    Parameters
    ----------
    source : ArraySource or DaskSource
    metric : class
    runs : list of CandidateRun
    n_clusters : int
    rounds : int
    oversampling : float
        Rows drawn per round, in expectation, per cluster.
    min_candidates : int, default=0
    """
    _pass(source, metric, runs)
    finished = [False] * len(runs)
    done = 0
    while True:
        done += 1
        drawn = []
        for i, run in enumerate(runs):
            wanted = done <= rounds or run.n_candidates < min_candidates
            index = run.draw(oversampling * n_clusters) if wanted else None
            finished[i] = index is None or index.size == 0
            drawn.append(None if finished[i] else index)
        if all(finished):
            return
        every = np.unique(np.concatenate([d for d in drawn if d is not None]))
        rows = _prepared_rows(source, every)
        for run, index in zip(runs, drawn, strict=True):
            if index is not None:
                run.add(rows[np.searchsorted(every, index)][:, run.columns])
        _pass(source, metric, runs)


def block_seeds(source, metric, columns, n_clusters, init, random_state, run_states):
    """Initial centers of runs read in blocks, one per ``run_states``.

    ``"random"`` draws them from the sample of ``seeding_sample``;
    ``"k-means++"`` seeds on that sample, then, unless the sample is the
    whole table, makes ``ROUNDS`` k-means|| rounds over every row (all runs
    in the same passes) and reduces each run's candidates, weighted by the
    rows nearest to them, to ``n_clusters`` seeds by greedy k-means++.

    Parameters
    ----------
    source : ArraySource or DaskSource
        Prepared as the runs read it (centered).
    metric : class
    columns : list of slice
        Each run's columns.
    n_clusters : int
    init : {"k-means++", "random"}
    random_state : RandomState
        Draws the sample.
    run_states : list of RandomState
        One per run: its seeding on the sample, its draws and its k-means++
        on the candidates.

    Returns
    -------
    list of ndarray of shape (n_clusters, width)
    """
    sample = seeding_sample(source, n_clusters, random_state)
    rounds = ROUNDS if init == "k-means++" else 0
    if sample.shape[0] == source.shape[0]:
        rounds = 0
    if rounds and START == "row":
        index = np.asarray([state.randint(source.shape[0]) for state in run_states])
        rows = _prepared_rows(source, np.unique(index))
        starts = [
            rows[np.searchsorted(np.unique(index), i)][None, cols]
            for i, cols in zip(index, columns, strict=True)
        ]
    else:
        with warnings.catch_warnings():
            if rounds:
                # Whether the centers repeat is known after the rounds.
                warnings.simplefilter("ignore", ConvergenceWarning)
            starts = [
                seed_from_sample(sample[:, cols], n_clusters, init, metric, state)
                for cols, state in zip(columns, run_states, strict=True)
            ]
    if not rounds:
        return starts
    runs = [
        CandidateRun(
            cols,
            source.shape[0],
            None,
            state,
            np.float32 if metric.float32 else np.float64,
        )
        for cols, state in zip(columns, run_states, strict=True)
    ]
    for run, centers in zip(runs, starts, strict=True):
        run.add(centers)
    oversampling_rounds(
        source, metric, runs, n_clusters, rounds, OVERSAMPLING, n_clusters
    )
    return [
        seed_from_sample(
            np.concatenate(run.candidates),
            n_clusters,
            "k-means++",
            metric,
            run.random_state,
            run.weights(),
        )
        for run in runs
    ]
