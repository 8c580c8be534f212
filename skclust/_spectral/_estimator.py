"""SpectralGraphClusterer and the sweep over numbers of clusters.

The numerics live in :mod:`skclust._spectral._laplacian` (Laplacians, eigenpairs,
embeddings, connected components) and :mod:`skclust._spectral._divisive` (refinement by
spectral bisection). :class:`SpectralGraphClusterer` validates, orchestrates
and keeps the fitted state; :func:`sweep_n_clusters` fits many k from one
eigendecomposition.
"""

from collections.abc import Iterable
from functools import cache, partial
from numbers import Integral, Real
from typing import ClassVar, Literal, NamedTuple, Self

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.neighbors import kneighbors_graph
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_non_negative

from .._checks import check_not_graph_object, validate_finite
from .._kmeans import KMeansL2
from .._sklearn_compat import N_JOBS_CONSTRAINT, Interval, StrOptions, _fit_context
from .._typing import MatrixLike, RandomStateLike
from ..metrics import modularity
from ._components import _allocate_clusters, _merge_components
from ._divisive import _bisect_subgraph, _Division
from ._graph import (
    _check_reachable,
    _component_nodes,
    _prepare_graph,
    _scaled,
    _symmetric,
)
from ._hartigan import HARTIGAN_MAX_POINTS, hartigan_kmeans
from ._laplacian import (
    _DENSE_FALLBACK_MAX_NODES,
    _REPEAT_TOL,
    EigensolverError,
    MeanDegreeMultiple,
    _bethe_hessian_count,
    _blas_threads_for,
    _canonical_order,
    _choose_solver,
    _degrees,
    _dense_eigh,
    _descending_eigenvalues,
    _first_appearance_labels,
    _leading_eigenpairs,
    _normalized_affinity,
    _regularization,
    _rounded,
    _spectral_embedding,
    _subgraph,
    _twin_directions_last,
    _without_diagonal,
)

# Eigengaps closer than this count as equal.
_GAP_TIE_TOL = 1e-9

# "auto" counts at most this many communities in one component.
_AUTO_MAX_PER_COMPONENT = 50

# regularization="auto" tries these multiples of the mean degree (the mean
# degree first: it is kept unless another is clearly better) and keeps the
# clusters of highest modularity. On the graph suite a higher modularity by
# less than 0.5% did not mean a better partition (political blogs: 0.4253 at
# a tenth of the mean degree against 0.4239, ARI 0.828 against 0.840), so the
# mean degree keeps ties within that margin against the other multiples.
# The plain normalized embedding then competes without the margin: on two
# of five K = 2 equal easy graphs of the suite it was better by 0.27% and
# 0.45% (ARI 0.96 against 0.95 and 0.92), and a margin chosen for both could
# not keep the mean degree on the blogs too (benchmarks/bench_tau_selection.py).
_AUTO_TAU_FACTORS = (1.0, 0.0, 0.1, 0.25, 0.5, 2.0)
_MODULARITY_MARGIN = 0.005

# The plain normalized embeddings that "auto" tries after the multiples
# (with row_scaling="auto"), each kept if its modularity is higher at all.
# Rows divided by the square root of the degree are scikit-learn's points:
# added last, they were kept on 5 of the suite's 152 graphs (K = 2, 3 and 4
# equal easy), lifting K = 3 equal easy from 0.908 to 0.912 ARI (above
# scikit-learn's 0.910) and K = 2 equal easy from 0.954 to 0.956, and
# lowering K = 4 equal easy by 0.001 (benchmarks/bench_tau_selection.py).
_PLAIN_EMBEDDINGS = ((0.0, "none"), (0.0, "degree"))
_MODULARITY_DECIMALS = 12

# Where the Bethe Hessian counts at most _FEW_SHARE of the clusters asked
# for, "auto" keeps the mean degree unless another candidate's modularity
# is higher by more than _FEW_MARGIN (relative) rather than 0.5%: most of
# the communities asked for are then below what the spectrum shows, and
# among partitions of the noise the most modular is no better a guess. A
# graph asked for far more clusters than it has (political blogs at
# k >= 16, counted 8) still gets its most modular partition, more modular
# than the mean degree's by 43% to 107% at k = 16 to 50 (docs/spectral.rst,
# "When the spectrum shows few communities").
_FEW_SHARE = 0.5
_FEW_MARGIN = 0.1

# Where the Bethe Hessian counts one community (the spectrum shows none: a
# graph at or below the detectability limit), "auto" does not choose among
# its candidates: the graph is split by nested bisection (the "divisive"
# strategy) with tau twice the mean degree of each part. The k-means
# candidates then split the largest block along noise directions, and the
# stronger regularization keeps hubs from pulling the eigenvectors
# (docs/spectral.rst, "When the spectrum shows no community").
_NO_COMMUNITY_TAU = MeanDegreeMultiple(2.0)

# Above this many nodes in a component "auto" is the mean degree: the six
# eigensolves and eight k-means runs of the choice would cost six fits.
_AUTO_TAU_MAX_NODES = 30_000

# Eigenvalues of the affinity closer than _REPEAT_TOL are one repeated
# eigenvalue, whose eigenvectors the solver may rotate; with n_init="auto"
# k-means then keeps the best of several runs: 2000 / (distinct points),
# between 10 and 100 (docs/spectral.rst). On a 6-cycle in 3 clusters one run
# gave sizes 2, 2, 2 in 19 of 40 node orders and 1, 2, 3 in 21; ten runs
# gave 2, 2, 2 in all 40. A hundred runs, on the whole eigenspace, settle
# the Petersen graph in 3, 4 and 5 clusters, where ten did not.
_SYMMETRIC_RUNS = (10, 100)
_SYMMETRIC_POINT_RUNS = 2000


