"""scikit-learn's common estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skclust import KMeansL1, KMeansL2

# Two checks fit the default n_clusters=8 on data with only 4 distinct points.
# skclust refuses that on purpose (scikit-learn's KMeans would return duplicate
# centers or empty clusters), so with the default parameters these checks are
# expected to fail with our ValueError; the same checks pass below with a
# number of clusters the data can support.
_TOO_FEW_DISTINCT_POINTS = {
    "check_sample_weights_shape": "8 clusters asked of 4 distinct points",
    "check_sample_weights_not_overwritten": "8 clusters asked of 4 distinct points",
}


def _expected_failures(estimator):
    return _TOO_FEW_DISTINCT_POINTS if estimator.n_clusters > 4 else {}


@parametrize_with_checks(
    [KMeansL2(), KMeansL1(), KMeansL2(n_clusters=3), KMeansL1(n_clusters=3)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
