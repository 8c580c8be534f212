"""Compression of embedding tables by vector quantization: ``VectorQuantizer``.

A table of float32 vectors becomes a codebook of k centroids per subvector plus
one small integer code per row and subvector. ``VectorQuantizer`` validates
its input, picks the engine and keeps the fitted codebooks. In-memory tables
are clustered by ``_fit_codebooks_in_memory`` with ``KMeansL2``; memory-mapped
tables, dask arrays, tables given a ``batch_size`` and ``partial_fit`` are read
through the data sources of ``skclust._kmeans`` and fitted by its Lloyd
engine (``skclust._vq._scale``). Codes are laid out, encoded and decoded by
``skclust._vq._codes``; ``MemoryUsage`` lives in ``skclust._vq._memory``.
``add``, ``kneighbors``, ``save`` and ``load`` make the quantizer a compressed
index; the search itself is in ``skclust._vq._search``.
"""

import json
import warnings
from collections.abc import Callable
from functools import partial
from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self

import numpy as np
from joblib import cpu_count, effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state, metadata_routing
from sklearn.utils.validation import check_is_fitted

from .._checks import (
    check_finite,
    needs_finite_values,
    validate_finite,
    warn_at_caller,
)
from .._kmeans import (
    ArraySource,
    DaskSource,
    Euclidean32,
    KMeansL2,
    RowPrep,
    SphericalEuclidean32,
    SphericalKMeansL2,
    is_dask_array,
    largest_magnitude,
    normalize_rows,
    says_centers_repeat,
    unit_rows,
    validate_lazy_table,
    warn_zero_rows,
)
from .._sklearn_compat import (
    N_JOBS_CONSTRAINT,
    Interval,
    StrOptions,
    _fit_context,
    check_n_jobs,
)
from .._typing import ArrayLike, RandomStateLike
from . import _scale
from ._codes import (
    check_codes,
    code_dtype,
    encode_rows,
    rebuild_rows,
    subvector_slices,
)
from ._kernels import cosine_kernel
from ._memory import MemoryUsage
from ._scale import FittedCodebooks
from ._search import (
    METRICS,
    SAVE_FORMAT,
    StoredCodes,
    load_saved,
    rerank,
    save_arrays,
    search_codes,
)


def _fit_codebooks_in_memory(
    X,
    columns,
    n_clusters,
    init,
    n_init,
    max_iter,
    tol,
    n_jobs,
    random_state,
    spherical=False,
):
    """Codebooks of every subvector of an in-memory table, by ``KMeansL2``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32
        The validated (and, with ``normalize=True``, normalized) table.
    columns : list of slice
        Columns of each subvector.
    n_clusters, init, n_init, max_iter, tol, n_jobs
        Validated parameters of ``VectorQuantizer``, with an explicit ``init``
        as one (n_clusters, width) array per subvector.
    random_state : RandomState
        Draws the seed of every subvector's ``KMeansL2`` up front.
    spherical : bool
        Spherical k-means (``SphericalKMeansL2``), on rows not centered.

    Returns
    -------
    FittedCodebooks
    """
    seeds = random_state.randint(np.iinfo(np.int32).max, size=len(columns))
    # KMeansL2 takes at most one cluster per row; more centroids than rows
    # repeat its centers, as it does itself for repeated rows.
    n_fitted = min(n_clusters, X.shape[0])
    if n_fitted < n_clusters:
        warnings.warn(
            f"n_clusters={n_clusters} is larger than the number of rows "
            f"({X.shape[0]}): the codebook repeats centroids",
            ConvergenceWarning,
            stacklevel=5,
        )
    codebook, n_iter, counts, repeated = [], [], [], []
    for m, cols in enumerate(columns):
        km = (SphericalKMeansL2 if spherical else KMeansL2)(
            n_fitted,
            init=_first_centers(init if isinstance(init, str) else init[m], n_fitted),
            n_init=n_init,
            max_iter=max_iter,
            tol=tol,
            random_state=seeds[m],
            n_jobs=n_jobs,
        )
        if _fit_noting_repeats(partial(km.fit, X[:, cols]))[1]:
            repeated.append(m)
        codebook.append(km.cluster_centers_[np.arange(n_clusters) % n_fitted])
        n_iter.append(km.n_iter_)
        counts.append(np.bincount(km.labels_, minlength=n_clusters))
    if repeated:
        where = "" if len(columns) == 1 else f" of subvectors {repeated}"
        warn_at_caller(
            f"n_clusters={n_clusters} is larger than the number of distinct "
            f"rows{where}: the codebook repeats centroids",
            ConvergenceWarning,
        )
    return FittedCodebooks(
        origin=np.zeros(X.shape[1]) if spherical else X.mean(axis=0, dtype=np.float64),
        centers=codebook,
        counts=counts,
        n_iter=np.asarray(n_iter, dtype=int),
        n_samples=X.shape[0],
    )


