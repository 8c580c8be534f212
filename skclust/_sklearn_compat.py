"""The one place where skclust touches private scikit-learn helpers.

Parameter validation (``Interval``, ``StrOptions``), the ``_fit_context``
decorator and ``_check_sample_weight`` are what scikit-learn's own estimators
use, but they live in private modules. Importing them here, and only here,
means an upstream move breaks one file instead of every estimator.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = ["Interval", "StrOptions", "_check_sample_weight", "_fit_context"]