class SpectralGraphClusterer(ClusterMixin, BaseEstimator):
    """Spectral clustering of a graph, robust to skewed degrees.

    Connected components come first (found by graph search): with at most as
    many clusters as components, the clusters are unions of whole components
    (the components themselves when the numbers are equal). Further clusters
    are made inside components: each component that gets more than one is
    embedded with the leading eigenvectors of a graph Laplacian (a sparse
    eigensolver) and clustered with :class:`~skclust.KMeansL2`. The default,
    a degree-regularized Laplacian with SCORE ratios, keeps the low-degree
    nodes of real networks from forming clusters of their own;
    ``laplacian="normalized"`` gives the plain method of most textbooks.
    Nodes with the same neighbours (twins) are never separated, and the
    result does not depend on the order of the nodes: relabelling them
    relabels the clusters.

    Parameters
    ----------
    n_clusters : int or "auto", default=2
        Number of clusters, at most :func:`max_n_clusters` (the twin classes
        summed over components; never more than the nodes). "auto" counts
        the communities of each component with the Bethe Hessian (its
        weighted form where the weights differ; at least one per
        component); ``n_clusters_`` holds the result.
    affinity : {"auto", "precomputed", "rbf", "nearest_neighbors"}, \
default="auto"
        - "auto": "precomputed" when ``X`` is square (an adjacency matrix,
          sparse or dense), else "rbf" (the default of scikit-learn's
          ``SpectralClustering``), so that a graph and a table of features
          both work with the default parameters. Give "precomputed" to
          cross-validate on a graph with a split that leaves nodes out (the
          ``pairwise`` tag makes scikit-learn slice it on both axes), and a
          feature affinity for a table with as many features as samples.
        - "precomputed": ``X`` is the adjacency matrix (sparse or dense,
          symmetric, non-negative, any finite scale); its diagonal is
          ignored, so self-loops change nothing.
          :func:`skclust.metrics.modularity` and
          :func:`~skclust.metrics.conductance` count them (as networkx
          does): drop them before scoring the graph that was clustered.
        - "rbf": ``X`` holds features; the graph is the Gaussian kernel
          ``exp(-gamma |x - y|^2)``.
        - "nearest_neighbors": ``X`` holds features; the graph joins each
          point to its ``n_neighbors`` nearest neighbours (symmetrized).
    laplacian : {"regularized", "normalized"}, default="regularized"
        - "regularized": ``I - D_tau^-1/2 A D_tau^-1/2`` with
          ``D_tau = D + tau I`` (Chaudhuri, Chung and Tsiatas 2012; Qin and
          Rohe 2013). Adding ``tau`` to every degree damps the eigenvectors
          that live on a few low-degree nodes. ``tau`` is a diagonal shift:
          no dense matrix is formed.
        - "normalized": the plain symmetric normalized Laplacian
          ``I - D^-1/2 A D^-1/2``.
    regularization : "auto", "mean_degree" or float, default="auto"
        ``tau`` for ``laplacian="regularized"``, in the units of the weights.
        "mean_degree" is the mean degree of the component being split.
        "auto" adapts it to the graph: with ``strategy="kmeans"``, each
        component to split is clustered with ``tau`` = 1, 0, 0.1, 0.25, 0.5
        and 2 times its mean degree (with ``row_scaling="auto"``: SCORE
        ratios, plus the plain normalized embedding with rows as they are
        and with rows divided by the square root of the degree), and the
        clusters of highest modularity are kept: among the multiples, the
        mean degree unless another beats its modularity by more than 0.5%;
        then each plain embedding if its modularity is higher still (rows as
        they are first). Where the Bethe Hessian count of
        ``n_clusters="auto"`` is at most half the clusters asked for, the
        mean degree is kept unless the partition chosen is more modular by
        more than 10% (docs/spectral.rst, "When the spectrum shows few
        communities"). Where that count is one (the spectrum shows no
        community), no candidate is kept: the component is split by nested
        bisection (as ``strategy="divisive"``) with ``tau`` twice the mean
        degree of each part ("When the spectrum shows no community").
        Above 30000 nodes
        in a component, and for "divisive", "auto" is the mean degree.
        Ignored by "normalized".
    row_scaling : {"auto", "score", "unit", "degree", "none"}, default="auto"
        How eigenvectors become points (see Notes): "score" (ratios to the
        leading eigenvector), "unit" (rows scaled to length one), "degree"
        (rows divided by the square root of the regularized degree: the
        random walk's eigenvectors, the points of scikit-learn's
        ``SpectralClustering``) or "none".
        "auto" is "score" for the regularized Laplacian and "none" for the
        normalized one.
    strategy : {"kmeans", "divisive"}, default="kmeans"
        - "kmeans": k-means into the component's number of clusters on the
          embedding of ``n_components`` eigenvectors, as scikit-learn's
          ``SpectralClustering``. Chosen as the default on a suite of
          degree-corrected block models (see the user guide).
        - "divisive": k-means into ``min(k, d)`` clusters on ``d``
          eigenvectors (the eigengap), then, while clusters are missing, the
          cluster whose subgraph separates best into two (largest second
          eigenvalue of its own normalized affinity) is split by two-cluster
          spectral clustering of that subgraph. If no cluster can be split
          any further, the component is clustered by "kmeans" instead. The
          clusterings for successive ``n_clusters`` are nested where they
          share the top level: from ``k = d`` on, while the eigengap keeps
          ``d``, and always with ``n_components=1`` (pure recursive
          bisection). Up to ``d`` each k is a k-means partition of its
          own (``d``, between 2 and k, may grow with k), and these need not
          be nested.
    n_components : int, "eigengap" or None, default=None
        Number of eigenvectors in the embedding. None uses the number of
        clusters with ``strategy="kmeans"`` (as scikit-learn's
        ``SpectralClustering``) and "eigengap" with "divisive". "eigengap"
        uses the ``d`` between 2 and the number of clusters after which the
        Laplacian spectrum has its largest gap (von Luxburg 2007). More
        eigenvectors are taken when the embedding has fewer distinct points
        than clusters, and (where LAPACK solves) when the last one would
        cut through a repeated eigenvalue's eigenspace: the whole eigenspace
        is taken (see Notes).
    eigen_solver : {"auto", "arpack", "dense"}, default="auto"
        "arpack" is ``scipy.sparse.linalg.eigsh`` on the sparse matrix,
        capped at 3000 restarts (a clear error if it does not converge on a
        graph too large for LAPACK); "dense" is LAPACK on a dense copy.
        "auto" uses LAPACK up to 200 nodes and ARPACK above: a large sparse
        graph is never densified.
    n_init : "auto" or int, default="auto"
        Runs of :class:`~skclust.KMeansL2` (k-means++ seeding) on the
        embedding; the run with the lowest inertia is kept. "auto" is one
        run, as for ``KMeansL2``, or where eigenvalues of the embedding
        repeat (symmetric graphs; see Notes) 2000 / (distinct points) runs,
        between 10 and 100, each followed by Hartigan's single-point moves
        instead of Lloyd's iteration on up to 200 distinct points (of
        partitions of equal cost, the most balanced is kept).
    gamma : float, default=1.0
        Kernel coefficient for ``affinity="rbf"``.
    n_neighbors : int, default=10
        Neighbours for ``affinity="nearest_neighbors"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolvers' start vectors and k-means.
    n_jobs : int, default=None
        Parallel k-means runs (passed to :class:`~skclust.KMeansL2`).

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,), dtype int32
        Cluster of each node, numbered in order of first appearance (int32,
        as scikit-learn's ``SpectralClustering.labels_``).
    n_clusters_ : int
        Number of clusters (``n_clusters``, or what "auto" found).
    embedding_ : ndarray of shape (n_nodes, n_dims)
        The points given to k-means for the component with the most clusters
        (the top level with "divisive"); rows of other components are 0, and
        ``n_dims`` is 0 when no component is split.
    eigenvalues_ : ndarray of shape (n_clusters,)
        The smallest eigenvalues of the chosen Laplacian of the whole graph,
        ascending. With ``laplacian="normalized"`` the eigenvalue 0 appears
        once per connected component.
    n_components_ : int
        Number of eigenvectors the embedding of ``embedding_`` was built from.
    regularization_ : float
        The ``tau`` of the whole graph, in the units of the weights (0 for
        the normalized Laplacian); with "auto", the one chosen for the
        component with the most clusters (0 when the plain normalized
        embedding won). ``eigenvalues_`` are computed with it.
    n_connected_components_ : int
        Number of connected components of the graph.
    connected_components_ : list of ndarray
        Node indices of each component, in order of their first node.
    input_row_sums_ : ndarray of shape (n_nodes,)
        Row sums of the training ``X``, by which
        :func:`skclust.metrics.mismatch_scorer` checks that it is given the
        training nodes.
    n_features_in_ : int
        Number of columns of ``X`` (the number of nodes when precomputed).
    affinity_ : str
        The affinity used: ``affinity``, with "auto" resolved.

    See Also
    --------
    sweep_n_clusters : Fit several numbers of clusters sharing the graph.
    max_n_clusters : The largest reachable number of clusters.
    sklearn.cluster.SpectralClustering : scikit-learn's spectral clustering.

    Notes
    -----
    With ``mu_1 >= mu_2 >= ...`` the leading eigenvalues of
    ``D_tau^-1/2 A D_tau^-1/2`` and ``u_1, u_2, ...`` their eigenvectors, the
    SCORE embedding of node i is
    ``((mu_2 / mu_1)^3 u_2(i) / u_1(i), ..., (mu_k / mu_1)^3 u_k(i) / u_1(i))``,
    clipped to ``[-log n, log n]``. The ratio removes each node's degree
    factor, which all eigenvectors share (Jin 2015); the eigenvalue weights
    keep the weaker, noisier eigenvectors from dominating. SCORE+ (Jin, Ke
    and Luo) weights by ``mu_j / mu_1``; the cube was chosen on a suite of
    block models, where it did better on communities of unequal sizes.

    Order invariance: twins get one point (the mean of their rows) and
    k-means sees the points in sorted order; eigenvector signs make the sum
    of cubed entries positive; ties between eigengaps, between 2-means
    thresholds and between components of equal size and volume are broken
    without reference to the node order where the graph allows it (exact
    ties between non-isomorphic parts still follow the order). A repeated
    eigenvalue among the leading ones (a cycle's come in pairs, alike legs
    of a tree repeat one) leaves the basis of its eigenspace to the solver,
    which follows the node order. Where LAPACK solves (up to 200 nodes with
    ``eigen_solver="auto"``) the embedding never cuts through such an
    eigenspace: it takes the whole of it (ARPACK may miss copies of a
    repeated eigenvalue), and "divisive" bisects a subgraph whose second
    eigenvalue repeats only along the one direction of its eigenspace that
    twins do not cancel, if there is one. When the embedding's eigenvalues
    repeat, ``n_init="auto"`` keeps the best of up to 100 k-means runs, each
    followed by Hartigan's single-point moves on up to 200 distinct points:
    one kind of partition over 40 random orders of cycles, prisms, a cube,
    a torus, a dodecahedron, the Tutte graph and the Petersen graph in 2 to
    5 clusters, including the Petersen graph in 2, whose best partition
    k-means++ with Lloyd's iteration reaches in about 3 runs of 1000. Some
    symmetric graphs still give more than one kind (see the user guide).

    Components: with fewer clusters than components, the ``k - 1`` largest
    components (by size, then volume) are clusters of their own and the rest
    share one. With more, each component has one cluster and every further
    cluster goes to the component with the largest ``size / (clusters + 1)``
    (the D'Hondt rule). Components of equal size and volume are ranked by
    the colours colour refinement gives their nodes, not by the node order;
    only components it cannot tell apart (isomorphic ones, for which either
    choice gives the same partition up to an automorphism, and rare
    regular-like pairs) are taken in the order of their first node.

    ``n_clusters="auto"`` (Saade, Krzakala and Zdeborova 2014; Le and
    Levina 2015) counts, on each component of 3 or more nodes, the negative
    eigenvalues of ``H(r) = (r^2 - 1) I - r A + D`` with
    ``r = sqrt(mean degree)``, and then each positive one at most half the
    next (a small community's eigenvalue, below the bulk). It still
    undercounts small communities in sparse graphs and overcounts on very
    skewed degrees (8 on political blogs); see the user guide for its hit
    rates.

    ``regularization="auto"`` costs six eigensolves (the three embeddings
    with ``tau = 0`` share one) and eight k-means runs per component
    instead of one of each. A component split into as many clusters as it
    has twin classes gets one per class, and a small component stored
    exactly as one already clustered takes its clusters, without that work
    (the results are the same).

    The weights are divided by the largest one before any arithmetic, which
    leaves the normalized Laplacians unchanged and keeps weights near the
    float maximum from overflowing. The eigensolver needs O(nnz * k) work
    per iteration; components and twins are found in O(nnz).

    References
    ----------
    Jin, J. (2015). Fast community detection by SCORE. Ann. Statist. 43(1).
    Le, C. M. and Levina, E. (2015). Estimating the number of communities in
    networks by spectral methods. arXiv:1507.00827.
    Qin, T. and Rohe, K. (2013). Regularized spectral clustering under the
    degree-corrected stochastic blockmodel. NeurIPS.
    Saade, A., Krzakala, F. and Zdeborova, L. (2014). Spectral clustering of
    graphs with the Bethe Hessian. NeurIPS.
    Shi, J. and Malik, J. (2000). Normalized cuts and image segmentation.
    IEEE Trans. Pattern Anal. Mach. Intell. 22(8).
    von Luxburg, U. (2007). A tutorial on spectral clustering. Stat. Comput.
    17(4).

    Examples
    --------
    >>> import numpy as np
    >>> from skclust import SpectralGraphClusterer
    >>> from skclust.datasets import load_karate_club
    >>> graph = load_karate_club()
    >>> model = SpectralGraphClusterer(2, random_state=0).fit(graph.adjacency)
    >>> int(np.sum(model.labels_ != graph.labels))
    1
    >>> SpectralGraphClusterer("auto", random_state=0).fit(graph.adjacency).n_clusters_
    2

    A star (node 4 joined to 0, 1 and 2) and an isolated node 3: two
    components, so two clusters are the components.

    >>> star = np.zeros((5, 5))
    >>> star[4, :3] = star[:3, 4] = 1
    >>> SpectralGraphClusterer(2, random_state=0).fit(star).labels_
    array([0, 0, 0, 1, 0], dtype=int32)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "affinity": [StrOptions({"auto", "precomputed", "rbf", "nearest_neighbors"})],
        "laplacian": [StrOptions({"regularized", "normalized"})],
        "regularization": [
            StrOptions({"auto", "mean_degree"}),
            Interval(Real, 0, None, closed="left"),
        ],
        "row_scaling": [StrOptions({"auto", "score", "unit", "degree", "none"})],
        "strategy": [StrOptions({"divisive", "kmeans"})],
        "n_components": [
            None,
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"eigengap"}),
        ],
        "eigen_solver": [StrOptions({"auto", "arpack", "dense"})],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        n_clusters: int | Literal["auto"] = 2,
        *,
        affinity: Literal["auto", "precomputed", "rbf", "nearest_neighbors"] = "auto",
        laplacian: Literal["regularized", "normalized"] = "regularized",
        regularization: Literal["auto", "mean_degree"] | float = "auto",
        row_scaling: Literal["auto", "score", "unit", "degree", "none"] = "auto",
        strategy: Literal["divisive", "kmeans"] = "kmeans",
        n_components: int | Literal["eigengap"] | None = None,
        eigen_solver: Literal["auto", "arpack", "dense"] = "auto",
        n_init: Literal["auto"] | int = "auto",
        gamma: float = 1.0,
        n_neighbors: int = 10,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.affinity = affinity
        self.laplacian = laplacian
        self.regularization = regularization
        self.row_scaling = row_scaling
        self.strategy = strategy
        self.n_components = n_components
        self.eigen_solver = eigen_solver
        self.n_init = n_init
        self.gamma = gamma
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        precomputed = self.affinity == "precomputed"
        # GridSearchCV slices a precomputed adjacency on both axes. "auto"
        # takes features too, so it does not declare square input.
        tags.input_tags.pairwise = precomputed
        tags.input_tags.positive_only = precomputed
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: MatrixLike, y: object = None) -> Self:
        """Cluster the nodes of a graph (or the points of ``X``).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_nodes, n_nodes) or \
