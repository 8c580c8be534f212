"""Divisive spectral clustering: refine clusters by spectral bisection.

A clustering into more clusters than the graph has communities is best made by
splitting the communities, not by cutting across them. :class:`_Division`
starts from a top-level clustering and repeatedly bisects the cluster whose
induced subgraph has the strongest two-community structure. Every level is a
refinement of the levels before it, so a majority-label mismatch can only
fall as clusters are added.

- :func:`_two_means_1d` is exact 2-means on a line;
- :func:`_bisect_subgraph` splits the subgraph of a cluster by the sign-free
  spectral coordinate of two-cluster spectral clustering;
- :class:`_Division` orders the splits and replays them for any number of
  clusters.
"""

import numpy as np

from ._laplacian import (
    _REPEAT_TOL,
    _choose_solver,
    _class_directions,
    _degrees,
    _dense_eigh,
    _leading_eigenpairs,
    _normalized_affinity,
    _regularization,
    _repeats_past,
    _rounded,
    _spectral_embedding,
    _subgraph,
)

# Relative difference under which two 2-means thresholds count as a tie.
_TIE_TOL = 1e-9


def _two_means_1d(values):
    """The exact 2-means split of points on a line.

    An optimal split of 1-D k-means with two clusters is a threshold between
    two consecutive sorted values; it minimises the within-cluster sum of
    squares, that is, maximises ``S_L^2 / n_L + S_R^2 / n_R`` for the sums
    ``S`` and sizes ``n`` of the two sides.

    Parameters
    ----------
    values : ndarray of shape (n,)

    Returns
    -------
    ndarray of bool of shape (n,) or None
        True on the side of the smaller values; None when all values are
        equal (no split separates anything) or when two thresholds tie.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order] - values.mean()
    distinct = ordered[1:] > ordered[:-1]
    if not distinct.any():
        return None
    n = ordered.shape[0]
    left_sums = np.cumsum(ordered)[:-1]
    left_sizes = np.arange(1, n)
    # The centred values sum to 0, so the right sum is -left_sums.
    between = left_sums**2 * (1.0 / left_sizes + 1.0 / (n - left_sizes))
    between[~distinct] = -np.inf
    cut = int(np.argmax(between))
    # Two thresholds as good as each other (a symmetric cluster): which one
    # wins would depend on the order of the nodes, so the split is refused.
    if np.sum(between >= between[cut] * (1.0 - _TIE_TOL)) > 1:
        return None
    low = np.zeros(n, dtype=bool)
    low[order[: cut + 1]] = True
    return low


def _bisect_subgraph(
    adjacency, nodes, laplacian, row_scaling, solver, seed, classes=None
):
    """Two-cluster spectral clustering of the subgraph induced by ``nodes``.

    The subgraph gets the estimator's Laplacian (its regularization comes
    from its own degrees) and its two leading eigenvectors give
    each node one coordinate (the SCORE ratio, or the second eigenvector,
    plain or row-normalized), split by exact 2-means.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n_nodes, n_nodes)
        Symmetric, non-negative, zero diagonal.
    nodes : ndarray of int
        The cluster to split, ascending.
    laplacian : (str, "mean_degree" or float)
        The estimator's ``laplacian`` and ``regularization``.
    row_scaling : {"score", "unit", "degree", "none"}
    solver : {"auto", "arpack", "dense"}
    seed : int
        Seeds ARPACK's starting vector.
    classes : ndarray of shape (n_nodes,), default=None
        Twin class of every node of ``adjacency``: a class is never split.

    Returns
    -------
    (first, second, strength) or None
        The two halves (``first`` holds ``nodes[0]``) and the second largest
        eigenvalue of the subgraph's normalized affinity, which is larger the
        better the subgraph separates into two communities. None when the
        cluster cannot be split: one node, no edges inside, or one coordinate
        for all nodes.
    """
    if nodes.shape[0] < 2:
        return None
    sub = _subgraph(adjacency, nodes)
    degree = _degrees(sub)
    if not np.any(degree > 0):
        return None
    tau = _regularization(degree, *laplacian)
    affinity = _normalized_affinity(sub, degree, tau)
    solver = _choose_solver(solver, nodes.shape[0])
    values, vectors = _leading_eigenpairs(affinity, 2, solver, seed)
    # Twins of the whole graph get one coordinate (their mean), so no split
    # separates them whatever the eigensolver's basis.
    index = np.arange(nodes.shape[0])
    if classes is not None:
        _, index = np.unique(classes[nodes], return_inverse=True)
        index = index.ravel()
    if solver == "dense" and nodes.shape[0] > 2 and _repeats_past(affinity, values):
        # Up to 200 nodes (where LAPACK shows the repeat) the second
        # eigenvector is the solver's pick in an eigenspace, which follows
        # the node order: the one direction of it that twins do not cancel
        # replaces it, and with several such directions nothing is split.
        second = _uncancelled_direction(affinity, values[1], index)
        if second is None:
            return None
        vectors = np.column_stack([vectors[:, 0], second])
    coordinate = _spectral_embedding(values, vectors, 2, row_scaling, degree + tau)
    coordinate = coordinate[:, -1]
    means = np.bincount(index, coordinate) / np.bincount(index)
    coordinate = means[index]
    low = _two_means_1d(_rounded(coordinate))
    if low is None:
        return None
    first = low if low[0] else ~low
    return nodes[first], nodes[~first], float(values[1])


def _uncancelled_direction(affinity, value, index):
    """The eigenvector of a repeated eigenvalue whose twin-class means are not zero.

    Eigenvectors that differ only between twins average to zero over every
    class; if the eigenspace holds exactly one direction besides them, it is
    the same in every node order (up to sign). Returns that unit vector, or
    None when the eigenspace holds none or several.
    """
    all_values, all_vectors = _dense_eigh(affinity, 0, affinity.shape[0] - 1)
    space = all_vectors[:, np.abs(all_values - value) <= _REPEAT_TOL]
    if space.shape[1] == 0:
        return None
    basis, rank = _class_directions(space, index)
    if rank != 1:
        return None
    return basis[:, 0]


class _Division:
    """A top-level clustering refined one bisection at a time.

    The cluster split next is the one whose :func:`_bisect_subgraph` has the
    largest strength (ties: the lowest label), and the new cluster takes the
    next label. Splits are computed when a level needs them and kept, so that
    every number of clusters from the top level up is a replay of the same
    sequence of splits: the clusterings are nested.

    Parameters
    ----------
    labels : ndarray of int of shape (n_nodes,)
        Top-level labels, ``0 .. n_top - 1``, every label used.
    bisect : callable
        Ascending node indices -> the result of :func:`_bisect_subgraph`.
    """

    def __init__(self, labels, bisect):
        self._top = labels.copy()
        self._n_top = int(labels.max()) + 1
        self._bisect = bisect
        self._splits = []
        self._candidates = None

    def labels_at(self, n_clusters):
        """Labels with ``n_clusters`` clusters (at least the top level's).

        Raises
        ------
        ValueError
            When no cluster can be split before ``n_clusters`` is reached.
        """
        while self._n_top + len(self._splits) < n_clusters:
            self._split_once(n_clusters)
        labels = self._top.copy()
        for label, second in self._splits[: n_clusters - self._n_top]:
            labels[second] = label
        return labels

    def _split_once(self, n_clusters):
        if self._candidates is None:
            self._candidates = {
                label: self._bisect(np.flatnonzero(self._top == label))
                for label in range(self._n_top)
            }
        ready = [
            (split[2], -label)
            for label, split in self._candidates.items()
            if split is not None
        ]
        n_now = self._n_top + len(self._splits)
        if not ready:
            raise ValueError(
                f"n_clusters={n_clusters} cannot be reached by bisection: no "
                f"cluster splits after {n_now} (each is a single node, has no "
                "edges inside or gives all its nodes one spectral coordinate)"
            )
        label = -max(ready)[1]
        first, second, _ = self._candidates.pop(label)
        self._splits.append((n_now, second))
        self._candidates[label] = self._bisect(first)
        self._candidates[n_now] = self._bisect(second)
