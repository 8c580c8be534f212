"""VectorQuantizer.partial_fit: re-seeding the centroids no row has reached."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skclust import VectorQuantizer
from skclust.datasets import make_embeddings


def _started_on_one_row(n_clusters, **params):
    """A quantizer whose first batch repeats the origin: all its centroids
    are copies of it, and only the first one gets rows."""
    vq = VectorQuantizer(n_clusters, normalize=False, **params)
    with pytest.warns(ConvergenceWarning, match="centers repeat"):
        return vq.partial_fit(np.zeros((4, 2)))


def test_unused_centroids_move_to_the_farthest_distinct_rows():
    vq = _started_on_one_row(3)
    batch = np.array([[1.0, 0], [9, 0], [10, 0], [10, 0], [0, -6]])
    vq.partial_fit(batch)
    # Squared distances to the origin: 1, 81, 100, 100, 36. Farthest first:
    # [10, 0] (once: its copy is then at distance 0), then [0, -6] (36 from
    # the origin, 136 from [10, 0]) rather than [9, 0] (1 from [10, 0]).
    # Then the mini-batch step: centroid 0 takes [1, 0] after its 4 zeros,
    # centroid 1 [9, 0] and both [10, 0], centroid 2 [0, -6].
    expected = [[1 / 5, 0], [29 / 3, 0], [0, -6]]
    assert_allclose(vq.codebook_[0], expected, rtol=1e-6)
    assert_array_equal(vq.transform(batch)[:, 0], [0, 1, 1, 1, 2])


def test_centroids_left_unused_wait_for_a_later_batch():
    vq = _started_on_one_row(3)
    # One distinct row away from the centroids: one centroid moves onto it.
    vq.partial_fit(np.array([[5.0, 0], [5, 0], [0, 0]]))
    assert_allclose(vq.codebook_[0], [[0, 0], [5, 0], [0, 0]], atol=1e-12)
    vq.partial_fit(np.array([[0.0, 7], [5, 0]]))
    assert_allclose(vq.codebook_[0], [[0, 0], [5, 0], [0, 7]], atol=1e-12)


def test_centroids_with_rows_are_updated_as_before():
    # Every centroid that has rows, or that gets rows from the batch, takes
    # the plain mini-batch update; only the others are re-seeded.
    init = np.array([[0.0, 0], [10, 0], [0, 10]])
    vq = VectorQuantizer(3, normalize=False, init=init)
    vq.partial_fit(np.array([[1.0, 0], [-1, 0], [9, 0], [11, 0]]))
    assert_allclose(vq.codebook_[0], init, atol=1e-12)
    # Centroid 2 had no row so far, but this batch reaches it.
    vq.partial_fit(np.array([[0.0, 9], [0, 11], [2, 0]]))
    assert_allclose(vq.codebook_[0], [[2 / 3, 0], [10, 0], [0, 10]], atol=1e-12)
    # All centroids have rows: the running means of their rows.
    batch = np.array([[4.0, 0], [8, 0], [0, 13], [2, 4]])
    vq.partial_fit(batch)
    assert_allclose(
        vq.codebook_[0], [[8 / 5, 4 / 5], [28 / 3, 0], [0, 11]], rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize(
    "params", [{}, {"n_subvectors": 2}, {"spherical": True}], ids=str
)
def test_stream_after_a_first_batch_of_few_rows_reaches_fit(params):
    X = make_embeddings(5000, 16, random_state=3)
    first = np.tile(X[:2], (250, 1))
    vq = VectorQuantizer(32, random_state=0, **params)
    with pytest.warns(ConvergenceWarning, match="centers repeat"):
        vq.partial_fit(first)
    for start in range(0, len(X), 1000):
        vq.partial_fit(X[start : start + 1000])
    for codebook in vq.codebook_:
        assert len(np.unique(codebook, axis=0)) == 32
    full = VectorQuantizer(32, random_state=0, **params).fit(X)
    assert vq.score(X) > full.score(X) - 0.03


def test_re_seeding_reads_memory_maps_in_blocks(tmp_path):
    # Rows are chosen among the batch_size rows farthest from the centroids,
    # whether the batch is in memory or a memory map read 64 rows at a time.
    X = make_embeddings(3000, 8, random_state=9)
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    first = np.tile(X[:3], (100, 1))
    in_memory = VectorQuantizer(16, n_subvectors=2, random_state=0, batch_size=64)
    blocks = VectorQuantizer(16, n_subvectors=2, random_state=0, batch_size=64)
    for vq in (in_memory, blocks):
        with pytest.warns(ConvergenceWarning, match="centers repeat"):
            vq.partial_fit(first)
    for start in range(0, 3000, 1000):
        in_memory.partial_fit(X[start : start + 1000])
        blocks.partial_fit(mapped[start : start + 1000])
    for codebook in blocks.codebook_:
        assert len(np.unique(codebook, axis=0)) == 16
    assert_allclose(blocks.codebook_, in_memory.codebook_, rtol=1e-12)
