"""VectorQuantizer as a compressed index: add, kneighbors over codes, save and
load; and its n_init="auto" and callable init."""

import tracemalloc
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neighbors import NearestNeighbors

from skclust import VectorQuantizer
from skclust._vq import _search, decode_codes
from skclust.datasets import make_embeddings

METRICS = ["sqeuclidean", "inner_product", "cosine"]


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _decoded_distances(vq, queries, metric):
    """Brute force over the table rebuilt from the stored codes, in float64."""
    table = vq.inverse_transform(vq.codes_).astype(np.float64)
    Q = np.asarray(queries, dtype=np.float64)
    if vq.normalize or metric == "cosine":
        Q = _unit(Q)
    if metric == "sqeuclidean":
        return ((Q[:, None, :] - table[None]) ** 2).sum(axis=2)
    products = Q @ table.T
    if metric == "inner_product":
        return -products
    return 1 - products / np.linalg.norm(table, axis=1)


def _check_against_brute_force(vq, queries, n_neighbors, metric):
    distances, indices = vq.kneighbors(queries, n_neighbors, metric=metric)
    reference = _decoded_distances(vq, queries, metric)
    assert distances.shape == indices.shape == (len(queries), n_neighbors)
    # The distances are those of the rebuilt rows, and they are the smallest.
    assert_allclose(
        distances, np.take_along_axis(reference, indices, axis=1), atol=2e-5
    )
    assert_allclose(distances, np.sort(reference, axis=1)[:, :n_neighbors], atol=2e-5)
    assert (np.diff(distances, axis=1) >= 0).all()
    for row in indices:
        assert len(set(row.tolist())) == n_neighbors


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    ("n_clusters", "n_subvectors", "normalize"),
    [(16, 1, True), (32, 4, True), (32, 4, False), (300, 2, False)],
)
def test_scan_matches_brute_force_over_the_decoded_table(
    metric, n_clusters, n_subvectors, normalize
):
    X = make_embeddings(900, 16, random_state=0)
    vq = VectorQuantizer(
        n_clusters,
        n_subvectors=n_subvectors,
        normalize=normalize,
        max_iter=20,
        random_state=0,
    ).fit(X)
    vq.add(X)
    assert vq.codes_.dtype == (np.uint8 if n_clusters <= 256 else np.uint16)
    queries = make_embeddings(25, 16, random_state=1)
    _check_against_brute_force(vq, queries, 7, metric)


def test_ties_go_to_the_lowest_row():
    # Every row three times: copies share their codes, so their distances are
    # exactly equal, and the nearest 4 are the 3 copies of one row then the
    # first copy of the next.
    base = make_embeddings(60, 8, random_state=0)
    X = np.repeat(base, 3, axis=0)
    vq = VectorQuantizer(60, random_state=0).fit(X).add(X)
    distances, indices = vq.kneighbors(base[:10] + 0.01, 4)
    assert_array_equal(indices[:, 1:3] - indices[:, :1], [[1, 2]] * 10)
    assert (indices[:, 0] % 3 == 0).all() and (indices[:, 3] % 3 == 0).all()
    assert_array_equal(distances[:, 0], distances[:, 2])


@pytest.mark.parametrize("metric", METRICS)
def test_batches_threads_and_chunks_change_nothing(metric, monkeypatch):
    X = make_embeddings(700, 12, random_state=0)
    vq = VectorQuantizer(16, n_subvectors=3, random_state=0).fit(X).add(X)
    queries = make_embeddings(40, 12, random_state=2)
    expected = vq.kneighbors(queries, 9, metric=metric)
    reranked = vq.kneighbors(queries, 9, metric=metric, rerank_with=X)
    # Tables of 3 queries a batch, rows in chunks of 50, one and two threads,
    # candidates ranked again 7 queries at a time.
    monkeypatch.setattr(_search, "TABLE_BYTES", 3 * 3 * 16 * 4)
    monkeypatch.setattr(_search, "CHUNK_ROWS", 50)
    monkeypatch.setattr(_search, "RERANK_QUERIES", 7)
    for n_threads in (1, 2, 5):
        vq.set_params(n_jobs=n_threads)
        distances, indices = vq.kneighbors(queries, 9, metric=metric)
        assert_array_equal(indices, expected[1])
        assert_array_equal(distances, expected[0])
        distances, indices = vq.kneighbors(queries, 9, metric=metric, rerank_with=X)
        assert_array_equal(indices, reranked[1])
        assert_array_equal(distances, reranked[0])


