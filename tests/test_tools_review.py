"""Corner cases found by an adversarial review of the metrics, the model
selection helpers, the loaders, the study's functions and the ``report``,
``demo`` and ``verify`` commands.

Each test reproduces one finding: it failed (a wrong number, a destroyed
file, an error that did not say what was wrong) before the fix.
"""

import numpy as np
import pytest
from scipy import sparse

from skclust import KMeansL2
from skclust._cli import main
from skclust.datasets import (
    graph_from_adjacency,
    graph_from_edges,
    load_embeddings,
    make_embeddings,
    read_edge_list,
    read_graph,
    study_data_dir,
    study_file,
)
from skclust.metrics import (
    conductance,
    image_mse,
    label_agreement,
    mismatch_rate,
    modularity,
    neighbor_recall,
    palette_image_size,
    psnr,
    relative_mse,
)
from skclust.model_selection import elbow, knee_index, silhouette_scorer
from skclust.study import compress, compress_embeddings


@pytest.mark.parametrize("mode", ["w+", "r+", "c", "x"])
def test_load_embeddings_never_opens_the_table_for_writing(tmp_path, mode):
    # mmap_mode="w+" went to np.load, which created the file anew: the
    # table the user asked to read was destroyed.
    path = tmp_path / "table.npy"
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(path, table)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="mmap_mode must be None or 'r'"):
        load_embeddings(path, mmap_mode=mode)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(load_embeddings(path, mmap_mode="r"), table)


def test_compress_embeddings_takes_the_codebook_sizes_from_a_generator():
    # ks was iterated twice (checked, then fitted): a generator was used up
    # by the checks and nothing was fitted, silently.
    X = make_embeddings(200, 8, random_state=0)
    quiet = {"n_init": 1, "log": lambda line: None}
    from_list = compress_embeddings(X, [8, 4], **quiet)
    from_generator = compress_embeddings(X, (k for k in [8, 4]), **quiet)
    assert [row["k"] for row in from_generator.rows] == [4, 8]
    for a, b in zip(from_list.rows, from_generator.rows, strict=True):
        assert {**a, "seconds": 0} == {**b, "seconds": 0}


@pytest.mark.parametrize("queries", [0, -5, 2.5])
def test_compress_embeddings_refuses_a_bad_number_of_recall_queries(queries):
    # 0 failed deep inside the quantizer ("Found array with 0 sample(s)"),
    # -5 in numpy's random choice.
    X = make_embeddings(200, 8, random_state=0)
    with pytest.raises(ValueError, match=r"recall_queries must be (an int|at least 1)"):
        compress_embeddings(X, [4], recall_queries=queries, log=lambda line: None)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_neighbors": 0}, "n_neighbors must be at least 1; got 0"),
        ({"n_neighbors": 2.5}, "n_neighbors must be an int; got 2.5"),
        ({"n_neighbors": True}, "n_neighbors must be an int; got True"),
        ({"n_neighbors": 20}, r"n_neighbors=20 needs at least 21 rows .* got 20"),
        ({"n_queries": 0}, "n_queries must be at least 1; got 0"),
        ({"n_queries": -3}, "n_queries must be at least 1; got -3"),
        ({"n_queries": 2.5}, "n_queries must be an int; got 2.5"),
    ],
)
def test_neighbor_recall_names_a_bad_count(params, match):
    # n_queries=0 divided by zero; 2.5 and True failed inside numpy; 0
    # neighbours said it "needs between 2 and n_samples - 1".
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=match):
        neighbor_recall(X, X, **{"n_neighbors": 2, **params})


@pytest.mark.parametrize("which", [0, 1])
def test_neighbor_recall_refuses_nan(which):
    # A NaN in either table failed with "could not broadcast input array".
    X = np.random.default_rng(0).normal(size=(20, 3))
    tables = [X, X.copy()]
    tables[which][3, 1] = np.nan
    name = ["X", "X_reconstructed"][which]
    with pytest.raises(ValueError, match=f"^{name} holds NaN or infinity"):
        neighbor_recall(*tables, n_neighbors=2)


