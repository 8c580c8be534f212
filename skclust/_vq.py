"""Compression of embedding tables by vector quantization.

A table of float32 vectors becomes a codebook of k centroids per subvector plus
one small integer code per row and subvector. ``VectorQuantizer`` clusters
in-memory tables with ``KMeansL2``; memory-mapped tables, dask arrays, tables
given a ``batch_size`` and ``partial_fit`` go through the block kernels of
``skclust._vq_scale``.
"""

import sys
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from joblib import cpu_count
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _vq_dask as dask_scale
from . import _vq_scale as scale
from ._kmeans import KMeansL2
from ._sklearn_compat import Interval, StrOptions, _fit_context

# Bytes of one value of the original table: embedding tables are float32.
_FLOAT32_BYTES = 4


@dataclass(frozen=True)
class MemoryUsage:
    """Bytes of an embedding table before and after vector quantization.

    The original table counts 4 bytes (float32) per value. The compressed one
    is the codebook (``n_clusters * n_features`` float32 values, whatever the
    number of subvectors) plus the codes at their real width: one byte per row
    and subvector for ``n_clusters <= 256``, two for ``n_clusters <= 65536``.
    MB are 10^6 bytes, rounded to 4 decimals.

    Attributes
    ----------
    n_rows, n_features, n_clusters, n_subvectors : int
    code_dtype : str
        ``"uint8"`` or ``"uint16"``.
    original_bytes, codebook_bytes, codes_bytes : int

    Examples
    --------
    >>> from skclust import MemoryUsage
    >>> usage = MemoryUsage.of(n_rows=1000, n_features=32, n_clusters=256)
    >>> usage.original_mb, usage.compressed_mb
    (0.128, 0.0338)
    >>> round(usage.ratio, 3), round(usage.mb_ratio, 3)
    (3.791, 3.787)
    """

    n_rows: int
    n_features: int
    n_clusters: int
    n_subvectors: int
    code_dtype: str
    original_bytes: int
    codebook_bytes: int
    codes_bytes: int

    @classmethod
    def of(cls, n_rows, n_features, n_clusters, n_subvectors=1):
        """Memory of a table of ``n_rows`` rows compressed with these settings."""
        dtype = scale.code_dtype(n_clusters)
        return cls(
            n_rows=int(n_rows),
            n_features=int(n_features),
            n_clusters=int(n_clusters),
            n_subvectors=int(n_subvectors),
            code_dtype=dtype.name,
            original_bytes=int(n_rows) * int(n_features) * _FLOAT32_BYTES,
            codebook_bytes=int(n_clusters) * int(n_features) * _FLOAT32_BYTES,
            codes_bytes=int(n_rows) * int(n_subvectors) * dtype.itemsize,
        )

    @property
    def compressed_bytes(self):
        """Codebook plus codes."""
        return self.codebook_bytes + self.codes_bytes

    @property
    def original_mb(self):
        return round(self.original_bytes / 1e6, 4)

    @property
    def compressed_mb(self):
        return round(self.compressed_bytes / 1e6, 4)

    @property
    def ratio(self):
        """Compression ratio from the exact byte counts."""
        return self.original_bytes / self.compressed_bytes

    @property
    def mb_ratio(self):
        """Ratio of the two sizes in MB as rounded to 4 decimals.

        The study quotes this one (3.787 for AImodel.npy at k=256, where the
        exact ratio is 3.791); it is inf when the compressed size rounds to 0.
        """
        if self.compressed_mb == 0:
            return float("inf")
        return self.original_mb / self.compressed_mb


