"""Colour quantization of photographs: images to pixels and back, ImageQuantizer.

An image of shape (height, width, 3) becomes an (n_pixels, 3) array of RGB
values in [0, 255]; k-means on those rows finds a palette of k colours, and the
compressed image stores the palette plus one small index per pixel. A grayscale
image, of shape (height, width), is the same on one channel: an (n_pixels, 1)
column of grey levels and a palette of k grey levels.
"""

import re
import struct
import time
import warnings
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Self

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._checks import warn_at_caller
from ._files import check_input_file
from ._kmeans import RUN_CONSTRAINTS, KMeansL1, KMeansL2
from ._kmeans._optimal_1d import optimal_1d_centers
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._typing import ArrayLike, KMeansInit, NDArray, PathLike, RandomStateLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_COLOUR_MODES = {"RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"}
_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def load_image(source: PathLike | ArrayLike) -> NDArray[np.uint8]:
    """Read an image from a path (or take an array) as uint8, RGB or grey.

    A colour image comes back as an (h, w, 3) RGB array, a grayscale one as
    an (h, w) array of grey levels: quantizing grey levels is the same task
    on one channel (see :class:`ImageQuantizer`). Palette images and other
    colour modes are converted to RGB; bilevel images (Pillow's mode "1")
    give grey levels 0 and 255. An RGBA or grey-plus-alpha image is accepted
    when fully opaque and its alpha channel dropped. A file's EXIF
    orientation tag is applied, so the image is turned as viewers show it. A
    file holding several images (the frames of an animated GIF, the pages of
    a TIFF) is read at its first. Pillow's decompression-bomb guard stays on,
    and an image it flags as too large is refused. An array of shape (n, 3)
    or (n, 4) with more than 4 rows, most likely rows of RGB pixels
    (:func:`image_to_pixels`), is read as a grey image 3 or 4 pixels wide,
    with a warning.

    16-bit images, colour or grey, are reduced to 8 bits, each value to its
    top 8 bits (``v >> 8``), whether read from a file (as Pillow reads a
    16-bit colour PNG) or given as a ``uint16`` array, which is taken to span
    [0, 65535]; an image with alpha is opaque when its alpha is 65280 or more
    (255 on 8 bits). A ``uint16`` array whose values all lie in [0, 255] is
    most likely 8-bit values in a wider type, which would come out nearly
    black: it is reduced too, with a warning to pass
    ``image.astype(np.uint8)`` instead. Other types, and files of 32-bit
    integer or float pixels (Pillow's modes "I" and "F", as in scientific
    TIFFs), must hold whole numbers in [0, 255].

    Parameters
    ----------
    source : str, Path or array-like
        A file path or an image array of shape (h, w, 3) or (h, w, 4) for
        colour, (h, w), (h, w, 1) or (h, w, 2) for grey: ``uint16`` with
        values in [0, 65535], any other type with values in [0, 255].

    Returns
    -------
    image : ndarray of shape (h, w, 3) or (h, w), dtype uint8
        RGB values, or grey levels for a grayscale image.

    Raises
    ------
    ValueError
        When the file is missing, not an image, truncated, too large, or has
        transparent pixels, or its values are out of range; the message
        names the file.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.image import load_image
    >>> rgba = np.full((2, 2, 4), 255, dtype=np.uint8)
    >>> load_image(rgba).shape
    (2, 2, 3)
    >>> load_image(np.full((1, 2, 3), [[0], [65535]], dtype=np.uint16))[0, :, 0]
    array([  0, 255], dtype=uint8)
    >>> load_image(np.array([[0.0, 128.0], [255.0, 3.0]]))
    array([[  0, 128],
           [255,   3]], dtype=uint8)
    >>> load_image(np.full((2, 2), 0.5))
    Traceback (most recent call last):
    ...
    ValueError: image: pixel values must be whole numbers (an image in [0, 1]: ...
    """
    if isinstance(source, (str, Path)):
        return _read_image_file(Path(source))
    return _check_image_array(np.asarray(source), "image")


# What Pillow raises, besides OSError, on a file it has begun to read and
# finds damaged: a PNG with a broken chunk raised SyntaxError, one with a
# short header chunk ValueError("Truncated IHDR chunk"), without the path.
_DAMAGED = (SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)


