"""Choosing the number of clusters.

Scikit-learn's default score for k-means (minus the inertia) always prefers the
largest k, so it cannot tune ``n_clusters``. This module offers two criteria
that can:

- :func:`elbow`: fit every k of a list (in parallel), record inertia,
  iterations and fit time, and pick the knee of the inertia curve
  (:func:`knee_index`);
- :func:`silhouette_scorer`: a scorer for ``GridSearchCV(scoring=...)`` that
  rates a clustering by its silhouette on held-out data, in the estimator's own
  metric.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_random_state

from ._checks import check_count
from ._kmeans import KMeansL1
from ._sklearn_compat import check_n_jobs
from ._typing import ArrayLike, RandomStateLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def knee_index(x: ArrayLike, y: ArrayLike) -> int:
    """Index of the knee of a decreasing curve ``y(x)``.

    The knee is the interior point where the curve bends most sharply: where
    the slope before it is the largest multiple of the slope after it. Slopes
    are per unit of ``x``, so unevenly spaced values of k (3, 6, 12, 24, 48)
    are handled. On inertia curves this picks the k after which adding
    clusters stops paying off.

    Parameters
    ----------
    x, y : array-like of shape (n_points,)
        At least three finite points, ``x`` strictly increasing.

    Returns
    -------
    int
        Between 1 and ``n_points - 2``.

    Examples
    --------
    >>> from skclust.model_selection import knee_index
    >>> knee_index([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8])
    2
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"x and y must be 1-D and of the same length; got shapes {x.shape} "
            f"and {y.shape}"
        )
    if x.shape[0] < 3:
        raise ValueError(f"a knee needs at least 3 points; got {x.shape[0]}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite (no NaN or infinity)")
    # A repeated or falling x made a slope infinite or of the wrong sign,
    # and the knee was picked from it without a word.
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    slope = -np.diff(y) / np.diff(x)
    # A flat or rising stretch after a point makes that point a perfect knee;
    # the floor keeps the ratio finite and ordered.
    floor = max(float(np.abs(slope).max()), 1e-300) * 1e-12
    ratio = slope[:-1] / np.maximum(slope[1:], floor)
    return int(np.argmax(ratio)) + 1


@dataclass
class ElbowResult:
    """What :func:`elbow` measured for each number of clusters.

    Attributes
    ----------
    n_clusters : ndarray of int
    inertia : ndarray of float
    n_iter : ndarray of int
    fit_time : ndarray of float
        Seconds per fit.
    best_n_clusters : int
        The k at the knee of the inertia curve.
    estimators : list
        The fitted estimators, one per k.
    """

    n_clusters: np.ndarray
    inertia: np.ndarray
    n_iter: np.ndarray
    fit_time: np.ndarray
    best_n_clusters: int
    estimators: list = field(repr=False)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per k, for tables."""
        return [
            {
                "k": int(k),
                "inertia": float(inertia),
                "iterations": int(n_iter),
                "seconds": round(float(seconds), 4),
            }
            for k, inertia, n_iter, seconds in zip(
                self.n_clusters, self.inertia, self.n_iter, self.fit_time, strict=True
            )
        ]

    def plot(self, ax: "Axes | None" = None, title: str | None = None) -> "Axes":
        """Inertia against k with the chosen k marked; returns the Axes."""
        if ax is None:
            from matplotlib.figure import Figure

            ax = Figure(figsize=(5, 3.5), layout="constrained").add_subplot()
        ax.plot(self.n_clusters, self.inertia, "o-", color="tab:blue")
        best = list(self.n_clusters).index(self.best_n_clusters)
        ax.plot(
            [self.best_n_clusters],
            [self.inertia[best]],
            "o",
            markersize=12,
            markerfacecolor="none",
            markeredgecolor="tab:red",
            label=f"knee: k = {self.best_n_clusters}",
        )
        ax.set_xlabel("number of clusters k")
        ax.set_ylabel(_inertia_label(self.estimators[0] if self.estimators else None))
        ax.set_title(title or "Elbow plot")
        ax.legend()
        return ax


# The elbow plot's y label for an L1 fit, whose inertia is not squared.
_L1_INERTIA = "inertia (sum of L1 distances)"


def _inertia_label(estimator):
    """The elbow plot's y label for a fitted ``estimator`` (None: unknown)."""
    if isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    if isinstance(estimator, KMeansL1):
        return _L1_INERTIA
    return "inertia"


