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

from contextlib import nullcontext
from typing import NamedTuple

import numpy as np
from scipy import linalg, optimize, sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh

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

# The embedding is rounded to this many decimals of its largest entry before
# k-means (_rounded): nodes with the same neighbours have equal rows in exact
# arithmetic, and rounding keeps them equal (one weighted point for KMeansL2)
# whatever the solver's rounding.
_EMBEDDING_DECIMALS = 10

# Eigenvalues of the affinity (in [-1, 1]) closer than this are one repeated
# eigenvalue: its eigenspace has no basis but the one the solver picks,
# which follows the node order.
_REPEAT_TOL = 1e-8

# ARPACK restarts before the eigensolver gives up (SciPy's default is 10 n,
# which on a graph with extreme weights ran for minutes); LAPACK takes over up
# to the node count below, where a dense solve is a few seconds at most.
_ARPACK_MAXITER = 3000
# Restarts of ARPACK for the Bethe Hessian's count above
# _DENSE_FALLBACK_MAX_NODES nodes once its first 8 eigenvalues are known,
# after which the eigenvalues not resolved are taken to be in the bulk (see
# _bethe_hessian_count).
_COUNT_MAXITER = 300
_DENSE_FALLBACK_MAX_NODES = 3000

# A positive Bethe Hessian eigenvalue at most half the next one is counted as
# a community, not the edge of the bulk. Chosen on the graph suite
# (benchmarks/bench_graph_suite.py): K was found in 64 of its 152 graphs with
# a ratio of 2, 58 with 3, 42 with the negative eigenvalues alone of the
# previous rule's H(sqrt(sum d^2 / sum d - 1)); on 16 graphs without
# communities (same degrees) every ratio counted 1.
_BULK_RATIO = 2.0

# Entries of the leading eigenvector below this fraction of its largest entry
# are treated as zero by the SCORE ratios (numerical noise off its support).
_RATIO_FLOOR = 1e-10

# SCORE's ratio k is weighted by (mu_k / mu_1) ** _SCORE_WEIGHT_POWER. SCORE+
# (Jin, Ke and Luo) weights by the ratio itself (power 1); the cube was chosen
# on the graph suite (benchmarks/bench_graph_suite.py, powers 0 to 4 on its
# seeds 0-9, checked on seeds 10-19 and on LFR graphs): over the twenty graphs
# of a row it raised the default's ARI on unequal blocks of medium strength by
# 0.02 to 0.05 (K = 3, 4, 6; K = 5 unequal easy 0.02) and lowered no row by
# more than 0.002; on LFR graphs it changed the mean by -0.001 (rows -0.027
# to +0.020, docs/spectral.rst). Equal blocks have equal eigenvalues, which
# any power keeps equal; weaker directions, whose eigenvectors are the
# noisier, weigh less. Odd, so that a negative eigenvalue keeps the sign of
# its weight.
_SCORE_WEIGHT_POWER = 3

# At most this many rounds of colour refinement order the nodes of a graph
# (_canonical_order). A round costs a pass over the edges; karate, political
# blogs and the suite's block models (400 to 1200 nodes) stopped after 3 or 4
# rounds (the last one splitting nothing), a 100,000-node block model after 4.
_REFINEMENT_ROUNDS = 16


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
    """One BLAS thread for graphs up to 10000 nodes, the default above.

    Up to 200 nodes nothing is set: the matrices are too small to thread.
    """
    if n_nodes <= _DENSE_MAX_NODES:
        return nullcontext()
    if n_nodes <= _SINGLE_THREAD_MAX_NODES:
        return blas_threads(1)
    return nullcontext()


