"""VectorQuantizer: memory accounting, references, product quantization,
out-of-core fitting and loading."""

import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize as sklearn_normalize

from conftest import study_file
from skclust import KMeansL2, MemoryUsage, VectorQuantizer
from skclust.datasets import load_embeddings, make_embeddings
from skclust.metrics import (
    mean_cosine_similarity,
    neighbor_recall,
    relative_mse,
    row_cosine_similarity,
)


def _unit(X):
    # Unit rows as scikit-learn's normalize computes them, which is how the
    # quantizer does (the same lengths to the last bit).
    return sklearn_normalize(np.asarray(X, dtype=np.float64))


def _blobs(n_samples=1500, n_features=8, centers=6, seed=0):
    X, _ = make_blobs(
        n_samples, n_features=n_features, centers=centers, random_state=seed
    )
    return X


# --- memory accounting -------------------------------------------------------


def test_memory_usage_by_hand():
    # AImodel.npy's shape at k=256: 1000 rows of 32 float32 values before;
    # 256 centroids of 32 float32 values plus 1000 one-byte codes after.
    usage = MemoryUsage.of(n_rows=1000, n_features=32, n_clusters=256)
    assert usage.original_bytes == 1000 * 32 * 4 == 128_000
    assert usage.codebook_bytes == 256 * 32 * 4
    assert usage.codes_bytes == 1000
    assert usage.compressed_bytes == 33_768
    assert usage.original_mb == 0.128
    assert usage.compressed_mb == 0.0338
    assert usage.ratio == pytest.approx(128_000 / 33_768)
    assert round(usage.mb_ratio, 3) == 3.787
    assert usage.code_dtype == "uint8"


def test_memory_usage_counts_two_bytes_above_256():
    usage = MemoryUsage.of(n_rows=1000, n_features=32, n_clusters=512)
    assert usage.code_dtype == "uint16"
    assert usage.codes_bytes == 2000
    assert usage.compressed_bytes == 512 * 32 * 4 + 2000
    assert usage.compressed_mb == 0.0675


def test_memory_usage_product_quantization():
    # Four codebooks of 256 centroids of width 8: the same codebook bytes as
    # one codebook of 256 centroids of width 32, and four codes per row.
    usage = MemoryUsage.of(n_rows=1000, n_features=32, n_clusters=256, n_subvectors=4)
    assert usage.codebook_bytes == 4 * 256 * 8 * 4
    assert usage.codes_bytes == 4000


def test_memory_usage_on_the_study_table():
    X = np.load(study_file("AImodel.npy"), allow_pickle=False)
    assert X.shape == (1000, 32)
    rows = {}
    for k in (64, 128, 256, 512):
        vq = VectorQuantizer(k, random_state=0).fit(X)
        usage = vq.memory_usage()
        rows[k] = (usage.original_mb, usage.compressed_mb, round(usage.mb_ratio, 3))
        # The counted bytes are those of the real arrays.
        codes = vq.transform(X)
        assert usage.codes_bytes == codes.nbytes
        assert usage.codebook_bytes == vq.codebook_.nbytes
    assert rows[256] == (0.128, 0.0338, 3.787)
    assert rows[512][1] == 0.0675
    assert rows[64][1] == 0.0092


@pytest.mark.parametrize(
    "n_clusters, dtype", [(2, np.uint8), (256, np.uint8), (257, np.uint16)]
)
def test_code_dtype(n_clusters, dtype):
    X = make_embeddings(600, 8, random_state=0)
    vq = VectorQuantizer(n_clusters, random_state=0, batch_size=256, max_iter=5)
    codes = vq.fit(X).transform(X)
    assert codes.dtype == dtype
    assert codes.shape == (600, 1)
    assert codes.max() < n_clusters


