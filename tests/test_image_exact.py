"""The exact palette of grayscale images: dynamic programming over grey levels."""

import itertools

import numpy as np
import pytest
from _lines import line_cost
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

from skclust import KMeansL2
from skclust._kmeans._optimal_1d import optimal_1d_centers
from skclust.image import ImageQuantizer


def _brute_force_cost(values, weights, k, manhattan):
    """The least cost over every labelling of the points into k clusters.

    Each cluster's cost is taken about its best center: the weighted mean
    (squares) or the best of its own points (absolute values; a weighted
    median is one of them). No use of contiguity or of the code under test.
    """
    best = np.inf
    for labels in itertools.product(range(k), repeat=len(values)):
        labels = np.array(labels)
        if len(set(labels)) < k:
            continue
        total = 0.0
        for c in range(k):
            x, w = values[labels == c], weights[labels == c]
            if manhattan:
                total += min((w * np.abs(x - t)).sum() for t in x)
            else:
                total += (w * (x - (w * x).sum() / w.sum()) ** 2).sum()
        best = min(best, total)
    return best


@pytest.mark.parametrize("manhattan", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_optimal_centers_reach_the_brute_force_optimum(seed, manhattan):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    values = np.sort(rng.choice(256, size=n, replace=False)).astype(float)
    weights = rng.integers(1, 9, size=n).astype(float)
    k = int(rng.integers(1, min(n, 4) + 1))
    centers = optimal_1d_centers(values, weights, k, manhattan)
    assert centers.shape == (k,)
    assert np.all(np.diff(centers) > 0)
    assert line_cost(values, weights, centers, manhattan) == pytest.approx(
        _brute_force_cost(values, weights, k, manhattan), rel=1e-12, abs=1e-9
    )


def test_optimal_centers_hand_worked():
    # Points 0, 1 (weight 3) and 9, 10: two clusters {0, 1} and {9, 10};
    # the means are 0.75 and 9.5, the weighted medians 1 and 9.5 (9 and 10
    # weigh half each: the midpoint, as Lloyd's median update takes it).
    values = np.array([0.0, 1.0, 9.0, 10.0])
    weights = np.array([1.0, 3.0, 1.0, 1.0])
    assert_allclose(optimal_1d_centers(values, weights, 2), [0.75, 9.5])
    assert_allclose(optimal_1d_centers(values, weights, 2, manhattan=True), [1, 9.5])
    # As many clusters as points: every point is its own center.
    assert_allclose(optimal_1d_centers(values, weights, 4), values)


def _grey(name="china.jpg", step=4):
    rgb = load_sample_image(name)[::step, ::step].astype(float)
    # ITU-R 601 luma, as Pillow's convert("L") weighs the channels.
    return np.rint(rgb @ [0.299, 0.587, 0.114]).astype(np.uint8)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_grey_palette_is_no_worse_than_any_lloyd_start(metric):
    # On a photograph's grey levels, Lloyd from k-means++ (ten starts of
    # ours, ten of scikit-learn's for L2) never goes below the exact
    # palette, and at k = 24 every one of them stays above it.
    grey = _grey()
    for k in (3, 12, 24):
        exact = ImageQuantizer(k, metric=metric).fit(grey)
        assert exact.algorithm_ == "exact"
        lloyd = ImageQuantizer(
            k, metric=metric, algorithm="lloyd", n_init=10, random_state=0
        ).fit(grey)
        assert lloyd.algorithm_ == "lloyd"
        assert exact.inertia_ <= lloyd.inertia_ * (1 + 1e-12)
        if metric == "l2":
            levels, counts = np.unique(grey, return_counts=True)
            sk = KMeans(k, n_init=10, random_state=0)
            sk.fit(levels.reshape(-1, 1).astype(float), sample_weight=counts)
            assert exact.inertia_ <= sk.inertia_ * (1 + 1e-9)
        if k == 24:
            assert exact.inertia_ < lloyd.inertia_ * (1 - 1e-3)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_grey_palette_on_a_tiny_image_is_the_brute_force_optimum(metric):
    grey = np.array([[0, 0, 7], [30, 31, 200], [201, 255, 7]], dtype=np.uint8)
    levels, counts = np.unique(grey, return_counts=True)
    for k in (2, 3, 4):
        quantizer = ImageQuantizer(k, metric=metric, random_state=0).fit(grey)
        expected = _brute_force_cost(
            levels.astype(float), counts.astype(float), k, metric == "l1"
        )
        assert quantizer.inertia_ == pytest.approx(expected, rel=1e-12)
        # The labels are those of the nearest palette entry.
        centers = quantizer.cluster_centers_[:, 0]
        gaps = np.abs(grey.reshape(-1, 1) - centers)
        assert_array_equal(gaps[np.arange(9), quantizer.labels_], gaps.min(axis=1))


def test_exact_palette_matches_scikit_learn_from_it():
    # scikit-learn's KMeans started at the exact centers stays there: same
    # labels, centers and inertia (so the optimum is a fixed point of Lloyd).
    grey = _grey("flower.jpg")
    quantizer = ImageQuantizer(24).fit(grey)
    sk = KMeans(24, init=quantizer.cluster_centers_, n_init=1, tol=0.0)
    sk.fit(grey.reshape(-1, 1).astype(float))
    assert_array_equal(sk.labels_, quantizer.labels_)
    assert_allclose(sk.cluster_centers_, quantizer.cluster_centers_)
    assert sk.inertia_ == pytest.approx(quantizer.inertia_, rel=1e-9)
    assert quantizer.n_iter_ == 1


def test_exact_palette_does_not_depend_on_seed_init_or_pixel_order():
    grey = _grey()
    first = ImageQuantizer(12, random_state=0).fit(grey)
    again = ImageQuantizer(12, init="random", n_init=5, random_state=7).fit(grey)
    assert_array_equal(first.cluster_centers_, again.cluster_centers_)
    shuffled = np.random.default_rng(0).permutation(grey.reshape(-1))
    other = ImageQuantizer(12).fit(shuffled.reshape(grey.shape))
    assert_array_equal(first.cluster_centers_, other.cluster_centers_)
    assert other.inertia_ == pytest.approx(first.inertia_, rel=1e-12)


def test_auto_keeps_a_start_the_caller_chose():
    grey = _grey()
    init = np.array([[10.0], [100.0], [200.0]])
    quantizer = ImageQuantizer(3, init=init).fit(grey)
    assert quantizer.algorithm_ == "lloyd"
    reference = KMeansL2(3, init=init).fit(grey.reshape(-1, 1).astype(float))
    assert_allclose(quantizer.cluster_centers_, reference.cluster_centers_)
    forced = ImageQuantizer(3, init=init, algorithm="exact").fit(grey)
    assert forced.algorithm_ == "exact"
    assert forced.inertia_ <= quantizer.inertia_


def test_colour_images_use_lloyd_and_refuse_exact():
    rgb = load_sample_image("china.jpg")[::8, ::8]
    assert ImageQuantizer(4, random_state=0).fit(rgb).algorithm_ == "lloyd"
    with pytest.raises(ValueError, match="algorithm='exact' needs a grayscale"):
        ImageQuantizer(4, algorithm="exact").fit(rgb)


def test_exact_palette_of_a_single_grey_level():
    grey = np.full((3, 4), 77, dtype=np.uint8)
    quantizer = ImageQuantizer(1).fit(grey)
    assert quantizer.algorithm_ == "exact"
    assert_array_equal(quantizer.palette_, [[77]])
    assert quantizer.inertia_ == 0.0


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_colour_image_of_grey_pixels_gets_the_grey_palette(metric):
    # A black and white photograph saved as RGB: its colours lie on the grey
    # diagonal, so its best palette is the grey image's, on all three
    # channels, with 3 times the inertia (distances over three equal
    # channels), and it beats Lloyd's ten starts at k = 24.
    grey = _grey()
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    one = ImageQuantizer(24, metric=metric).fit(grey)
    three = ImageQuantizer(24, metric=metric).fit(rgb)
    assert three.algorithm_ == "exact"
    assert_allclose(three.cluster_centers_, np.repeat(one.cluster_centers_, 3, axis=1))
    assert_array_equal(three.labels_, one.labels_)
    assert three.inertia_ == pytest.approx(3 * one.inertia_, rel=1e-12)
    lloyd = ImageQuantizer(
        24, metric=metric, algorithm="lloyd", n_init=10, random_state=0
    ).fit(rgb)
    assert three.inertia_ < lloyd.inertia_ * (1 - 1e-3)
    # One pixel off the diagonal makes it a colour image again.
    rgb[0, 0] = [10, 20, 30]
    assert ImageQuantizer(24, metric=metric).fit(rgb).algorithm_ == "lloyd"
    with pytest.raises(ValueError, match="colours that are all grey"):
        ImageQuantizer(24, algorithm="exact").fit(rgb)


def test_cli_notes_the_exact_palette_of_grey_images(tmp_path, capsys):
    from PIL import Image

    from skclust._cli import main

    grey = _grey(step=8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(np.repeat(grey[:, :, None], 3, axis=2)).save(tmp_path / "rgb.png")
    colour = load_sample_image("china.jpg")[::8, ::8]
    Image.fromarray(colour).save(tmp_path / "colour.png")
    paths = [tmp_path / name for name in ("grey.png", "rgb.png", "colour.png")]
    argv = ["image", *map(str, paths), "-k", "4", "8", "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    said = captured.out + captured.err
    noted = [line for line in said.splitlines() if "exact optimum" in line]
    assert len(noted) == 2, said  # once per grey image, none for colour
    assert noted[0].startswith("note: grey.png: ")
    assert noted[1].startswith("note: rgb.png: ")
