"""Small defects from the reviews: counts in words, 16-bit arrays, pages of a
TIFF, re-seeding after fit and its candidates, named pipes (small14)."""

import errno
import os
import re
import struct
import threading
import time
import warnings
import zlib

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image
from sklearn.exceptions import ConvergenceWarning

from skclust import VectorQuantizer
from skclust._cli import main
from skclust._cli.image import _several_images
from skclust._vq import _scale
from skclust._vq._scale import RESEED_BYTES, RESEED_CANDIDATES, reseed_pool
from skclust.datasets import make_embeddings
from skclust.image import load_image
from skclust.study import compress_embeddings


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _three_colours(shape=(6, 5)):
    palette = np.array([[200, 30, 10], [20, 180, 40], [10, 20, 220]], np.uint8)
    return palette[np.arange(shape[0] * shape[1]) % 3].reshape(*shape, 3)


# --- counts in words --------------------------------------------------------


def test_one_iteration_and_one_reconstruction_are_singular(tmp_path, capsys):
    # k = 3 on three colours: k-means++ seeds the three colours, which do not
    # move, so the fit stops after its first iteration. It said "1 iterations"
    # and "wrote 1 reconstructions".
    path = tmp_path / "three.png"
    Image.fromarray(_three_colours()).save(path)
    code, out, err = _run(
        capsys, "image", path, "-k", 3, "--metric", "l2", "--out", tmp_path / "o"
    )
    assert code == 0, err
    assert re.search(r"^three\.png l2 k=3: 1 iteration, ", out, re.MULTILINE), out
    assert "wrote 1 reconstruction and tables into" in out


def test_the_embedding_study_says_one_iteration():
    rows = np.repeat(np.eye(4, dtype=np.float32) + 0.5, 10, axis=0)
    lines = []
    compress_embeddings(
        rows, [4], n_init=1, recall_queries=4, train_size=None, log=lines.append
    )
    assert len(lines) == 1
    assert lines[0].startswith("table k=4: 1 iteration, "), lines


def test_one_fit_in_the_graph_progress(tmp_path, capsys):
    nodes = tmp_path / "n.txt"
    nodes.write_text("".join(f'{i}\t"n{i}"\t{i > 3:d}\n' for i in range(1, 7)))
    edges = tmp_path / "e.txt"
    edges.write_text("1 2\n2 3\n1 3\n4 5\n5 6\n4 6\n3 4\n")
    argv = ["graph", "--nodes", nodes, "--edges", edges, "-k", 2, "--tune", "2:2"]
    code, out, err = _run(capsys, *argv, "--out", tmp_path / "o")
    assert code == 0, err
    assert re.search(r"^regularized: 1 fit in ", out, re.MULTILINE), out


def test_verify_says_one_file_matches(tmp_path, capsys, monkeypatch):
    from skclust._cli import verify

    monkeypatch.setattr(verify, "verify_folder", lambda folder: (1, []))
    code, out, _ = _run(capsys, "verify", tmp_path)
    assert code == 0
    assert out == f"{tmp_path}: 1 file matches {verify.MANIFEST}\n"


def test_vq_says_one_npz_file(tmp_path, capsys):
    table = tmp_path / "table.npy"
    np.save(table, make_embeddings(200, 8, random_state=0))
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        capsys, "vq", table, "-k", 8, "--n-init", 1, "--out", out
    )
    assert code == 0, stderr
    assert f"the trade-off plot and 1 .npz file into {out}" in stdout


# --- 16-bit images ------------------------------------------------------------


def _chunk(kind, data):
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data))
    )


def _save_png16(path, image):
    """Write ``image``, uint16 (h, w, 3), as a 16-bit RGB PNG."""
    height, width, _ = image.shape
    scanlines = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in image)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(scanlines))
        + _chunk(b"IEND", b"")
    )