# --- against references -----------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 97])
def test_fit_equals_sklearn_lloyd_on_normalized_rows(batch_size):
    X = _blobs(n_features=8)
    unit = _unit(X)
    init = unit[np.random.default_rng(0).choice(len(X), 6, replace=False)]
    ref = KMeans(6, init=init, n_init=1, tol=0.0, algorithm="lloyd").fit(unit)
    vq = VectorQuantizer(6, init=init, tol=0.0, batch_size=batch_size).fit(X)
    assert_allclose(vq.codebook_[0], ref.cluster_centers_, atol=1e-6)
    assert vq.n_iter_ == ref.n_iter_
    assert_array_equal(vq.transform(X)[:, 0], ref.labels_)


@pytest.mark.parametrize("tol", [1e-4, 1e-2])
def test_blocked_fit_stops_like_sklearn(tol):
    X = _blobs(n_features=5, seed=3)
    init = X[:6]
    ref = KMeans(6, init=init, n_init=1, tol=tol, algorithm="lloyd").fit(X)
    vq = VectorQuantizer(6, normalize=False, init=init, tol=tol, batch_size=100)
    vq.fit(X)
    assert vq.n_iter_ == ref.n_iter_
    assert_allclose(vq.codebook_[0], ref.cluster_centers_, rtol=1e-5, atol=1e-5)


def test_in_memory_fit_is_kmeans_l2_on_unit_rows():
    X = make_embeddings(800, 12, random_state=1)
    vq = VectorQuantizer(20, n_init=3, random_state=5).fit(X)
    seed = np.random.RandomState(5).randint(np.iinfo(np.int32).max)
    km = KMeansL2(20, n_init=3, random_state=seed).fit(_unit(X))
    assert_allclose(vq.codebook_[0], km.cluster_centers_, rtol=1e-6, atol=1e-7)
    assert vq.n_iter_ == km.n_iter_


def _kmeans_l2_of(X, n_clusters, random_state, **params):
    """KMeansL2 on the unit rows, seeded as the in-memory fit seeds it."""
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max)
    return KMeansL2(n_clusters, random_state=seed, **params).fit(_unit(X))


def test_in_memory_switch_lies_at_65536_rows():
    # As documented (batch_size): an in-memory table of 65,536 rows is
    # KMeansL2's, one row more goes to the block kernels in blocks of 65,536
    # rows, whose k-means++ seeds on a sample and gives another codebook.
    X = make_embeddings(65_537, 4, random_state=3)
    at = VectorQuantizer(4, max_iter=3, random_state=1).fit(X[:65_536])
    km = _kmeans_l2_of(X[:65_536], 4, 1, max_iter=3)
    assert_allclose(at.codebook_[0], km.cluster_centers_, rtol=1e-6, atol=1e-7)
    above = VectorQuantizer(4, max_iter=3, random_state=1).fit(X)
    blocks = VectorQuantizer(4, max_iter=3, random_state=1, batch_size=65_536)
    assert_array_equal(above.codebook_, blocks.fit(X).codebook_)
    km_above = _kmeans_l2_of(X, 4, 1, max_iter=3)
    assert not np.allclose(above.codebook_[0], km_above.cluster_centers_, atol=1e-3)


def test_study_table_keeps_the_in_memory_engine():
    # The study's figures are KMeansL2's on AImodel.npy's 1,000 unit rows.
    X = np.load(study_file("AImodel.npy"), allow_pickle=False)
    vq = VectorQuantizer(64, random_state=0).fit(X)
    km = _kmeans_l2_of(X, 64, 0)
    assert_allclose(vq.codebook_[0], km.cluster_centers_, rtol=1e-6, atol=1e-7)
    assert vq.n_iter_ == km.n_iter_


def test_blocked_fit_equals_in_memory_fit_with_empty_clusters():
    # Two far centroids start with no row: both paths move them onto the rows
    # farthest from their updated centers, and end with the same codebook.
    X = _blobs(n_features=4, seed=2)
    init = np.vstack([X[:4], [[500.0] * 4, [-500.0] * 4]])
    a = VectorQuantizer(6, normalize=False, init=init, tol=0.0).fit(X)
    b = VectorQuantizer(6, normalize=False, init=init, tol=0.0, batch_size=128)
    b.fit(X)
    assert_allclose(b.codebook_, a.codebook_, rtol=1e-5, atol=1e-5)
    assert a.n_iter_ == b.n_iter_
    assert np.abs(b.codebook_).max() < 100
    assert set(np.unique(b.transform(X))) == set(range(6))


