"""Ranking centers in a few principal directions, for the L2 assignment step.

With ``V = [P Q]`` an orthonormal basis and ``P`` its first ``r`` columns,
a point ``x`` and a center ``c`` stored as ``x' = (P^T x, |Q^T x|)`` and
``c' = (P^T c, |Q^T c|)`` satisfy ``|x - c|^2 >= |x' - c'|^2``. When the
data vary mostly along a few directions (as learned embeddings do) and ``P``
spans them, this lower bound is nearly the distance, and the compiled
kernel (``_bounds.projected_product_assignment``) ranks the centers in
``r + 1`` dimensions, then confirms the nearest by exact distances. On
isotropic data the bound is loose and the projection is not used.

None of the functions here validates its input.
"""

import numpy as np

# Rows of the table from which the basis and the choice of r are computed:
# second moments and candidate counts are stable well before this.
_BASIS_ROWS = 20_000
_SAMPLE_ROWS = 2_000
# Rows of the sample whose bounds to every center are held at a time.
_COUNT_ROWS = 256

# Costs per ranked point, in multiply-adds of a single-precision matrix
# product: a center's ranked value in r + 1 dimensions (r + 1), a pass over
# the ranked values (per center), and an exact float64 distance from
# coordinate differences (per feature; scalar code against the product's
# vector units).
_PASS_COST = 2.0
_EXACT_COST = 6.0

# The projection is used when its estimated cost is at most this fraction of
# the full product's (k x n_features per point): below, its fixed costs
# (the basis, one pass of n x d x d over the table) and its weaker Hamerly
# lower bounds are not paid back.
_MAX_COST_FRACTION = 0.6

# Fewer features than this: the full product is cheap, nothing to gain.
_MIN_FEATURES = 24


