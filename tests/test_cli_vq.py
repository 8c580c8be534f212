"""The ``skclust vq`` command: outputs, decoding, and one-line input errors."""

import csv

import numpy as np
import pytest

from conftest import study_file
from skclust._cli import main
from skclust._vq import decode_codes
from skclust.datasets import make_embeddings


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _table(tmp_path, n=300, d=8, name="table.npy"):
    path = tmp_path / name
    np.save(path, make_embeddings(n, d, random_state=0))
    return path


def test_vq_writes_table_plot_and_codes(tmp_path, capsys):
    table = _table(tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        capsys, "vq", table, "-k", 8, 16, "--n-init", 2, "--out", out
    )
    assert code == 0, stderr
    assert stderr == ""
    assert sum(line.startswith("table.npy k=") for line in stdout.splitlines()) == 2
    with open(out / "vq_memory.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["k"]) for r in rows] == [8, 16]
    # 300 x 8 float32 = 9600 bytes; k=16: 16 x 8 x 4 + 300 = 812 bytes.
    assert rows[1]["original_mb"] == "0.0096"
    assert rows[1]["compressed_mb"] == "0.0008"
    assert float(rows[1]["ratio"]) == pytest.approx(9600 / 812, abs=1e-3)
    assert 0 < float(rows[1]["cosine"]) <= 1
    assert 0 <= float(rows[1]["recall_at_10"]) <= 1
    header = (out / "vq_memory.md").read_text().split("\n")[0]
    assert [cell.strip() for cell in header.split("|")][1:3] == ["k", "subvectors"]
    assert (out / "vq_tradeoff.png").stat().st_size > 0
    with np.load(out / "compressed_k16.npz", allow_pickle=False) as saved:
        assert saved["codes"].shape == (300, 1)
        assert saved["codes"].dtype == np.uint8
        assert saved["codebook"].shape == (1, 16, 8)
    assert not list(out.rglob("*.part"))


def test_decode_rebuilds_the_table(tmp_path, capsys):
    table = _table(tmp_path)
    out = tmp_path / "out"
    assert _run(capsys, "vq", table, "-k", 16, "--subvectors", 2, "--out", out)[0] == 0
    saved = out / "compressed_k16_m2.npz"
    code, stdout, stderr = _run(capsys, "vq", "--decode", saved, "--out", out)
    assert code == 0, stderr
    assert "compressed_k16_m2_decoded.npy (300 x 8 float32)" in stdout
    decoded = np.load(out / "compressed_k16_m2_decoded.npy", allow_pickle=False)
    with np.load(saved) as archive:
        codebook, codes = archive["codebook"], archive["codes"]
    by_hand = np.hstack([codebook[m][codes[:, m]] for m in range(2)])
    np.testing.assert_array_equal(decoded, by_hand)
    assert decoded.dtype == np.float32 and decoded.shape == (300, 8)


def test_decode_refuses_codes_of_another_codebook(tmp_path, capsys):
    table = _table(tmp_path)
    out = tmp_path / "out"
    _run(capsys, "vq", table, "-k", 8, 64, "--out", out)
    # Another run into the same folder would replace the first one's files.
    pq = tmp_path / "pq"
    _run(capsys, "vq", table, "-k", 8, "--subvectors", 2, "--out", pq)
    decode_out = tmp_path / "decoded"
    cases = [
        # codes up to 63 against a codebook of 8 centroids: range mismatch
        (out / "compressed_k64.npz", out / "compressed_k8.npz", "outside 0..7"),
        # one code column against two codebooks: shape mismatch
        (out / "compressed_k8.npz", pq / "compressed_k8_m2.npz", "do not fit"),
    ]
    for codes, codebook, message in cases:
        code, _, stderr = _run(
            capsys, "vq", "--decode", codes, "--codebook", codebook,
            "--out", decode_out,
        )  # fmt: skip
        assert code == 2
        assert len(stderr.strip().splitlines()) == 1
        assert stderr.startswith("skclust vq: error: ") and message in stderr
    assert not decode_out.exists()


@pytest.mark.parametrize(
    "array, message",
    [
        (np.array([{"a": 1}], dtype=object), "pickled Python objects"),
        (np.ones((5, 2, 2)), "expected a 2-D table"),
        (np.arange(12).reshape(6, 2), "expected floating-point"),
        (np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 1.0]]), "NaN at row 1, column 0"),
    ],
)
def test_bad_tables_exit_2_and_write_nothing(tmp_path, capsys, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array, allow_pickle=True)
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, "vq", path, "-k", 2, "--out", out)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith(f"skclust vq: error: {path}: ")
    assert message in stderr
    assert not out.exists()


