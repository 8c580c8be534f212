"""Exact power-of-two scaling, so the k-means fits work on any finite float64.

Squared distances of data near 1e306 overflow and those of data near 1e-308
vanish; scaling such data by ``2**exponent`` so that its largest magnitude
lies in [0.5, 1) avoids both (ordinary data is fitted as it is). A
power-of-two scaling rounds nothing (subnormals scaled up are exact too; only
values more than 2**-1022 below the largest one lose bits), so a fit on the
scaled data is the fit on the data, with every result mapped back exactly.
"""

import warnings

import numpy as np
from scipy import sparse


def largest_magnitude(array):
    """The largest absolute value in ``array`` (0 when empty), without a copy.

    A scipy sparse ``array`` counts its stored values (its other values are
    zero).
    """
    if sparse.issparse(array):
        array = array.data
    if array.size == 0:
        return 0.0
    return max(float(np.max(array)), -float(np.min(array)))


# Data whose largest magnitude lies in this range is fitted as it is: squared
# distances and their sums over any table stay far inside the dtype's normal
# range (float32 squares of 1e-30 would vanish), and integer data such as
# pixels stays integer, which the L1 update's exact per-cluster histograms
# need (scaled pixels took KMeansL1 off them, 2.8x slower on the study's
# images).
_PLAIN_RANGE = {
    np.dtype(np.float64): (2.0**-400, 2.0**400),
    np.dtype(np.float32): (2.0**-30, 2.0**30),
}


def exponent_for(largest, dtype=np.float64):
    """The exponent ``e`` that data of largest magnitude ``largest`` and of
    ``dtype`` (float64 or float32) is fitted at: 0 for data in the dtype's
    plain range (and for all-zero data), else the one that puts the largest
    magnitude in [0.5, 1).
    """
    low, high = _PLAIN_RANGE[np.dtype(dtype)]
    if largest == 0.0 or low <= largest <= high:
        return 0
    return -int(np.frexp(largest)[1])


def scale_exponent(*arrays):
    """The exponent ``arrays`` are fitted at (see :func:`exponent_for`): the
    plain range is float32's if any of them is float32.

    The arrays are finite (validated).
    """
    single = any(getattr(a, "dtype", None) == np.float32 for a in arrays)
    return exponent_for(
        max(largest_magnitude(a) for a in arrays),
        np.float32 if single else np.float64,
    )


def fit_exponent(data_exponent, init):
    """The exponent of a fit from the data's exponent and an array ``init``.

    The data alone sets the scale: an initial center far outside the data
    (1e200 for data near 1) would otherwise scale the data into underflow,
    where every squared distance is zero. The init only lowers the exponent
    when, scaled by it, it would overflow; its squared distances to the data
    may still overflow, which leaves that center far from every row, as it is.
    """
    largest = largest_magnitude(init)
    if largest == 0.0:
        return data_exponent
    return min(data_exponent, _FLOAT64_TOP - int(np.frexp(largest)[1]))


# ``x * 2**e`` is finite while ``e`` plus the binary exponent of ``x`` (from
# ``numpy.frexp``) is at most this.
_FLOAT64_TOP = 1024


# Sample weights whose largest lies outside this range are fitted scaled by
# the power of two that puts it in [0.5, 1): a sum of 50 weights of 1e307
# overflowed, and with it every mean. Only the inertia depends on the weights'
# scale, and it is mapped back exactly.
_PLAIN_WEIGHTS = (2.0**-100, 2.0**100)


def weight_exponent(weights):
    """The exponent non-negative ``weights`` (or None) are fitted at."""
    if weights is None:
        return 0
    largest = float(weights.max())
    low, high = _PLAIN_WEIGHTS
    if largest == 0.0 or low <= largest <= high:
        return 0
    return -int(np.frexp(largest)[1])


def scaled(array, exponent, out=None):
    """``array * 2**exponent``, exactly (``out`` may be ``array``).

    A scipy CSR ``array`` gives a CSR matrix of the same pattern, sharing its
    indices (``out``, if given, is ``array``: scaled in place).
    """
    if exponent == 0 and out is array:
        # Ordinary data, scaled in place: nothing to do (a pass over the table).
        return array
    if sparse.issparse(array):
        if out is not None:
            np.ldexp(array.data, exponent, out=array.data)
            return array
        return sparse.csr_matrix(
            (np.ldexp(array.data, exponent), array.indices, array.indptr),
            shape=array.shape,
        )
    return np.ldexp(array, exponent, out=out)


def unscaled(value, exponent, power, what, weight_exponent=0):
    """``value * 2**(-power * exponent - weight_exponent)``: a distance (power
    1) or a squared one, summed with weights scaled by ``2**weight_exponent``.

    A value too large for its dtype (float64, or float32 for the distances
    of float32 rows) comes back as infinity with a ``RuntimeWarning`` naming
    ``what``: the centers and labels it comes with are right, only this
    total cannot be written in that dtype.
    """
    with np.errstate(over="ignore"):
        result = np.ldexp(value, -power * exponent - weight_exponent)
    finite = np.isfinite(result)
    if not np.all(finite):
        warnings.warn(
            f"{what} exceeds the {np.asarray(result).dtype} range for data of "
            "this magnitude and is returned as infinity",
            RuntimeWarning,
            stacklevel=3,
        )
    return result
