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


def check_not_graph_object(value, name):
    """Refuse a graph object given where an adjacency matrix belongs.

    numpy reads a networkx graph as the 1-D array of its nodes and a
    :class:`~skclust.datasets.GraphData` as a 0-d object array, so the
    errors that followed ("Expected 2D array, got 1D array instead",
    "adjacency of shape (34,) does not match labels of shape (34,)", or a
    TypeError from scipy) named neither the object nor what to pass.
    """
    kind = type(value)
    if kind.__module__.partition(".")[0] == "networkx":
        raise TypeError(
            f"{name} is a networkx {kind.__name__}, not an adjacency matrix: pass "
            "networkx.to_scipy_sparse_array(G) (its rows follow list(G))"
        )
    if not hasattr(value, "shape") and hasattr(value, "adjacency"):
        raise TypeError(
            f"{name} is a {kind.__name__}, not an adjacency matrix: pass its .adjacency"
        )


def real_csr(matrix, copy=False):
    """``matrix`` as a float64 CSR array; complex values are refused.

    scipy casts complex weights to real with only a warning: the imaginary
    parts were silently dropped (``[[0, 1j], [1j, 0]]`` became a graph with
    no edges).
    """
    if np.iscomplexobj(matrix):
        raise ValueError("the adjacency holds complex values; expected real weights")
    return sparse.csr_array(matrix, dtype=np.float64, copy=copy)
