"""Corner cases found by an adversarial review of the k-means family and VQ.

Each test reproduces one finding against a reference (scikit-learn, a
hand-worked case, or the same fit on ordinary input).
"""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from skclust import KMeansL1, KMeansL2, VectorQuantizer
from skclust._cli import main
from skclust.datasets import make_embeddings


@pytest.mark.parametrize("far", [1e200, 1e308])
def test_an_initial_center_far_from_the_data_does_not_scale_it_away(far):
    # The data was scaled by the largest magnitude of the data and the init
    # together: an initial center at 1e200 put points near 1 at 1e-200,
    # where every squared distance is zero, and the fit stopped at once with
    # every row in one cluster and inertia 0. The far center claims no row;
    # it is relocated as one at 1e10 is.
    X = np.random.default_rng(0).normal(size=(50, 3))
    near, far_init = (
        np.array([[1e10, 0, 0], [1, 1, 1]]),
        np.array([[far, 0, 0], [1, 1, 1]]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        l2 = KMeansL2(2, init=far_init).fit(X)
        l1 = KMeansL1(2, init=far_init).fit(X)
    reference = KMeansL2(2, init=near).fit(X)
    np.testing.assert_allclose(l2.cluster_centers_, reference.cluster_centers_)
    assert l2.inertia_ == pytest.approx(reference.inertia_)
    np.testing.assert_allclose(
        l1.cluster_centers_, KMeansL1(2, init=near).fit(X).cluster_centers_
    )
    if far < 1e300:
        # scikit-learn's squared distances to 1e308 overflow.
        sk = KMeans(2, init=far_init, n_init=1).fit(X)
        assert l2.inertia_ == pytest.approx(sk.inertia_)
        np.testing.assert_array_equal(l2.labels_, sk.labels_)


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_a_far_initial_center_on_sparse_rows(Estimator):
    # With two centers, the far one is every row's second nearest: once it
    # moved, the sparse runs' lower bounds became inf - inf = NaN, which
    # failed no test, so rows kept stale labels (KMeansL2 stopped at an
    # inertia 1.34x that of the dense fit, with an "invalid value" warning).
    X = np.random.default_rng(0).normal(size=(400, 3))
    X[X < 0] = 0
    far, near = X[[1, 2]].copy(), X[[1, 2]].copy()
    far[0, 0], near[0, 0] = 1e200, 1e10
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = Estimator(2, init=far).fit(sparse.csr_matrix(X))
    reference = Estimator(2, init=near).fit(X)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    assert model.inertia_ == pytest.approx(reference.inertia_)


def test_a_far_initial_center_on_a_memmap_read_in_blocks(tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 3))
    path = tmp_path / "x.npy"
    np.save(path, X)
    table = np.load(path, mmap_mode="r")
    init = np.array([[1e200, 0, 0], [1, 1, 1]])
    blocked = KMeansL2(2, init=init, batch_size=16).fit(table)
    in_memory = KMeansL2(2, init=np.array([[1e10, 0, 0], [1, 1, 1]])).fit(X)
    np.testing.assert_allclose(blocked.cluster_centers_, in_memory.cluster_centers_)
    np.testing.assert_array_equal(blocked.labels_, in_memory.labels_)


def test_tiny_data_with_a_large_init_keeps_the_init_finite():
    # Data near 1e-300 is scaled up; an initial center at 1e10 lowers that
    # scale just enough to stay finite instead of being refused.
    X = np.random.default_rng(1).normal(size=(40, 2)) * 1e-300
    init = np.vstack([[1e10, 0.0], X[0]])
    model = KMeansL2(2, init=init).fit(X)
    assert np.isfinite(model.cluster_centers_).all()
    assert np.bincount(model.labels_, minlength=2).min() > 0


@pytest.mark.parametrize("exponent", [-1000, 990])
def test_queries_of_extreme_magnitude_find_the_neighbours_of_unit_queries(exponent):
    # kneighbors divided each query by np.linalg.norm, which is 0 for a
    # query near 2**-1000 ("query 0 has zero length") and infinity near
    # 2**990 (an overflow warning and every distance NaN). Scaling a query by
    # a power of two does not change its direction.
    X = make_embeddings(200, 8, random_state=0).astype(np.float64)
    vq = VectorQuantizer(16, random_state=0).fit(X).add(X)
    queries = X[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for metric in ("sqeuclidean", "cosine"):
            distances, rows = vq.kneighbors(
                np.ldexp(queries, exponent), 4, metric=metric
            )
            expected_distances, expected_rows = vq.kneighbors(queries, 4, metric=metric)
            np.testing.assert_array_equal(rows, expected_rows)
            np.testing.assert_allclose(
                distances, expected_distances, rtol=1e-12, atol=1e-12
            )


@pytest.mark.parametrize("n_rows", [-1, 2.5, True, "10"])
def test_memory_usage_refuses_what_is_not_a_number_of_rows(n_rows):
    # -1 gave negative byte counts, 2.5 counted 2 rows and True one.
    vq = VectorQuantizer(4, random_state=0).fit(make_embeddings(50, 8, random_state=0))
    with pytest.raises(ValueError, match="n_rows must be a non-negative integer"):
        vq.memory_usage(n_rows)


def test_memory_usage_counts_the_rows_it_is_given():
    vq = VectorQuantizer(4, random_state=0).fit(make_embeddings(50, 8, random_state=0))
    usage = vq.memory_usage(np.int64(1000))
    # float32 rows, one uint8 code per row.
    assert (usage.original_bytes, usage.codes_bytes) == (1000 * 8 * 4, 1000)
    assert vq.memory_usage(0).codes_bytes == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["image", "-k", "2", "--seed", "-1"], "-1 is not a seed from 0 to 4294967295"),
        (["report", "--seed", "4294967296"], "is not a seed from 0 to 4294967295"),
        (["vq", "-k", "4", "--seed", "-3"], "-3 is not a seed"),
        (["graph", "-k", "2", "--seed", "x"], "'x' is not an integer"),
        (["demo", "--seed", "-1"], "-1 is not a seed"),
        (["demo", "-k", "0"], "0 is not a positive integer"),
        (["image", "-k", "2", "--n-jobs", "0"], "0 is not a number of jobs"),
    ],
)
def test_cli_refuses_bad_seeds_and_job_counts_before_running(
    argv, message, tmp_path, capsys
):
    # A seed outside numpy's range and --n-jobs 0 failed every fit of the run
    # (one error line per image, metric and k: 22 for report); demo -k 0
    # failed inside KMeansL2. Now argparse refuses them: one line, exit 2,
    # nothing written.
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out)] if argv[0] != "demo" else argv) == 2
    stderr = capsys.readouterr().err
    assert len(stderr.strip().splitlines()) == 1
    assert message in stderr
    assert not out.exists()