def _leading_eigenpairs(
    matrix, n_eigen, solver, seed, converged_only=False, maxiter=_ARPACK_MAXITER
):
    """The ``n_eigen`` largest eigenvalues of a symmetric matrix, descending.

    Parameters
    ----------
    matrix : sparse array or ndarray of shape (n, n)
        Symmetric.
    n_eigen : int
        At most ``n``.
    solver : {"arpack", "dense"}
        "arpack" is ``scipy.sparse.linalg.eigsh`` on the matrix as given,
        capped at ``_ARPACK_MAXITER`` restarts; "dense" is LAPACK's ``syevr``
        on a dense copy, for small matrices. ARPACK cannot return all but one
        eigenpair or more; then LAPACK is used. When ARPACK does not converge
        or stops with an error, LAPACK takes over up to
        ``_DENSE_FALLBACK_MAX_NODES`` nodes; above, the error says so.
    seed : int
        Seeds ARPACK's starting vector.
    converged_only : bool, default=False
        Above ``_DENSE_FALLBACK_MAX_NODES`` nodes, if ARPACK has not
        converged within ``maxiter`` restarts, the eigenpairs it has
        resolved are returned (fewer than asked; an error only if none):
        the Bethe Hessian's count, whose eigenvalues outside the bulk
        converge first.
    maxiter : int, default=_ARPACK_MAXITER
        ARPACK's restarts.

    Returns
    -------
    values : ndarray of shape (n_eigen,)
        Descending (fewer with ``converged_only``).
    vectors : ndarray of shape (n, n_eigen)
        Orthonormal columns with signs fixed by :func:`_fix_signs`, so that
        results depend neither on the solver's sign choice nor on the order
        of the nodes.
    """
    n = matrix.shape[0]
    nonzero = matrix.count_nonzero() if sparse.issparse(matrix) else np.any(matrix)
    if not nonzero:
        # ARPACK stops on the zero matrix (an edgeless graph with tau > 0):
        # its start vector maps to zero. Every eigenvalue is 0.
        return np.zeros(n_eigen), np.eye(n, n_eigen)
    if solver != "dense" and n_eigen < n - 1:
        start = np.random.RandomState(seed).uniform(-1.0, 1.0, n)
        # ARPACK on one BLAS thread at every size: on a 30000-node graph two
        # threads took 8.2-10.5 s against 0.9-2.3 s for one (shared machine).
        threads = blas_threads(1) if n > _SINGLE_THREAD_MAX_NODES else nullcontext()
        partial = converged_only and n > _DENSE_FALLBACK_MAX_NODES
        try:
            with threads:
                values, vectors = eigsh(
                    matrix, k=n_eigen, which="LA", v0=start, maxiter=maxiter
                )
        except ArpackError as error:
            # Besides not converging, ARPACK stops with "No shifts could be
            # applied" (error 3) on some small components with repeated
            # eigenvalues, in some runs and not others (its rounding differs
            # between processes): LAPACK takes over in both cases.
            resolved = isinstance(error, ArpackNoConvergence) and error.eigenvalues.size
            if partial and resolved:
                values, vectors = error.eigenvalues, error.eigenvectors
            elif n > _DENSE_FALLBACK_MAX_NODES:
                raise _solver_failed(error, n, n_eigen, maxiter) from None
            else:
                solver = "dense"
    if solver == "dense" or n_eigen >= n - 1:
        values, vectors = _dense_eigh(matrix, n - n_eigen, n - 1)
    order = np.argsort(-values, kind="stable")
    vectors = vectors[:, order]
    # The leading eigenvector's entries weigh the nodes for the signs that
    # their entries leave open.
    return values[order], _fix_signs(vectors, weights=np.abs(vectors[:, 0]))


class EigensolverError(RuntimeError):
    """ARPACK failed on a graph too large for LAPACK to take over."""


def _solver_failed(error, n_nodes, n_eigen, maxiter=_ARPACK_MAXITER):
    """The EigensolverError for ARPACK's ``error`` on a graph too large for
    LAPACK."""
    failed = (
        f"did not converge within {maxiter} iterations"
        if isinstance(error, ArpackNoConvergence)
        else f"failed ({error})"
    )
    return EigensolverError(
        f"the eigensolver (ARPACK) {failed} on the {n_nodes}-node graph "
        f"for {n_eigen} eigenvectors; try fewer clusters"
    )


def _eigenvalue_at(matrix, index):
    """The eigenvalue of a small symmetric matrix at ``index`` in descending order.

    LAPACK on a dense copy, values only: it leaves the eigenvectors already
    computed as they were.
    """
    position = matrix.shape[0] - 1 - index
    return float(_dense_eigh(matrix, position, position, eigvals_only=True)[0])


