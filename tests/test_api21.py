"""Small API and message loose ends: a product quantizer's iteration count,
``--help`` on a full disk, ``n_jobs`` read by ``kneighbors``, and the names
in NaN errors."""

import errno
import io
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

import skclust
from skclust import KMeansL1, KMeansL2, VectorQuantizer
from skclust._cli import main
from skclust.datasets import load_embeddings
from skclust.study import compress, kmeans_l1, kmeans_l2


def _two_codebook_blobs():
    """Blobs whose two subvectors stop after 5 and 6 iterations from
    ``init``, as scikit-learn's KMeans counts them (checked below)."""
    X, _ = make_blobs(300, n_features=4, centers=5, random_state=3)
    init = X[:3].reshape(3, 2, 2).transpose(1, 0, 2)  # (subvector, k, width)
    return X, init


def test_n_iter_is_the_largest_count_and_the_counts_per_codebook_beside_it():
    # n_iter_ was an array of one count per codebook: scikit-learn's
    # check_transformer_n_iter ("truth value ... is ambiguous") and any
    # ``if model.n_iter_ >= max_iter`` failed on it.
    X, init = _two_codebook_blobs()
    counts = [
        KMeans(3, init=init[m], n_init=1, algorithm="lloyd").fit(X[:, cols]).n_iter_
        for m, cols in enumerate([slice(0, 2), slice(2, 4)])
    ]
    assert counts == [5, 6]
    vq = VectorQuantizer(3, n_subvectors=2, normalize=False, init=init).fit(X)
    assert type(vq.n_iter_) is int
    assert vq.n_iter_ == 6
    assert vq.n_iter_per_codebook_.tolist() == [5, 6]
    assert not vq.n_iter_ >= vq.max_iter  # usable in a condition


def test_saved_quantizer_keeps_both_counts(tmp_path):
    X, init = _two_codebook_blobs()
    VectorQuantizer(3, n_subvectors=2, normalize=False, init=init).fit(X).save(
        tmp_path / "q.npz"
    )
    loaded = VectorQuantizer.load(tmp_path / "q.npz")
    assert type(loaded.n_iter_) is int
    assert loaded.n_iter_ == 6
    assert loaded.n_iter_per_codebook_.tolist() == [5, 6]


def test_a_product_quantizer_passes_check_transformer_n_iter(monkeypatch):
    # The check's table has 3 features, which 2 subvectors do not divide:
    # give it a fourth column.
    from sklearn.utils import estimator_checks

    blobs = estimator_checks.make_blobs

    def four_columns(*args, **kwargs):
        X, y = blobs(*args, **kwargs)
        return np.hstack([X, X[:, :1]]), y

    monkeypatch.setattr(estimator_checks, "make_blobs", four_columns)
    estimator_checks.check_transformer_n_iter(
        "VectorQuantizer", VectorQuantizer(3, n_subvectors=2)
    )


@pytest.mark.parametrize(
    "n_iter",
    [np.array([], dtype=int), np.array([3, 4, 5]), np.array(["a", "b"])],
    ids=["empty", "three for two codebooks", "text"],
)
def test_load_names_the_file_of_iteration_counts_that_do_not_fit(tmp_path, n_iter):
    # load takes n_iter_ as the largest count: an empty array failed in max()
    # with a message that named no file.
    X, init = _two_codebook_blobs()
    path = tmp_path / "q.npz"
    VectorQuantizer(3, n_subvectors=2, normalize=False, init=init).fit(X).save(path)
    with np.load(path) as saved:
        arrays = {**saved, "n_iter": n_iter}
    np.savez(path, **arrays)
    message = f"^{re.escape(str(path))}: n_iter is not one count per codebook$"
    with pytest.raises(ValueError, match=message):
        VectorQuantizer.load(path)


# --- --help and --version on a full disk --------------------------------------


class _FullOnWrite:
    """Standard output whose writes fail, as an unbuffered ``/dev/full``."""

    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        pass


class _FullOnFlush(io.StringIO):
    """Standard output that takes the text and fails to flush it, as a
    buffered ``/dev/full``."""

    def flush(self):
        raise OSError(errno.ENOSPC, "No space left on device")


class _ReaderGone:
    """Standard output into a pipe whose reader has exited."""

    def write(self, text):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self):
        pass


FULL = (
    "skclust: error: [Errno 28] writing to standard output: No space left on device\n"
)


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["vq", "--help"]])
@pytest.mark.parametrize("stdout", [_FullOnWrite, _FullOnFlush])
def test_help_and_version_on_a_full_disk_fail_in_one_line(
    argv, stdout, capsys, monkeypatch
):
    # argparse ignores the OSError: they exited 0, having written nothing.
    monkeypatch.setattr(sys, "stdout", stdout())
    assert main(argv) == 2
    assert capsys.readouterr().err == FULL


def test_help_into_a_pipe_whose_reader_is_gone_is_not_an_error(capsys, monkeypatch):
    # As the lines of a run (``skclust --help | head -1``).
    monkeypatch.setattr(sys, "stdout", _ReaderGone())
    assert main(["--help"]) == 0
    assert capsys.readouterr().err == ""


