"""The one place where skclust touches private scikit-learn helpers.

Parameter validation (``Interval``, ``StrOptions``), the ``_fit_context``
decorator and ``_check_sample_weight`` are what scikit-learn's own estimators
use, but they live in private modules. Importing them here, and only here,
means an upstream move breaks one file instead of every estimator.
"""

from numbers import Integral

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval as _Interval
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight


class Interval(_Interval):
    """scikit-learn's ``Interval``, refusing booleans where an int is asked for.

    ``True`` is an ``Integral`` to Python, so ``n_clusters=True`` would pass
    validation and fail deep inside a fit; here it is refused up front.
    """

    def is_satisfied_by(self, val):
        if self.type is Integral and isinstance(val, bool):
            return False
        return super().is_satisfied_by(val)


__all__ = ["Interval", "StrOptions", "_check_sample_weight", "_fit_context"]
