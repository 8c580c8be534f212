"""VectorQuantizer(spherical=True): spherical k-means through the Lloyd engine."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs

from skclust import VectorQuantizer
from skclust.datasets import make_embeddings


def _unit(X):
    X = np.asarray(X, dtype=np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _directions(n_samples=1200, n_features=6, centers=5, seed=0):
    """Rows in a few directions, away from the origin so none is zero."""
    X, _ = make_blobs(
        n_samples,
        n_features=n_features,
        centers=centers,
        center_box=(-10, 10),
        random_state=seed,
    )
    return X


def _brute_spherical_kmeans(X, init, max_iter=300):
    """Textbook spherical k-means: label by largest inner product with unit
    centroids, centroid = normalized sum of its unit rows, until no label
    changes."""
    rows = _unit(X)
    centers = _unit(init)
    labels = None
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        new = np.argmax(rows @ centers.T, axis=1)
        sums = np.zeros_like(centers)
        np.add.at(sums, new, rows)
        centers = _unit(sums)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
    return labels, centers, n_iter


@pytest.mark.parametrize("batch_size", [None, 97])
def test_equals_brute_force_spherical_kmeans(batch_size):
    X = _directions()
    init = _unit(X[np.random.default_rng(0).choice(len(X), 5, replace=False)])
    labels, centers, n_iter = _brute_spherical_kmeans(X, init)
    assert n_iter > 2  # the centroids did move from the init
    vq = VectorQuantizer(
        5, spherical=True, init=init, tol=0.0, batch_size=batch_size
    ).fit(X)
    assert_allclose(vq.codebook_[0], centers, atol=1e-6)
    assert_array_equal(vq.transform(X)[:, 0], labels)
    # Against the non-spherical fit from the same start: the codebooks differ.
    plain = VectorQuantizer(5, init=init, tol=0.0, batch_size=batch_size).fit(X)
    assert np.abs(plain.codebook_ - vq.codebook_).max() > 1e-3


def test_explicit_init_is_scaled_to_unit_length():
    X = _directions(seed=1)
    init = _unit(X[:5])
    a = VectorQuantizer(5, spherical=True, init=init, tol=0.0).fit(X)
    b = VectorQuantizer(5, spherical=True, init=3.0 * init, tol=0.0).fit(X)
    assert_array_equal(a.codebook_, b.codebook_)


@pytest.mark.parametrize("batch_size", [None, 150])
def test_centroids_have_unit_length(batch_size):
    X = make_embeddings(1500, 12, random_state=0)
    vq = VectorQuantizer(24, spherical=True, random_state=0, batch_size=batch_size)
    vq.fit(X)
    assert_allclose(np.linalg.norm(vq.codebook_[0], axis=1), 1.0, rtol=1e-6)
    plain = VectorQuantizer(24, random_state=0, batch_size=batch_size).fit(X)
    assert np.linalg.norm(plain.codebook_[0], axis=1).min() < 0.99


def test_in_memory_equals_blocks_for_the_same_init():
    X = make_embeddings(2000, 16, random_state=1)
    init = _unit(X[::100][:16])
    a = VectorQuantizer(16, spherical=True, init=init, tol=0.0).fit(X)
    b = VectorQuantizer(16, spherical=True, init=init, tol=0.0, batch_size=256)
    b.fit(X)
    assert_allclose(b.codebook_, a.codebook_, atol=1e-5)
    assert a.n_iter_ == b.n_iter_
    assert_array_equal(a.transform(X), b.transform(X))


def test_codes_are_the_largest_inner_product():
    X = make_embeddings(3000, 16, random_state=2)
    vq = VectorQuantizer(32, spherical=True, random_state=0).fit(X)
    similarity = _unit(X) @ vq.codebook_[0].astype(np.float64).T
    chosen = similarity[np.arange(len(X)), vq.transform(X)[:, 0]]
    assert_allclose(chosen, similarity.max(axis=1), atol=1e-6)


@pytest.mark.parametrize("batch_size", [None, 300])
def test_score_is_mean_cosine_to_the_centroid(batch_size):
    X = make_embeddings(1000, 16, random_state=4)
    vq = VectorQuantizer(16, spherical=True, random_state=0, batch_size=batch_size)
    vq.fit(X)
    rebuilt = vq.inverse_transform(vq.transform(X)).astype(np.float64)
    by_hand = np.mean(np.sum(_unit(X) * _unit(rebuilt), axis=1))
    assert vq.score(X) == pytest.approx(by_hand, rel=1e-6)
    # The centroids are unit, so the cosine is the plain inner product.
    assert vq.score(X) == pytest.approx(
        np.mean(np.sum(_unit(X) * rebuilt, axis=1)), rel=1e-6
    )


def test_partial_fit_keeps_unit_centroids():
    X = make_embeddings(3000, 12, random_state=3)
    vq = VectorQuantizer(16, spherical=True, random_state=0)
    for start in range(0, len(X), 500):
        vq.partial_fit(X[start : start + 500])
    assert_allclose(np.linalg.norm(vq.codebook_[0], axis=1), 1.0, rtol=1e-6)
    full = VectorQuantizer(16, spherical=True, random_state=0).fit(X)
    assert vq.score(X) > full.score(X) - 0.03


def test_save_load_round_trip(tmp_path):
    X = make_embeddings(800, 8, random_state=5)
    vq = VectorQuantizer(16, spherical=True, random_state=0).fit(X).add(X)
    path = tmp_path / "index.npz"
    vq.save(path)
    loaded = VectorQuantizer.load(path)
    assert loaded.spherical is True
    assert_array_equal(loaded.codebook_, vq.codebook_)
    assert_array_equal(loaded.transform(X), vq.transform(X))
    assert loaded.score(X) == vq.score(X)
    for metric in ("cosine", "inner_product"):
        d0, i0 = vq.kneighbors(X[:5], 3, metric=metric)
        d1, i1 = loaded.kneighbors(X[:5], 3, metric=metric)
        assert_array_equal(i0, i1)
        assert_array_equal(d0, d1)


def test_cosine_search_ranks_by_the_centroid_similarity():
    X = make_embeddings(600, 8, random_state=6)
    vq = VectorQuantizer(12, spherical=True, random_state=0).fit(X).add(X)
    queries = X[:4]
    _, indices = vq.kneighbors(queries, 600, metric="cosine")
    centroid_of_row = vq.codebook_[0][vq.codes_[:, 0]].astype(np.float64)
    similarity = _unit(queries) @ centroid_of_row.T
    ranked = np.take_along_axis(similarity, indices, axis=1)
    assert np.all(np.diff(ranked, axis=1) <= 1e-6)


@pytest.mark.parametrize(
    "params", [{"normalize": False}, {"n_subvectors": 2}], ids=["raw", "pq"]
)
def test_spherical_needs_unit_rows_and_one_codebook(params):
    X = make_embeddings(100, 8, random_state=0)
    with pytest.raises(ValueError, match=r"spherical=True .* needs normalize=True"):
        VectorQuantizer(4, spherical=True, **params).fit(X)


def test_dask_fit_equals_in_memory_fit():
    import dask.array as da

    X = make_embeddings(1200, 8, random_state=7)
    init = _unit(X[:10])
    a = VectorQuantizer(10, spherical=True, init=init, tol=0.0).fit(X)
    b = VectorQuantizer(10, spherical=True, init=init, tol=0.0)
    b.fit(da.from_array(X, chunks=(300, 8)))
    assert_allclose(b.codebook_, a.codebook_, atol=1e-5)
    assert_allclose(np.linalg.norm(b.codebook_[0], axis=1), 1.0, rtol=1e-6)
