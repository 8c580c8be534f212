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


def validate_finite(estimator, X, name="X", needs="finite values", **kwargs):
    """scikit-learn's ``validate_data``, with NaN and infinity refused in our words.

    scikit-learn's own message for a NaN in ``X`` ends with advice on
    HistGradientBoosting and imputers, which is about supervised learning;
    this one names the argument, the first entry that is not finite and
    what ``estimator`` needs instead. ``kwargs`` go to ``validate_data``.
    """
    from sklearn.utils.validation import validate_data

    X = validate_data(estimator, X, ensure_all_finite=False, **kwargs)
    check_finite(X, name, needs_finite_values(estimator, needs))
    return X


def needs_finite_values(estimator, needs="finite values"):
    """The end of the message naming a NaN or an infinity in ``estimator``'s
    input: ``"KMeansL2 needs finite values"``."""
    return f"{type(estimator).__name__} needs {needs}"


def check_finite(values, name, needs, first_row=0):
    """Raise a ValueError naming the first NaN or infinite entry of ``values``.

    ``values`` is a validated 2-D array, dense or scipy sparse; ``needs``
    ends the message (``"KMeansL2 needs finite values"``). ``first_row`` is
    the row of the table that the first row of ``values`` is, for a block.
    """
    data = values.data if sparse.issparse(values) else values
    if data.dtype.kind not in "fc":
        return
    # The sum is not finite where an entry is not (nor where it passes the
    # float range, which the look entry by entry then clears): one read of
    # the values, as scikit-learn's own check.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(data, axis=None)):
            return
    if sparse.issparse(values):
        entries = sparse.coo_array(values)
        bad = np.flatnonzero(~np.isfinite(entries.data))
        if bad.size == 0:
            return
        row, column = int(entries.row[bad[0]]), int(entries.col[bad[0]])
        value = entries.data[bad[0]]
    else:
        bad = ~np.isfinite(values)
        if not bad.any():
            return
        row, column = (int(i) for i in np.unravel_index(np.argmax(bad), bad.shape))
        value = values[row, column]
    kind = "NaN" if np.isnan(value) else "infinity"
    raise ValueError(
        f"{name} holds {kind} at row {first_row + row}, column {column}: {needs}"
    )
