"""SpectralGraphClusterer and the sweep over numbers of clusters.

The numerics live in :mod:`skclust._spectral._laplacian` (Laplacians, eigenpairs,
embeddings, connected components) and :mod:`skclust._spectral._divisive` (refinement by
spectral bisection). :class:`SpectralGraphClusterer` validates, orchestrates
and keeps the fitted state; :func:`sweep_n_clusters` fits many k from one
eigendecomposition.
"""

import warnings
from collections.abc import Iterable
from numbers import Integral, Real
from typing import ClassVar, Literal, Self

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import kneighbors_graph
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_non_negative, validate_data

from .._kmeans import KMeansL2
from .._sklearn_compat import Interval, StrOptions, _fit_context
from .._typing import MatrixLike, RandomStateLike
from ._divisive import _bisect_subgraph, _Division
from ._laplacian import (
    _EMBEDDING_DECIMALS,
    _blas_threads_for,
    _choose_solver,
    _components_from_spectrum,
    _degrees,
    _first_appearance_labels,
    _leading_eigenpairs,
    _normalized_affinity,
    _spectral_embedding,
    _without_diagonal,
)


def _row_sums(X):
    """Row sums of the training input, by which a scorer recognises it."""
    return np.asarray(X.sum(axis=1), dtype=np.float64).ravel()