def test_transform_is_the_nearest_centroid():
    X = make_embeddings(3000, 16, random_state=2)
    for normalize in (True, False):
        vq = VectorQuantizer(32, normalize=normalize, random_state=0).fit(X)
        rows = _unit(X) if normalize else X.astype(np.float64)
        codebook = vq.codebook_[0].astype(np.float64)
        squared = ((rows[:, None, :] - codebook[None]) ** 2).sum(axis=2)
        chosen = squared[np.arange(len(X)), vq.transform(X)[:, 0]]
        assert_allclose(chosen, squared.min(axis=1), rtol=1e-5, atol=1e-6)


def test_partial_fit_equals_sklearn_mini_batch():
    X = _blobs(n_samples=2000, n_features=6, seed=4)
    init = X[:5].copy()
    ref = MiniBatchKMeans(5, init=init, n_init=1, reassignment_ratio=0.0)
    vq = VectorQuantizer(5, normalize=False, init=init)
    for start in range(0, len(X), 250):
        batch = X[start : start + 250]
        ref.partial_fit(batch)
        vq.partial_fit(batch)
    assert_allclose(vq.codebook_[0], ref.cluster_centers_, rtol=1e-5, atol=1e-5)
    assert vq.n_steps_ == 8
    assert vq.n_samples_seen_ == 2000


def test_partial_fit_learns_a_codebook():
    X = make_embeddings(6000, 16, random_state=3)
    vq = VectorQuantizer(32, random_state=0)
    for start in range(0, len(X), 1000):
        vq.partial_fit(X[start : start + 1000])
    full = VectorQuantizer(32, random_state=0).fit(X)
    assert vq.score(X) > full.score(X) - 0.03


def test_score_is_mean_cosine_of_reconstruction():
    X = make_embeddings(1000, 16, random_state=4)
    vq = VectorQuantizer(16, random_state=0).fit(X)
    rebuilt = vq.inverse_transform(vq.transform(X))
    by_hand = np.mean(
        np.sum(_unit(X) * rebuilt, axis=1) / np.linalg.norm(rebuilt, axis=1)
    )
    assert vq.score(X) == pytest.approx(by_hand, rel=1e-6)
    assert vq.score(X) == pytest.approx(mean_cosine_similarity(X, rebuilt), rel=1e-6)


def test_study_cosine_at_least_scikit_learn():
    # "With several restarts the cosine similarity must be at least what a
    # single default scikit-learn KMeans run gives": a single run is random,
    # so the reference is the median of five such runs (seeds 0-4).
    X = np.load(study_file("AImodel.npy"), allow_pickle=False)
    unit = _unit(X)
    for k in (64, 128, 256, 512):
        singles = []
        for seed in range(5):
            km = KMeans(k, random_state=seed).fit(unit)
            singles.append(
                mean_cosine_similarity(unit, km.cluster_centers_[km.labels_])
            )
        ours = VectorQuantizer(k, n_init=10, random_state=0).fit(X).score(X)
        assert ours >= np.median(singles), (k, ours, singles)


# --- normalization, zero rows, bad input ------------------------------------


def test_zero_rows_stay_zero_when_normalizing_with_a_warning():
    # As sklearn.preprocessing.normalize: a zero row stays zero, so the fit
    # on the raw table equals the unnormalized fit on the normalized table.
    X = make_embeddings(200, 8, random_state=0).astype(np.float64)
    X[[17, 40]] = 0.0
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    unit = X / np.where(norms > 0, norms, 1.0)[:, None]
    # The fits need the same bits (the order of the distinct rows, hence the
    # seeding, depends on them): the lengths as scikit-learn computes them.
    assert_array_equal(unit, sklearn_normalize(X))
    reference = VectorQuantizer(4, normalize=False, random_state=0).fit(unit)
    for batch_size in (None, 50):
        with pytest.warns(UserWarning, match="2 of the 200 rows have zero length"):
            vq = VectorQuantizer(4, batch_size=batch_size, random_state=0).fit(X)
        assert np.isfinite(vq.codebook_).all()
        assert np.isfinite(vq.score(X))
        if batch_size is None:
            assert_allclose(vq.codebook_, reference.codebook_, rtol=1e-6, atol=1e-6)
            assert_array_equal(vq.transform(X), reference.transform(unit))
    with pytest.warns(UserWarning, match="2 of the 100 rows have zero length"):
        VectorQuantizer(4, random_state=0).partial_fit(X[:100])
    fitted = VectorQuantizer(4, random_state=0).fit(X[:17])
    assert fitted.transform(X).shape == (200, 1)