def test_cli_takes_the_largest_seed_and_all_cpus(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    photo = tmp_path / "p.png"
    Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(photo)
    argv = ["image", str(photo), "-k", "2", "--seed", "4294967295", "--n-jobs", "-1"]
    assert main([*argv, "--metric", "l2", "--out", str(tmp_path / "out"), "-q"]) == 0


def test_vq_command_names_the_file_of_a_one_feature_table(tmp_path, capsys):
    # The quantizer's own message came without the file's name, and spoke of
    # normalize=False where the command's option is --no-normalize.
    table = tmp_path / "one.npy"
    np.save(table, np.random.default_rng(0).normal(size=(40, 1)).astype(np.float32))
    out = tmp_path / "out"
    assert main(["vq", str(table), "-k", "2", "--out", str(out), "-q"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert "one.npy: one feature" in stderr
    assert not out.exists()
    argv = ["vq", str(table), "-k", "2", "--no-normalize", "--out", str(out), "-q"]
    assert main(argv) == 0


def test_vq_search_refuses_a_zero_query_before_fitting(tmp_path, capsys, monkeypatch):
    # A query of zero length was found by kneighbors after every k was
    # fitted, with a message that did not name the queries' file.
    import skclust._cli.vq as vq_command

    rng = np.random.default_rng(0)
    table, queries = tmp_path / "t.npy", tmp_path / "q.npy"
    np.save(table, rng.normal(size=(60, 4)).astype(np.float32))
    np.save(queries, np.vstack([rng.normal(size=(2, 4)), np.zeros((1, 4))]))
    fits = []
    monkeypatch.setattr(vq_command, "compress", lambda *a, **k: fits.append(a))
    argv = ["vq", str(table), "-k", "2", "--search", str(queries), "-q"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert "q.npy: query 2 has zero length" in stderr
    assert fits == []
    monkeypatch.undo()
    # Squared Euclidean distances to rows kept as they are need no direction.
    argv += ["--no-normalize", "--metric", "sqeuclidean", "-n", "3"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    nearest = np.load(tmp_path / "out" / "neighbors_k2.npy")
    assert nearest.shape == (3, 3)


@pytest.mark.parametrize(("Estimator", "inertia"), [(KMeansL2, 0.5), (KMeansL1, 1.0)])
def test_a_cluster_of_zero_weight_rows_is_empty_and_relocated(Estimator, inertia):
    # Hand-worked: the center at 100 first takes only the row at 60, of
    # weight zero, so its cluster is empty; it moves to the row of positive
    # weight farthest from it (0), and the fit ends on {0}, {2}, {10, 11}.
    # The row of zero weight is labeled with its nearest center.
    X = np.array([[0.0], [2], [10], [11], [60]])
    weights = np.array([1, 1, 1, 1, 0.0])
    model = Estimator(3, init=np.array([[0.0], [100], [10]])).fit(
        X, sample_weight=weights
    )
    assert sorted(model.cluster_centers_.ravel()) == [0.0, 2.0, 10.5]
    assert model.inertia_ == inertia
    centers = model.cluster_centers_.ravel()
    assert centers[model.labels_].tolist() == [0.0, 2.0, 10.5, 10.5, 10.5]


@pytest.mark.parametrize("batch_size", [None, 64])
def test_vq_with_an_initial_centroid_far_outside_float32(batch_size):
    # The block kernels rank in float32, where a centroid at 1e200 is
    # infinite: it must claim no row (and say nothing about overflow), so the
    # fit is that from a centroid merely far away.
    X = make_embeddings(400, 8, random_state=0)
    far, near = np.array(X[:4], dtype=np.float64), np.array(X[:4], dtype=np.float64)
    far[0, 0], near[0, 0] = 1e200, 10.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = VectorQuantizer(4, init=far, batch_size=batch_size).fit(X)
    reference = VectorQuantizer(4, init=near, batch_size=batch_size).fit(X)
    np.testing.assert_array_equal(model.transform(X), reference.transform(X))
    np.testing.assert_array_equal(model.codebook_, reference.codebook_)


@pytest.mark.parametrize(
    "argv",
    [
        ["image", "{folder}", "-k", "2"],
        ["vq", "{folder}", "-k", "2"],
        ["vq", "{table}", "-k", "2", "--search", "{folder}"],
        ["vq", "--decode", "{folder}"],
    ],
)
def test_a_folder_given_as_an_input_file_is_called_a_folder(argv, tmp_path, capsys):
    # A folder that exists was reported as "no such file".
    folder = tmp_path / "inputs"
    folder.mkdir()
    table = tmp_path / "t.npy"
    np.save(table, np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32))
    words = [w.format(folder=folder, table=table) for w in argv]
    assert main([*words, "--out", str(tmp_path / "out"), "-q"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert f"{folder}: is a folder; expected a file" in stderr
    with pytest.raises(ValueError, match="is a folder; expected a file"):
        VectorQuantizer.load(folder)


def test_save_names_the_path_it_cannot_write(tmp_path):
    # The errors named the temporary file (".index.npz.f0flupiq.part").
    vq = VectorQuantizer(4, random_state=0).fit(make_embeddings(50, 8, random_state=0))
    with pytest.raises(FileNotFoundError, match=r"index.npz: the folder .*missing"):
        vq.save(tmp_path / "missing" / "index.npz")
    with pytest.raises(IsADirectoryError, match="is a folder; expected a file name"):
        vq.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_vq_set_params_after_fit_changes_only_the_next_fit(tmp_path):
    # transform, inverse_transform, score, memory_usage, partial_fit and save
    # read n_clusters and n_subvectors from the parameters: after
    # set_params(n_clusters=300) a 4-centroid codebook gave uint16 codes and
    # the memory of 300 centroids; after set_params(n_subvectors=2), a
    # broadcasting error.
    X = make_embeddings(300, 8, random_state=0)
    fitted = VectorQuantizer(4, random_state=0).fit(X)
    codes = fitted.transform(X)
    usage = fitted.memory_usage()
    for change in ({"n_clusters": 300}, {"n_subvectors": 2}):
        vq = VectorQuantizer(4, random_state=0).fit(X).set_params(**change)
        np.testing.assert_array_equal(vq.transform(X), codes)
        assert vq.transform(X).dtype == np.uint8
        np.testing.assert_array_equal(
            vq.inverse_transform(codes), fitted.inverse_transform(codes)
        )
        assert vq.score(X) == fitted.score(X)
        assert vq.memory_usage() == usage
        assert len(vq.get_feature_names_out()) == 1
        vq.save(tmp_path / "q.npz")
        loaded = VectorQuantizer.load(tmp_path / "q.npz")
        assert (loaded.n_clusters, loaded.n_subvectors) == (4, 1)
        assert vq.partial_fit(X).codebook_.shape == (1, 4, 8)
        # The next fit follows the parameters.
        refit = vq.fit(X)
        assert refit.codebook_.shape[:2] == (
            change.get("n_subvectors", 1),
            change.get("n_clusters", 4),
        )


def test_image_command_runs_a_repeated_k_or_metric_once(tmp_path, capsys):
    # -k 3 3 --metric l1 l1 ran the same fit four times and wrote four
    # identical rows, where graph and vq run a repeated k once.
    from PIL import Image

    rng = np.random.default_rng(0)
    photo = tmp_path / "p.png"
    Image.fromarray(rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out"
    argv = ["image", str(photo), "-k", "3", "2", "3", "--metric", "l1", "l1"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    lines = (out / "image_results.csv").read_text().strip().splitlines()
    assert [line.split(",")[1:3] for line in lines[1:]] == [["l1", "2"], ["l1", "3"]]


@pytest.mark.parametrize(
    ("image", "message"),
    [
        # NaN was reported as "pixel values must lie in [0, 255]".
        (np.full((2, 2, 3), np.nan), "holds NaN or infinite pixel values"),
        (np.full((2, 2, 3), np.inf), "holds NaN or infinite pixel values"),
        # A float image in [0, 1] only heard "must be whole numbers".
        (
            np.full((2, 2, 3), 0.5),
            r"whole numbers \(an image in \[0, 1\]: multiply by 255\)",
        ),
        (np.full((2, 2, 3), 1.5), r"must be whole numbers$"),
    ],
)
def test_image_arrays_name_what_is_wrong_with_their_values(image, message):
    from skclust.image import load_image

    with pytest.raises(ValueError, match=message):
        load_image(image)


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
@pytest.mark.parametrize("weight_power", [1000, -1060])
def test_weights_scaled_by_a_power_of_two_change_only_the_inertia(
    Estimator, weight_power
):
    # Weights near 2**1000 summed past the float64 range: KMeansL2 returned
    # NaN centers. Scaling every weight by 2**k changes no mean or median and
    # multiplies the inertia by 2**k exactly.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    weights = rng.integers(1, 5, 60).astype(float)
    init = X[:3].copy()
    reference = Estimator(3, init=init).fit(X, sample_weight=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = Estimator(3, init=init).fit(
            X, sample_weight=np.ldexp(weights, weight_power)
        )
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    np.testing.assert_array_equal(model.cluster_centers_, reference.cluster_centers_)
    assert model.inertia_ == np.ldexp(reference.inertia_, weight_power)


def test_vq_decode_refuses_a_codebook_that_is_not_finite(tmp_path, capsys):
    # A codebook holding NaN decoded into a table of NaN, exit code 0.
    codes = np.zeros((5, 1), dtype=np.uint8)
    codebook = np.full((1, 2, 3), np.nan, dtype=np.float32)
    archive = tmp_path / "bad.npz"
    np.savez(archive, codes=codes, codebook=codebook, normalize=np.array(True))
    out = tmp_path / "out"
    assert main(["vq", "--decode", str(archive), "--out", str(out), "-q"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert "bad.npz: cannot be decoded" in stderr
    assert "the codebook holds NaN or infinite values" in stderr
    assert not (out / "bad_decoded.npy").exists()


@pytest.mark.parametrize("name", ["centers", "origin"])
def test_load_refuses_a_saved_quantizer_that_is_not_finite(name, tmp_path):
    # A file whose codebook held NaN loaded, and kneighbors then returned
    # row -1 at distance inf for every neighbour.
    X = make_embeddings(60, 8, random_state=0)
    VectorQuantizer(4, random_state=0).fit(X).add(X).save(tmp_path / "q.npz")
    arrays = dict(np.load(tmp_path / "q.npz"))
    arrays[name] = np.full_like(arrays[name], np.nan)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=f"bad.npz: the {name} are not finite floats"):
        VectorQuantizer.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_fits_of_overlapping_memory_from_threads_see_the_rows_unmoved(Estimator):
    # A copy_x=False fit of X moves X's rows; fits of X, X[:] and X[1000:]
    # from other threads copied them moved or in mid-move and got wrong
    # labels. Each fit must find what it finds alone.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(8000, 3)) * 3)
    kept = X.copy()
    views = [X, X[:], X[1000:]]
    alone = {
        (i, copy): Estimator(5, random_state=0, copy_x=copy).fit(views[i].copy())
        for i in range(3)
        for copy in (False, True)
    }

    def fit(i):
        copy = i % 4 == 1
        model = Estimator(5, random_state=0, copy_x=copy).fit(views[i % 3])
        return np.array_equal(model.labels_, alone[i % 3, copy].labels_)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with ThreadPoolExecutor(4) as pool:
            agree = list(pool.map(fit, range(24)))
    assert all(agree)
    np.testing.assert_array_equal(X, kept)


@pytest.mark.parametrize("n_features", [6, 12])
def test_a_far_initial_center_with_elkans_bounds(n_features, monkeypatch):
    # Elkan's bounds store each bound plus the center's cumulative shift; a
    # center that came from 1e200 moved by an infinite distance, every
    # bound of it became inf - inf = NaN and ruled it out for good: points
    # kept labels that were not their nearest center.
    from skclust._kmeans import _inmemory

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, n_features)) + rng.integers(0, 5, (3000, 1))
    init = X[rng.choice(3000, 10, replace=False)].copy()
    init[0, 0] = 1e200
    model = KMeansL2(10, init=init).fit(X)
    distances = ((X[:, None] - model.cluster_centers_) ** 2).sum(axis=-1)
    np.testing.assert_array_equal(model.labels_, distances.argmin(axis=1))
    monkeypatch.setattr(_inmemory, "_keeps_center_bounds", lambda *shape: False)
    hamerly = KMeansL2(10, init=init).fit(X)
    np.testing.assert_array_equal(model.labels_, hamerly.labels_)
    assert model.inertia_ == hamerly.inertia_
