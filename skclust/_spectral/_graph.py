"""The validated graph that every number of clusters shares.

:func:`_scaled` and :func:`_symmetric` finish the validation of an adjacency
matrix; :func:`_prepare_graph` adds what does not depend on k (connected
components by graph search, twin classes, per-component sizes, volumes and
capacities) in a :class:`_Graph`; :func:`_check_reachable` refuses a k the
graph cannot reach.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._laplacian import (
    _component_labels,
    _degrees,
    _mix64,
    _refined_colours,
    _twin_classes,
)


@dataclass
class _Graph:
    """A validated graph and what every number of clusters shares.

    ``adjacency`` is symmetric with zero diagonal and largest weight 1 (the
    input divided by ``scale``); ``components`` and ``classes`` (twins) come
    from graph search and row comparison; ``sizes``, ``volumes`` and
    ``capacities`` (twin classes) are per component, and so is ``shapes``,
    which tells apart components of equal size and volume
    (:func:`_component_shapes`).
    """

    adjacency: object
    scale: float
    degree: np.ndarray
    components: np.ndarray
    classes: np.ndarray
    sizes: np.ndarray
    volumes: np.ndarray
    capacities: np.ndarray
    shapes: np.ndarray
    row_sums: np.ndarray
    n_features_in: int
    feature_names_in: object


def _prepare_graph(adjacency, scale, row_sums, n_features_in, feature_names_in):
    """Components, twin classes and per-component figures of a graph."""
    degree = _degrees(adjacency)
    n_comp, components = _component_labels(adjacency)
    classes = _twin_classes(adjacency)
    # Isolated nodes are all twins of one another, but each is a component.
    pairs = np.unique(np.stack([components, classes]), axis=1)
    sizes = np.bincount(components, minlength=n_comp)
    volumes = np.bincount(components, weights=degree, minlength=n_comp)
    return _Graph(
        adjacency=adjacency,
        scale=scale,
        degree=degree,
        components=components,
        classes=classes,
        sizes=sizes,
        volumes=volumes,
        capacities=np.bincount(pairs[0], minlength=n_comp),
        shapes=_component_shapes(adjacency, components, sizes, volumes),
        row_sums=row_sums,
        n_features_in=n_features_in,
        feature_names_in=feature_names_in,
    )


def _component_shapes(adjacency, components, sizes, volumes):
    """A number per component that follows its shape, not the numbering.

    Which components share a cluster, or get one more, is decided by size
    and volume; among components equal in both, the node order decided
    before: a star and a path of four nodes, either one split in two
    depending on which came first, gave partitions of another kind (cut 3
    or 1) in another numbering. This is the wrapping sum of 64-bit mixes of
    the colours of its nodes (:func:`_refined_colours`), equal for
    components that colour refinement cannot tell apart (isomorphic ones
    among them) and, up to 64-bit collisions, different for the others.
    The colours cost a few passes over the edges, only where two
    components tie.
    """
    n_comp = sizes.shape[0]
    shapes = np.zeros(n_comp, dtype=np.uint64)
    keys = np.stack([sizes, volumes])
    if np.unique(keys, axis=1).shape[1] == n_comp:
        return shapes
    colours = _refined_colours(adjacency).astype(np.uint64)
    np.add.at(shapes, components, _mix64(colours + np.uint64(1)))
    return shapes


def _component_nodes(graph):
    """Ascending node indices of each component, in component order."""
    order = np.argsort(graph.components, kind="stable")
    return np.split(order, np.cumsum(graph.sizes)[:-1])


def _check_reachable(n_clusters, graph):
    n_nodes = graph.adjacency.shape[0]
    if n_clusters > n_nodes:
        raise ValueError(
            f"n_clusters={n_clusters} is larger than the number of nodes ({n_nodes})"
        )
    reachable = int(graph.capacities.sum())
    if n_clusters > reachable:
        raise ValueError(
            f"n_clusters={n_clusters} cannot be reached: the graph tells apart "
            f"only {reachable} group{'s' if reachable > 1 else ''} of its "
            f"{n_nodes} nodes (nodes with the "
            "same neighbours are never separated, and each connected component "
            "counts on its own)"
        )


def _scaled(adjacency):
    """The adjacency divided by its largest weight, and that weight.

    Degrees of weights near the float maximum overflow; the normalized
    Laplacian does not change under scaling, so the work is done at scale 1.
    """
    data = adjacency.data if sparse.issparse(adjacency) else adjacency
    scale = float(np.max(data, initial=0.0))
    if scale == 0.0 or scale == 1.0:
        return adjacency, 1.0
    if not sparse.issparse(adjacency):
        return adjacency / scale, scale
    # scipy divides a sparse matrix by multiplying with 1 / scale, which is
    # inf for a subnormal largest weight: divide the stored weights instead.
    scaled = sparse.csr_array(adjacency, dtype=np.float64, copy=True)
    scaled.data /= scale
    # A weight below the largest by more than the float range underflows to
    # 0: dropped, as in a dense matrix, so that graph search and the
    # Laplacian see the same edges.
    scaled.eliminate_zeros()
    return scaled, scale


def _symmetric(adjacency):
    """The adjacency made exactly symmetric; refused if it is not nearly so."""
    difference = adjacency - adjacency.T
    if sparse.issparse(difference):
        gap = np.abs(difference.data).max(initial=0.0)
        scale = np.abs(adjacency.data).max(initial=0.0)
    else:
        gap, scale = np.abs(difference).max(), np.abs(adjacency).max()
    if gap > 1e-10 * max(scale, 1.0):
        raise ValueError(
            "the adjacency matrix must be symmetric (an undirected graph); "
            "symmetrize it first, for instance with "
            "skclust.datasets.graph_from_adjacency(X).adjacency (each edge "
            "weighs the larger of its two directions)"
        )
    if gap == 0:
        return sparse.csr_array(adjacency) if sparse.issparse(adjacency) else adjacency
    symmetric = (adjacency + adjacency.T) / 2
    return symmetric.tocsr() if sparse.issparse(symmetric) else symmetric
