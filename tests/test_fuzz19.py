"""Files found by mutation fuzzing (session 19) that the readers did not refuse
cleanly: each is built here from a valid file the package writes, then damaged
the way the fuzzer damaged it."""

import io
import json
import logging
import os
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from skclust import VectorQuantizer
from skclust._cli import main
from skclust._cli._output import (
    JOURNAL,
    MANIFEST,
    MARKER,
    OutputError,
    output_run,
    prepare_output_dir,
    write_text,
)
from skclust.image import load_image


@pytest.fixture(autouse=True)
def _no_study_data(monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)


def _tiff_with(pixels, tag, value):
    """A TIFF of ``pixels`` whose one-SHORT IFD entry ``tag`` says ``value``."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    entry = bytes(data).index(struct.pack("<HHI", tag, 3, 1))
    data[entry + 8 : entry + 10] = struct.pack("<H", value)
    return bytes(data)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines()


def _committed_folder(out, names=("a.txt",)):
    """An output folder holding one committed run that wrote ``names``."""
    with output_run():
        staging = prepare_output_dir(out)
        for name in names:
            write_text(staging / name, name)
    return out


def _listed(out):
    manifest = json.loads((out / MANIFEST).read_text())
    return [entry["path"] for entry in manifest["files"]]


def test_verify_refuses_a_manifest_nested_too_deep_in_one_line(tmp_path, capsys):
    out = _committed_folder(tmp_path / "out")
    # json raised RecursionError, a traceback out of skclust verify.
    (out / MANIFEST).write_text("[" * 100_000)
    code, lines = _run(capsys, "verify", out)
    assert code == 2
    assert lines == [f"skclust verify: error: {out / MANIFEST}: missing or unreadable"]
    # The next run into the folder read it the same way, and raised too.
    _committed_folder(out, names=("b.txt",))
    assert _listed(out) == ["b.txt"]


@pytest.mark.parametrize(
    "name", ["a\x00b", "\ud800", "x" * 300], ids=["nul", "surrogate", "too-long"]
)
def test_a_manifest_naming_an_impossible_file_does_not_break_the_next_run(
    tmp_path, capsys, name
):
    out = _committed_folder(tmp_path / "out")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].append({"path": name, "bytes": 1, "sha256": "0" * 64})
    (out / MANIFEST).write_text(json.dumps(manifest))

    code, lines = _run(capsys, "verify", out)
    assert code == 2 and len(lines) == 1
    assert "not a file name inside" in lines[0]

    # The next run's commit raised from os.lstat half-way through, after
    # writing its journal and removing the manifest; every later run
    # failed the same way.
    _committed_folder(out, names=("b.txt",))
    assert not (out / JOURNAL).exists()
    assert _listed(out) == ["b.txt"]
    assert not (out / "a.txt").exists()
    code, lines = _run(capsys, "verify", out)
    assert code == 0, lines


def test_an_output_folder_that_is_a_loop_of_links_is_refused(tmp_path, capsys):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    table = tmp_path / "table.npy"
    np.save(table, np.random.default_rng(0).normal(size=(12, 4)))
    # Path.resolve raised RuntimeError("Symlink loop ..."): exit 1, traceback.
    with pytest.raises(OSError, match="loop"):
        prepare_output_dir(loop / "out", inputs=[table])
    code, lines = _run(capsys, "vq", table, "-k", 2, "-q", "--out", loop)
    assert code == 2 and len(lines) == 1
    assert str(loop) in lines[0]


def _saved_quantizer(path):
    X = np.random.default_rng(0).normal(size=(20, 4))
    VectorQuantizer(n_clusters=2, random_state=0).fit(X).save(path)
    return path


def test_an_archive_asking_for_an_unknown_zip_version_is_refused(tmp_path, capsys):
    path = _saved_quantizer(tmp_path / "codes.npz")
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    data[entry + 6] = 173  # "version needed to extract": 17.3
    path.write_bytes(bytes(data))
    # zipfile raised NotImplementedError("zip file version 17.3").
    with pytest.raises(ValueError, match=f"{path}: unreadable .npz archive"):
        VectorQuantizer.load(path)
    code, lines = _run(capsys, "vq", "--decode", path, "-q", "--out", tmp_path / "o")
    assert code == 2 and len(lines) == 1
    assert "unreadable .npz archive" in lines[0]


def _png_chunk(kind, payload):
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_bytes():
    buffer = io.BytesIO()
    pixels = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_with_broken_second_idat():
    """A PNG whose pixel data is split in two chunks, the second one's type
    damaged (not letters): Pillow finds it only while decoding."""
    data = _png_bytes()
    start = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[start : start + 4])
    pixels = data[start + 8 : start + 8 + length]
    chunks = _png_chunk(b"IDAT", pixels[:5]) + _png_chunk(b"ID\x00T", pixels[5:])
    return data[:start] + chunks + data[start + 12 + length :]


def _png_with_short_header():
    """A PNG whose IHDR chunk says it holds 4 bytes (it needs 13)."""
    data = _png_bytes()
    start = data.index(b"IHDR") - 4
    return data[:start] + struct.pack(">I", 4) + data[start + 4 :]


@pytest.mark.parametrize(
    "make, pillow_says",
    [
        # Pillow raised SyntaxError, a traceback out of skclust image.
        (_png_with_broken_second_idat, "broken PNG file"),
        # Pillow raised ValueError("Truncated IHDR chunk"), without the path.
        (_png_with_short_header, "Truncated IHDR chunk"),
    ],
)
def test_a_damaged_png_is_refused_naming_the_file(tmp_path, capsys, make, pillow_says):
    path = tmp_path / "damaged.png"
    path.write_bytes(make())
    with pytest.raises(ValueError, match=f"{path}: unreadable image .*{pillow_says}"):
        load_image(path)
    out = tmp_path / "out"
    code, lines = _run(capsys, "image", path, "-k", 2, "-q", "--out", out)
    assert code == 2 and len(lines) == 1
    assert str(path) in lines[0]
    assert not out.exists() or [p.name for p in out.iterdir()] in ([], [MARKER])


def test_output_error_is_what_a_bad_manifest_name_raises(tmp_path):
    # _remove_stale skips names it cannot use only when they raise OutputError.
    from skclust._cli._output import _check_inside

    with pytest.raises(OutputError, match="not a file name inside"):
        _check_inside(tmp_path, "a\x00b")


def test_pillow_logging_about_a_file_adds_no_line_to_the_error(
    tmp_path, capfd, monkeypatch
):
    # As outside pytest, whose log capture would hold the record: no handler.
    monkeypatch.setattr(logging.root, "handlers", [])
    # The IFD entry SamplesPerPixel (tag 277) declares 58936.
    path = tmp_path / "samples.tiff"
    path.write_bytes(_tiff_with(np.zeros((2, 3, 3), np.uint8), 277, 58936))
    # Pillow's logger.error line reached stderr through logging's last resort.
    code = main(["image", str(path), "-k", "2", "-q", "--out", str(tmp_path / "o")])
    lines = capfd.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines == [f"skclust image: error: {path}: not an image file Pillow can read"]


def _frames():
    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8))
        for _ in range(3)
    ]


def _gif_cut_in_its_second_frame():
    frames = _frames()
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    data = buffer.getvalue()
    # Each frame's image descriptor starts with "," and its position (0, 0).
    first = data.index(b",\x00\x00\x00\x00")
    second = data.index(b",\x00\x00\x00\x00", first + 1)
    return data[: second + 5]  # its width and height cut off


def _tiff_with_unknown_compression_on_page_2():
    frames = _frames()
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    data = bytearray(buffer.getvalue())
    # The IFD entries Compression (tag 259, SHORT, 1 value), one a page.
    entry = struct.pack("<HHI", 259, 3, 1)
    second = data.index(entry, data.index(entry) + 1)
    data[second + 8 : second + 10] = struct.pack("<H", 38401)
    return bytes(data)


@pytest.mark.parametrize(
    "make, name",
    [
        # Counting the frames raised struct.error out of Pillow.
        (_gif_cut_in_its_second_frame, "cut.gif"),
        # ... and KeyError(38401).
        (_tiff_with_unknown_compression_on_page_2, "pages.tiff"),
    ],
)
def test_a_damaged_later_frame_is_a_note_not_a_traceback(tmp_path, capsys, make, name):
    path = tmp_path / name
    path.write_bytes(make())
    assert load_image(path).shape == (3, 4, 3)  # the first frame is intact
    code = main(["image", str(path), "-k", "2", "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (
        f"{name}: holds more images after the first, which are unreadable; "
        "only the first is used"
    ) in captured.out


def test_libtiff_printing_on_standard_error_adds_no_line(tmp_path, capfd):
    pixels = np.random.default_rng(0).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    # Compression (tag 259) said LZW over strips that are not: libtiff
    # printed "tempfile.tif: Using code not yet in table." on descriptor 2.
    path = tmp_path / "lzw.tiff"
    path.write_bytes(_tiff_with(pixels, 259, 5))
    code = main(["image", str(path), "-k", "2", "-q", "--out", str(tmp_path / "o")])
    lines = capfd.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(
        f"skclust image: error: {path}: unreadable image"
    )


@pytest.mark.parametrize("name", [MANIFEST, JOURNAL])
def test_a_folder_standing_for_the_manifest_or_journal_is_refused_up_front(
    tmp_path, name
):
    out = _committed_folder(tmp_path / "out")
    (out / name).unlink(missing_ok=True)
    (out / name).mkdir()
    # The commit failed half-way ("Is a directory"), the manifest folder
    # after the journal had been written, and so did every later run.
    with pytest.raises(OutputError, match=f"{out / name}: is a link or not a regular"):
        _committed_folder(out, names=("b.txt",))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MARKER, "a.txt", MANIFEST, *([JOURNAL] if name == JOURNAL else [])]
    )
    assert (out / name).is_dir()


@pytest.mark.parametrize("shape", [(4101, 6, 3), (6, 4101, 3)])
def test_the_grid_of_a_needle_thin_image_stays_small(shape):
    from skclust.image import plot_reconstructions

    image = np.zeros(shape, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = plot_reconstructions(image, {"k = 2": image})
        figure.savefig(io.BytesIO(), format="png", dpi=60)
    width, height = figure.get_size_inches()
    # Two panels 4 inches wide, at most 8 times as tall (or as wide), and
    # the title's 0.6 inch; 4101 x 6 pixels made the figure 2734.6 inches tall.
    assert width == 8
    assert 4 / 8 + 0.6 <= height <= 4 * 8 + 0.6


def test_an_image_declaring_a_chunk_of_gigabytes_is_refused_in_little_memory(
    tmp_path,
):
    data = _png_bytes()
    start = data.index(b"IDAT") - 4
    # The pixels decode from the first bytes; Pillow then read the rest of
    # the 2 GB the chunk declares: MemoryError where memory is limited.
    path = tmp_path / "idat.png"
    path.write_bytes(data[:start] + struct.pack(">I", 0x7FFFFFF0) + data[start + 4 :])
    script = (
        "import resource, sys\n"
        "from skclust.image import load_image\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**29, 3 * 2**29))\n"
        "try:\n"
        "    load_image(sys.argv[1])\n"
        "except ValueError as error:\n"
        "    print(error)\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        # "-c" puts the working folder first on the path: from a checkout
        # built with a plain `pip install .` it held skclust's unbuilt sources.
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == (
        f"{path}: unreadable image (reading it ran out of memory; a length in the "
        "file is damaged)"
    )


def _npy_python2_header(shape_text, data):
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}"
    header = header.ljust(117) + "\n"
    return (
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
    )


def test_a_python2_header_adds_no_warning_line_to_the_error(tmp_path, capsys):
    path = tmp_path / "py2.npy"
    # Written on Python 2 ("3L") and cut short: numpy's warning that the
    # file was created on Python 2 came before the error.
    path.write_bytes(_npy_python2_header("(3L, 2L)", b"\x00" * 20))
    code, lines = _run(capsys, "vq", path, "-k", 2, "-q", "--out", tmp_path / "o")
    assert code == 2
    assert lines == [
        f"skclust vq: error: {path}: truncated: the header declares shape (3, 2) "
        "of float32 (24 bytes of data) and the file holds 20"
    ]


def _saved_with(tmp_path, replace):
    """A saved quantizer whose members named in ``replace`` hold other arrays."""
    path = _saved_quantizer(tmp_path / "saved.npz")
    with zipfile.ZipFile(path) as archive:
        members = {name[:-4]: archive.read(name) for name in archive.namelist()}
    for name, array in replace.items():
        buffer = io.BytesIO()
        np.save(buffer, array)
        members[name] = buffer.getvalue()
    edited = tmp_path / "edited.npz"
    with zipfile.ZipFile(edited, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return edited


@pytest.mark.parametrize(
    "n_steps", [np.array("abc"), np.zeros((2, 2)), np.array(-5)], ids=str
)
def test_a_saved_step_count_that_is_not_a_count_is_refused(tmp_path, n_steps):
    # int() raised ValueError("invalid literal ...") or TypeError("only
    # 0-dimensional arrays ..."), without the path, or -5 steps loaded.
    path = _saved_with(tmp_path, {"n_steps": n_steps})
    with pytest.raises(ValueError, match=f"^{path}: n_steps is not a count$"):
        VectorQuantizer.load(path)


def test_saved_parameters_are_checked_on_load(tmp_path):
    quantizer = VectorQuantizer(n_clusters=2, random_state=0)
    params = json.dumps({**quantizer.get_params(), "normalize": "maybe"})
    path = _saved_with(tmp_path, {"params": np.array(params)})
    # "maybe" loaded and was taken as true.
    with pytest.raises(ValueError, match=f"^{path}: saved parameters: .*normalize"):
        VectorQuantizer.load(path)
