"""Grayscale images: every Pillow grey mode, grey arrays, 1-D k-means, the CLI."""

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from _png import write_png16
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image
from sklearn.cluster import KMeans

from skclust._cli import _pictures, main
from skclust._cli._output import MARKER
from skclust.image import (
    ImageQuantizer,
    image_to_pixels,
    load_image,
    plot_reconstructions,
)

# Grey levels of a small test image, every level of 0..255 used at most twice.
GREY = np.array(
    [[0, 17, 40, 63], [90, 128, 129, 160], [200, 201, 254, 255]], dtype=np.uint8
)


def _saved(picture, path, **options):
    picture.save(path, **options)
    return path


def _sixteen_bit(grey):
    """16-bit values whose top 8 bits are ``grey`` and low 8 bits are noise."""
    low = np.random.default_rng(0).integers(0, 256, grey.shape)
    return (grey.astype(np.uint16) << 8) | low.astype(np.uint16)


# --- files of every grey mode ---------------------------------------------------


@pytest.mark.parametrize(
    "mode, name, make, expected",
    [
        ("L", "l.png", lambda: Image.fromarray(GREY), GREY),
        ("L", "l.bmp", lambda: Image.fromarray(GREY), GREY),
        ("L", "l.tif", lambda: Image.fromarray(GREY), GREY),
        (
            "1",
            "bilevel.png",
            lambda: Image.fromarray(GREY >= 128),
            np.where(GREY >= 128, 255, 0),
        ),
        (
            "LA",
            "opaque.png",
            lambda: Image.fromarray(np.dstack([GREY, np.full_like(GREY, 255)]), "LA"),
            GREY,
        ),
        ("I;16", "deep.png", lambda: Image.fromarray(_sixteen_bit(GREY)), GREY),
        ("I;16", "deep.tif", lambda: Image.fromarray(_sixteen_bit(GREY)), GREY),
        (
            "I;16B",
            "big.tif",
            lambda: Image.fromarray(_sixteen_bit(GREY).astype(">u2")),
            GREY,
        ),
        ("I", "int.tif", lambda: Image.fromarray(GREY.astype(np.int32)), GREY),
        ("F", "float.tif", lambda: Image.fromarray(GREY.astype(np.float32)), GREY),
    ],
)
def test_every_grey_mode_is_read_as_grey_levels(tmp_path, mode, name, make, expected):
    path = _saved(make(), tmp_path / name)
    with Image.open(path) as written:
        assert written.mode == mode  # the file holds the mode meant
    with warnings.catch_warnings():
        # A 16-bit file is no uint16 array given by mistake: no warning.
        warnings.simplefilter("error")
        image = load_image(path)
    assert image.dtype == np.uint8
    assert_array_equal(image, expected)