def _decoded_image(path):
    """``path`` opened and decoded by Pillow and turned as its EXIF tag says.

    Returns
    -------
    picture : PIL.Image.Image
        Loaded; the caller closes it.
    mode : str
        The mode the file declared (loading may change ``picture.mode``).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Image.open reads the size only; the pixel limit is checked there,
            # before anything is decoded.
            picture = Image.open(path)
            try:
                mode = picture.mode
                picture.load()
                # Cameras store the pixels as the sensor saw them and say in
                # the EXIF orientation tag how to turn them; viewers do, and
                # so does the reading here, or a portrait photo comes back
                # lying on its side.
                ImageOps.exif_transpose(picture, in_place=True)
            except BaseException:
                picture.close()
                raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"{path}: image too large ({_over_limit(error)})") from None
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not an image file Pillow can read") from None
    except (OSError, *_DAMAGED) as error:
        message = " ".join(str(error).split())[:200] or type(error).__name__
        raise ValueError(f"{path}: unreadable image ({message})") from None
    except MemoryError:
        # The pixels fit the limit, checked above: a length field is damaged.
        # A PNG whose IDAT chunk declared 2 GB had Pillow read that much.
        raise ValueError(
            f"{path}: unreadable image (reading it ran out of memory; a length "
            "in the file is damaged)"
        ) from None
    return picture, mode


def _read_image_file(path):
    check_input_file(path)
    opened, mode = _decoded_image(path)
    try:
        with opened:
            if mode in _GREY_MODES:
                return _grey_file_array(opened, path)
            if mode == "RGBA" and _is_grey_png(path):
                # Pillow reads a 16-bit grey-and-alpha PNG as RGBA, its
                # three colour channels equal: grey level and alpha.
                grey_alpha = _pillow_to_array(opened)[:, :, [0, 3]]
                return _check_image_array(grey_alpha, str(path))
            if mode in {"RGB", "RGBA"} and "transparency" not in opened.info:
                converted = opened
            elif mode in {"RGBA", "PA"} or "transparency" in opened.info:
                converted = opened.convert("RGBA")
            else:
                converted = opened.convert("RGB")
            array = _pillow_to_array(converted)
    except OSError as error:
        raise ValueError(f"{path}: unreadable image ({error})") from None
    return _check_image_array(array, str(path))


def _is_grey_png(path):
    """Whether ``path`` is a PNG whose header says grey (colour type 0 or 4)."""
    with open(path, "rb") as handle:
        head = handle.read(26)
    # The IHDR chunk comes first; byte 25 is the colour type.
    return (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        and head[12:16] == b"IHDR"
        and head[25] in (0, 4)
    )


def _grey_file_array(picture, path):
    """The grey levels of a loaded grayscale Pillow image, uint8 (h, w).

    8-bit modes go through Pillow ("1" to 0 and 255, a premultiplied "La" to
    "LA", a transparent grey level to an alpha channel); the others keep
    their values, which :func:`_check_image_array` reduces or checks.
    """
    mode = picture.mode
    transparent = picture.info.get("transparency")
    if mode in {"1", "L", "La"}:
        has_alpha = mode == "La" or transparent is not None
        picture = picture.convert("LA" if has_alpha else "L")
        transparent = None
    array = _pillow_to_array(picture)
    if transparent is not None and mode != "LA" and np.any(array == transparent):
        raise ValueError(_transparent_message(str(path)))
    if mode == "I" and picture.format == "PNG":
        # A PNG holds at most 16 bits a channel; older Pillow versions read
        # a 16-bit grey PNG as "I" (32-bit integers), newer ones as "I;16".
        array = array.astype(np.uint16)
    return _check_image_array(array, str(path), file_mode=mode)


def _over_limit(error):
    """The size of an image Pillow refused and the limit it is over.

    Pillow raises its error above twice ``Image.MAX_IMAGE_PIXELS`` and says
    that twice is the limit, which is not the one set (``--max-pixels``).
    """
    size = re.search(r"\((\d+) pixels\)", str(error))
    if size is None:
        return str(error)
    return (
        f"{int(size.group(1)):,} pixels, above the limit of {Image.MAX_IMAGE_PIXELS:,}"
    )


# Pixels handled at a time by the loops that keep per-pixel temporaries small.
_CHUNK = 1 << 18


def _chunks(n):
    """Slices of ``range(n)`` of ``_CHUNK`` items (the last one shorter)."""
    return (slice(start, min(start + _CHUNK, n)) for start in range(0, n, _CHUNK))


def _pillow_to_array(picture):
    """A loaded Pillow image as an (h, w, bands) array, copied in strips.

    The type is Pillow's for the mode: uint8 for 8-bit modes, uint16, int32
    or float32 for the grey modes "I;16", "I" and "F".

    ``np.asarray(picture)`` goes through ``tobytes``, which holds the pixels
    twice more while it joins its pieces; strips of rows cost one copy.
    """
    width, height = picture.size
    rows = max(1, _CHUNK // max(width, 1))
    array = None
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        strip = np.asarray(picture.crop((0, top, width, bottom)))
        if array is None:
            bands = strip.shape[2:] or (1,)
            array = np.empty((height, width, *bands), dtype=strip.dtype)
        array[top:bottom] = strip.reshape(bottom - top, width, -1)
    if array is None:  # no rows: refused as empty by _check_image_array
        array = np.empty((0, width, len(picture.getbands())), dtype=np.uint8)
    return array


def _transparent_message(name):
    return (
        f"{name}: has transparent pixels; only fully opaque images are "
        "accepted (flatten the image onto a background colour first)"
    )


def _check_image_array(image, name, file_mode=None):
    """``image`` as uint8 (h, w, 3) RGB or (h, w) grey, or a ValueError.

    ``file_mode`` is the Pillow mode of the file it was read from (None for
    an array given by the caller), which words the hints: a file's 16-bit
    values are reduced without the warning meant for arrays.
    """
    if image.ndim == 2:
        if file_mode is None and image.shape[1] in (3, 4) and image.shape[0] > 4:
            # image_to_pixels' rows, most likely: taken as they are documented.
            warn_at_caller(
                f"{name}: an array of shape {image.shape} is read as a grey "
                f"image {image.shape[1]} pixels wide; an RGB image is "
                "(height, width, 3), and rows of RGB pixels are clustered by "
                "KMeansL2 or KMeansL1"
            )
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise ValueError(
            f"{name}: expected an image of shape (height, width, 3) or "
            f"(height, width), got {image.shape}"
        )
    if image.size == 0:
        raise ValueError(f"{name}: the image is empty")
    # Either byte order: FITS readers and Pillow's "I;16B" give big-endian.
    if image.dtype.kind == "u" and image.dtype.itemsize == 2:
        image = _top_8_bits(image, name, warn=file_mode is None)
    if image.dtype == bool:
        raise ValueError(
            f"{name}: a boolean image is ambiguous; pass it as 0 and 255 "
            "(image.astype(np.uint8) * 255)"
        )
    if not np.issubdtype(image.dtype, np.number) or np.iscomplexobj(image):
        raise ValueError(f"{name}: pixel values must be real numbers")
    if image.dtype != np.uint8 and not np.all(np.isfinite(image)):
        raise ValueError(f"{name}: holds NaN or infinite pixel values")
    if image.dtype != np.uint8 and (image.min() < 0 or image.max() > 255):
        deep = image.dtype.kind in "iu" and image.min() >= 0 and image.max() <= 65535
        if file_mode is not None:
            hint = f" (Pillow mode {file_mode}: save the image with 8 or 16 bits)"
        else:
            hint = " (16-bit values: pass the image as uint16)" if deep else ""
        raise ValueError(f"{name}: pixel values must lie in [0, 255]{hint}")
    if image.shape[2] in (2, 4):
        if np.any(image[:, :, -1] != 255):
            raise ValueError(_transparent_message(name))
        image = image[:, :, :-1]
    if image.dtype != np.uint8:
        # Integers are whole: rint would make a float64 copy of them.
        if image.dtype.kind == "f" and not np.array_equal(image, np.rint(image)):
            # Float images in [0, 1] (matplotlib's and scikit-image's
            # convention) are the likely cause.
            scale = " (an image in [0, 1]: multiply by 255)" if image.max() <= 1 else ""
            raise ValueError(f"{name}: pixel values must be whole numbers{scale}")
        image = image.astype(np.uint8)
    if image.shape[2] == 1:
        image = image[:, :, 0]
    return np.ascontiguousarray(image)


def _top_8_bits(image, name, warn=True):
    """A 16-bit image reduced to 8 bits as Pillow reduces a 16-bit PNG."""
    if warn and image.max() <= 255:
        warnings.warn(
            f"{name}: a uint16 image is read as 16-bit, values in [0, 65535], "
            "and every value here is at most 255, so it comes out nearly "
            "black; if these are 8-bit values, pass image.astype(np.uint8)",
            UserWarning,
            stacklevel=4,
        )
    return (image >> 8).astype(np.uint8)


def image_to_pixels(image: PathLike | ArrayLike) -> NDArray[np.float64]:
    """Flatten an image into a float64 array of pixels, one row each.

    An (h, w, 3) colour image gives (h*w, 3) RGB rows, an (h, w) grayscale
    image (h*w, 1) grey levels (see :func:`load_image` for what is accepted).

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.image import image_to_pixels
    >>> image_to_pixels(np.zeros((2, 3, 3), dtype=np.uint8)).shape
    (6, 3)
    >>> image_to_pixels(np.zeros((2, 3), dtype=np.uint8)).shape
    (6, 1)
    """
    image = load_image(image)
    return image.reshape(-1, _n_channels(image)).astype(np.float64)


def _n_channels(image):
    """3 for an (h, w, 3) image from :func:`load_image`, 1 for a grey (h, w)."""
    return 1 if image.ndim == 2 else image.shape[2]


def pixels_to_image(
    labels: ArrayLike, centers: ArrayLike, shape: tuple[int, ...]
) -> NDArray[np.uint8]:
    """Rebuild a uint8 image from per-pixel labels and the cluster centers.

    Parameters
    ----------
    labels : array-like of shape (n_pixels,)
        Cluster of each pixel, from 0 to k-1.
    centers : array-like of shape (k, 3), or (k, 1) for grey levels
        Colours, rounded to the nearest integer and clipped to [0, 255].
    shape : tuple
        Shape of the result, e.g. ``(height, width, 3)``, or
        ``(height, width)`` for grey levels.

    Examples
    --------
    >>> from skclust.image import pixels_to_image
    >>> pixels_to_image([0, 1], [[0.4, 10.6, 300.0], [1.0, 2.0, 3.0]], (1, 2, 3))
    array([[[  0,  11, 255],
            [  1,   2,   3]]], dtype=uint8)
    """
    palette = _palette(np.asarray(centers, dtype=np.float64))
    return palette[np.asarray(labels)].reshape(shape)


def _palette(centers):
    return np.clip(np.rint(centers), 0, 255).astype(np.uint8)


class ImageQuantizer(TransformerMixin, BaseEstimator):
    """Compress an image to ``n_colors`` colours by k-means on its pixels.

    ``fit`` clusters the image's RGB pixels with :class:`~skclust.KMeansL2`
    (``metric="l2"``: mean colours) or :class:`~skclust.KMeansL1`
    (``metric="l1"``: median colours). Repeated colours are clustered once,
    carrying their pixel count as a weight, which is exact and is what makes
    it fast on photographs. ``transform`` replaces every pixel by the nearest
    palette colour.

    A grayscale image (see :func:`load_image`) is clustered on its one
    channel: 1-D k-means on the grey levels, a palette of grey levels, and
    images of shape (height, width) back. Its inertia is that of the grey
    levels, not of (v, v, v) RGB rows, which would be 3 times larger for the
    same labels and centers. On one channel the best palette can be found
    exactly: some optimal clustering of points on a line is made of runs of
    consecutive grey levels, and a dynamic programme over the runs of the
    (at most 256) levels finds it in milliseconds (``algorithm``). Lloyd's
    algorithm only reaches a local optimum: on the grey versions of the
    study's and scikit-learn's photographs, k-means++ with ``n_init=10``
    left an inertia 1.5% to 9% above the optimum at k = 24 and 48.

    Parameters
    ----------
    n_colors : int, default=16
        Size of the palette (k). At most the number of distinct colours (grey
        levels) of the image: unlike ``KMeansL2``, which warns and repeats
        centers, the quantizer refuses a palette with repeated colours.
    metric : {"l2", "l1"}, default="l2"
        Squared Euclidean k-means or Manhattan k-medians.
    init : {"k-means++", "random"}, callable or array-like, default="k-means++"
        Passed to the k-means estimator.
    n_init : "auto" or int, default="auto"
        Number of starts; the one with the lowest inertia is kept.
    max_iter : int, default=300
        Maximum number of iterations per start.
    tol : float, default=1e-4
        Relative tolerance on the center shift (see ``KMeansL2``).
    random_state : int, RandomState instance or None, default=None
        Seeds of the starts.
    n_jobs : int, default=None
        Starts run in parallel through joblib.
    verbose : int, default=0
        Passed to the k-means estimator.
    algorithm : {"auto", "lloyd", "exact"}, default="auto"
        How the palette is found. "lloyd": Lloyd's algorithm from ``init``,
        ``n_init`` times. "exact": the optimal palette of a grayscale image,
        by dynamic programming over its grey levels (``init``, ``n_init``
        and ``random_state`` are not used; a colour image is refused, as
        3-D k-means has no such solver); Lloyd's algorithm then starts from
        it and stops at once, which gives ``kmeans_``, ``labels_`` and
        ``inertia_``. An RGB image whose colours are all grey (R = G = B:
        a black and white photograph saved as colour) counts as grayscale
        here: its optimal palette is grey too, found on one channel. "auto":
        "exact" for such images unless ``init`` is an array or a callable (a
        start the caller chose), else "lloyd".

    Attributes
    ----------
    palette_ : ndarray of shape (n_colors, 3), dtype uint8
        The colours of the compressed image; of shape (n_colors, 1), grey
        levels, for a grayscale image.
    cluster_centers_ : ndarray of shape (n_colors, 3) or (n_colors, 1)
        The unrounded cluster centers, in [0, 255].
    labels_ : ndarray of shape (n_pixels,), dtype int32
        Palette index of each training pixel, in row-major pixel order.
    inertia_ : float
        K-means objective of the kept start (in the chosen metric), summed
        over the channels: over the grey level alone for a grayscale image.
    n_iter_ : int
        Iterations of the kept start (with the exact algorithm, the Lloyd
        steps run from the optimum, which stop at the first: 1, bar the
        rare costless moves that :class:`~skclust.KMeansL1` describes).
    algorithm_ : {"lloyd", "exact"}
        The algorithm used.
    fit_time_ : float
        Seconds spent in ``fit``.
    image_shape_ : tuple
        Shape of the training image.
    kmeans_ : KMeansL2 or KMeansL1
        The k-means estimator fitted on the image's distinct colours, each
        weighted by its number of pixels (its ``labels_`` are those of the
        distinct colours, in increasing ``colour_keys`` order, or of the
        distinct grey levels in increasing order).
    n_features_in_ : int
        Number of colour channels: 3, or 1 for a grayscale image.

    See Also
    --------
    compress : The study's function interface to the same computation.

    Notes
    -----
    ``transform`` returns an image, not a table of features, so the quantizer
    has no ``get_feature_names_out`` and no ``set_output``.

    Memory: besides the image (3 bytes a pixel), ``fit_transform`` holds
    about 11 bytes a pixel (a 4-byte colour key, the int32 label and the
    result) and fixed tables indexed by colour (at most 2**24 entries, 200 MB),
    plus the fit on the distinct colours, which grows with their number (at
    most 2**24) but not with the pixels. A grayscale image takes 1 byte a
    pixel, its result 1 more, and its tables and fit 256 entries at most.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.image import ImageQuantizer
    >>> image = np.zeros((4, 4, 3), dtype=np.uint8)
    >>> image[:, 2:] = [200, 40, 40]
    >>> quantizer = ImageQuantizer(n_colors=2, random_state=0).fit(image)
    >>> sorted(map(tuple, quantizer.palette_.tolist()))
    [(0, 0, 0), (200, 40, 40)]
    >>> np.array_equal(quantizer.transform(image), image)
    True

    A grayscale image gives grey levels and a grey image back:

    >>> grey = np.array([[0, 10, 200], [5, 210, 205]], dtype=np.uint8)
    >>> quantizer = ImageQuantizer(n_colors=2, random_state=0)
    >>> quantizer.fit_transform(grey)
    array([[  5,   5, 205],
           [  5, 205, 205]], dtype=uint8)
    >>> quantizer.palette_.shape
    (2, 1)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_colors": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"l2", "l1"})],
        **RUN_CONSTRAINTS,
        "algorithm": [StrOptions({"auto", "lloyd", "exact"})],
    }

    def __init__(
        self,
        n_colors: int = 16,
        *,
        metric: Literal["l2", "l1"] = "l2",
        init: KMeansInit = "k-means++",
        n_init: Literal["auto"] | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: RandomStateLike = None,
        n_jobs: int | None = None,
        verbose: int = 0,
        algorithm: Literal["auto", "lloyd", "exact"] = "auto",
    ) -> None:
        self.n_colors = n_colors
        self.metric = metric
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.algorithm = algorithm

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: PathLike | ArrayLike, y: object = None) -> Self:
        """Find the palette of the image ``X``.

        Parameters
        ----------
        X : array-like of shape (height, width, 3) or (height, width), or a path
            RGB or grayscale image with values in [0, 255], or [0, 65535]
            for ``uint16`` (see :func:`load_image`); an opaque RGBA or
            grey-plus-alpha image is accepted.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted quantizer.
        """
        start = time.perf_counter()
        image = load_image(X)
        self.image_shape_ = image.shape
        n_channels = _n_channels(image)
        keys = _pixel_keys(image)
        del image  # when given a path, the only copy: memory for the labels
        colours = _DistinctColours.count(keys, n_channels)
        validate_data(self, colours.values, reset=True)
        if colours.n_distinct < self.n_colors:
            kind = "grey levels" if n_channels == 1 else "colours"
            raise ValueError(
                f"n_colors={self.n_colors} is larger than the number of distinct "
                f"{kind} of the image ({colours.n_distinct})"
            )
        values, counts = colours.values, colours.counts
        # An RGB image whose colours all lie on the grey diagonal (a black
        # and white photograph saved as colour) is the same problem on one
        # channel: its distances are 3 times the grey levels' and its means
        # and medians stay on the diagonal.
        all_grey = n_channels == 1 or (
            colours.n_distinct <= 256 and bool(np.all(values[:, :1] == values[:, 1:]))
        )
        self.algorithm_ = self._algorithm_for(all_grey)
        Estimator = KMeansL2 if self.metric == "l2" else KMeansL1
        # Clustering each colour once, weighted by its pixel count, gives the
        # fit on every pixel exactly: the estimator merges repeated rows into
        # these same weighted points.
        init, n_init = self.init, self.n_init
        if self.algorithm_ == "exact":
            # The grey levels are the distinct keys (or their top byte, the
            # red of a grey colour), in increasing order.
            optimum = optimal_1d_centers(
                values[:, 0], counts, self.n_colors, manhattan=self.metric == "l1"
            )
            init = np.repeat(optimum[:, None], n_channels, axis=1)
            n_init = 1
            if self.verbose:
                print(
                    f"Exact palette of {self.n_colors} grey levels out of "
                    f"{colours.n_distinct} (dynamic programming)."
                )
        if colours.n_distinct == 1:
            # The estimators want two samples: the colour twice, half the
            # pixels each (merged back into one point).
            values, counts = np.repeat(values, 2, axis=0), np.repeat(counts / 2, 2)
        self.kmeans_ = Estimator(
            self.n_colors,
            init=init,
            n_init=n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            # The quantizer chose already: "lloyd" stays Lloyd on grey levels.
            algorithm="lloyd",
        ).fit(values, sample_weight=counts)
        self.cluster_centers_ = self.kmeans_.cluster_centers_
        self.palette_ = _palette(self.cluster_centers_)
        # int32 labels, as scikit-learn's KMeans gives: half the memory of intp.
        self.labels_ = colours.per_pixel(
            self.kmeans_.labels_[: colours.n_distinct].astype(np.int32), keys
        )
        self.inertia_ = self.kmeans_.inertia_
        self.n_iter_ = self.kmeans_.n_iter_
        self.fit_time_ = time.perf_counter() - start
        return self

    def _algorithm_for(self, all_grey):
        """The algorithm ("exact" or "lloyd") for an image whose colours are
        all grey levels, or not."""
        if self.algorithm == "exact" and not all_grey:
            raise ValueError(
                "algorithm='exact' needs a grayscale image (or colours that "
                "are all grey): k-means on colours has no exact solver (use "
                "'lloyd' or 'auto')"
            )
        chosen_start = not isinstance(self.init, str)
        if self.algorithm == "exact" or (
            self.algorithm == "auto" and all_grey and not chosen_start
        ):
            return "exact"
        return "lloyd"

    def transform(self, X: PathLike | ArrayLike) -> NDArray[np.uint8]:
        """The image ``X`` drawn with the palette only.

        Parameters
        ----------
        X : array-like of shape (height, width, 3) or (height, width), or a path
            RGB or grayscale image with values in [0, 255], or [0, 65535]
            for ``uint16``, of the kind (colour or grey) fitted.

        Returns
        -------
        compressed : ndarray of shape (height, width, 3) or (height, width)
            The image's shape, dtype uint8.
        """
        check_is_fitted(self)
        image = load_image(X)
        shape = image.shape
        n_channels = _n_channels(image)
        if n_channels != self.n_features_in_:
            kinds = {1: "grayscale", 3: "colour"}
            raise ValueError(
                f"the image is {kinds[n_channels]} but the quantizer was fitted "
                f"on a {kinds.get(self.n_features_in_, 'different')} image"
            )
        keys = _pixel_keys(image)
        del image
        colours = _DistinctColours.count(keys, n_channels)
        validate_data(self, colours.values[:1], reset=False)
        labels = self.kmeans_.predict(colours.values)
        return colours.per_pixel(self.palette_[labels], keys).reshape(shape)

    def fit_transform(
        self, X: PathLike | ArrayLike, y: object = None
    ) -> NDArray[np.uint8]:
        """Fit, then return the training image drawn with the palette.

        Parameters
        ----------
        X : array-like of shape (height, width, 3) or (height, width), or a path
            RGB or grayscale image with values in [0, 255], or [0, 65535]
            for ``uint16``, of the kind (colour or grey) fitted.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        compressed : ndarray of shape (height, width, 3) or (height, width)
            The image's shape, dtype uint8.
        """
        self.fit(X)
        compressed = np.empty(
            (self.labels_.shape[0], self.palette_.shape[1]), dtype=np.uint8
        )
        for rows in _chunks(self.labels_.shape[0]):
            compressed[rows] = self.palette_[self.labels_[rows]]
        return compressed.reshape(self.image_shape_)


