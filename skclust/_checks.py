"""Checks shared by the public functions: counts, adjacency matrices, and
warnings that name the caller's line."""

import os
import sys
import warnings
from numbers import Integral

import numpy as np
from scipy import sparse


def warn_at_caller(message, category=UserWarning):
    """``warnings.warn`` at the first line outside skclust and scikit-learn.

    A fixed ``stacklevel`` names a line of skclust when the same check is
    reached by several paths (``load_image`` directly, or through
    ``ImageQuantizer.fit`` under scikit-learn's wrapper).
    """
    import sklearn

    # skclust's frames, and scikit-learn's: its fit wrappers, Pipeline and
    # GridSearchCV call ours.
    folders = tuple(
        os.path.dirname(os.path.abspath(module.__file__)) + os.sep
        for module in (sys.modules[__package__], sklearn)
    )
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(folders):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def check_count(value, name, smallest=1):
    """``value`` as an int of at least ``smallest``, or a ValueError naming it.

    ``True`` is an ``Integral`` to Python and is refused; a float such as 2.5
    is refused rather than truncated.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an int; got {value!r}")
    if value < smallest:
        raise ValueError(f"{name} must be at least {smallest}; got {value}")
    return int(value)


def real_csr(matrix, copy=False):
    """``matrix`` as a float64 CSR array; complex values are refused.

    scipy casts complex weights to real with only a warning: the imaginary
    parts were silently dropped (``[[0, 1j], [1j, 0]]`` became a graph with
    no edges).
    """
    if np.iscomplexobj(matrix):
        raise ValueError("the adjacency holds complex values; expected real weights")
    return sparse.csr_array(matrix, dtype=np.float64, copy=copy)