def _descending_eigenvalues(matrix):
    """All eigenvalues of a small symmetric matrix, descending (LAPACK, values only)."""
    return _dense_eigh(matrix, 0, matrix.shape[0] - 1, eigvals_only=True)[::-1]


def _repeats_past(affinity, values):
    """Whether the next eigenvalue after ``values`` (descending) repeats the last."""
    return bool(values[-1] - _eigenvalue_at(affinity, values.shape[0]) <= _REPEAT_TOL)


def _dense_eigh(matrix, first, last, eigvals_only=False):
    """Eigenpairs ``first`` to ``last`` (ascending) of a symmetric matrix, by LAPACK.

    ``syevr`` on the range, else the whole decomposition by divide and
    conquer: on spectra with many repeated eigenvalues (two cliques joined
    by an edge or a path) ``syevr`` on a range returned fewer eigenvalues
    than asked or failed with "Internal Error" in some node orders.
    """
    dense = matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)
    try:
        result = linalg.eigh(
            dense,
            eigvals_only=eigvals_only,
            subset_by_index=[first, last],
            driver="evr",
        )
        values = result if eigvals_only else result[0]
        if values.shape[0] == last - first + 1:
            return result
    except linalg.LinAlgError:
        pass
    whole = linalg.eigh(dense, eigvals_only=eigvals_only, driver="evd")
    if eigvals_only:
        return whole[first : last + 1]
    return whole[0][first : last + 1], whole[1][:, first : last + 1]


def _class_directions(space, index):
    """A basis of ``space`` whose first ``rank`` columns twins do not cancel.

    ``space`` holds orthonormal columns (an eigenspace), ``index`` each
    node's twin class. Columns that differ between twins only (``e_u -
    e_v`` for twins ``u`` and ``v``) have mean zero over every class; the
    class means of the others span ``rank`` dimensions. Returns the rotated
    basis, its first ``rank`` columns the principal directions of the class
    means (largest first), and ``rank``.
    """
    counts = np.bincount(index)
    means = np.zeros((counts.shape[0], space.shape[1]))
    np.add.at(means, index, space)
    # Weighted by the square root of the class sizes, the means have the
    # singular values and directions of the nodes' projections. A square
    # rotation needs the full SVD only with fewer classes than columns.
    means *= np.sqrt(counts)[:, None]
    full = means.shape[0] < means.shape[1]
    _, singular, directions = np.linalg.svd(means, full_matrices=full)
    rank = int(np.sum(singular > _REPEAT_TOL * max(1.0, singular[0])))
    return space @ directions.T, rank


def _twin_directions_last(values, vectors, index):
    """``vectors`` with each repeated eigenvalue's twin-cancelled directions last.

    In an eigenspace that holds directions twins cancel beside others, the
    solver's basis mixes the two kinds by an angle that follows the node
    order, and with it the twin classes' points and which columns look
    repeated to them. The eigenspace's basis is replaced by the one of
    :func:`_class_directions` (signs by :func:`_fix_signs`), the same in
    every order where the class means' principal directions are distinct.
    ``values`` are descending; eigenspaces without such directions are left
    as they are.
    """
    if index.max() + 1 == index.shape[0]:
        return vectors
    vectors = vectors.copy()
    breaks = np.flatnonzero(values[:-1] - values[1:] > _REPEAT_TOL) + 1
    for group in np.split(np.arange(values.shape[0]), breaks):
        if group.shape[0] < 2:
            continue
        basis, rank = _class_directions(vectors[:, group], index)
        if rank < group.shape[0]:
            vectors[:, group] = _fix_signs(basis)
    return vectors


def _fix_signs(vectors, weights=None):
    """Eigenvectors with a sign that does not depend on the node order.

    The sign makes the sum of cubed entries positive (a property of the set
    of entries, not of their order); a vector whose cubes cancel (as the
    antisymmetric vectors of a symmetric graph do) gets its largest entry in
    absolute value positive, the lowest-indexed one on a tie; with
    ``weights`` (node weights that do not depend on the order), the second
    and later such vectors are then set against the first by
    :func:`_align_undecided`.
    """
    skew = np.sum(vectors**3, axis=0)
    scale = np.max(np.abs(vectors), axis=0) ** 3 * vectors.shape[0]
    peaks = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])]
    decided = np.abs(skew) > 1e-8 * scale
    sign = np.where(decided, np.sign(skew), np.sign(peaks))
    vectors = vectors * np.where(sign < 0, -1.0, 1.0)
    if weights is not None:
        _align_undecided(vectors, np.flatnonzero(~decided), weights)
    return vectors