(n_samples, n_features)
            The adjacency matrix when ``affinity="precomputed"`` (or "auto"
            and ``X`` is square), else features.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_graph(self._prepare(X))

    def _prepare(self, X):
        """The validated graph and what every k shares: components and twins."""
        check_not_graph_object(X, "X")
        # A square table of features read as a graph by "auto" was refused
        # as a negative or non-symmetric adjacency without saying why it
        # was read as one.
        hint = ""
        if self._resolved_affinity(X) == "precomputed":
            if self.affinity == "auto":
                hint = (
                    " (affinity='auto' reads a square X as an adjacency matrix; "
                    "give affinity='rbf' or 'nearest_neighbors' for a table of "
                    "features)"
                )
            X = validate_finite(
                self,
                X,
                "the adjacency matrix X",
                "finite edge weights",
                accept_sparse=("csr", "csc", "coo"),
                dtype=np.float64,
                ensure_min_samples=2,
            )
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "affinity='precomputed' needs a square adjacency matrix; got "
                    f"shape {X.shape}"
                )
            try:
                check_non_negative(X, f"{type(self).__name__} (precomputed adjacency)")
            except ValueError as error:
                raise ValueError(f"{error}{hint}") from None
            adjacency = _without_diagonal(X)
        else:
            X = validate_finite(
                self, X, accept_sparse=("csr", "csc"), ensure_min_samples=2
            )
            adjacency = _without_diagonal(
                _feature_graph(
                    X, self._resolved_affinity(X), self.gamma, self.n_neighbors
                )
            )
        with np.errstate(over="ignore"):
            row_sums = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
        adjacency, scale = _scaled(adjacency)
        try:
            adjacency = _symmetric(adjacency)
        except ValueError as error:
            raise ValueError(f"{error}{hint}") from None
        return _prepare_graph(
            adjacency,
            scale,
            row_sums,
            self.n_features_in_,
            getattr(self, "feature_names_in_", None),
        )

    def _resolved_affinity(self, X):
        """``affinity``, with "auto" read off the shape of ``X``."""
        if self.affinity != "auto":
            return self.affinity
        shape = X.shape if hasattr(X, "shape") else np.shape(X)
        return "precomputed" if len(shape) == 2 and shape[0] == shape[1] else "rbf"

    def _fit_graph(self, graph):
        """Fit from a graph of :func:`_prepare_graph`; the sweep's entry point."""
        self._validate_params()
        # Features give an n x n graph from n rows of d columns; a square X
        # is what "auto" reads as the adjacency matrix itself.
        n_nodes = graph.adjacency.shape[0]
        self.affinity_ = self.affinity
        if self.affinity == "auto":
            square = graph.n_features_in == n_nodes
            self.affinity_ = "precomputed" if square else "rbf"
        if isinstance(self.n_clusters, (bool, np.bool_)):
            # bool is an Integral to Python; scikit-learn refuses it as a count.
            raise ValueError(
                f"n_clusters must be an int of at least 1 or 'auto'; got "
                f"{self.n_clusters!r}"
            )
        self.n_features_in_ = graph.n_features_in
        if graph.feature_names_in is not None:
            self.feature_names_in_ = graph.feature_names_in
        self.input_row_sums_ = graph.row_sums
        if isinstance(self.n_components, Integral) and self.n_components > n_nodes:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of "
                f"nodes ({n_nodes})"
            )
        eigen_seed, kmeans_seed = self._seeds()
        with _blas_threads_for(n_nodes):
            counts = None
            if self.n_clusters == "auto":
                # Each component gets its own count; the allocation by size
                # of a fixed k gave a large component counted 1 the clusters
                # that small ones were counted (500 paths of 4 nodes, each
                # counted 2, beside a 2000-node graph: 500 clusters in the
                # graph, the paths whole, 75 s).
                counts = self._auto_n_clusters(graph, eigen_seed)
                k = int(counts.sum())
            else:
                k = int(self.n_clusters)
                _check_reachable(k, graph)
            self.regularization_ = graph.scale * _regularization(
                graph.degree, self.laplacian, self._tau_parameter(graph)
            )
            labels, values = self._cluster_components(
                graph, k, (eigen_seed, kmeans_seed), counts
            )
            self.eigenvalues_ = self._smallest_eigenvalues(graph, k, eigen_seed, values)
        order = np.argsort(graph.components, kind="stable")
        bounds = np.cumsum(graph.sizes)[:-1]
        # int32, as scikit-learn's SpectralClustering.labels_.
        self.labels_ = _first_appearance_labels(labels).astype(np.int32)
        self.n_clusters_ = k
        self.n_connected_components_ = graph.sizes.shape[0]
        self.connected_components_ = np.split(order, bounds)
        return self

    def _seeds(self):
        random_state = check_random_state(self.random_state)
        return random_state.randint(np.iinfo(np.int32).max, size=2)

    def _tau_parameter(self, graph):
        """``regularization`` in the units of the scaled weights."""
        if isinstance(self.regularization, str):
            return self.regularization
        return float(self.regularization) / graph.scale

    def _row_scaling(self):
        if self.row_scaling != "auto":
            return self.row_scaling
        return "score" if self.laplacian == "regularized" else "none"

    def _components_rule(self, strategy):
        """``n_components`` with None resolved for ``strategy``."""
        if self.n_components is not None:
            return self.n_components
        return "eigengap" if strategy == "divisive" else None

    def _auto_n_clusters(self, graph, eigen_seed):
        """Communities of each component by the Bethe Hessian, at least one."""
        counts = np.ones(graph.sizes.shape[0], dtype=np.intp)
        counted = _Repeats()
        for c, nodes in enumerate(_component_nodes(graph)):
            capacity = int(graph.capacities[c])
            if nodes.shape[0] < 3 or capacity < 2:
                continue
            sub = _subgraph(graph.adjacency, nodes)
            limit = min(capacity, _AUTO_MAX_PER_COMPONENT)
            counts[c] = counted.get(
                (sub, limit),
                partial(
                    _bethe_hessian_count, sub, self.eigen_solver, eigen_seed, limit
                ),
            )
        return counts

    def _cluster_components(self, graph, k, seeds, counts=None):
        """Labels: whole components up to their number, then split inside.

        ``counts``, the clusters of each component ("auto"), or else
        :func:`_allocate_clusters` shares ``k`` among them. Sets
        ``embedding_`` and ``n_components_`` from the component that holds
        the most clusters. Returns the labels and, for a connected graph, its
        eigenvalues (else None).
        """
        n_nodes, n_comp = graph.adjacency.shape[0], graph.sizes.shape[0]
        self.embedding_, self.n_components_ = np.zeros((n_nodes, 0)), 0
        if k <= n_comp:
            labels = _merge_components(
                k, graph.components, graph.sizes, graph.volumes, graph.shapes
            )
            return labels, None
        if counts is None:
            counts = _allocate_clusters(
                k, graph.sizes, graph.volumes, graph.capacities, graph.shapes
            )
        tau = self._tau_parameter(graph)
        labels = np.empty(n_nodes, dtype=np.intp)
        n_used, values = 0, None
        # The first component of the most clusters gives embedding_.
        lead = int(np.argmax(counts))
        fitted = _Repeats()
        for c, nodes in enumerate(_component_nodes(graph)):
            k_c, classes = int(counts[c]), graph.classes[nodes]
            if k_c == 1:
                labels[nodes] = n_used
            elif c != lead and _twins_decide(k_c, graph.capacities[c]):
                labels[nodes] = n_used + _class_index(classes)
            else:
                # A connected graph is its own component: no copy.
                sub = (
                    graph.adjacency
                    if n_comp == 1
                    else _subgraph(graph.adjacency, nodes)
                )
                fit = fitted.get(
                    (sub, k_c, _class_index(classes)),
                    partial(self._cluster_connected, sub, k_c, classes, tau, seeds),
                )
                labels[nodes] = n_used + fit.labels
                if c == lead:
                    self.embedding_ = np.zeros((n_nodes, fit.embedding.shape[1]))
                    self.embedding_[nodes] = fit.embedding
                    self.n_components_ = fit.dimension
                    if self.regularization == "auto":
                        self.regularization_ = graph.scale * fit.tau
                    values = fit.values if n_comp == 1 else None
            n_used += k_c
        return labels, values

    def _cluster_connected(self, adjacency, k, classes, tau_parameter, seeds):
        """``k`` clusters of a connected graph; twins always share one.

        The work is done on the nodes in canonical order
        (:func:`_canonical_order`), so that their numbering cannot change the
        clusters. Returns a :class:`_ComponentFit`, in the given order.
        """
        order = _canonical_order(adjacency)
        fit = self._cluster_ordered(
            _subgraph(adjacency, order), k, classes[order], tau_parameter, seeds
        )
        back = np.empty_like(order)
        back[order] = np.arange(order.shape[0])
        return fit._replace(labels=fit.labels[back], embedding=fit.embedding[back])

    def _cluster_ordered(
        self, adjacency, k, classes, tau_parameter, seeds, flat=False, strategy=None
    ):
        """:meth:`_cluster_connected` on a graph already in canonical order.

        ``flat`` forces k-means on ``k`` eigenvectors whatever the strategy
        (the fallback of "divisive"); ``strategy`` replaces the estimator's.
        """
        n = adjacency.shape[0]
        degree = _degrees(adjacency)
        strategy = self.strategy if strategy is None else strategy
        flat = flat or strategy == "kmeans"
        rule = (
            None if flat and strategy != "kmeans" else self._components_rule(strategy)
        )
        embed = partial(
            self._embed_and_cluster, adjacency, degree, k, classes, seeds, flat, rule
        )
        if flat and self._adapts_regularization(tau_parameter, n):
            count = _community_counter(adjacency, self.eigen_solver, seeds[0])
            if _shows_no_community(count):
                return self._cluster_ordered(
                    adjacency, k, classes, _NO_COMMUNITY_TAU, seeds, strategy="divisive"
                )
            # The candidates with tau = 0 share one eigensolve.
            embed = partial(embed, spectra={})
            fits = [
                embed(tau, scaling)
                for tau, scaling in _candidate_embeddings(degree, self.row_scaling)
            ]
            n_plain = len(_PLAIN_EMBEDDINGS) if self.row_scaling == "auto" else 0
            few = partial(_shows_few_communities, count, k)
            return _most_modular(adjacency, fits, n_plain, few)
        tau = _regularization(degree, self.laplacian, tau_parameter)
        top, fit = embed(tau, self._row_scaling())
        if top is None:
            return fit
        bisect = partial(
            _bisect_subgraph,
            adjacency,
            laplacian=(self.laplacian, tau_parameter),
            row_scaling=self._row_scaling(),
            solver=self.eigen_solver,
            seed=seeds[0],
            classes=classes,
        )
        try:
            return fit._replace(labels=_Division(top, bisect).labels_at(k))
        except ValueError:
            # No cluster splits any further by bisection (each has no edges
            # inside or one coordinate): k-means on k eigenvectors instead.
            return self._cluster_ordered(
                adjacency, k, classes, tau_parameter, seeds, True, strategy
            )

    def _adapts_regularization(self, tau_parameter, n_nodes):
        return (
            tau_parameter == "auto"
            and self.laplacian == "regularized"
            and n_nodes <= _AUTO_TAU_MAX_NODES
        )

    def _embed_and_cluster(
        self,
        adjacency,
        degree,
        k,
        classes,
        seeds,
        flat,
        rule,
        tau,
        scaling,
        spectra=None,
    ):
        """Embedding with ``tau`` and ``scaling``, and k-means on it.

        ``spectra``, a dict shared between calls, keeps the eigenpairs by
        ``(tau, number)`` (and by ``tau`` all the eigenvalues, if read):
        calls with the same ``tau`` solve once. Returns
        ``(None, fit)`` when k-means made the ``k`` clusters, else ``(top,
        fit)`` with the ``min(k, d)`` top-level labels that "divisive"
        refines (``fit.labels`` is then ``top``).
        """
        n = adjacency.shape[0]
        # Built when a solve needs it: the plain candidates (tau = 0) find
        # the eigenpairs of the first one with tau = 0 in ``spectra``.
        affinity = cache(partial(_normalized_affinity, adjacency, degree, tau))
        solver = _choose_solver(self.eigen_solver, n)
        # With LAPACK (small graphs) an embedding that would cut through a
        # repeated eigenvalue takes the whole eigenspace instead. ARPACK may
        # miss copies of a repeated eigenvalue.
        whole = solver == "dense"
        n_eigen = _n_eigen(rule, k, n)
        spectra = {} if spectra is None else spectra
        while True:
            if (tau, n_eigen) not in spectra:
                spectra[tau, n_eigen] = _leading_eigenpairs(
                    affinity(), n_eigen, solver, seeds[0]
                )
            values, vectors = spectra[tau, n_eigen]
            dimension = _embedding_dimension(rule, values, k, n)
            n_top = k if flat else min(k, dimension)
            if whole:
                dimension = _whole_eigenspaces(values, dimension)
                if dimension == n_eigen < n:
                    # Where the last eigenspace ends is read off all the
                    # eigenvalues, one values-only solve per tau (the
                    # candidates with tau = 0 share it): doubling n_eigen
                    # took a dozen solves on a Paley graph (multiplicity 98).
                    if (tau, "spectrum") not in spectra:
                        spectra[tau, "spectrum"] = _descending_eigenvalues(affinity())
                    end = _whole_eigenspaces(spectra[tau, "spectrum"], n_eigen)
                    if end > n_eigen:
                        n_eigen = end
                        continue
            vectors = _twin_directions_last(
                values[:dimension], vectors[:, :dimension], _class_index(classes)
            )
            embedding = _rounded(
                _spectral_embedding(values, vectors, dimension, scaling, degree + tau)
            )
            points, weights, class_index = _class_points(embedding, classes)
            if np.unique(points, axis=0).shape[0] >= n_top:
                top = self._top_clusters(
                    values[:dimension],
                    vectors[:, :dimension],
                    points,
                    weights,
                    class_index,
                    n_top,
                    seeds[1],
                )
                # k-means tells points apart only within the float precision
                # of the spread of them all: rows divided by the square root
                # of degrees that span 1e180 ("degree") spread over 1e90, and
                # the points near 0 merged, leaving a cluster empty.
                if np.unique(top).shape[0] == n_top:
                    break
            # Too few distinct points: more eigenvectors, and at the end
            # plain ones (every class has its own row in a full basis, of
            # coordinates at most 1).
            if n_eigen == n and dimension == n and scaling == "none":
                raise ValueError(
                    f"n_clusters={k}: the spectral embedding of a {n}-node "
                    f"component has fewer than {n_top} points that k-means "
                    "tells apart"
                )
            if n_eigen == n:
                scaling = "none"
            n_eigen = rule = min(2 * n_eigen, n)
        top = top[class_index]
        fit = _ComponentFit(top, embedding, dimension, values, tau)
        return (None, fit) if n_top == k else (top, fit)

    def _top_clusters(
        self, values, vectors, points, weights, class_index, n_clusters, seed
    ):
        """k-means labels of the distinct points of an embedding.

        With ``n_init="auto"``, the runs and the choice of Hartigan's moves
        follow the eigenvalues ``values`` of the embedding's eigenvectors
        ``vectors`` (see :func:`_auto_runs`).
        """
        n_init = self.n_init
        hartigan = False
        if n_init == "auto":
            n_init = _auto_runs(values, vectors, class_index, weights)
            # Repeated eigenvalues: Lloyd's local optima follow the node order
            # (see _hartigan); Hartigan's moves settle them, where they are
            # cheap (see HARTIGAN_MAX_POINTS).
            hartigan = n_init != "auto" and points.shape[0] <= HARTIGAN_MAX_POINTS
        return self._kmeans_labels(points, weights, n_clusters, seed, n_init, hartigan)

    def _kmeans_labels(self, points, weights, n_clusters, seed, n_init, hartigan=False):
        """k-means labels of weighted points, fitted in sorted order.

        k-means++ seeding follows the order of the rows; sorting the points
        makes the result independent of the order of the nodes. With
        ``hartigan``, each of the ``n_init`` seedings is followed by
        Hartigan's single-point moves instead of Lloyd's iteration.
        """
        order = np.lexsort(points.T[::-1])
        if hartigan:
            fitted = hartigan_kmeans(
                points[order], weights[order], n_clusters, n_init, seed
            )
        else:
            # Lloyd also on one coordinate (k = 2 of SCORE's ratios): the
            # suite's figures were measured with it; the exact 1-D optimum
            # of KMeansL2's "auto" has not been compared there.
            fitted = (
                KMeansL2(
                    n_clusters,
                    n_init=n_init,
                    random_state=seed,
                    n_jobs=self.n_jobs,
                    algorithm="lloyd",
                )
                .fit(points[order], sample_weight=weights[order])
                .labels_
            )
        labels = np.empty(points.shape[0], dtype=np.intp)
        labels[order] = fitted
        return labels

    def _smallest_eigenvalues(self, graph, k, eigen_seed, known):
        """The ``k`` smallest eigenvalues of the chosen Laplacian of the graph.

        ``known``, the affinity's eigenvalues of a connected graph computed for
        the clusters, serves when it holds enough; else one eigensolve per
        component of two or more nodes (see :func:`_spectrum_by_component`).
        """
        n_values = min(k, graph.adjacency.shape[0])
        if known is not None and known.shape[0] >= n_values:
            return 1.0 - known[:n_values]
        tau = self.regularization_ / graph.scale
        affinity = _normalized_affinity(graph.adjacency, graph.degree, tau)
        values = _spectrum_by_component(
            affinity, graph, n_values, self.eigen_solver, eigen_seed
        )
        return 1.0 - values


