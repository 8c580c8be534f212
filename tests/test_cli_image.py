"""The ``skclust image`` and ``skclust report`` commands, and CLI conventions."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skclust._cli import _pictures, main
from skclust._cli._output import MARKER


def _write_photo(path, seed=0, shape=(20, 30)):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(6, 3))[rng.integers(0, 6, size=shape)]
    image = np.clip(image + rng.integers(-2, 3, size=(*shape, 3)), 0, 255)
    Image.fromarray(image.astype(np.uint8)).save(path)
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_image_writes_reconstructions_tables_and_figures(tmp_path, capsys):
    photo = _write_photo(tmp_path / "photo.png")
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, "image", photo, "-k", 2, 3, 5, "--out", out)
    assert code == 0, stderr
    assert stderr == ""
    # One progress line per finished fit.
    assert sum(line.startswith("photo.png ") for line in stdout.splitlines()) == 6
    for metric in ("l2", "l1"):
        for k in (2, 3, 5):
            reconstruction = np.asarray(
                Image.open(out / "photo" / f"photo_{metric}_k{k}.png").convert("RGB")
            )
            assert reconstruction.shape == (20, 30, 3)
            assert len(np.unique(reconstruction.reshape(-1, 3), axis=0)) <= k
        assert (out / "photo" / f"photo_{metric}_elbow.png").stat().st_size > 0
        assert (out / "photo" / f"photo_{metric}_grid.png").stat().st_size > 0
    with open(out / "image_results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["metric"], int(r["k"])) for r in rows] == [
        (m, k) for m in ("l2", "l1") for k in (2, 3, 5)
    ]
    assert {"iterations", "seconds", "inertia", "mse", "psnr_db"} <= set(rows[0])
    markdown = (out / "image_results.md").read_text()
    header = [cell.strip() for cell in markdown.split("\n")[0].split("|")]
    assert header[1:4] == ["image", "metric", "k"]
    assert not list(out.rglob("*.part"))


def test_bad_images_give_one_line_errors_and_the_rest_completes(tmp_path, capsys):
    good = _write_photo(tmp_path / "good.png")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    missing = tmp_path / "missing.png"
    few = tmp_path / "few.png"
    Image.fromarray(np.array([[[0, 0, 0], [9, 9, 9]]], dtype=np.uint8)).save(few)
    out = tmp_path / "out"
    code, _, stderr = _run(
        capsys, "image", text, good, missing, few, "-k", 2, 3, "--metric", "l2",
        "--out", out,
    )  # fmt: skip
    assert code == 2
    errors = stderr.strip().splitlines()
    assert len(errors) == 3
    assert all(line.startswith("skclust image: error: ") for line in errors)
    assert "notes.png: not an image" in errors[0]
    assert "missing.png: no such file" in errors[1]
    assert "few.png: has 2 distinct colours; skipped k = 3" in errors[2]
    assert "Traceback" not in stderr
    assert (out / "good" / "good_l2_k3.png").exists()
    assert (out / "few" / "few_l2_k2.png").exists()


def test_usage_errors_exit_2_with_one_line(capsys):
    code, _, stderr = _run(capsys, "image", "-k", 0)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert "positive integer" in stderr


def test_foreign_output_folder_needs_force(tmp_path, capsys):
    photo = _write_photo(tmp_path / "p.png")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    code, _, stderr = _run(capsys, "image", photo, "-k", 2, "--out", foreign)
    assert code == 2
    assert "use --force" in stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.tex"]
    code, _, _ = _run(capsys, "image", photo, "-k", 2, "--out", foreign, "--force")
    assert code == 0
    assert (foreign / MARKER).exists()
    # A folder skclust wrote is reused without --force.
    code, _, _ = _run(capsys, "image", photo, "-k", 3, "--out", foreign)
    assert code == 0


def test_output_never_overwrites_an_input(tmp_path, capsys):
    photo = _write_photo(tmp_path / "photo.png")
    out = tmp_path / "out"
    assert _run(capsys, "image", photo, "-k", 2, "--metric", "l2", "--out", out)[0] == 0
    # A second run takes an output of the first as an input, into the same
    # folder, where the first image's k=2 output would land on it.
    earlier = out / "photo" / "photo_l2_k2.png"
    before = earlier.read_bytes()
    code, _, stderr = _run(
        capsys, "image", earlier, photo, "-k", 2, "--metric", "l2", "--out", out
    )
    assert code == 2
    assert stderr.count("\n") == 1
    assert "photo_l2_k2.png: refusing to overwrite an input file" in stderr
    assert earlier.read_bytes() == before
    assert (out / "photo_l2_k2" / "photo_l2_k2_l2_k2.png").exists()
    code, _, stderr = _run(capsys, "image", photo, "--out", photo)
    assert code == 2 and "is one of the input files" in stderr


def test_interrupted_run_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    photo = _write_photo(tmp_path / "p.png")
    original_save = Image.Image.save

    def save_then_interrupt(self, fp, *args, **kwargs):
        original_save(self, fp, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", save_then_interrupt)
    out = tmp_path / "out"
    code, _, stderr = _run(capsys, "image", photo, "-k", 2, "--out", out)
    assert code == 130
    assert "interrupted" in stderr
    assert not out.exists()  # the folder the run made is removed


def test_default_images_without_data(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    out = tmp_path / "out"
    code, stdout, _ = _run(capsys, "image", "-k", 2, "--metric", "l1", "--out", out)
    assert code == 0
    assert "china.jpg l1 k=2" in stdout and "flower.jpg l1 k=2" in stdout


def test_missing_data_folder_is_one_line_error(tmp_path, capsys):
    code, _, stderr = _run(
        capsys, "image", "--data", tmp_path / "nowhere", "--out", tmp_path / "o"
    )
    assert code == 2
    assert stderr.strip().endswith("data folder not found (from --data)")


def test_report_shows_pictures_beside_the_original(embedded_report):
    out = embedded_report
    page = (out / "index.html").read_text()
    assert "Image compression by colour clustering" in page
    # Plots are embedded, so the tables and plots need no other file.
    elbows = sorted(out.rglob("*_elbow.png"))
    assert len(elbows) == 4
    for figure in elbows:
        assert figure.relative_to(out).as_posix() in page
    assert page.count("<figure>") == page.count("data:image/png;base64,") >= 4
    # Every reconstruction is shown and linked at full resolution, with its
    # error map and enlarged details; the pictures are files beside the page.
    for stem in ("china", "flower"):
        original = np.asarray(Image.open(out / "image" / stem / f"{stem}_original.png"))
        for metric in ("l2", "l1"):
            for k in (3, 6, 12, 24, 48):
                name = f"image/{stem}/{stem}_{metric}_k{k}"
                for suffix in ("", "_error", "_detail", "_error_detail"):
                    assert f'src="{name}{suffix}.png"' in page
                full = Image.open(out / f"{name}.png").convert("RGB")
                assert full.size == original.shape[1::-1]
                detail = Image.open(out / f"{name}_detail.png")
                assert detail.size == (96 * 3, 96 * 3)
    assert "<table>" in page and "china.jpg" in page


@pytest.mark.parametrize("entry", ["console script", "module"])
def test_installed_entry_points(entry, tmp_path):
    # Run outside the source tree, so that the installed package is the one
    # imported (the source tree has no compiled kernel in a regular install).
    script = Path(sys.executable).with_name("skclust")
    command = (
        [str(script)]
        if entry == "console script"
        else [sys.executable, "-m", "skclust"]
    )
    result = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    for name in ("demo", "image", "report"):
        assert name in result.stdout
    result = subprocess.run(
        [*command, "image", "missing.png", "--out", "o"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr == "skclust image: error: missing.png: no such file\n"


def test_pictures_in_chunks_match_whole_image_references(tmp_path, monkeypatch):
    # Chunks of one row (7 pixels at most): the error map and the palette
    # PNG must equal their whole-image references.
    monkeypatch.setattr(_pictures, "_CHUNK", 7)
    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (9, 5, 3), dtype=np.uint8)
    palette = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    reconstruction = palette[rng.integers(0, 4, (9, 5))]
    error = _pictures.pixel_error(original, reconstruction)
    difference = original.astype(np.float64) - reconstruction
    np.testing.assert_allclose(error, np.sqrt((difference**2).sum(axis=2)), rtol=1e-6)
    heat = _pictures.heat_map(error, 100.0)
    assert heat.shape == original.shape and heat.dtype == np.uint8
    _pictures.save_png(reconstruction, tmp_path / "r.png")
    with Image.open(tmp_path / "r.png") as saved:
        assert saved.mode == "P"
        np.testing.assert_array_equal(np.asarray(saved.convert("RGB")), reconstruction)


def _most_detailed_window_by_brute_force(image, size):
    """Every window of the search grid summed directly; the first best wins."""
    height, width = image.shape[:2]
    pixels = image.astype(np.int64)
    detail = np.zeros((height, width), dtype=np.int64)
    detail[1:] += np.abs(pixels[1:] - pixels[:-1]).sum(axis=2)
    detail[:, 1:] += np.abs(pixels[:, 1:] - pixels[:, :-1]).sum(axis=2)
    step = max(size // 4, 1)
    tops = sorted({*range(0, height - size + 1, step), height - size})
    lefts = sorted({*range(0, width - size + 1, step), width - size})
    sums = [
        (detail[t : t + size, c : c + size].sum(), t, c) for t in tops for c in lefts
    ]
    best = max(total for total, _, _ in sums)
    return next((t, c) for total, t, c in sums if total == best)


@pytest.mark.parametrize("chunk", [1, 7, 50, 1 << 18])
def test_detailed_window_in_chunks_is_the_brute_force_best(monkeypatch, chunk):
    # Row chunks from one pixel (one row each) to the whole image.
    monkeypatch.setattr(_pictures, "_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    for height, width, size in [(9, 5, 4), (23, 31, 8), (40, 17, 16), (12, 12, 12)]:
        image = rng.integers(0, 30, (height, width, 3), dtype=np.uint8)
        # A patch of strong detail somewhere, so that one window stands out.
        top, left = rng.integers(0, height - 3), rng.integers(0, width - 3)
        image[top : top + 3, left : left + 3] = rng.integers(0, 256, (3, 3, 3))
        expected = _most_detailed_window_by_brute_force(image, size)
        assert _pictures.detailed_window(image, size) == expected
