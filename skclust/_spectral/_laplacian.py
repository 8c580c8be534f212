"""Graph Laplacians and their spectra: the numerics of spectral clustering.

Small private functions on validated arrays:

- :func:`_normalized_affinity` builds ``D_tau^-1/2 A D_tau^-1/2``, the matrix
  whose leading eigenvectors are the trailing eigenvectors of the (regularized)
  normalized Laplacian ``I - D_tau^-1/2 A D_tau^-1/2``;
- :func:`_leading_eigenpairs` computes its largest eigenpairs with a sparse
  (ARPACK) or, on small graphs, a dense solver;
- :func:`_spectral_embedding` turns eigenvectors into points for k-means;
- :func:`_components_from_spectrum` reads the connected components off the
  eigenvalues at 0 of the plain normalized Laplacian.
"""

import warnings
from contextlib import nullcontext

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh, lobpcg

from .._threads import blas_threads

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


def _subgraph(adjacency, nodes):
    """The adjacency of the subgraph induced by ``nodes`` (CSR if sparse)."""
    if sparse.issparse(adjacency):
        return sparse.csr_array(adjacency)[nodes][:, nodes]
    return adjacency[np.ix_(nodes, nodes)]


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


def _blas_threads_for(n_nodes):
    """One BLAS thread for graphs up to 10000 nodes, the default above."""
    if n_nodes <= _SINGLE_THREAD_MAX_NODES:
        return blas_threads(1)
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
        sub = _subgraph(adjacency, linked)
        affinity = _normalized_affinity(sub, degree[linked], 0.0)
        basis = _unit_eigenspace(affinity, tol, solver, seed)
        groups, merged = _merge_joined_groups(_group_by_direction(basis), sub)
        labels[linked] = groups
        n_zero += basis.shape[1]
    labels[isolated] = labels.max() + 1 + np.arange(isolated.shape[0])
    return _first_appearance_labels(labels), n_zero, merged