def _timed_fit(estimator, X, sample_weight, given_memmap):
    """Fit ``estimator`` and time it; ``given_memmap``: whether the caller's
    ``X`` was a memory map."""
    if isinstance(X, np.memmap) and not given_memmap:
        # joblib hands arrays of over 1 MB to worker processes as read-only
        # memory maps, which the estimators read in blocks: another fit
        # (sampled seeding, no merge of repeated rows), without
        # sample_weight. The worker fits the array it was given, uncopied.
        X = X.view(np.ndarray)
    # Passed only when given: a clusterer whose fit takes no sample_weight
    # (SpectralGraphClusterer) failed with "fit() got an unexpected keyword
    # argument 'sample_weight'" instead of the error below.
    weight = {} if sample_weight is None else {"sample_weight": sample_weight}
    if isinstance(estimator, Pipeline):
        # The clusterer's weights, by Pipeline's "step__parameter" names.
        weight = _for_last_step(estimator, weight)
    start = time.perf_counter()
    estimator.fit(X, **weight)
    seconds = time.perf_counter() - start
    clusterer = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if not hasattr(clusterer, "inertia_"):
        raise TypeError(
            f"elbow compares the inertia_ of each fit; {type(clusterer).__name__} "
            "has none (for SpectralGraphClusterer, compare k with "
            "sweep_n_clusters and skclust.metrics.modularity)"
        )
    return estimator, seconds


def _for_last_step(estimator, params):
    """``params`` of a pipeline's last step as the pipeline names them."""
    last = estimator.steps[-1][0]
    return {f"{last}__{name}": value for name, value in params.items()}


def _with_n_clusters(estimator, k):
    """A clone of ``estimator`` (or of a pipeline ending in it) for ``k``."""
    params = {"n_clusters": k}
    if isinstance(estimator, Pipeline):
        params = _for_last_step(estimator, params)
    return clone(estimator).set_params(**params)


def _distinct_ks(n_clusters):
    """The values of k, sorted without repeats, checked before any fit."""
    # int() truncated 2.5 to 2, and True was k=1.
    ks = sorted({check_count(k, "n_clusters") for k in n_clusters})
    if len(ks) < 3:
        # Checked first: the fits of a list too short for a knee were wasted.
        raise ValueError(f"an elbow needs at least 3 distinct values of k; got {ks}")
    return ks


def elbow(
    estimator: BaseEstimator,
    X: ArrayLike,
    n_clusters: Iterable[int],
    *,
    sample_weight: ArrayLike | None = None,
    n_jobs: int | None = None,
) -> ElbowResult:
    """Fit ``estimator`` for every k in ``n_clusters`` and find the knee.

    Parameters
    ----------
    estimator : KMeansL2 or KMeansL1 (or any estimator with ``n_clusters``,
        ``inertia_`` and ``n_iter_``), or a Pipeline ending in one
        Template; it is cloned for each k. In a pipeline, the inertia is
        that of the last step, on the data as the earlier steps transform
        it, and ``sample_weight`` goes to the last step. A clusterer that
        leaves no ``inertia_`` (:class:`~skclust.SpectralGraphClusterer`) is
        refused with a ``TypeError`` after its first fit.
    X : array-like of shape (n_samples, n_features)
    n_clusters : iterable of int
        At least three distinct values; repeats are fitted once.
    sample_weight : array-like of shape (n_samples,), default=None
    n_jobs : int, default=None
        Fits run in parallel through joblib.

    Returns
    -------
    ElbowResult

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skclust import KMeansL2
    >>> from skclust.model_selection import elbow
    >>> X, _ = make_blobs(300, centers=4, cluster_std=0.5, random_state=0)
    >>> result = elbow(KMeansL2(random_state=0), X, range(1, 9))
    >>> result.best_n_clusters
    4
    """
    check_n_jobs(n_jobs, "elbow")
    ks = _distinct_ks(n_clusters)
    given_memmap = isinstance(X, np.memmap)
    fits = Parallel(n_jobs=n_jobs)(
        delayed(_timed_fit)(
            _with_n_clusters(estimator, k), X, sample_weight, given_memmap
        )
        for k in ks
    )
    clusterers = [est[-1] if isinstance(est, Pipeline) else est for est, _ in fits]
    inertia = np.array([est.inertia_ for est in clusterers])
    return ElbowResult(
        n_clusters=np.array(ks),
        inertia=inertia,
        n_iter=np.array([est.n_iter_ for est in clusterers]),
        fit_time=np.array([seconds for _, seconds in fits]),
        best_n_clusters=ks[knee_index(ks, inertia)],
        estimators=[est for est, _ in fits],
    )


