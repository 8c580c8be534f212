"""Headers of ``.npy`` files and ``.npz`` members are checked before reading."""

import io
import zipfile

import numpy as np
import pytest

from skclust._cli import main
from skclust._npy import read_npz_member
from skclust.datasets import load_embeddings


def _npy(shape, dtype="<f4", data=b""):
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def test_a_small_file_declaring_a_huge_table_is_refused_unread(tmp_path):
    path = tmp_path / "huge.npy"
    path.write_bytes(_npy((300_000_000, 64), data=b"\0" * 100))
    with pytest.raises(ValueError, match=r"huge\.npy: truncated") as info:
        load_embeddings(path)
    assert "(300000000, 64)" in str(info.value)
    assert "76800000000 bytes" in str(info.value)


def test_a_table_over_the_memory_budget_is_refused(tmp_path):
    path = tmp_path / "table.npy"
    np.save(path, np.ones((100, 10), dtype=np.float32))
    with pytest.raises(ValueError, match=r"memory budget of 2e-06 GB") as info:
        load_embeddings(path, memory_budget=2000)
    assert "table.npy" in str(info.value) and "(100, 10)" in str(info.value)
    assert load_embeddings(path, memory_budget=4000).shape == (100, 10)
    # A memory map allocates nothing: only the size check applies.
    assert load_embeddings(path, mmap_mode="r").shape == (100, 10)


def test_bytes_beyond_the_declared_table_are_refused(tmp_path):
    path = tmp_path / "long.npy"
    np.save(path, np.ones((4, 2), dtype=np.float32))
    with open(path, "ab") as handle:
        handle.write(b"extra")
    with pytest.raises(ValueError, match="longer than its header says"):
        load_embeddings(path)


def _archive(path, **members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def test_npz_members_are_read_within_the_budget(tmp_path):
    codes = np.arange(12, dtype=np.uint8).reshape(6, 2)
    buffer = io.BytesIO()
    np.save(buffer, codes)
    path = _archive(tmp_path / "ok.npz", codes=buffer.getvalue())
    np.testing.assert_array_equal(read_npz_member(path, "codes"), codes)
    bomb = _archive(tmp_path / "bomb.npz", codes=_npy((10**7,), "|u1", b"\0" * 10**7))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"would expand to 0\.01 GB, more than"):
        read_npz_member(bomb, "codes", budget=10**6)
    declared = _archive(tmp_path / "declared.npz", codes=_npy((300_000_000, 64)))
    with pytest.raises(ValueError, match=r"\(codes\): truncated.*300000000, 64"):
        read_npz_member(declared, "codes")


def test_decode_of_a_truncated_archive_is_one_line(tmp_path, capsys):
    path = _archive(tmp_path / "codes.npz", codes=_npy((2, 2), "|u1", b"\0" * 4))
    path.write_bytes(path.read_bytes()[:-30])
    code = main(["vq", "--decode", str(path), "--out", str(tmp_path / "out")])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.count("\n") == 1 and "codes.npz: unreadable .npz archive" in stderr
    assert not (tmp_path / "out").exists()