# Components of at most this many nodes have their spectra solved together,
# as a stack of dense blocks, one LAPACK call per size: one solve (and one
# subgraph) each took 4.5 s for 20000 triangles beside a 5000-node graph,
# against 2.8 s for the single solve on the whole graph that missed zeros.
_STACKED_COMPONENT_SIZE = 16


def _spectrum_by_component(affinity, graph, n_values, solver, seed):
    """The ``n_values`` largest eigenvalues of a graph's affinity, descending.

    The affinity of a disconnected graph is block diagonal, so its spectrum
    is the union of its components': an isolated node's eigenvalue is its
    diagonal entry, small components are solved together as a stack of
    dense blocks (:func:`_stacked_spectra`), and each larger one on its
    own, for at most ``n_values``. One solve on the whole graph missed
    copies of repeated eigenvalues, and asked ARPACK for nearly as many
    eigenpairs as nodes when most nodes were isolated ("auto" counts one
    cluster each): 213 s for 3000 nodes of which 20 had edges.
    """
    sizes = graph.sizes
    values = [affinity.diagonal()[sizes[graph.components] == 1]]
    components = _component_nodes(graph)
    small = np.unique(sizes[(sizes > 1) & (sizes <= _STACKED_COMPONENT_SIZE)])
    if small.size:
        matrix = sparse.csr_array(affinity)
        for size in small:
            members = np.concatenate(
                [components[c] for c in np.flatnonzero(sizes == size)]
            )
            values.append(_stacked_spectra(matrix, members, int(size)))
    large = [nodes for nodes in components if nodes.shape[0] > _STACKED_COMPONENT_SIZE]
    values += _needed_top_values(affinity, large, values, n_values, solver, seed)
    return np.sort(np.concatenate(values))[::-1][:n_values]