def _align_undecided(vectors, columns, weights):
    """Signs of ``columns`` set in place against the first of them.

    A vector whose entries are their own negatives (one symmetry of the
    graph maps it to minus itself) gets its sign from the node order; that
    is harmless for one such vector (the symmetry relabels the result) but
    not for two whose signs the order sets apart (a tree with two alike
    branches in 7 clusters: two kinds of partition over 16 orders). Where
    ``sum(weights * first * v)`` is not zero no symmetry flips one without
    the other, and its sign fixes ``v``'s against the first.
    """
    if columns.shape[0] < 2:
        return
    first = vectors[:, columns[0]] * weights
    tolerance = 1e-8 * np.max(np.abs(weights))
    for column in columns[1:]:
        if first @ vectors[:, column] < -tolerance:
            vectors[:, column] *= -1.0


def _rounded(points):
    """``points`` rounded to ``_EMBEDDING_DECIMALS`` decimals of their scale.

    The scale is the power of two at or above the largest magnitude, so that
    dividing by it and multiplying back are exact: the rounding is relative,
    and an embedding made small (weak eigenvalues, cubed weights) keeps as
    many digits as a large one. Equal costs of partitions are then equal to
    the digits that ``_hartigan`` compares; with rounding to absolute decimals
    an embedding of entries near 0.02 kept eight, and J(6, 2) in 6 clusters
    gave four kinds of partition over 8 node orders.
    """
    largest = float(np.abs(points).max(initial=0.0))
    if not 0.0 < largest < np.inf:
        return np.round(points, _EMBEDDING_DECIMALS)
    scale = 2.0 ** np.ceil(np.log2(largest))
    return np.round(points / scale, _EMBEDDING_DECIMALS) * scale


def _spectral_embedding(values, vectors, n_clusters, row_scaling, shifted_degree=None):
    """Points for k-means from the leading eigenpairs of the normalized affinity.

    Parameters
    ----------
    values : ndarray of shape (n_eigen,)
        Descending eigenvalues of ``D_tau^-1/2 A D_tau^-1/2``, at least
        ``n_clusters`` of them, the first positive.
    vectors : ndarray of shape (n_nodes, n_eigen)
        The matching eigenvectors.
    n_clusters : int
    row_scaling : {"score", "unit", "degree", "none"}
        - "none": the first ``n_clusters`` eigenvectors as they are.
        - "unit": the same rows scaled to unit length (Ng, Jordan and Weiss;
          Qin and Rohe); a zero row stays zero.
        - "score": for k = 2..n_clusters the ratio of eigenvector k to the
          leading one, entry by entry, weighted by ``values[k] / values[0]``
          cubed and clipped to ``[-log n, log n]`` (SCORE, Jin 2015, with the
          eigenvalue weights of SCORE+, Jin, Ke and Luo, cubed: see
          ``_SCORE_WEIGHT_POWER``). Where the leading
          eigenvector vanishes (another component) the ratio is taken as
          infinite with the sign of eigenvector k, then clipped; where both
          vanish it is 0.
        - "degree": the same rows divided by ``sqrt(shifted_degree)``, which
          gives the eigenvectors of the random walk ``D_tau^-1 A`` (Shi and
          Malik), the points of scikit-learn's ``SpectralClustering``;
          scaled by the square root of the total so that the leading column
          is near 1 (a zero degree divides by 1).
    shifted_degree : ndarray of shape (n_nodes,), default=None
        ``degree + tau``; needed by "degree" only.

    Returns
    -------
    embedding : ndarray of shape (n_nodes, n_clusters), or (n_nodes,
        n_clusters - 1) for "score" with ``n_clusters >= 2``
    """
    leading = vectors[:, :n_clusters]
    if row_scaling == "none" or (row_scaling == "score" and n_clusters == 1):
        return leading.copy()
    if row_scaling == "degree":
        shifted = np.where(shifted_degree > 0, shifted_degree, 1.0)
        # Square roots first: the total over a degree near 1e-308 (weights
        # spanning the float range) overflows, and inf * 0 is NaN.
        return leading * (np.sqrt(shifted.sum()) / np.sqrt(shifted))[:, None]
    if row_scaling == "unit":
        norms = np.linalg.norm(leading, axis=1, keepdims=True)
        return leading / np.where(norms > 0, norms, 1.0)
    lead = vectors[:, 0]
    others = vectors[:, 1:n_clusters]
    weights = (values[1:n_clusters] / values[0]) ** _SCORE_WEIGHT_POWER
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