def test_default_sizes_above_the_rows_are_dropped_with_a_note(tmp_path, capsys):
    # The default k = 64 .. 512 on a 100-row table stopped with "k=128 is
    # larger than the number of rows", a k the user never typed.
    table = _table(tmp_path, n=100)
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, "vq", table, "--out", out)
    assert code == 0
    assert "has 100 rows; default k = 128, 256, 512 dropped" in stdout + stderr
    assert (out / "compressed_k64.npz").exists()
    assert not (out / "compressed_k128.npz").exists()
    small = _table(tmp_path, n=10, name="small.npy")
    code, _, stderr = _run(capsys, "vq", small, "--out", tmp_path / "out2")
    assert code == 2
    assert stderr.rstrip().endswith(
        "10 rows, fewer than the smallest default codebook size (64); "
        "give sizes with -k"
    )


def test_k_larger_than_the_rows_writes_nothing(tmp_path, capsys):
    table = _table(tmp_path, n=50)
    out = tmp_path / "out"
    code, _, stderr = _run(capsys, "vq", table, "-k", 8, 64, "--out", out)
    assert code == 2
    assert "k=64 is larger than the number of rows (50)" in stderr
    assert not out.exists()
    code, _, stderr = _run(capsys, "vq", table, "-k", 0, "--out", out)
    assert code == 2 and "positive integer" in stderr
    code, _, stderr = _run(
        capsys, "vq", table, "-k", 8, "--subvectors", 3, "--out", out
    )
    # The option, not the estimator's parameter.
    assert code == 2 and "--subvectors 3 does not divide its 8 features" in stderr
    assert not out.exists()


def test_decode_errors_on_bad_archives(tmp_path, capsys):
    out = tmp_path / "out"
    np.savez(tmp_path / "nocodes.npz", codebook=np.ones((1, 2, 2), np.float32))
    np.save(tmp_path / "plain.npy", np.ones((2, 2)))
    for path, message in [
        (tmp_path / "nocodes.npz", "has no 'codes' array"),
        (tmp_path / "plain.npy", "not an .npz archive"),
        (tmp_path / "missing.npz", "no such file"),
    ]:
        code, _, stderr = _run(capsys, "vq", "--decode", path, "--out", out)
        assert code == 2 and message in stderr and stderr.count("\n") == 1
    assert not out.exists()