# A component of more nodes than this share of the values asked for has its
# values computed by LAPACK on a dense copy (up to _DENSE_FALLBACK_MAX_NODES
# nodes): ARPACK's cost grows faster than the count (on a 2000-node graph
# 0.4 s for 100 values, 4.7 s for 400, against 0.6 s for all of them).
_DENSE_VALUES_SHARE = 12


def _needed_top_values(affinity, components, known, n_values, solver, seed):
    """Each component's largest eigenvalues, as many as the graph's top needs.

    ``known`` holds the other components' eigenvalues. A component is asked
    for what the others leave (at least 8), and for twice as many while its
    smallest value so far lies above the ``n_values``-th largest of all
    values found: 500 four-node paths beside a 2000-node graph needed 8
    values of it, where asking for all 1005 took 14 s.
    """
    others = sum(v.shape[0] for v in known)
    blocks = [_subgraph(affinity, nodes) for nodes in components]
    limits = [min(n_values, block.shape[0]) for block in blocks]
    counts = [min(limit, max(8, n_values - others)) for limit in limits]
    solved = [None] * len(blocks)
    pending = range(len(blocks))
    while pending:
        for i in pending:
            solved[i] = _leading_values(blocks[i], counts[i], solver, seed)
        found = np.concatenate([*known, *solved])
        threshold = (
            np.partition(found, found.shape[0] - n_values)[found.shape[0] - n_values]
            if found.shape[0] >= n_values
            else -np.inf
        )
        pending = [
            i
            for i in range(len(blocks))
            if counts[i] < limits[i] and solved[i][-1] > threshold
        ]
        for i in pending:
            counts[i] = min(2 * counts[i], limits[i])
    return solved


