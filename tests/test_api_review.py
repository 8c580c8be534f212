"""A demanding scikit-learn user's review of the k-means and VQ paths (review18)."""

import csv
import sys

import numpy as np
import pytest
from PIL import Image
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from skclust import KMeansL1, KMeansL2
from skclust._cli import main
from skclust.datasets import make_embeddings
from skclust.metrics import neighbor_recall


def _float32_rows(seed=0):
    rows = sparse.random(120, 6, density=0.4, format="csr", random_state=seed)
    rows.data -= 0.5
    return rows.astype(np.float32)


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_sparse_float32_rows_give_float32_centers_and_distances(Estimator):
    # Sparse float32 rows gave float64 centers and distances, where dense
    # float32 rows and scikit-learn's KMeans on the same sparse rows give
    # float32 (and the tags say transform preserves float32).
    X = _float32_rows()
    init = X[:3].toarray()
    model = Estimator(3, init=init).fit(X)
    assert model.cluster_centers_.dtype == np.float32
    assert model.transform(X).dtype == np.float32
    assert Estimator(3, init=init).fit_transform(X).dtype == np.float32
    # Sparse float64 rows still give float64 distances from float32 centers.
    assert model.transform(X.astype(np.float64)).dtype == np.float64
    # The fit of the float64 values, its centers rounded once to float32.
    wide = Estimator(3, init=init).fit(X.astype(np.float64))
    np.testing.assert_array_equal(model.labels_, wide.labels_)
    np.testing.assert_array_equal(
        model.cluster_centers_, wide.cluster_centers_.astype(np.float32)
    )
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    np.testing.assert_allclose(
        model.transform(X), wide.transform(X.astype(np.float64)), rtol=1e-6
    )


def test_sparse_float32_centers_as_scikit_learn_gives_them():
    X = _float32_rows(seed=1)
    init = X[:4].toarray()
    ours = KMeansL2(4, init=init).fit(X)
    theirs = KMeans(4, init=init, n_init=1).fit(X)
    assert ours.cluster_centers_.dtype == theirs.cluster_centers_.dtype
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6, atol=1e-7
    )


def test_sparse_float32_rows_with_fewer_distinct_rows_than_clusters():
    X = sparse.csr_matrix(np.repeat(np.eye(3, dtype=np.float32), 4, axis=0))
    with pytest.warns(ConvergenceWarning, match="duplicate centers"):
        model = KMeansL2(4, random_state=0).fit(X)
    assert model.cluster_centers_.dtype == np.float32
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def _vq(capsys, *argv):
    code = main(["vq", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["{table}"], "table.npy"),
        (["-k", "8"], "-k"),
        (["--subvectors", "2", "--no-normalize"], "--subvectors, --no-normalize"),
        (["--train-size", "all", "--n-init", "3"], "--n-init, --train-size"),
    ],
)
def test_vq_decode_refuses_what_it_would_not_use(tmp_path, capsys, extra, named):
    # skclust vq refused --codebook without --decode but ignored a table or
    # fit options given beside --decode without a word: "skclust vq
    # table.npy --decode codes.npz" decoded the archive alone.
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(40, 4, random_state=0))
    runs = tmp_path / "runs"
    assert _vq(capsys, table, "-k", 4, "--out", runs, "-q")[0] == 0
    archive = runs / "compressed_k4.npz"
    out = tmp_path / "decoded"
    argv = [a.format(table=table) for a in extra]
    code, stdout, stderr = _vq(capsys, "--decode", archive, *argv, "--out", out)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1
    assert f"{named}: not used with --decode" in stderr
    assert not out.exists()
    assert _vq(capsys, "--decode", archive, "--out", out, "-q")[0] == 0


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["-n", "5"], "-n"),
        (["--metric", "sqeuclidean"], "--metric"),
        (["-n", "3", "--metric", "inner_product"], "-n, --metric"),
    ],
)
def test_vq_search_options_without_search_are_refused(tmp_path, capsys, extra, named):
    # "-n 5" or "--metric sqeuclidean" without --search fitted every k and
    # searched nothing.
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(40, 4, random_state=0))
    out = tmp_path / "out"
    code, stdout, stderr = _vq(capsys, table, "-k", 4, *extra, "--out", out)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1
    assert f"{named}: only used with --search" in stderr
    assert not out.exists()