def _first_appearance_labels(labels):
    """Relabel so that labels appear in increasing order along the nodes."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(first.shape[0], dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    _, inverse = np.unique(labels, return_inverse=True)
    return rank[inverse.ravel()]


def _component_labels(adjacency):
    """Connected components by graph search, numbered by first node.

    Returns
    -------
    n_components : int
    labels : ndarray of shape (n_nodes,)
    """
    # scipy's graph search reads a dense matrix with a tolerance around its
    # null value: weights up to 1e-8 were missing edges, and a dense graph
    # with weak edges fell into more components than the same sparse one.
    graph = adjacency if sparse.issparse(adjacency) else sparse.csr_array(adjacency)
    n_components, labels = connected_components(graph, directed=False)
    return n_components, _first_appearance_labels(labels)


def _twin_classes(adjacency):
    """Classes of nodes that the graph cannot tell apart.

    Two nodes are twins when their rows of the adjacency are equal (the same
    neighbours with the same weights) or, for adjacent nodes joined by an
    edge of weight ``w``, when their rows of ``A + w I`` are equal (the same
    other neighbours with the same weights). Any relabelling that swaps
    twins maps the graph to itself, so no method can separate them in an
    order-free way; every eigenvector of a simple eigenvalue is equal on
    them. Rows are compared by two 64-bit hashes, sums over their entries of
    a mix of the column and the weight's bits: integer sums wrap exactly, so
    equal rows get equal hashes whatever the order of their entries, and
    distinct rows collide with probability about 2^-128. For an edge
    ``(u, v, w)``, the row of ``A + w I`` at ``u`` hashes as ``u``'s row
    plus the mix of ``(u, w)``, and at ``v`` as ``v``'s row plus the mix of
    ``(v, w)``, the entry that the edge itself contributes to ``u``'s row.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n_nodes, n_nodes)
        Symmetric, non-negative, zero diagonal, largest weight 1.

    Returns
    -------
    ndarray of shape (n_nodes,)
        Class of each node, numbered by first node.
    """
    graph = _csr_entries(adjacency)
    n = graph.shape[0]
    rows = np.repeat(np.arange(n), np.diff(graph.indptr))
    cols = graph.indices.astype(np.intp)
    bits, uniform = _weight_bits(graph)
    salts = np.random.RandomState(0).randint(1, 2**62, size=(2, n), dtype=np.int64)
    rows_hash = np.empty((n, 2), dtype=np.uint64)
    # Per entry (u, v, w): closed[u] == closed[v] for the edge's own weight.
    closed_equal = np.ones(graph.nnz, dtype=bool)
    for h, salt in enumerate(salts.astype(np.uint64)):
        if uniform:
            mixes = _entry_mix(salt, bits)
            entry, reverse = mixes[cols], mixes[rows]
        else:
            entry, reverse = _entry_mix(salt[cols], bits), _entry_mix(salt[rows], bits)
        rows_hash[:, h] = _wrapping_row_sums(graph.indptr, entry)
        with np.errstate(over="ignore"):
            at_u = rows_hash[rows, h] + reverse
            at_v = rows_hash[cols, h] + entry
        closed_equal &= at_u == at_v
    _, open_class = np.unique(rows_hash, axis=0, return_inverse=True)
    open_class = open_class.ravel()
    # Nodes joined to their open class (node n + class) and to the nodes
    # they are closed twins of: the classes of the union of both relations
    # are the connected components.
    twins = closed_equal & (rows < cols)
    links = sparse.coo_array(
        (
            np.ones(n + int(twins.sum())),
            (
                np.concatenate([np.arange(n), rows[twins]]),
                np.concatenate([n + open_class, cols[twins]]),
            ),
        ),
        shape=(2 * n, 2 * n),
    )
    _, labels = connected_components(links, directed=False)
    return _first_appearance_labels(labels[:n])


def _entry_mix(salt, bits):
    """The hash of one adjacency entry: its column's salt and weight's bits."""
    with np.errstate(over="ignore"):
        return _mix64(salt ^ (bits * _GOLDEN))


def _canonical_order(adjacency):
    """An order of the nodes that follows the graph, not their numbering.

    The nodes sorted by their colours of :func:`_refined_colours`; nodes
    left with equal colours (twins, nodes that only an automorphism or a
    finer test tells apart) keep their given order.

    Spectral clustering on the reordered graph receives the same arrays
    whatever the numbering of the nodes, where the colours tell them all
    apart. Without it the eigensolver's last bits follow the numbering, and
    an embedding entry that rounding sends one way or the other changed
    k-means' seeds: 27 of 96 random relabellings of 400-node block models
    gave another partition at k = 5 or 8.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n_nodes, n_nodes)
        Symmetric, non-negative, zero diagonal.

    Returns
    -------
    ndarray of shape (n_nodes,)
        The nodes in canonical order.
    """
    return np.argsort(_refined_colours(adjacency), kind="stable")


def _refined_colours(adjacency):
    """The colour of every node by colour refinement, whatever the numbering.

    Colour refinement (the one-dimensional Weisfeiler-Leman test): every
    node starts with the same colour; each round hashes a node's colour
    together with the multiset of its neighbours' colours and edge weights
    (a wrapping sum of 64-bit mixes, so the order of the entries does not
    matter), and renumbers the colours in the order of their hashes. Rounds
    stop when one splits no colour class, or after ``_REFINEMENT_ROUNDS``.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n_nodes, n_nodes)
        Symmetric, non-negative, zero diagonal.

    Returns
    -------
    ndarray of int of shape (n_nodes,)
        Colours ``0 .. n_colours - 1``, numbered in the order of their
        hashes, so that relabelling the nodes permutes the array.
    """
    graph = _csr_entries(adjacency)
    n = graph.shape[0]
    columns = graph.indices.astype(np.intp)
    bits, uniform = _weight_bits(graph)
    weights = _mix64(bits)
    colours = np.zeros(n, dtype=np.intp)
    n_colours = 1
    for _ in range(_REFINEMENT_ROUNDS):
        own = _mix64(colours.astype(np.uint64) + np.uint64(1))
        if uniform:
            entries = _mix64(own ^ weights)[columns]
        else:
            entries = _mix64(own[columns] ^ weights)
        neighbours = _wrapping_row_sums(graph.indptr, entries)
        with np.errstate(over="ignore"):
            keys = _mix64(own * _GOLDEN + neighbours)
        # The key holds the colour itself: classes only ever split (up to
        # 64-bit collisions, which merge, and merge the same way in any
        # numbering).
        _, colours = np.unique(keys, return_inverse=True)
        colours = colours.ravel()
        found = int(colours.max()) + 1
        if found == n_colours or found == n:
            break
        n_colours = found
    return colours


def _weight_bits(graph):
    """The bits of a CSR graph's weights as uint64, and whether they are all
    one value; then a single entry, so that the entries' mixes can be taken
    once per node and gathered: the same values, one mix per node instead of
    one per entry."""
    data = np.ascontiguousarray(graph.data, dtype=np.float64)
    uniform = data.size == 0 or bool((data == data[0]).all())
    if uniform:
        data = data[:1] if data.size else np.zeros(1)
    return data.view(np.uint64), uniform


def _mix64(values):
    """A 64-bit mix of uint64 values (splitmix64's finalizer), wrapping."""
    with np.errstate(over="ignore"):
        mixed = values ^ (values >> np.uint64(30))
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(27)
        mixed *= np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(31)
    return mixed


# Odd 64-bit constant (2^64 / golden ratio) that spreads a product's bits.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _csr_entries(adjacency):
    """The adjacency as CSR, entries in row order, duplicates summed.

    The graph may be the caller's CSR array: this only puts it in canonical
    format, the same matrix.
    """
    graph = sparse.csr_array(adjacency)
    graph.sum_duplicates()
    return graph


def _wrapping_row_sums(indptr, values):
    """Per-row sums modulo 2^64 of uint64 values of CSR entries (exact, so
    the order of a row's entries does not matter)."""
    running = np.concatenate([[np.uint64(0)], np.cumsum(values, dtype=np.uint64)])
    return running[indptr[1:]] - running[indptr[:-1]]


def _bethe_hessian_count(adjacency, solver, seed, limit):
    """Communities counted by the Bethe Hessian, at least 1, at most ``limit``.

    ``H(r) = (r^2 - 1) I - r A + D`` with ``r = sqrt(mean degree)`` (Saade,
    Krzakala and Zdeborova 2014; Le and Levina 2015), or its weighted form
    where the weights differ (:func:`_bethe_hessian`): each community that
    the graph shows gives one negative eigenvalue, or, for small or weak
    communities, a small positive one well below the bulk. So the count is
    the number of negative eigenvalues ``h_1 <= ... <= h_c < 0``, extended
    while the next one is positive and at most ``1 / _BULK_RATIO`` (a half)
    of the one after it (``h_{c+1} * _BULK_RATIO <= h_{c+2}``, ``h_{c+2}``
    never the largest of all: see :func:`_count_below_bulk`), a correction
    in the spirit of Le and Levina's. The smallest eigenvalues are computed in
    blocks of 8, doubled while the count reaches the end of the block. Above
    ``_DENSE_FALLBACK_MAX_NODES`` nodes, the blocks after the first get
    ``_COUNT_MAXITER`` restarts of ARPACK, and the eigenvalues it resolves
    are counted: those in the bulk, crowded together, may never converge.

    Parameters
    ----------
    adjacency : sparse array or ndarray of shape (n, n)
        A connected graph, largest weight 1.
    solver : {"auto", "arpack", "dense"}
    seed : int
    limit : int

    Returns
    -------
    int
        At least 1.
    """
    n = adjacency.shape[0]
    hessian = _bethe_hessian(adjacency)
    largest = min(limit + 2, n)
    size = min(8, largest)
    maxiter = _ARPACK_MAXITER
    while True:
        values, _ = _leading_eigenpairs(
            -hessian,
            size,
            _choose_solver(solver, n),
            seed,
            converged_only=True,
            maxiter=maxiter,
        )
        count = _count_below_bulk(-values, n)
        # Fewer values than asked: the rest did not converge, being in the
        # bulk (on a 99,873-node block model of 10 blocks, the 16 smallest
        # asked, ARPACK resolved the 10 negative ones within 300 restarts and
        # none of the others within 3000, in 139 s).
        if count < size - 1 or size >= largest or values.shape[0] < size:
            return max(1, min(count, limit))
        size, maxiter = min(2 * size, largest), _COUNT_MAXITER


# Couplings tanh(x) are capped at x = 3 (tanh 3 = 0.995): the entries grow as
# exp(2x), and a coupling that strong already ties its two nodes together.
# Counts on weighted block models were the same with caps of 2, 3 and 5
# (benchmarks/bench_weighted_count.py).
_MAX_COUPLING = 3.0


def _bethe_hessian(adjacency):
    """The Bethe Hessian of a connected graph, sparse or dense like it.

    With equal weights, ``(r^2 - 1) I - r A + D`` at ``r = sqrt(mean
    degree)``. With weights that differ, the weighted form of Saade,
    Krzakala and Zdeborova (2014): ``H_ij = -w_ij / (1 - w_ij^2)`` and
    ``H_ii = 1 + sum_j w_ij^2 / (1 - w_ij^2)`` with couplings ``w_ij =
    tanh(beta A_ij)``, ``beta`` set so that ``c * mean(w^2) = 1`` over the
    edges (``c`` the mean number of neighbours). For equal weights that is
    ``w = 1 / r``, the unweighted form divided by ``r^2 - 1``; and since
    ``tanh`` saturates, a few heavy edges no longer shrink every other one
    to nothing, as they did when the count was made in units of the
    largest weight (karate with one weight doubled counted 1).
    """
    is_sparse = sparse.issparse(adjacency)
    graph = sparse.csr_array(adjacency, copy=True)
    graph.eliminate_zeros()
    weights = graph.data
    n = graph.shape[0]
    neighbours = graph.nnz / n
    unequal = weights.size > 0 and weights.min() < weights.max()
    if unequal and neighbours > 1.0 / np.tanh(_MAX_COUPLING) ** 2:
        x = _couplings(weights, neighbours)
        # w / (1 - w^2) = sinh(2x) / 2 and w^2 / (1 - w^2) = sinh(x)^2.
        off = graph.copy()
        off.data = np.sinh(2.0 * x) / 2.0
        on = graph.copy()
        on.data = np.sinh(x) ** 2
        diagonal = 1.0 + np.asarray(on.sum(axis=1)).ravel()
        hessian = (sparse.diags_array(diagonal) - off).tocsr()
    else:
        degree = _degrees(adjacency)
        r = np.sqrt(max(float(degree.mean()), 1.0 + 1e-6))
        hessian = (sparse.diags_array(r * r - 1.0 + degree) - r * graph).tocsr()
    return hessian if is_sparse else hessian.toarray()


def _couplings(weights, neighbours):
    """``min(beta w, cap)`` with ``neighbours * mean(tanh(min(beta w, cap))^2) = 1``.

    The left side grows with ``beta`` from 0 to ``neighbours *
    tanh(cap)^2``, above 1 here, so Brent's method on ``log beta`` finds it.
    The work is done on logarithms: with weights spanning the float range
    (largest 1, smallest 1e-308 or subnormal) ``beta`` itself overflows, and
    ``cap / w`` was inf, a bracket Brent's method could not search.
    """
    log_weights = np.log(weights)
    log_cap = np.log(_MAX_COUPLING)

    def coupling(log_beta):
        return np.exp(np.minimum(log_beta + log_weights, log_cap))

    def excess(log_beta):
        return neighbours * np.mean(np.tanh(coupling(log_beta)) ** 2) - 1.0

    low = np.log(1e-3) - 0.5 * np.log(neighbours) - log_weights.max()
    high = log_cap - log_weights.min()
    return coupling(optimize.brentq(excess, low, high, xtol=1e-12))


def _count_below_bulk(values, n_nodes=None):
    """Negative eigenvalues, then positive ones far below the next (ascending).

    ``values`` are the smallest eigenvalues of a graph of ``n_nodes`` nodes
    (None: fewer than all of them). The bulk is at least two eigenvalues:
    where ``values`` is the whole spectrum, a value is not compared with the
    largest, which alone is the top of the spectrum rather than a bulk. On a
    three-node path (0.13, 1.33, 3.54) the middle value was counted, and
    "auto" split the middle node from its two ends (modularity -0.5, where a
    single cluster has 0 and the best split -0.125).
    """
    count = int(np.sum(values < -1e-9))
    end = values.shape[0]
    if n_nodes is not None and end >= n_nodes:
        end = n_nodes - 1
    while (
        count + 1 < end
        and values[count] > 1e-9
        and values[count] * _BULK_RATIO <= values[count + 1]
    ):
        count += 1
    return count


class MeanDegreeMultiple(NamedTuple):
    """``tau`` as a multiple of the mean degree of each (sub)graph it meets."""

    factor: float


def _regularization(degree, laplacian, regularization):
    """``tau`` for a graph's degrees: 0, the mean degree, or the number given.

    Parameters
    ----------
    degree : ndarray of shape (n_nodes,)
    laplacian : {"regularized", "normalized"}
    regularization : "auto", "mean_degree", MeanDegreeMultiple or float
        A float is in the units of the weights after scaling (largest 1).
        "auto" is the mean degree here (the estimator chooses among
        multiples of it where it can).
    """
    if laplacian == "normalized":
        return 0.0
    if regularization in ("auto", "mean_degree"):
        return float(degree.mean())
    if isinstance(regularization, MeanDegreeMultiple):
        return regularization.factor * float(degree.mean())
    return float(regularization)
