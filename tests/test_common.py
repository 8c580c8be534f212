"""scikit-learn's common estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer


# Every estimator with its default parameters, then configurations that take
# other paths: fewer clusters than the checks' data have distinct points,
# the rows rearranged in place instead of copied (``copy_x=False``), the
# feature affinities and the precomputed graph, VectorQuantizer through
# the block kernels in blocks of 7 rows and without normalization with a
# seed search. With the default parameters the checks fit 8 clusters (256
# for VectorQuantizer) on data with fewer distinct points (ConvergenceWarning,
# duplicate centers), SpectralGraphClusterer reads their feature tables with
# the rbf affinity, and VectorQuantizer keeps their all-zero rows zero.
@parametrize_with_checks(
    [
        KMeansL2(),
        KMeansL1(),
        SpectralGraphClusterer(),
        VectorQuantizer(),
        KMeansL2(n_clusters=3),
        KMeansL1(n_clusters=3),
        KMeansL2(n_clusters=3, copy_x=False),
        KMeansL1(n_clusters=3, copy_x=False),
        SpectralGraphClusterer(affinity="precomputed"),
        # 5 neighbours: with 10, the 10-sample checks give a complete graph,
        # whose nodes are all twins and cannot be split (refused on purpose).
        SpectralGraphClusterer(affinity="nearest_neighbors", n_neighbors=5),
        SpectralGraphClusterer(3, affinity="rbf"),
        VectorQuantizer(n_clusters=3),
        VectorQuantizer(n_clusters=3, batch_size=7),
        VectorQuantizer(n_clusters=3, normalize=False, n_init=2),
        VectorQuantizer(n_clusters=3, spherical=True),
    ],
    expected_failed_checks=lambda estimator: (
        # check_clustering fits a 50 x 2 feature matrix without going through
        # the pairwise tag; with affinity="precomputed" the estimator reads X
        # as an adjacency matrix and must refuse a non-square one, as
        # check_nonsquare_error requires. The default ("auto") passes it.
        {"check_clustering": "a 50 x 2 feature matrix is not a square graph"}
        if getattr(estimator, "affinity", None) == "precomputed"
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