def test_a_uint16_array_is_read_as_its_16_bit_file(tmp_path):
    # The file was reduced to 8 bits; the same pixels as an array were
    # refused ("pixel values must lie in [0, 255]").
    rng = np.random.default_rng(4)
    deep = rng.integers(0, 65536, size=(5, 7, 3)).astype(np.uint16)
    deep[0, 0] = [0, 255, 65535]
    _save_png16(tmp_path / "deep.png", deep)
    from_file = load_image(tmp_path / "deep.png")
    assert_array_equal(load_image(deep), from_file)
    assert_array_equal(from_file, (deep // 256).astype(np.uint8))
    assert from_file[0, 0].tolist() == [0, 0, 255]


def test_uint16_rgba_is_opaque_when_its_top_8_alpha_bits_are():
    image = np.full((2, 2, 4), 65280, dtype=np.uint16)
    assert_array_equal(load_image(image), np.full((2, 2, 3), 255, np.uint8))
    image[1, 1, 3] = 65279
    with pytest.raises(ValueError, match="has transparent pixels"):
        load_image(image)


def test_uint16_holding_8_bit_values_warns_what_to_pass():
    image = np.full((2, 2, 3), 200, dtype=np.uint16)
    with pytest.warns(UserWarning, match=r"pass image\.astype\(np\.uint8\)"):
        reduced = load_image(image)
    assert_array_equal(reduced, np.zeros((2, 2, 3), np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image(np.full((2, 2, 3), 256, dtype=np.uint16))


def test_16_bit_values_in_another_integer_type_are_told_to_be_uint16():
    message = r"must lie in \[0, 255\] \(16-bit values: pass the image as uint16\)"
    with pytest.raises(ValueError, match=message):
        load_image(np.full((2, 2, 3), 1000, dtype=np.int32))
    with pytest.raises(ValueError, match=r"must lie in \[0, 255\]$"):
        load_image(np.full((2, 2, 3), 1000.0))


# --- files of several images ---------------------------------------------------


def test_a_multi_page_tiff_names_its_pages(tmp_path, capsys):
    # It said "is animated (3 frames); only frame 1 is used".
    first = _three_colours()
    pages = [Image.fromarray(first), Image.fromarray(255 - first)]
    pages.append(Image.fromarray(np.zeros_like(first)))
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    out_dir = tmp_path / "o"
    code, out, err = _run(
        capsys, "image", path, "-k", 3, "--metric", "l2", "--out", out_dir
    )
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert notes == ["note: scan.tif: has 3 pages; only page 1 is used"]
    # Three colours, k = 3: the reconstruction is the first page itself.
    rebuilt = Image.open(out_dir / "scan" / "scan_l2_k3.png").convert("RGB")
    assert_array_equal(np.asarray(rebuilt), first)


@pytest.mark.parametrize(
    ("kind", "note"),
    [
        ("GIF", "is animated (4 frames); only frame 1 is used"),
        ("TIFF", "has 4 pages; only page 1 is used"),
        ("PSD", "has 4 layers; their merged image is used"),
        ("MPO", "holds 4 images; only the first is used"),
    ],
)
def test_several_images_are_named_as_the_format_names_them(kind, note):
    assert _several_images(kind, 4) == note


# --- partial_fit re-seeding -----------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{}, {"batch_size": 50}, {"n_subvectors": 2}, {"spherical": True}],
    ids=str,
)
def test_partial_fit_after_a_fit_with_repeats_reseeds_them(params, tmp_path):
    # fit on 3 distinct rows leaves 13 of 16 centroids repeating them, with
    # no rows; the next batch moves them onto its rows. Checked by hand only.
    X = make_embeddings(1200, 8, random_state=0)
    few = np.tile(X[:3], (40, 1))
    vq = VectorQuantizer(16, random_state=0, **params)
    with pytest.warns(ConvergenceWarning):
        vq.fit(few)
    for codebook in vq.codebook_:
        assert len(np.unique(codebook, axis=0)) == 3
    vq.save(tmp_path / "vq.npz")
    loaded = VectorQuantizer.load(tmp_path / "vq.npz")
    for quantizer in (vq, loaded):
        quantizer.partial_fit(X[200:])
        for codebook in quantizer.codebook_:
            assert len(np.unique(codebook, axis=0)) == 16
        codes = quantizer.transform(X[200:])
        assert all(len(np.unique(column)) == 16 for column in codes.T)
    assert_array_equal(loaded.codebook_, vq.codebook_)


def test_reseeding_candidates_do_not_depend_on_batch_size():
    # The candidates were the batch_size rows farthest from the centroids:
    # with batch_size=8, one partial_fit on 600 rows moved 8 of the 15
    # repeats. batch_size only says how the batch is read.
    X = make_embeddings(600, 8, random_state=1)
    first = np.tile(X[:1], (20, 1))
    fitted = []
    for batch_size in (None, 8):
        vq = VectorQuantizer(16, random_state=0, batch_size=batch_size)
        with pytest.warns(ConvergenceWarning, match="centers repeat"):
            vq.partial_fit(first)
        fitted.append(vq.partial_fit(X))
    whole, blocks = fitted
    assert len(np.unique(blocks.codebook_[0], axis=0)) == 16
    np.testing.assert_allclose(blocks.codebook_, whole.codebook_, rtol=1e-6)


# --- named pipes ----------------------------------------------------------------


def _feed(pipe, text, deadline):
    """Write ``text`` into the named pipe once a reader has opened it.

    The write end is opened without blocking (ENXIO until a reader comes),
    so that a reader that never comes leaves no thread waiting past
    ``deadline``.
    """
    while True:
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as error:
            if error.errno != errno.ENXIO or time.monotonic() > deadline:
                return
            time.sleep(0.01)
    os.set_blocking(fd, True)
    try:
        with os.fdopen(fd, "w") as stream:
            stream.write(text)
    except BrokenPipeError:
        pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_graph_reads_named_pipes_once_each(tmp_path, capsys):
    # A named pipe is read as cat reads one: the command waits for the
    # writer (image and vq, which read a file twice, refuse one at once).
    texts = {
        "nodes": "".join(f'{i}\t"n{i}"\t{i > 3:d}\n' for i in range(1, 7)),
        "edges": "1 2\n2 3\n1 3\n4 5\n5 6\n4 6\n3 4\n",
    }
    deadline = time.monotonic() + 60
    writers = []
    for name, text in texts.items():
        os.mkfifo(tmp_path / name)
        writers.append(
            threading.Thread(
                target=_feed, args=(tmp_path / name, text, deadline), daemon=True
            )
        )
    argv = ["graph", "--nodes", tmp_path / "nodes", "--edges", tmp_path / "edges"]
    argv += ["-k", 2, "--tune", "2:2", "--out", tmp_path / "o"]
    result = {}

    def run():
        result["code"] = main([str(a) for a in argv])

    command = threading.Thread(target=run, daemon=True)
    for thread in [*writers, command]:
        thread.start()
    command.join(timeout=60)
    if command.is_alive():
        # A second open of a pipe waits for a writer that is gone: give it
        # an empty one, so that no thread is left waiting.
        for name in texts:
            _feed(tmp_path / name, "", time.monotonic() + 1)
        command.join(timeout=10)
        pytest.fail("skclust graph was still waiting on its pipes after 60 s")
    for thread in writers:
        thread.join(timeout=10)
    captured = capsys.readouterr()
    assert result["code"] == 0, captured.err
    assert "nodes + edges: 6 nodes, 7 undirected edges" in captured.out
    assert "k = 2: overall mismatch rate 0.0000 (0 of 6)" in captured.out


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_graph_refuses_a_device_at_once(tmp_path, capsys):
    # /dev/zero is one endless line: reading it took all the memory there
    # was, then failed with a bare MemoryError.
    out = tmp_path / "o"
    code, _, err = _run(capsys, "graph", "--edges", "/dev/zero", "--out", out)
    assert code == 2
    assert err == (
        "skclust graph: error: /dev/zero: is not a regular file or a named "
        "pipe (a device or socket); expected a file\n"
    )
    assert not out.exists()


def test_reseeding_candidates_of_wide_rows_are_capped_in_bytes(monkeypatch):
    # 65,536 candidates of 4096 float32 features would be 1 GiB where a
    # batch_size of 1024 reads 16 MiB: the pool is capped at RESEED_BYTES,
    # but never below the rows read at a time.
    assert reseed_pool(64, 32) == RESEED_CANDIDATES
    assert reseed_pool(1024, 4096) * 4096 * 4 == RESEED_BYTES
    assert reseed_pool(65_536, 4096) == 65_536
    assert reseed_pool(16, 10**9) == 16
    # The cap reaches the rows re-seeding loads: with room for 40 rows of 8
    # features and batches of 8 rows, 40 candidates are taken, and the 15
    # repeats still all move.
    monkeypatch.setattr(_scale, "RESEED_BYTES", 40 * 8 * 4)
    taken = []
    original = _scale.reseed_unused

    def spy(source, *args):
        real_take = source.take

        def take(index):
            taken.append(len(index))
            return real_take(index)

        source.take = take
        return original(source, *args)

    monkeypatch.setattr(_scale, "reseed_unused", spy)
    X = make_embeddings(600, 8, random_state=1)
    vq = VectorQuantizer(16, random_state=0, batch_size=8)
    with pytest.warns(ConvergenceWarning, match="centers repeat"):
        vq.partial_fit(np.tile(X[:1], (20, 1)))
    vq.partial_fit(X)
    assert taken == [40]
    assert len(np.unique(vq.codebook_[0], axis=0)) == 16