def _final_step(estimator, X):
    """The clusterer and the data it sees (transformed through a pipeline)."""
    if isinstance(estimator, Pipeline):
        # A one-step pipeline: its empty slice has no transform (scikit-learn
        # raised "This 'Pipeline' has no attribute 'transform'").
        if len(estimator) == 1:
            return estimator[-1], X
        return estimator[-1], estimator[:-1].transform(X)
    return estimator, X


def silhouette_scorer(
    *, sample_size: int | None = 2000, random_state: RandomStateLike = 0
) -> Callable[..., float]:
    """A scorer that rates a fitted clusterer by its silhouette on ``X``.

    The silhouette (Rousseeuw, 1987) compares each point's mean distance to
    its own cluster with that to the nearest other cluster; unlike the
    inertia it does not keep improving as k grows, so ``GridSearchCV`` can use
    it to choose ``n_clusters``. Distances are Manhattan for ``KMeansL1`` and
    Euclidean otherwise; inside a ``Pipeline`` they are measured on the data
    as the final clusterer sees it. A random sample of ``sample_size`` points
    keeps the cost linear in the data size.

    Parameters
    ----------
    sample_size : int or None, default=2000
        Points used per evaluation (at least 2); None uses all.
    random_state : int, RandomState instance or None, default=0
        Draws the sample.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None) -> float``, higher is better; a
        sample with a single cluster scores -1, and one with every point in
        its own cluster 0 (the silhouette of a lone point). It raises a
        ``TypeError`` for an estimator without ``predict``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skclust import KMeansL2
    >>> from skclust.model_selection import silhouette_scorer
    >>> X, _ = make_blobs(300, centers=3, cluster_std=0.6, random_state=1)
    >>> search = GridSearchCV(KMeansL2(random_state=0), {"n_clusters": [2, 3, 4, 5]},
    ...                       scoring=silhouette_scorer()).fit(X)
    >>> search.best_params_
    {'n_clusters': 3}
    """

    if sample_size is not None:
        check_count(sample_size, "sample_size", 2)

    def scorer(estimator, X, y=None):
        clusterer, data = _final_step(estimator, X)
        if not hasattr(clusterer, "predict"):
            # It failed with a bare AttributeError.
            raise TypeError(
                "silhouette_scorer rates the clusters a fitted estimator "
                f"predicts for X; {type(clusterer).__name__} has no predict "
                "(SpectralGraphClusterer labels only the nodes it was fitted "
                "on: use mismatch_scorer with all_nodes_split, or for features "
                "sklearn.metrics.silhouette_score(X, labels_) of each fit)"
            )
        data, labels = _sampled(
            data, clusterer.predict(data), sample_size, random_state
        )
        n_labels = len(np.unique(labels))
        if n_labels < 2:
            return -1.0
        if n_labels == len(labels):
            # Every point alone: each one's silhouette is 0 by Rousseeuw's
            # convention, where scikit-learn raises.
            return 0.0
        metric = "manhattan" if isinstance(clusterer, KMeansL1) else "euclidean"
        return float(silhouette_score(data, labels, metric=metric))

    return scorer


def _sampled(data, labels, sample_size, random_state):
    """The rows the silhouette is measured on, drawn as scikit-learn's
    ``silhouette_score(sample_size=...)`` draws them.

    Drawn here so that the labels of the sample are the ones checked: a
    sample with one cluster, or with every point in its own, made
    scikit-learn raise although the whole data had neither.
    """
    if sample_size is None or sample_size >= len(labels):
        return data, labels
    data = check_array(data, accept_sparse=["csr", "csc"])
    rows = check_random_state(random_state).permutation(len(labels))[:sample_size]
    return data[rows], labels[rows]
