"""The Lloyd engine: seeding, the Lloyd loop, empty clusters, stopping rule.

This is the only Lloyd loop of skclust. ``KMeansL2``, ``KMeansL1`` and every
codebook of ``VectorQuantizer`` fit through :func:`lloyd`, whatever holds
their rows. What differs lives behind two small interfaces (see
``docs/architecture.rst``):

- a *metric* (``skclust._kmeans._metrics``) gives the distance, the per-point
  cost and the center update from per-cluster statistics;
- a set of *runs over rows* gives the assignment step and its statistics:
  ``InMemoryRuns`` (``_inmemory``) keeps Hamerly's bounds on distinct
  in-memory points, ``BlockedRuns`` (``_blocked``) reads a source
  (``_sources``: in-memory array, memory-map blocks, dask chunks) once per
  iteration for all its runs.

A runs object offers ``assign(runs, centers)`` (one assignment step and the
updated centers of each run), ``farthest(runs, assigned, limit)`` (candidates
for empty clusters), ``move(run, index, target)`` (relocate rows),
``centers_moved(run, old, new)`` and ``costs(runs, centers)``. None of the
functions here validates its input.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._dedup import merge_duplicate_rows
from ._row_blocks import weighted_feature_sums

_MAX_SEED = np.iinfo(np.int32).max

# Rows sampled per cluster for the k-means++ seeding of a fit read in blocks.
INIT_ROWS_PER_CLUSTER = 8


def says_centers_repeat(warning):
    """Whether a caught warning is k-means' own that its centers repeat
    (fewer distinct points, or rows sampled for a seeding, than clusters):
    :class:`~skclust.VectorQuantizer` says it once, in its own words."""
    return issubclass(warning.category, ConvergenceWarning) and str(
        warning.message
    ).endswith(_REPEATED_CENTERS_ENDINGS)


# How those warnings end (_BaseKMeans._fit_every_point_a_center and
# seed_from_sample below).
_REPEATED_CENTERS_ENDINGS = ("returns duplicate centers.", "the centers repeat")


@dataclass
class LloydResult:
    """Outcome of one Lloyd run from one initialization.

    ``labels`` is None when the rows were read in blocks and not kept;
    ``inertia`` is None when it was not asked for.
    """

    centers: np.ndarray
    labels: np.ndarray | None
    inertia: float | None
    n_iter: int
    sizes: np.ndarray


@dataclass
class Step:
    """One assignment step and update of one run.

    ``centers`` has NaN rows for empty clusters; ``changed`` is the number of
    labels that changed (zero exactly when none did), or None when the runs
    object does not keep labels.
    """

    centers: np.ndarray
    sizes: np.ndarray
    changed: int | None


@dataclass
class Candidates:
    """Rows far from their assigned center, by decreasing distance (ties: index)."""

    distance: np.ndarray
    index: np.ndarray
    labels: np.ndarray


def lloyd(runs, inits, tols, max_iter, verbose=0, with_inertia=True):
    """Lloyd's algorithm for one or several runs over the same rows.

    Alternates assignment (each point to its nearest center) and update (each
    center to the minimiser of its cluster's weighted cost: the mean for L2,
    the coordinate-wise median for L1). A run stops when an assignment step
    changes no label ("strict convergence"; a runs object that keeps no labels
    sees it as a zero center shift), when the squared Euclidean center shift
    summed over centers is at most its ``tol``, or after ``max_iter``
    iterations. Iteration counts and stopping rule are those of
    scikit-learn's Lloyd. Runs that have stopped are left out of the next
    steps, so a runs object reading blocks reads each block once per
    iteration for all the runs still going.

    An empty cluster is never dropped: its center moves onto the point
    farthest from the center it was assigned to in this step (as in
    scikit-learn's Lloyd), taking points by decreasing distance and skipping
    the last point of a cluster (see :func:`choose_moves`).

    Parameters
    ----------
    runs : InMemoryRuns or BlockedRuns
        The rows and the metric (see the module docstring).
    inits : list of ndarray of shape (n_clusters, n_features)
        Initial centers of each run, in the space of the runs' rows.
    tols : list of float
        Absolute tolerance of each run on the summed squared center shift.
    max_iter : int
    verbose : int, default=0
    with_inertia : bool, default=True
        Whether to compute each run's final inertia (one more pass for rows
        read in blocks).

    Returns
    -------
    list of LloydResult
        One per run, in order.
    """
    centers = [np.ascontiguousarray(c, dtype=np.float64) for c in inits]
    n_runs = len(centers)
    n_iter = [0] * n_runs
    strict = [False] * n_runs
    sizes = [None] * n_runs
    active = list(range(n_runs))
    for iteration in range(max_iter):
        steps = runs.assign(active, [centers[i] for i in active])
        _relocate_empty_clusters(
            runs, active, steps, [centers[i] for i in active], verbose
        )
        still = []
        for i, step in zip(active, steps, strict=True):
            sizes[i] = step.sizes
            n_iter[i] = iteration + 1
            if verbose:
                cost = runs.costs([i], [step.centers])[0]
                print(f"Iteration {iteration}, inertia {cost:.6g}")
            if iteration and step.changed == 0:
                strict[i] = True
                centers[i] = step.centers
                if verbose:
                    print(f"Converged at iteration {iteration}: strict convergence.")
                continue
            # An initial center far outside the data moves by more than
            # float64 can square: an infinite shift, not converged.
            with np.errstate(over="ignore"):
                shift_sq = float(((step.centers - centers[i]) ** 2).sum())
            runs.centers_moved(i, centers[i], step.centers)
            centers[i] = step.centers
            if shift_sq <= tols[i]:
                if verbose:
                    print(
                        f"Converged at iteration {iteration}: center shift "
                        f"{shift_sq:.3g} within tolerance {tols[i]:.3g}."
                    )
                continue
            still.append(i)
        active = still
        if not active:
            break
    labels = runs.finish(centers, strict)
    inertia = runs.costs(range(n_runs), centers) if with_inertia else [None] * n_runs
    return [
        LloydResult(centers[i], labels[i], inertia[i], n_iter[i], sizes[i])
        for i in range(n_runs)
    ]


def _relocate_empty_clusters(runs, active, steps, old_centers, verbose):
    """Give every empty cluster of every step a point; steps change in place.

    A cluster that no point could be moved to keeps its previous center.
    """
    if all(step.sizes.all() for step in steps):
        return
    empties = [np.flatnonzero(step.sizes == 0) for step in steps]
    relocating = [j for j, empty in enumerate(empties) if empty.size]
    limit = max(empties[j].size + steps[j].sizes.shape[0] for j in relocating)
    # Distances to the centers of the assignment, as scikit-learn's Lloyd
    # takes them: to the updated centers, 2 of 144 fits from the same init
    # (blobs, k = 12 to 40, tol=0) ended elsewhere than scikit-learn's.
    candidates = runs.farthest(
        [active[j] for j in relocating], [old_centers[j] for j in relocating], limit
    )
    for j, found in zip(relocating, candidates, strict=True):
        step = steps[j]
        chosen, targets = choose_moves(found, step.sizes, empties[j])
        moved = runs.move(active[j], found.index[chosen], targets)
        step.centers, step.sizes = moved.centers, moved.sizes
        still = np.isnan(step.centers[:, 0])
        step.centers[still] = old_centers[j][still]
        if step.changed is not None:
            step.changed = moved.changed
        if verbose:
            print(
                f"Relocated {empties[j].size} empty cluster(s) "
                f"{empties[j].tolist()} to the points farthest from their centers."
            )


def choose_moves(candidates, sizes, empty):
    """Which candidate points move to which empty cluster.

    Points are taken in the candidates' order (decreasing distance to the
    center they were assigned to), skipping a point that is the last member
    of its cluster (so that no cluster empties by giving a point away) or
    that sits on that center.

    Returns
    -------
    chosen : ndarray of int
        Positions in ``candidates`` of the points that move.
    targets : ndarray of int
        The empty cluster each of them moves to.
    """
    sizes = sizes.copy()
    chosen = []
    for position, (distance, label) in enumerate(
        zip(candidates.distance, candidates.labels, strict=True)
    ):
        if len(chosen) == len(empty):
            break
        if sizes[label] > 1 and distance > 0:
            sizes[label] -= 1
            chosen.append(position)
    return np.asarray(chosen, dtype=np.intp), np.asarray(
        empty[: len(chosen)], dtype=np.intp
    )


# --- Seeding -----------------------------------------------------------------


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
    n_local_trials = local_trials(n_clusters)
    cumulative = np.cumsum(sample_weight)
    first = _draw(cumulative, random_state.uniform(size=1))
    chosen = [first[0]]
    cost_to = metric.cost_to_centers(X)
    closest = cost_to(X[chosen])[:, 0]
    for _ in range(1, n_clusters):
        # In place: one array of the rows' size, not a product and its sums.
        np.multiply(sample_weight, closest, out=cumulative)
        np.cumsum(cumulative, out=cumulative)
        candidates = _draw(cumulative, random_state.uniform(size=n_local_trials))
        candidate_cost = cost_to(X[candidates])
        np.minimum(candidate_cost, closest[:, None], out=candidate_cost)
        # Summed a block at a time: ``sample_weight @ candidate_cost`` made a
        # float64 copy of float32 costs, twice their size.
        best = np.argmin(weighted_feature_sums(candidate_cost, sample_weight))
        chosen.append(candidates[best])
        # A copy, so that the costs of all candidates are freed before the
        # next center's are made.
        closest = candidate_cost[:, best].copy()
        del candidate_cost
    return X[chosen].copy()


def local_trials(n_clusters):
    """Candidates k-means++ weighs for each new center: ``2 + log k``."""
    return 2 + int(np.log(n_clusters))


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


def seed_points(X, sample_weight, n_clusters, init, metric, random_state):
    """Initial centers among distinct weighted points: k-means++ or random."""
    if init == "random":
        return random_points(X, sample_weight, n_clusters, random_state)
    return kmeans_plusplus(X, sample_weight, n_clusters, metric, random_state)


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
        rows = np.asarray(source.prep(rows, 0), dtype=np.float64)
    return rows


def seeding_sample(source, n_clusters, random_state):
    """The rows of a source read in blocks that seeding chooses centers from."""
    size = min(source.shape[0], INIT_ROWS_PER_CLUSTER * n_clusters)
    return sample_rows(source, size, random_state)


def seed_from_sample(sample, n_clusters, init, metric, random_state, weights=None):
    """k-means++ or random initial centers from a sample's distinct rows.

    ``weights`` (default: one per row) weigh the rows; rows of weight zero
    are left out. With fewer distinct rows than ``n_clusters``, every
    distinct row is seeded and the centers repeat them, with a
    ``ConvergenceWarning``, as the in-memory fit (and scikit-learn's
    ``KMeans``) does.
    """
    if weights is None:
        weights = np.ones(sample.shape[0])
    else:
        sample, weights = sample[weights > 0], weights[weights > 0]
    distinct = merge_duplicate_rows(sample, weights)
    n_seeded = min(n_clusters, distinct.points.shape[0])
    if n_seeded < n_clusters:
        warnings.warn(
            f"n_clusters={n_clusters} is larger than the number of distinct rows "
            f"({n_seeded}) among the {sample.shape[0]} rows sampled for the "
            "initialization: the centers repeat",
            ConvergenceWarning,
            stacklevel=2,
        )
    centers = seed_points(
        distinct.points, distinct.weights, n_seeded, init, metric, random_state
    )
    return centers[np.arange(n_clusters) % n_seeded]