def principal_basis(X):
    """Orthonormal basis of the leading directions of ``X`` and its rounding.

    The eigenvectors of the second-moment matrix (about the origin: the rows
    the fit sees are centered) of at most ``_BASIS_ROWS`` evenly spaced
    rows, in float64, by decreasing eigenvalue. Any orthonormal basis keeps
    the assignment exact; this one makes the bound tight.

    Returns
    -------
    basis : ndarray of shape (n_features, n_features), float64
    rounding : float
        ``|V^T V - I|`` (Frobenius), how far the basis is from orthonormal.
    """
    step = max(1, X.shape[0] // _BASIS_ROWS)
    moments = np.zeros((X.shape[1], X.shape[1]))
    # A few sampled rows at a time: no float64 copy of the whole sample.
    span = step * max(1, (1 << 16) // X.shape[1])
    for start in range(0, X.shape[0], span):
        rows = np.asarray(X[start : start + span : step], dtype=np.float64)
        moments += rows.T @ rows
    _, vectors = np.linalg.eigh(moments)
    basis = np.ascontiguousarray(vectors[:, ::-1])
    gram = basis.T @ basis
    gram[np.diag_indices_from(gram)] -= 1.0
    return basis, float(np.linalg.norm(gram))


def basis_error(rounding, n_features):
    """Relative allowance for a basis ``rounding`` away from orthonormal and
    for the float64 products ``x'`` and ``c'`` (``n_features`` terms each)."""
    return 2.0 * rounding + 8.0 * n_features**1.5 * np.finfo(np.float64).eps


def project(X, basis, rank, out=None):
    """``x' = (P^T x, |x - P P^T x|)`` of every row, in float64, in blocks.

    ``|x - P P^T x|`` is ``|Q^T x|`` for an orthonormal basis. It is the
    norm of the residual's own coordinates, not ``|x|^2 - |P^T x|^2``, which
    cancels for points near the span of ``P``; and it costs ``2 r`` instead
    of ``n_features`` multiply-adds per feature of a row.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    basis : ndarray of shape (n_features, n_features)
    rank : int
        ``r``, the columns of ``P``.
    out : ndarray of shape (n_samples, rank + 1), optional
        Where to write (float32 for the kernel); float64 if not given.

    Returns
    -------
    ndarray of shape (n_samples, rank + 1)
    """
    if out is None:
        out = np.empty((X.shape[0], rank + 1))
    leading = np.ascontiguousarray(basis[:, :rank])
    step = max(1, (1 << 16) // X.shape[1])
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        # A copy, even of float64 rows: the residual is formed in place.
        block = np.array(X[rows], dtype=np.float64)
        coordinates = block @ leading
        out[rows, :rank] = coordinates
        block -= coordinates @ leading.T
        out[rows, rank] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return out


def candidate_count(sample, centers, basis, rank):
    """Mean number of centers each row must compare exactly at this rank.

    Those whose lower bound ``|x' - c'|^2`` is at most the exact squared
    distance to the center with the smallest bound (itself included), in
    float64 without rounding allowances, a block of rows at a time (no
    rows x centers matrices of the whole sample).
    """
    c = project(centers, basis, rank)
    c_norms = np.einsum("ij,ij->i", c, c)
    center_norms = np.einsum("ij,ij->i", centers, centers)
    total = 0
    for start in range(0, sample.shape[0], _COUNT_ROWS):
        rows = sample[start : start + _COUNT_ROWS]
        x = project(rows, basis, rank)
        bound = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * x @ c.T + c_norms
        first = bound.argmin(axis=1)
        exact = (
            np.einsum("ij,ij->i", rows, rows)
            - 2.0 * np.einsum("ij,ij->i", rows, centers[first])
            + center_norms[first]
        )
        total += int((bound <= exact[:, None] * (1 + 1e-9)).sum())
    return total / sample.shape[0]


def projected_cost(rank, n_clusters, n_features, exact_per_point):
    """Estimated cost per ranked point of the projected ranking."""
    return (
        rank + 1 + _PASS_COST
    ) * n_clusters + _EXACT_COST * n_features * exact_per_point


def full_cost(n_clusters, n_features):
    """Estimated cost per ranked point of the ranking in all features."""
    return (n_features + _PASS_COST) * n_clusters


def may_pay(n_clusters, n_features):
    """Whether any rank could meet the cost rule with these sizes (with one
    exact distance per point, the least possible)."""
    return n_features >= _MIN_FEATURES and projected_cost(
        8, n_clusters, n_features, 1.0
    ) <= _MAX_COST_FRACTION * full_cost(n_clusters, n_features)


# Rows below which the rank is not chosen at all. The choice costs about the
# same on any table of more rows than its sample (the basis, then candidate
# counts on the sample at each rank tried), and the projection saves a share
# of each step's product. Lloyd runs from the same k-means++ init, with and
# without it, on ``make_embeddings`` rows (64 features, loaded machine, CPU
# time): 1.05x-1.6x the time with it up to 5,000 rows (k = 32 to 256; on
# digits, 1,797 x 64 with k = 32, the choice was a quarter of the fit),
# 1.01x at 8,000, 0.91x-1.07x at 10,000 rows, 0.75x-0.97x at 20,000 to 30,000 and
# 0.66x-0.85x at 50,000 (k = 64 and 256).
_MIN_ROWS = 10_000


def worth_choosing(n_samples, n_clusters, n_features):
    """Whether a fit of these sizes chooses a rank at all: enough rows to
    repay the choice (``_MIN_ROWS``), and sizes for which some rank could
    pay (:func:`may_pay`)."""
    return n_samples >= _MIN_ROWS and may_pay(n_clusters, n_features)


def choose_rank(X, centers, basis):
    """The rank ``r`` of lowest estimated cost, or None if no rank pays.

    On at most ``_SAMPLE_ROWS`` evenly spaced rows of ``X`` and the current
    centers, for ``r`` in steps of 8 up to ``n_features / 2``, until no
    larger rank can cost less: the mean number of exact comparisons per row
    gives ``projected_cost``, which must be at most ``_MAX_COST_FRACTION``
    of ``full_cost``.
    """
    n_clusters, n_features = centers.shape
    if not may_pay(n_clusters, n_features):
        return None
    step = max(1, X.shape[0] // _SAMPLE_ROWS)
    sample = np.asarray(X[::step], dtype=np.float64)
    best_rank, best_cost = None, _MAX_COST_FRACTION * full_cost(n_clusters, n_features)
    for rank in range(8, n_features // 2 + 1, 8):
        if projected_cost(rank, n_clusters, n_features, 1.0) >= best_cost:
            # No larger rank can cost less: at least one exact distance.
            break
        count = candidate_count(sample, centers, basis, rank)
        cost = projected_cost(rank, n_clusters, n_features, count)
        if cost <= best_cost:
            best_rank, best_cost = rank, cost
    return best_rank


class ProjectedRows:
    """The rows of a table in ``r + 1`` dimensions, for the compiled kernel.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    basis : ndarray of shape (n_features, n_features)
    rounding : float
        From ``principal_basis``.
    rank : int
    over_blocks : callable
        ``over_blocks(f)`` calls ``f(rows)`` on slices covering the rows,
        possibly in threads.

    Attributes
    ----------
    rows : ndarray of shape (n_samples, rank + 1), float32
    squared_norms : ndarray of shape (n_samples,)
        ``|x'|^2`` of ``rows``, in float64.
    basis_error : float
    """

    def __init__(self, X, basis, rounding, rank, over_blocks):
        self.basis = basis
        self.rank = rank
        self.basis_error = basis_error(rounding, X.shape[1])
        self.rows = np.empty((X.shape[0], rank + 1), dtype=np.float32)
        self.squared_norms = np.empty(X.shape[0])

        def project_block(rows):
            project(X[rows], basis, rank, out=self.rows[rows])
            np.einsum(
                "ij,ij->i",
                self.rows[rows],
                self.rows[rows],
                dtype=np.float64,
                out=self.squared_norms[rows],
            )

        over_blocks(project_block)

    def centers(self, centers):
        """``c'`` in float64, rounded to float32, and ``|c'|^2`` in float32."""
        projected = project(centers, self.basis, self.rank)
        norms = np.einsum("ij,ij->i", projected, projected)
        return projected, projected.astype(np.float32), norms.astype(np.float32)

    def pays(self, n_clusters, ranked, extra_exact):
        """Whether the projection still pays after ``ranked`` points needed
        ``extra_exact`` exact distances beyond one each."""
        n_features = self.basis.shape[0]
        exact_per_point = 1.0 + extra_exact / max(1, ranked)
        return projected_cost(
            self.rank, n_clusters, n_features, exact_per_point
        ) <= full_cost(n_clusters, n_features)