def _is_dask_array(X):
    # dask is an optional extra: a dask array can only exist once the user
    # has imported dask.array, so looking it up never imports dask.
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def _check_table_shape(X, name="X"):
    """Checks of a memory-mapped or dask table that do not read its values."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D {name}, got an array of shape {X.shape}")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if any(np.isnan(n) for n in X.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes; call compute_chunk_sizes() first"
        )


class VectorQuantizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Compress an embedding table into a codebook and one small code per row.

    Each row (or, with product quantization, each of ``n_subvectors`` equal
    contiguous parts of it) is replaced by the index of its nearest centroid
    in a codebook of ``n_clusters`` vectors found by k-means. The compressed
    table is the float32 codebook plus the codes, which are uint8 for
    ``n_clusters <= 256`` and uint16 up to 65536.

    Parameters
    ----------
    n_clusters : int, default=256
        Centroids per codebook, between 1 and 65536; at most the number of
        rows.
    normalize : bool, default=True
        Scale every row to unit Euclidean length before clustering. Retrieval
        with embeddings compares rows by cosine similarity, which ignores
        length; on unit rows the squared Euclidean distance that k-means
        minimises is ``2 - 2 cos``, so the centroids are spent on directions
        only, where they serve retrieval, instead of on lengths, which
        retrieval never looks at. Rows of zero length have no direction and
        are refused with a ``ValueError`` naming the row; the reconstruction
        approximates the unit-length rows.
    n_subvectors : int, default=1
        Product quantization: split the features into this many contiguous
        parts of equal width (it must divide ``n_features``), each with its
        own codebook of ``n_clusters`` centroids; every row gets one code per
        part. For about the same codebook memory, ``n_subvectors = M`` offers
        ``n_clusters ** M`` reconstructions instead of ``n_clusters``.
    init : {"k-means++", "random"} or array-like, default="k-means++"
        Initial centroids: k-means++ seeding, ``n_clusters`` random distinct
        rows, or an array of shape ``(n_subvectors, n_clusters, width)``
        (``(n_clusters, n_features)`` is accepted when ``n_subvectors=1``) in
        the space that is clustered, i.e. after normalization.
    n_init : int, default=1
        Runs from different seeds per codebook; the one with the lowest
        squared reconstruction error is kept. An explicit ``init`` gives one
        run.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        A run stops when the squared centroid shift summed over the centroids
        is at most ``tol`` times the mean per-feature variance of the
        (normalized) data, as in ``KMeansL2``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialization; every codebook draws its seeds from it up
        front.
    n_jobs : int, default=None
        Runs executed in parallel by ``KMeansL2`` for in-memory fits. The
        block kernels use every CPU for each block instead.
    batch_size : int, default=None
        Rows read at a time. ``None`` clusters in-memory arrays (and memory
        maps of at most 65,536 rows) in memory with ``KMeansL2``, and reads
        larger memory maps in blocks of 65,536 rows. An integer sends every
        table through the block kernels: float32 distances in blocks,
        float64 sums, which is several times faster than ``KMeansL2`` on
        large tables with many features. Dask arrays are always processed
        chunk by chunk.

    Attributes
    ----------
    codebook_ : ndarray of shape (n_subvectors, n_clusters, width), float32
        The centroids of each subvector; ``width = n_features // n_subvectors``.
    n_iter_ : ndarray of shape (n_subvectors,)
        Lloyd iterations of the kept run of each codebook (set by ``fit``).
    n_steps_ : int
        Mini-batch updates made by ``partial_fit`` since the codebook was
        initialized.
    n_samples_seen_ : int
        Rows seen by ``fit``, or by all ``partial_fit`` calls since.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    KMeansL2 : The k-means that fits in-memory tables.
    skclust.metrics.mean_cosine_similarity : Quality of a reconstruction.

    Notes
    -----
    The input can be a numpy array, a ``numpy.memmap`` (for instance from
    ``np.load(path, mmap_mode="r")``) or a ``dask.array.Array``. A memory map
    larger than one block is never loaded whole: every pass reads it block by
    block and releases the pages it read, so the memory used stays bounded by
    the block size. A dask array is fitted by the same block kernels, one task
    per chunk, on the active dask scheduler (a ``dask.distributed`` client if
    one exists); ``transform`` then returns a lazy dask array of codes.

    The block kernels run exact Lloyd iterations (every row, every iteration)
    with ``KMeansL2``'s update, stopping rule and relocation of empty
    clusters; k-means++ seeding uses a random sample of
    ``8 * n_clusters`` rows. ``partial_fit`` makes one mini-batch update per
    call (Sculley, 2010): each centroid moves to the running mean of all rows
    ever assigned to it.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust import VectorQuantizer
    >>> from skclust.datasets import make_embeddings
    >>> X = make_embeddings(2000, 16, random_state=0)
    >>> vq = VectorQuantizer(n_clusters=64, random_state=0).fit(X)
    >>> codes = vq.transform(X)
    >>> codes.shape, codes.dtype
    ((2000, 1), dtype('uint8'))
    >>> vq.inverse_transform(codes).shape
    (2000, 16)
    >>> bool(vq.score(X) > 0.9)
    True
    >>> usage = vq.memory_usage()
    >>> usage.original_bytes, usage.compressed_bytes
    (128000, 6096)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, 65536, closed="both")],
        "normalize": ["boolean"],
        "n_subvectors": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        n_clusters=256,
        *,
        normalize=True,
        n_subvectors=1,
        init="k-means++",
        n_init=1,
        max_iter=300,
        tol=1e-4,
        random_state=None,
        n_jobs=None,
        batch_size=None,
    ):
        self.n_clusters = n_clusters
        self.normalize = normalize
        self.n_subvectors = n_subvectors
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.batch_size = batch_size

    # --- fitting -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the codebooks.

        Parameters
        ----------
        X : array-like, numpy.memmap or dask array of shape (n_samples, \
n_features)
            The embedding table.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted quantizer.
        """
        for name in ("n_steps_", "_counts"):
            self.__dict__.pop(name, None)
        if _is_dask_array(X):
            self._fit_blocks(self._dask_source(X, reset=True))
        elif isinstance(X, np.memmap) and (
            self.batch_size is not None or X.shape[0] > scale.DEFAULT_BATCH_ROWS
        ):
            self._fit_blocks(self._memmap_source(X, reset=True))
        elif self.batch_size is not None:
            X = validate_data(
                self, X, dtype=[np.float64, np.float32], ensure_min_samples=2
            )
            self._fit_blocks(self._array_source(X))
        else:
            self._fit_in_memory(X)
        return self

    def _check_layout(self, n_samples, n_features):
        """Checks that need the table's shape; returns the subvector columns."""
        if n_features % self.n_subvectors:
            raise ValueError(
                f"n_subvectors={self.n_subvectors} must divide the number of "
                f"features ({n_features})"
            )
        if self.normalize and n_features == 1:
            raise ValueError(
                "normalize=True keeps only the sign of data with n_features=1; "
                "use normalize=False"
            )
        if self.n_clusters > n_samples:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of rows "
                f"({n_samples})"
            )
        return scale.subvector_slices(n_features, self.n_subvectors)

    def _effective_n_init(self):
        if isinstance(self.init, str) or self.n_init == 1:
            return self.n_init
        warnings.warn(
            "Explicit initial centroids passed: performing only one init in "
            f"VectorQuantizer instead of n_init={self.n_init}.",
            RuntimeWarning,
            stacklevel=3,
        )
        return 1

    def _initial_codebooks(self, columns):
        """The explicit init as one (n_clusters, width) array per subvector."""
        init = check_array(self.init, dtype=np.float64, allow_nd=True)
        width = columns[0].stop - columns[0].start
        if init.ndim == 2 and self.n_subvectors == 1:
            init = init[None]
        expected = (self.n_subvectors, self.n_clusters, width)
        if init.shape != expected:
            raise ValueError(
                f"The shape of init {init.shape} does not match (n_subvectors, "
                f"n_clusters, width) = {expected}"
            )
        return list(init)

    def _fit_in_memory(self, X):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        columns = self._check_layout(*X.shape)
        n_init = self._effective_n_init()
        if self.normalize:
            X = scale.normalize_rows(X.copy())
        inits = None if isinstance(self.init, str) else self._initial_codebooks(columns)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=self.n_subvectors
        )
        codebook, n_iter, counts = [], [], []
        for m, cols in enumerate(columns):
            km = KMeansL2(
                self.n_clusters,
                init=self.init if inits is None else inits[m],
                n_init=n_init,
                max_iter=self.max_iter,
                tol=self.tol,
                random_state=seeds[m],
                n_jobs=self.n_jobs,
            ).fit(X[:, cols])
            codebook.append(km.cluster_centers_)
            n_iter.append(km.n_iter_)
            counts.append(np.bincount(km.labels_, minlength=self.n_clusters))
        self._store(X.mean(axis=0), codebook, counts)
        self.n_iter_ = np.asarray(n_iter, dtype=int)
        self.n_samples_seen_ = X.shape[0]

    def _store(self, origin, codebook, counts):
        """Keep the codebooks (float64 inside, float32 in ``codebook_``)."""
        self._origin = np.asarray(origin, dtype=np.float64)
        self._centers = [np.asarray(c, dtype=np.float64) for c in codebook]
        self.codebook_ = np.stack(self._centers).astype(np.float32)
        self._counts = np.stack(counts).astype(np.int64)

    def _fit_blocks(self, source):
        n_samples, n_features = source.shape
        columns = self._check_layout(n_samples, n_features)
        n_init = self._effective_n_init()
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=self.n_subvectors)
        with source.running():
            mean, variance = scale.table_stats(source)
            source = self._centered(source, mean)
            tols = [self.tol * float(np.mean(variance[c])) for c in columns]
            if isinstance(self.init, str):
                size = min(n_samples, scale.init_sample_size(self.n_clusters))
                sample = scale.sample_rows(source, size, random_state)
                inits = []
                for m, cols in enumerate(columns):
                    runs = np.random.RandomState(seeds[m])
                    for seed in runs.randint(np.iinfo(np.int32).max, size=n_init):
                        inits.append(
                            scale.seed_centers(
                                sample[:, cols],
                                self.n_clusters,
                                self.init,
                                np.random.RandomState(seed),
                            )
                        )
            else:
                inits = [
                    init - mean[cols]
                    for init, cols in zip(
                        self._initial_codebooks(columns), columns, strict=True
                    )
                ]
            model_columns = [cols for cols in columns for _ in range(n_init)]
            tols = [tol for tol in tols for _ in range(n_init)]
            result = scale.blocked_lloyd(
                source, model_columns, inits, tols, self.max_iter
            )
            if n_init > 1:
                errors = scale.final_sq_error(source, model_columns, result.centers)
            else:
                errors = result.sq_error
        best = [
            m * n_init + int(np.argmin(errors[m * n_init : (m + 1) * n_init]))
            for m in range(self.n_subvectors)
        ]
        self._store(
            mean,
            [
                result.centers[i] + mean[cols]
                for i, cols in zip(best, columns, strict=True)
            ],
            [result.counts[i] for i in best],
        )
        self.n_iter_ = result.n_iter[best]
        self.n_samples_seen_ = n_samples

    def _centered(self, source, mean):
        """Make ``source`` prepare its rows centered on ``mean``."""
        prep = scale.RowPrep(self.normalize, mean)
        if isinstance(source, scale.ArraySource) and source.prepare_once:
            # An in-memory table is prepared once, not at every pass.
            source.prepare_table(prep)
        else:
            source.prep = prep
        return source

    @property
    def _block_rows(self):
        return self.batch_size or scale.DEFAULT_BATCH_ROWS

    def _array_source(self, X):
        """A source that prepares an in-memory table once it knows the mean."""
        source = scale.ArraySource(
            X, self._block_rows, scale.RowPrep(self.normalize), cpu_count()
        )
        source.prepare_once = True
        return source

    def _memmap_source(self, X, reset):
        _check_table_shape(X)
        if reset and X.shape[0] < 2:
            raise ValueError(
                f"n_samples={X.shape[0]} while a minimum of 2 is required."
            )
        validate_data(self, X, skip_check_array=True, reset=reset)
        prep = scale.RowPrep(self.normalize, getattr(self, "_origin", None))
        return scale.ArraySource(X, self._block_rows, prep, cpu_count())

    def _dask_source(self, X, reset):
        _check_table_shape(X)
        if reset and X.shape[0] < 2:
            raise ValueError(
                f"n_samples={X.shape[0]} while a minimum of 2 is required."
            )
        validate_data(self, X, skip_check_array=True, reset=reset)
        X = X.rechunk({1: -1})
        prep = scale.RowPrep(self.normalize, getattr(self, "_origin", None))
        return dask_scale.DaskSource(X, prep)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the codebooks with one mini-batch of rows.

        The first call (on a quantizer not yet fitted) initializes the
        codebooks from the batch, which must then hold at least
        ``n_clusters`` distinct rows; every call then moves each centroid to
        the running mean of all rows assigned to it so far. Calls after
        ``fit`` continue from the fitted codebooks.

        Parameters
        ----------
        X : array-like or numpy.memmap of shape (n_samples, n_features)
            A batch of rows; a memory map is read block by block.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
        """
        if _is_dask_array(X):
            raise TypeError(
                "partial_fit takes in-memory or memory-mapped batches; pass a "
                "dask array to fit instead"
            )
        first = not hasattr(self, "codebook_")
        if isinstance(X, np.memmap):
            source = self._memmap_source(X, reset=first)
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=first)
            source = scale.ArraySource(
                X,
                self._block_rows,
                scale.RowPrep(self.normalize, getattr(self, "_origin", None)),
                cpu_count(),
            )
        n_samples, n_features = source.shape
        columns = scale.subvector_slices(n_features, self.n_subvectors)
        with source.running():
            if first:
                columns = self._check_layout(n_samples, n_features)
                self._start_mini_batches(source, columns)
            models = [
                scale.Model.of(cols, centers)
                for cols, centers in zip(
                    columns, self._centered_codebooks(), strict=True
                )
            ]
            totals = source.reduce(scale.totals_kernel, models)
        for m in range(self.n_subvectors):
            batch = totals.counts[m]
            self._counts[m] += batch
            seen = batch > 0
            centers = self._centers[m] - self._origin[columns[m]]
            centers[seen] += (
                totals.sums[m][seen] - batch[seen, None] * centers[seen]
            ) / self._counts[m][seen, None]
            self._centers[m] = centers + self._origin[columns[m]]
        self.codebook_ = np.stack(self._centers).astype(np.float32)
        self.n_steps_ = getattr(self, "n_steps_", 0) + 1
        self.n_samples_seen_ = getattr(self, "n_samples_seen_", 0) + n_samples
        return self

    def _start_mini_batches(self, source, columns):
        """Origin and initial codebooks from the first mini-batch."""
        mean, _ = scale.table_stats(source)
        source.prep = scale.RowPrep(self.normalize, mean)
        if isinstance(self.init, str):
            random_state = check_random_state(self.random_state)
            seeds = random_state.randint(np.iinfo(np.int32).max, size=len(columns))
            size = min(source.shape[0], scale.init_sample_size(self.n_clusters))
            sample = scale.sample_rows(source, size, random_state)
            centers = [
                scale.seed_centers(
                    sample[:, cols],
                    self.n_clusters,
                    self.init,
                    np.random.RandomState(s),
                )
                + mean[cols]
                for cols, s in zip(columns, seeds, strict=True)
            ]
        else:
            centers = self._initial_codebooks(columns)
        self._store(mean, centers, np.zeros((len(columns), self.n_clusters)))
        self.n_steps_ = 0
        self.n_samples_seen_ = 0

    def _centered_codebooks(self):
        columns = scale.subvector_slices(self.n_features_in_, self.n_subvectors)
        return [
            c - self._origin[cols]
            for c, cols in zip(self._centers, columns, strict=True)
        ]

    # --- using the codebooks -------------------------------------------------

    def _source_for(self, X):
        """A source of prepared rows of new data (or None for a dask array)."""
        check_is_fitted(self)
        if _is_dask_array(X):
            return self._dask_source(X, reset=False)
        if isinstance(X, np.memmap):
            return self._memmap_source(X, reset=False)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        prep = scale.RowPrep(self.normalize, self._origin)
        return scale.ArraySource(X, self._block_rows, prep, cpu_count())

    @property
    def _code_dtype(self):
        return scale.code_dtype(self.n_clusters)

    def transform(self, X):
        """Codes of the rows: the index of the nearest centroid per subvector.

        Parameters
        ----------
        X : array-like, numpy.memmap or dask array of shape (n_samples, \
n_features)

        Returns
        -------
        codes : ndarray or dask array of shape (n_samples, n_subvectors)
            uint8 when ``n_clusters <= 256``, else uint16. Lazy (a dask array)
            when ``X`` is one.
        """
        source = self._source_for(X)
        columns = scale.subvector_slices(self.n_features_in_, self.n_subvectors)
        centers = self._centered_codebooks()
        if isinstance(source, dask_scale.DaskSource):
            return dask_scale.encode_dask(
                source.X, columns, centers, self._code_dtype, source.prep
            )
        return scale.encode(source, columns, centers, self._code_dtype)

    def inverse_transform(self, codes):
        """Rebuild rows from their codes.

        Parameters
        ----------
        codes : array-like or dask array of shape (n_samples, n_subvectors)
            Integers from 0 to ``n_clusters - 1``.

        Returns
        -------
        X : ndarray or dask array of shape (n_samples, n_features), float32
            Every row is the concatenation of its subvectors' centroids; with
            ``normalize=True`` it approximates the unit-length row.

        Raises
        ------
        ValueError
            When ``codes`` are not integers, have the wrong number of columns
            or lie outside ``0 .. n_clusters - 1`` (codes of another
            codebook).
        """
        check_is_fitted(self)
        if _is_dask_array(codes):
            check_codes(codes, self.n_subvectors)
            return codes.rechunk({1: -1}).map_blocks(
                _decode_block,
                self.codebook_,
                dtype=np.float32,
                chunks=(codes.chunks[0], (self.n_features_in_,)),
                meta=np.empty((0, self.n_features_in_), dtype=np.float32),
            )
        codes = check_array(codes, dtype=None, input_name="codes")
        check_codes(codes, self.n_subvectors)
        return _decode_block(codes, self.codebook_)

    def score(self, X, y=None):
        """Mean cosine similarity between the rows and their reconstructions.

        Parameters
        ----------
        X : array-like, numpy.memmap or dask array of shape (n_samples, \
n_features)
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
            Between -1 and 1; higher is better.
        """
        source = self._source_for(X)
        columns = scale.subvector_slices(self.n_features_in_, self.n_subvectors)
        with source.running():
            result = source.reduce(
                scale.cosine_kernel,
                columns,
                self._centered_codebooks(),
                list(self.codebook_),
            )
        return result.total / result.count

    def memory_usage(self, n_rows=None):
        """Memory of the table before and after compression.

        Parameters
        ----------
        n_rows : int, default=None
            Rows of the table; by default those seen in fitting.

        Returns
        -------
        MemoryUsage
        """
        check_is_fitted(self)
        n_rows = self.n_samples_seen_ if n_rows is None else n_rows
        return MemoryUsage.of(
            n_rows, self.n_features_in_, self.n_clusters, self.n_subvectors
        )

    @property
    def _n_features_out(self):
        return self.n_subvectors

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform returns integer codes, whatever the input's float type.
        tags.transformer_tags.preserves_dtype = []
        return tags


def check_codes(codes, n_subvectors):
    """Refuse codes that are not 2-D integers with one column per subvector."""
    if codes.ndim != 2 or codes.shape[1] != n_subvectors:
        raise ValueError(
            f"codes of shape {codes.shape} do not fit a codebook of "
            f"{n_subvectors} subvector(s): expected (n_samples, {n_subvectors})"
        )
    if codes.dtype.kind not in "iu":
        raise ValueError(f"codes must be integers, got dtype {codes.dtype}")


def decode_codes(codes, codebook):
    """Rows rebuilt from ``codes`` and a ``codebook`` saved by ``skclust vq``.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_subvectors), integer
    codebook : ndarray of shape (n_subvectors, n_clusters, width), float

    Returns
    -------
    ndarray of shape (n_samples, n_subvectors * width), float32

    Raises
    ------
    ValueError
        When the codes do not belong to the codebook (shape or range).
    """
    codebook = np.asarray(codebook)
    if codebook.ndim != 3 or codebook.dtype.kind != "f" or 0 in codebook.shape:
        raise ValueError(
            "codebook must be a non-empty float array of shape (n_subvectors, "
            f"n_clusters, width), got {codebook.dtype} of shape {codebook.shape}"
        )
    codes = np.asarray(codes)
    check_codes(codes, codebook.shape[0])
    return _decode_block(codes, codebook.astype(np.float32, copy=False))


def _decode_block(codes, codebook):
    n_subvectors, n_clusters, width = codebook.shape
    if codes.size:
        low, high = int(codes.min()), int(codes.max())
        if low < 0 or high >= n_clusters:
            bad = low if low < 0 else high
            raise ValueError(
                f"code {bad} is outside 0..{n_clusters - 1}: these codes do not "
                "come from this codebook"
            )
    out = np.empty((codes.shape[0], n_subvectors * width), dtype=np.float32)
    for m in range(n_subvectors):
        out[:, m * width : (m + 1) * width] = codebook[m][codes[:, m]]
    return out
