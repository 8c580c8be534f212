"""Exact weighted medians per cluster: the center update of the L1 metric.

In memory (``ClusterMedians``), a feature whose values are integers of small
range (8-bit colours) keeps a weighted histogram of its values per cluster,
updated from the points that changed cluster; its medians are read off the
cumulative histogram. Other features have their medians selected again at
every update from the points grouped by cluster, a few features at a time:
by a partial sort when all weights are equal, else by partial sorts that
narrow each cluster's values down to a few, which are then sorted.

On rows read in blocks (``MedianStats`` and :func:`select_medians`), the
histograms add over blocks as they are; other features find each cluster's
median by counting in value ranges: every pass counts the rows of each
(cluster, feature) in 256 sub-ranges of the range known to hold the median,
until few rows are left in it, and a last pass collects those rows. Ranges
are taken over the float64 bit patterns made monotone, so they split exactly
and no value is rounded: the medians are those of the in-memory update.
"""

from dataclasses import dataclass

import numpy as np

# Widest value range (max - min + 1) kept as a per-cluster histogram.
_HISTOGRAM_MAX_SPAN = 4096

# The weighted in-memory update narrows a cluster's values down for at most
# this many rounds, and sorts them once this few are left.
_SELECT_ROUNDS = 6
_SORTED_GROUP = 256

# Bytes of features gathered by cluster at a time by the in-memory update
# (at most a sixteenth of the table), and rows gathered per chunk.
_GATHER_BYTES = 1 << 24
_GATHER_CHUNK = 1 << 14

# Sub-ranges per pass of the selection on rows read in blocks (a power of 2).
_SELECT_BITS = 8
_SELECT_BINS = 1 << _SELECT_BITS

# A (cluster, feature) whose median sub-range holds at most this many rows
# has them collected and sorted.
_COLLECT_ROWS = 256

_TOP_BIT = np.uint64(1 << 63)
_NO_KEY = np.iinfo(np.uint64).max


# --- In memory ---------------------------------------------------------------


def small_integer_codes(column):
    """``(codes, low, span)`` when ``column`` holds integers of small range."""
    low, high = column.min(), column.max()
    span = int(high - low) + 1
    if span > _HISTOGRAM_MAX_SPAN or not np.array_equal(column, np.rint(column)):
        return None
    return (column - low).astype(np.intp), low, span


class ClusterMedians:
    """Weighted coordinate-wise medians of in-memory points, kept between steps.

    Features of small integers keep their per-cluster histograms between
    steps; the others are selected again at every step from the points
    grouped by cluster (:func:`grouped_medians`), so that nothing of the
    size of the table is kept besides the points themselves.
    """

    def __init__(self, X, sample_weight, n_clusters):
        self._X = X
        self._weights = sample_weight
        self._n_clusters = n_clusters
        # Equal weights (no merged duplicates): medians by selection.
        self._equal_weights = bool(np.all(sample_weight == sample_weight[0]))
        self._codes = [small_integer_codes(column) for column in X.T]
        self._selected = [j for j, codes in enumerate(self._codes) if codes is None]
        self._histograms = [None] * X.shape[1]

    def update(self, labels, changed, previous):
        """Medians (NaN rows for empty clusters) and sizes of the clusters,
        given the points that changed label since the last call and their
        old labels (as ``ClusterMeans.update``)."""
        k = self._n_clusters
        sizes = np.bincount(labels, minlength=k)
        medians = np.empty((k, len(self._codes)))
        if self._selected:
            medians[:, self._selected] = grouped_medians(
                self._X,
                self._selected,
                None if self._equal_weights else self._weights,
                labels,
                sizes,
            )
        for j, codes in enumerate(self._codes):
            if codes is None:
                continue
            codes, low, span = codes
            self._histograms[j] = _update_histogram(
                self._histograms[j],
                codes,
                span,
                self._weights,
                labels,
                changed,
                previous,
                k,
            )
            self._histograms[j][sizes == 0] = 0.0
            medians[:, j] = histogram_medians(self._histograms[j]) + low
        return medians, sizes


