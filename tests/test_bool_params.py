"""Booleans are refused where an integer is asked for."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer


@pytest.mark.parametrize(
    "Estimator", [KMeansL2, KMeansL1, VectorQuantizer, SpectralGraphClusterer]
)
@pytest.mark.parametrize("value", [True, False])
def test_boolean_n_clusters_is_refused(Estimator, value):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    with pytest.raises(InvalidParameterError, match="'n_clusters' parameter"):
        Estimator(n_clusters=value).fit(X)