def test_add_appends_rows_in_order():
    X = make_embeddings(600, 8, random_state=0)
    vq = VectorQuantizer(16, n_subvectors=2, random_state=0).fit(X)
    assert not hasattr(vq, "codes_")
    for start in range(0, 600, 150):
        vq.add(X[start : start + 150])
    assert_array_equal(vq.codes_, vq.transform(X))
    once = VectorQuantizer(16, n_subvectors=2, random_state=0).fit(X).add(X)
    queries = X[:5] + 0.05
    assert_array_equal(vq.kneighbors(queries, 6)[1], once.kneighbors(queries, 6)[1])


def test_add_reads_a_memory_map(tmp_path):
    X = make_embeddings(500, 8, random_state=0).astype(np.float32)
    np.save(tmp_path / "table.npy", X)
    mapped = np.load(tmp_path / "table.npy", mmap_mode="r")
    vq = VectorQuantizer(16, n_subvectors=2, random_state=0).fit(X)
    assert_array_equal(vq.add(mapped).codes_, vq.transform(X))


def test_fitting_again_empties_the_index():
    X = make_embeddings(400, 8, random_state=0)
    vq = VectorQuantizer(16, random_state=0).fit(X).add(X)
    assert vq.codes_.shape == (400, 1)
    vq.fit(X[:200])
    assert not hasattr(vq, "codes_")
    with pytest.raises(ValueError, match="call add"):
        vq.kneighbors(X[:2])
    vq.partial_fit(X).add(X[:50])
    vq.partial_fit(X)
    assert not hasattr(vq, "codes_")


@pytest.mark.parametrize("metric", METRICS)
def test_rerank_over_every_row_is_exact_search(metric, tmp_path):
    X = make_embeddings(500, 16, random_state=0)
    queries = make_embeddings(12, 16, random_state=3)
    vq = VectorQuantizer(8, n_subvectors=2, random_state=0).fit(X).add(X)
    np.save(tmp_path / "rows.npy", X)
    rows = np.load(tmp_path / "rows.npy", mmap_mode="r")
    distances, indices = vq.kneighbors(
        queries, 5, metric=metric, rerank_with=rows, n_candidates=500
    )
    # Exact search over the rows as the quantizer sees them (at unit length).
    U, Q = _unit(X), _unit(queries)
    if metric == "inner_product":
        reference = -(Q @ U.T)
        expected = np.argsort(reference, axis=1, kind="stable")[:, :5]
        assert_allclose(distances, np.sort(reference, axis=1)[:, :5], atol=1e-6)
    else:
        nn = NearestNeighbors(n_neighbors=5, metric="cosine").fit(U)
        reference, expected = nn.kneighbors(Q)
        if metric == "sqeuclidean":
            reference = 2 * reference  # |u - q|^2 = 2 - 2 cos on unit rows
        assert_allclose(distances, reference, atol=1e-6)
    assert_array_equal(indices, expected)


def test_rerank_improves_recall():
    X = make_embeddings(3000, 32, random_state=0)
    queries = make_embeddings(50, 32, random_state=4)
    vq = VectorQuantizer(32, n_subvectors=8, random_state=0).fit(X).add(X)
    truth = NearestNeighbors(n_neighbors=10, metric="cosine").fit(X)
    expected = truth.kneighbors(queries, return_distance=False)

    def recall(found):
        return np.mean(
            [len(set(a) & set(b)) / 10 for a, b in zip(found, expected, strict=True)]
        )

    scanned = vq.kneighbors(queries, 10, return_distance=False)
    reranked = vq.kneighbors(
        queries, 10, return_distance=False, rerank_with=X, n_candidates=300
    )
    # Measured: 0.33 from the codes alone, 0.96 after ranking 300 candidates.
    assert recall(reranked) > recall(scanned) + 0.3
    assert recall(reranked) > 0.9