@pytest.mark.parametrize("batch_size", [None, 7])
def test_more_centroids_than_rows_repeat_centroids_with_a_warning(batch_size):
    # The default 256 centroids on 30 rows: every row gets a centroid of its
    # own (exact reconstruction), the rest repeat them, as KMeans does.
    X = make_embeddings(30, 8, random_state=1)
    with pytest.warns(ConvergenceWarning, match="repeat"):
        vq = VectorQuantizer(batch_size=batch_size, random_state=0).fit(X)
    assert vq.codebook_.shape == (1, 256, 8)
    assert np.unique(vq.codebook_[0], axis=0).shape[0] == 30
    rebuilt = vq.inverse_transform(vq.transform(X))
    assert_allclose(rebuilt, sklearn_normalize(X), atol=1e-6)
    assert vq.score(X) == pytest.approx(1.0)


def test_codes_as_pandas_columns():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(make_embeddings(200, 8, random_state=3))
    X.columns = [f"e{i}" for i in range(8)]
    vq = VectorQuantizer(4, n_subvectors=2, random_state=0).set_output(
        transform="pandas"
    )
    codes = vq.fit(X).transform(X)
    assert list(codes.columns) == ["vectorquantizer0", "vectorquantizer1"]
    assert_array_equal(
        codes.to_numpy(), vq.set_output(transform="default").transform(X)
    )


