"""Review of VectorQuantizer, skclust vq, skclust report and the
reconstruction metrics (rev13b)."""

import numpy as np
import pytest

from skclust import VectorQuantizer
from skclust._cli import main
from skclust._cli import vq as vq_command
from skclust._vq import decode_codes
from skclust.datasets import make_embeddings
from skclust.metrics import (
    mean_cosine_similarity,
    neighbor_recall,
    relative_mse,
    row_cosine_similarity,
)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("spherical", [False, True])
def test_a_fortran_ordered_table_gives_the_same_codebook(spherical):
    # The in-memory fit normalized the rows in the table's own memory order:
    # the norms of a Fortran-ordered table were summed in another order, some
    # rows moved by an ulp and the same seed gave another codebook (a
    # DataFrame's to_numpy() is Fortran-ordered).
    X = make_embeddings(300, 8, random_state=0)
    fitted = [
        VectorQuantizer(8, spherical=spherical, random_state=0).fit(table)
        for table in (X, np.asfortranarray(X))
    ]
    np.testing.assert_array_equal(fitted[0].codebook_, fitted[1].codebook_)


@pytest.mark.parametrize("scale", [1e-170, 1e-300, 1e200, 1e300])
def test_euclidean_neighbor_recall_at_extreme_magnitudes(scale):
    # Worked by hand on 0, 1, 3, 7: each value's nearest other value is
    # 1, 0, 1, 3. Reversed, the rows rebuilt are 7, 3, 1, 0 and the nearest
    # other rebuilt row of each query is row 3, 2, 1, 0: only query 2 (value
    # 3, nearest row 1) finds its true neighbour. Squared distances vanished
    # below about 1e-160 (every row tied: recall 1 for the reversed table)
    # and overflowed above about 1e154 (a broadcasting error).
    X = np.array([[0.0], [1.0], [3.0], [7.0]]) * scale
    assert neighbor_recall(X, X, 1, metric="euclidean") == 1.0
    assert neighbor_recall(X, X[::-1], 1, metric="euclidean") == 0.25


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("metric", [row_cosine_similarity, relative_mse])
def test_reconstruction_metrics_refuse_nan_and_infinity(metric, which, bad):
    # They returned NaN (or inf) without a word; row_cosine_similarity's
    # docstring says its result never holds NaN.
    tables = [np.ones((3, 2)), np.ones((3, 2))]
    tables[which][1, 0] = bad
    name = ["X", "X_reconstructed"][which]
    with pytest.raises(ValueError, match=f"^{name} holds NaN or infinity"):
        metric(*tables)


def test_mean_cosine_of_no_rows_is_an_error():
    # It was NaN, with a RuntimeWarning ("Mean of empty slice").
    with pytest.raises(ValueError, match="X has no rows"):
        mean_cosine_similarity(np.empty((0, 3)), np.empty((0, 3)))


def test_decoding_refuses_a_codebook_beyond_float32():
    # A float64 codebook near 1e300 was cast to float32 infinities: the
    # decoded table was all inf, after a RuntimeWarning.
    codebook = np.array([[[1e300, 0.0], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="beyond the float32 range"):
        decode_codes(np.array([[0], [1]], dtype=np.uint8), codebook)


def test_search_queries_out_of_range_fail_before_any_fit(tmp_path, capsys):
    # With --no-normalize and a Euclidean search, queries outside the float32
    # range were refused by the search, after every k was fitted, in a
    # message that called them "X".
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(100, 4, random_state=0))
    queries = tmp_path / "queries.npy"
    np.save(queries, np.full((2, 4), 1e200))
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        capsys, "vq", table, "-k", 4, "--no-normalize", "--metric", "sqeuclidean",
        "--search", queries, "--out", out,
    )  # fmt: skip
    assert code == 2
    assert stderr.count("\n") == 1
    assert f"the largest magnitude in {queries} is 1e+200" in stderr
    assert "k=4" not in stdout  # no fit was made
    assert not out.exists()


