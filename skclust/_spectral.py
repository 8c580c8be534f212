"""Spectral clustering of graphs: Laplacians, embeddings, SpectralGraphClusterer.

The numerics are small private functions on validated arrays:

- :func:`_normalized_affinity` builds ``D_tau^-1/2 A D_tau^-1/2``, the matrix
  whose leading eigenvectors are the trailing eigenvectors of the (regularized)
  normalized Laplacian ``I - D_tau^-1/2 A D_tau^-1/2``;
- :func:`_leading_eigenpairs` computes its largest eigenpairs with a sparse
  (ARPACK) or, on small graphs, a dense solver;
- :func:`_spectral_embedding` turns eigenvectors into points for k-means;
- :func:`_components_from_spectrum` reads the connected components off the
  eigenvalues at 0 of the plain normalized Laplacian.

:class:`SpectralGraphClusterer` validates, orchestrates and keeps the fitted
state; :func:`sweep_n_clusters` fits many k from one eigendecomposition.
"""

import warnings
from contextlib import nullcontext
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh, lobpcg
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import kneighbors_graph
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_non_negative, validate_data
from threadpoolctl import threadpool_limits

from ._kmeans import KMeansL2
from ._sklearn_compat import Interval, StrOptions, _fit_context

# Up to this many nodes "auto" solves with LAPACK on a dense copy; above, with
# ARPACK on the sparse matrix, which with BLAS on one thread is the faster of
# the two from a few hundred nodes up (political blogs, 1224 nodes, 50
# eigenvectors: 0.05 s ARPACK, 0.17 s LAPACK). ARPACK also needs k < n - 1.
_DENSE_MAX_NODES = 200

# Up to this many nodes the eigensolver and k-means run with BLAS on one
# thread: their matrices are too small for threads to pay, and on a busy
# machine threads made them several times slower (measured on 2 shared cores:
# ARPACK for 50 eigenvectors of 1224 nodes 0.05 s on one thread, 0.45 s on
# two; k-means with k = 50, 1.5 s against 0.3 s). At 20000 nodes two threads
# win.
_SINGLE_THREAD_MAX_NODES = 10_000

# The embedding is rounded to this many decimals before k-means: nodes with
# the same neighbours have equal rows in exact arithmetic, and rounding keeps
# them equal (one weighted point for KMeansL2) whatever the solver's rounding.
_EMBEDDING_DECIMALS = 10

# The connected components are read from the leading eigenvalues in blocks
# of this size, doubled until one eigenvalue falls below 1 - tol. LOBPCG wants
# at least 5 nodes per block vector; larger blocks go to LAPACK up to 5000
# nodes. A residual r bounds the eigenvalue error by about r^2 / gap: with
# r <= 1e-6, far inside component_tol for any gap above 1e-4.
_COMPONENT_BLOCK = 8
_LOBPCG_MIN_NODES_PER_VECTOR = 5
_DENSE_COMPONENT_MAX_NODES = 5000
_LOBPCG_TOL = 1e-7
_LOBPCG_MAXITER = 500
_LOBPCG_RESIDUAL = 1e-6

# Entries of the leading eigenvector below this fraction of its largest entry
# are treated as zero by the SCORE ratios (numerical noise off its support).
_RATIO_FLOOR = 1e-10


def _degrees(adjacency):
    return np.asarray(adjacency.sum(axis=1)).ravel()


def _row_sums(X):
    """Row sums of the training input, by which a scorer recognises it."""
    return np.asarray(X.sum(axis=1), dtype=np.float64).ravel()


def _without_diagonal(adjacency):
    """The adjacency with its diagonal (self-loops) set to zero."""
    if sparse.issparse(adjacency):
        adjacency = sparse.csr_array(adjacency)
        adjacency = (adjacency - sparse.diags_array(adjacency.diagonal())).tocsr()
        adjacency.eliminate_zeros()
        return adjacency
    adjacency = np.array(adjacency, dtype=np.float64)
    np.fill_diagonal(adjacency, 0.0)
    return adjacency