def grouped_medians(X, features, weights, labels, sizes):
    """Exact weighted median of each cluster in each of ``features``.

    The median of a cluster is a value at which the cluster's cumulative
    weight, in ascending order of values, first reaches half its total. When
    it reaches exactly half, every value between that one and the next
    minimises the L1 cost; the midpoint is returned, which is what
    ``numpy.median`` gives for unit weights.

    The rows are gathered by cluster, a few features at a time (at most
    ``_GATHER_BYTES``, or a sixteenth of ``X``). With equal weights
    (``weights`` is None) each cluster's median is selected by a partial sort
    of its values (``numpy.partition``); otherwise by
    :func:`_weighted_median`. Both take linear time in effect.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    features : list of int
        Columns of ``X`` whose medians are wanted.
    weights : ndarray of shape (n_samples,) or None
        Positive weights, or None when all weights are equal.
    labels : ndarray of shape (n_samples,)
    sizes : ndarray of shape (n_clusters,)
        ``bincount(labels)``.

    Returns
    -------
    medians : ndarray of shape (n_clusters, len(features))
        NaN rows for empty clusters.
    """
    n_clusters = sizes.shape[0]
    medians = np.full((n_clusters, len(features)), np.nan)
    # Small integer keys make numpy's stable sort a linear-time radix sort.
    key_type = np.int16 if n_clusters <= np.iinfo(np.int16).max else np.int32
    members = np.argsort(labels.astype(key_type), kind="stable")
    grouped_weights = None if weights is None else weights[members]
    stops = np.cumsum(sizes)
    column_bytes = max(1, X.shape[0] * X.itemsize)
    step = max(1, min(_GATHER_BYTES, X.nbytes // 16) // column_bytes)
    position = {feature: i for i, feature in enumerate(features)}
    for columns in _feature_blocks(features, step):
        grouped = _gather_columns(X, members, columns)
        for feature, values in zip(
            range(columns.start, columns.stop), grouped, strict=True
        ):
            column = medians[:, position[feature]]
            if grouped_weights is not None:
                column[:] = _weighted_medians_of_groups(
                    values, grouped_weights, sizes, stops
                )
                continue
            for cluster in np.flatnonzero(sizes):
                group = slice(stops[cluster] - sizes[cluster], stops[cluster])
                column[cluster] = _equal_weight_median(values[group])
    return medians


def _weighted_medians_of_groups(values, weights, sizes, stops):
    """Weighted medians of consecutive groups of ``values``.

    One round of :func:`_weighted_median` for all groups at once (two values
    per group picked by a partial sort; the weight below, between and above
    them counted over the whole array), then the values between the two,
    few, sorted by group. A group whose median falls outside its two values
    (very uneven weights) is left to :func:`_weighted_median`.
    """
    n_groups = sizes.shape[0]
    starts = stops - sizes
    group = np.repeat(np.arange(n_groups), sizes)
    half = 0.5 * np.bincount(group, weights=weights, minlength=n_groups)
    low = np.full(n_groups, np.inf, dtype=values.dtype)
    high = np.full(n_groups, -np.inf, dtype=values.dtype)
    for g in np.flatnonzero(sizes):
        size = int(sizes[g])
        ranks = _bracketing_ranks(size / 2, size)
        low[g], high[g] = np.partition(values[starts[g] : stops[g]], ranks)[ranks]
    under = values < np.repeat(low, sizes)
    over = values > np.repeat(high, sizes)
    under_weight = np.bincount(group, weights=weights * under, minlength=n_groups)
    inside = ~(under | over)
    del under
    inside_weight = np.bincount(group, weights=weights * inside, minlength=n_groups)
    following = np.minimum.reduceat(
        np.where(over, values, np.inf), np.minimum(starts, values.shape[0] - 1)
    ).astype(np.float64)
    following[(sizes == 0) | (following == np.inf)] = np.nan
    kept = np.flatnonzero(inside)
    kept_values, kept_group = values[kept], group[kept]
    order = np.lexsort((kept_values, kept_group))
    medians = _medians_of_groups(
        kept_values[order],
        np.cumsum(weights[kept[order]]),
        np.bincount(kept_group, minlength=n_groups),
        2.0 * (half - under_weight),
        following,
    )
    outside = (sizes > 0) & (
        (under_weight >= half) | (under_weight + inside_weight < half)
    )
    for g in np.flatnonzero(outside):
        segment = slice(starts[g], stops[g])
        medians[g] = _weighted_median(values[segment], weights[segment])
    return medians


def _gather_columns(X, rows, columns):
    """``X[rows, columns].T`` as a C-contiguous array, so that each feature's
    values are contiguous. Rows are gathered whole (a few contiguous values
    each, which caches well), a chunk at a time, so that no second array of
    the result's size is made."""
    gathered = np.empty((columns.stop - columns.start, rows.shape[0]), X.dtype)
    for start in range(0, rows.shape[0], _GATHER_CHUNK):
        chunk = slice(start, start + _GATHER_CHUNK)
        gathered[:, chunk] = X[rows[chunk], columns].T
    return gathered


def _feature_blocks(features, step):
    """Slices of consecutive ``features``, at most ``step`` long."""
    blocks = []
    start = 0
    while start < len(features):
        stop = start + 1
        while (
            stop < len(features)
            and stop - start < step
            and features[stop] == features[stop - 1] + 1
        ):
            stop += 1
        blocks.append(slice(features[start], features[stop - 1] + 1))
        start = stop
    return blocks


def _equal_weight_median(values):
    """Median of ``values`` (reordered in place) by a partial sort.

    With an even count the cumulative weight reaches exactly half at the
    lower middle value: the midpoint of the two middle values is returned,
    as :func:`grouped_medians` defines and ``numpy.median`` gives.
    """
    middle = values.shape[0] // 2
    if values.shape[0] % 2:
        values.partition(middle)
        return float(values[middle])
    values.partition([middle - 1, middle])
    # float64: the midpoint of two float32 values is exact there.
    return 0.5 * (float(values[middle - 1]) + float(values[middle]))


def _bracketing_ranks(rank, size):
    """Two ranks either side of ``rank`` among ``size`` values: twice the
    spread of a random sample's median rank, so that the weighted median
    usually falls between the values at those ranks."""
    margin = 2.0 * np.sqrt(size)
    return np.clip([int(rank - margin), int(rank + margin)], 0, size - 1)


def _weighted_median(values, weights):
    """Weighted median of ``values`` (as :func:`grouped_medians` defines it).

    Selection in the manner of Floyd and Rivest: two values are picked by a
    partial sort at ranks a little either side of where the median would be
    if the remaining weights were equal; the values between them (or the
    side that holds the median) are kept, with the weight below them, and
    the few left at the end are sorted. Linear time in effect.
    """
    half = 0.5 * float(weights.sum())
    below = 0.0
    # The smallest value above those kept, which the midpoint rule may need.
    after = np.nan
    for _ in range(_SELECT_ROUNDS):
        size = values.shape[0]
        if size <= _SORTED_GROUP:
            break
        rank = (half - below) / float(weights.sum()) * size
        ranks = _bracketing_ranks(rank, size)
        low, high = np.partition(values, ranks)[ranks]
        under = values < low
        under_weight = below + float(weights.sum(where=under))
        if under_weight >= half:
            values, weights, after = values[under], weights[under], float(low)
            continue
        over = values > high
        inside = ~(under | over)
        through = under_weight + float(weights.sum(where=inside))
        if through < half:
            values, weights, below = values[over], weights[over], through
            continue
        smallest_over = float(np.min(values, where=over, initial=np.inf))
        if smallest_over < np.inf:
            after = smallest_over
        values, weights, below = values[inside], weights[inside], under_weight
        if values.shape[0] == size:
            break
    size = values.shape[0]
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    cumulative = below + np.cumsum(weights[order])
    at = min(int(np.searchsorted(cumulative, half)), size - 1)
    median = float(sorted_values[at])
    if cumulative[at] == half:
        following = sorted_values[at + 1] if at + 1 < size else after
        if not np.isnan(following):
            median = 0.5 * (median + float(following))
    return median


def _update_histogram(histogram, codes, span, weights, labels, changed, previous, k):
    """Per-cluster weighted histogram of ``codes``, shape (k, span).

    Rebuilt from all points on the first call or when many points changed;
    otherwise the changed points are moved from their old row to the new one.
    """
    if histogram is None or 4 * changed.size > labels.shape[0]:
        flat = np.bincount(labels * span + codes, weights=weights, minlength=k * span)
        return flat.reshape(k, span)
    if changed.size:
        moved_codes, moved_weights = codes[changed], weights[changed]
        histogram += np.bincount(
            labels[changed] * span + moved_codes,
            weights=moved_weights,
            minlength=k * span,
        ).reshape(k, span)
        histogram -= np.bincount(
            previous * span + moved_codes, weights=moved_weights, minlength=k * span
        ).reshape(k, span)
    return histogram


def histogram_medians(histogram):
    """Weighted median bin of each row of a (k, span) histogram (NaN if empty).

    As in :func:`grouped_medians`, when the cumulative weight reaches exactly
    half the total, the midpoint between that bin and the next non-empty one is
    returned.
    """
    cumulative = np.cumsum(histogram, axis=1)
    total = cumulative[:, -1]
    half = 0.5 * total
    position = np.argmax(cumulative >= half[:, None], axis=1)
    rows = np.arange(histogram.shape[0])
    bins = np.arange(histogram.shape[1])
    later = (histogram > 0) & (bins[None, :] > position[:, None])
    has_later = later.any(axis=1)
    halfway = (cumulative[rows, position] == half) & has_later
    median = position.astype(np.float64)
    median[halfway] = 0.5 * (position[halfway] + np.argmax(later[halfway], axis=1))
    median[total == 0] = np.nan
    return median


def _medians_of_groups(sorted_values, cumulative, sizes, group_weight, after):
    """Weighted medians of consecutive groups of ascending values.

    ``cumulative`` is the running weight over all groups, ``group_weight``
    each group's total, ``after`` the value following each group's last one
    (NaN when there is none): the midpoint rule may need it.
    """
    stops = np.cumsum(sizes)
    starts = stops - sizes
    medians = np.full(sizes.shape[0], np.nan)
    filled = sizes > 0
    start, stop = starts[filled], stops[filled]
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + 0.5 * group_weight[filled]
    position = np.clip(np.searchsorted(cumulative, target), start, stop - 1)
    # float64: the midpoint of two float32 values is exact there.
    median = sorted_values[position].astype(np.float64)
    exact = cumulative[position] == target
    inside = exact & (position + 1 < stop)
    following_value = sorted_values[position[inside] + 1].astype(np.float64)
    median[inside] = 0.5 * (median[inside] + following_value)
    following = after[filled]
    beyond = exact & (position + 1 == stop) & ~np.isnan(following)
    median[beyond] = 0.5 * (median[beyond] + following[beyond])
    medians[filled] = median
    return medians


# --- On rows read in blocks --------------------------------------------------


def sortable_keys(values):
    """uint64 keys of float64 ``values`` whose order is that of the values."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    return np.where(bits >= _TOP_BIT, ~bits, bits | _TOP_BIT)


def key_values(keys):
    """The float64 values of ``sortable_keys``."""
    keys = np.asarray(keys, dtype=np.uint64)
    return np.where(keys >= _TOP_BIT, keys & ~_TOP_BIT, ~keys).view(np.float64)


@dataclass(frozen=True)
class MedianLayout:
    """Which features keep per-cluster histograms, and their offsets.

    ``histogram[j]`` is ``(low, span)`` for a feature of small integers, else
    None; ``selected`` lists the other features.
    """

    histogram: tuple

    @property
    def selected(self):
        return [j for j, h in enumerate(self.histogram) if h is None]

    @classmethod
    def of(cls, low, high, integral):
        """From each feature's smallest and largest value and integrality."""
        histogram = []
        for lo, hi, whole in zip(low, high, integral, strict=True):
            span = int(hi - lo) + 1
            small = whole and span <= _HISTOGRAM_MAX_SPAN
            histogram.append((float(lo), span) if small else None)
        return cls(tuple(histogram))


@dataclass
class MedianStats:
    """What one pass reduces for the median update of rows read in blocks.

    Per cluster: its size; per histogram feature, a (k, span) row count of its
    values; per selected feature, the smallest and largest key in the cluster.
    """

    sizes: np.ndarray
    histograms: list
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, rows, labels, n_clusters, layout):
        sizes = np.bincount(labels, minlength=n_clusters)
        histograms = []
        for j, entry in enumerate(layout.histogram):
            if entry is None:
                continue
            low, span = entry
            codes = np.rint(rows[:, j] - low).astype(np.intp)
            counts = np.bincount(labels * span + codes, minlength=n_clusters * span)
            histograms.append(counts.reshape(n_clusters, span))
        selected = layout.selected
        low = np.full((n_clusters, len(selected)), _NO_KEY, dtype=np.uint64)
        high = np.zeros((n_clusters, len(selected)), dtype=np.uint64)
        for position, j in enumerate(selected):
            keys = sortable_keys(rows[:, j])
            np.minimum.at(low[:, position], labels, keys)
            np.maximum.at(high[:, position], labels, keys)
        return cls(sizes, histograms, low, high)

    def __add__(self, other):
        return MedianStats(
            self.sizes + other.sizes,
            [a + b for a, b in zip(self.histograms, other.histograms, strict=True)],
            np.minimum(self.low, other.low),
            np.maximum(self.high, other.high),
        )


def medians_from(stats, layout, refine):
    """Coordinate-wise medians of each cluster from a pass's ``MedianStats``.

    ``refine(kernel, *args)`` reduces ``kernel(rows, labels, *args)`` over
    the rows with the labels of that pass; the selected features need a few
    such passes.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        NaN rows for empty clusters.
    """
    n_clusters = stats.sizes.shape[0]
    centers = np.full((n_clusters, len(layout.histogram)), np.nan)
    histograms = iter(stats.histograms)
    for j, entry in enumerate(layout.histogram):
        if entry is not None:
            centers[:, j] = histogram_medians(next(histograms)) + entry[0]
    selected = layout.selected
    if selected:
        centers[:, selected] = select_medians(
            stats.sizes, stats.low, stats.high, selected, refine
        )
    centers[stats.sizes == 0] = np.nan
    return centers


def _bit_length(x):
    """Number of significant bits of each uint64 in ``x``."""
    x = x.copy()
    length = np.zeros(x.shape, dtype=np.uint64)
    for bits in (32, 16, 8, 4, 2, 1):
        big = x >= np.uint64(1 << bits)
        x[big] >>= np.uint64(bits)
        length[big] += np.uint64(bits)
    return length + (x > 0)


def select_medians(sizes, low, high, features, refine):
    """Exact unit-weight medians of ``features`` per cluster, by counting passes.

    Parameters
    ----------
    sizes : ndarray of shape (n_clusters,)
        Rows per cluster.
    low, high : ndarray of shape (n_clusters, n_selected), uint64
        Smallest and largest key of each (cluster, feature).
    features : list of int
        Columns of the rows, one per column of ``low``.
    refine : callable
        See :func:`medians_from`.

    Returns
    -------
    medians : ndarray of shape (n_clusters, n_selected)
    """
    target = np.broadcast_to(0.5 * sizes[:, None], low.shape)
    filled = np.broadcast_to((sizes > 0)[:, None], low.shape)
    low, high = low.copy(), high.copy()
    ready = ~filled | (low == high)
    while not ready.all():
        refining = ~ready
        shift = _bit_length(high - low)
        shift = np.where(shift > _SELECT_BITS, shift - _SELECT_BITS, 0)
        shift = shift.astype(np.uint64)
        counts = refine(_range_counts_kernel, features, low, high, shift, refining)
        below, bins = counts.counts[..., 0], counts.counts[..., 1:]
        cumulative = below[..., None] + np.cumsum(bins, axis=2)
        chosen = np.argmax(cumulative >= target[..., None], axis=2)[..., None]
        in_bin = np.take_along_axis(bins, chosen, axis=2)[..., 0]
        start = low + (chosen[..., 0].astype(np.uint64) << shift)
        stop = np.minimum(high, start + ((np.uint64(1) << shift) - np.uint64(1)))
        low = np.where(refining, start, low)
        high = np.where(refining, stop, high)
        ready |= refining & ((in_bin <= _COLLECT_ROWS) | (low == high))
    found = refine(_collect_kernel, features, low, high, filled & (low < high))
    following = np.where(found.successor == _NO_KEY, np.nan, 0.0)
    known = found.successor != _NO_KEY
    following[known] = key_values(found.successor[known])
    medians = np.full(low.shape, np.nan)
    # A range of one key: every row in it has that value.
    single = filled & (low == high)
    value = key_values(low[single])
    halfway = (found.below[single] + found.count[single] == target[single]) & known[
        single
    ]
    value[halfway] = 0.5 * (value[halfway] + following[single][halfway])
    medians[single] = value
    # Wider ranges: their few rows, sorted, grouped by (cluster, feature).
    order = np.lexsort((found.keys, found.pairs))
    n_pairs = low.size
    per_pair = np.bincount(found.pairs, minlength=n_pairs)
    grouped = _medians_of_groups(
        key_values(found.keys[order]),
        np.arange(1, order.shape[0] + 1, dtype=np.float64),
        per_pair,
        (2.0 * (target - found.below)).ravel(),
        following.ravel(),
    ).reshape(low.shape)
    wide = filled & ~single
    medians[wide] = grouped[wide]
    return medians


@dataclass
class _RangeCounts:
    """Per (cluster, feature): rows below the range, then rows per sub-range."""

    counts: np.ndarray

    def __add__(self, other):
        return _RangeCounts(self.counts + other.counts)


def _range_counts_kernel(rows, labels, features, low, high, shift, active):
    """``_RangeCounts`` of the ``active`` (cluster, feature) pairs on some rows."""
    n_clusters, n_selected = low.shape
    counts = np.zeros((n_clusters, n_selected, _SELECT_BINS + 1), dtype=np.int64)
    for position, j in enumerate(features):
        keys = sortable_keys(rows[:, j])
        on = active[labels, position]
        lo = low[labels, position]
        inside = on & (keys >= lo) & (keys <= high[labels, position])
        bins = (keys[inside] - lo[inside]) >> shift[labels[inside], position]
        flat = np.bincount(
            labels[inside] * _SELECT_BINS + bins.astype(np.intp),
            minlength=n_clusters * _SELECT_BINS,
        )
        counts[:, position, 1:] = flat.reshape(n_clusters, _SELECT_BINS)
        counts[:, position, 0] = np.bincount(
            labels[on & (keys < lo)], minlength=n_clusters
        )
    return _RangeCounts(counts)


@dataclass
class _Collected:
    """Per (cluster, feature): rows below and in the range, the smallest key
    above it, and the keys in the range of the pairs that collect them
    (``pairs`` gives each key's flat (cluster, feature) index)."""

    below: np.ndarray
    count: np.ndarray
    successor: np.ndarray
    pairs: np.ndarray
    keys: np.ndarray

    def __add__(self, other):
        return _Collected(
            self.below + other.below,
            self.count + other.count,
            np.minimum(self.successor, other.successor),
            np.concatenate([self.pairs, other.pairs]),
            np.concatenate([self.keys, other.keys]),
        )


def _collect_kernel(rows, labels, features, low, high, collect):
    """``_Collected`` of some rows, keeping keys of the ``collect`` pairs."""
    n_clusters, n_selected = low.shape
    below = np.zeros(low.shape, dtype=np.int64)
    count = np.zeros(low.shape, dtype=np.int64)
    successor = np.full(low.shape, _NO_KEY, dtype=np.uint64)
    pairs, kept = [], []
    for position, j in enumerate(features):
        keys = sortable_keys(rows[:, j])
        lo, hi = low[labels, position], high[labels, position]
        below[:, position] = np.bincount(labels[keys < lo], minlength=n_clusters)
        inside = (keys >= lo) & (keys <= hi)
        count[:, position] = np.bincount(labels[inside], minlength=n_clusters)
        above = keys > hi
        np.minimum.at(successor[:, position], labels[above], keys[above])
        take = inside & collect[labels, position]
        pairs.append(labels[take] * n_selected + position)
        kept.append(keys[take])
    return _Collected(
        below,
        count,
        successor,
        np.concatenate(pairs).astype(np.intp),
        np.concatenate(kept).astype(np.uint64),
    )