def test_a_table_out_of_range_is_named(tmp_path, capsys):
    table = tmp_path / "table.npy"
    np.save(table, np.full((100, 4), 2.0**60))
    code, _, stderr = _run(
        capsys, "vq", table, "-k", 4, "--no-normalize", "--out", tmp_path / "out"
    )
    assert code == 2
    assert f"the largest magnitude in {table} is 1.15e+18" in stderr


def test_the_report_section_drops_k_above_a_small_table(tmp_path, monkeypatch):
    # A study table of 100 rows failed the report (k=128 is larger than the
    # number of rows) after the image and graph sections had run, where
    # skclust vq drops such default k with a note; the product quantization
    # comparison (k=256) failed too.
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "AImodel.npy", make_embeddings(100, 8, random_state=0))
    monkeypatch.setattr(vq_command, "STUDY_N_INIT", 1)
    lines = []
    vq_command.check_report_inputs(data)
    section = vq_command.report_section(tmp_path, data, 0, lines.append)
    tables = [content for kind, content in section.blocks if kind == "table"]
    assert len(tables) == 1  # no product quantization table
    assert [row["k"] for row in tables[0][0]] == [64]
    notes = [text for kind, text in section.blocks if kind == "p" and "Note" in text]
    assert len(notes) == 2
    assert "default k = 128, 256, 512 dropped" in notes[0]
    assert "product quantization comparison" in notes[1]
    assert not (tmp_path / "vq" / "vq_product_quantization.csv").exists()


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (make_embeddings(40, 8, random_state=0), "40 rows, fewer than the report's"),
        (np.ones((100, 1)), "one feature"),
        (np.r_[np.ones((5, 2)), np.zeros((1, 2)), np.ones((94, 2))], "row 5 has zero"),
    ],
)
def test_the_report_checks_its_table_before_any_section(tmp_path, table, match):
    # Each failed the vq section (the last) after the others had run.
    np.save(tmp_path / "AImodel.npy", table)
    with pytest.raises(ValueError, match=match):
        vq_command.check_report_inputs(tmp_path)


@pytest.mark.parametrize(
    ("changed", "match"),
    [
        ({"params": np.array("[1, 2]")}, "unreadable parameters"),
        ({"params": np.array("null")}, "unreadable parameters"),
        ({"n_samples_seen": np.array("many")}, "n_samples_seen is not a count"),
        ({"feature_names_in": np.array(["a"])}, "1 feature names for 4 features"),
    ],
)
def test_load_names_the_file_of_a_tampered_archive(tmp_path, changed, match):
    # Parameters that were a JSON list or null failed with an AttributeError,
    # a row count that was text with a ValueError of int() naming nothing;
    # a wrong number of feature names loaded.
    X = make_embeddings(50, 4, random_state=0)
    path = tmp_path / "index.npz"
    VectorQuantizer(4, random_state=0).fit(X).save(path)
    with np.load(path) as saved:
        arrays = {**saved, **changed}
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=f"^{path}: {match}"):
        VectorQuantizer.load(path)


def test_the_recall_note_of_a_table_too_small_for_it(tmp_path, capsys):
    # The recall column is nan for 10 rows or fewer, and the note said it
    # was measured on every row.
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(8, 4, random_state=0))
    code, stdout, stderr = _run(capsys, "vq", table, "-k", 2, "--out", tmp_path / "o")
    assert code == 0, stderr
    assert "recall@10: not measured (nan): 8 rows" in stdout
    assert "8 query rows" not in stdout


def test_the_batch_size_help_says_when_the_block_kernels_fit(capsys):
    # It said "else in memory", but --subvectors M > 1 fits by the block
    # kernels on a table of any size.
    assert main(["vq", "--help"]) == 0
    assert "or with --subvectors above 1" in " ".join(capsys.readouterr().out.split())