def test_vq_without_a_file_runs_on_a_generated_table(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    out = tmp_path / "out"
    code, stdout, _ = _run(capsys, "vq", "-k", 16, "--n-init", 1, "--out", out)
    assert code == 0
    assert "generated table (2000 x 32) k=16" in stdout


def test_vq_on_the_study_table_gives_the_study_memory(tmp_path, capsys):
    data = study_file("AImodel.npy").parent
    out = tmp_path / "out"
    # The study's ten starts per k (the command's default is one).
    code, stdout, stderr = _run(
        capsys, "vq", "-k", 64, 128, 256, 512, "--n-init", 10, "--data", data,
        "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    assert sum(line.startswith("AImodel.npy k=") for line in stdout.splitlines()) == 4
    with open(out / "vq_memory.csv") as handle:
        rows = {int(r["k"]): r for r in csv.DictReader(handle)}
    assert rows[256]["original_mb"] == "0.1280"
    assert rows[256]["compressed_mb"] == "0.0338"
    assert rows[256]["mb_ratio"] == "3.787"
    assert rows[512]["code_dtype"] == "uint16"
    assert rows[512]["compressed_mb"] == "0.0675"
    cosines = [float(rows[k]["cosine"]) for k in (64, 128, 256, 512)]
    assert cosines == sorted(cosines)
    # The study's figures for a default scikit-learn run, to 3 decimals.
    assert cosines >= [0.888, 0.902, 0.924, 0.959]


def test_batch_size_uses_the_block_kernels(tmp_path, capsys):
    table = _table(tmp_path, n=500)
    out = tmp_path / "out"
    code, _, stderr = _run(
        capsys, "vq", table, "-k", 8, "--batch-size", 128, "--n-init", 2,
        "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    with np.load(out / "compressed_k8.npz") as saved:
        assert saved["codes"].shape == (500, 1)


def test_report_section(tmp_path, monkeypatch):
    from skclust._cli import vq

    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    monkeypatch.setattr(vq, "STUDY_K", [8, 16])
    monkeypatch.setattr(vq, "STUDY_N_INIT", 1)
    monkeypatch.setattr(vq, "REPORT_SUBVECTORS", [1, 4])
    lines = []
    section = vq.report_section(tmp_path, None, 0, lines.append)
    assert section.title == "Embedding compression by vector quantization"
    tables = [content for kind, content in section.blocks if kind == "table"]
    assert [row["k"] for row in tables[0][0]] == [8, 16]
    assert [row["subvectors"] for row in tables[1][0]] == [1, 4]
    figures = [content for kind, content in section.blocks if kind == "figure"]
    assert figures and figures[0][0].is_file()
    assert figures[0][0].parent == tmp_path / "vq"
    assert len(lines) == 4  # one line per fit


def test_search_writes_neighbors_and_distances_for_each_k(tmp_path, capsys):
    table = _table(tmp_path, n=300, d=8)
    queries = make_embeddings(20, 8, random_state=5)
    np.save(tmp_path / "queries.npy", queries)
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        capsys, "vq", table, "-k", 8, 16, "--subvectors", 2, "--n-init", 1,
        "--search", tmp_path / "queries.npy", "-n", 5, "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    assert "nearest rows (cosine) of 20 queries" in stdout
    unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    for k in (8, 16):
        indices = np.load(out / f"neighbors_k{k}_m2.npy", allow_pickle=False)
        distances = np.load(out / f"distances_k{k}_m2.npy", allow_pickle=False)
        assert indices.shape == distances.shape == (20, 5)
        assert indices.dtype == np.int64
        # Brute force over the table rebuilt from the saved codes.
        with np.load(out / f"compressed_k{k}_m2.npz") as saved:
            rebuilt = decode_codes(saved["codes"], saved["codebook"])
        rebuilt = rebuilt.astype(np.float64)
        cosine = 1 - unit @ rebuilt.T / np.linalg.norm(rebuilt, axis=1)
        np.testing.assert_allclose(
            distances, np.take_along_axis(cosine, indices, axis=1), atol=1e-5
        )
        np.testing.assert_allclose(distances, np.sort(cosine, axis=1)[:, :5], atol=1e-5)


def test_search_refuses_bad_queries_before_writing(tmp_path, capsys):
    table = _table(tmp_path, n=50, d=8)
    np.save(tmp_path / "narrow.npy", np.ones((3, 4)))
    np.save(tmp_path / "good.npy", np.ones((3, 8)))
    out = tmp_path / "out"
    cases = [
        (["--search", tmp_path / "narrow.npy"], "queries of 4 features"),
        (["--search", tmp_path / "good.npy", "-n", 51], "-n 51 is larger"),
        (["--search", tmp_path / "missing.npy"], "missing.npy"),
        (["--search", tmp_path / "good.npy", "--decode", table], "--decode"),
    ]
    for extra, message in cases:
        code, stdout, stderr = _run(capsys, "vq", table, "-k", 4, "--out", out, *extra)
        assert code == 2 and stdout == ""
        assert stderr.count("\n") == 1 and message in stderr
        assert not out.exists()


@pytest.mark.parametrize(
    ("size", "rows"), [("500", 500), ("auto", 256 * 4), ("all", 3000), ("9999", 3000)]
)
def test_train_size_samples_the_rows_each_k_is_fitted_on(tmp_path, capsys, size, rows):
    table = _table(tmp_path, n=3000)
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        capsys, "vq", table, "-k", 4, "--train-size", size, "--out", out
    )
    assert code == 0, stderr
    with open(out / "vq_memory.csv") as handle:
        (row,) = list(csv.DictReader(handle))
    assert int(row["train_rows"]) == rows
    # Every row is encoded whatever the sample.
    with np.load(out / "compressed_k4.npz") as saved:
        assert saved["codes"].shape == (3000, 1)
    assert "recall@10: 2000 query rows" in stdout


def test_bad_train_size_exits_2(tmp_path, capsys):
    table = _table(tmp_path)
    code, _, stderr = _run(capsys, "vq", table, "--train-size", "half")
    assert code == 2
    assert "'half' is not a positive integer, 'auto' or 'all'" in stderr


def test_a_train_size_below_k_is_raised_with_a_note(tmp_path, capsys):
    # The fit trains on k rows where --train-size is below k; only the
    # train_rows column said so.
    table = _table(tmp_path, n=200)
    code, stdout, stderr = _run(
        capsys, "vq", table, "-k", 4, 16, "--train-size", 8, "--out", tmp_path / "o"
    )
    assert code == 0, stderr
    output = stdout + stderr
    assert (
        "--train-size 8 is below k = 16: each of those is trained on k rows" in output
    )
    with open(tmp_path / "o" / "vq_memory.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["train_rows"] for row in rows] == ["8", "16"]