def _pixel_keys(image):
    """:func:`colour_keys` of a colour image, the grey levels of a grey one."""
    if image.ndim == 2:
        return image.reshape(-1).astype(np.uint32)
    return colour_keys(image)


def colour_keys(image: NDArray[np.uint8]) -> NDArray[np.uint32]:
    """The 24-bit number ``(r << 16) | (g << 8) | b`` of each pixel, row-major.

    Four bytes a pixel, where the float64 pixel table takes 24: equal keys are
    equal colours, and key order is the lexicographic order of the colours.

    Parameters
    ----------
    image : ndarray of shape (h, w, 3), dtype uint8
        As :func:`load_image` returns a colour image; any array whose last
        axis holds the 3 channels is read the same way.

    Returns
    -------
    keys : ndarray of shape (h * w,), dtype uint32

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.image import colour_keys
    >>> colour_keys(np.array([[[1, 2, 3], [0, 0, 255]]], dtype=np.uint8))
    array([66051,   255], dtype=uint32)
    """
    pixels = image.reshape(-1, 3)
    keys = np.empty(pixels.shape[0], dtype=np.uint32)
    for rows in _chunks(pixels.shape[0]):
        chunk = pixels[rows].astype(np.uint32)
        keys[rows] = (chunk[:, 0] << 16) | (chunk[:, 1] << 8) | chunk[:, 2]
    return keys


