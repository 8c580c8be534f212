"""Review of the k-means estimators and of ``skclust image`` (rev13)."""

import os
import re
import warnings

import numpy as np
import pytest

from skclust import KMeansL2


def _offset_table(seed, n_features=20):
    """Rows near 1e5 spread by 1e-3: the distances are 1e-16 of |x|^2."""
    rng = np.random.default_rng(seed)
    return 1e5 + 1e-3 * rng.normal(size=(300, n_features))


@pytest.mark.parametrize("seed", range(3))
def test_predict_score_transform_of_rows_far_from_the_origin(seed):
    # With more than 16 features the distances of predict, score and
    # transform came from |x|^2 - 2 x.c + |c|^2 on the rows as given, which
    # kept none of their digits here: predict gave another label than
    # labels_ to most training rows, and score was off by a factor of 2.
    X = _offset_table(seed)
    km = KMeansL2(3, random_state=seed).fit(X)
    # The reference: squared distances from coordinate differences.
    squared = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(axis=2)
    assert np.array_equal(km.labels_, squared.argmin(axis=1))
    assert np.array_equal(km.predict(X), km.labels_)
    assert km.score(X) == pytest.approx(-squared.min(axis=1).sum(), rel=1e-9)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-9)
    np.testing.assert_allclose(km.transform(X) ** 2, squared, rtol=1e-9)
    new = _offset_table(seed + 10)
    new_squared = ((new[:, None, :] - km.cluster_centers_[None]) ** 2).sum(axis=2)
    assert np.array_equal(km.predict(new), new_squared.argmin(axis=1))


@pytest.mark.parametrize("limit", [200, 500])
def test_an_image_too_large_names_the_limit_set(tmp_path, monkeypatch, limit):
    # 24 x 32 = 768 pixels: above twice 200, where Pillow raises its error
    # saying that 400 is the limit, and above 500, where it only warns.
    from PIL import Image

    from skclust.image import load_image

    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((24, 32, 3), dtype=np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ValueError) as raised:
        load_image(path)
    assert str(raised.value) == (
        f"{path}: image too large (768 pixels, above the limit of {limit})"
    )


def test_a_k_beyond_any_image_is_skipped_not_fatal(tmp_path, capsys):
    # Counting the colours asked Pillow for a table of max(k) entries: a k
    # of 2**31 - 1 ended the run with "MemoryError", and 2**31 with "Python
    # int too large to convert to C long", before even k = 2 was fitted.
    from PIL import Image

    from skclust._cli import main

    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    path = tmp_path / "three.png"
    Image.fromarray(palette[np.arange(60) % 3].reshape(6, 10, 3)).save(path)
    argv = ["image", path, "-k", 2, 2**31 - 1, 2**31, "--metric", "l2", "-q"]
    code = main([str(a) for a in [*argv, "--out", tmp_path / "o"]])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr == (
        "skclust image: error: three.png: has 3 distinct colours; "
        "skipped k = 2147483647, 2147483648 (more clusters than colours)\n"
    )
    assert (tmp_path / "o" / "three" / "three_l2_k2.png").is_file()


def test_float32_distances_past_float32_say_float32():
    # The distances of float32 rows are float32: 3e38 from -2.85e38 is past
    # float32's range (3.4e38), not float64's, which the warning said.
    from skclust import KMeansL1

    big = 3e38
    X = np.array([[big], [big / 2], [-big], [-0.9 * big]], dtype=np.float32)
    km = KMeansL1(2, init=X[[2, 0]]).fit(X)
    with pytest.warns(RuntimeWarning, match="exceeds the float32 range"):
        distances = km.transform(X)
    assert distances.dtype == np.float32
    assert np.isinf(distances[0, 0])
    assert distances[0, 1] == pytest.approx(0.75e38, rel=1e-6)


def test_images_named_like_the_runs_own_files(tmp_path, capsys):
    # An image's folder is named after its file: image_results.csv.png gave
    # the folder image_results.csv, where the table is then written ("Is a
    # directory", with a staging path), and skclust-manifest.json.png the
    # manifest's name; either ended the run with nothing written. Names
    # equal in another case are avoided too (case-insensitive file systems).
    from PIL import Image

    from skclust._cli import main

    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    image = palette[np.arange(60) % 3].reshape(6, 10, 3)
    names = [
        "image_results.csv.png",
        "skclust-manifest.json.png",
        "Image_Results.MD.png",
    ]
    for name in names:
        Image.fromarray(image).save(tmp_path / name, format="PNG")
    out = tmp_path / "o"
    argv = ["image", *(tmp_path / n for n in names), "-k", 2, "--metric", "l2"]
    code = main([str(a) for a in [*argv, "-q", "--out", out]])
    assert capsys.readouterr().err == ""
    assert code == 0
    for stem in (
        "image_results.csv-2",
        "skclust-manifest.json-2",
        "Image_Results.MD-2",
    ):
        assert (out / stem / f"{stem}_l2_k2.png").is_file()
    assert (out / "image_results.csv").is_file()
    assert (out / "skclust-manifest.json").is_file()