def _fit_noting_repeats(fit):
    """``fit()``, and the messages of the warnings it gave that centers repeat.

    Those warnings name ``KMeansL2`` (or the private ``SphericalKMeansL2``)
    or come once per subvector, from lines of skclust: the quantizer says
    it once, in its own words. Other warnings are passed on as they came.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit()
    repeated = []
    for warning in caught:
        if says_centers_repeat(warning):
            repeated.append(str(warning.message))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return result, repeated


def _first_centers(init, n_fitted):
    """An array init cut to the clusters fitted; a string or callable as is."""
    if isinstance(init, str) or callable(init):
        return init
    return init[:n_fitted]


# normalize=False keeps the rows as given; the codebook is float32 and codes
# are found with float32 squared distances, which overflow or lose their
# digits outside about this magnitude.
_RANGE_EXPONENT = 50


def check_magnitude(X, normalize, name="X"):
    """Refuse rows that ``normalize=False`` cannot quantize in float32.

    ``X`` is a validated in-memory table; with ``normalize=True`` every row is
    brought to unit length first, so any finite row is fine. ``name`` names
    the table in the message (``skclust vq`` checks its files before any fit).
    """
    if normalize:
        return
    largest = largest_magnitude(X)
    low, high = np.ldexp(1.0, -_RANGE_EXPONENT), np.ldexp(1.0, _RANGE_EXPONENT)
    if largest > high or 0 < largest < low:
        raise ValueError(
            f"the largest magnitude in {name} is {largest:.3g}: with normalize=False, "
            f"VectorQuantizer takes values between 2**-{_RANGE_EXPONENT} and "
            f"2**{_RANGE_EXPONENT} ({low:.2g} to {high:.2g}) in magnitude, "
            f"since its codebook and distances are float32; rescale {name} (by "
            "a power of two, which is exact) or use normalize=True"
        )


def _n_rows(X):
    """Rows of an array-like not yet validated; 0 when it has no rows to
    count (validation then says what is wrong with it)."""
    try:
        return X.shape[0] if hasattr(X, "shape") else np.shape(X)[0]
    except (ValueError, IndexError, TypeError):
        return 0


def _check_count(name, value, n_rows):
    """A positive integer no larger than the rows stored."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value > n_rows:
        raise ValueError(
            f"{name}={value} is larger than the number of rows added ({n_rows})"
        )
    return int(value)


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
        Centroids per codebook, between 1 and 65536. When the table has fewer
        distinct rows (or subvectors) than ``n_clusters``, the codebook
        repeats centroids, with a ``ConvergenceWarning``, as scikit-learn's
        ``KMeans`` does: an in-memory fit gives every distinct row a
        centroid; the block engines (``batch_size``, memory maps, dask
        arrays, ``partial_fit``) seed every distinct row of their seeding
        sample. Later ``partial_fit`` calls move the repeats onto rows of
        their batches.
    normalize : bool, default=True
        Scale every row to unit Euclidean length before clustering. Retrieval
        with embeddings compares rows by cosine similarity, which ignores
        length; on unit rows the squared Euclidean distance that k-means
        minimises is ``2 - 2 cos``, so the centroids are spent on directions
        only, where they serve retrieval, instead of on lengths, which
        retrieval never looks at. Rows of zero length have no direction: they
        stay zero, as ``sklearn.preprocessing.normalize`` leaves them, and
        ``fit`` warns with their count. The reconstruction approximates the
        unit-length rows. Rows of any finite magnitude, from subnormal to
        near the float64 maximum, are normalized exactly. With
        ``normalize=False`` the rows are kept as given and, as the codebook
        and the distances are float32, in-memory tables whose largest
        magnitude lies outside 2**-50 to 2**50 (about 8.9e-16 to 1.1e15)
        are refused with a ``ValueError`` (memory maps and dask arrays are not
        checked); rescale such data by a power of two first.
    spherical : bool, default=False
        Spherical k-means, for cosine similarity: every centroid is the mean
        of its rows scaled to unit length, after every update, and each row
        goes to the centroid of largest inner product (for unit centroids,
        the nearest one). Rows are not centered on their mean, so ``score``
        is the mean cosine between each row and its centroid. An explicit
        ``init`` is scaled to unit length. Needs ``normalize=True`` and
        ``n_subvectors=1``.
    n_subvectors : int, default=1
        Product quantization: split the features into this many contiguous
        parts of equal width (it must divide ``n_features``), each with its
        own codebook of ``n_clusters`` centroids; every row gets one code per
        part. For about the same codebook memory, ``n_subvectors = M`` offers
        ``n_clusters ** M`` reconstructions instead of ``n_clusters``.
    init : {"k-means++", "random"}, callable or array-like, \