class SpectralGraphClusterer(ClusterMixin, BaseEstimator):
    """Spectral clustering of a graph, robust to skewed degrees.

    The nodes are embedded with the leading eigenvectors of a graph Laplacian
    (computed with a sparse eigensolver) and the embedding is clustered with
    :class:`~skclust.KMeansL2`. The default, a degree-regularized Laplacian
    with SCORE ratios, keeps the low-degree nodes of real networks from
    forming clusters of their own; ``laplacian="normalized"`` gives the plain
    method of most textbooks. By default the clusters beyond the number of
    communities the spectrum shows are made by splitting those communities
    (``strategy="divisive"``) rather than by k-means across them. The
    connected components are read off the eigenvalues 0 of the normalized
    Laplacian.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters, at most the number of nodes.
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
          symmetric, non-negative); its diagonal is ignored.
        - "rbf": ``X`` holds features; the graph is the Gaussian kernel
          ``exp(-gamma |x - y|^2)``.
        - "nearest_neighbors": ``X`` holds features; the graph joins each
          point to its ``n_neighbors`` nearest neighbours (symmetrized).
    laplacian : {"regularized", "normalized"}, default="regularized"
        - "regularized": ``I - D_tau^-1/2 A D_tau^-1/2`` with
          ``D_tau = D + tau I`` (Chaudhuri, Chung and Tsiatas 2012; Qin and
          Rohe 2013). Adding ``tau`` to every degree damps the eigenvectors
          that live on a few low-degree nodes.
        - "normalized": the plain symmetric normalized Laplacian
          ``I - D^-1/2 A D^-1/2``.
    regularization : "mean_degree" or float, default="mean_degree"
        ``tau`` for ``laplacian="regularized"``: the mean degree, or a
        non-negative number. Ignored by "normalized".
    row_scaling : {"auto", "score", "unit", "none"}, default="auto"
        How eigenvectors become points (see Notes): "score" (ratios to the
        leading eigenvector), "unit" (rows scaled to length one) or "none".
        "auto" is "score" for the regularized Laplacian and "none" for the
        normalized one.
    strategy : {"divisive", "kmeans"}, default="divisive"
        - "kmeans": k-means into ``n_clusters`` clusters on the embedding of
          ``n_components`` eigenvectors, as scikit-learn's
          ``SpectralClustering``.
        - "divisive": k-means into ``min(n_clusters, n_components_)``
          clusters on that embedding (the top level), then, while clusters
          are missing, the cluster whose subgraph separates best into two
          (largest second eigenvalue of its own normalized affinity) is split
          by two-cluster spectral clustering of that subgraph. The
          clusterings for successive ``n_clusters`` are nested, so a cluster
          never mixes nodes that a coarser level separated.
    n_components : int, "eigengap" or None, default=None
        Number of eigenvectors in the embedding. None uses ``n_clusters``
        with ``strategy="kmeans"`` (as scikit-learn's
        ``SpectralClustering``) and "eigengap" with "divisive". "eigengap"
        uses the ``d`` between 2 and ``n_clusters`` after which the Laplacian
        spectrum has its largest gap (von Luxburg 2007): the number of
        communities the graph shows, which extra clusters then subdivide
        instead of following eigenvectors of noise. It changes nothing at
        ``n_clusters=2``.
    eigen_solver : {"auto", "arpack", "dense"}, default="auto"
        "arpack" is ``scipy.sparse.linalg.eigsh`` on the sparse matrix;
        "dense" is LAPACK on a dense copy. "auto" uses LAPACK up to 200
        nodes and ARPACK above: a large sparse graph is never densified.
    n_init : "auto" or int, default="auto"
        Runs of :class:`~skclust.KMeansL2` (k-means++ seeding) on the
        embedding; the run with the lowest inertia is kept. The bisections
        of ``strategy="divisive"`` are exact and need no runs. "auto" is one run,
        as for ``KMeansL2``: on the political blogs 1, 3 and 10 runs give the
        same mismatch within 0.4 points at every k from 2 to 50 (six seeds),
        while 10 runs cost about ten times as much k-means.
    gamma : float, default=1.0
        Kernel coefficient for ``affinity="rbf"``.
    n_neighbors : int, default=10
        Neighbours for ``affinity="nearest_neighbors"``.
    component_tol : float, default=1e-8
        Eigenvalues of the normalized Laplacian at most this are counted as
        zero when reading off the connected components.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolvers' start vectors and k-means.
    n_jobs : int, default=None
        Parallel k-means runs (passed to :class:`~skclust.KMeansL2`).

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        Cluster of each node, numbered in order of first appearance.
    embedding_ : ndarray of shape (n_nodes, n_dims)
        The points given to k-means (the top level with "divisive"):
        ``n_dims`` is ``n_components_``, or ``n_components_ - 1`` with SCORE
        ratios.
    eigenvalues_ : ndarray of shape (n_clusters,)
        The smallest eigenvalues of the chosen Laplacian, ascending.
    n_components_ : int
        Number of eigenvectors the embedding was built from.
    regularization_ : float
        The ``tau`` used (0 for the normalized Laplacian).
    n_connected_components_ : int
        Number of connected components of the graph.
    connected_components_ : list of ndarray
        Node indices of each component, in order of their first node.
    n_features_in_ : int
        Number of columns of ``X`` (the number of nodes when precomputed).
    affinity_ : str
        The affinity used: ``affinity``, with "auto" resolved.

    See Also
    --------
    sweep_n_clusters : Fit several numbers of clusters from one
        eigendecomposition.
    sklearn.cluster.SpectralClustering : scikit-learn's spectral clustering.

    Notes
    -----
    With ``mu_1 >= mu_2 >= ...`` the leading eigenvalues of
    ``D_tau^-1/2 A D_tau^-1/2`` and ``u_1, u_2, ...`` their eigenvectors, the
    SCORE embedding of node i is
    ``((mu_2 / mu_1) u_2(i) / u_1(i), ..., (mu_k / mu_1) u_k(i) / u_1(i))``,
    clipped to ``[-log n, log n]``. The ratio removes each node's degree
    factor, which all eigenvectors share (Jin 2015); the eigenvalue weights
    (Jin, Ke and Luo, SCORE+) keep the weaker eigenvectors from dominating
    when k exceeds the number of communities.

    On the political blogs network (1224 nodes with links) the plain
    normalized Laplacian puts the two-node component and a few dangling
    blogs in clusters of their own; at k = 2 it misclassifies 47.9% of the
    blogs, the default 4.2% (see the user guide).

    With ``strategy="divisive"`` each split is the two-cluster method applied
    to one cluster's own subgraph, with its own degrees and regularization:
    recursive spectral bisection (Shi and Malik 2000; Kannan, Vempala and
    Vetta 2004) started from the communities the eigengap shows. The
    coordinate is split by exact 2-means on the line, so the splits do not
    depend on k-means seeding. On a graph with ``d`` well-separated
    communities it gives the k-means result up to ``d`` clusters; beyond, the
    extra clusters subdivide communities, which k-means on eigenvectors of
    noise does not do. On political blogs this keeps the mismatch at or below
    its k = 2 value for every k. When the eigengap underestimates the number
    of communities (weak, balanced communities), "kmeans" can do better.

    The eigensolver needs O(nnz * n_clusters) work per iteration. The
    components need the eigenvalues 0 of the plain normalized Laplacian with
    their multiplicity, which ARPACK can miss; they come from LOBPCG, a block
    method, with a block of 8 doubled while it fills with zeros, so the work
    grows with the number of components.

    References
    ----------
    Jin, J. (2015). Fast community detection by SCORE. Ann. Statist. 43(1).
    Qin, T. and Rohe, K. (2013). Regularized spectral clustering under the
    degree-corrected stochastic blockmodel. NeurIPS.
    Kannan, R., Vempala, S. and Vetta, A. (2004). On clusterings: good, bad
    and spectral. J. ACM 51(3).
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
    >>> model.n_connected_components_
    1
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "affinity": [StrOptions({"auto", "precomputed", "rbf", "nearest_neighbors"})],
        "laplacian": [StrOptions({"regularized", "normalized"})],
        "regularization": [
            StrOptions({"mean_degree"}),
            Interval(Real, 0, None, closed="left"),
        ],
        "row_scaling": [StrOptions({"auto", "score", "unit", "none"})],
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
        "component_tol": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        affinity: Literal["auto", "precomputed", "rbf", "nearest_neighbors"] = "auto",
        laplacian: Literal["regularized", "normalized"] = "regularized",
        regularization: Literal["mean_degree"] | float = "mean_degree",
        row_scaling: Literal["auto", "score", "unit", "none"] = "auto",
        strategy: Literal["divisive", "kmeans"] = "divisive",
        n_components: int | Literal["eigengap"] | None = None,
        eigen_solver: Literal["auto", "arpack", "dense"] = "auto",
        n_init: Literal["auto"] | int = "auto",
        gamma: float = 1.0,
        n_neighbors: int = 10,
        component_tol: float = 1e-8,
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
        self.component_tol = component_tol
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
            with square ``X``), else features.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        adjacency, degree = self._graph(X)
        self._check_n_clusters([self.n_clusters], adjacency.shape[0])
        eigen_seed, kmeans_seed = self._seeds()
        with _blas_threads_for(adjacency.shape[0]):
            values, vectors = self._spectrum(
                adjacency, degree, self._n_eigen(self.n_clusters), eigen_seed
            )
            self._fit_components(adjacency, degree, eigen_seed)
            self._fit_clusters(adjacency, values, vectors, (eigen_seed, kmeans_seed))
        return self

    def _graph(self, X):
        """Validated, symmetric adjacency with zero diagonal, and its degrees."""
        self.affinity_ = self._resolved_affinity(X)
        if self.affinity_ == "precomputed":
            X = validate_data(
                self,
                X,
                accept_sparse=("csr", "csc", "coo"),
                dtype=np.float64,
                ensure_min_samples=2,
            )
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "affinity='precomputed' needs a square adjacency matrix; got "
                    f"shape {X.shape}"
                )
            check_non_negative(X, f"{type(self).__name__} (precomputed adjacency)")
            self._training_row_sums = _row_sums(X)
            adjacency = _symmetric(_without_diagonal(X))
        else:
            X = validate_data(
                self, X, accept_sparse=("csr", "csc"), ensure_min_samples=2
            )
            self._training_row_sums = _row_sums(X)
            if self.affinity_ == "rbf":
                adjacency = _without_diagonal(rbf_kernel(X, gamma=self.gamma))
            else:
                knn = kneighbors_graph(X, self.n_neighbors, include_self=True)
                adjacency = _without_diagonal(0.5 * (knn + knn.T))
        degree = _degrees(adjacency)
        if not np.any(degree > 0):
            raise ValueError("the graph has no edges: nothing to cluster")
        return adjacency, degree

    def _resolved_affinity(self, X):
        """``affinity``, with "auto" read off the shape of ``X``."""
        if self.affinity != "auto":
            return self.affinity
        shape = X.shape if sparse.issparse(X) else np.shape(X)
        return "precomputed" if len(shape) == 2 and shape[0] == shape[1] else "rbf"

    def _check_n_clusters(self, values, n_nodes):
        largest = max(values)
        if largest > n_nodes:
            raise ValueError(
                f"n_clusters={largest} is larger than the number of nodes ({n_nodes})"
            )
        if isinstance(self.n_components, Integral) and self.n_components > n_nodes:
            raise ValueError(
                f"n_components={self.n_components} is larger than the number of "
                f"nodes ({n_nodes})"
            )
        self._n_nodes = n_nodes

    def _components_rule(self):
        """``n_components`` with None resolved for the strategy."""
        if self.n_components is not None:
            return self.n_components
        return "eigengap" if self.strategy == "divisive" else None

    def _n_eigen(self, n_clusters):
        """Eigenpairs to compute for ``n_clusters`` (one more for the gap)."""
        rule = self._components_rule()
        if rule is None:
            return n_clusters
        if rule == "eigengap":
            # Up to 2 clusters the embedding uses n_clusters eigenvectors.
            return n_clusters if n_clusters <= 2 else min(n_clusters + 1, self._n_nodes)
        return max(n_clusters, rule)

    def _embedding_dimension(self, values, n_clusters):
        rule = self._components_rule()
        if rule is None:
            return n_clusters
        if rule != "eigengap":
            return rule
        if n_clusters <= 2 or values.shape[0] <= n_clusters:
            return n_clusters
        # values are the affinity's eigenvalues, descending: the Laplacian's
        # ascending. The gap after d is values[d - 1] - values[d].
        gaps = values[1:n_clusters] - values[2 : n_clusters + 1]
        return 2 + int(np.argmax(gaps))

    def _seeds(self):
        random_state = check_random_state(self.random_state)
        return random_state.randint(np.iinfo(np.int32).max, size=2)

    def _tau(self, degree):
        if self.laplacian == "normalized":
            return 0.0
        if self.regularization == "mean_degree":
            return float(degree.mean())
        return float(self.regularization)

    def _row_scaling(self):
        if self.row_scaling != "auto":
            return self.row_scaling
        return "score" if self.laplacian == "regularized" else "none"

    def _spectrum(self, adjacency, degree, n_eigen, seed):
        self.regularization_ = self._tau(degree)
        affinity = _normalized_affinity(adjacency, degree, self.regularization_)
        solver = _choose_solver(self.eigen_solver, adjacency.shape[0])
        return _leading_eigenpairs(affinity, n_eigen, solver, seed)

    def _fit_components(self, adjacency, degree, seed):
        labels, n_zero, merged = _components_from_spectrum(
            adjacency, degree, self.component_tol, self.eigen_solver, seed
        )
        n_components = int(labels.max()) + 1
        if merged:
            warnings.warn(
                f"{n_zero} eigenvalues of the normalized Laplacian are within "
                f"component_tol={self.component_tol} of 0 but edges join them "
                f"into {n_components} connected components: parts of the graph "
                "hang on very few edges. Lower component_tol to tell them apart.",
                RuntimeWarning,
                stacklevel=3,
            )
        order = np.argsort(labels, kind="stable")
        bounds = np.cumsum(np.bincount(labels))[:-1]
        self.n_connected_components_ = n_components
        self.connected_components_ = np.split(order, bounds)

    def _fit_clusters(self, adjacency, values, vectors, seeds, divisions=None):
        """Labels from the spectrum; ``divisions`` shares top levels in a sweep."""
        k = self.n_clusters
        dimension = self._embedding_dimension(values, k)
        embedding = np.round(
            _spectral_embedding(values, vectors, dimension, self._row_scaling()),
            _EMBEDDING_DECIMALS,
        )
        n_top = k if self.strategy == "kmeans" else min(k, dimension)
        divisions = {} if divisions is None else divisions
        if (dimension, n_top) not in divisions:
            top = self._top_level(embedding, n_top, seeds[1])
            divisions[dimension, n_top] = _Division(
                top, self._bisector(adjacency, seeds[0])
            )
        labels = divisions[dimension, n_top].labels_at(k)
        self.labels_ = _first_appearance_labels(labels)
        self.embedding_ = embedding
        self.eigenvalues_ = 1.0 - values[:k]
        self.n_components_ = dimension

    def _top_level(self, embedding, n_top, kmeans_seed):
        """k-means labels of the embedding into ``n_top`` clusters."""
        n_distinct = np.unique(embedding, axis=0).shape[0]
        if n_distinct < n_top:
            wanted = f"n_clusters={self.n_clusters}"
            if n_top != self.n_clusters:
                wanted += f" (top level: {n_top} clusters)"
            raise ValueError(
                f"{wanted} is larger than the number of distinct points "
                f"of the spectral embedding ({n_distinct}); nodes with the same "
                "neighbours share a point"
            )
        kmeans = KMeansL2(
            n_top, n_init=self.n_init, random_state=kmeans_seed, n_jobs=self.n_jobs
        ).fit(embedding)
        return kmeans.labels_

    def _bisector(self, adjacency, eigen_seed):
        """The function that bisects a cluster's subgraph for :class:`_Division`."""
        row_scaling = self._row_scaling()

        def bisect(nodes):
            return _bisect_subgraph(
                adjacency, nodes, self._tau, row_scaling, self.eigen_solver, eigen_seed
            )

        return bisect


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
            "skclust.datasets.graph_from_adjacency"
        )
    if gap == 0:
        return adjacency
    symmetric = (adjacency + adjacency.T) / 2
    return symmetric.tocsr() if sparse.issparse(symmetric) else symmetric