def test_search_never_builds_the_decoded_table():
    X = make_embeddings(100_000, 64, random_state=0).astype(np.float32)
    vq = VectorQuantizer(16, n_subvectors=8, max_iter=5, random_state=0)
    vq.fit(X[:2000]).add(X)
    queries = X[:100]
    tracemalloc.start()
    try:
        vq.kneighbors(queries, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    decoded = X.nbytes  # 25.6 MB as float32
    tables = queries.shape[0] * 8 * 16 * 4  # 51 kB
    assert peak < 20 * tables + 200_000 < decoded / 10


def test_save_and_load_round_trip(tmp_path):
    X = make_embeddings(600, 16, random_state=0)
    vq = VectorQuantizer(32, n_subvectors=4, max_iter=30, random_state=0)
    vq.fit(X).add(X[:400])
    path = tmp_path / "index.npz"
    vq.save(path)
    loaded = VectorQuantizer.load(path)
    assert loaded.get_params() == vq.get_params()
    assert_array_equal(loaded.codebook_, vq.codebook_)
    assert_array_equal(loaded.codes_, vq.codes_)
    assert loaded.n_iter_ == vq.n_iter_
    assert_array_equal(loaded.n_iter_per_codebook_, vq.n_iter_per_codebook_)
    assert loaded.n_samples_seen_ == 600
    assert_array_equal(loaded.transform(X), vq.transform(X))
    queries = X[::50] + 0.01
    for metric in METRICS:
        assert_array_equal(
            loaded.kneighbors(queries, 5, metric=metric)[1],
            vq.kneighbors(queries, 5, metric=metric)[1],
        )
    # Adding to the loaded index continues it.
    loaded.add(X[400:])
    assert_array_equal(loaded.codes_, vq.transform(X))
    # The archive is what `skclust vq --decode` reads.
    with np.load(path, allow_pickle=False) as saved:
        rebuilt = decode_codes(saved["codes"], saved["codebook"])
    assert_array_equal(rebuilt, vq.inverse_transform(vq.codes_))
    assert not list(tmp_path.glob("*.part"))


def test_a_loaded_quantizer_without_rows_says_to_add_them(tmp_path):
    X = make_embeddings(300, 8, random_state=0)
    path = tmp_path / "codebook.npz"
    VectorQuantizer(8, random_state=0).fit(X).save(path)
    loaded = VectorQuantizer.load(path)
    # It said "n_neighbors=3 is larger than the number of rows added (0)".
    with pytest.raises(ValueError, match=r"no rows to search: call add\(X\)"):
        loaded.kneighbors(X[:2], 3)
    assert loaded.add(X).kneighbors(X[:2], 3)[1].shape == (2, 3)


def test_save_keeps_scalar_parameters_and_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    X = make_embeddings(300, 4, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    vq = VectorQuantizer(
        8,
        normalize=False,
        init=X[:8],
        random_state=np.random.RandomState(0),
        tol=0.0,
    ).fit(frame)
    vq.save(tmp_path / "q.npz")
    loaded = VectorQuantizer.load(tmp_path / "q.npz")
    assert loaded.tol == 0.0 and loaded.normalize is False
    assert loaded.init == "k-means++" and loaded.random_state is None
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"]
    assert not hasattr(loaded, "codes_") or loaded.codes_.shape == (0, 1)
    assert_array_equal(loaded.transform(frame), vq.transform(frame))


def test_load_refuses_other_files(tmp_path):
    np.save(tmp_path / "table.npy", np.zeros((3, 2)))
    np.savez(tmp_path / "other.npz", codes=np.zeros((3, 1), np.uint8))
    (tmp_path / "empty.npz").write_bytes(b"")
    for name, message in [
        ("missing.npz", "no such file"),
        ("table.npy", "not an .npz archive"),
        ("empty.npz", "not an .npz archive"),
        ("other.npz", "not a file of VectorQuantizer.save"),
    ]:
        with pytest.raises(ValueError, match=f"{name}: {message}"):
            VectorQuantizer.load(tmp_path / name)


def test_load_refuses_codes_of_another_codebook(tmp_path):
    X = make_embeddings(300, 8, random_state=0)
    VectorQuantizer(16, n_subvectors=2, random_state=0).fit(X).add(X).save(
        tmp_path / "q.npz"
    )
    with np.load(tmp_path / "q.npz") as saved:
        arrays = dict(saved)
    arrays["codes"] = np.full((3, 2), 20, dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"bad.npz: code 20 is outside 0..15"):
        VectorQuantizer.load(tmp_path / "bad.npz")
    arrays["codes"] = np.zeros((3, 3), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"bad\.npz: codes of uint8 and shape"):
        VectorQuantizer.load(tmp_path / "bad.npz")


def test_search_refuses_bad_input():
    X = make_embeddings(200, 8, random_state=0)
    vq = VectorQuantizer(8, n_subvectors=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="no rows to search"):
        vq.kneighbors(X[:2])
    vq.add(X[:30])
    with pytest.raises(ValueError, match="n_neighbors=31 is larger than the number"):
        vq.kneighbors(X[:2], 31)
    with pytest.raises(ValueError, match="n_neighbors must be a positive integer"):
        vq.kneighbors(X[:2], 0)
    with pytest.raises(ValueError, match="metric must be one of"):
        vq.kneighbors(X[:2], metric="euclidean")
    with pytest.raises(ValueError, match="8 features"):
        vq.kneighbors(X[:2, :6])
    with pytest.raises(ValueError, match="query 1 has zero length"):
        vq.kneighbors(np.vstack([X[0], np.zeros(8)]))
    with pytest.raises(ValueError, match="NaN"):
        vq.kneighbors(np.full((1, 8), np.nan))
    with pytest.raises(ValueError, match=r"rerank_with has shape \(200, 8\)"):
        vq.kneighbors(X[:2], rerank_with=X)
    with pytest.raises(ValueError, match="n_candidates=5 is smaller than"):
        vq.kneighbors(X[:2], 10, rerank_with=X[:30], n_candidates=5)
    with pytest.raises(ValueError, match="n_candidates=40 is larger"):
        vq.kneighbors(X[:2], 10, rerank_with=X[:30], n_candidates=40)
    with pytest.raises(ValueError, match="8 features"):
        vq.add(X[:, :4])


def test_zero_length_rebuilt_rows_have_cosine_zero():
    # Without normalization a centroid can sit at the origin; its rows are
    # similar to nothing (cosine distance 1), never NaN.
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    vq = VectorQuantizer(3, normalize=False, init=X[1:], random_state=0)
    vq.fit(X).add(X)
    distances, indices = vq.kneighbors([[1.0, 1.0]], 4, metric="cosine")
    assert_allclose(distances, [[1 - np.sqrt(0.5), 1 - np.sqrt(0.5), 1.0, 1.0]])
    assert_array_equal(indices, [[2, 3, 0, 1]])


# --- n_init="auto" and callable init -----------------------------------------


def test_n_init_auto_is_one_run_for_kmeans_plusplus_ten_for_random():
    X = make_embeddings(400, 8, random_state=0)

    def codebook(**params):
        return VectorQuantizer(12, n_subvectors=2, random_state=0, **params).fit(X)

    assert_array_equal(codebook(n_init="auto").codebook_, codebook(n_init=1).codebook_)
    assert_array_equal(
        codebook(init="random", n_init="auto").codebook_,
        codebook(init="random", n_init=10).codebook_,
    )
    with pytest.raises(ValueError, match="n_init"):
        codebook(n_init="many")


def test_callable_init_is_called_per_run_and_subvector():
    X = make_embeddings(300, 8, random_state=0)
    calls = []

    def first_rows(points, n_clusters, random_state):
        # The lowest distinct rows in lexicographic order, whatever the order
        # of the points it is given.
        calls.append((points.shape, n_clusters, type(random_state)))
        return np.unique(points, axis=0)[:n_clusters]

    vq = VectorQuantizer(6, n_subvectors=2, init=first_rows, random_state=0).fit(X)
    # n_init="auto" makes ten runs from a callable, for each of 2 subvectors.
    assert len(calls) == 20
    assert all(shape[1] == 4 and k == 6 for shape, k, _ in calls)
    assert all(kind is np.random.RandomState for _, _, kind in calls)
    calls.clear()
    vq_once = VectorQuantizer(
        6, n_subvectors=2, init=first_rows, n_init=1, random_state=0
    ).fit(X)
    assert len(calls) == 2
    # The callable's centers equal the same centers passed as an array.
    U = _unit(X)
    fixed = [np.unique(U[:, 4 * m : 4 * m + 4], axis=0)[:6] for m in range(2)]
    by_array = VectorQuantizer(6, n_subvectors=2, init=np.stack(fixed)).fit(X)
    assert_allclose(vq_once.codebook_, by_array.codebook_, rtol=1e-6)
    assert vq.score(X) >= vq_once.score(X) - 1e-9


def test_callable_init_needs_an_in_memory_fit():
    X = make_embeddings(300, 8, random_state=0)

    def first_rows(points, n_clusters, random_state):
        return points[:n_clusters]

    with pytest.raises(ValueError, match="callable init needs an in-memory fit"):
        VectorQuantizer(6, init=first_rows, batch_size=100).fit(X)
    # partial_fit calls it on its first batch (tests/test_user21.py).


def test_compiled_scan_refuses_arrays_that_do_not_match():
    from skclust._vq._adc_scan import scan_codes

    tables = np.zeros((2, 3, 4), dtype=np.float32)
    keys = np.full((2, 5), np.inf, dtype=np.float32)
    ids = np.full((2, 5), -1, dtype=np.int64)
    no_norms = np.zeros((0, 0), dtype=np.float32)
    codes = np.zeros((10, 3), dtype=np.uint8)
    scan_codes(tables, codes, no_norms, keys, ids, 4)
    # All tied: the heaps hold the lowest rows.
    assert_array_equal(np.sort(ids, axis=1), [[0, 1, 2, 3, 4]] * 2)
    for bad in (
        dict(codes=np.zeros((10, 2), dtype=np.uint8)),
        dict(ids=np.zeros((2, 4), dtype=np.int64)),
        dict(norms=np.zeros((3, 5), dtype=np.float32)),
        dict(chunk=0),
    ):
        with pytest.raises(ValueError, match="do not match"):
            scan_codes(
                tables,
                bad.get("codes", codes),
                bad.get("norms", no_norms),
                keys,
                bad.get("ids", ids),
                bad.get("chunk", 4),
            )


def _saved_arrays(tmp_path):
    X = make_embeddings(60, 4, random_state=0)
    path = tmp_path / "index.npz"
    VectorQuantizer(4, n_subvectors=2, random_state=0).fit(X).add(X).save(path)
    with np.load(path) as saved:
        return path, dict(saved)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda a: {"params": np.array("{not json")}, "unreadable parameters$"),
        (
            lambda a: {"centers": a["centers"][0]},
            r"the codebook has shape \(4, 2\)$",
        ),
        (lambda a: {"centers": a["centers"][:, :0]}, "the codebook has shape"),
        (
            lambda a: {"origin": a["origin"][:-1]},
            "origin and counts do not fit the codebook$",
        ),
        (
            lambda a: {"counts": a["counts"][:, :-1]},
            "origin and counts do not fit the codebook$",
        ),
    ],
)
def test_load_names_the_file_of_a_malformed_archive(tmp_path, change, match):
    path, arrays = _saved_arrays(tmp_path)
    np.savez(path, **{**arrays, **change(arrays)})
    with pytest.raises(ValueError, match=f"^{path}: {match}"):
        VectorQuantizer.load(path)


