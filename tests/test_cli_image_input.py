"""``skclust image`` says what it did to an input: depth, frames, skipped k, size."""

import struct

import numpy as np
from _png import png_file, write_png16
from PIL import Image

from skclust._cli import main


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _colours(n_colours, shape=(12, 10)):
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, size=(n_colours, 3), dtype=np.uint8)
    labels = np.arange(shape[0] * shape[1]) % n_colours
    return palette[labels].reshape(*shape, 3)


def test_16_bit_png_gets_a_note_and_its_top_8_bits(tmp_path, capsys):
    image8 = _colours(6)
    image16 = image8.astype(np.uint16) * 257  # v * 257 has v as its top byte
    photo = write_png16(tmp_path / "deep.png", image16)
    code, stdout, stderr = _run(
        capsys, "image", photo, "-k", 6, "--out", tmp_path / "o"
    )
    assert code == 0, stderr
    notes = [line for line in stdout.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: deep.png: has 16 bits per channel; it is reduced to 8 bits (each "
        "value's top 8 bits), the depth the palette is stored at"
    ]
    # Six colours, k = 6: the reconstruction is the 8-bit image itself.
    rebuilt = Image.open(tmp_path / "o" / "deep" / "deep_l2_k6.png").convert("RGB")
    np.testing.assert_array_equal(np.asarray(rebuilt), image8)


def test_animated_gif_names_the_frame_used(tmp_path, capsys):
    frames = [Image.fromarray(_colours(5)), Image.fromarray(_colours(4)[::-1])]
    frames.append(Image.fromarray(_colours(3)))
    path = tmp_path / "moving.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    code, stdout, stderr = _run(
        capsys, "image", path, "-k", 2, "--metric", "l2", "--out", tmp_path / "o"
    )
    assert code == 0, stderr
    assert "note: moving.gif: is animated (3 frames); only frame 1 is used" in stdout


def test_still_image_gets_no_note(tmp_path, capsys):
    path = tmp_path / "still.png"
    Image.fromarray(_colours(5)).save(path)
    code, stdout, _ = _run(capsys, "image", path, "-k", 2, "--out", tmp_path / "o")
    assert code == 0
    assert "note:" not in stdout


def test_one_pixel_image_is_one_line_naming_the_skipped_k(tmp_path, capsys):
    path = tmp_path / "dot.png"
    Image.fromarray(np.full((1, 1, 3), 200, dtype=np.uint8)).save(path)
    code, _, stderr = _run(capsys, "image", path, "--out", tmp_path / "o")
    assert code == 2
    assert stderr == (
        "skclust image: error: dot.png: has 1 distinct colour; skipped k = 3, 6, "
        "12, 24, 48 (more clusters than colours)\n"
    )
    assert not (tmp_path / "o" / "dot").exists()


def test_few_colours_fit_the_k_they_can_and_skip_the_rest(tmp_path, capsys):
    path = tmp_path / "four.png"
    Image.fromarray(_colours(4)).save(path)
    code, _, stderr = _run(
        capsys, "image", path, "-k", 2, 4, 6, 12, "--out", tmp_path / "o"
    )
    assert code == 2
    assert stderr.splitlines() == [
        "skclust image: error: four.png: has 4 distinct colours; skipped k = 6, 12 "
        "(more clusters than colours)"
    ]
    for metric in ("l2", "l1"):
        for k in (2, 4):
            assert (tmp_path / "o" / "four" / f"four_{metric}_k{k}.png").is_file()
        assert not (tmp_path / "o" / "four" / f"four_{metric}_k6.png").exists()


def test_max_pixels_raises_the_decompression_limit(tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(_colours(5, shape=(20, 20))).save(path)  # 400 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    code, _, stderr = _run(capsys, "image", path, "-k", 2, "--out", tmp_path / "o")
    assert code == 2
    assert len(stderr.splitlines()) == 1
    assert "image too large" in stderr and "--max-pixels N" in stderr
    code, _, stderr = _run(
        capsys, "image", path, "-k", 2, "--max-pixels", 400, "--out", tmp_path / "o"
    )
    assert code == 0, stderr
    assert Image.MAX_IMAGE_PIXELS == 100  # the limit is put back


def test_an_image_over_max_pixels_is_refused_before_decoding(tmp_path, capsys):
    # The header says 30000 x 30000 (900 Mpx, 3.6 GB once decoded), the data
    # holds one row: decoding would fail on the missing data, or allocate
    # the whole image first. Refused on its size, it does neither.
    path = tmp_path / "huge.png"
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    path.write_bytes(png_file(header, b"\x00" * (1 + 3 * 30_000)))
    argv = ["image", path, "-k", 2, "--max-pixels", 10**6, "--out", tmp_path / "o"]
    code, _, stderr = _run(capsys, *argv)
    assert code == 2
    assert "image too large" in stderr and "900,000,000 pixels" in stderr
    assert "above the limit of 1,000,000" in stderr