class _DistinctColours:
    """The distinct colours of an image and how many pixels have each.

    The keys are counted by sorting a copy of them (4 bytes a pixel); a table
    indexed by colour key (up to 2**24 int32 entries, 67 MB; 256 for grey
    levels) maps each colour back to its label. ``values`` holds the
    distinct colours as float64 rows of ``n_channels`` (3 for RGB, 1 for a
    grey level).
    """

    def __init__(self, keys, counts, n_keys, n_channels):
        self.keys = keys
        self.n_distinct = keys.shape[0]
        self.counts = counts
        self.n_keys = n_keys
        if n_channels == 1:
            self.values = keys[:, None].astype(np.float64)
        else:
            shifts = np.array([16, 8, 0], dtype=np.uint32)
            self.values = ((keys[:, None] >> shifts) & 255).astype(np.float64)

    @classmethod
    def count(cls, pixel_keys, n_channels):
        # Sorting a copy of the keys (4 bytes a pixel) took 7 ms on parrots.png
        # where counting into a 2**24 table and finding its non-zero entries
        # took 43 ms, a cost every fit of a k sweep pays.
        keys, counts = np.unique(pixel_keys, return_counts=True)
        return cls(keys, counts.astype(np.float64), int(keys[-1]) + 1, n_channels)

    def per_pixel(self, values, pixel_keys):
        """Row ``i`` of ``values`` given to every pixel of distinct colour ``i``.

        ``values`` has one row per distinct colour (a label, a palette colour).
        """
        index = np.zeros(self.n_keys, dtype=np.int32)
        index[self.keys] = np.arange(self.n_distinct, dtype=np.int32)
        result = np.empty((pixel_keys.shape[0], *values.shape[1:]), values.dtype)
        for rows in _chunks(pixel_keys.shape[0]):
            # In chunks: indexing with uint32 keys makes an intp copy of them.
            result[rows] = values[index[pixel_keys[rows]]]
        return result


