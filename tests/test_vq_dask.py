"""VectorQuantizer on dask arrays, computed by a real dask.distributed cluster.

One LocalCluster of two worker processes (one thread each, the
``dask_client`` fixture of conftest.py) serves the tests; its client is the
default scheduler, so every compute below runs on the workers.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skclust import VectorQuantizer
from skclust.datasets import make_embeddings

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def table():
    return make_embeddings(12_000, 16, random_state=0)


def _unit(X):
    X = np.asarray(X, dtype=np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_fit_matches_in_memory_with_explicit_init(client, table):
    init = _unit(table[:32])
    lazy = da.from_array(table, chunks=(2000, 8))  # columns get rechunked
    on_cluster = VectorQuantizer(32, init=init, tol=0.0, max_iter=40).fit(lazy)
    # The same blocks in memory: the same sums in the same order.
    blocks = VectorQuantizer(32, init=init, tol=0.0, max_iter=40, batch_size=2000)
    blocks.fit(table)
    assert_array_equal(on_cluster.codebook_, blocks.codebook_)
    # KMeansL2 in float64 on the whole table: equal to float tolerance.
    in_memory = VectorQuantizer(32, init=init, tol=0.0, max_iter=40).fit(table)
    assert_allclose(on_cluster.codebook_, in_memory.codebook_, atol=1e-5)
    assert on_cluster.n_iter_ == in_memory.n_iter_

    codes = on_cluster.transform(lazy)
    assert isinstance(codes, da.Array)
    assert codes.dtype == np.uint8
    computed = codes.compute()
    assert computed.shape == (12_000, 1)
    assert_array_equal(computed, in_memory.transform(table))


def test_product_quantization_with_seeding_matches_in_memory_blocks(client, table):
    lazy = da.from_array(table, chunks=(3000, 16))
    params = dict(n_subvectors=4, n_init=2, random_state=3, max_iter=30)
    on_cluster = VectorQuantizer(16, **params).fit(lazy)
    blocks = VectorQuantizer(16, batch_size=3000, **params).fit(table)
    assert_array_equal(on_cluster.codebook_, blocks.codebook_)
    assert_array_equal(on_cluster.transform(lazy).compute(), blocks.transform(table))
    assert on_cluster.score(lazy) == pytest.approx(blocks.score(table), rel=1e-9)


def test_inverse_transform_of_dask_codes(client, table):
    vq = VectorQuantizer(8, n_subvectors=2, random_state=0, max_iter=10)
    lazy = da.from_array(table, chunks=(5000, 16))
    vq.fit(lazy)
    codes = vq.transform(lazy)
    rebuilt = vq.inverse_transform(codes)
    assert isinstance(rebuilt, da.Array)
    assert_array_equal(rebuilt.compute(), vq.inverse_transform(codes.compute()))


def test_bad_rows_fail_on_the_cluster(client, table):
    bad = table.copy()
    bad[7777] = np.inf
    with pytest.raises(ValueError, match="infinity at row 7777, column 0"):
        VectorQuantizer(8).fit(da.from_array(bad, chunks=(2000, 16)))
    bad[7777] = 0.0
    with pytest.warns(UserWarning, match=r"1 of the \d+ rows have zero length"):
        VectorQuantizer(8, max_iter=2).fit(da.from_array(bad, chunks=(2000, 16)))
    with pytest.raises(TypeError, match="partial_fit"):
        VectorQuantizer(8).partial_fit(da.from_array(table, chunks=(2000, 16)))