def _normalized_affinity(adjacency, degree, tau):
    """``D_tau^-1/2 A D_tau^-1/2`` with ``D_tau = D + tau I``.

    Its eigenvalues ``mu`` are ``1 - lambda`` for the eigenvalues ``lambda``
    of the Laplacian ``I - D_tau^-1/2 A D_tau^-1/2``; ``tau = 0`` gives the
    plain symmetric normalized Laplacian. With ``tau = 0`` an isolated node
    gets a 1 on the diagonal, so that its Laplacian row is zero (as in
    ``scipy.sparse.csgraph.laplacian(normed=True)``) and it counts as a
    component of its own.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n_nodes, n_nodes)
        Symmetric, non-negative, zero diagonal.
    degree : ndarray of shape (n_nodes,)
    tau : float
        Non-negative degree regularization.

    Returns
    -------
    Sparse CSR array or ndarray, like ``adjacency``.
    """
    shifted = degree + tau
    isolated = shifted == 0
    scale = 1.0 / np.sqrt(np.where(isolated, 1.0, shifted))
    scale[isolated] = 0.0
    if sparse.issparse(adjacency):
        diagonal = sparse.diags_array(scale)
        result = (diagonal @ adjacency @ diagonal).tocsr()
        if isolated.any():
            result = (result + sparse.diags_array(isolated.astype(np.float64))).tocsr()
        return result
    result = adjacency * scale[:, None] * scale[None, :]
    result[np.flatnonzero(isolated), np.flatnonzero(isolated)] = 1.0
    return result


def _choose_solver(solver, n_nodes):
    """Resolve "auto": LAPACK up to 200 nodes, ARPACK above."""
    if solver != "auto":
        return solver
    return "dense" if n_nodes <= _DENSE_MAX_NODES else "arpack"


def _blas_threads(n_nodes):
    """One BLAS thread for graphs up to 10000 nodes, the default above."""
    if n_nodes <= _SINGLE_THREAD_MAX_NODES:
        return threadpool_limits(limits=1, user_api="blas")
    return nullcontext()


def _leading_eigenpairs(matrix, n_eigen, solver, seed):
    """The ``n_eigen`` largest eigenvalues of a symmetric matrix, descending.

    Parameters
    ----------
    matrix : sparse array or ndarray of shape (n, n)
        Symmetric.
    n_eigen : int
        At most ``n``.
    solver : {"arpack", "dense"}
        "arpack" is ``scipy.sparse.linalg.eigsh`` on the matrix as given;
        "dense" is LAPACK's ``syevr`` on a dense copy, for small matrices.
        ARPACK cannot return all but one eigenpair or more; then LAPACK is
        used.
    seed : int
        Seeds ARPACK's starting vector.

    Returns
    -------
    values : ndarray of shape (n_eigen,)
        Descending.
    vectors : ndarray of shape (n, n_eigen)
        Orthonormal columns, each with its largest entry (in absolute value)
        positive, so that results do not depend on the solver's sign choice.
    """
    n = matrix.shape[0]
    if solver == "dense" or n_eigen >= n - 1:
        dense = matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)
        values, vectors = linalg.eigh(
            dense, subset_by_index=[n - n_eigen, n - 1], driver="evr"
        )
    else:
        start = np.random.RandomState(seed).uniform(-1.0, 1.0, n)
        values, vectors = eigsh(matrix, k=n_eigen, which="LA", v0=start)
    order = np.argsort(-values, kind="stable")
    values, vectors = values[order], vectors[:, order]
    peaks = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(n_eigen)]
    vectors *= np.where(peaks < 0, -1.0, 1.0)
    return values, vectors


