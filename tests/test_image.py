"""Images to pixels and back, ImageQuantizer, the study's compress(), quality."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from conftest import study_file, traced_peak
from skclust import KMeansL1, KMeansL2
from skclust._cli import image as image_command
from skclust.image import (
    ImageQuantizer,
    compress,
    image_to_pixels,
    load_image,
    pixels_to_image,
)
from skclust.metrics import image_mse, palette_image_size, psnr


def _photo(seed=0, shape=(24, 32)):
    """A small image with smooth colour regions, noise and repeated colours."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    image = np.stack(
        [rows * 255 // shape[0], cols * 255 // shape[1], (rows + cols) % 64 * 4],
        axis=2,
    )
    image = image + rng.integers(-3, 4, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _save(array, path, mode=None):
    Image.fromarray(array, mode=mode).save(path)
    return path


# --- loading -------------------------------------------------------------------


def test_load_rgb_rgba_and_palette_files(tmp_path):
    photo = _photo()
    assert_array_equal(load_image(_save(photo, tmp_path / "a.png")), photo)
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    assert_array_equal(load_image(_save(rgba, tmp_path / "b.png")), photo)
    paletted = Image.fromarray(photo).quantize(16)
    paletted.save(tmp_path / "c.png")
    loaded = load_image(tmp_path / "c.png")
    assert loaded.shape == photo.shape
    assert len(np.unique(loaded.reshape(-1, 3), axis=0)) <= 16


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda p: _save(np.zeros((4, 4, 2), np.uint8), p / "clear_grey.png"),
            "transparent pixels",
        ),
        (lambda p: p / "missing.png", "no such file"),
        (lambda p: (p / "t.png").write_text("hello") and p / "t.png", "not an image"),
        (
            lambda p: _save(np.zeros((4, 4, 4), np.uint8), p / "clear.png"),
            "transparent pixels",
        ),
    ],
)
def test_load_refuses_bad_files_naming_them(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ValueError, match=message) as info:
        load_image(path)
    assert str(path) in str(info.value)


def test_load_refuses_a_truncated_file(tmp_path):
    path = _save(_photo(shape=(64, 64)), tmp_path / "full.png")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(path.read_bytes()[:400])
    with pytest.raises(ValueError, match=r"cut\.png: unreadable image"):
        load_image(truncated)


@pytest.mark.parametrize("limit", [200, 500])
def test_decompression_bomb_guard_stays_on(tmp_path, monkeypatch, limit):
    # 768 pixels: above twice 200 (Pillow's error) and above 500 (its warning).
    path = _save(_photo(), tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ValueError, match="too large"):
        load_image(path)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((3, 3, 2)), "transparent pixels"),
        (np.full((3, 3, 3), 300.0), r"\[0, 255\]"),
        (np.full((3, 3, 3), 1.5), "whole numbers"),
        (np.zeros((3, 3, 5)), "expected an image"),
    ],
)
def test_load_refuses_bad_arrays(array, message):
    with pytest.raises(ValueError, match=message):
        load_image(array)


def test_pixels_round_trip():
    photo = _photo()
    pixels = image_to_pixels(photo)
    assert pixels.shape == (photo.shape[0] * photo.shape[1], 3)
    labels = np.arange(len(pixels))
    assert_array_equal(pixels_to_image(labels, pixels, photo.shape), photo)


