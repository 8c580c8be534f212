"""The k-means estimators: ``KMeansL2`` (means) and ``KMeansL1`` (medians).

They differ only in their metric (``_metrics``); fitting, prediction and the
seed search live in the shared base class (``_base``).
"""

from ._base import _BaseKMeans
from ._metrics import Euclidean, Manhattan, SphericalEuclidean
from ._sparse import SparseEuclidean, SparseManhattan

_SHARED_PARAMETERS = """
    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, at most the number of training samples. When the
        training data hold fewer distinct points (with positive weight) than
        ``n_clusters``, every distinct point becomes a center, the other
        centers repeat them (duplicate centers), the inertia is zero and a
        ``ConvergenceWarning`` says so, as scikit-learn's ``KMeans`` does.
    init : {{"k-means++", "random"}}, callable or array-like of shape \
(n_clusters, n_features), default="k-means++"
        How to choose the initial centers.

        - "k-means++": greedy k-means++ seeding with probabilities proportional
          to {seeding} to the nearest chosen center.
        - "random": ``n_clusters`` distinct training points, drawn with
          probability proportional to their weight.
        - an array: the initial centers themselves.
        - a callable ``init(X, n_clusters, random_state)`` returning the
          centers; ``X`` holds the distinct training points. Not supported
          for tables read in blocks (a memory map with ``batch_size`` set or
          of more than one block, a dask array): a ``ValueError``.
    n_init : "auto" or int, default="auto"
        Number of runs from different seeds; the run with the lowest inertia
        is kept. "auto" means 10 runs for ``init="random"`` or a callable, as
        in scikit-learn, and 1 otherwise.
        An explicit array init always gives one run.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        A run also stops when the squared Euclidean center shift summed over
        the centers is at most ``tol`` times the mean per-feature variance of
        the data, weighted by ``sample_weight`` (so that weighting a row is
        repeating it). scikit-learn takes that variance unweighted: given
        weights, a run may stop at another iteration than scikit-learn's
        (4 of 200 fits of heavy-tailed weights at the default ``tol``). It
        always stops when an iteration changes no label.
    random_state : int, RandomState instance or None, default=None
        Seeds of the runs are drawn from it up front, so results do not depend
        on ``n_jobs``.
    n_jobs : int, default=None
        Number of runs executed in parallel through joblib. ``None`` means 1
        unless in a ``joblib.parallel_config`` context, whose backend (loky,
        threading, dask, ...) is used. Parallel runs share the CPUs, so that
        threads are not oversubscribed: runs in worker threads use BLAS on
        one thread each, a limit the main thread sets around them (worker
        threads never change BLAS limits); runs in worker processes limit
        BLAS to their share. Fits started from threads other than the main
        thread leave BLAS limits as they are.
    verbose : int, default=0
        Print the inertia at each iteration, convergence and any relocation of
        empty clusters.
    batch_size : int, default=None
        Rows read at a time from a ``numpy.memmap``. ``None`` loads memory
        maps of at most 65,536 rows and reads larger ones in blocks of 65,536
        rows; an integer reads every memory map in blocks of that many rows,
        so the memory used stays near one block. Dask arrays are always read
        chunk by chunk. Arrays in memory are not affected. On a memory map,
        each row's label and distance bounds (12 bytes a row) are kept
        between passes when they take no more memory than one block.
    copy_x : bool, default=True
        Whether the in-memory fit works on a copy of the distinct rows, as
        with scikit-learn's ``KMeans(copy_x=True)``. ``False`` saves that
        copy (about half the memory of a fit on data without repeated rows):
        the rows of ``X`` are rearranged in place into the order of the fit
        and put back, bit for bit, before ``fit`` returns or raises, so
        ``X`` must not be used by another thread meanwhile, except by fits:
        a fit of the same memory in another thread waits until the rows are
        back.
        {copy_x_effect} A copy is made anyway for read-only, not
        C-contiguous and memory-mapped arrays (a process killed mid-fit would
        leave a file's rows moved) and for data of extreme magnitude (see
        Notes); other dtypes than float32 and float64 are converted, and the
        converted array is the one rearranged. Sparse input, memory maps read
        in blocks and dask arrays are not affected.
    algorithm : {{"auto", "lloyd", "exact"}}, default="auto"
        "lloyd": Lloyd's algorithm from ``init``, ``n_init`` times. "exact":
        for data with one feature, the optimal clustering, by dynamic
        programming over the sorted distinct values (see Notes); Lloyd's
        algorithm then starts from its centers and stops at once, which
        gives ``labels_``, ``inertia_`` and ``n_iter_`` = 1 for both
        estimators. A second step is taken only when the first moves an
        optimal center at no cost: ``tol=0`` and a mean that the update
        rounds differently (``KMeansL2``), or a value exactly halfway
        between two medians, which the assignment gives to the lower one
        (``KMeansL1``, integer data). ``init``,
        ``n_init`` and ``random_state`` are not used, and data with more
        features, memory maps read in blocks and dask arrays are refused
        (a ``ValueError``). "auto": "exact" for data in memory with one
        feature, a string ``init`` and at most {exact_limit} distinct values
        (with positive weight), where it costs at most about twice the
        default Lloyd fit, and whose table of cuts (4 bytes per distinct
        value and cluster) fits in 64 MiB (``n_clusters`` up to {exact_k} at
        {exact_limit} values); else "lloyd".

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centers of the best run; float32 for float32 training data in memory.
    labels_ : ndarray of shape (n_samples,), dtype int32
        Cluster of each training sample, from 0 to ``n_clusters - 1``; every
        cluster has at least one sample. int32 as scikit-learn's
        ``KMeans.labels_`` (and ``predict``), whatever the input.
    inertia_ : float
        {inertia}
    n_iter_ : int
        Number of iterations of the best run. With ``algorithm_ == "exact"``
        the Lloyd steps run from the optimal centers: 1, the step that finds
        them in place, except where rounding or a tie moves them at no cost
        (see ``algorithm``).
    algorithm_ : {{"lloyd", "exact"}}
        The algorithm used (see ``algorithm``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
"""