def test_a_dark_16_bit_file_is_reduced_without_the_array_warning(tmp_path):
    path = _saved(Image.fromarray(np.full((3, 4), 255, np.uint16)), tmp_path / "d.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(load_image(path), np.zeros((3, 4), np.uint8))


def test_a_grey_file_is_turned_as_its_exif_tag_says(tmp_path):
    picture = Image.fromarray(GREY)
    exif = picture.getexif()
    exif[0x0112] = 6  # turned 90 degrees clockwise to be shown
    path = _saved(picture, tmp_path / "turned.png", exif=exif)
    assert_array_equal(load_image(path), np.rot90(GREY, k=-1))


@pytest.mark.parametrize(
    "name, make, options, message",
    [
        (
            "clear.png",
            lambda: Image.fromarray(np.dstack([GREY, GREY]), "LA"),
            {},
            "has transparent pixels",
        ),
        # A PNG's tRNS chunk makes one grey level transparent.
        ("trns.png", lambda: Image.fromarray(GREY), {"transparency": 17}, "has trans"),
        (
            "trns16.png",
            lambda: Image.fromarray(np.arange(12, dtype=np.uint16).reshape(3, 4)),
            {"transparency": 5},
            "has transparent pixels",
        ),
        (
            "wide.tif",
            lambda: Image.fromarray(np.full((2, 2), 300, np.int32)),
            {},
            r"must lie in \[0, 255\] \(Pillow mode I",
        ),
        (
            "half.tif",
            lambda: Image.fromarray(np.full((2, 2), 0.5, np.float32)),
            {},
            r"whole numbers \(an image in \[0, 1\]",
        ),
        (
            "nan.tif",
            lambda: Image.fromarray(np.full((2, 2), np.nan, np.float32)),
            {},
            "NaN or infinite",
        ),
        (
            "negative.tif",
            lambda: Image.fromarray(np.full((2, 2), -1.0, np.float32)),
            {},
            r"must lie in \[0, 255\]",
        ),
    ],
)
def test_bad_grey_files_are_refused_naming_them(tmp_path, name, make, options, message):
    path = _saved(make(), tmp_path / name, **options)
    with pytest.raises(ValueError, match=message) as info:
        load_image(path)
    assert str(info.value).startswith(f"{path}: ")


def test_a_16_bit_grey_and_alpha_png_is_grey(tmp_path):
    deep = _sixteen_bit(GREY)
    opaque = np.full(GREY.shape, 65535)
    path = write_png16(tmp_path / "la16.png", np.dstack([deep, opaque]))
    assert_array_equal(load_image(path), GREY)
    opaque[1, 2] = 0
    path = write_png16(tmp_path / "clear16.png", np.dstack([deep, opaque]))
    with pytest.raises(ValueError, match=r"clear16\.png: has transparent pixels"):
        load_image(path)


def test_a_transparent_grey_level_not_in_the_image_is_no_transparency(tmp_path):
    path = _saved(Image.fromarray(GREY), tmp_path / "t.png", transparency=18)
    assert_array_equal(load_image(path), GREY)


# --- arrays ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        GREY,
        GREY[:, :, None],
        np.dstack([GREY, np.full_like(GREY, 255)]),
        GREY.astype(np.float64),
        GREY.astype(np.int64),
        GREY.astype(np.uint16) << 8,
        np.dstack([GREY.astype(np.uint16) << 8, np.full(GREY.shape, 65280, np.uint16)]),
    ],
    ids=["2-D", "h-w-1", "grey-alpha", "float", "int", "uint16", "uint16-alpha"],
)
def test_grey_arrays_give_grey_levels(array):
    image = load_image(array)
    assert image.dtype == np.uint8 and image.flags.c_contiguous
    assert_array_equal(image, GREY)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.dstack([GREY, np.full_like(GREY, 254)]), "has transparent pixels"),
        (
            np.dstack([GREY.astype(np.uint16), np.full(GREY.shape, 65279, np.uint16)]),
            "has transparent pixels",
        ),
        (np.full((2, 2), 300), r"\[0, 255\] \(16-bit values: pass the image as uint16"),
        (np.full((2, 2), 2.5), "whole numbers"),
        (np.full((2, 2), np.inf), "NaN or infinite"),
        (np.zeros((2, 0)), "empty"),
        (np.zeros((2, 2), bool), "boolean image is ambiguous"),
    ],
)
def test_bad_grey_arrays_are_refused(array, message):
    with pytest.raises(ValueError, match=message):
        load_image(array)


def test_a_uint16_grey_array_of_8_bit_values_warns():
    with pytest.warns(UserWarning, match=r"pass image\.astype\(np\.uint8\)"):
        assert_array_equal(load_image(GREY.astype(np.uint16)), np.zeros_like(GREY))


def test_grey_pixels_are_one_column():
    pixels = image_to_pixels(GREY)
    assert pixels.shape == (GREY.size, 1) and pixels.dtype == np.float64
    assert_array_equal(pixels[:, 0], GREY.ravel())


# --- the quantizer: 1-D k-means -------------------------------------------------