# Largest side, in pixels, an image is drawn at in a figure's panel.
_PANEL_PIXELS = 512
# Largest ratio of a panel's height to its width, and of its width to its height.
_PANEL_ASPECT = 8


def plot_reconstructions(
    original: NDArray[np.uint8],
    reconstructions: Mapping[str, ArrayLike],
    title: str = "",
    n_columns: int = 3,
) -> "Figure":
    """A grid figure: the original image, then one reconstruction per k.

    Each panel is 4 inches wide and as tall as the image's aspect ratio says,
    up to 8 times taller or wider; a thinner image is drawn smaller inside.

    Parameters
    ----------
    original : ndarray of shape (h, w, 3), or (h, w) for grey levels
        Grey images are drawn in grey, black at 0 and white at 255.
    reconstructions : dict
        Maps a caption (e.g. ``"k = 12"``) to an image of the same shape.
    title : str, default=""
        Figure title.
    n_columns : int, default=3
        Images per row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.image import plot_reconstructions
    >>> image = np.zeros((4, 6, 3), dtype=np.uint8)
    >>> figure = plot_reconstructions(image, {"k = 2": image, "k = 3": image})
    >>> len(figure.axes)
    3
    """
    from matplotlib.figure import Figure

    panels = [("original", original), *reconstructions.items()]
    n_columns = min(n_columns, len(panels))
    n_rows = -(-len(panels) // n_columns)
    height, width = original.shape[:2]
    panel_width = 4.0
    # Panels at most 8 times taller than wide, or as wide: a 6 x 4101 image
    # (a GIF with a damaged header) made a grid of 480 x 164,076 pixels,
    # drawn in half a minute, and a taller one would not fit in memory.
    aspect = min(max(height / width, 1 / _PANEL_ASPECT), _PANEL_ASPECT)
    figure = Figure(
        figsize=(panel_width * n_columns, panel_width * n_rows * aspect + 0.6),
        layout="constrained",
    )
    # Every n-th row and column only, for images far larger than a panel can
    # show: imshow converts what it is given to float RGBA, 16 bytes a pixel.
    step = max(1, max(height, width) // _PANEL_PIXELS)
    for position, (caption, image) in enumerate(panels, start=1):
        ax = figure.add_subplot(n_rows, n_columns, position)
        shown = np.ascontiguousarray(image[::step, ::step])
        if shown.ndim == 2:
            # Without these, matplotlib draws one channel with a colour map
            # stretched over the image's own range.
            ax.imshow(shown, cmap="gray", vmin=0, vmax=255)
        else:
            ax.imshow(shown)
        ax.set_title(caption, fontsize=10)
        ax.set_axis_off()
    if title:
        figure.suptitle(title)
    return figure


def __getattr__(name):
    # ``compress`` was first published here; it now lives with the other
    # study interfaces in ``skclust.study``, which imports this module, so it
    # is looked up on first use rather than at import (PEP 562).
    if name == "compress":
        from .study import compress

        return compress
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