_SHARED_NOTES = """
    Each iteration keeps Hamerly's bounds on every point's distance to its own
    and to the nearest other center, so points whose label cannot change are
    not compared with every center; this changes the work, not the result.
    Identical rows are merged into one weighted point before fitting.

    An empty cluster is never dropped: its center moves to the point farthest
    from its own center (never the last point of a cluster), so exactly
    ``n_clusters`` clusters come back.

    A ``numpy.memmap`` larger than one block and a ``dask.array.Array`` are
    read block by block (one task per chunk on the active dask scheduler),
    never loaded whole: each iteration is one pass over the table. From the
    same explicit ``init`` the labels and centers are those of the in-memory
    fit (the same exact assignment; means up to the order of the sums;
    exactly the same medians, found by counting in value ranges). k-means++
    seeds on a sample of ``8 * n_clusters`` rows, then two k-means|| rounds
    (Bahmani et al., 2012) draw rows far from those seeds over the whole
    table and k-means++ chooses among the seeds and the rows drawn, weighted
    by the rows nearest to them; ``"random"`` draws from the sample. Rows
    are not merged, so with repeated rows an empty cluster may take a
    different point.

    scipy sparse input (any format, converted to CSR) is clustered without
    densifying it: from the same explicit ``init`` the result is that of the
    dense fit of ``X.toarray()`` up to near ties; the rows are not centered.
    Squared Euclidean distances of sparse rows are expanded
    (``|x|^2 - 2 x.c + |c|^2``), so they are exact only to rounding relative
    to the squared norms: ``score`` of the training rows is ``-inertia_``
    to about 3e-16 of their summed squared norm (300 random fits), not bit
    for bit: three rows of norm about 200, each on its own center
    (``inertia_`` 0), scored down to -1.8e-11 (38 of 300 such fits below 0).

    Any finite float64 data is accepted, in memory and read in blocks: the
    fit, ``predict``, ``transform`` and ``score`` run on data of extreme
    magnitude (largest value outside 2**-400..2**400, or 2**-30..2**30 for
    float32) multiplied by the power of two that brings its largest
    magnitude into [0.5, 1), which rounds nothing, and map their results back
    exactly (centers and distances by the inverse power, squared costs by its
    square). From the same explicit ``init``, data near 1e306 or of
    subnormal size therefore gives the centers and labels of the same data
    at unit scale (means to rounding: the rows are summed in another order;
    seeded fits draw among the distinct rows in an order that depends on
    their bits, so they may start elsewhere), and ``predict`` on the
    training data gives ``labels_``. An inertia (or a score, or a distance)
    too large for float64, such as the squared costs of data near 1e306, is
    returned as infinity with a ``RuntimeWarning``; the centers and labels
    are still exact.

    float32 data stays float32, as in scikit-learn's ``KMeans``: no float64
    copy of it is made, ``cluster_centers_`` and ``transform`` are float32,
    and distances, bounds, sums and medians are computed in float64 from the
    float32 values (see the k-means page of the documentation).

    On one feature, some optimal clustering is made of runs of consecutive
    sorted values, which ``algorithm="exact"`` finds by dynamic programming
    over the distinct values (Bellman 1973; Wang and Song 2011): ``k``
    layers, each solved by divide and conquer over the monotone split points
    (Gronlund et al. 2017) in O(n log n) run costs taken from prefix sums
    (``n`` distinct values; O(n log^2 n) for medians), and 4 bytes per
    distinct value and cluster. Lloyd's algorithm, even with many starts,
    stops at local optima, commonly a few per cent above the optimum on
    one feature for ``k`` of 10 or more (see the k-means page of the
    documentation).
"""


