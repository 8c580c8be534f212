"""Lloyd runs over a scipy sparse CSR table: the sparse path of ``KMeansL2``
and ``KMeansL1``.

``SparseRuns`` is a runs object of the Lloyd engine (``_engine``), as
``InMemoryRuns`` is for dense points: the engine's loop, seeding, empty
cluster relocation and stopping rule run unchanged. What differs is how
distances and updates are formed without densifying the table, by the
metric (``SparseEuclidean`` or ``SparseManhattan``):

- L2 squared distances are ``|x|^2 - 2 x.c + |c|^2``, with ``x.c`` from the
  sparse-dense product ``X @ C.T`` (for all centers) or from the stored
  values of a row times its own center's coordinates (for one center); L1
  distances are ``|c|_1`` plus, over the stored values only,
  ``|x_j - c_j| - |c_j|``;
- cluster sums add each row's stored values only, by a ``bincount`` over
  ``label * n_features + column``; the medians (``SparseMedians``) weigh
  the implicit zeros of each cluster and feature as one value;
- Hamerly's bounds skip the rows whose label cannot change, as in
  ``_inmemory``, with a margin for the rounding of the expanded distances.

Repeated rows are merged exactly (``merge_duplicate_sparse_rows``); the rows
are not centered (that would densify them); they are scaled by a power of
two as the dense fit scales its points (``_scaling``), which rounds nothing.
Passes over every stored value go block by block, so that their
temporaries stay small. None of the functions here validates its input:
``X`` is a canonical float64 CSR matrix (``as_csr``) and weights are
non-negative float64.
"""

import numpy as np
from scipy import sparse

from ._dedup import DistinctRows, distinct_weights
from ._engine import Candidates, Step, lloyd, seed_points
from ._medians import _medians_of_groups
from ._metrics import ClusterMeans, Euclidean, Manhattan

# Rounding of an expanded squared distance is a few ulps of |x|^2 + |c|^2; on
# a distance near zero that is sqrt of it. A bound proves a label only past
# this many multiples of sqrt(eps) * (|x| + |c|), so that rounding never
# decides which rows are re-examined.
_BOUND_MARGIN = 8 * np.sqrt(np.finfo(np.float64).eps)

# Rows whose distances to every center are formed at a time, so that the
# (rows x centers) matrix and the copy of the rows stay small.
_BLOCK_ELEMENTS = 1 << 16

# Stored values handled at a time by the passes over every row.
_BLOCK_STORED = 1 << 16

# Rows gathered (copied) at a time from a selection of rows.
_SUBSET_ROWS = 4096


def as_csr(X):
    """``X`` as a canonical CSR matrix: sorted indices, duplicates summed, no
    stored zeros (so equal rows store the same columns and values)."""
    X = sparse.csr_matrix(X)
    if not X.has_canonical_format or not X.data.all():
        X = X.copy()
        X.sum_duplicates()
        X.eliminate_zeros()
    return X


