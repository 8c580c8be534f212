"""Pictures for judging a reconstruction by eye: error heat maps and zoomed details.

The functions take validated uint8 images of shape (h, w, 3), or (h, w) for
grey levels, and return uint8 images; :func:`save_png` writes one, as a
palette image when it has at most 256 colours (a reconstruction or a heat
map), which makes the file several times smaller, and a grey one as grey.
"""

import numpy as np
from PIL import Image

from ..image import colour_keys
from ._output import atomic_path

# Pixels handled at a time where per-pixel temporaries would cost memory.
_CHUNK = 1 << 18

# Levels of the heat map: few enough that the PNG stays small (a palette image
# compresses well), many enough to read as a continuous scale.
HEAT_LEVELS = 32
HEAT_COLORMAP = "magma"


def _row_chunks(image):
    """Slices of rows of ``image`` holding about ``_CHUNK`` pixels each."""
    height, width = image.shape[:2]
    rows = max(1, _CHUNK // max(width, 1))
    return (slice(top, top + rows) for top in range(0, height, rows))


def pixel_error(original, reconstruction):
    """Euclidean distance between the RGB values of each pixel, (h, w) float32.

    For grey (h, w) images, the absolute difference of the grey levels. Made
    in chunks of rows: whole float64 copies would take 48 bytes a pixel
    (float32 is exact here: squared differences sum to at most 195,075).

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._cli._pictures import pixel_error
    >>> grey = np.array([[10, 200]], dtype=np.uint8)
    >>> pixel_error(grey, np.array([[13, 190]], dtype=np.uint8))
    array([[ 3., 10.]], dtype=float32)
    """
    error = np.empty(original.shape[:2], dtype=np.float32)
    for rows in _row_chunks(original):
        difference = original[rows].astype(np.float32) - reconstruction[rows]
        if difference.ndim == 2:
            error[rows] = np.abs(difference)
        else:
            error[rows] = np.sqrt(np.einsum("ijc,ijc->ij", difference, difference))
    return error


def heat_scale(error):
    """The error mapped to the brightest colour: its 99th percentile, at least 1."""
    return max(float(np.percentile(error, 99)), 1.0)


def heat_map(error, scale):
    """An (h, w, 3) uint8 picture of ``error``: black is exact, yellow ``>= scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._cli._pictures import heat_map
    >>> picture = heat_map(np.array([[0.0, 10.0]]), scale=10.0)
    >>> picture.shape, bool(picture[0, 0].sum() < picture[0, 1].sum())
    ((1, 2, 3), True)
    """
    from matplotlib import colormaps

    colours = colormaps[HEAT_COLORMAP](np.linspace(0.0, 1.0, HEAT_LEVELS))[:, :3]
    palette = np.rint(255 * colours).astype(np.uint8)
    picture = np.empty((*error.shape, 3), dtype=np.uint8)
    for rows in _row_chunks(error):
        levels = np.clip(error[rows] / scale, 0.0, 1.0) * (HEAT_LEVELS - 1)
        picture[rows] = palette[np.rint(levels).astype(np.intp)]
    return picture


def heat_gradient_css():
    """The heat map's colours as a CSS linear gradient, for a legend."""
    from matplotlib import colormaps

    stops = colormaps[HEAT_COLORMAP](np.linspace(0.0, 1.0, 6))[:, :3]
    colours = ", ".join(
        "rgb({}, {}, {})".format(*np.rint(255 * stop).astype(int)) for stop in stops
    )
    return f"linear-gradient(to right, {colours})"


def detailed_window(image, size):
    """The (top, left) of the ``size`` x ``size`` window with the most detail.

    Detail is the summed absolute difference between neighbouring pixels
    (edges and texture); the window is searched on a grid of ``size // 4``
    pixels, with an integral image so that each candidate costs O(1).

    Examples
    --------
    >>> import numpy as np
    >>> from skclust._cli._pictures import detailed_window
    >>> image = np.zeros((40, 40, 3), dtype=np.uint8)
    >>> image[24:, 24:] = np.arange(16)[:, None, None] * 15  # stripes
    >>> detailed_window(image, 16)
    (24, 24)
    """
    height, width = image.shape[:2]
    size = min(size, height, width)
    step = max(size // 4, 1)
    tops = np.unique(np.r_[np.arange(0, height - size + 1, step), height - size])
    lefts = np.unique(np.r_[np.arange(0, width - size + 1, step), width - size])
    edges = np.r_[lefts, lefts + size]
    # Only the integral image's rows at a window's top or bottom edge are
    # kept, and of those only the columns at a window's side.
    wanted = np.unique(np.r_[tops, tops + size])
    integral = np.zeros((wanted.shape[0], edges.shape[0]), dtype=np.int64)
    above = np.zeros(width, dtype=np.int64)  # column sums of the rows done
    for rows in _row_chunks(image):
        start, stop = rows.start, min(rows.stop, height)
        through = above + np.cumsum(_detail_rows(image, start, stop), axis=0)
        # Integral row r sums the detail of rows < r: rows start + 1 ... stop.
        for slot in np.flatnonzero((wanted > start) & (wanted <= stop)):
            prefix = np.r_[0, np.cumsum(through[wanted[slot] - start - 1])]
            integral[slot] = prefix[edges]
        above = through[-1]
    top = np.searchsorted(wanted, tops)[:, None]
    bottom = np.searchsorted(wanted, tops + size)[:, None]
    left = np.arange(lefts.shape[0])[None, :]
    right = left + lefts.shape[0]
    sums = (
        integral[bottom, right]
        - integral[top, right]
        - integral[bottom, left]
        + integral[top, left]
    )
    row, column = np.unravel_index(np.argmax(sums), sums.shape)
    return int(tops[row]), int(lefts[column])


def _detail_rows(image, start, stop):
    """Summed absolute differences of rows start:stop of ``image`` with their
    upper and left neighbours, int64 of shape (stop - start, width)."""
    # int16 holds the differences of 8-bit values; the row above is needed
    # for the first row's vertical differences. A grey image is one channel.
    first = max(start - 1, 0)
    pixels = image[first:stop].astype(np.int16)
    pixels = pixels.reshape(stop - first, image.shape[1], -1)
    detail = np.zeros((stop - start, image.shape[1]), dtype=np.int64)
    detail[:, 1:] = np.abs(np.diff(pixels[start - first :], axis=1)).sum(axis=2)
    vertical = np.abs(np.diff(pixels, axis=0)).sum(axis=2)
    detail[detail.shape[0] - vertical.shape[0] :] += vertical
    return detail


def enlarged_crop(image, top, left, size, zoom):
    """The ``size`` x ``size`` crop at (top, left), each pixel a zoom x zoom block."""
    crop = image[top : top + size, left : left + size]
    return np.repeat(np.repeat(crop, zoom, axis=0), zoom, axis=1)


def save_png(image, path):
    """Write an (h, w, 3) uint8 image as PNG, atomically; palette PNG if it can.

    An (h, w) image of grey levels is written as a grey PNG (Pillow's mode L).
    """
    picture = Image.fromarray(image)
    counted = None if image.ndim == 2 else picture.getcolors(256)
    if counted is not None:  # None when there are more colours
        del picture  # its copy of the pixels, before the indices are made
        colours = np.sort(colour_keys(np.array([c for _, c in counted], np.uint8)))
        keys = colour_keys(image)
        indices = np.empty(keys.shape[0], dtype=np.uint8)
        for start in range(0, keys.shape[0], _CHUNK):
            # In chunks: searchsorted answers in intp, 8 bytes a pixel.
            part = slice(start, start + _CHUNK)
            indices[part] = np.searchsorted(colours, keys[part])
        del keys
        picture = Image.fromarray(indices.reshape(image.shape[:2]), "P")
        rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
        picture.putpalette(rgb.astype(np.uint8).ravel().tolist())
    with atomic_path(path) as temporary:
        picture.save(temporary, format="PNG", compress_level=3)