class KMeansL2(_BaseKMeans):
    __doc__ = (
        """K-means clustering with the squared Euclidean distance (Lloyd).

    Each center is the weighted mean of its cluster and each sample belongs to
    the nearest center. From the same explicit initialization, labels,
    centers, inertia and number of iterations are those of scikit-learn's
    ``KMeans(algorithm="lloyd")`` (with ``sample_weight``, see ``tol``),
    except where a point is equally near two
    centers up to the last bits of float64: skclust settles such near ties
    by coordinate differences, scikit-learn by its matrix-product rounding.
"""
        + _SHARED_PARAMETERS.format(
            seeding="the squared distance",
            exact_limit="50,000",
            exact_k="335",
            inertia="Sum of weighted squared Euclidean distances of the samples "
            "to their centers.",
            copy_x_effect="The rows are then not centered, so results may differ "
            "from ``copy_x=True`` by rounding: where two choices tie (a point "
            "equidistant from two centers, a seeding draw, the relocation of "
            "an empty cluster, common on integer-valued data), the fit may take "
            "the other one and end in another local optimum.",
        )
        + """
    See Also
    --------
    KMeansL1 : The same estimator with the Manhattan distance and medians.
    sklearn.cluster.KMeans : scikit-learn's k-means.

    Notes
    -----"""
        + _SHARED_NOTES
        + """
    With more than 16 features, the centers of the points whose bounds fail
    are ranked by a matrix product, in float32 on data of moderate scale,
    and near ties are settled by exact float64 distances. For data in memory
    ranked in float32, from the second iteration on, they may be ranked in
    ``r + 1`` dimensions instead: the data's ``r`` leading principal
    directions and the norm of the remainder, which give a lower bound on
    every distance; exact distances to the centers whose bound is below the
    distance to the best one then decide. ``r`` (a multiple of 8, at most
    half the features) is chosen on 2,000 evenly spaced rows and the
    current centers by a cost model: ``(r + 3) k + 6 d m`` multiply-adds per
    point, ``m`` the mean number of centers compared exactly, against
    ``(d + 2) k`` for the full product; the projection is used when it costs
    at most 0.6 times as much, and left when the measured ``m`` makes it
    dearer than the full product. Learned embeddings gain (most of their
    variance lies in a few directions); isotropic data, few clusters, fewer
    than 24 features, fewer than 10,000 rows (where choosing ``r`` costs
    more than the projection saves) and tables read in blocks keep the full
    product. The labels are the same either way.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust import KMeansL2
    >>> X = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])
    >>> km = KMeansL2(n_clusters=2, random_state=0).fit(X)
    >>> np.sort(km.cluster_centers_, axis=0)
    array([[ 0.,  1.],
           [10.,  1.]])
    >>> km.inertia_
    4.0
    >>> bool(km.predict([[9.0, 1.0]])[0] == km.labels_[2])
    True

    Sparse input gives the dense fit:

    >>> from scipy.sparse import csr_matrix
    >>> sparse_km = KMeansL2(n_clusters=2, init=X[[0, 2]]).fit(csr_matrix(X))
    >>> dense_km = KMeansL2(n_clusters=2, init=X[[0, 2]]).fit(X)
    >>> bool((sparse_km.labels_ == dense_km.labels_).all())
    True

    Embeddings, whose centers are ranked in a few principal directions
    first, get the labels of scikit-learn's ``KMeans`` from the same init:

    >>> from sklearn.cluster import KMeans
    >>> from skclust.datasets import make_embeddings
    >>> E = make_embeddings(10_000, 48, random_state=0)
    >>> ours = KMeansL2(64, init=E[:64], max_iter=8).fit(E)
    >>> theirs = KMeans(64, init=E[:64], n_init=1, max_iter=8).fit(E)
    >>> bool((ours.labels_ == theirs.labels_).all())
    True
    """
    )

    _metric = Euclidean
    _sparse_metric = SparseEuclidean
    _solves_lines = True
    _exact_1d_limit = 50_000


