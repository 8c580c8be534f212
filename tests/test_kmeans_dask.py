"""The seed search of KMeansL2/KMeansL1 on joblib's dask backend."""

import joblib
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_blobs

from skclust import KMeansL1, KMeansL2

distributed = pytest.importorskip("dask.distributed")


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_seed_search_on_a_dask_cluster_equals_the_local_one(Estimator, dask_client):
    X, _ = make_blobs(3000, centers=6, n_features=4, random_state=0)
    params = dict(n_clusters=6, init="random", n_init=6, random_state=1)
    local = Estimator(**params, n_jobs=1).fit(X)
    with (
        distributed.get_task_stream(client=dask_client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        remote = Estimator(**params, n_jobs=-1).fit(X)
    # The six runs went to the cluster's workers.
    assert len(tasks.data) >= 1
    assert {task["worker"] for task in tasks.data} <= set(
        dask_client.scheduler_info()["workers"]
    )
    assert_array_equal(remote.labels_, local.labels_)
    assert_array_equal(remote.cluster_centers_, local.cluster_centers_)
    assert remote.inertia_ == local.inertia_