@pytest.mark.parametrize(
    "orientation, turned",
    [
        (1, lambda a: a),
        (3, lambda a: a[::-1, ::-1]),
        (6, lambda a: np.rot90(a, -1)),  # turned 90 degrees clockwise
        (8, lambda a: np.rot90(a)),
        (2, lambda a: a[:, ::-1]),
        (5, lambda a: a.transpose(1, 0, 2)),
    ],
)
def test_the_exif_orientation_is_applied(tmp_path, orientation, turned):
    # A camera's portrait photo is stored lying on its side with an EXIF
    # orientation tag; every output of `skclust image` showed it that way.
    from PIL import Image

    from skclust._cli.image import _reading_notes
    from skclust.image import load_image

    stored = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    picture = Image.fromarray(stored)
    exif = picture.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.png"
    picture.save(path, exif=exif)
    assert np.array_equal(load_image(path), turned(stored))
    notes = _reading_notes(path)
    if orientation == 1:
        assert notes == []
    else:
        assert len(notes) == 1 and "EXIF orientation" in notes[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_not_a_missing_file(tmp_path):
    # A named pipe (or /dev/zero) given as an image or a table was reported
    # as "no such file", which sent the user looking for a typo.
    from skclust.image import load_image

    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    message = f"{pipe}: is not a regular file (a pipe, device or socket)"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_image(pipe)


def test_score_scales_the_weights_as_fit_does():
    # By hand, L1 from centers 0 and 10: medians 2 (weights 1, 1, 2, 1 on
    # 0, 1, 2, 3) and 10.5 (a tie of 10 and 11), costs 2 + 1 + 0 + 1 and
    # 0.5 + 0.5 times the weight unit: 5 units. With the smallest subnormal
    # as the unit, score multiplied each cost by it and rounded 0.5 units to
    # nothing: 4 units, where inertia_ (scaled weights) had 5.
    from skclust import KMeansL1

    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])
    unit = 5e-324
    weights = unit * np.array([1.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    km = KMeansL1(2, init=[[0.0], [10.0]]).fit(X, sample_weight=weights)
    assert km.cluster_centers_.ravel().tolist() == [2.0, 10.5]
    assert km.inertia_ == 5 * unit
    assert km.score(X, sample_weight=weights) == -5 * unit


def test_score_past_float64_warns_once():
    # Weights near 1e308: the weighted sum overflowed in numpy (its own
    # "overflow encountered in matmul" warning) before skclust's warning.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])
    weights = np.array([1e308, 1e308, 1e308, 1e308, 1.0, 1.0])
    km = KMeansL2(2, init=[[0.0], [10.0]])
    with pytest.warns(RuntimeWarning, match="inertia exceeds"):
        km.fit(X, sample_weight=weights)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert km.score(X, sample_weight=weights) == -np.inf
    assert [str(w.message) for w in caught] == [
        "the score exceeds the float64 range for data of this magnitude and is "
        "returned as infinity"
    ]


def test_two_images_of_one_name_are_told_apart(tmp_path, capsys):
    # a/x.png and b/x.png were both "x.png" in the results table.
    from PIL import Image

    from skclust._cli import main

    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    for folder, n in (("a", 2), ("b", 3)):
        (tmp_path / folder).mkdir()
        image = palette[np.arange(60) % n].reshape(6, 10, 3)
        Image.fromarray(image).save(tmp_path / folder / "x.png")
    out = tmp_path / "o"
    argv = ["image", "a/x.png", "b/x.png", "-k", 2, "--metric", "l2", "-q"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        code = main([str(a) for a in [*argv, "--out", out]])
    assert code == 0, capsys.readouterr().err
    table = (out / "image_results.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in table[1:]] == ["a/x.png", "b/x.png"]
    # The rows are those of their own image: a/x.png has two colours, which
    # two centers keep exactly (MSE 0); b/x.png has three.
    mse = [float(row.split(",")[6]) for row in table[1:]]
    assert mse[0] == 0.0 and mse[1] > 0.0