def _leading_values(block, count, solver, seed):
    """The ``count`` largest eigenvalues of a component's affinity, descending."""
    n = block.shape[0]
    solver = _choose_solver(solver, n)
    many = count * _DENSE_VALUES_SHARE > n and n <= _DENSE_FALLBACK_MAX_NODES
    if solver == "dense" or many:
        return _dense_eigh(block, n - count, n - 1, eigvals_only=True)[::-1]
    values, _ = _leading_eigenpairs(block, count, solver, seed)
    return values


def _stacked_spectra(matrix, members, size):
    """Eigenvalues of the components of ``size`` nodes listed in ``members``.

    ``matrix`` is the affinity as a CSR array; ``members`` holds the nodes,
    component after component. The entries among them fill a stack of
    ``size x size`` blocks, one per component.
    """
    entries = matrix[members][:, members].tocoo()
    stack = np.zeros((members.shape[0] // size, size, size))
    stack[entries.row // size, entries.row % size, entries.col % size] = entries.data
    return np.linalg.eigvalsh(stack).ravel()


# Features whose largest magnitude lies outside this range are divided by it
# before distances are taken; inside it the graph is computed as given.
_PLAIN_FEATURE_RANGE = (1e-100, 1e100)


def _feature_graph(X, affinity, gamma, n_neighbors):
    """The graph of a table of features: Gaussian kernel or nearest neighbours.

    scikit-learn's squared distances expand ``|x|^2 - 2 x.y + |y|^2``: with
    features near 1e154 the squared norms overflow and inf - inf is NaN
    (the kernel then failed in LAPACK and the neighbours were wrong without
    a word); near 1e-162 distinct points are at distance 0. Neighbours do
    not depend on the scale of the features and the kernel takes ``gamma``
    times its square, so such features are divided by their largest
    magnitude first.
    """
    values = X.data if sparse.issparse(X) else X
    scale = float(np.max(np.abs(values), initial=0.0))
    low, high = _PLAIN_FEATURE_RANGE
    if scale == 0.0 or low <= scale <= high:
        scale = 1.0
    elif sparse.issparse(X):
        # scipy divides by multiplying with 1 / scale: inf for a subnormal one.
        X = X.copy()
        X.data /= scale
    else:
        X = X / scale
    if affinity == "nearest_neighbors":
        knn = kneighbors_graph(X, n_neighbors, include_self=True)
        return 0.5 * (knn + knn.T)
    if scale == 1.0:
        return rbf_kernel(X, gamma=gamma)
    squared = euclidean_distances(X, squared=True)
    # Points at distance 0 have kernel 1 even where the factor is inf.
    apart = squared > 0
    with np.errstate(over="ignore"):
        exponent = np.multiply(
            -gamma * scale * scale, squared, where=apart, out=np.zeros_like(squared)
        )
        return np.exp(exponent, where=apart, out=np.ones_like(squared))


class _ComponentFit(NamedTuple):
    """Clusters of one connected component and what they came from."""

    labels: np.ndarray
    embedding: np.ndarray
    dimension: int
    values: np.ndarray
    tau: float


# Components of at most this many nodes are looked up among those already
# fitted (see _Repeats): the small components of a graph are often the same
# matrix (paths, stars, cycles read from an edge list in order), and a fit
# of a tiny one costs eight eigensolves, eight k-means fits and eight
# modularities (about 20 ms: 300 four-node paths took 5.5 s). Larger
# components rarely repeat, and the lookup would copy their matrices.
_REPEATS_MAX_NODES = 200


class _Repeats:
    """Results computed for small components, looked up by their exact inputs.

    Two components whose adjacency is stored alike (the same entries in the
    same places, so the same node order) and whose other inputs are equal
    get the same result from every computation of a fit, whose seeds all
    components share: the later one takes the earlier one's. Only equal
    bytes match; no isomorphism is guessed, so no result changes.
    """

    def __init__(self):
        self._results = {}

    def get(self, inputs, compute):
        """``compute()``, or the result it gave for equal ``inputs`` before.

        ``inputs`` holds the component's adjacency (CSR or dense) first, then
        ints and arrays. Components of more than ``_REPEATS_MAX_NODES`` nodes
        are computed each time.
        """
        if inputs[0].shape[0] > _REPEATS_MAX_NODES:
            return compute()
        key = _exact_key(inputs)
        if key not in self._results:
            self._results[key] = compute()
        return self._results[key]


def _exact_key(inputs):
    """Hashable bytes of matrices, arrays and ints, equal only for equal inputs."""
    parts = []
    for item in inputs:
        if sparse.issparse(item):
            arrays = (item.indptr, item.indices, item.data)
        elif isinstance(item, np.ndarray):
            arrays = (np.ascontiguousarray(item),)
        else:
            parts.append(int(item))
            continue
        parts.append((type(item).__name__, getattr(item, "format", ""), item.shape))
        parts.extend((array.dtype.str, array.tobytes()) for array in arrays)
    return tuple(parts)


def _twins_decide(n_clusters, capacity):
    """Whether a component's clusters can only be its twin classes.

    Twins are never separated and every cluster is made, so a component
    split into as many clusters as it has twin classes gets one per class,
    whatever the embedding: only the component that gives ``embedding_``
    needs a fit then (a star in two clusters, a cycle of four, a path of
    three). The lookup of :class:`_Repeats` cannot catch these when the
    node orders differ.
    """
    return n_clusters == capacity


def _candidate_embeddings(degree, row_scaling):
    """The ``(tau, row scaling)`` pairs that ``regularization="auto"`` tries.

    ``tau`` is each of ``_AUTO_TAU_FACTORS`` times the mean degree, the
    first being the mean degree itself; with ``row_scaling="auto"`` they get
    SCORE ratios, and the plain normalized embedding (``tau = 0``) is tried
    too, with rows as they are and divided by the square root of the degree
    (the random walk's eigenvectors, as scikit-learn's), last.
    """
    mean = float(degree.mean())
    if row_scaling == "auto":
        pairs = [(f * mean, "score") for f in _AUTO_TAU_FACTORS]
        return [*pairs, *_PLAIN_EMBEDDINGS]
    return [(f * mean, row_scaling) for f in _AUTO_TAU_FACTORS]


def _community_counter(adjacency, solver, seed):
    """``count(limit)``: the Bethe Hessian count of ``n_clusters="auto"``
    (:func:`_bethe_hessian_count`) up to ``limit``, made once per limit;
    None for graphs too small to count and when the eigensolver resolves
    none of the values."""

    @cache
    def count(limit):
        if adjacency.shape[0] < 3:
            return None
        try:
            return _bethe_hessian_count(adjacency, solver, seed, limit)
        except EigensolverError:
            return None

    return count


def _shows_no_community(count):
    """Whether ``count`` (a :func:`_community_counter`) finds one community."""
    return count(2) == 1


def _shows_few_communities(count, k):
    """Whether ``count`` (a :func:`_community_counter`) finds at most
    ``k * _FEW_SHARE`` communities, asked only as far as the answer needs."""
    most = int(k * _FEW_SHARE)
    if most < 1:
        return False
    found = count(most + 1)
    return found is not None and found <= most


def _most_modular(adjacency, fits, n_plain, few=None):
    """The fit whose clusters have the highest modularity, in two steps.

    ``fits`` holds ``(None, fit)`` pairs, the mean-degree fit first and the
    ``n_plain`` plain normalized fits last. Among the regularized fits,
    another replaces the mean degree's only if its modularity is higher by
    more than ``_MODULARITY_MARGIN`` (relative); each plain fit then
    replaces the one kept if its modularity is higher at all. Modularities
    are rounded so that the summation order (the node order) cannot decide
    between equal partitions.

    ``few``, called without arguments, says whether the graph shows few of
    the communities asked for (:func:`_shows_few_communities`); where it
    does, the mean degree is kept unless the fit chosen is more modular by
    more than ``_FEW_MARGIN``. It is called only where that could change
    the choice.
    """
    # Candidates often agree on the partition: each labelling is scored once.
    scored = {}
    for _, fit in fits:
        key = fit.labels.tobytes()
        if key not in scored:
            scored[key] = round(modularity(adjacency, fit.labels), _MODULARITY_DECIMALS)
    scores = [scored[fit.labels.tobytes()] for _, fit in fits]
    n_regularized = len(scores) - n_plain
    best = int(np.argmax(scores[:n_regularized]))
    if scores[best] <= scores[0] + _MODULARITY_MARGIN * abs(scores[0]):
        best = 0
    for plain in range(n_regularized, len(scores)):
        if scores[plain] > scores[best]:
            best = plain
    if (
        few is not None
        and best != 0
        and scores[best] <= scores[0] + _FEW_MARGIN * abs(scores[0])
        and few()
    ):
        best = 0
    return fits[best][1]


def _class_index(classes):
    """Each node's twin class as 0, 1, ... in the order of the class labels."""
    _, index = np.unique(classes, return_inverse=True)
    return index.ravel()


def _class_points(embedding, classes):
    """One point per twin class (the mean of its rows) and its weight.

    Returns the points, their weights (class sizes) and each node's row in
    them.
    """
    index = _class_index(classes)
    weights = np.bincount(index).astype(np.float64)
    points = np.zeros((weights.shape[0], embedding.shape[1]))
    np.add.at(points, index, embedding)
    points /= weights[:, None]
    return _rounded(points), weights, index


def _has_repeated_eigenvalue(values):
    """Whether two of the embedding's eigenvalues are equal up to rounding.

    The eigensolver's basis of a repeated eigenvalue's eigenspace follows the
    node order, so the embedding is only known up to a rotation of it (a
    cycle's eigenvalues come in pairs); one k-means run from a seeding that
    follows the coordinates then ends in partitions of different quality
    for different node orders.
    """
    ordered = np.sort(values)
    return bool(np.any(np.diff(ordered) <= _REPEAT_TOL))


def _auto_runs(values, vectors, class_index, weights):
    """``n_init="auto"``: "auto" (one run), or more where eigenvalues repeat.

    2000 / (distinct points) runs, between 10 and 100, when two of the
    embedding's eigenvalues whose eigenvectors twins do not cancel repeat.
    """
    seen = _seen_by_classes(vectors, class_index, weights)
    if not _has_repeated_eigenvalue(values[seen]):
        return "auto"
    return int(np.clip(_SYMMETRIC_POINT_RUNS // weights.shape[0], *_SYMMETRIC_RUNS))


def _seen_by_classes(vectors, class_index, weights):
    """Which eigenvectors have a non-zero mean over some twin class.

    The others differ between twins only (``e_u - e_v`` for twins ``u`` and
    ``v``, and their repeats): their part of every class's point is zero
    whatever basis the solver picks, so their repeats do not matter.
    """
    means = np.zeros((weights.shape[0], vectors.shape[1]))
    np.add.at(means, class_index, vectors)
    return np.abs(means / weights[:, None]).max(axis=0) > _REPEAT_TOL


def _whole_eigenspaces(values, dimension):
    """``dimension`` raised past eigenvalues equal to the last one it keeps.

    Cutting through a repeated eigenvalue's eigenspace keeps the part of it
    that the solver's basis puts first, which follows the node order; the
    whole eigenspace is the same subspace in every order. ``values`` are
    descending.
    """
    last = values[dimension - 1]
    while dimension < values.shape[0] and last - values[dimension] <= _REPEAT_TOL:
        dimension += 1
    return dimension


def _n_eigen(rule, n_clusters, n_nodes):
    """Eigenpairs to compute for ``n_clusters`` (one more for the gap)."""
    if rule is None:
        return min(n_clusters, n_nodes)
    if rule == "eigengap":
        # Up to 2 clusters the embedding uses n_clusters eigenvectors.
        return n_clusters if n_clusters <= 2 else min(n_clusters + 1, n_nodes)
    return min(max(n_clusters, rule), n_nodes)


def _embedding_dimension(rule, values, n_clusters, n_nodes):
    """Eigenvectors in the embedding: ``n_clusters``, a fixed number or the gap."""
    if rule is None:
        return min(n_clusters, n_nodes)
    if rule != "eigengap":
        return min(rule, values.shape[0])
    if n_clusters <= 2 or values.shape[0] <= n_clusters:
        return n_clusters
    # values are the affinity's eigenvalues, descending: the Laplacian's
    # ascending. The gap after d is values[d - 1] - values[d].
    gaps = values[1:n_clusters] - values[2 : n_clusters + 1]
    # The first of gaps equal up to rounding, so the eigensolver's rounding
    # (which follows the node order) does not pick among them.
    return 2 + int(np.argmax(gaps >= gaps.max() - _GAP_TIE_TOL))


def max_n_clusters(adjacency):
    """The largest number of clusters a graph can be split into.

    Nodes with the same neighbours (twins) are never separated and each
    connected component counts on its own, so this is the number of twin
    classes summed over the components; a larger ``n_clusters`` is refused
    by :meth:`SpectralGraphClusterer.fit`.

    Parameters
    ----------
    adjacency : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric and non-negative.

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._spectral import max_n_clusters
    >>> star = np.zeros((5, 5))
    >>> star[0, 1:] = star[1:, 0] = 1
    >>> max_n_clusters(star)
    2
    """
    # "precomputed": the message for a bad matrix must not speak of an
    # affinity this function does not take, and features are no adjacency.
    graph = SpectralGraphClusterer(affinity="precomputed")._prepare(adjacency)
    return int(graph.capacities.sum())


def sweep_n_clusters(
    estimator: SpectralGraphClusterer, X: MatrixLike, n_clusters: Iterable[int]
) -> list[SpectralGraphClusterer]:
    """Fit a :class:`SpectralGraphClusterer` for several k, sharing the graph.

    The input is validated, and its connected components and twin classes
    computed, once; each k then gets its own eigendecomposition and k-means,
    exactly as a fit for that k alone. Each returned estimator equals
    ``clone(estimator).set_params(n_clusters=k).fit(X)``: the result for one
    k never depends on the other k of the sweep.

    Parameters
    ----------
    estimator : SpectralGraphClusterer
        Template; its ``n_clusters`` is ignored. Any other estimator is
        refused with a ``TypeError``.
    X : array-like or sparse matrix
        As for :meth:`SpectralGraphClusterer.fit`.
    n_clusters : iterable of int

    Returns
    -------
    list of SpectralGraphClusterer
        Fitted, one per value of ``n_clusters``, in the order given.

    Examples
    --------
    >>> from skclust import SpectralGraphClusterer, sweep_n_clusters
    >>> from skclust.datasets import load_karate_club
    >>> graph = load_karate_club()
    >>> fits = sweep_n_clusters(SpectralGraphClusterer(random_state=0),
    ...                         graph.adjacency, [2, 3, 4])
    >>> [len(set(fit.labels_)) for fit in fits]
    [2, 3, 4]
    """
    if not isinstance(estimator, SpectralGraphClusterer):
        # A KMeansL2 failed with "'KMeansL2' object has no attribute
        # '_prepare'", a Pipeline with "Invalid parameter 'n_clusters'".
        raise TypeError(
            "sweep_n_clusters shares one graph among fits of a "
            f"SpectralGraphClusterer; got {type(estimator).__name__} (for "
            "k-means, skclust.model_selection.elbow fits several k)"
        )
    ks = _numbers_of_clusters(n_clusters)
    template = clone(estimator).set_params(n_clusters=max(ks))
    template._validate_params()
    graph = template._prepare(X)
    for k in ks:
        _check_reachable(k, graph)
    return [clone(estimator).set_params(n_clusters=k)._fit_graph(graph) for k in ks]


def _numbers_of_clusters(values):
    """The k of a sweep as ints; refused unless each is an integer >= 1.

    ``int()`` would turn 2.5 into 2 and True into 1 without a word.
    """
    ks = list(values)
    if not ks:
        raise ValueError("n_clusters is empty: give at least one number of clusters")
    for k in ks:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, Integral) or k < 1:
            raise ValueError(
                f"n_clusters must hold ints of at least 1 (a sweep does not "
                f"take 'auto'); got {k!r}"
            )
    return [int(k) for k in ks]
