"""The compiled nearest-center kernel of float32 rows (``_nearest``)."""

import numpy as np
import pytest

from skclust._kmeans import Euclidean32
from skclust._kmeans._nearest import available_paths, nearest_centers


def _brute_force(rows, centers):
    diff = rows[:, None, :].astype(np.float64) - centers[None].astype(np.float64)
    return (diff**2).sum(axis=2)


@pytest.mark.parametrize("path", available_paths())
@pytest.mark.parametrize(
    ("width", "n_clusters", "n_rows"),
    [
        (16, 256, 1031),
        (4, 16, 7),
        (3, 5, 1),
        (64, 33, 130),
        (1, 17, 50),
        (8, 48, 9),
        (32, 20, 17),
    ],
)
def test_labels_match_brute_force(width, n_clusters, n_rows, path):
    rng = np.random.default_rng(width + n_clusters)
    # Columns cut from a wider block: rows whose stride is not their width.
    wide = rng.standard_normal((n_rows, 3 * width)).astype(np.float32)
    rows = wide[:, width : 2 * width]
    centers = rng.standard_normal((n_clusters, width)).astype(np.float32)
    padded_t, padded_norms = Euclidean32.prepared_for_blocks(centers)
    labels = np.empty(n_rows, dtype=np.intp)
    best = np.empty(n_rows, dtype=np.float32)
    nearest_centers(rows, padded_t, padded_norms, labels, best, path)
    exact = _brute_force(rows, centers)
    np.testing.assert_array_equal(labels, exact.argmin(axis=1))
    expected = exact.min(axis=1) - np.einsum("ij,ij->i", rows, rows, dtype=float)
    np.testing.assert_allclose(best, expected, atol=1e-4 * width)


@pytest.mark.parametrize("path", available_paths())
def test_ties_go_to_the_lowest_index(path):
    centers = np.zeros((40, 2), dtype=np.float32)
    centers[:, 0] = np.arange(40) % 5  # centers 0, 5, 10, ... are equal
    rows = np.array([[0.0, 0.0], [4.0, 0.0], [2.2, 1.0]], dtype=np.float32)
    labels = np.empty(3, dtype=np.intp)
    best = np.empty(3, dtype=np.float32)
    nearest_centers(rows, *Euclidean32.prepared_for_blocks(centers), labels, best,
                    path)  # fmt: skip
    assert labels.tolist() == [0, 4, 2]


@pytest.mark.parametrize("path", available_paths())
@pytest.mark.parametrize("n_clusters", [16, 40, 70])
def test_many_ties_go_to_the_lowest_index(n_clusters, path):
    # Small integers: every rank is exact in float32, so the nearest centers
    # tie exactly, in any lane and block of the kernel, and the expected
    # label is the lowest index among them (what argmin returns).
    rng = np.random.default_rng(n_clusters)
    centers = rng.integers(-1, 2, size=(n_clusters, 3)).astype(np.float32)
    rows = rng.integers(-2, 3, size=(103, 3)).astype(np.float32)
    labels = np.empty(103, dtype=np.intp)
    best = np.empty(103, dtype=np.float32)
    nearest_centers(rows, *Euclidean32.prepared_for_blocks(centers), labels, best,
                    path)  # fmt: skip
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


def _ranked(rows, centers, path):
    labels = np.empty(rows.shape[0], dtype=np.intp)
    best = np.empty(rows.shape[0], dtype=np.float32)
    nearest_centers(rows, *Euclidean32.prepared_for_blocks(centers), labels, best,
                    path)  # fmt: skip
    return labels, best


@pytest.mark.parametrize(
    ("width", "n_clusters"), [(64, 256), (5, 48), (17, 16), (2, 3)]
)
def test_every_path_gives_the_same_ranks(width, n_clusters):
    # The vector paths add the features in the same order by the same fused
    # multiply-adds: the same ranks bit for bit, so the same labels even on
    # near-ties (the plain loop may round otherwise; it matches brute force).
    rng = np.random.default_rng(width)
    rows = rng.standard_normal((203, width)).astype(np.float32)
    centers = rng.standard_normal((n_clusters, width)).astype(np.float32)
    vector = [p for p in available_paths() if p != "plain"]
    first = _ranked(rows, centers, vector[0])
    for path in vector[1:]:
        labels, best = _ranked(rows, centers, path)
        np.testing.assert_array_equal(labels, first[0])
        np.testing.assert_array_equal(best, first[1])


@pytest.mark.parametrize("n_clusters", [5, 40])
def test_auto_gives_the_ranks_of_a_vector_path(n_clusters):
    rng = np.random.default_rng(n_clusters)
    rows = rng.standard_normal((50, 24)).astype(np.float32)
    centers = rng.standard_normal((n_clusters, 24)).astype(np.float32)
    auto = _ranked(rows, centers, "auto")
    widest = _ranked(rows, centers, available_paths()[0])
    np.testing.assert_array_equal(auto[0], widest[0])
    np.testing.assert_array_equal(auto[1], widest[1])


def test_an_unknown_path_is_refused():
    rows = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="path 'sse9' is not one of"):
        _ranked(rows, np.zeros((5, 4), dtype=np.float32), "sse9")
