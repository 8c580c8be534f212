"""Shared base class of the centroid clusterers (``KMeansL2``, ``KMeansL1``)."""

import threading
import warnings
from abc import ABCMeta
from numbers import Integral, Real
from typing import ClassVar, Literal, Self

import numpy as np
from joblib import Parallel, cpu_count, delayed, effective_n_jobs
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._checks import needs_finite_values, validate_finite
from .._sklearn_compat import (
    N_JOBS_CONSTRAINT,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from .._threads import blas_threads
from .._typing import ArrayLike, KMeansInit, NDArray, RandomStateLike
from ._blocked import nearest_labels
from ._cluster_sums import weighted_spread
from ._dedup import (
    DistinctRows,
    RowMoves,
    can_rearrange,
    claimed_rows,
    merge_duplicate_rows,
)
from ._engine import lloyd, local_trials, seed_points
from ._inmemory import (
    in_memory_runs,
    nearest_center,
    pairwise_in_blocks,
    splits_rows,
)
from ._optimal_1d import optimal_1d_centers
from ._out_of_core import (
    fit_in_blocks,
    reads_in_blocks,
    table_largest,
    table_source,
)
from ._row_blocks import weighted_feature_sums
from ._scaling import (
    exponent_for,
    fit_exponent,
    largest_magnitude,
    scale_exponent,
    scaled,
    unscaled,
    weight_exponent,
)
from ._sources import RowPrep, validate_lazy_table
from ._sparse import (
    as_csr,
    merge_duplicate_sparse_rows,
    sparse_single_run,
    sparse_tolerance,
)

# Constraints of the parameters that control the k-means runs, shared by every
# estimator that passes them on to KMeansL2 or KMeansL1.
RUN_CONSTRAINTS = {
    "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
    "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "random_state": ["random_state"],
    "n_jobs": N_JOBS_CONSTRAINT,
    "verbose": ["verbose"],
}


class _BaseKMeans(
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Fit, predict, transform and score for k-means in any metric.

    The output features of ``transform`` are the distances to the centers,
    named by ``get_feature_names_out`` after the class (``kmeansl20``,
    ``kmeansl21``, ...), as scikit-learn names ``KMeans``'s.

    Subclasses set ``_metric``, a metric of ``skclust._kmeans._metrics``
    (distance, cost and center update). Every fit goes through the Lloyd
    engine (``skclust._kmeans._engine``): in memory with Hamerly's bounds, and
    block by block for memory maps and dask arrays (``_out_of_core``).
    """

    _metric = None
    # Whether algorithm="exact" (one feature: dynamic programming over the
    # sorted values, ``_optimal_1d``) minimises this class's inertia, and
    # up to how many distinct values algorithm="auto" takes it: where it
    # cost at most about twice the default Lloyd fit
    # (benchmarks/bench_exact_1d.py; see docs/kmeans.rst).
    _solves_lines = False
    _exact_1d_limit = 0
    # The most cells (distinct values x clusters, 4 bytes each) of the exact
    # programme's table of cuts that algorithm="auto" allocates: 64 MiB.
    _exact_1d_max_cells = 2**24
    # The metric of a fit on scipy sparse rows, or None where sparse input is
    # refused (``_sparse``).
    _sparse_metric = None

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        **RUN_CONSTRAINTS,
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"auto", "lloyd", "exact"})],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: KMeansInit = "k-means++",
        n_init: Literal["auto"] | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
        verbose: int = 0,
        batch_size: int | None = None,
        copy_x: bool = True,
        algorithm: Literal["auto", "lloyd", "exact"] = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.batch_size = batch_size
        self.copy_x = copy_x
        self.algorithm = algorithm

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: object = None, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Compute the clustering.

        Identical rows are merged into one weighted point before fitting, which
        changes no result (each run sees the same weighted points) and saves
        work on data with repeated rows such as 8-bit images.

        Parameters
        ----------
        X : array-like, scipy sparse matrix, numpy.memmap or dask array of \
shape (n_samples, n_features)
            Training data. A memory map larger than one block (or any memory
            map, given ``batch_size``) and a dask array are read in blocks;
            sparse input is never densified; see Notes.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample; ``None`` gives every sample
            weight one. Equal weights ``w`` give the fit without weights,
            exactly, and its inertia times ``w``. Not supported for tables
            read in blocks.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if reads_in_blocks(X, self.batch_size):
            if self.algorithm == "exact":
                raise ValueError(
                    "algorithm='exact' is not supported for memory maps and dask "
                    "arrays read in blocks; load the column into memory"
                )
            self._fit_in_blocks(X, sample_weight)
            self.algorithm_ = "lloyd"
            return self
        if sparse.issparse(X):
            if X.shape[1] == 1 and self._may_solve_exactly():
                # One sparse column is small dense: the exact solver works on
                # dense values.
                X = X.toarray()
            else:
                self._check_algorithm(X.shape[1])
                self._fit_sparse(X, sample_weight)
                self.algorithm_ = "lloyd"
                return self
        # float32 stays float32, as in scikit-learn's KMeans: the merged copy
        # of the rows keeps it, and distances and sums are taken in float64.
        X = validate_finite(
            self, X, dtype=[np.float64, np.float32], ensure_min_samples=2
        )
        self._check_algorithm(X.shape[1])
        sample_weight, init, exponent, weights_at, largest = self._checked(
            X, sample_weight
        )
        # With copy_x=False the rows of X itself are moved into the merge's
        # order and put back below, whatever happens in between; a fit of the
        # same memory in another thread waits until they are back.
        movable = not self.copy_x and exponent == 0 and can_rearrange(X)
        with claimed_rows(X, move=movable) as in_place:
            moves = RowMoves(X) if in_place else None
            try:
                distinct = merge_duplicate_rows(X, sample_weight, moves)
                return self._fit_distinct(
                    X,
                    sample_weight,
                    distinct,
                    init,
                    (exponent, largest),
                    in_place,
                    weights_at,
                )
            finally:
                if moves is not None:
                    moves.undo()

    def _fit_distinct(
        self, X, sample_weight, distinct, init, scale, in_place, weights_at
    ):
        """The in-memory fit on the merged rows (``scale``: the exponent of
        the fit and the largest magnitude of ``X``; ``in_place``: a view of
        ``X`` rearranged, neither scaled nor centered; ``weights_at``: the
        unit of the weights, see ``_checked``)."""
        exponent = scale[0]
        positive = distinct.weights > 0
        points, weights = _with_weight(distinct, positive)
        self.algorithm_ = self._algorithm_for(points.shape)
        if points.shape[0] < self.n_clusters:
            return self._fit_every_point_a_center(distinct, positive, exponent)
        if self.algorithm_ == "exact":
            # One Lloyd run from the optimal centers, found below on the
            # points as the run sees them (scaled, centered).
            seeds, inits = [0], [None]
            init = None
        else:
            seeds, inits = self._seeded_inits(points, init, exponent)
        n_init = len(seeds)
        if in_place:
            origin = np.zeros(points.shape[1])
        else:
            # ``points`` is the merge's own copy of the rows (or a selection
            # of it): scaling and centering it in place saves allocating and
            # filling a second copy of the table, unless a callable init was
            # handed it and may have kept it (not for the exact fit, which
            # calls no init).
            points = scaled(
                points,
                exponent,
                out=None if callable(self.init) and init is not None else points,
            )
            # L2 runs on centered data (as scikit-learn does), which keeps the
            # matrix-product distances accurate; L1 runs on the data as given.
            origin = self._metric.origin(points, weights)
        inits = [
            init if init is None or isinstance(init, str) else init - origin
            for init in inits
        ]
        tol = _tolerance(points, weights, self.tol)
        if origin.any():
            points -= origin
        if self.algorithm_ == "exact":
            inits = [self._exact_centers(points, weights)]
        # Parallel runs share the CPUs: each gets its share for BLAS and for
        # the threaded assignment step, so threads are not oversubscribed.
        n_parallel = min(n_init, effective_n_jobs(self.n_jobs))
        # Counting the CPUs reads cgroup files (0.05 to 0.3 ms, up to a tenth
        # of a fit of iris): only done when more than one thread may be used.
        n_threads = 1
        if n_parallel > 1 or splits_rows(*points.shape, self._metric):
            n_threads = max(1, cpu_count() // n_parallel)
        # Only the main thread sets BLAS limits (see skclust._threads): runs in
        # worker threads share the CPUs already and run BLAS on one thread
        # each, under this limit; runs in worker processes set their own.
        with blas_threads(1 if n_parallel > 1 else None):
            runs = Parallel(n_jobs=self.n_jobs)(
                delayed(_single_run)(
                    points,
                    weights,
                    init,
                    self.n_clusters,
                    seed,
                    self._metric,
                    self.max_iter,
                    tol,
                    self.verbose,
                    n_threads,
                    n_parallel > 1,
                )
                for init, seed in zip(inits, seeds, strict=True)
            )
        # Lowest inertia wins; on an exact tie the earliest seed, so the result
        # does not depend on the order in which parallel runs finish.
        best = min(range(n_init), key=lambda i: runs[i].inertia)
        return self._store_fit(
            X,
            sample_weight,
            distinct,
            positive,
            runs[best],
            origin,
            scale,
            weights_at,
        )

    def _check_algorithm(self, n_features):
        """Refuse ``algorithm="exact"`` where there is no exact solver."""
        if self.algorithm != "exact":
            return
        if not self._solves_lines:
            raise ValueError(
                f"algorithm='exact' is not available for {type(self).__name__}"
            )
        if n_features != 1:
            raise ValueError(
                f"algorithm='exact' needs data with one feature, got "
                f"{n_features} features: k-means in several dimensions has no "
                "exact solver (use 'lloyd' or 'auto')"
            )

    def _may_solve_exactly(self):
        """Whether a fit of one-feature data may take the exact solver."""
        return self.algorithm == "exact" or (
            self.algorithm == "auto"
            and self._solves_lines
            and isinstance(self.init, str)
        )

    def _algorithm_for(self, shape):
        """The algorithm, "exact" or "lloyd", for the distinct points of
        positive weight, of this ``shape``: "auto" takes the exact solver
        for one feature, a string ``init``, at most ``_exact_1d_limit``
        distinct values and a table of cuts of at most ``_exact_1d_max_cells``
        cells."""
        n_distinct, n_features = shape
        if n_features != 1:
            return "lloyd"
        if self.algorithm == "exact":
            return "exact"
        small = (
            n_distinct <= self._exact_1d_limit
            and n_distinct * self.n_clusters <= self._exact_1d_max_cells
        )
        return "exact" if small and self._may_solve_exactly() else "lloyd"

    def _exact_centers(self, points, weights):
        """The centers of an optimal clustering of one-feature ``points``
        (distinct, in any order; ``weights`` positive), shape (k, 1)."""
        values = points[:, 0].astype(np.float64)
        order = np.argsort(values, kind="stable")
        centers = optimal_1d_centers(
            values[order], weights[order], self.n_clusters, self._metric._manhattan
        )
        if self.verbose:
            print(
                f"Exact 1-D optimum of {self.n_clusters} clusters over "
                f"{values.shape[0]} distinct values (dynamic programming)."
            )
        return centers[:, None]

    def _checked(self, X, sample_weight):
        """Checked weights (None for none given: an array of ones would be
        one more float64 per row throughout the fit), ``init`` (an array
        init checked and copied: a view of ``X`` would see its rows move with
        ``copy_x=False``), the scaling exponent of the fit, the unit of the
        weights as ``(mantissa, exponent)``: weights are returned divided by
        ``mantissa * 2**-exponent`` (a power of two from
        ``_scaling.weight_exponent``, or, for equal weights, that weight,
        returned as None), and the largest magnitude of ``X`` (one pass over
        it, which the fit needs twice).

        The fit runs on the data scaled by an exact power of two, which keeps
        squared distances of data near 1e306 or 1e-308 in range. The data is
        scaled after the merge: it keys integer data (8-bit images) exactly,
        which scaled data would no longer be.
        """
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of "
                f"samples ({X.shape[0]})."
            )
        if sample_weight is not None and not sample_weight.any():
            # scikit-learn's own check of this came in after 1.6.0.
            raise ValueError("sample_weight must hold at least one non-zero value.")
        weights_at = (1.0, weight_exponent(sample_weight))
        if sample_weight is not None and np.all(sample_weight == sample_weight[0]):
            # Equal weights are no weights: the fit runs unweighted and the
            # inertia is multiplied by the weight. Weighted sums of other
            # weights than powers of two round otherwise than counts, which
            # moved L1 medians off the midpoint and the L2 origin past ties.
            mantissa, power = np.frexp(sample_weight[0])
            weights_at = (float(mantissa), -int(power))
            sample_weight = None
        elif weights_at[1]:
            sample_weight = scaled(sample_weight, weights_at[1])
        init = self.init
        largest = largest_magnitude(X)
        exponent = exponent_for(largest, X.dtype)
        if not (isinstance(init, str) or callable(init)):
            init = np.array(self._check_init(init, X.shape[1]))
            exponent = fit_exponent(exponent, init)
        return sample_weight, init, exponent, weights_at, largest

    def _seeded_inits(self, points, init, exponent):
        """The seed of each run, drawn up front, and its initialization."""
        n_init = self._effective_n_init()
        if isinstance(self.random_state, Integral):
            random_state = _reseeded(self.random_state)
        else:
            random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)
        return seeds, self._initial_centers(points, init, seeds, exponent)

    def _store_fit(
        self,
        X,
        sample_weight,
        distinct,
        positive,
        result,
        origin,
        scale,
        weights_at,
        centers_dtype=None,
    ):
        """Set the fitted attributes from the best run on the scaled, merged
        points (``scale``: the exponent of the fit and the largest magnitude
        of ``X``; ``weights_at``: the unit of the weights, see ``_checked``):
        centers mapped back, every row of ``X`` labeled. ``cluster_centers_``
        takes the dtype of ``X``, or ``centers_dtype`` if given (that of
        sparse rows before their conversion to float64)."""
        metric = self._metric_for(X)
        exponent, largest = scale
        centers = result.centers + origin
        # A mean can round just past the largest magnitude; near the top of
        # the float64 range that would map back to infinity.
        largest = np.ldexp(largest, exponent)
        np.clip(centers, -largest, largest, out=centers)
        labels = np.empty(distinct.points.shape[0], dtype=np.int32)
        labels[positive] = result.labels
        inertia = result.inertia
        cluster_centers = scaled(centers, -exponent)
        if not np.array_equal(scaled(cluster_centers, exponent), centers):
            # The centers of data of subnormal size rounded on the way back:
            # every row is labeled again as ``predict`` labels it, so that it
            # agrees with ``labels_``.
            centers = scaled(cluster_centers, exponent)
            labels, distance = nearest_center(scaled(X, exponent), centers, metric)
            cost = metric.cost(distance)
            inertia = float(
                cost.sum() if sample_weight is None else sample_weight @ cost
            )
        else:
            if not positive.all():
                labels[~positive], _ = nearest_center(
                    scaled(distinct.points[~positive], exponent),
                    centers,
                    metric,
                )
            labels = labels[distinct.inverse]
        # As scikit-learn's KMeans: float32 data, float32 centers (the float64
        # means rounded once).
        self._set_centers(
            cluster_centers, X.dtype if centers_dtype is None else centers_dtype
        )
        self.labels_ = _as_labels(labels)
        self.inertia_ = float(
            unscaled(
                inertia * weights_at[0],
                exponent,
                self._cost_power,
                "inertia",
                weights_at[1],
            )
        )
        self.n_iter_ = result.n_iter
        return self

    def _fit_in_blocks(self, X, sample_weight):
        """Fit a memory map or a dask array read in blocks (``_out_of_core``)."""
        validate_lazy_table(self, X, reset=True)
        if sample_weight is not None:
            raise ValueError(
                "sample_weight is not supported for memory maps and dask arrays"
            )
        if callable(self.init):
            raise ValueError(
                "a callable init is not supported for tables read in blocks "
                "(memory maps read in blocks, dask arrays): "
                "load the table with np.asarray, or pass the centers as an array"
            )
        init = self.init
        if not isinstance(init, str):
            init = self._check_init(init, X.shape[1])
        n_init = self._effective_n_init()
        source = table_source(
            X, self.batch_size, cpu_count(), needs_finite_values(self)
        )
        with source.running():
            largest = table_largest(source)
            exponent = exponent_for(largest)
            if not isinstance(init, str):
                exponent = fit_exponent(exponent, init)
            source.use_prep(
                RowPrep(False, None, False, exponent, needs=needs_finite_values(self))
            )
            fitted = fit_in_blocks(
                source,
                self._metric,
                self.n_clusters,
                init,
                n_init,
                self.max_iter,
                self.tol,
                check_random_state(self.random_state),
                self.verbose,
            )
            # As in memory: clipped to the data's range (a mean may round
            # past it), mapped back, and, when centers of subnormal size
            # rounded on the way back, every row labeled again as
            # ``predict`` labels it.
            centers = np.clip(
                fitted.centers, *scaled(np.array([-1, 1]) * largest, exponent)
            )
            cluster_centers = scaled(centers, -exponent)
            labels = fitted.labels
            if not np.array_equal(scaled(cluster_centers, exponent), centers):
                labels = self._blocked_labels(source, cluster_centers)
        # float32 centers for a float32 table, as in memory.
        self._set_centers(
            cluster_centers, np.float32 if X.dtype == np.float32 else np.float64
        )
        self.labels_ = _as_labels(labels)
        self.inertia_ = float(
            unscaled(fitted.inertia, exponent, self._cost_power, "inertia")
        )
        self.n_iter_ = fitted.n_iter
        return self

    def _set_centers(self, centers, dtype):
        """``cluster_centers_`` in ``dtype``, keeping the float64 centers
        they were rounded from.

        float32 centers are the fit's float64 means rounded once; the labels
        are those of the float64 centers, and rounding can move a center
        past a tie (integer-valued float32 data, where points equidistant
        from two centers abound, or rows far from the origin): ``predict``,
        ``transform`` and ``score`` use the float64 centers, so that
        ``predict`` on the training rows gives ``labels_`` again.
        """
        centers = np.asarray(centers, dtype=np.float64)
        self.cluster_centers_ = centers.astype(dtype)
        # float64 centers are their own: nothing to keep.
        self._float64_centers = None if dtype == np.float64 else centers

    def _centers_in_float64(self):
        """The centers ``predict`` compares rows with: the fit's float64
        centers, unless ``cluster_centers_`` was changed since the fit."""
        centers = self.cluster_centers_
        exact = getattr(self, "_float64_centers", None)
        if (
            exact is not None
            and exact.shape == centers.shape
            and np.array_equal(exact.astype(centers.dtype), centers)
        ):
            return exact
        return centers.astype(np.float64)

    def _blocked_labels(self, source, centers):
        """Nearest of ``centers`` for every row of a source read in blocks.

        Rows and centers are scaled by the power of two that suits the
        centers (no pass over the rows: a dask result stays lazy); on the
        training table that gives ``labels_`` again.
        """
        exponent = exponent_for(largest_magnitude(centers))
        source.use_prep(
            RowPrep(False, None, False, exponent, needs=needs_finite_values(self))
        )
        return nearest_labels(source, self._metric, scaled(centers, exponent))

    def _fit_sparse(self, X, sample_weight):
        """Fit scipy sparse rows (``_sparse``): merged, scaled, never densified.

        The steps are those of the in-memory fit except centering, which
        would densify the rows; from the same explicit init the labels and
        centers are those of the dense fit, up to near ties.
        """
        if self._sparse_metric is None:
            raise TypeError(
                f"{type(self).__name__} does not accept sparse input; convert "
                "X with X.toarray() first."
            )
        X = validate_finite(
            self,
            X,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
        )
        # float32 rows give float32 centers, as dense float32 rows and
        # scikit-learn's KMeans on sparse float32 rows do (they were float64);
        # the fit itself runs on the float64 values.
        centers_dtype = X.dtype
        X = as_csr(X.astype(np.float64, copy=False))
        sample_weight, init, exponent, weights_at, largest = self._checked(
            X, sample_weight
        )
        distinct = merge_duplicate_sparse_rows(X, sample_weight)
        positive = distinct.weights > 0
        points, weights = _with_weight(distinct, positive)
        if points.shape[0] < self.n_clusters:
            # The distinct rows hold float32 values exactly when X did.
            dense = DistinctRows(
                distinct.points.toarray().astype(centers_dtype, copy=False),
                distinct.weights,
                distinct.inverse,
            )
            return self._fit_every_point_a_center(dense, positive, exponent)
        seeds, inits = self._seeded_inits(points, init, exponent)
        # ``points`` is the merge's own copy, as in the dense fit.
        points = scaled(points, exponent, out=None if callable(self.init) else points)
        tol = sparse_tolerance(points, weights, self.tol)
        runs = Parallel(n_jobs=self.n_jobs)(
            delayed(sparse_single_run)(
                points,
                weights,
                init,
                self.n_clusters,
                seed,
                self._sparse_metric,
                self.max_iter,
                tol,
                self.verbose,
            )
            for init, seed in zip(inits, seeds, strict=True)
        )
        best = min(range(len(seeds)), key=lambda i: runs[i].inertia)
        return self._store_fit(
            X,
            sample_weight,
            distinct,
            positive,
            runs[best],
            0.0,
            (exponent, largest),
            weights_at,
            centers_dtype,
        )

    def _fit_every_point_a_center(self, distinct, positive, exponent):
        """The fit when fewer distinct points than clusters have weight.

        As scikit-learn's ``KMeans`` ends up doing there, every distinct point
        becomes a center and the remaining centers repeat them, with a
        ``ConvergenceWarning``; the inertia is zero. Rows of zero weight are
        labeled on the data scaled by ``2**exponent``, as ``predict`` does.
        """
        points = distinct.points[positive]
        warnings.warn(
            f"Number of distinct points with positive weight ({points.shape[0]}) "
            f"found smaller than n_clusters ({self.n_clusters}): "
            f"{type(self).__name__} returns duplicate centers.",
            ConvergenceWarning,
            # Past fit's caller: fit -> _fit_distinct or _fit_sparse -> here,
            # under scikit-learn's fit wrapper.
            stacklevel=5,
        )
        centers = points[np.arange(self.n_clusters) % points.shape[0]]
        labels = np.empty(distinct.points.shape[0], dtype=np.int32)
        labels[positive] = np.arange(points.shape[0])
        if not positive.all():
            labels[~positive], _ = nearest_center(
                scaled(distinct.points[~positive], exponent),
                scaled(centers.astype(np.float64), exponent),
                self._metric,
            )
        self._set_centers(centers, centers.dtype)
        self.labels_ = labels[distinct.inverse]
        self.inertia_ = 0.0
        # One assignment step, which leaves every point on its own center.
        self.n_iter_ = 1
        return self

    def _effective_n_init(self):
        explicit = not isinstance(self.init, str)
        if self.n_init == "auto":
            # As scikit-learn: ten runs for random starts, one for k-means++
            # and for given centers.
            random_starts = callable(self.init) or (
                isinstance(self.init, str) and self.init == "random"
            )
            return 10 if random_starts else 1
        if explicit and self.n_init != 1 and not callable(self.init):
            warnings.warn(
                "Explicit initial center position passed: performing only one "
                f"init in {type(self).__name__} instead of n_init={self.n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            return 1
        return self.n_init

    def _initial_centers(self, points, init, seeds, exponent):
        """One initialization per seed: a string, or an array checked for shape.

        ``init`` is ``self.init``, or its checked copy for an array. A callable
        init sees ``points`` as given; the arrays returned are scaled by
        ``2**exponent``, as the fit scales the points.
        """
        if isinstance(init, str):
            return [init] * len(seeds)
        if callable(init):
            arrays = [
                init(points, self.n_clusters, np.random.RandomState(seed))
                for seed in seeds
            ]
        else:
            arrays = [init]
        centers = [
            scaled(self._check_init(array, points.shape[1]), exponent)
            for array in arrays
        ]
        if not all(np.isfinite(c).all() for c in centers):
            raise ValueError(
                "The initial centers returned by init are too large in "
                "magnitude for the scale of the data."
            )
        return centers

    def _check_init(self, centers, n_features):
        centers = check_array(centers, dtype=np.float64, input_name="init")
        if centers.shape != (self.n_clusters, n_features):
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"(n_clusters, n_features) = ({self.n_clusters}, {n_features})."
            )
        return centers

    def _check_test_data(self, X):
        """The rows of ``predict``, ``transform`` or ``score``, and their
        dtype as validated (float32 or float64), which ``transform``'s
        distances take.

        Dense float32 stays float32 (compared with the centers in float64);
        sparse rows are compared in float64.
        """
        check_is_fitted(self)
        X = validate_finite(
            self,
            X,
            dtype=[np.float64, np.float32],
            reset=False,
            accept_sparse=self._sparse_formats,
        )
        if sparse.issparse(X):
            return as_csr(X.astype(np.float64, copy=False)), X.dtype
        return X, X.dtype

    @property
    def _sparse_formats(self):
        """What ``validate_data`` accepts of scipy sparse input (CSR or none)."""
        return False if self._sparse_metric is None else "csr"

    def _metric_for(self, X):
        """The metric that computes distances on ``X``, sparse or dense."""
        return self._sparse_metric if sparse.issparse(X) else self._metric

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._sparse_metric is not None
        # ClusterMixin declares that no dtype is preserved; the distances of
        # dense float32 rows are float32, which the common checks then test.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _cost_power(self):
        """The power of the distance that the inertia sums (2 for L2, 1 for L1)."""
        return 1 if self._metric._manhattan else 2

    def _scaled_test_data(self, X):
        """``X`` and the centers scaled as ``fit`` scales them, the exponent,
        and the dtype of the rows as validated (see ``_check_test_data``).

        The exponent comes from the largest magnitude of ``X`` and the centers;
        on the training data that is the one ``fit`` used, so ``predict``
        finds ``labels_`` again.
        """
        X, dtype = self._check_test_data(X)
        exponent = scale_exponent(X, self.cluster_centers_)
        # float64 centers: float32 rows are then compared with them in float64.
        centers = self._centers_in_float64()
        return scaled(X, exponent), scaled(centers, exponent), exponent, dtype

    def predict(self, X: ArrayLike) -> NDArray[np.int32]:
        """Index of the nearest cluster center for each sample.

        Parameters
        ----------
        X : array-like, scipy sparse matrix, numpy.memmap or dask array of \
shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray or dask array of shape (n_samples,), dtype int32
            Index of the nearest center, from 0 to ``n_clusters - 1``; lazy
            (a dask array) when ``X`` is one. A memory map is read in blocks
            as in ``fit``.
        """
        if reads_in_blocks(X, self.batch_size):
            check_is_fitted(self)
            validate_lazy_table(self, X, reset=False)
            source = table_source(
                X, self.batch_size, cpu_count(), needs_finite_values(self)
            )
            with source.running():
                return _as_labels(
                    self._blocked_labels(source, self._centers_in_float64())
                )
        X, centers, _, _ = self._scaled_test_data(X)
        labels, _ = nearest_center(X, centers, self._metric_for(X))
        return _as_labels(labels)

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Distance from each sample to each cluster center, in this metric.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_features)
            New data.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
            Euclidean distances for ``KMeansL2``, Manhattan distances for
            ``KMeansL1``; float32 for float32 ``X`` (computed in float64).
        """
        X, centers, exponent, dtype = self._scaled_test_data(X)
        distances = pairwise_in_blocks(X, centers, self._metric_for(X), dtype)
        return unscaled(distances, exponent, 1, "a distance")

    def fit_transform(
        self, X: ArrayLike, y: object = None, sample_weight: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Fit, then return the distances of the training samples to the centers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    @property
    def _n_features_out(self):
        """Number of output features of ``transform``: one per center."""
        return self.cluster_centers_.shape[0]

    def score(
        self, X: ArrayLike, y: object = None, sample_weight: ArrayLike | None = None
    ) -> float:
        """Opposite of the inertia of ``X`` on the fitted centers.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_features)
            New data.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        score : float
            Minus the weighted sum of per-sample costs (squared Euclidean for
            ``KMeansL2``, Manhattan for ``KMeansL1``); higher is better.
        """
        X, centers, exponent, _ = self._scaled_test_data(X)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        # Weights scaled as fit scales them: near 1e308 their sum overflowed
        # before the scaling back, and of subnormal size the products lost
        # digits, so score of the training data was not -inertia_.
        weights_at = weight_exponent(sample_weight)
        if weights_at:
            sample_weight = scaled(sample_weight, weights_at)
        metric = self._metric_for(X)
        _, distance = nearest_center(X, centers, metric)
        total = sample_weight @ metric.cost(distance)
        return -float(
            unscaled(total, exponent, self._cost_power, "the score", weights_at)
        )


# Below this many multiply-adds per distance matrix, BLAS runs on one thread.
_SMALL_PRODUCT = 1 << 24


def _tolerance(points, weights, tol):
    """``tol`` times the mean per-feature variance of the weighted data."""
    if tol == 0:
        return 0.0
    total = weights.sum()
    mean = weighted_feature_sums(points, weights) / total
    # The summed variances in one compiled pass; squaring ``points - mean``
    # in numpy took 0.3 ms of a 6 ms fit of 1,797 x 64 rows.
    spread = weighted_spread(points, weights, mean[None, :])
    return float(spread / (total * points.shape[1]) * tol)


# One random state per thread, reseeded by every fit (see _reseeded).
_THREAD_STATE = threading.local()


def _reseeded(seed):
    """The draws of ``np.random.RandomState(seed)``, from this thread's own
    random state reseeded: making a new one first seeds it from the system's
    entropy (90 us, twice per fit: a tenth of a fit of iris). Only for draws
    made at once, by code that hands the state to no one."""
    random_state = getattr(_THREAD_STATE, "random_state", None)
    if random_state is None:
        random_state = _THREAD_STATE.random_state = np.random.RandomState()
    random_state.seed(seed)
    return random_state


def _single_run(
    points,
    weights,
    init,
    n_clusters,
    seed,
    metric,
    max_iter,
    tol,
    verbose,
    n_threads,
    limit_blas,
):
    """One initialization and Lloyd run; the unit of work of the seed search."""
    random_state = _reseeded(seed)
    blas_limit = n_threads if limit_blas else None
    # The products under this limit are k-means++'s, of the rows with 2 +
    # log k candidates at a time (the Lloyd run holds BLAS to one thread).
    # Threads do not pay on small products, and on a busy machine they made
    # them several times slower (1224 x 49 points, k = 50; seeding 30,000 x
    # 64 rows with k = 32 took 497 ms on the default threads against 105 ms
    # on one, load average 2.7, when the limit looked at k instead).
    if points.shape[0] * local_trials(n_clusters) * points.shape[1] < _SMALL_PRODUCT:
        blas_limit = 1
    with blas_threads(blas_limit):
        if isinstance(init, str):
            centers = seed_points(
                points, weights, n_clusters, init, metric, random_state
            )
        else:
            centers = init
        if verbose:
            print("Initialization complete")
        with in_memory_runs(points, weights, n_clusters, metric, n_threads) as runs:
            (result,) = lloyd(runs, [centers], [tol], max_iter, verbose)
        return result


def _with_weight(distinct, positive):
    """The distinct rows of positive weight, and their weights (the fit's
    points: rows of zero weight only get a label at the end)."""
    if positive.all():
        return distinct.points, distinct.weights
    n_positive = np.count_nonzero(positive)
    if positive[:n_positive].all():
        # The first rows (as a merge made in place puts them): a view.
        return distinct.points[:n_positive], distinct.weights[:n_positive]
    return distinct.points[positive], distinct.weights[positive]


def _as_labels(labels):
    """Cluster indices (a numpy or dask array) as int32, the dtype of
    scikit-learn's ``KMeans.labels_`` and ``predict``: arrays from either
    library then compare and concatenate without a surprise, and a label
    takes half the memory of an intp."""
    return labels.astype(np.int32, copy=False)