# --- ImageQuantizer ------------------------------------------------------------


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_quantizer_reconstruction_uses_only_palette_colours(metric):
    photo = _photo()
    quantizer = ImageQuantizer(6, metric=metric, random_state=0)
    compressed = quantizer.fit_transform(photo)
    assert compressed.shape == photo.shape and compressed.dtype == np.uint8
    colours = np.unique(compressed.reshape(-1, 3), axis=0)
    palette = np.unique(quantizer.palette_, axis=0)
    assert_array_equal(colours, palette)
    assert quantizer.palette_.shape == (6, 3)
    assert_array_equal(quantizer.transform(photo), compressed)
    assert quantizer.n_iter_ >= 1 and quantizer.fit_time_ > 0
    Estimator = KMeansL2 if metric == "l2" else KMeansL1
    reference = Estimator(6, random_state=0).fit(image_to_pixels(photo))
    assert quantizer.inertia_ == pytest.approx(reference.inertia_)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_quantizer_is_the_fit_on_every_pixel(metric):
    # The fit on distinct colours weighted by their counts, against the
    # estimator fitted on the float64 table of every pixel.
    photo = _photo(5, shape=(40, 30))
    quantizer = ImageQuantizer(5, metric=metric, random_state=0).fit(photo)
    Estimator = KMeansL2 if metric == "l2" else KMeansL1
    reference = Estimator(5, random_state=0).fit(image_to_pixels(photo))
    assert_array_equal(quantizer.labels_, reference.labels_)
    assert_array_equal(quantizer.cluster_centers_, reference.cluster_centers_)
    assert quantizer.inertia_ == reference.inertia_
    assert quantizer.labels_.dtype == np.int32
    assert_array_equal(
        quantizer.transform(photo).reshape(-1, 3),
        quantizer.palette_[reference.predict(image_to_pixels(photo))],
    )


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 4, 3)])
def test_quantizer_on_a_single_colour(shape):
    image = np.full(shape, 7, dtype=np.uint8)
    quantizer = ImageQuantizer(1, random_state=0)
    assert_array_equal(quantizer.fit_transform(image), image)
    assert_array_equal(quantizer.labels_, np.zeros(shape[0] * shape[1]))
    assert quantizer.inertia_ == 0.0


def test_quantizer_l1_palette_is_the_median_colour():
    photo = _photo(1)
    quantizer = ImageQuantizer(4, metric="l1", random_state=0).fit(photo)
    pixels = image_to_pixels(photo)
    for j in range(4):
        median = np.median(pixels[quantizer.labels_ == j], axis=0)
        assert_array_equal(quantizer.cluster_centers_[j], median)


def test_quantizer_transforms_another_image_of_other_size():
    quantizer = ImageQuantizer(5, random_state=0).fit(_photo(0))
    other = _photo(1, shape=(10, 7))
    assert quantizer.transform(other).shape == (10, 7, 3)


def test_quantizer_refuses_more_colours_than_the_image_has():
    image = np.zeros((4, 4, 3), np.uint8)
    image[:2] = 255
    with pytest.raises(ValueError, match=r"n_colors=3 .* distinct colours .*\(2\)"):
        ImageQuantizer(3).fit(image)


def test_inertia_falls_as_k_grows():
    photo = _photo(2, shape=(48, 64))
    inertias = [
        ImageQuantizer(k, random_state=0, n_init=2).fit(photo).inertia_
        for k in (3, 6, 12, 24, 48)
    ]
    assert all(b < a for a, b in itertools.pairwise(inertias))


# --- compress(): the study's interface -------------------------------------------


@pytest.mark.parametrize("norm", [1, 2])
@pytest.mark.parametrize("flat", [True, False])
def test_compress_returns_the_studys_dictionary(norm, flat):
    photo = _photo(3)
    pixels = photo.reshape(-1, 3) if flat else photo
    result = compress(pixels, 5, norm, random_state=0)
    n = photo.shape[0] * photo.shape[1]
    assert result["class"].shape == (n, 1)
    assert_array_equal(np.unique(result["class"]), np.arange(1, 6))
    assert result["centroid"].shape == (5, 3)
    assert result["centroid"].min() >= 0 and result["centroid"].max() <= 255
    assert result["img"].shape == np.shape(pixels)
    assert result["img"].dtype == np.uint8
    assert result["number_of_iterations"] >= 1 and result["time_taken"] > 0
    assert result["additional_args"]["inertia"] > 0
    centroid_rows = np.rint(result["centroid"][result["class"].ravel() - 1])
    assert_array_equal(result["img"].reshape(-1, 3), centroid_rows)


def test_compress_keeps_the_best_of_several_starts():
    photo = _photo(4)
    single = compress(photo, 8, random_state=0, n_init=1)
    several = compress(photo, 8, random_state=0, n_init=6)
    assert several["additional_args"]["inertia"] <= single["additional_args"]["inertia"]


