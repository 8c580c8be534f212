"""Choosing k: the knee of the elbow curve and the silhouette scorer."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer
from skclust.model_selection import elbow, knee_index, silhouette_scorer


def test_knee_of_a_hand_made_curve():
    # Steep drop to k=3, then flat: the knee is the third point.
    assert knee_index([1, 2, 3, 4, 5], [10.0, 5.0, 1.0, 0.8, 0.6]) == 2
    with pytest.raises(ValueError, match="at least 3 points"):
        knee_index([1, 2], [2.0, 1.0])


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
@pytest.mark.parametrize("true_k", [3, 5])
def test_elbow_finds_the_number_of_blobs(Estimator, true_k):
    centers = [[10.0 * i, 7.0 * (i % 2)] for i in range(true_k)]
    X, _ = make_blobs(600, centers=centers, cluster_std=0.6, random_state=true_k)
    result = elbow(Estimator(n_init=3, random_state=0), X, range(1, 10), n_jobs=2)
    assert result.best_n_clusters == true_k
    assert np.all(np.diff(result.inertia) < 0)
    assert list(result.n_clusters) == list(range(1, 10))
    assert np.all(result.n_iter >= 1) and np.all(result.fit_time > 0)
    assert [row["k"] for row in result.to_rows()] == list(range(1, 10))
    ax = result.plot()
    assert isinstance(ax.figure, Figure)
    assert f"k = {true_k}" in ax.get_legend().get_texts()[0].get_text()


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_grid_search_with_silhouette_picks_the_true_k(Estimator):
    X, _ = make_blobs(500, centers=4, cluster_std=0.5, random_state=2)
    pipe = make_pipeline(StandardScaler(), Estimator(n_init=3, random_state=0))
    name = Estimator.__name__.lower()
    search = GridSearchCV(
        pipe, {f"{name}__n_clusters": [2, 3, 4, 5, 6, 8]}, scoring=silhouette_scorer()
    ).fit(X)
    assert search.best_params_[f"{name}__n_clusters"] == 4


def test_default_score_prefers_the_largest_k():
    # The reason the scorer exists: minus the inertia keeps improving with k.
    X, _ = make_blobs(500, centers=4, cluster_std=0.5, random_state=2)
    search = GridSearchCV(KMeansL2(random_state=0), {"n_clusters": [2, 4, 8]}).fit(X)
    assert search.best_params_["n_clusters"] == 8


def test_single_cluster_scores_minus_one():
    X, _ = make_blobs(50, centers=1, random_state=0)
    km = KMeansL2(1).fit(X)
    assert silhouette_scorer()(km, X) == -1.0


@pytest.mark.parametrize("Estimator", [SpectralGraphClusterer, VectorQuantizer])
def test_silhouette_scorer_names_an_estimator_without_predict(Estimator):
    # It failed with "AttributeError: ... has no attribute 'predict'".
    X, _ = make_blobs(60, centers=3, random_state=0)
    fitted = Estimator(3, random_state=0).fit(X)
    with pytest.raises(TypeError, match=f"{Estimator.__name__} has no predict"):
        silhouette_scorer()(fitted, X)


@pytest.mark.parametrize(
    "template, l1",
    [
        (KMeansL2(random_state=0), False),
        (KMeansL1(random_state=0), True),
    ],
)
def test_elbow_plot_says_when_the_inertia_is_a_sum_of_l1_distances(template, l1):
    # KMeansL1's inertia_ is a sum of Manhattan distances, not of squares.
    X, _ = make_blobs(60, centers=3, random_state=0)
    ylabel = elbow(template, X, [2, 3, 4]).plot().get_ylabel()
    assert ("L1" in ylabel) is l1
    assert ylabel.startswith("inertia")


def test_image_command_elbow_figure_labels_l1_inertia():
    from skclust._cli.image import _elbow_figure

    rows = [
        {"k": k, "inertia": 10.0 / k, "iterations": 3, "seconds": 0.1}
        for k in (3, 6, 12)
    ]
    for metric, l1 in (("l1", True), ("l2", False)):
        ylabel = _elbow_figure(rows, "t", metric).axes[0].get_ylabel()
        assert ("L1" in ylabel) is l1


def test_elbow_of_a_pipeline_is_that_of_its_clusterer_on_the_transformed_data():
    # set_params(n_clusters=k) failed on a Pipeline; its last step's name
    # takes the parameters, the weights included.
    X, _ = make_blobs(200, centers=3, random_state=1)
    X = X * [1.0, 50.0]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    pipeline = make_pipeline(StandardScaler(), KMeansL1(random_state=0))
    through = elbow(pipeline, X, [2, 3, 4, 5], sample_weight=weights)
    direct = elbow(
        KMeansL1(random_state=0),
        StandardScaler().fit_transform(X),
        [2, 3, 4, 5],
        sample_weight=weights,
    )
    assert_allclose(through.inertia, direct.inertia)
    assert_array_equal(through.n_iter, direct.n_iter)
    assert through.best_n_clusters == direct.best_n_clusters
    assert [fit[-1].n_clusters for fit in through.estimators] == [2, 3, 4, 5]
    assert through.plot().get_ylabel() == "inertia (sum of L1 distances)"