@pytest.mark.parametrize(
    "args, match",
    [
        ((100, 0), "n_colors must be at least 1; got 0"),
        ((-5, 4), "n_pixels must be at least 1; got -5"),
        ((10, 2.5), "n_colors must be an int; got 2.5"),
        ((10, 4, 0), "n_channels must be at least 1; got 0"),
    ],
)
def test_palette_image_size_names_a_bad_count(args, match):
    # n_colors=0 divided by zero; negative pixels and 2.5 colours gave
    # negative or fractional byte counts.
    with pytest.raises(ValueError, match=match):
        palette_image_size(*args)


@pytest.mark.parametrize(
    "x, y, match",
    [
        ([1, 2, 2, 3], [10, 5, 4, 1], "strictly increasing"),
        ([3, 1, 2], [1, 10, 5], "strictly increasing"),
        ([1, 2, 3, 4], [1, 2, 3], r"same length; got shapes \(4,\) and \(3,\)"),
        ([1, 2, 3, 4], [10, np.nan, 3, 1], "finite"),
        (1, 1, "1-D"),
    ],
)
def test_knee_index_refuses_what_it_cannot_read(x, y, match):
    # A repeated x divided by zero and a falling one gave a wrong-signed
    # slope, both answered silently; unequal lengths failed in numpy's
    # broadcasting, a scalar with an IndexError, a NaN was ignored.
    with pytest.raises(ValueError, match=match):
        knee_index(x, y)


def _blobs():
    from sklearn.datasets import make_blobs

    return make_blobs(120, centers=3, cluster_std=0.5, random_state=0)[0]


def test_elbow_fits_a_repeated_k_once():
    # A repeated k gave a zero step in k: a division by zero in the knee.
    repeated = elbow(KMeansL2(random_state=0), _blobs(), [2, 3, 3, 4, 2, 5])
    plain = elbow(KMeansL2(random_state=0), _blobs(), [2, 3, 4, 5])
    assert repeated.n_clusters.tolist() == [2, 3, 4, 5]
    np.testing.assert_array_equal(repeated.inertia, plain.inertia)
    assert repeated.best_n_clusters == plain.best_n_clusters == 3