def sweep_n_clusters(
    estimator: SpectralGraphClusterer, X: MatrixLike, n_clusters: Iterable[int]
) -> list[SpectralGraphClusterer]:
    """Fit a :class:`SpectralGraphClusterer` for several k, sharing the spectrum.

    One eigendecomposition for the largest k serves every k (the leading
    eigenvectors for a smaller k are its first columns), and the connected
    components are computed once. With ``strategy="divisive"`` the k that
    share a top level share its k-means run and its bisections, so the whole
    sweep costs about one fit for the largest k. Each returned estimator is
    what
    ``clone(estimator).set_params(n_clusters=k).fit(X)`` gives, up to the
    eigensolver's rounding.

    Parameters
    ----------
    estimator : SpectralGraphClusterer
        Template; its ``n_clusters`` is ignored.
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
    ks = [int(k) for k in n_clusters]
    if not ks:
        raise ValueError("n_clusters is empty: give at least one number of clusters")
    base = clone(estimator).set_params(n_clusters=max(ks))
    base._validate_params()
    adjacency, degree = base._graph(X)
    base._check_n_clusters(ks, adjacency.shape[0])
    eigen_seed, kmeans_seed = base._seeds()
    with _blas_threads_for(adjacency.shape[0]):
        values, vectors = base._spectrum(
            adjacency, degree, base._n_eigen(max(ks)), eigen_seed
        )
        base._fit_components(adjacency, degree, eigen_seed)
        spectrum = (adjacency, values, vectors, (eigen_seed, kmeans_seed))
        divisions = {}
        return [_fit_from_spectrum(estimator, base, k, spectrum, divisions) for k in ks]


def _fit_from_spectrum(estimator, base, k, spectrum, divisions):
    """A clone of ``estimator`` fitted for ``k`` from ``base``'s spectrum.

    ``divisions`` holds the top levels already clustered and their splits,
    shared by the k of one sweep.
    """
    model = clone(estimator).set_params(n_clusters=k)
    model._validate_params()
    for name in (
        "_training_row_sums",
        "n_features_in_",
        "regularization_",
        "n_connected_components_",
        "connected_components_",
        "_n_nodes",
    ):
        setattr(model, name, getattr(base, name))
    if hasattr(base, "feature_names_in_"):
        model.feature_names_in_ = base.feature_names_in_
    model._fit_clusters(*spectrum, divisions=divisions)
    return model