def test_euclidean_neighbor_recall_of_rows_far_from_the_origin():
    # The squared distances came from 2 q.r - |r|^2, which lost every digit
    # that rows near 1e8 share: the same rows moved by noise of 1e-3 scored
    # 0.05 instead of about 1, where Euclidean distances ignore the offset.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) + 1e8
    R = X + rng.normal(scale=1e-3, size=X.shape)
    found = 0
    for i in range(200):
        others = np.delete(np.arange(200), i)
        true = others[np.argsort(((X[others] - X[i]) ** 2).sum(axis=1))[:5]]
        near = others[np.argsort(((R[others] - X[i]) ** 2).sum(axis=1))[:5]]
        found += len(set(true) & set(near))
    assert found / 1000 > 0.95
    assert neighbor_recall(X, R, 5, metric="euclidean") == pytest.approx(found / 1000)


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_a_seeded_fit_does_not_depend_on_the_order_of_the_rows(Estimator, init):
    # What the seeding's draws in the merge's order buy (docs/kmeans.rst,
    # "Numerical range"): scikit-learn's KMeans draws in row order instead.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    order = rng.permutation(300)
    one = Estimator(5, init=init, random_state=0).fit(X)
    other = Estimator(5, init=init, random_state=0).fit(X[order])
    np.testing.assert_array_equal(other.labels_, one.labels_[order])
    np.testing.assert_array_equal(other.cluster_centers_, one.cluster_centers_)


class _PipeClosedAfterOneLine:
    """A stdout whose reader leaves after the first line (``| head -1``)."""

    def __init__(self):
        self.lines = 0

    def write(self, text):
        if self.lines >= 1:
            raise BrokenPipeError(32, "Broken pipe")
        self.lines += text.count("\n")
        return len(text)

    def flush(self):
        if self.lines > 1:
            raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", ["vq", "image"])
def test_a_reader_leaving_stdout_does_not_fail_the_run(
    tmp_path, capsys, monkeypatch, command
):
    # "skclust vq table.npy | head -1": the second progress line raised
    # BrokenPipeError, an OSError taken for bad input: "error: [Errno 32]
    # Broken pipe", exit 2, and none of the run's files kept.
    if command == "vq":
        source = tmp_path / "table.npy"
        np.save(source, make_embeddings(40, 4, random_state=0))
        product = "vq_memory.csv"
    else:
        source = tmp_path / "photo.png"
        pixels = np.random.default_rng(0).integers(0, 256, (6, 7, 3), np.uint8)
        Image.fromarray(pixels).save(source)
        product = "image_results.csv"
    out = tmp_path / "out"
    stdout = _PipeClosedAfterOneLine()
    monkeypatch.setattr("sys.stdout", stdout)
    assert main([command, str(source), "-k", "2", "3", "--out", str(out)]) == 0
    assert stdout.lines == 1
    assert (out / product).is_file()
    assert (out / "skclust-manifest.json").is_file()
    assert sys.stdout is stdout


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_vq_says_a_table_not_float32_is_counted_as_float32(tmp_path, capsys, dtype):
    # The memory table counts the original at 4 bytes a value (MemoryUsage);
    # the report says so of a float64 AImodel.npy, the command said nothing,
    # and a float64 file's original_mb was half its size.
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(40, 4, random_state=0).astype(dtype))
    out = tmp_path / "out"
    code, stdout, _ = _vq(capsys, table, "-k", 4, "--out", out)
    assert code == 0
    note = (
        f"note: table.npy holds {np.dtype(dtype)} values; original_mb and the "
        "ratios count them at 4 bytes (float32) each"
    )
    assert note in stdout.splitlines()
    with open(out / "vq_memory.csv") as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["original_mb"]) == round(40 * 4 * 4 / 1e6, 4)
    np.save(table, make_embeddings(40, 4, random_state=0))
    code, stdout, _ = _vq(capsys, table, "-k", 4, "--out", out, "--force")
    assert code == 0 and "note:" not in stdout


def test_vq_shows_a_warning_as_one_line_naming_the_command(tmp_path, capsys):
    # Python's two lines (file and line in skclust, then the source line
    # ").fit(X[:, cols])") came out of a table of fewer distinct rows than k.
    table = tmp_path / "table.npy"
    np.save(table, np.tile(make_embeddings(3, 4, random_state=0), (10, 1)))
    code, _, stderr = _vq(capsys, table, "-k", 4, "--out", tmp_path / "out", "-q")
    assert code == 0
    assert stderr.splitlines() == [
        "skclust vq: warning: n_clusters=4 is larger than the number of distinct "
        "rows: the codebook repeats centroids"
    ]
