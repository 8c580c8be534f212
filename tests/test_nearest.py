"""The compiled nearest-center kernel of float32 rows (``_nearest``)."""

import numpy as np
import pytest

from skclust._kmeans import Euclidean32
from skclust._kmeans._nearest import nearest_centers


def _brute_force(rows, centers):
    diff = rows[:, None, :].astype(np.float64) - centers[None].astype(np.float64)
    return (diff**2).sum(axis=2)


@pytest.mark.parametrize("vector_path", [True, False])
@pytest.mark.parametrize(
    ("width", "n_clusters", "n_rows"),
    [(16, 256, 1031), (4, 16, 7), (3, 5, 1), (64, 33, 130), (1, 17, 50)],
)
def test_labels_match_brute_force(width, n_clusters, n_rows, vector_path):
    rng = np.random.default_rng(width + n_clusters)
    # Columns cut from a wider block: rows whose stride is not their width.
    wide = rng.standard_normal((n_rows, 3 * width)).astype(np.float32)
    rows = wide[:, width : 2 * width]
    centers = rng.standard_normal((n_clusters, width)).astype(np.float32)
    padded_t, padded_norms = Euclidean32.prepared_for_blocks(centers)
    labels = np.empty(n_rows, dtype=np.intp)
    best = np.empty(n_rows, dtype=np.float32)
    nearest_centers(rows, padded_t, padded_norms, labels, best, vector_path)
    exact = _brute_force(rows, centers)
    np.testing.assert_array_equal(labels, exact.argmin(axis=1))
    expected = exact.min(axis=1) - np.einsum("ij,ij->i", rows, rows, dtype=float)
    np.testing.assert_allclose(best, expected, atol=1e-4 * width)


@pytest.mark.parametrize("vector_path", [True, False])
def test_ties_go_to_the_lowest_index(vector_path):
    centers = np.zeros((40, 2), dtype=np.float32)
    centers[:, 0] = np.arange(40) % 5  # centers 0, 5, 10, ... are equal
    rows = np.array([[0.0, 0.0], [4.0, 0.0], [2.2, 1.0]], dtype=np.float32)
    labels = np.empty(3, dtype=np.intp)
    best = np.empty(3, dtype=np.float32)
    nearest_centers(rows, *Euclidean32.prepared_for_blocks(centers), labels, best,
                    vector_path)  # fmt: skip
    assert labels.tolist() == [0, 4, 2]


@pytest.mark.parametrize("vector_path", [True, False])
@pytest.mark.parametrize("n_clusters", [16, 40, 70])
def test_many_ties_go_to_the_lowest_index(n_clusters, vector_path):
    # Small integers: every rank is exact in float32, so the nearest centers
    # tie exactly, in any lane and block of the kernel, and the expected
    # label is the lowest index among them (what argmin returns).
    rng = np.random.default_rng(n_clusters)
    centers = rng.integers(-1, 2, size=(n_clusters, 3)).astype(np.float32)
    rows = rng.integers(-2, 3, size=(103, 3)).astype(np.float32)
    labels = np.empty(103, dtype=np.intp)
    best = np.empty(103, dtype=np.float32)
    nearest_centers(rows, *Euclidean32.prepared_for_blocks(centers), labels, best,
                    vector_path)  # fmt: skip
    exact = _brute_force(rows, centers)
    np.testing.assert_array_equal(labels, exact.argmin(axis=1))
    expected = exact.min(axis=1) - (rows.astype(float) ** 2).sum(axis=1)
    np.testing.assert_array_equal(best, expected)


def test_shapes_are_checked():
    rows = np.zeros((3, 4), dtype=np.float32)
    padded_t, padded_norms = Euclidean32.prepared_for_blocks(np.zeros((5, 4)))
    labels = np.empty(2, dtype=np.intp)
    with pytest.raises(ValueError, match="do not match"):
        nearest_centers(rows, padded_t, padded_norms, labels, np.empty(3, np.float32))