default="k-means++"
        Initial centroids: k-means++ seeding, ``n_clusters`` random distinct
        rows, or an array of shape ``(n_subvectors, n_clusters, width)``
        (``(n_clusters, n_features)`` is accepted when ``n_subvectors=1``) in
        the space that is clustered, i.e. after normalization. A callable is
        called as ``init(X_m, n_clusters, random_state)`` for every run of
        every subvector, with ``X_m`` the subvector's distinct (normalized)
        rows, and returns an array of shape ``(n_clusters, width)``; ``fit``
        needs an in-memory fit for it (``batch_size=None``, not a dask array
        or a memory map of more than one block); ``partial_fit`` calls it
        once, on the first batch's distinct rows.
    n_init : "auto" or int, default="auto"
        Runs from different seeds per codebook; the one with the lowest
        squared reconstruction error is kept. ``"auto"`` makes one run for
        k-means++ seeding and ten for random or callable starts, as in
        ``KMeansL2``. An explicit array ``init`` gives one run.
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
        block kernels use every CPU for each block instead. ``kneighbors``
        scans with this many threads; ``None`` uses every CPU there too.
    batch_size : int, default=None
        Rows read at a time. ``None`` clusters tables of at most 65,536 rows
        (in-memory arrays or memory maps) with one codebook in memory with
        ``KMeansL2``, and reads larger tables, and product quantization
        (``n_subvectors > 1``), in blocks of 65,536 rows with the block
        kernels (a callable ``init`` keeps in-memory arrays in memory). An
        integer sends every table through the block kernels: float32
        distances in blocks, float64 sums, and less memory; on tables of
        over 65,536 rows they took 0.42 to 0.96 times the in-memory
        engine's time (``benchmarks/bench_vq_engines.py``). Below that,
        their k-means++ seeds on ``8 * n_clusters`` sampled rows, before
        they were refined by two k-means|| rounds over every row, left up
        to 17.5% more inertia in the median than the in-memory fit on
        clustered tables (``benchmarks/bench_vq_switch.py``). Dask arrays
        are always processed chunk by chunk.

    Attributes
    ----------
    codebook_ : ndarray of shape (n_subvectors, n_clusters, width), float32
        The centroids of each subvector; ``width = n_features // n_subvectors``.
    n_iter_ : int
        Lloyd iterations of the kept run of the codebook that took the most
        (set by ``fit``): ``n_iter_ == max_iter`` when a codebook stopped at
        the cap.
    n_iter_per_codebook_ : ndarray of shape (n_subvectors,)
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
    codes_ : ndarray of shape (n_indexed, n_subvectors)
        Codes of the rows given to ``add`` since the codebook was last
        fitted, in the order added: the table that ``kneighbors`` searches.
        ``fit`` does not add its rows (it may see a sample, or a table too
        large to keep codes of); fitting again empties it.

    See Also
    --------
    KMeansL2 : The k-means that fits in-memory tables.
    skclust.metrics.mean_cosine_similarity : Quality of a reconstruction.

    Notes
    -----
    The input can be a numpy array, a ``numpy.memmap`` (for instance from
    ``np.load(path, mmap_mode="r")``) or a ``dask.array.Array``; no method
    writes into it, even a map opened ``"r+"``. A memory map larger than
    one block is never loaded whole: every pass reads it block by block and
    releases the pages it read, so the memory used stays bounded by
    the block size. A dask array is fitted by the same block kernels, one task
    per chunk, on the active dask scheduler (a ``dask.distributed`` client if
    one exists); ``transform`` then returns a lazy dask array of codes.

    The block kernels run exact Lloyd iterations (every row, every iteration)
    with ``KMeansL2``'s update, stopping rule and relocation of empty
    clusters. Their k-means++ seeding runs on a random sample of
    ``8 * n_clusters`` rows, then makes two k-means|| rounds over every row
    (Bahmani et al., 2012: two more passes, which draw about
    ``n_clusters`` rows each where the seeds are far) and seeds k-means++
    on the seeds and the rows drawn, weighted by the rows nearest to them.
    ``partial_fit`` makes one mini-batch update per
    call (Sculley, 2010): each centroid moves to the running mean of all rows
    ever assigned to it; a centroid no row has reached moves first onto a far
    row of the batch (farthest-first, see ``partial_fit``).

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

    Spherical k-means keeps the centroids on the unit sphere:

    >>> sph = VectorQuantizer(n_clusters=64, spherical=True, random_state=0).fit(X)
    >>> np.allclose(np.linalg.norm(sph.codebook_[0], axis=1), 1.0)
    True
    >>> bool(sph.score(X) > 0.9)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, 65536, closed="both")],
        "normalize": ["boolean"],
        "spherical": ["boolean"],
        "n_subvectors": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    }
    # inverse_transform's input is named ``codes``; scikit-learn's metadata
    # routing took it for metadata (only X and y are exempt) and gave the
    # quantizer a set_inverse_transform_request(codes=...) method.
    __metadata_request__inverse_transform: ClassVar[dict] = {
        "codes": metadata_routing.UNUSED
    }

    def __init__(
        self,
        n_clusters: int = 256,
        *,
        normalize: bool = True,
        spherical: bool = False,
        n_subvectors: int = 1,
        init: Literal["k-means++", "random"] | ArrayLike | Callable = "k-means++",
        n_init: Literal["auto"] | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.normalize = normalize
        self.spherical = spherical
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
    def fit(self, X: ArrayLike, y: object = None) -> Self:
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
        if is_dask_array(X):
            fitted = self._fit_blocks(self._dask_source(X, reset=True))
        elif isinstance(X, np.memmap) and (
            self.batch_size is not None or X.shape[0] > _scale.DEFAULT_BATCH_ROWS
        ):
            fitted = self._fit_blocks(self._memmap_source(X, reset=True))
        elif self.batch_size is not None or (
            not callable(self.init)
            and (self.n_subvectors > 1 or _n_rows(X) > _scale.DEFAULT_BATCH_ROWS)
        ):
            X = validate_finite(
                self, X, dtype=[np.float64, np.float32], ensure_min_samples=2
            )
            check_magnitude(X, self.normalize)
            fitted = self._fit_blocks(self._array_source(X, prepare_once=True))
        else:
            fitted = self._fit_in_memory(X)
        self._store(fitted.origin, fitted.centers, fitted.counts)
        self.n_iter_per_codebook_ = fitted.n_iter
        self.n_iter_ = int(fitted.n_iter.max())
        self.n_samples_seen_ = fitted.n_samples
        return self

    def _fit_in_memory(self, X):
        """Validate an in-memory table and cluster it with ``KMeansL2``.

        A float32 table is clustered in float32 (``KMeansL2`` keeps it), unless
        normalized: rows are normalized in float64.
        """
        X = validate_finite(
            self, X, dtype=[np.float64, np.float32], ensure_min_samples=2
        )
        check_magnitude(X, self.normalize)
        columns = self._check_layout(*X.shape)
        n_init = self._effective_n_init()
        if self.normalize:
            n_zero = X.shape[0] - np.count_nonzero(X.any(axis=1))
            warn_zero_rows(n_zero, X.shape[0], stacklevel=4)
            # In C order: the row norms of a Fortran-ordered table are summed
            # in another order, which moved some rows by an ulp and gave
            # another codebook for the same seed.
            X = normalize_rows(np.array(X, dtype=np.float64, order="C"))
        return _fit_codebooks_in_memory(
            X,
            columns,
            self.n_clusters,
            self._checked_init(columns, in_memory=True),
            n_init,
            self.max_iter,
            self.tol,
            self.n_jobs,
            check_random_state(self.random_state),
            self.spherical,
        )

    def _fit_blocks(self, source):
        """Check the layout of a source's table and fit it block by block.

        The seeding warns once per subvector and run when the rows sampled
        for it hold fewer distinct rows than ``n_clusters``, from a line of
        skclust: the first such warning is said once, at the caller of
        ``fit``.
        """
        fitted, repeated = _fit_noting_repeats(partial(self._fit_source, source))
        if repeated:
            warn_at_caller(repeated[0], ConvergenceWarning)
        return fitted

    def _fit_source(self, source):
        columns = self._check_layout(*source.shape)
        n_init = self._effective_n_init()
        with source.running():
            mean, variance = _scale.center_on_mean(
                source, self.normalize, stacklevel=5, center=not self.spherical
            )
            # The init is checked after that first pass, which reports bad
            # rows first, as the in-memory fit does.
            return _scale.fit_blocked(
                source,
                columns,
                mean,
                variance,
                self.n_clusters,
                self._checked_init(columns),
                n_init,
                self.max_iter,
                self.tol,
                check_random_state(self.random_state),
                SphericalEuclidean32 if self.spherical else Euclidean32,
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: ArrayLike, y: object = None) -> Self:
        """Update the codebooks with one mini-batch of rows.

        The first call (on a quantizer not yet fitted) initializes the
        codebooks from the batch (with fewer distinct rows than
        ``n_clusters``, its centroids repeat, as in ``fit``); every call then
        moves each centroid to the running mean of all rows assigned to it
        so far. Calls after ``fit`` continue from the fitted codebooks.

        A centroid that no row has reached yet (a repeat, from a first batch
        or a ``fit`` with fewer distinct rows than ``n_clusters``, or an
        ``init`` centroid far from the rows) and that no row of the batch is
        nearest to is re-seeded first: per codebook, such centroids, in index
        order, move onto distinct rows of the batch chosen farthest-first,
        each the row farthest from the centroids and the rows chosen before
        it (ties to the earlier row), among the 65,536 rows of the batch (all
        of them in a smaller batch) farthest from their nearest centroid, or
        fewer for wide rows: as many as 64 MiB of float32 features hold, but
        never fewer than ``batch_size`` (4,096 rows of 4,096 features).
        Otherwise ``batch_size`` only sets how many rows are read at a time:
        it changes neither these rows nor, but for rounding, the update.
        Centroids that have rows are updated as without re-seeding. After a
        first batch of 500 rows repeating 5 distinct rows, 256 centroids on
        32-feature embeddings scored 0.496 before the next ten batches of
        2,000 rows and 0.855 after them (0.735 without re-seeding), where
        the same ten batches alone give 0.861 and ``fit`` on all the rows
        0.867.

        Parameters
        ----------
        X : array-like or numpy.memmap of shape (n_samples, n_features)
            A batch of rows; a memory map is read block by block.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object

        Examples
        --------
        >>> import warnings
        >>> import numpy as np
        >>> from skclust import VectorQuantizer
        >>> from skclust.datasets import make_embeddings
        >>> X = make_embeddings(3000, 8, random_state=0)
        >>> first = np.tile(X[:2], (50, 1))  # 2 distinct rows for 16 centroids
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # "the centers repeat"
        ...     vq = VectorQuantizer(16, random_state=0).partial_fit(first)
        >>> len(np.unique(vq.codebook_[0], axis=0))
        2
        >>> for start in range(0, 3000, 1000):
        ...     vq = vq.partial_fit(X[start : start + 1000])
        >>> len(np.unique(vq.codebook_[0], axis=0))
        16
        """
        if is_dask_array(X):
            raise TypeError(
                "partial_fit takes in-memory or memory-mapped batches; pass a "
                "dask array to fit instead"
            )
        first = not hasattr(self, "codebook_")
        source = self._source(X, reset=first)
        n_samples, n_features = source.shape
        if first:
            columns = self._check_layout(n_samples, n_features)
            init = (
                self._called_init(X, columns)
                if callable(self.init)
                else self._checked_init(columns)
            )
        else:
            columns = subvector_slices(n_features, self._fitted_layout[0])
        with source.running():
            if first:
                origin, _ = _scale.center_on_mean(
                    source, self.normalize, stacklevel=4, center=not self.spherical
                )
                centers, repeated = _fit_noting_repeats(
                    partial(
                        _scale.first_codebooks,
                        source,
                        columns,
                        origin,
                        self.n_clusters,
                        init,
                        check_random_state(self.random_state),
                    )
                )
                if repeated:
                    # Said once, at the caller's line, as by fit.
                    warn_at_caller(repeated[0], ConvergenceWarning)
                self._store(origin, centers, np.zeros((len(columns), self.n_clusters)))
                self.n_steps_ = 0
                self.n_samples_seen_ = 0
            else:
                self._centers = _scale.reseed_unused(
                    source, columns, self._origin, self._centers, self._counts
                )
            self._centers = _scale.mini_batch_step(
                source,
                columns,
                self._origin,
                self._centers,
                self._counts,
                self.spherical,
            )
        self.codebook_ = np.stack(self._centers).astype(np.float32)
        # Codes added before this step are those of the previous codebook.
        self.__dict__.pop("_stored", None)
        self.n_steps_ = getattr(self, "n_steps_", 0) + 1
        self.n_samples_seen_ = getattr(self, "n_samples_seen_", 0) + n_samples
        return self

    # --- validation ----------------------------------------------------------

    def _check_layout(self, n_samples, n_features):
        """Checks that need the table's shape; returns the subvector columns."""
        if n_features % self.n_subvectors:
            raise ValueError(
                f"n_subvectors={self.n_subvectors} must divide the number of "
                f"features ({n_features})"
            )
        if self.spherical and not (self.normalize and self.n_subvectors == 1):
            raise ValueError(
                "spherical=True clusters unit rows with one codebook: it needs "
                f"normalize=True and n_subvectors=1, got normalize={self.normalize}, "
                f"n_subvectors={self.n_subvectors}"
            )
        if self.normalize and n_features == 1:
            raise ValueError(
                "normalize=True keeps only the sign of data with n_features=1; "
                "use normalize=False"
            )
        return subvector_slices(n_features, self.n_subvectors)

    def _effective_n_init(self):
        seeded = isinstance(self.init, str) or callable(self.init)
        if self.n_init == "auto":
            # As scikit-learn: one k-means++ run, ten random or callable ones.
            return 1 if not seeded or self.init == "k-means++" else 10
        if seeded or self.n_init == 1:
            return self.n_init
        warnings.warn(
            "Explicit initial centroids passed: performing only one init in "
            f"VectorQuantizer instead of n_init={self.n_init}.",
            RuntimeWarning,
            stacklevel=3,
        )
        return 1

    def _checked_init(self, columns, in_memory=False):
        """The seeding's name, or the explicit init as one entry per subvector.

        Each entry is an array of shape (n_clusters, width), or the callable
        init, which only the in-memory fit (``KMeansL2``) can call.
        """
        if isinstance(self.init, str):
            return self.init
        if callable(self.init):
            if not in_memory:
                raise ValueError(
                    "a callable init needs an in-memory fit: use batch_size=None "
                    "and an in-memory array (not a dask array or a large memory "
                    "map), or pass the initial centroids as an array"
                )
            return [self.init] * len(columns)
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
        if self.spherical:
            init = [unit_rows(centers) for centers in init]
        return list(init)

    def _called_init(self, X, columns):
        """The callable init's centers for the first batch of ``partial_fit``.

        As in ``fit``, the callable gets each subvector's distinct
        (normalized) rows of the batch, read whole, and the random state.
        """
        rows = np.array(X, dtype=np.float64, order="C")
        # A memory map's values were not read yet (the pass that centers the
        # batch checks them later): the callable must not get NaN rows.
        check_finite(rows, "X", needs_finite_values(self))
        if self.normalize:
            rows = normalize_rows(rows)
        random_state = check_random_state(self.random_state)
        centers = []
        for cols in columns:
            width = cols.stop - cols.start
            chosen = check_array(
                self.init(
                    np.unique(rows[:, cols], axis=0), self.n_clusters, random_state
                ),
                dtype=np.float64,
            )
            if chosen.shape != (self.n_clusters, width):
                raise ValueError(
                    f"The shape of the centers returned by init {chosen.shape} "
                    f"does not match (n_clusters, width) = {(self.n_clusters, width)}"
                )
            centers.append(unit_rows(chosen) if self.spherical else chosen)
        return centers

    def _check_lazy_table(self, X, reset):
        """Validate a memory map or a dask array without reading its values."""
        validate_lazy_table(self, X, reset)

    # --- sources of rows -----------------------------------------------------

    @property
    def _block_rows(self):
        # The default is looked up in _vq_scale at every call, not copied.
        return self.batch_size or _scale.DEFAULT_BATCH_ROWS

    def _row_prep(self):
        """Rows normalized as asked and centered on the fitted origin, if any.

        A fit replaces the origin by the mean of the table it reads.
        """
        return RowPrep(
            self.normalize,
            getattr(self, "_origin", None),
            needs=needs_finite_values(self),
        )

    def _array_source(self, X, prepare_once=False):
        """Blocks of a validated in-memory table or of a memory map.

        ``prepare_once`` prepares an in-memory table once it knows the mean,
        instead of at every pass.
        """
        return ArraySource(
            X, self._block_rows, self._row_prep(), cpu_count(), prepare_once
        )

    def _memmap_source(self, X, reset):
        self._check_lazy_table(X, reset)
        return self._array_source(X)

    def _dask_source(self, X, reset):
        self._check_lazy_table(X, reset)
        return DaskSource(X.rechunk({1: -1}), self._row_prep())

    def _source(self, X, reset):
        """A source of the rows of ``X`` after validating it."""
        if is_dask_array(X):
            return self._dask_source(X, reset)
        if isinstance(X, np.memmap):
            return self._memmap_source(X, reset)
        X = validate_finite(self, X, dtype=[np.float64, np.float32], reset=reset)
        check_magnitude(X, self.normalize)
        return self._array_source(X)

    # --- fitted state --------------------------------------------------------

    def _store(self, origin, codebook, counts):
        """Keep the codebooks (float64 inside, float32 in ``codebook_``) and
        drop the codes added for the previous ones."""
        self._origin = np.asarray(origin, dtype=np.float64)
        self._centers = [np.asarray(c, dtype=np.float64) for c in codebook]
        self.codebook_ = np.stack(self._centers).astype(np.float32)
        self._counts = np.stack(counts).astype(np.int64)
        self.__dict__.pop("_stored", None)

    @property
    def _fitted_layout(self):
        """``(n_subvectors, n_clusters)`` of the fitted codebooks.

        Encoding, decoding and accounting follow these, not the parameters:
        ``set_params`` after a fit changes only the next fit (a new
        ``n_clusters`` gave uint16 codes of a 4-centroid codebook, a new
        ``n_subvectors`` a broadcasting error).
        """
        n_subvectors, n_clusters, _ = self.codebook_.shape
        return n_subvectors, n_clusters

    def _fitted_columns(self):
        return subvector_slices(self.n_features_in_, self._fitted_layout[0])

    def _centered_codebooks(self):
        columns = self._fitted_columns()
        return [
            c - self._origin[cols]
            for c, cols in zip(self._centers, columns, strict=True)
        ]

    # --- using the codebooks -------------------------------------------------

    def transform(self, X: ArrayLike) -> Any:
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
        check_is_fitted(self)
        source = self._source(X, reset=False)
        return encode_rows(
            source,
            self._fitted_columns(),
            self._centered_codebooks(),
            code_dtype(self._fitted_layout[1]),
        )

    def inverse_transform(self, codes: ArrayLike) -> Any:
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
        if is_dask_array(codes):
            check_codes(codes, self._fitted_layout[0])
            return codes.rechunk({1: -1}).map_blocks(
                rebuild_rows,
                self.codebook_,
                dtype=np.float32,
                chunks=(codes.chunks[0], (self.n_features_in_,)),
                meta=np.empty((0, self.n_features_in_), dtype=np.float32),
            )
        codes = check_array(codes, dtype=None, input_name="codes")
        check_codes(codes, self._fitted_layout[0])
        return rebuild_rows(codes, self.codebook_)

    def score(self, X: ArrayLike, y: object = None) -> float:
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
        check_is_fitted(self)
        source = self._source(X, reset=False)
        with source.running():
            result = source.reduce(
                cosine_kernel,
                self._fitted_columns(),
                self._centered_codebooks(),
                list(self.codebook_),
            )
        return result.total / result.count

    def memory_usage(self, n_rows: int | None = None) -> MemoryUsage:
        """Memory of the table before and after compression.

        Parameters
        ----------
        n_rows : int, default=None
            Rows of the table (zero or more); by default those seen in
            fitting.

        Returns
        -------
        MemoryUsage
        """
        check_is_fitted(self)
        if n_rows is None:
            n_rows = self.n_samples_seen_
        elif not isinstance(n_rows, Integral) or isinstance(n_rows, bool) or n_rows < 0:
            # int() made 2.5 rows into 2 and True into 1, and -1 gave
            # negative byte counts.
            raise ValueError(f"n_rows must be a non-negative integer, got {n_rows!r}")
        n_subvectors, n_clusters = self._fitted_layout
        return MemoryUsage.of(n_rows, self.n_features_in_, n_clusters, n_subvectors)

    # --- searching the codes -------------------------------------------------

    def add(self, X):
        """Encode rows and store their codes after those already added.

        The stored codes, ``codes_``, are the table ``kneighbors`` searches;
        row ``i`` of it is the ``i``-th row ever added. As ``index.add`` in
        faiss, this keeps only the codes (``n_subvectors`` bytes per row for
        ``n_clusters <= 256``), never the rows.

        Parameters
        ----------
        X : array-like, numpy.memmap or dask array of shape (n_samples, \
n_features)
            Rows to add, encoded as ``transform`` encodes them (a memory map
            block by block).

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        codes = self.transform(X)
        if is_dask_array(codes):
            codes = codes.compute()
        stored = self._stored_codes()
        if stored is None:
            self._stored = StoredCodes(codes)
        else:
            stored.append(codes)
        return self

    def _stored_codes(self):
        """The codes added since the last fit, or None.

        Every change of the codebook drops them (``_store``, ``partial_fit``).
        They were tied to it by identity, which ``joblib.dump`` does not keep:
        a quantizer saved with joblib lost its added codes.
        """
        return getattr(self, "_stored", None)

    @property
    def codes_(self):
        stored = self._stored_codes() if hasattr(self, "codebook_") else None
        if stored is None:
            raise AttributeError(
                "no rows added since the codebook was fitted: call add(X) first"
            )
        return stored.codes

    def kneighbors(
        self,
        X,
        n_neighbors=10,
        *,
        metric="sqeuclidean",
        return_distance=True,
        rerank_with=None,
        n_candidates=None,
    ):
        """The added rows nearest to each query, found from their codes.

        Asymmetric distance computation: for every query and subvector a
        table holds the distance to each centroid, and a row's distance is
        the sum of its codes' entries, which equals the distance to the row
        rebuilt by ``inverse_transform`` (up to float32 rounding) without
        rebuilding any row. Queries are normalized first when
        ``normalize=True``, as ``transform`` does with rows.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            The queries.
        n_neighbors : int, default=10
            Neighbours per query; at most the number of rows added.
        metric : {"sqeuclidean", "inner_product", "cosine"}, \
default="sqeuclidean"
            Squared Euclidean distance, inner product (largest first), or
            cosine similarity (largest first) to the rebuilt rows.
        return_distance : bool, default=True
            Whether to return the distances too.
        rerank_with : array-like or numpy.memmap of shape (n_indexed, \
n_features), default=None
            The rows that were added, in the same order. The scan over codes
            then keeps ``n_candidates`` candidates per query, and these are
            ranked again by their exact distance to the query; only the
            candidates' rows are read.
        n_candidates : int, default=None
            Candidates per query ranked again with ``rerank_with``; by default
            ``4 * n_neighbors``, at most the number of rows added.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), float64
            Nearest first: squared distances, minus the inner products, or
            cosine distances (``1 - cos``), so that smaller is always nearer.
            Only with ``return_distance=True``.
        indices : ndarray of shape (n_queries, n_neighbors), int64
            Positions of the neighbours among the rows added; ties go to the
            lower position.

        Examples
        --------
        >>> from skclust import VectorQuantizer
        >>> from skclust.datasets import make_embeddings
        >>> X = make_embeddings(2000, 16, random_state=0)
        >>> vq = VectorQuantizer(32, n_subvectors=4, random_state=0).fit(X)
        >>> distances, indices = vq.add(X).kneighbors(X[:3], n_neighbors=5)
        >>> indices.shape
        (3, 5)
        >>> _, exact = vq.kneighbors(X[:3], 5, rerank_with=X, n_candidates=50)
        >>> exact[:, 0].tolist()  # each query is its own nearest row
        [0, 1, 2]
        """
        check_is_fitted(self)
        # n_jobs is read by the scan, not only by fit: a set_params(n_jobs=0)
        # after fitting reached joblib's "n_jobs == 0 in Parallel has no
        # meaning", and 1.5 or True went on as a number of threads.
        check_n_jobs(self.n_jobs, type(self).__name__)
        stored = self._stored_codes()
        # A quantizer saved before any add() loads with no rows stored.
        if stored is None or stored.size == 0:
            raise ValueError(
                "no rows to search: call add(X) after fitting to store their codes"
            )
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        n_rows = stored.size
        n_neighbors = _check_count("n_neighbors", n_neighbors, n_rows)
        queries = self._prepared_queries(X, metric)
        n_scanned = n_neighbors
        if rerank_with is not None:
            if n_candidates is None:
                n_candidates = min(4 * n_neighbors, n_rows)
            n_scanned = _check_count("n_candidates", n_candidates, n_rows)
            if n_scanned < n_neighbors:
                raise ValueError(
                    f"n_candidates={n_scanned} is smaller than "
                    f"n_neighbors={n_neighbors}"
                )
            rows_of = self._row_reader(rerank_with, n_rows)
        n_threads = (
            cpu_count() if self.n_jobs is None else effective_n_jobs(self.n_jobs)
        )
        distances, indices = search_codes(
            queries, self.codebook_, stored.codes, n_scanned, metric, n_threads
        )
        if rerank_with is not None:
            distances, indices = rerank(queries, indices, rows_of, n_neighbors, metric)
        return (distances, indices) if return_distance else indices

    def _prepared_queries(self, X, metric):
        """Queries in the space of the codebook, float64, a copy."""
        X = validate_finite(self, X, dtype=np.float64, reset=False, copy=True)
        check_magnitude(X, self.normalize or metric == "cosine")
        if self.normalize or metric == "cosine":
            # Tested on the values, not on the norm: the norm of a query near
            # 1e-300 underflows to zero, and that of one near 1e300 overflows;
            # ``normalize_rows`` scales such rows exactly first, as ``fit``.
            nonzero = X.any(axis=1)
            if not nonzero.all():
                raise ValueError(
                    f"query {int(np.argmin(nonzero))} has zero length: it has no "
                    "direction to compare"
                )
            X = normalize_rows(X)
        return X

    def _row_reader(self, rows, n_rows):
        """A function returning the given rows, prepared like the queries."""
        if not (hasattr(rows, "shape") and hasattr(rows, "dtype")):
            rows = check_array(rows, dtype=np.float64, input_name="rerank_with")
        expected = (n_rows, self.n_features_in_)
        if tuple(rows.shape) != expected:
            raise ValueError(
                f"rerank_with has shape {tuple(rows.shape)}; the rows added have "
                f"shape {expected}"
            )

        def rows_of(indices):
            chosen = check_array(
                rows[indices], dtype=np.float64, copy=True, input_name="rerank_with"
            )
            return normalize_rows(chosen) if self.normalize else chosen

        return rows_of

    # --- saving --------------------------------------------------------------

    def save(self, path):
        """Write the fitted codebooks and the added codes to one ``.npz``.

        The archive holds numbers and strings only (it loads with
        ``allow_pickle=False``), among them ``codebook`` and ``codes`` as
        ``skclust vq --decode`` reads them. Parameters that are not numbers,
        strings or None (an array or callable ``init``, a ``RandomState``)
        are not kept: the loaded quantizer has their defaults, which matter
        only to a new fit.

        Parameters
        ----------
        path : str or path-like
            The file, written whole or not at all (any ``.npz`` name).

        Examples
        --------
        >>> import tempfile, os
        >>> from skclust import VectorQuantizer
        >>> from skclust.datasets import make_embeddings
        >>> X = make_embeddings(500, 8, random_state=0)
        >>> vq = VectorQuantizer(16, n_subvectors=2, random_state=0).fit(X).add(X)
        >>> path = os.path.join(tempfile.mkdtemp(), "index.npz")
        >>> vq.save(path)
        >>> loaded = VectorQuantizer.load(path)
        >>> bool((loaded.codes_ == vq.codes_).all())
        True
        """
        check_is_fitted(self)
        params = {
            name: value.item() if isinstance(value, np.generic) else value
            for name, value in self.get_params().items()
        }
        params = {
            name: value
            for name, value in params.items()
            if value is None or isinstance(value, (bool, int, float, str))
        }
        n_subvectors, n_clusters = self._fitted_layout
        # Those of the codebooks, whatever set_params said since the fit.
        params.update(n_subvectors=n_subvectors, n_clusters=n_clusters)
        stored = self._stored_codes()
        codes = (
            stored.codes
            if stored is not None
            else np.empty((0, n_subvectors), dtype=code_dtype(n_clusters))
        )
        arrays = {
            "format": np.array(SAVE_FORMAT),
            "params": np.array(json.dumps(params)),
            "codebook": self.codebook_,
            "centers": np.stack(self._centers),
            "origin": self._origin,
            "counts": self._counts,
            "codes": codes,
            "n_samples_seen": np.array(self.n_samples_seen_),
        }
        if hasattr(self, "n_iter_per_codebook_"):
            # Saved as "n_iter", the name it had when it was n_iter_ itself,
            # so that files of either version load; n_iter_ is its maximum.
            arrays["n_iter"] = np.asarray(self.n_iter_per_codebook_)
        if hasattr(self, "n_steps_"):
            arrays["n_steps"] = np.asarray(self.n_steps_)
        if hasattr(self, "feature_names_in_"):
            # As str, not object: the archive must load without pickle.
            arrays["feature_names_in"] = self.feature_names_in_.astype(str)
        save_arrays(path, arrays)

    @classmethod
    def load(cls, path):
        """A fitted quantizer, with its added codes, from a file of ``save``.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        VectorQuantizer

        Raises
        ------
        ValueError
            Naming the file, when it is not such an archive, is damaged, its
            parameters are not valid, its arrays do not fit together, or one
            of them would take more than the memory budget (half the physical
            memory, or ``SKCLUST_MEMORY_BUDGET`` bytes).
        """
        arrays, params = load_saved(path)
        names = cls._get_param_names()
        quantizer = cls(**{k: v for k, v in params.items() if k in names})
        try:
            quantizer._validate_params()
        except ValueError as error:
            # A hand-edited {"normalize": "maybe"} loaded, and was taken as true.
            raise ValueError(f"{path}: saved parameters: {error}") from None
        centers, origin, codes = arrays["centers"], arrays["origin"], arrays["codes"]
        if centers.shape[:2] != (quantizer.n_subvectors, quantizer.n_clusters):
            raise ValueError(
                f"{path}: a codebook of shape {centers.shape} does not fit "
                f"n_subvectors={quantizer.n_subvectors}, "
                f"n_clusters={quantizer.n_clusters}"
            )
        quantizer._store(origin, list(centers), arrays["counts"])
        quantizer.n_features_in_ = origin.shape[0]
        quantizer.n_samples_seen_ = int(arrays.get("n_samples_seen", 0))
        if "n_iter" in arrays:
            quantizer.n_iter_per_codebook_ = arrays["n_iter"]
            quantizer.n_iter_ = int(arrays["n_iter"].max())
        if "n_steps" in arrays:
            quantizer.n_steps_ = int(arrays["n_steps"])
        if "feature_names_in" in arrays:
            quantizer.feature_names_in_ = arrays["feature_names_in"].astype(object)
        codes = codes.astype(code_dtype(quantizer.n_clusters))
        quantizer._stored = StoredCodes(codes)
        return quantizer

    @property
    def _n_features_out(self):
        return self._fitted_layout[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform returns integer codes, whatever the input's float type.
        tags.transformer_tags.preserves_dtype = []
        return tags