def test_compress_refuses_other_norms():
    with pytest.raises(ValueError, match="norm_distance must be 1 or 2"):
        compress(_photo(), 3, norm_distance=3)


# --- quality figures -------------------------------------------------------------


def test_quality_figures_by_hand():
    original = np.array([[[0, 0, 0], [10, 20, 30]]])
    changed = np.array([[[0, 0, 3], [10, 20, 30]]])
    assert image_mse(original, changed) == pytest.approx(9 / 6)
    assert psnr(original, changed) == pytest.approx(10 * np.log10(255**2 / 1.5))
    assert psnr(original, original) == np.inf
    size = palette_image_size(n_pixels=100, n_colors=5)
    # 5 colours need 3 bits: 300 bits = 38 bytes (rounded up), plus 15 bytes.
    assert size == {
        "raw_bytes": 300,
        "palette_bytes": 15,
        "index_bits": 3,
        "compressed_bytes": 53,
        "ratio": 300 / 53,
    }
    assert palette_image_size(10, 1)["compressed_bytes"] == 3


# --- the study's images ----------------------------------------------------------


@pytest.mark.parametrize("name", ["football.bmp", "parrots.png"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_study_images(name, metric):
    image = load_image(study_file(name))
    assert (
        image.shape
        == {"football.bmp": (412, 620, 3), "parrots.png": (393, 600, 3)}[name]
    )
    quantizer = ImageQuantizer(6, metric=metric, random_state=0)
    compressed = quantizer.fit_transform(image)
    assert compressed.shape == image.shape
    assert len(np.unique(compressed.reshape(-1, 3), axis=0)) == 6
    result = compress(image.reshape(-1, 3), 6, 2 if metric == "l2" else 1)
    assert_array_equal(np.unique(result["class"]), np.arange(1, 7))
    assert 15 < psnr(image, compressed) < 40


# --- memory --------------------------------------------------------------------


def _bytes_per_extra_pixel(function, tile, repeats):
    """Traced peak memory per pixel added by tiling ``tile`` ``repeats`` times.

    Both images have the same distinct colours, with pixel counts in the ratio
    ``repeats**2`` (a power of two: the weighted fit on the colours is the
    same to the bit), so the fixed costs cancel and what is left grows with
    the pixels. Red is zero in the tile: the tables indexed by colour stay
    small (65,536 keys), so that the peak is where per-pixel arrays pile up.
    """
    tile = tile.copy()
    tile[:, :, 0] = 0
    large = np.tile(tile, (repeats, repeats, 1))
    function(tile)  # imports, caches and first-use allocations, untraced
    small_peak = traced_peak(function, tile)
    large_peak = traced_peak(function, large)
    return (large_peak - small_peak) / (large.size // 3 - tile.size // 3)


# numpy's arrays are traced, not Pillow's own buffers: the figure tested is
# what skclust allocates. The float64 pixel table alone was 24 bytes a pixel,
# and the fit on every pixel used about 90.
_ESTIMATOR_BYTES_PER_PIXEL = 12
_CLI_BYTES_PER_PIXEL = 16


def test_quantizer_memory_per_pixel_is_bounded():
    tile = _photo(3, shape=(256, 256))

    def fit_transform(image):
        ImageQuantizer(8, random_state=0).fit_transform(image)

    per_pixel = _bytes_per_extra_pixel(fit_transform, tile, 4)
    assert 0 < per_pixel <= _ESTIMATOR_BYTES_PER_PIXEL


def test_image_command_memory_per_pixel_is_bounded(tmp_path):
    # 512 and 1024 pixels square: the grid figure draws both at 512 x 512.
    tile = _photo(4, shape=(512, 512))
    runs = itertools.count()

    def command(image):
        path = tmp_path / f"photo{next(runs)}.bmp"
        Image.fromarray(image).save(path)
        source = image_command._Source(path.name, path=path)
        out = tmp_path / path.stem
        out.mkdir()
        result = image_command.quantize_images(
            [source], [8], ["l2"], out, log=lambda message: None
        )
        assert not result.errors

    per_pixel = _bytes_per_extra_pixel(command, tile, 2)
    assert 0 < per_pixel <= _CLI_BYTES_PER_PIXEL