def _spectral_embedding(values, vectors, n_clusters, row_scaling):
    """Points for k-means from the leading eigenpairs of the normalized affinity.

    Parameters
    ----------
    values : ndarray of shape (n_eigen,)
        Descending eigenvalues of ``D_tau^-1/2 A D_tau^-1/2``, at least
        ``n_clusters`` of them, the first positive.
    vectors : ndarray of shape (n_nodes, n_eigen)
        The matching eigenvectors.
    n_clusters : int
    row_scaling : {"score", "unit", "none"}
        - "none": the first ``n_clusters`` eigenvectors as they are.
        - "unit": the same rows scaled to unit length (Ng, Jordan and Weiss;
          Qin and Rohe); a zero row stays zero.
        - "score": for k = 2..n_clusters the ratio of eigenvector k to the
          leading one, entry by entry, weighted by ``values[k] / values[0]``
          and clipped to ``[-log n, log n]`` (SCORE, Jin 2015, with the
          eigenvalue weights of SCORE+, Jin, Ke and Luo). Where the leading
          eigenvector vanishes (another component) the ratio is taken as
          infinite with the sign of eigenvector k, then clipped; where both
          vanish it is 0.

    Returns
    -------
    embedding : ndarray of shape (n_nodes, n_clusters), or (n_nodes,
        n_clusters - 1) for "score" with ``n_clusters >= 2``
    """
    leading = vectors[:, :n_clusters]
    if row_scaling == "none" or (row_scaling == "score" and n_clusters == 1):
        return leading.copy()
    if row_scaling == "unit":
        norms = np.linalg.norm(leading, axis=1, keepdims=True)
        return leading / np.where(norms > 0, norms, 1.0)
    lead = vectors[:, 0]
    others = vectors[:, 1:n_clusters]
    weights = values[1:n_clusters] / values[0]
    floor = _RATIO_FLOOR * np.abs(lead).max()
    limit = max(np.log(vectors.shape[0]), 1.0)
    on_support = np.abs(lead) > floor
    ratios = np.empty_like(others)
    ratios[on_support] = others[on_support] * weights / lead[on_support, None]
    # Off the leading eigenvector's support (another component) the ratio is
    # infinite whatever the weight, even for an isolated node's eigenvalue 0.
    off = others[~on_support]
    ratios[~on_support] = np.where(np.abs(off) > floor, np.sign(off) * limit, 0.0)
    return np.clip(ratios, -limit, limit, out=ratios)


def _group_by_direction(basis):
    """Group rows of a null-space basis: one group per connected component.

    The eigenvectors of eigenvalue 1 of ``D^-1/2 A D^-1/2`` span the vectors
    ``D^1/2 1_C`` of the components C, so the rows of any orthonormal basis
    point in one direction within a component and in orthogonal directions
    across components.

    Returns
    -------
    labels : ndarray of shape (n_nodes,)
    """
    unit = basis / np.linalg.norm(basis, axis=1, keepdims=True)
    labels = np.zeros(unit.shape[0], dtype=np.intp)
    best = unit @ unit[0]
    n_groups = 1
    while True:
        far = np.flatnonzero(best < 0.5)
        if far.size == 0:
            return labels
        similarity = unit @ unit[far[0]]
        closer = similarity > best
        labels[closer] = n_groups
        best = np.maximum(best, similarity)
        n_groups += 1


def _merge_joined_groups(labels, adjacency):
    """Merge groups that edges join (a spectral gap below the tolerance)."""
    rows, cols = (
        adjacency.nonzero() if sparse.issparse(adjacency) else np.nonzero(adjacency)
    )
    crossing = labels[rows] != labels[cols]
    if not crossing.any():
        return labels, False
    n_groups = labels.max() + 1
    quotient = sparse.csr_array(
        (
            np.ones(int(crossing.sum())),
            (labels[rows[crossing]], labels[cols[crossing]]),
        ),
        shape=(n_groups, n_groups),
    )
    _, merged = connected_components(quotient, directed=False)
    return merged[labels], True


