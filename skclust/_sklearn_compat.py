"""The one place where skclust touches private scikit-learn helpers.

Parameter validation (``Interval``, ``StrOptions``), the ``_fit_context``
decorator and ``_check_sample_weight`` are what scikit-learn's own estimators
use, but they live in private modules. Importing them here, and only here,
means an upstream move breaks one file instead of every estimator.
"""

from numbers import Integral

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval as _Interval
from sklearn.utils._param_validation import StrOptions, validate_parameter_constraints
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


# ``n_jobs`` as joblib reads it: a number of jobs, or -1 for every CPU (-2
# all but one, ...). scikit-learn declares [Integral, None], which lets 0
# through to joblib's "n_jobs == 0 in Parallel has no meaning", raised by
# the first Parallel after the data was validated; and True, a count of 1.
N_JOBS_CONSTRAINT = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def check_n_jobs(n_jobs, caller_name):
    """Validate the ``n_jobs`` of a function as an estimator's is validated."""
    validate_parameter_constraints(
        {"n_jobs": N_JOBS_CONSTRAINT}, {"n_jobs": n_jobs}, caller_name
    )


__all__ = [
    "N_JOBS_CONSTRAINT",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "check_n_jobs",
]