def test_help_is_written_as_before(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr() == (f"skclust {skclust.__version__}\n", "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_help_into_dev_full_exits_2(tmp_path):
    # Outside the checkout, whose unbuilt skclust/ would shadow the install.
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "skclust", "--help"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    assert (done.returncode, done.stderr) == (2, FULL)


# --- n_jobs read by kneighbors ------------------------------------------------


@pytest.mark.parametrize("n_jobs", [0, 1.5, True, "2"])
def test_kneighbors_validates_n_jobs_set_after_fitting(n_jobs):
    # 0 reached joblib's "n_jobs == 0 in Parallel has no meaning"; 1.5 and
    # True were taken as numbers of threads.
    X = np.random.default_rng(0).random((50, 4))
    vq = VectorQuantizer(4, random_state=0).fit(X).add(X)
    vq.set_params(n_jobs=n_jobs)
    with pytest.raises(ValueError, match="The 'n_jobs' parameter of VectorQuantizer"):
        vq.kneighbors(X[:2], 3)
    # A valid count searches as before.
    _, found = vq.set_params(n_jobs=2).kneighbors(X[:2], 1, rerank_with=X)
    assert found[:, 0].tolist() == [0, 1]


# --- the study's functions name their argument ----------------------------------


@pytest.mark.parametrize(
    ("function", "needs"),
    [(kmeans_l2, "KMeansL2"), (kmeans_l1, "KMeansL1")],
    ids=["kmeans_l2", "kmeans_l1"],
)
@pytest.mark.parametrize(
    ("value", "kind"), [(np.nan, "NaN"), (-np.inf, "infinity")], ids=["nan", "inf"]
)
def test_the_study_kmeans_name_pixels_in_a_nan_error(function, needs, value, kind):
    # They said "X holds NaN ...", the estimator's name for its argument.
    pixels = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [250.0, 250.0, 250.0]]
    pixels[2][1] = value
    message = f"^pixels holds {kind} at row 2, column 1: {needs} needs finite values$"
    with pytest.raises(ValueError, match=message):
        function(pixels, 2, random_state=0)


def test_the_study_kmeans_give_the_labels_they_gave():
    # Hand-worked: the two dark pixels and the two light ones.
    pixels = np.array([[0, 0, 0], [2, 2, 2], [250, 250, 250], [252, 252, 252]])
    for function in (kmeans_l2, kmeans_l1):
        labels, centers = function(pixels, 2, random_state=0)
        assert labels.shape == (4, 1)
        assert labels[0, 0] == labels[1, 0] != labels[2, 0] == labels[3, 0]
        assert_allclose(np.sort(centers[:, 0]), [1.0, 251.0])


@pytest.mark.parametrize("shape", [(4, 3), (2, 2, 3)], ids=["rows", "image"])
def test_compress_names_pixels_in_its_errors(shape):
    # It said "image: holds NaN ...", ImageQuantizer's word.
    pixels = np.zeros(12).reshape(shape)
    pixels.flat[4] = np.nan
    with pytest.raises(ValueError, match=r"^pixels: holds NaN or infinite pixel"):
        compress(pixels, 2, random_state=0)
    pixels.flat[4] = 300.0
    with pytest.raises(ValueError, match=r"^pixels: pixel values must lie in \[0, 255"):
        compress(pixels, 2, random_state=0)


def test_compress_of_a_narrow_grey_image_is_not_taken_for_rgb_rows():
    # A grey image 3 pixels wide, checked and then given to ImageQuantizer as
    # (height, width), warned that it looked like rows of RGB pixels.
    pixels = np.arange(15, dtype=float).reshape(5, 3, 1) * 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compress(pixels, 2, random_state=0)
    assert result["img"].shape == (5, 3, 1)
    assert sorted(set(result["class"].ravel().tolist())) == [1, 2]


# --- NaN in tables read in blocks, worded as in memory --------------------------


@pytest.fixture
def table_with_nan(tmp_path):
    X = np.random.default_rng(6).normal(size=(300, 4))
    X[257, 2] = np.nan
    np.save(tmp_path / "X.npy", X)
    return X, np.load(tmp_path / "X.npy", mmap_mode="r")


@pytest.mark.parametrize(
    "estimator",
    [
        KMeansL2(3, batch_size=100),
        KMeansL1(3, batch_size=100),
        VectorQuantizer(3, batch_size=100),
    ],
    ids=["KMeansL2", "KMeansL1", "VectorQuantizer"],
)
def test_a_memory_map_read_in_blocks_words_nan_as_an_array_does(
    estimator, table_with_nan
):
    # It said "row 257 holds NaN or infinity"; the array, loaded, says:
    X, mapped = table_with_nan
    name = type(estimator).__name__
    message = f"^X holds NaN at row 257, column 2: {name} needs finite values$"
    with pytest.raises(ValueError, match=message):
        estimator.fit(np.asarray(X))
    with pytest.raises(ValueError, match=message):
        estimator.fit(mapped)
    # And after a fit on good rows, by the methods that read a map in blocks.
    estimator.fit(X[:200])
    method = estimator.transform if name == "VectorQuantizer" else estimator.predict
    with pytest.raises(ValueError, match=message):
        method(mapped)


def test_a_dask_array_words_nan_as_an_array_does(table_with_nan):
    da = pytest.importorskip("dask.array")
    X, _ = table_with_nan
    message = "^X holds NaN at row 257, column 2: KMeansL2 needs finite values$"
    with pytest.raises(ValueError, match=message):
        KMeansL2(3).fit(da.from_array(X, chunks=(100, 4)))


def test_load_embeddings_words_nan_as_the_estimators_do(table_with_nan, tmp_path):
    path = tmp_path / "X.npy"
    message = f"^{re.escape(str(path))}: holds NaN at row 257, column 2: "
    with pytest.raises(ValueError, match=message):
        load_embeddings(path, mmap_mode="r")
