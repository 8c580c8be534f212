"""Quality figures for clusterings and reconstructions.

Image compression: mean squared error, PSNR and the size of a palette image.
"""

import math

import numpy as np


def image_mse(original, reconstructed):
    """Mean squared error per channel value between two images.

    Parameters
    ----------
    original, reconstructed : array-like of the same shape
        Values on the 0-255 scale.

    Returns
    -------
    float

    Examples
    --------
    >>> from skclust.metrics import image_mse
    >>> image_mse([[0, 0, 0], [10, 10, 10]], [[0, 0, 0], [10, 10, 13]])
    1.5
    """
    a = np.asarray(original, dtype=np.float64)
    b = np.asarray(reconstructed, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.mean((a - b) ** 2))


def psnr(original, reconstructed, max_value=255.0):
    """Peak signal-to-noise ratio in decibels: ``10 log10(max^2 / MSE)``.

    Returns ``inf`` for identical images.

    Examples
    --------
    >>> from skclust.metrics import psnr
    >>> round(psnr([[0, 0, 0]], [[0, 0, 255]]), 3)
    4.771
    """
    mse = image_mse(original, reconstructed)
    return math.inf if mse == 0 else 10.0 * math.log10(max_value**2 / mse)


def palette_image_size(n_pixels, n_colors, n_channels=3):
    """Bytes of a raw 8-bit image and of its palette-plus-indices encoding.

    The palette holds ``n_colors`` colours of ``n_channels`` bytes; each pixel
    stores an index of ``ceil(log2(n_colors))`` bits (zero for one colour),
    packed.

    Returns
    -------
    dict
        ``raw_bytes``, ``palette_bytes``, ``index_bits``, ``compressed_bytes``
        and ``ratio`` (raw over compressed).

    Examples
    --------
    >>> from skclust.metrics import palette_image_size
    >>> size = palette_image_size(n_pixels=1000, n_colors=16)
    >>> size["index_bits"], size["compressed_bytes"], size["ratio"]
    (4, 548, 5.474452554744525)
    """
    index_bits = math.ceil(math.log2(n_colors)) if n_colors > 1 else 0
    raw = n_pixels * n_channels
    palette = n_colors * n_channels
    compressed = palette + math.ceil(n_pixels * index_bits / 8)
    return {
        "raw_bytes": raw,
        "palette_bytes": palette,
        "index_bits": index_bits,
        "compressed_bytes": compressed,
        "ratio": raw / compressed,
    }