def test_load_names_the_file_of_a_truncated_archive(tmp_path):
    # A zip whose directory survives but whose first member was damaged.
    path, _ = _saved_arrays(tmp_path)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
    # Overwrite the first member's bytes so that its CRC no longer matches.
    start = first.header_offset + 30 + len(first.filename)
    corrupt = bytearray(data)
    corrupt[start : start + 64] = bytes(64)
    path.write_bytes(bytes(corrupt))
    # It raised zipfile.BadZipFile, which is not a ValueError.
    with pytest.raises(ValueError, match=f"^{path}: unreadable .npz archive .*CRC"):
        VectorQuantizer.load(path)


def test_a_failed_save_leaves_no_file_behind(tmp_path, monkeypatch):
    X = make_embeddings(60, 4, random_state=0)
    vq = VectorQuantizer(4, random_state=0).fit(X)
    path = tmp_path / "index.npz"
    vq.save(path)
    before = path.read_bytes()

    def interrupted(stream, **arrays):
        stream.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(_search.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        VectorQuantizer(3, random_state=1).fit(X).save(path)
    # The earlier file is untouched and no temporary file is left.
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.npz"]


def test_load_refuses_a_member_larger_than_the_memory_budget(tmp_path, monkeypatch):
    # np.load allocated whatever a member's header declared.
    path, arrays = _saved_arrays(tmp_path)
    np.savez(path, **{**arrays, "codes": np.zeros((5000, 2), np.uint8)})
    monkeypatch.setenv("SKCLUST_MEMORY_BUDGET", "4096")
    message = rf"^{path} \(codes\): .* more than the memory budget"
    with pytest.raises(ValueError, match=message):
        VectorQuantizer.load(path)