def test_a_named_pipe_is_not_called_missing(tmp_path, capsys):
    # A named pipe (or /dev/stdin, a device) was "no such file", as a folder
    # once was.
    import os

    pipe = tmp_path / "table.npy"
    os.mkfifo(pipe)
    code, _, stderr = _run(capsys, "vq", pipe, "-k", 2, "--out", tmp_path / "o")
    assert code == 2
    expected = f"{pipe}: is not a regular file (a pipe, device or socket)"
    assert stderr == f"skclust vq: error: {expected}; expected a file\n"


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_clusters": 100_000}, "at most 65536 codes fit in uint16"),
        ({"n_clusters": 0}, "n_clusters must be at least 1"),
        ({"n_clusters": 2.5}, "n_clusters must be an int"),
        ({"n_rows": -5}, "n_rows must be at least 0"),
        ({"n_rows": True}, "n_rows must be an int"),
        (
            {"n_subvectors": 3},
            r"n_subvectors=3 must divide the number of features \(32\)",
        ),
    ],
)
def test_memory_usage_of_refuses_what_no_quantizer_has(params, match):
    # 100,000 clusters were counted as two-byte codes, -5 rows as -5 bytes of
    # codes, 2.5 clusters as 2 and 3 subvectors of 32 features as 3 codes.
    from skclust import MemoryUsage

    with pytest.raises(ValueError, match=match):
        MemoryUsage.of(**{"n_rows": 1000, "n_features": 32, "n_clusters": 4, **params})


def test_memory_usage_of_by_hand():
    from skclust import MemoryUsage

    # 1000 x 32 float32 = 128,000 bytes; 257 x 32 x 4 = 32,896 bytes of
    # codebook; 1000 rows x 4 subvectors x 2 bytes (uint16) of codes.
    usage = MemoryUsage.of(np.int64(1000), 32, 257, n_subvectors=4)
    assert (usage.code_dtype, usage.original_bytes) == ("uint16", 128_000)
    assert (usage.codebook_bytes, usage.codes_bytes) == (32_896, 8_000)
    assert type(usage.n_rows) is int


def test_a_quantizer_saved_with_joblib_keeps_its_added_codes(tmp_path):
    # The added codes were tied to the codebook by identity, which joblib's
    # pickler does not keep (it writes every array on its own): the loaded
    # quantizer had no codes ("call add(X) first") and could not search.
    import joblib

    X = make_embeddings(300, 8, random_state=0)
    vq = VectorQuantizer(8, n_subvectors=2, random_state=0).fit(X).add(X)
    joblib.dump(vq, tmp_path / "index.joblib")
    loaded = joblib.load(tmp_path / "index.joblib")
    np.testing.assert_array_equal(loaded.codes_, vq.transform(X))
    np.testing.assert_array_equal(
        loaded.kneighbors(X[:3], 4)[1], vq.kneighbors(X[:3], 4)[1]
    )
    loaded.fit(X[:100])  # a new codebook: the codes added are dropped
    assert not hasattr(loaded, "codes_")


@pytest.mark.parametrize("budget", ["-5", "abc"])
def test_a_memory_budget_that_is_not_a_count_of_bytes(
    tmp_path, capsys, monkeypatch, budget
):
    # A negative budget was taken: files were refused as larger than -5e-09 GB.
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(20, 4, random_state=0))
    monkeypatch.setenv("SKCLUST_MEMORY_BUDGET", budget)
    code, _, stderr = _run(capsys, "vq", table, "-k", 2, "--out", tmp_path / "o")
    assert code == 2
    message = f"SKCLUST_MEMORY_BUDGET={budget!r} is not a number of bytes"
    assert stderr == f"skclust vq: error: {message}\n"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_report_paragraph_names_the_table_dtype(tmp_path, monkeypatch, dtype):
    # It called every table float32 and read "Recall@10 against exact
    # search: recall@10: ...".
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "AImodel.npy", make_embeddings(100, 8, random_state=0).astype(dtype))
    monkeypatch.setattr(vq_command, "STUDY_N_INIT", 1)
    section = vq_command.report_section(tmp_path, data, 0, lambda line: None)
    first = next(text for kind, text in section.blocks if kind == "p")
    name = np.dtype(dtype).name
    assert f"100 rows of 8 {name} values" in first
    assert ("counted at 4 bytes (float32) each" in first) == (name != "float32")
    assert "Recall@10 against exact search: 100 query rows" in first
    assert first.lower().count("recall@10") == 1
