"""Connected components first: how clusters are shared among components.

A graph search (:func:`skclust._spectral._laplacian._component_labels`)
gives the components; these small functions decide which components share a
cluster when there are more components than clusters, and how many clusters
each component gets when there are fewer. Both rules look only at sizes,
volumes and a component's number of twin classes, and break ties between
components of equal size and volume by their shape (the colours of colour
refinement), so they do not depend on the order of the nodes, except between
components that colour refinement cannot tell apart (isomorphic ones, where
either choice gives the same partition up to an automorphism).
"""

import heapq

import numpy as np


def _component_order(sizes, volumes, shapes):
    """Components from the largest (then heaviest, then by ``shapes``, then
    first) to the smallest."""
    return np.lexsort((np.arange(sizes.shape[0]), shapes, -volumes, -sizes))


def _merge_components(n_clusters, components, sizes, volumes, shapes):
    """Labels with ``n_clusters`` clusters made of whole components.

    The ``n_clusters - 1`` largest components are clusters of their own and
    the others share the last cluster; with as many clusters as components,
    the clusters are the components.

    Parameters
    ----------
    n_clusters : int
        At most the number of components.
    components : ndarray of shape (n_nodes,)
        Component of each node, ``0 .. n_components - 1``.
    sizes, volumes : ndarray of shape (n_components,)
        Nodes and total edge weight of each component.
    shapes : ndarray of shape (n_components,)
        What tells apart components of equal size and volume (see
        :func:`_graph._component_shapes`).

    Returns
    -------
    ndarray of shape (n_nodes,)
    """
    cluster_of = np.full(sizes.shape[0], n_clusters - 1, dtype=np.intp)
    order = _component_order(sizes, volumes, shapes)
    cluster_of[order[: n_clusters - 1]] = np.arange(n_clusters - 1)
    return cluster_of[components]


def _allocate_clusters(n_clusters, sizes, volumes, capacities, shapes):
    """Clusters per component: one each, the rest by the largest size share.

    Each extra cluster goes to the component with the largest
    ``size / (clusters so far + 1)`` among those that can still be split
    (the D'Hondt rule): a giant component takes the extra clusters before
    its fragments, and equal components share them evenly.

    Parameters
    ----------
    n_clusters : int
        At least the number of components, at most ``capacities.sum()``.
    sizes, volumes : ndarray of shape (n_components,)
    capacities : ndarray of shape (n_components,)
        The most clusters each component can hold (its twin classes).
    shapes : ndarray of shape (n_components,)
        What tells apart components of equal size and volume.

    Returns
    -------
    ndarray of int of shape (n_components,)
    """
    counts = np.ones(sizes.shape[0], dtype=np.intp)
    rank = np.empty(sizes.shape[0], dtype=np.intp)
    rank[_component_order(sizes, volumes, shapes)] = np.arange(sizes.shape[0])
    heap = [
        (-sizes[c] / 2.0, rank[c], c)
        for c in range(sizes.shape[0])
        if capacities[c] > 1
    ]
    heapq.heapify(heap)
    for _ in range(n_clusters - sizes.shape[0]):
        _, order, c = heapq.heappop(heap)
        counts[c] += 1
        if counts[c] < capacities[c]:
            heapq.heappush(heap, (-sizes[c] / (counts[c] + 1.0), order, c))
    return counts