def test_bad_parameters_and_codes():
    X = make_embeddings(100, 8, random_state=0)
    with pytest.raises(ValueError, match="must divide"):
        VectorQuantizer(4, n_subvectors=3).fit(X)
    with pytest.raises(ValueError, match="n_features=1"):
        VectorQuantizer(2).fit(X[:, :1])
    vq = VectorQuantizer(4, n_subvectors=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="do not fit"):
        vq.inverse_transform(np.zeros((3, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"outside 0\.\.3"):
        vq.inverse_transform(np.full((3, 2), 4, dtype=np.uint8))
    with pytest.raises(ValueError, match="integers"):
        vq.inverse_transform(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="init"):
        VectorQuantizer(4, init=np.zeros((4, 8))).fit(X[:, :4])


def test_explicit_init_runs_once():
    X = make_embeddings(200, 8, random_state=0)
    with pytest.warns(RuntimeWarning, match="only one init"):
        VectorQuantizer(4, init=_unit(X[:4]), n_init=3).fit(X)


def test_explicit_init_shape_is_checked_on_every_path(tmp_path):
    X = make_embeddings(200, 8, random_state=0)
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    wrong = _unit(X[:3])
    message = r"shape of init \(1, 3, 8\) does not match"
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(4, init=wrong).fit(X)
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(4, init=wrong, batch_size=50).fit(X)
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(4, init=wrong, batch_size=50).fit(mapped)
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(4, init=wrong).partial_fit(X)
    with pytest.raises(ValueError, match=r"\(n_subvectors, n_clusters, width\) = "):
        VectorQuantizer(4, n_subvectors=2, init=_unit(X[:4])).fit(X)


@pytest.mark.parametrize("batch_size", [None, 50])
def test_explicit_init_is_the_start_of_every_engine(batch_size):
    # One Lloyd iteration from given centers is one assignment and one mean.
    X = _unit(make_embeddings(200, 8, random_state=0))
    init = X[[0, 50, 100, 150]]
    vq = VectorQuantizer(4, init=init, max_iter=1, batch_size=batch_size).fit(X)
    labels = ((X[:, None, :] - init[None]) ** 2).sum(axis=2).argmin(axis=1)
    means = np.stack([X[labels == j].mean(axis=0) for j in range(4)])
    assert_allclose(vq.codebook_[0], means, rtol=1e-6, atol=1e-6)
    assert vq.n_iter_ == 1


# --- product quantization ---------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 300])
def test_product_quantization_codes_and_reconstruction(batch_size):
    X = make_embeddings(1200, 16, random_state=5)
    vq = VectorQuantizer(8, n_subvectors=4, random_state=0, batch_size=batch_size).fit(
        X
    )
    assert vq.codebook_.shape == (4, 8, 4)
    codes = vq.transform(X)
    assert codes.shape == (1200, 4)
    unit = _unit(X)
    for m in range(4):
        part = unit[:, 4 * m : 4 * m + 4]
        book = vq.codebook_[m].astype(np.float64)
        squared = ((part[:, None, :] - book[None]) ** 2).sum(axis=2)
        chosen = squared[np.arange(len(X)), codes[:, m]]
        assert_allclose(chosen, squared.min(axis=1), rtol=1e-5, atol=1e-6)
    rebuilt = vq.inverse_transform(codes)
    by_hand = np.hstack([vq.codebook_[m][codes[:, m]] for m in range(4)])
    assert_array_equal(rebuilt, by_hand)
    assert rebuilt.dtype == np.float32


def test_product_quantization_beats_one_codebook_at_equal_memory():
    X = make_embeddings(20_000, 32, random_state=0)
    single = VectorQuantizer(1024, random_state=0, batch_size=8192, max_iter=50)
    product = VectorQuantizer(
        256, n_subvectors=4, random_state=0, batch_size=8192, max_iter=50
    )
    single.fit(X)
    product.fit(X)
    # 4 codebooks of 256 x 8 plus 4 bytes per row take less memory than one
    # codebook of 1024 x 32 plus 2 bytes per row ...
    assert (
        product.memory_usage().compressed_bytes < single.memory_usage().compressed_bytes
    )
    # ... and keep more of the rows' directions.
    assert product.score(X) > single.score(X) + 0.005


# --- out of core ------------------------------------------------------------


def test_memmap_fit_equals_in_memory_blocks(tmp_path):
    X = make_embeddings(5000, 16, random_state=6)
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    a = VectorQuantizer(16, n_subvectors=2, n_init=2, random_state=0, batch_size=700)
    b = VectorQuantizer(16, n_subvectors=2, n_init=2, random_state=0, batch_size=700)
    a.fit(X)
    b.fit(mapped)
    assert_array_equal(a.codebook_, b.codebook_)
    assert_array_equal(a.transform(X), b.transform(mapped))
    assert a.score(X) == pytest.approx(b.score(mapped), rel=1e-12)


def test_large_memmap_without_batch_size_is_read_in_blocks(tmp_path, monkeypatch):
    from skclust._vq import _scale as _vq_scale

    monkeypatch.setattr(_vq_scale, "DEFAULT_BATCH_ROWS", 500)
    X = make_embeddings(2000, 8, random_state=7)
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    blocked = VectorQuantizer(8, random_state=0, batch_size=500).fit(X)
    default = VectorQuantizer(8, random_state=0).fit(mapped)
    assert_array_equal(default.codebook_, blocked.codebook_)


def test_memmap_fit_memory_is_bounded_by_the_block(tmp_path):
    # A 25.6 MB table read in blocks of 4096 rows (0.5 MB): the memory the
    # fit allocates stays far below the table, and independent of its size.
    X = make_embeddings(200_000, 32, random_state=8)
    np.save(tmp_path / "table.npy", X)
    table_bytes = X.nbytes
    del X
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    vq = VectorQuantizer(64, random_state=0, batch_size=4096, max_iter=3)
    tracemalloc.start()
    try:
        vq.fit(mapped)
        vq.score(mapped)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < table_bytes / 4
    assert peak < 12e6


def test_partial_fit_on_memmap(tmp_path):
    X = make_embeddings(3000, 8, random_state=9)
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    a = VectorQuantizer(8, random_state=0, batch_size=256)
    b = VectorQuantizer(8, random_state=0, batch_size=256)
    for start in range(0, 3000, 1000):
        a.partial_fit(X[start : start + 1000])
        b.partial_fit(mapped[start : start + 1000])
    assert_allclose(a.codebook_, b.codebook_, rtol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 300])
def test_writable_memmap_is_never_written(tmp_path, batch_size):
    # A table opened "r+" would take in-place normalization or centering
    # back to the file; every method must leave its bytes as they were.
    X = make_embeddings(1500, 8, random_state=10) * 3.0
    path = tmp_path / "table.npy"
    np.save(path, X)
    before = path.read_bytes()
    mapped = np.load(path, mmap_mode="r+")
    vq = VectorQuantizer(
        8, n_subvectors=2, normalize=True, random_state=0, batch_size=batch_size
    )
    codes = vq.fit_transform(mapped)
    vq.fit(mapped).transform(mapped)
    vq.score(mapped)
    vq.inverse_transform(codes)
    vq.partial_fit(mapped[:700])
    vq.add(mapped)
    vq.kneighbors(mapped[:20], n_neighbors=3, rerank_with=mapped)
    mapped.flush()
    del mapped
    assert path.read_bytes() == before


def test_nan_in_memmap_names_the_row(tmp_path):
    X = make_embeddings(3000, 8, random_state=9)
    X[2345, 3] = np.nan
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    with pytest.raises(ValueError, match="NaN at row 2345, column 3"):
        VectorQuantizer(8, batch_size=1000).fit(mapped)


def test_dask_is_not_imported_unless_used(tmp_path):
    code = (
        "import sys, numpy as np\n"
        "from skclust import VectorQuantizer\n"
        "X = np.random.default_rng(0).normal(size=(300, 8))\n"
        "VectorQuantizer(4, batch_size=100).fit(X).transform(X)\n"
        "assert 'dask' not in sys.modules, 'dask imported'\n"
    )
    # Outside the source tree, so that the installed package is imported.
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


# --- metrics ----------------------------------------------------------------


def test_cosine_metrics_by_hand():
    X = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    R = np.array([[6.0, 8.0], [0.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    assert_allclose(row_cosine_similarity(X, R), [1.0, 0.0, 1.0, 0.0])
    assert mean_cosine_similarity(X, R) == 0.5
    # (9 + 16) + (1 + 4) + 0 + 2 over 25 + 1.
    assert relative_mse(X, R) == pytest.approx(32 / 26)


def test_neighbor_recall_brute_force():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    R = X + rng.normal(scale=0.3, size=X.shape)
    for metric in ("cosine", "euclidean"):
        if metric == "cosine":
            similarity_x = _unit(X) @ _unit(X).T
            similarity_r = _unit(X) @ _unit(R).T
        else:
            similarity_x = -((X[:, None] - X[None]) ** 2).sum(axis=2)
            similarity_r = -((X[:, None] - R[None]) ** 2).sum(axis=2)
        found = 0
        for i in range(60):
            others = np.delete(np.arange(60), i)
            true = others[np.argsort(-similarity_x[i, others], kind="stable")[:10]]
            near = others[np.argsort(-similarity_r[i, others], kind="stable")[:10]]
            found += len(set(true) & set(near))
        expected = found / 600
        assert neighbor_recall(X, R, 10, metric=metric) == pytest.approx(expected)
        assert neighbor_recall(X, X, 10, metric=metric) == 1.0


def test_neighbor_recall_ties_go_to_the_lowest_index():
    # Every reconstructed row is the same: the found neighbours of any query
    # are the lowest-indexed other rows.
    X = np.arange(1.0, 13.0)[:, None] * np.array([[1.0, 0.0]]) + [[0.0, 1.0]]
    R = np.ones_like(X)
    recall = neighbor_recall(X, R, 2, metric="euclidean", n_queries=None)
    by_hand = []
    for i in range(12):
        others = [j for j in range(12) if j != i]
        true = sorted(others, key=lambda j: (abs(j - i), j))[:2]
        by_hand.append(len(set(true) & set(others[:2])) / 2)
    assert recall == pytest.approx(np.mean(by_hand))


# --- loading ------------------------------------------------------------------


def test_load_embeddings_refuses_bad_files(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.ones((4, 3), dtype=np.float32))
    assert load_embeddings(good).shape == (4, 3)
    assert isinstance(load_embeddings(good, mmap_mode="r"), np.memmap)
    cases = {
        "objects.npy": (np.array([{"a": 1}], dtype=object), "pickled Python objects"),
        "vector.npy": (np.ones(4), "expected a 2-D table"),
        "ints.npy": (np.ones((4, 3), dtype=np.int64), "expected floating-point"),
        "nan.npy": (
            np.array([[1.0, 2.0], [np.inf, 0.0]]),
            "infinity at row 1, column 0",
        ),
        "empty.npy": (np.ones((0, 3)), "empty"),
    }
    for name, (array, message) in cases.items():
        np.save(tmp_path / name, array, allow_pickle=True)
        with pytest.raises(ValueError, match=message):
            load_embeddings(tmp_path / name)
    np.savez(tmp_path / "archive.npz", a=np.ones((2, 2)))
    with pytest.raises(ValueError, match="npz archive"):
        load_embeddings(tmp_path / "archive.npz")
    (tmp_path / "text.npy").write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"not a \.npy file"):
        load_embeddings(tmp_path / "text.npy")
    with pytest.raises(ValueError, match="no such file"):
        load_embeddings(tmp_path / "missing.npy")


def test_make_embeddings_shape_and_structure():
    X = make_embeddings(5000, 24, rank=6, noise=0.01, random_state=0)
    assert X.shape == (5000, 24) and X.dtype == np.float32
    assert_array_equal(X, make_embeddings(5000, 24, rank=6, noise=0.01, random_state=0))
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    assert (s[:6] ** 2).sum() > 0.99 * (s**2).sum()
    with pytest.raises(ValueError, match="rank"):
        make_embeddings(10, 4, rank=5)


def test_product_quantization_defaults_to_the_block_kernels():
    # Without batch_size, product quantization of an in-memory table takes the
    # block kernels (one pass per iteration for all sub-codebooks): the same
    # codebook as asking for them.
    X = make_embeddings(3000, 16, random_state=3)
    default = VectorQuantizer(32, n_subvectors=4, random_state=0).fit(X)
    blocks = VectorQuantizer(32, n_subvectors=4, random_state=0, batch_size=65_536)
    np.testing.assert_array_equal(default.codebook_, blocks.fit(X).codebook_)
    single = VectorQuantizer(32, random_state=0).fit(X)
    assert not np.array_equal(
        single.codebook_,
        VectorQuantizer(32, random_state=0, batch_size=65_536).fit(X).codebook_,
    )


@pytest.mark.parametrize("method", ["fit", "fit in blocks", "partial_fit"])
@pytest.mark.parametrize("n_subvectors", [1, 2])
def test_vq_says_once_in_its_own_words_that_centroids_repeat(n_subvectors, method):
    # Five distinct rows, eight centroids: KMeansL2's warning (in memory)
    # named KMeansL2 and the seeding's (in blocks, and partial_fit's first
    # batch) came once per subvector, all from lines of skclust.
    X = np.repeat(np.random.default_rng(0).normal(size=(5, 8)), 10, axis=0)
    vq = VectorQuantizer(8, n_subvectors=n_subvectors, random_state=0)
    if method == "fit in blocks":
        vq.set_params(batch_size=16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if method == "partial_fit":
            vq.partial_fit(X)
        else:
            vq.fit(X)
    repeats = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(repeats) == 1, [str(w.message) for w in caught]
    assert "KMeansL2" not in str(repeats[0].message)
    assert "larger than the number of distinct rows" in str(repeats[0].message)
    assert repeats[0].filename == __file__
