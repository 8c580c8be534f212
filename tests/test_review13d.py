"""The estimators and helpers used as scikit-learn's are (rev13d)."""

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_transformer_preserve_dtypes

from skclust import KMeansL1, KMeansL2, VectorQuantizer
from skclust.model_selection import elbow


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_elbow_in_worker_processes_fits_the_array_it_was_given(Estimator):
    # joblib hands arrays over 1 MB to its worker processes as read-only
    # memory maps, and the estimators read a memory map of more than 65,536
    # rows in blocks: with n_jobs=2 the fits took that other path (sampled
    # seeding, no merge of repeated rows; 4.1 s against 0.34 s with n_jobs=1
    # on 100,000 x 3 integer rows, loaded machine) and refused sample_weight
    # ("not supported for memory maps").
    rng = np.random.default_rng(0)
    X = rng.integers(0, 32, size=(70_000, 3)).astype(np.float64)
    assert X.nbytes > 1_000_000
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    ks = [2, 3, 4]
    serial = elbow(Estimator(random_state=0), X, ks, sample_weight=weights)
    parallel = elbow(Estimator(random_state=0), X, ks, sample_weight=weights, n_jobs=2)
    np.testing.assert_allclose(parallel.inertia, serial.inertia, rtol=1e-12)
    for one, other in zip(parallel.estimators, serial.estimators, strict=True):
        np.testing.assert_array_equal(one.labels_, other.labels_)


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_the_tags_say_transform_keeps_float32(Estimator):
    # ClusterMixin's tags said that transform preserves no dtype, so the
    # common check of dtype preservation never ran on the distances, which
    # are float32 for float32 rows.
    assert Estimator().__sklearn_tags__().transformer_tags.preserves_dtype == [
        "float64",
        "float32",
    ]
    check_transformer_preserve_dtypes(Estimator.__name__, Estimator(2, random_state=0))


def test_the_user_guide_lists_every_k_means_parameter_at_its_default():
    # The k-means page shows "the same parameters, here at their defaults"
    # and left out copy_x.
    page = (Path(__file__).parents[1] / "docs" / "kmeans.rst").read_text()
    call = "KMeansL2(" + page.split("KMeansL2(", 1)[1].split(")", 1)[0] + ")"
    shown = eval(call, {"KMeansL2": KMeansL2})
    assert sorted(re.findall(r"(\w+)=", call)) == sorted(KMeansL2().get_params())
    assert shown.get_params() == KMeansL2().get_params()


def test_the_codes_of_inverse_transform_are_not_metadata():
    # Metadata routing took every argument but X and y for metadata: the
    # quantizer had a set_inverse_transform_request(codes=...) method.
    assert not hasattr(VectorQuantizer, "set_inverse_transform_request")
    assert (
        VectorQuantizer()
        .get_metadata_routing()
        .consumes("inverse_transform", ["codes"])
        == set()
    )