def _first_appearance_labels(labels):
    """Relabel so that labels appear in increasing order along the nodes."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(first.shape[0], dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    _, inverse = np.unique(labels, return_inverse=True)
    return rank[inverse.ravel()]


def _unit_eigenspace(affinity, tol, solver, seed):
    """Orthonormal eigenvectors of eigenvalue at least ``1 - tol``.

    The eigenvalue 1 of ``D^-1/2 A D^-1/2`` is repeated once per component,
    and a repeated eigenvalue is what this must get right: ARPACK's Lanczos
    iteration grows one Krylov space and can return fewer copies than there
    are. LOBPCG, a block method, finds every copy when its block is larger
    than the multiplicity; the block doubles (8, 16, ...) until it holds an
    eigenvalue below ``1 - tol``. Small graphs, and up to 5000 nodes blocks
    larger than a fifth of the nodes or a LOBPCG run that did not converge,
    use LAPACK for the eigenvalues in ``[1 - tol, 1]``.

    Parameters
    ----------
    affinity : sparse array or ndarray of shape (n, n)
        ``D^-1/2 A D^-1/2`` of a graph without isolated nodes.
    tol : float
    solver : {"auto", "arpack", "dense"}
        "dense" forces LAPACK; otherwise LOBPCG above 200 nodes.
    seed : int
        Seeds LOBPCG's starting block.

    Returns
    -------
    ndarray of shape (n, n_zero)
    """
    n = affinity.shape[0]
    random_state = np.random.RandomState(seed)
    size = _COMPONENT_BLOCK
    while True:
        small = n <= _DENSE_MAX_NODES or (
            _LOBPCG_MIN_NODES_PER_VECTOR * size > n and n <= _DENSE_COMPONENT_MAX_NODES
        )
        if solver == "dense" or small:
            dense = affinity.toarray() if sparse.issparse(affinity) else affinity
            _, vectors = linalg.eigh(dense, subset_by_value=(1.0 - tol, np.inf))
            return vectors
        start = random_state.standard_normal((n, size))
        with warnings.catch_warnings():
            # Convergence is checked below from the residuals.
            warnings.simplefilter("ignore", UserWarning)
            values, vectors = lobpcg(
                affinity, start, largest=True, tol=_LOBPCG_TOL, maxiter=_LOBPCG_MAXITER
            )
        residuals = np.linalg.norm(affinity @ vectors - vectors * values, axis=0)
        if np.max(residuals) > _LOBPCG_RESIDUAL:
            if n <= _DENSE_COMPONENT_MAX_NODES:
                solver = "dense"
                continue
            warnings.warn(
                f"LOBPCG did not converge on the {n}-node graph (residual "
                f"{np.max(residuals):.1e}); the connected components may be "
                "wrong.",
                RuntimeWarning,
                stacklevel=5,
            )
        keep = values >= 1.0 - tol
        if not keep.all():
            return vectors[:, keep]
        size *= 2


def _components_from_spectrum(adjacency, degree, tol, solver, seed):
    """Connected components from the eigenvalues 0 of the normalized Laplacian.

    The multiplicity of the eigenvalue 0 of ``I - D^-1/2 A D^-1/2`` is the
    number of connected components, and its eigenvectors are constant (up to
    the ``D^1/2`` weights) on each. An isolated node has a zero row and is a
    component with no solve. On the other nodes the eigenspace comes from
    :func:`_unit_eigenspace` and its rows give the members.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n_nodes, n_nodes)
        Symmetric, non-negative, zero diagonal.
    degree : ndarray of shape (n_nodes,)
    tol : float
        Eigenvalues of the Laplacian at most ``tol`` count as zero.
    solver : {"auto", "arpack", "dense"}
    seed : int

    Returns
    -------
    labels : ndarray of shape (n_nodes,)
        Component of each node, numbered in order of first appearance.
    n_zero : int
        Number of eigenvalues within ``tol`` of zero.
    merged : bool
        True when edges joined groups of the eigenspace: some eigenvalue
        within ``tol`` of zero belongs to a connected part of the graph.
    """
    labels = np.full(degree.shape[0], -1, dtype=np.intp)
    linked = np.flatnonzero(degree > 0)
    isolated = np.flatnonzero(degree == 0)
    n_zero, merged = isolated.shape[0], False
    if linked.size:
        if sparse.issparse(adjacency):
            sub = sparse.csr_array(adjacency)[linked][:, linked]
        else:
            sub = adjacency[np.ix_(linked, linked)]
        affinity = _normalized_affinity(sub, degree[linked], 0.0)
        basis = _unit_eigenspace(affinity, tol, solver, seed)
        groups, merged = _merge_joined_groups(_group_by_direction(basis), sub)
        labels[linked] = groups
        n_zero += basis.shape[1]
    labels[isolated] = labels.max() + 1 + np.arange(isolated.shape[0])
    return _first_appearance_labels(labels), n_zero, merged


class SpectralGraphClusterer(ClusterMixin, BaseEstimator):
    """Spectral clustering of a graph, robust to skewed degrees.

    The nodes are embedded with the leading eigenvectors of a graph Laplacian
    (computed with a sparse eigensolver) and the embedding is clustered with
    :class:`~skclust.KMeansL2`. The default, a degree-regularized Laplacian
    with SCORE ratios, keeps the low-degree nodes of real networks from
    forming clusters of their own; ``laplacian="normalized"`` gives the plain
    method of most textbooks. The connected components are read off the
    eigenvalues 0 of the normalized Laplacian.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters, at most the number of nodes.
    affinity : {"precomputed", "rbf", "nearest_neighbors"}, default="precomputed"
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
    n_components : int, "eigengap" or None, default=None
        Number of eigenvectors in the embedding. None uses ``n_clusters``
        (as scikit-learn's ``SpectralClustering``). "eigengap" uses the
        ``d`` between 2 and ``n_clusters`` after which the Laplacian spectrum
        has its largest gap (von Luxburg 2007): the graph's informative
        directions, which extra clusters then subdivide instead of following
        eigenvectors of noise. It changes nothing at ``n_clusters=2``.
    eigen_solver : {"auto", "arpack", "dense"}, default="auto"
        "arpack" is ``scipy.sparse.linalg.eigsh`` on the sparse matrix;
        "dense" is LAPACK on a dense copy. "auto" uses LAPACK up to 200
        nodes and ARPACK above: a large sparse graph is never densified.
    n_init : "auto" or int, default="auto"
        Runs of :class:`~skclust.KMeansL2` (k-means++ seeding) on the
        embedding; the run with the lowest inertia is kept. "auto" is one run,
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
        Seeds the eigensolver's start vector and k-means.
    n_jobs : int, default=None
        Parallel k-means runs (passed to :class:`~skclust.KMeansL2`).

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        Cluster of each node, numbered in order of first appearance.
    embedding_ : ndarray of shape (n_nodes, n_dims)
        The points given to k-means: ``n_dims`` is ``n_clusters``, or
        ``n_clusters - 1`` with SCORE ratios.
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
        "affinity": [StrOptions({"precomputed", "rbf", "nearest_neighbors"})],
        "laplacian": [StrOptions({"regularized", "normalized"})],
        "regularization": [
            StrOptions({"mean_degree"}),
            Interval(Real, 0, None, closed="left"),
        ],
        "row_scaling": [StrOptions({"auto", "score", "unit", "none"})],
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
        n_clusters=2,
        *,
        affinity="precomputed",
        laplacian="regularized",
        regularization="mean_degree",
        row_scaling="auto",
        n_components=None,
        eigen_solver="auto",
        n_init="auto",
        gamma=1.0,
        n_neighbors=10,
        component_tol=1e-8,
        random_state=None,
        n_jobs=None,
    ):
        self.n_clusters = n_clusters
        self.affinity = affinity
        self.laplacian = laplacian
        self.regularization = regularization
        self.row_scaling = row_scaling
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
        # GridSearchCV slices a precomputed adjacency on both axes.
        tags.input_tags.pairwise = precomputed
        tags.input_tags.positive_only = precomputed
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster the nodes of a graph (or the points of ``X``).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_nodes, n_nodes) or \
(n_samples, n_features)
            The adjacency matrix when ``affinity="precomputed"``, else
            features.
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
        with _blas_threads(adjacency.shape[0]):
            values, vectors = self._spectrum(
                adjacency, degree, self._n_eigen(self.n_clusters), eigen_seed
            )
            self._fit_components(adjacency, degree, eigen_seed)
            self._fit_clusters(values, vectors, kmeans_seed)
        return self

    def _graph(self, X):
        """Validated, symmetric adjacency with zero diagonal, and its degrees."""
        if self.affinity == "precomputed":
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
            if self.affinity == "rbf":
                adjacency = _without_diagonal(rbf_kernel(X, gamma=self.gamma))
            else:
                knn = kneighbors_graph(X, self.n_neighbors, include_self=True)
                adjacency = _without_diagonal(0.5 * (knn + knn.T))
        degree = _degrees(adjacency)
        if not np.any(degree > 0):
            raise ValueError("the graph has no edges: nothing to cluster")
        return adjacency, degree

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

    def _n_eigen(self, n_clusters):
        """Eigenpairs to compute for ``n_clusters`` (one more for the gap)."""
        if self.n_components is None:
            return n_clusters
        if self.n_components == "eigengap":
            return min(n_clusters + 1, self._n_nodes)
        return max(n_clusters, self.n_components)

    def _embedding_dimension(self, values, n_clusters):
        if self.n_components is None:
            return n_clusters
        if self.n_components != "eigengap":
            return self.n_components
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

    def _fit_clusters(self, values, vectors, kmeans_seed):
        k = self.n_clusters
        dimension = self._embedding_dimension(values, k)
        embedding = np.round(
            _spectral_embedding(values, vectors, dimension, self._row_scaling()),
            _EMBEDDING_DECIMALS,
        )
        n_distinct = np.unique(embedding, axis=0).shape[0]
        if n_distinct < k:
            raise ValueError(
                f"n_clusters={k} is larger than the number of distinct points "
                f"of the spectral embedding ({n_distinct}); nodes with the same "
                "neighbours share a point"
            )
        kmeans = KMeansL2(
            k, n_init=self.n_init, random_state=kmeans_seed, n_jobs=self.n_jobs
        ).fit(embedding)
        self.labels_ = _first_appearance_labels(kmeans.labels_)
        self.embedding_ = embedding
        self.eigenvalues_ = 1.0 - values[:k]
        self.n_components_ = dimension


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


def sweep_n_clusters(estimator, X, n_clusters):
    """Fit a :class:`SpectralGraphClusterer` for several k, sharing the spectrum.

    One eigendecomposition for the largest k serves every k (the leading
    eigenvectors for a smaller k are its first columns), and the connected
    components are computed once. Each returned estimator is what
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
    with _blas_threads(adjacency.shape[0]):
        values, vectors = base._spectrum(
            adjacency, degree, base._n_eigen(max(ks)), eigen_seed
        )
        base._fit_components(adjacency, degree, eigen_seed)
        return [
            _fit_from_spectrum(estimator, base, k, values, vectors, kmeans_seed)
            for k in ks
        ]


def _fit_from_spectrum(estimator, base, k, values, vectors, kmeans_seed):
    """A clone of ``estimator`` fitted for ``k`` from ``base``'s spectrum."""
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
    model._fit_clusters(values, vectors, kmeans_seed)
    return model
