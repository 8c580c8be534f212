"""Hartigan's k-means: single-point moves, for embeddings with repeated eigenvalues.

Where an eigenvalue of the embedding repeats, the eigensolver returns a
rotation of its eigenspace that follows the node order, and k-means runs
seeded by index reach different local optima in different orders. Lloyd's
iteration stops at any partition whose points are each nearest their own
center; Hartigan's method also moves a point when that lowers the objective
once both centers follow it, so it stops only at a subset of Lloyd's fixed
points (Telgarsky and Vattani, 2010, "Hartigan's method: k-means clustering
without Voronoi"). On the Petersen graph in 2 clusters the two 5-cycles
(inertia 40.0) beat a 3 / 7 split (41.27) that k-means++ and Lloyd reach in
about 997 runs of 1000; from the same seeds Hartigan's moves reached them in
all 40 random node orders tried.

- :func:`hartigan_kmeans` keeps the best of several k-means++ seedings, each
  followed by :func:`_hartigan_moves`, by :func:`_partition_key`;
- :func:`_hartigan_moves` moves, one at a time, the point whose move lowers
  the weighted sum of squares most, until no move lowers it.

The moves are plain numpy on arrays of ``(points, clusters)``, used up to
``HARTIGAN_MAX_POINTS`` distinct points; larger embeddings keep Lloyd.
"""

import numpy as np

from .._kmeans import Euclidean, kmeans_plusplus

# Up to this many distinct points (LAPACK's share of the graphs, where the
# embedding holds whole eigenspaces): each move costs points x clusters, and
# the moves grow with the points. On a 40 x 40 torus in 4 clusters (1600
# points, 10 runs for each of 8 candidates) a fit took 6.7 s against 0.24 s
# with Lloyd, on an 80 x 80 torus 86.5 s against 0.91 s (loaded machine).
HARTIGAN_MAX_POINTS = 200
# A move must lower the objective by more than this fraction of the point's
# cost in its own cluster: rounding cannot then move a point back and forth.
_MOVE_TOL = 1e-9
# Costs and weights equal to this many significant digits are equal, so that
# rounding, which follows the node order, cannot choose between partitions.
# Two fewer than the embedding keeps (_laplacian._EMBEDDING_DECIMALS of its
# scale): with as many, J(6, 2) in 6 clusters still gave two kinds of
# partition over 8 node orders.
_KEY_DIGITS = 8


def hartigan_kmeans(points, weights, n_clusters, n_runs, seed):
    """Labels of the best of ``n_runs`` seeded runs of Hartigan's method.

    Parameters
    ----------
    points : ndarray of shape (n_points, n_features)
        Distinct points; the seeding follows their order.
    weights : ndarray of shape (n_points,)
        Positive weights.
    n_clusters : int
        At most ``n_points``.
    n_runs : int
    seed : int

    Returns
    -------
    labels : ndarray of shape (n_points,)
        The partition of lowest weighted sum of squares found; among equal
        ones, the first by :func:`_partition_key`.

    Examples
    --------
    Two groups on a line, whatever the seeds:

    >>> import numpy as np
    >>> from skclust._spectral._hartigan import hartigan_kmeans
    >>> points = np.array([[0.0], [1.0], [10.0], [11.0], [12.0]])
    >>> hartigan_kmeans(points, np.ones(5), 2, 3, 0).tolist() in (
    ...     [0, 0, 1, 1, 1], [1, 1, 0, 0, 0])
    True
    """
    states = np.random.RandomState(seed).randint(np.iinfo(np.int32).max, size=n_runs)
    metric = Euclidean()
    best_key, best = None, None
    for state in states:
        centers = kmeans_plusplus(
            points, weights, n_clusters, metric, np.random.RandomState(state)
        )
        labels = metric.pairwise_cost(points, centers).argmin(axis=1)
        labels = _hartigan_moves(points, weights, labels, n_clusters)
        key = _partition_key(points, weights, labels, n_clusters)
        if best is None or key < best_key:
            best_key, best = key, labels
    return best


def _hartigan_moves(points, weights, labels, n_clusters):
    """``labels`` after Hartigan's single-point moves, largest gain first.

    Moving a point ``x`` of weight ``w`` from cluster A (total weight
    ``W_A``, center ``c_A``) to B changes the weighted sum of squares by
    ``W_B / (W_B + w) |x - c_B|^2 - W_A / (W_A - w) |x - c_A|^2``. The
    moves stop when none lowers it; a point alone in its cluster stays, so
    no cluster empties. The centers are recomputed from the labels before
    stopping, so that updates that rounded cannot hide a move.
    """
    labels = labels.copy()
    rows = np.arange(points.shape[0])
    while True:
        sizes = np.bincount(labels, weights=weights, minlength=n_clusters)
        sums = _cluster_sums(points, weights, labels, n_clusters)
        distances = Euclidean.pairwise_cost(points, sums / sizes[:, None])
        moved = False
        while True:
            own = sizes[labels]
            rest = own - weights
            alone = rest <= 0
            leave = own / np.where(alone, 1.0, rest) * distances[rows, labels]
            leave[alone] = 0.0
            join = sizes / (sizes + weights[:, None]) * distances
            join[rows, labels] = np.inf
            target = join.argmin(axis=1)
            gain = leave - join[rows, target]
            i = int(np.argmax(gain))
            if not gain[i] > _MOVE_TOL * leave[i]:
                break
            a, b = labels[i], target[i]
            labels[i] = b
            for cluster, sign in ((a, -1.0), (b, 1.0)):
                sizes[cluster] += sign * weights[i]
                sums[cluster] += sign * weights[i] * points[i]
                center = sums[cluster] / sizes[cluster]
                distances[:, cluster] = ((points - center) ** 2).sum(axis=1)
            moved = True
        if not moved:
            return labels


def _cluster_sums(points, weights, labels, n_clusters):
    sums = np.zeros((n_clusters, points.shape[1]))
    np.add.at(sums, labels, points * weights[:, None])
    return sums


def _partition_key(points, weights, labels, n_clusters):
    """Sort key of a partition: its cost, then the most balanced first.

    On a symmetric graph distinct partitions can have the same weighted sum
    of squares (the Johnson graph J(6, 2) in 5 clusters: sizes 4 4 3 3 1,
    4 4 3 2 2 and 5 3 3 2 2 among them), and which of them a run reaches
    follows the seeding, so the node order. Among equal costs the key
    prefers the smallest sum of squared cluster weights, then compares the
    clusters' weights and costs, largest cluster first. None of these
    changes with the order of the points, the names of the clusters or a
    rotation of the points (the solver's basis of a repeated eigenvalue).

    Returns
    -------
    tuple of float
        Rounded to ``_KEY_DIGITS`` significant digits.
    """
    sizes = np.bincount(labels, weights=weights, minlength=n_clusters)
    centers = _cluster_sums(points, weights, labels, n_clusters) / sizes[:, None]
    squares = weights * ((points - centers[labels]) ** 2).sum(axis=1)
    costs = np.bincount(labels, weights=squares, minlength=n_clusters)
    # A lone point's center, w * x / w, can miss x by an ulp (w = 3: one
    # coordinate in seven), leaving a cost of 1e-33 that follows the point's
    # coordinates, so the rotation, and that no rounding to significant
    # digits removes.
    costs[np.bincount(labels, minlength=n_clusters) == 1] = 0.0
    order = np.lexsort((costs, -sizes))
    parts = [[costs.sum(), sizes @ sizes], -sizes[order], costs[order]]
    return tuple(float(f"{x:.{_KEY_DIGITS}g}") for x in np.concatenate(parts))