@pytest.mark.parametrize(
    "ks, match",
    [
        ([1.5, 2, 3], r"n_clusters must be an int; got 1\.5"),
        ([True, 2, 3], "n_clusters must be an int; got True"),
        ([2, 3, 3], r"at least 3 distinct values of k; got \[2, 3\]"),
    ],
)
def test_elbow_checks_the_values_of_k_before_fitting(ks, match, monkeypatch):
    # 1.5 was fitted as k=1; a list too short for a knee was refused only
    # after every fit.
    monkeypatch.setattr(KMeansL2, "fit", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(ValueError, match=match):
        elbow(KMeansL2(random_state=0), _blobs(), ks)


def test_silhouette_scorer_matches_scikit_learn_on_a_sample():
    from sklearn.metrics import silhouette_score

    X = _blobs()
    km = KMeansL2(3, random_state=0).fit(X)
    expected = silhouette_score(X, km.labels_, sample_size=50, random_state=7)
    assert silhouette_scorer(sample_size=50, random_state=7)(km, X) == expected


def test_silhouette_scorer_on_a_sample_of_one_cluster_or_all_singletons():
    # The whole data had 3 clusters, so the sample was passed on, and
    # scikit-learn raised: "Number of labels is 2. Valid values are 2 to
    # n_samples - 1" for 2 points in 2 clusters, "Number of labels is 1"
    # for a sample inside one cluster.
    X = _blobs()
    km = KMeansL2(3, random_state=0).fit(X)
    scores = {
        silhouette_scorer(sample_size=2, random_state=s)(km, X) for s in range(20)
    }
    # Two points in two clusters: each alone, silhouette 0; in one: -1.
    assert scores == {0.0, -1.0}


@pytest.mark.parametrize("size", [0, 1, -2, 2.5, True])
def test_silhouette_scorer_refuses_a_bad_sample_size_at_once(size):
    # It failed only when GridSearchCV scored, once per fold.
    with pytest.raises(ValueError, match=r"sample_size must be (an int|at least 2)"):
        silhouette_scorer(sample_size=size)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_data_folder_that_is_a_file_or_empty_is_named_so(tmp_path, monkeypatch):
    # A file was "data folder not found" (it is there); --data "" searched
    # the current folder.
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    afile = tmp_path / "nodes.txt"
    afile.write_text('1\t"a"\t0\n')
    with pytest.raises(NotADirectoryError, match=r"nodes\.txt: is a file; .* --data"):
        study_data_dir(afile)
    monkeypatch.setenv("SKCLUST_DATA", str(afile))
    with pytest.raises(NotADirectoryError, match=r"is a file; .* SKCLUST_DATA"):
        study_data_dir()
    with pytest.raises(
        FileNotFoundError, match=r"empty data folder name \(from --data"
    ):
        study_data_dir("")
    (tmp_path / "edges.txt").mkdir()
    with pytest.raises(IsADirectoryError, match=r"edges\.txt: is a folder"):
        study_file("edges.txt", tmp_path)


@pytest.mark.parametrize("field", ["1_0", "\u0661\u0660"])
def test_node_ids_are_plain_decimal_integers(tmp_path, field):
    # int() read "1_0" and Arabic-Indic digits as 10: a typo named node 10.
    nodes = tmp_path / "nodes.txt"
    nodes.write_text(f'{field}\t"a"\t0\n10\t"b"\t1\n', encoding="utf-8")
    edges = tmp_path / "edges.txt"
    edges.write_text("10 10\n")
    with pytest.raises(ValueError, match=r"nodes\.txt, line 1: node id .* not an int"):
        read_graph(nodes, edges)
    edges.write_text(f"10 {field}\n")
    with pytest.raises(ValueError, match=r"edges\.txt, line 1: "):
        read_edge_list(edges)


def test_read_graph_still_reads_signs(tmp_path):
    nodes = tmp_path / "nodes.txt"
    nodes.write_text('-3\t"a"\t+0\n+4\t"b"\t-1\n')
    edges = tmp_path / "edges.txt"
    edges.write_text("-3 4\n")
    graph = read_graph(nodes, edges)
    assert graph.node_ids.tolist() == [-3, 4]
    assert graph.labels.tolist() == [0, -1]
    assert graph.n_edges == 1


def test_report_names_every_missing_study_file_before_any_fit(tmp_path, capsys):
    # Each section found its own file missing after the others had run:
    # three error lines, a report without those sections committed, exit 2.
    data = tmp_path / "data"
    data.mkdir()
    (data / "nodes.txt").write_text('1\t"a"\t0\n')
    (data / "edges.txt").write_text("1 1\n")
    out = tmp_path / "report"
    code, _, stderr = _run(capsys, "report", "--data", data, "--out", out, "-q")
    assert code == 2
    assert stderr.count("\n") == 1
    assert "lacks football.bmp, parrots.png, AImodel.npy" in stderr
    assert not out.exists()


def _study_folder(folder):
    """The five study files, small and valid."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("football.bmp", "parrots.png"):
        pixels = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)
    # As many rows as the smallest k of the report (64), which refuses fewer.
    np.save(folder / "AImodel.npy", rng.standard_normal((64, 8)))
    (folder / "nodes.txt").write_text(
        "".join(f'{i}\t"n{i}"\t{i % 2}\tsrc\n' for i in range(1, 7))
    )
    (folder / "edges.txt").write_text("1\t2\n2\t3\n4\t5\n5\t6\n3\t4\n")
    return folder


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("edges.txt", "1\t2\n2\tx\n", "edges.txt, line 2"),
        ("nodes.txt", '1\t"a"\t0\tsrc\nbad line\n', "nodes.txt, line 2"),
        ("AImodel.npy", "not a numpy file", "AImodel.npy"),
        ("parrots.png", "not a picture", "parrots.png"),
    ],
)
def test_report_reads_every_study_file_before_any_fit(
    tmp_path, capsys, name, content, message
):
    # A malformed file failed its section minutes in, after the others had
    # run: an error line, a report without that section, exit 2.
    data = _study_folder(tmp_path / "data")
    (data / name).write_text(content)
    out = tmp_path / "report"
    code, _, stderr = _run(capsys, "report", "--data", data, "--out", out, "-q")
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_a_report_section_that_fails_leaves_no_report(tmp_path, capsys, monkeypatch):
    # After the input checks a section can still fail (a full disk, too
    # little memory): the report used to be written without that section,
    # the other sections' files committed, and the run exit 2.
    from skclust._cli import vq

    def full_disk(out_dir, data, seed, log):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vq, "report_section", full_disk)
    data = _study_folder(tmp_path / "data")
    out = tmp_path / "report"
    code, stdout, stderr = _run(capsys, "report", "--data", data, "--out", out, "-q")
    assert code == 2
    # The image section's own lines come first (the 42-colour pictures skip
    # k = 48); the failure is the last line.
    last = stderr.splitlines()[-1]
    assert last == (
        "skclust report: error: the vq section failed, no report written: "
        "[Errno 28] No space left on device"
    )
    assert "Traceback" not in stderr
    # The folder was made and locked for the run; nothing of it was committed.
    assert not (out / "index.html").exists()
    assert not list(out.rglob("*.png")) and not list(out.rglob("*.csv"))
    assert "wrote" not in stdout


def test_verify_says_a_file_is_not_a_folder(tmp_path, capsys):
    # It said "no such folder" of a file that is there.
    afile = tmp_path / "out"
    afile.write_text("x")
    code, _, stderr = _run(capsys, "verify", afile)
    assert code == 2
    assert stderr.strip().endswith("out: is a file; expected an output folder")


def test_demo_refuses_more_clusters_than_colours(capsys):
    # k above the photograph's distinct colours ran, printed two multi-line
    # Python warnings and an inertia of 0, and exited 0.
    from sklearn.datasets import load_sample_image

    pixels = load_sample_image("china.jpg").reshape(-1, 3)
    n_colours = len(np.unique(pixels, axis=0))
    code, _, stderr = _run(capsys, "demo", "-k", n_colours + 1)
    assert code == 2
    assert stderr == (
        f"skclust demo: error: -k {n_colours + 1}: china.jpg has only "
        f"{n_colours} distinct colours (more clusters than colours)\n"
    )


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1.0, 1e160, 1e200])
def test_relative_mse_does_not_depend_on_the_scale(scale):
    # Squares overflowed at 1e200 (inf / inf: NaN) and vanished at 1e-200
    # ("X is all zeros"); the ratio of a scaled pair is the pair's.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    R = X + rng.normal(scale=0.1, size=X.shape)
    expected = np.sum((X - R) ** 2) / np.sum(X**2)
    assert relative_mse(X * scale, R * scale) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("max_value", [0, -255, np.nan, np.inf])
def test_psnr_refuses_a_peak_that_is_not_positive(max_value):
    # 0 failed with "math domain error", -255 gave the PSNR of +255.
    with pytest.raises(ValueError, match="max_value must be a positive number"):
        psnr([0, 10], [0, 0], max_value=max_value)


def test_graph_from_edges_refuses_a_fractional_node_count():
    # n_nodes=3.7 was truncated to 3 nodes.
    with pytest.raises(ValueError, match=r"n_nodes must be an int; got 3\.7"):
        graph_from_edges([[0, 1]], n_nodes=3.7)
    assert graph_from_edges([[0, 1]], n_nodes=np.int32(3)).n_nodes == 3


def test_graph_from_edges_names_a_uint64_index_past_int64():
    # It wrapped to a negative index: "found -9223372036854775803 to 0".
    edges = np.array([[0, 2**63 + 5]], dtype=np.uint64)
    with pytest.raises(ValueError, match=f"node index {2**63 + 5}, above"):
        graph_from_edges(edges)


def test_report_header_command_names_a_data_folder_given_by_the_environment(
    tmp_path,
):
    # With SKCLUST_DATA the command shown had no --data: run as shown, it
    # made a report of the embedded defaults.
    from argparse import Namespace
    from datetime import UTC, datetime

    from skclust._cli.report import run_header

    args = Namespace(out="rep", seed=3, data=None, force=False)
    header = run_header(args, tmp_path, 1.0, datetime.now(UTC))
    assert header["command"] == f"skclust report --out rep --seed 3 --data {tmp_path}"
    assert header["data"] == str(tmp_path)


def test_compress_refuses_a_boolean_metric_and_other_shapes():
    # norm_distance=True was taken as 1 (Manhattan); a 4-D array was
    # flattened into one row of pixels.
    pixels = np.array([[0, 0, 0], [2, 2, 2], [250, 250, 250], [252, 252, 252]])
    with pytest.raises(ValueError, match="norm_distance must be 1 or 2; got True"):
        compress(pixels, 2, True)
    with pytest.raises(ValueError, match=r"pixels must be of shape .* \(1, 1, 4, 3\)"):
        compress(pixels.reshape(1, 1, 4, 3), 2)
    result = compress(pixels.reshape(2, 2, 3), 2, 1, random_state=0)
    assert result["img"].shape == (2, 2, 3)
    assert sorted(result["class"].ravel().tolist()) == [1, 1, 2, 2]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"noise": np.nan}, "noise must be a finite number >= 0; got nan"),
        ({"noise": np.inf}, "noise must be a finite number >= 0; got inf"),
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"n_samples": 10.5}, r"n_samples must be an int; got 10\.5"),
        ({"n_topics": 0}, "n_topics must be at least 1; got 0"),
        ({"rank": 1.5}, r"rank must be an int; got 1\.5"),
        ({"rank": 9}, "rank=9 must be between 1 and n_features=8"),
        ({"n_features": 0}, "n_features must be at least 1; got 0"),
    ],
)
def test_make_embeddings_names_a_bad_parameter(params, match):
    # noise=NaN or inf returned a table of NaN or infinity; floats failed in
    # numpy with "'float' object cannot be interpreted as an integer".
    with pytest.raises(ValueError, match=match):
        make_embeddings(**{"n_samples": 10, "n_features": 8, **params})


def test_unsortable_labels_are_named():
    # numpy's TypeError "'<' not supported between instances of 'NoneType'
    # and 'int'" named neither the argument nor the cause.
    with pytest.raises(ValueError, match=r"labels_pred mixes .* \(NoneType, int\)"):
        mismatch_rate([0, 1, 1], [1, None, 2])
    A = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"^labels mixes .* \(NoneType, int\)"):
        modularity(A, [None, 1])
    assert mismatch_rate(["a", "b", "b"], [1, 0, 0]) == 0.0


@pytest.mark.parametrize(
    "score",
    [
        lambda A: graph_from_adjacency(A),
        lambda A: modularity(A, [0, 0, 1]),
        lambda A: conductance(A, [0, 0, 1]),
    ],
)
def test_complex_weights_are_refused(score):
    # scipy cast them to real with a warning: [[0, 1j], ...] lost its edges,
    # and 1 + 1j counted as 1.
    A = np.array([[0, 1 + 1j, 1], [1 + 1j, 0, 1], [1, 1, 0]])
    with pytest.raises(ValueError, match="complex"):
        score(A)
    with pytest.raises(ValueError, match="complex"):
        score(sparse.csr_array(A))


@pytest.mark.parametrize("argument", ["labels_true", "labels_pred"])
def test_nan_labels_are_named(argument):
    labels = {"labels_true": [0, 1, 1], "labels_pred": [0, 1, 0]}
    labels[argument] = [0.0, np.nan, 1.0]
    with pytest.raises(ValueError, match=f"{argument} holds NaN"):
        label_agreement(**labels)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_image_scores_refuse_values_that_are_not_finite(bad):
    # NaN pixels gave an MSE and a PSNR of NaN.
    original = np.zeros((2, 2, 3))
    reconstructed = original.copy()
    reconstructed[0, 0, 0] = bad
    for score in (image_mse, psnr):
        with pytest.raises(ValueError, match="NaN or infinite"):
            score(original, reconstructed)