def merge_duplicate_sparse_rows(X, sample_weight):
    """Collapse identical rows of a canonical CSR ``X`` into weighted distinct rows.

    Rows are keyed by their number of stored values and two random
    projections (equal rows give bitwise equal keys: the same products summed
    in the same order); every merge is then checked for exact equality. As
    for dense rows (``_dedup``), the distinct rows come back in an order that
    depends only on the set of rows, so that repeated rows and integer
    weights give the same fit.

    Returns
    -------
    DistinctRows
        ``points`` is a new CSR matrix.
    """
    projections = np.random.default_rng(0).standard_normal((X.shape[1], 2))
    keys = np.column_stack([np.diff(X.indptr), np.asarray(X @ projections)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    representative = first[inverse]
    repeated = np.flatnonzero(representative != np.arange(X.shape[0]))
    if repeated.size and (X[repeated] != X[representative[repeated]]).nnz:
        return _merge_sparse_by_content(X, sample_weight)
    weights = distinct_weights(inverse, sample_weight, first.size)
    return DistinctRows(X[first], weights, inverse)


def _merge_sparse_by_content(X, sample_weight):
    """The merge keyed by each row's bytes: the fallback for the
    (astronomically rare) equal projections of distinct rows."""
    keys = [
        (X.indices[a:b].tobytes(), X.data[a:b].tobytes())
        for a, b in zip(X.indptr[:-1].tolist(), X.indptr[1:].tolist(), strict=True)
    ]
    position = {key: j for j, key in enumerate(sorted(set(keys)))}
    inverse = np.array([position[key] for key in keys], dtype=np.intp)
    first = np.unique(inverse, return_index=True)[1]
    weights = distinct_weights(inverse, sample_weight, first.size)
    return DistinctRows(X[first], weights, inverse)


def row_ids(X):
    """The row of each stored value of a CSR matrix."""
    return np.repeat(np.arange(X.shape[0], dtype=np.intp), np.diff(X.indptr))


def row_blocks(X):
    """Consecutive rows of a CSR ``X`` in blocks of about ``_BLOCK_STORED``
    stored values: ``(start, stop, block)``, the block a view of ``X``.

    Passes over every stored value go block by block, so that their
    temporaries stay a few MiB whatever the size of the table.
    """
    marks = np.arange(0, X.nnz, _BLOCK_STORED)
    edges = np.unique(np.concatenate([np.searchsorted(X.indptr, marks), [X.shape[0]]]))
    start = 0
    for stop in edges.tolist():
        if stop > start:
            yield start, stop, rows_view(X, start, stop)
            start = stop


def rows_view(X, start, stop):
    """Rows ``start:stop`` of a CSR matrix, sharing its values and indices."""
    first, last = X.indptr[start], X.indptr[stop]
    return sparse.csr_matrix(
        (X.data[first:last], X.indices[first:last], X.indptr[start : stop + 1] - first),
        shape=(stop - start, X.shape[1]),
        copy=False,
    )


def row_subsets(X, rows, n_rows):
    """The rows ``rows`` of a CSR ``X`` in blocks of at most ``n_rows``:
    ``(positions, block)``, a view where the rows are consecutive, else a
    copy of that many rows only."""
    for start in range(0, rows.size, n_rows):
        part = rows[start : start + n_rows]
        if np.array_equal(part, np.arange(part[0], part[0] + part.size)):
            block = rows_view(X, part[0], part[-1] + 1)
        else:
            block = X[part]
        yield slice(start, start + part.size), block


def squared_row_norms(X):
    """``|x|^2`` of each row, from its stored values."""
    norms = np.empty(X.shape[0])
    for start, stop, block in row_blocks(X):
        norms[start:stop] = np.bincount(
            row_ids(block), weights=block.data**2, minlength=stop - start
        )
    return norms


def own_squared_distance(X, centers, labels, squared_norms=None):
    """``|x_i - c_{labels[i]}|^2`` of each row (clipped at zero).

    The dot product of a row with its own center reads only the row's stored
    values and the center's coordinates in the same columns.
    """
    if squared_norms is None:
        squared_norms = squared_row_norms(X)
    squared = np.einsum("ij,ij->i", centers, centers)[labels]
    squared += squared_norms
    for start, stop, block in row_blocks(X):
        rows = row_ids(block)
        values = centers[labels[start:stop][rows], block.indices]
        values *= block.data
        squared[start:stop] -= 2.0 * np.bincount(
            rows, weights=values, minlength=stop - start
        )
    return np.maximum(squared, 0.0, out=squared)


class SparseEuclidean(Euclidean):
    """The L2 metric on CSR rows: distance matrices by sparse-dense products.

    Centers stay dense; rows of ``X`` are never densified. ``pairwise_cost``,
    ``pairwise`` and ``cost`` serve ``nearest_center`` and the engine's
    k-means++ seeding; the rest serves ``SparseRuns``, whose per-row terms
    are the squared row norms.
    """

    dense = Euclidean

    @staticmethod
    def pairwise_cost(X, centers):
        """Squared distances of every row to every center (clipped at zero)."""
        if sparse.issparse(centers):
            centers = centers.toarray()
        squared = np.asarray(X @ centers.T)
        squared *= -2.0
        squared += squared_row_norms(X)[:, None]
        squared += np.einsum("ij,ij->i", centers, centers)[None, :]
        return np.maximum(squared, 0.0, out=squared)

    @staticmethod
    def paired(X, centers):
        """Distance of row ``i`` to ``centers[i]``."""
        return np.sqrt(
            own_squared_distance(X, centers, np.arange(X.shape[0], dtype=np.intp))
        )

    row_terms = staticmethod(squared_row_norms)

    @staticmethod
    def sizes(row_terms, centers):
        """Norms of the rows and largest norm of the centers (bound margins)."""
        return np.sqrt(row_terms), np.sqrt(
            np.einsum("ij,ij->i", centers, centers).max()
        )

    @staticmethod
    def own_distance(X, centers, labels, row_terms):
        return np.sqrt(own_squared_distance(X, centers, labels, row_terms))

    @staticmethod
    def distance_matrix(X, centers, row_terms):
        """Squared distances (the ranking) of rows to every center; ``sqrt``
        of the selected entries gives distances (``from_squared``)."""
        squared = np.asarray(X @ (-2.0 * centers.T))
        squared += np.einsum("ij,ij->i", centers, centers)
        squared += row_terms[:, None]
        return squared

    @staticmethod
    def from_ranking(X, rank):
        return np.sqrt(np.maximum(rank, 0.0))

    @staticmethod
    def updater(X, sample_weight, n_clusters):
        return _SparseSums(X, sample_weight, n_clusters)


def manhattan_matrix(X, centers):
    """Manhattan distance of every CSR row to every center.

    ``|x - c|_1 = |c|_1 + sum over the row's stored values of
    (|x_j - c_j| - |c_j|)``: the implicit zeros cost ``|c_j|`` each.
    """
    if sparse.issparse(centers):
        centers = centers.toarray()
    n_clusters = centers.shape[0]
    distance = np.empty((X.shape[0], n_clusters))
    center_norms = np.abs(centers).sum(axis=1)
    for start, stop, block in row_blocks(X):
        gathered = centers[:, block.indices]
        change = np.abs(block.data - gathered)
        change -= np.abs(gathered)
        # Summed per row by the product with the block's own pattern.
        pattern = sparse.csr_matrix(
            (np.ones(block.nnz), np.arange(block.nnz), block.indptr),
            shape=(stop - start, block.nnz),
        )
        distance[start:stop] = np.asarray(pattern @ change.T)
    distance += center_norms
    return distance


class SparseManhattan(Manhattan):
    """The L1 metric on CSR rows (see ``manhattan_matrix``), exact medians."""

    dense = Manhattan

    @staticmethod
    def pairwise(X, centers):
        return manhattan_matrix(X, centers)

    pairwise_cost = pairwise

    @staticmethod
    def paired(X, centers):
        return manhattan_own(X, centers, np.arange(X.shape[0], dtype=np.intp))

    @staticmethod
    def row_terms(X):
        """L1 norm of each row."""
        norms = np.empty(X.shape[0])
        for start, stop, block in row_blocks(X):
            norms[start:stop] = np.bincount(
                row_ids(block), weights=np.abs(block.data), minlength=stop - start
            )
        return norms

    @staticmethod
    def sizes(row_terms, centers):
        return row_terms, np.abs(centers).sum(axis=1).max()

    @staticmethod
    def own_distance(X, centers, labels, row_terms):
        return manhattan_own(X, centers, labels)

    @staticmethod
    def distance_matrix(X, centers, row_terms):
        return manhattan_matrix(X, centers)

    @staticmethod
    def from_ranking(X, rank):
        return rank

    @staticmethod
    def updater(X, sample_weight, n_clusters):
        return SparseMedians(X, sample_weight, n_clusters)


def manhattan_own(X, centers, labels):
    """``|x_i - c_{labels[i]}|_1`` of each CSR row."""
    distance = np.abs(centers).sum(axis=1)[labels]
    for start, stop, block in row_blocks(X):
        rows = row_ids(block)
        gathered = centers[labels[start:stop][rows], block.indices]
        change = np.abs(block.data - gathered)
        change -= np.abs(gathered)
        distance[start:stop] += np.bincount(
            rows, weights=change, minlength=stop - start
        )
    return distance


def sparse_seed(X, weights, n_clusters, init, metric, random_state):
    """k-means++ or random initial centers among the rows of ``X``, dense."""
    centers = seed_points(X, weights, n_clusters, init, metric, random_state)
    return centers.toarray() if sparse.issparse(centers) else centers


def sparse_tolerance(X, weights, tol):
    """``tol`` times the mean per-feature weighted variance, as the dense fit's.

    Each feature's variance is its weighted sum of squared deviations over
    the stored values plus the implicit zeros' (their weight times the
    squared mean).
    """
    if tol == 0:
        return 0.0
    total = weights.sum()
    n_features = X.shape[1]

    def blocks():
        for start, stop, block in row_blocks(X):
            yield block.indices, block.data, weights[start:stop][row_ids(block)]

    mean = np.zeros(n_features)
    stored_weight = np.zeros(n_features)
    spread = np.zeros(n_features)
    for columns, values, w in blocks():
        mean += np.bincount(columns, weights=w * values, minlength=n_features)
        stored_weight += np.bincount(columns, weights=w, minlength=n_features)
    mean /= total
    for columns, values, w in blocks():
        deviation = values - mean[columns]
        deviation **= 2
        deviation *= w
        spread += np.bincount(columns, weights=deviation, minlength=n_features)
    spread += (total - stored_weight) * mean**2
    return float(np.mean(spread / total) * tol)


class _SparseSums(ClusterMeans):
    """Weighted sums and weights per cluster of CSR rows, kept between steps,
    as ``ClusterMeans`` keeps them for dense points (recomputed from every
    row when many rows changed cluster, moved row by row otherwise)."""

    def _add_all(self, labels):
        _add_rows(self._X, self._weights, labels, self._sums.reshape(-1))

    def _move(self, changed, weights, new, previous):
        flat_sums = self._sums.reshape(-1)
        for part, moved in row_subsets(self._X, changed, _SUBSET_ROWS):
            _add_rows(moved, weights[part], new[part], flat_sums)
            _add_rows(moved, -weights[part], previous[part], flat_sums)


def _add_rows(X, weights, clusters, sums):
    """``sums[clusters[r] * n_features:][:n_features] += weights[r] * X[r]``
    for every CSR row r of ``X`` (``sums`` flat)."""
    for start, stop, block in row_blocks(X):
        rows = row_ids(block)
        flat = clusters[start:stop][rows] * X.shape[1] + block.indices
        values = weights[start:stop][rows] * block.data
        sums += np.bincount(flat, weights=values, minlength=sums.size)


class SparseMedians:
    """Exact weighted coordinate-wise medians per cluster of CSR rows.

    In each (feature, cluster) the values are the cluster's stored values in
    that feature and its implicit zeros, which weigh the cluster's weight
    less the weight of the stored values (nothing when every row of the
    cluster stores a value there). The stored values are sorted once per fit,
    by feature then value, with one zero slot per cluster between each
    feature's negative and positive values; an update groups them by
    (feature, cluster) with a stable sort, which keeps the values ascending,
    and takes the medians of the groups as the dense update does
    (``_medians``: the midpoint when the cumulative weight reaches exactly
    half). The medians are those of ``X.toarray()``.
    """

    def __init__(self, X, sample_weight, n_clusters):
        k, n_features = n_clusters, X.shape[1]
        self._weights = sample_weight
        self._n_clusters = k
        self._n_features = n_features
        # Group numbers (feature * k + cluster, and one past them for the
        # zero slots that weigh nothing) fit in int32 on any table whose
        # dense copy could be held.
        self._group_type = np.int32 if n_features * k < 2**31 - 1 else np.int64
        order = np.lexsort((X.data, X.indices))
        columns = X.indices[order]
        negative = np.bincount(columns[X.data[order] < 0], minlength=n_features)
        starts = np.searchsorted(columns, np.arange(n_features))
        slots = np.repeat(starts + negative, k)
        # The sequence holds the stored values in (feature, value) order and
        # one zero slot per (feature, cluster) between the negative and the
        # positive values of the feature; the slots come in group order.
        positions = np.insert(np.arange(order.size), slots, -1)
        self._stored = positions >= 0
        self._values = np.zeros(positions.size)
        self._values[self._stored] = X.data[order]
        self._columns = columns.astype(self._group_type)
        self._rows = row_ids(X)[order].astype(
            np.int32 if X.shape[0] < 2**31 else np.intp
        )
        self._stored_weights = sample_weight[self._rows]

    def update(self, labels, changed, previous):
        """Medians (NaN rows for empty clusters) and sizes of the clusters."""
        k, n_groups = self._n_clusters, self._n_features * self._n_clusters
        sizes = np.bincount(labels, minlength=k)
        weight = np.bincount(labels, weights=self._weights, minlength=k)
        group = np.empty(self._values.size, dtype=self._group_type)
        stored_groups = self._columns * k
        stored_groups += labels[self._rows]
        group[self._stored] = stored_groups
        stored_weight = np.bincount(
            stored_groups, weights=self._stored_weights, minlength=n_groups
        )
        stored_count = np.bincount(stored_groups, minlength=n_groups)
        del stored_groups
        cluster = np.tile(np.arange(k), self._n_features)
        has_zeros = stored_count < sizes[cluster]
        zero_slots = np.where(has_zeros, np.arange(n_groups), n_groups)
        group[~self._stored] = zero_slots
        entry_weight = np.empty(self._values.size)
        entry_weight[self._stored] = self._stored_weights
        entry_weight[~self._stored] = np.where(
            has_zeros, weight[cluster] - stored_weight, 0.0
        )
        # Zero slots that weigh nothing go to a last group, left out: the
        # midpoint rule must not take their zero for a value of the cluster.
        grouped = np.argsort(group, kind="stable")
        sizes_of_groups = np.bincount(group, minlength=n_groups + 1)
        del group
        kept = grouped[: self._values.size - sizes_of_groups[n_groups]]
        medians = _medians_of_groups(
            self._values[kept],
            np.cumsum(entry_weight[kept]),
            sizes_of_groups[:n_groups],
            weight[cluster],
            np.full(n_groups, np.nan),
        )
        return medians.reshape(self._n_features, k).T.copy(), sizes


class SparseRuns:
    """One Lloyd run over CSR rows, with Hamerly's bounds.

    ``upper`` bounds each row's distance to its own center and ``lower`` its
    distance to every other center. After the centers move, a row whose upper
    bound (plus a rounding margin) stays strictly below ``max(lower, half gap of its
    center)`` keeps its label; the others first get an exact upper bound (one
    sparse dot product), and only those that still fail are compared with
    every center.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Canonical, float64.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights, at least one positive.
    n_clusters : int
    metric : SparseEuclidean or SparseManhattan
    """

    def __init__(self, X, sample_weight, n_clusters, metric=SparseEuclidean):
        n_samples = X.shape[0]
        self.X = X
        self.sample_weight = sample_weight
        self.metric = metric
        self.labels = np.zeros(n_samples, dtype=np.intp)
        self.upper = np.zeros(n_samples)
        self.lower = np.full(n_samples, -np.inf)
        self._terms = metric.row_terms(X)
        self._shift = np.zeros(n_clusters)
        self._half_gap = np.full(n_clusters, -np.inf)
        self._updater = metric.updater(X, sample_weight, n_clusters)
        self._changed = None

    # --- the assignment step ---

    def _nearest_two(self, rows, centers):
        """Labels, nearest and second nearest distances of ``rows``."""
        n_clusters = centers.shape[0]
        labels = np.empty(rows.size, dtype=np.intp)
        nearest = np.empty(rows.size)
        second = np.full(rows.size, np.inf)
        step = max(64, _BLOCK_ELEMENTS // n_clusters)
        for part, block in row_subsets(self.X, rows, step):
            rank = self.metric.distance_matrix(block, centers, self._terms[rows[part]])
            index = np.arange(rank.shape[0])
            best = rank.argmin(axis=1)
            labels[part] = best
            nearest[part] = rank[index, best]
            if n_clusters > 1:
                rank[index, best] = np.inf
                second[part] = rank.min(axis=1)
        return (
            labels,
            self.metric.from_ranking(None, nearest),
            self.metric.from_ranking(None, second),
        )

    def _suspects(self, centers):
        """Rows whose bounds, moved by the last center shift, fail."""
        shift = self._shift
        if self._changed is None:
            return np.arange(self.labels.size)
        self.upper += shift[self.labels]
        # Every other center moved by at most the largest shift, except for
        # rows of the center that moved most: the second largest.
        order = np.argsort(shift)[::-1]
        other = np.full(shift.size, shift[order[0]])
        if shift.size > 1:
            other[order[0]] = shift[order[1]]
        # A center that came from infinitely far (an initial center far
        # outside the data) makes the lower bound of the rows that had it
        # second inf - inf: NaN, a bound that holds nothing, so the tests
        # below keep a row only where it is strictly below its bound.
        with np.errstate(invalid="ignore"):
            self.lower -= other[self.labels]
        row_sizes, center_size = self.metric.sizes(self._terms, centers)
        margin = _BOUND_MARGIN * (row_sizes + center_size)
        bound = np.maximum(self.lower, self._half_gap[self.labels]) - margin
        suspect = np.flatnonzero(~(self.upper < bound))
        if suspect.size:
            self.upper[suspect] = self._own(suspect, centers)
            suspect = suspect[~(self.upper[suspect] < bound[suspect])]
        return suspect

    def _own(self, rows, centers, labels=None):
        """Distance of ``rows`` to their centers (``labels`` of ``rows``, by
        default their current labels)."""
        if labels is None:
            labels = self.labels[rows]
        own = np.empty(rows.size)
        for part, block in row_subsets(self.X, rows, _SUBSET_ROWS):
            own[part] = self.metric.own_distance(
                block, centers, labels[part], self._terms[rows[part]]
            )
        return own

    def _assign(self, centers):
        """One assignment step; returns the rows that changed and their old labels."""
        suspect = self._suspects(centers)
        self._shift = np.zeros_like(self._shift)
        labels, nearest, second = self._nearest_two(suspect, centers)
        previous = self.labels[suspect]
        self.labels[suspect] = labels
        self.upper[suspect] = nearest
        self.lower[suspect] = second
        changed = labels != previous
        return suspect[changed], previous[changed]

    # --- the runs interface of the engine ---

    def assign(self, runs, centers):
        (center,) = centers
        changed, previous = self._assign(center)
        self._changed = changed
        new_centers, sizes = self._updater.update(self.labels, changed, previous)
        return [Step(new_centers, sizes, changed.size)]

    def farthest(self, runs, assigned, limit):
        (centers,) = assigned
        distance = self.metric.own_distance(self.X, centers, self.labels, self._terms)
        order = np.argsort(-distance, kind="stable")[:limit]
        return [Candidates(distance[order], order, self.labels[order])]

    def move(self, run, index, targets):
        previous = self.labels[index]
        self.labels[index] = targets
        centers, sizes = self._updater.update(self.labels, index, previous)
        # A moved row's lower bound is unknown: it is re-examined next step.
        self.upper[index] = self._own(index, centers, targets)
        self.lower[index] = 0.0
        changed = np.union1d(self._changed, index)
        return Step(centers, sizes, changed.size)

    def centers_moved(self, run, old, new):
        self._shift = self.metric.dense.paired(new, old)
        if new.shape[0] > 1:
            self.metric.dense.half_gaps(new, self._half_gap)

    def finish(self, centers, strict):
        """Labels of the final centers (one more step unless converged)."""
        if not strict[0]:
            self._assign(centers[0])
        return [self.labels]

    def costs(self, runs, centers):
        cost = self.metric.cost
        return [
            float(
                self.sample_weight
                @ cost(self.metric.own_distance(self.X, c, self.labels, self._terms))
            )
            for c in centers
        ]


def sparse_single_run(
    X, weights, init, n_clusters, seed, metric, max_iter, tol, verbose
):
    """One initialization and Lloyd run over CSR rows (see ``SparseRuns``)."""
    random_state = np.random.RandomState(seed)
    if isinstance(init, str):
        centers = sparse_seed(X, weights, n_clusters, init, metric, random_state)
    else:
        centers = init
    if verbose:
        print("Initialization complete")
    runs = SparseRuns(X, weights, n_clusters, metric)
    (result,) = lloyd(runs, [centers], [tol], max_iter, verbose)
    return result