class KMeansL1(_BaseKMeans):
    __doc__ = (
        """K-medians: k-means with the Manhattan (L1) distance.

    Each sample belongs to the center nearest in Manhattan distance and each
    center is the weighted coordinate-wise median of its cluster, which is what
    minimises the cluster's summed Manhattan distance (a mean update would
    not). The inertia never increases from one iteration to the next.
"""
        + _SHARED_PARAMETERS.format(
            seeding="the Manhattan distance",
            exact_limit="20,000",
            exact_k="838",
            inertia="Sum of weighted Manhattan distances of the samples to "
            "their centers.",
            copy_x_effect="The result is exactly that of ``copy_x=True``.",
        )
        + """
    See Also
    --------
    KMeansL2 : The same estimator with the squared Euclidean distance.

    Notes
    -----"""
        + _SHARED_NOTES
        + """
    At each update the points are grouped by cluster (a radix sort of the
    labels) and each cluster's median is selected from its values in linear
    time, a few features at a time, so an update costs
    O(n_samples * n_features) and no sorted copy of the data is kept; features
    of small integers (pixels) keep per-cluster histograms. When the
    cumulative weight of a cluster reaches exactly half its total, the
    midpoint of the two middle values is used, as ``numpy.median`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust import KMeansL1
    >>> X = np.array([[0, 0], [0, 1], [0, 5], [10, 0], [10, 1], [10, 2]])
    >>> km = KMeansL1(n_clusters=2, random_state=0).fit(X)
    >>> np.sort(km.cluster_centers_, axis=0)
    array([[ 0.,  1.],
           [10.,  1.]])
    >>> km.inertia_
    7.0

    The medians of sparse input count its implicit zeros:

    >>> from scipy.sparse import csr_matrix
    >>> KMeansL1(n_clusters=2, init=X[[0, 3]]).fit(csr_matrix(X)).cluster_centers_
    array([[ 0.,  1.],
           [10.,  1.]])
    """
    )

    _metric = Manhattan
    _sparse_metric = SparseManhattan
    _solves_lines = True
    # Medians cost about twice as much as means in the programme.
    _exact_1d_limit = 20_000


class SphericalKMeansL2(KMeansL2):
    """Spherical k-means: ``KMeansL2`` with unit-length centers and no
    centering (private: the in-memory fit of ``VectorQuantizer(spherical=True)``,
    on unit rows, where the nearest unit center is the most similar one)."""

    _metric = SphericalEuclidean
    _sparse_metric = None
    _solves_lines = False