def _grey_photo(shape=(30, 40), seed=0):
    """Smooth grey levels with noise and many repeated levels."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    levels = rows * 6 + cols * 3 + rng.integers(-8, 9, size=shape)
    return np.clip(levels, 0, 255).astype(np.uint8)


def test_l2_fit_is_scikit_learns_1d_kmeans_from_the_same_start():
    image = _grey_photo()
    init = np.array([[10.0], [60.0], [120.0], [200.0], [250.0]])
    quantizer = ImageQuantizer(5, init=init, n_init=1, tol=0.0).fit(image)
    column = image.reshape(-1, 1).astype(np.float64)
    reference = KMeans(5, init=init, n_init=1, tol=0.0, algorithm="lloyd").fit(column)
    assert_array_equal(quantizer.labels_, reference.labels_)
    assert_allclose(quantizer.cluster_centers_, reference.cluster_centers_)
    assert quantizer.cluster_centers_.shape == (5, 1)
    # The inertia is that of the grey levels, not of (v, v, v) rows.
    assert quantizer.inertia_ == pytest.approx(reference.inertia_, rel=1e-9)
    compressed = quantizer.fit_transform(image)
    assert compressed.shape == image.shape and compressed.dtype == np.uint8
    expected = np.rint(reference.cluster_centers_[reference.labels_, 0])
    assert_array_equal(compressed, expected.reshape(image.shape))


def _best_l1_partition(values, k):
    """The k-medians optimum of a few values, by trying every labelling."""
    n = values.shape[0]
    subset_cost = np.full(1 << n, np.inf)
    for mask in range(1, 1 << n):
        members = values[[i for i in range(n) if mask >> i & 1]]
        subset_cost[mask] = np.abs(members - np.median(members)).sum()
    best, best_labels = np.inf, None
    for labels in itertools.product(range(k), repeat=n):
        masks = [sum(1 << i for i in range(n) if labels[i] == c) for c in range(k)]
        cost = sum(subset_cost[m] if m else np.inf for m in masks)
        if cost < best:
            best, best_labels = cost, np.array(labels)
    return best, best_labels


def test_l1_fit_finds_the_brute_force_k_medians_optimum():
    image = np.array([[3, 0, 9], [100, 96, 104], [250, 251, 240]], dtype=np.uint8)
    best, labels = _best_l1_partition(image.ravel().astype(float), 3)
    quantizer = ImageQuantizer(3, metric="l1", n_init=10, random_state=0).fit(image)
    assert quantizer.inertia_ == pytest.approx(best)
    # The same partition, whatever the numbering of the clusters.
    pairs = set(zip(quantizer.labels_.tolist(), labels.tolist(), strict=True))
    assert len(pairs) == 3
    medians = sorted(np.median(image.ravel()[labels == c]) for c in range(3))
    assert sorted(quantizer.cluster_centers_[:, 0]) == medians == [3, 100, 250]


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_grey_fit_is_the_fit_of_its_grey_rgb_image_with_a_third_of_its_inertia(
    metric,
):
    image = _grey_photo(seed=1)
    init = np.array([[20.0], [90.0], [180.0], [230.0]])
    grey = ImageQuantizer(4, metric=metric, init=init, n_init=1).fit(image)
    rgb = ImageQuantizer(4, metric=metric, init=np.repeat(init, 3, axis=1), n_init=1)
    rgb.fit(np.repeat(image[:, :, None], 3, axis=2))
    assert_array_equal(grey.labels_, rgb.labels_)
    assert_allclose(np.repeat(grey.cluster_centers_, 3, axis=1), rgb.cluster_centers_)
    assert rgb.inertia_ == pytest.approx(3 * grey.inertia_, rel=1e-9)


def test_grey_and_colour_quantizers_refuse_the_other_kind():
    grey = ImageQuantizer(2, random_state=0).fit(GREY)
    assert grey.n_features_in_ == 1 and grey.palette_.shape == (2, 1)
    with pytest.raises(ValueError, match="is colour but the quantizer was fitted on"):
        grey.transform(np.zeros((2, 2, 3), np.uint8))
    colour = ImageQuantizer(2, random_state=0).fit(np.dstack([GREY, GREY, 255 - GREY]))
    with pytest.raises(ValueError, match="grayscale but the quantizer was fitted on"):
        colour.transform(GREY)


def test_grey_transform_keeps_the_grey_shape():
    quantizer = ImageQuantizer(2, random_state=0).fit(GREY)
    out = quantizer.transform(GREY[:, :, None])
    assert out.shape == GREY.shape
    assert set(np.unique(out)) <= set(quantizer.palette_[:, 0])


def test_too_many_grey_levels_asked_names_grey_levels():
    with pytest.raises(ValueError, match=r"distinct grey levels of the image \(3\)"):
        ImageQuantizer(4).fit(np.array([[0, 1, 2, 2]], dtype=np.uint8))


def test_grey_panels_are_drawn_in_grey_on_the_full_scale():
    dark = np.full((4, 6), 10, np.uint8)  # one level: a colour map would stretch it
    figure = plot_reconstructions(dark, {"k = 1": dark})
    for ax in figure.axes:
        (shown,) = ax.get_images()
        assert shown.get_cmap().name == "gray"
        assert shown.get_clim() == (0, 255)


# --- the command ----------------------------------------------------------------


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _two_clusters():
    """Levels 10 and 12 on the left half, 200 and 204 on the right: k = 2
    gives centres 11 and 202 in both metrics (medians of two values are
    their midpoints)."""
    image = np.empty((6, 8), dtype=np.uint8)
    image[:, :4] = [10, 12, 10, 12]
    image[:, 4:] = [200, 204, 200, 204]
    return image


def test_cli_on_a_grey_png_writes_grey_and_honest_figures(tmp_path, capsys):
    image = _two_clusters()
    path = _saved(Image.fromarray(image), tmp_path / "scan.png")
    out = tmp_path / "out"
    code, _, stderr = _run(capsys, "image", path, "-k", 2, "--out", out)
    assert code == 0, stderr
    expected = np.where(np.arange(8) < 4, 11, 202) * np.ones((6, 1), int)
    for metric in ("l2", "l1"):
        with Image.open(out / "scan" / f"scan_{metric}_k2.png") as written:
            assert written.mode == "L"
            assert_array_equal(np.asarray(written), expected)
    rows = (out / "image_results.csv").read_text().splitlines()
    header = rows[0].split(",")
    table = [dict(zip(header, row.split(","), strict=True)) for row in rows[1:]]
    n = image.size  # 48 pixels, each 1 off (left) or 2 off (right) its centre
    inertia = {"l2": 24 * 1 + 24 * 4, "l1": 24 * 1 + 24 * 2}
    for row in table:
        assert float(row["inertia"]) == pytest.approx(inertia[row["metric"]])
        assert float(row["mse"]) == pytest.approx(120 / n)  # squared, per pixel
        assert float(row["psnr_db"]) == pytest.approx(10 * math.log10(255**2 * n / 120))
        assert int(row["raw_bytes"]) == n  # one byte a grey pixel
        assert int(row["compressed_bytes"]) == 2 + math.ceil(n * 1 / 8)
    manifest = json.loads((out / "skclust-manifest.json").read_text())
    assert "scan/scan_l2_k2.png" in json.dumps(manifest)
    assert main(["verify", str(out)]) == 0


def test_cli_refuses_a_transparent_grey_image_in_one_line(tmp_path, capsys):
    clear = np.dstack([GREY, np.where(GREY > 100, 255, 0).astype(np.uint8)])
    path = _saved(Image.fromarray(clear, "LA"), tmp_path / "clear.png")
    out = tmp_path / "out"
    code, _, stderr = _run(capsys, "image", path, "-k", 2, "--out", out)
    assert code == 2
    assert stderr.splitlines() == [
        f"skclust image: error: {path}: has transparent pixels; only fully opaque "
        "images are accepted (flatten the image onto a background colour first)"
    ]
    written = [p.name for p in out.rglob("*")] if out.exists() else []
    assert written in ([], [MARKER])


def test_cli_notes_a_16_bit_grey_tiff_and_names_grey_levels(tmp_path, capsys):
    deep = _sixteen_bit(np.array([[0, 0, 90], [90, 200, 200]], dtype=np.uint8))
    path = _saved(Image.fromarray(deep), tmp_path / "deep.tif")
    code, stdout, stderr = _run(
        capsys, "image", path, "-k", 3, 4, "--metric", "l2", "--out", tmp_path / "o"
    )
    assert code == 2  # k = 4 is skipped
    assert "note: deep.tif: has 16 bits per channel; it is reduced to 8 bits" in stdout
    assert stderr.splitlines() == [
        "skclust image: error: deep.tif: has 3 distinct grey levels; skipped k = 4 "
        "(more clusters than grey levels)"
    ]
    with Image.open(tmp_path / "o" / "deep" / "deep_l2_k3.png") as written:
        assert written.mode == "L"
        assert_array_equal(np.asarray(written), [[0, 0, 90], [90, 200, 200]])


def test_report_pictures_of_a_grey_image(tmp_path):
    original = np.zeros((40, 40), dtype=np.uint8)
    original[24:, 24:] = np.arange(16)[:, None] * 15  # stripes: the most detail
    assert _pictures.detailed_window(original, 16) == (24, 24)
    reconstruction = original // 32 * 32
    assert_array_equal(_pictures.pixel_error(original, reconstruction), original % 32)
    _pictures.save_png(original, tmp_path / "grey.png")
    with Image.open(tmp_path / "grey.png") as written:
        assert written.mode == "L"
        assert_array_equal(np.asarray(written), original)


def test_a_table_of_pixel_rows_is_read_as_grey_with_a_warning_at_the_callers_line():
    # image_to_pixels' rows given to ImageQuantizer: a grey image 3 pixels
    # wide, as documented, but said, at the line that passed them.
    rows = np.random.default_rng(0).integers(0, 256, size=(500, 3), dtype=np.uint8)
    for call in (load_image, ImageQuantizer(2, random_state=0).fit):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(rows)
        said = [
            w for w in caught if "read as a grey image 3 pixels wide" in str(w.message)
        ]
        assert len(said) == 1
        assert said[0].filename == __file__
    # Grey images of other widths, or of a few rows, are not questioned.
    for grey in (rows[:, :2], np.tile(rows, 2), rows[:4]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load_image(grey)
