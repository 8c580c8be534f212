"""BLAS thread limits, set and restored by the main thread only.

threadpoolctl's limits are process-wide, and a ``threadpool_limits`` context
restores on exit the limits it found on entry. Set from several threads at
once (the runs of a seed search on a threading joblib backend, a user's own
threads), one context can find another's limit and "restore" it, and with
OpenBLAS a limit set from a worker thread did not always reach the others (a
test of it failed 1 run in 9). So only the main thread of a process touches
the limits: it holds them around a whole parallel section, and the workers it
starts run under them. In any other thread ``blas_threads`` leaves BLAS as it
is. A process of the loky backend runs its tasks in its own main thread, so it
sets its own limits.

Finding the BLAS libraries means reading the process's memory map (about 3 ms,
which was most of a small fit's time), so it is done once per process, as
scikit-learn does: the libraries numpy and scipy bring are loaded by then.
"""

import threading
from contextlib import contextmanager
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller():
    """The process's thread pools, found on first use."""
    return ThreadpoolController()


def owns_blas_limits():
    """Whether the calling thread may change the BLAS limits (the main thread)."""
    return threading.current_thread() is threading.main_thread()


# The limits that the main thread's blocks hold, innermost last.
_held = []


@contextmanager
def blas_threads(limit):
    """Run the block with BLAS limited to ``limit`` threads.

    In the main thread the limit holds until the block ends, then the limits
    found on entry come back (nested blocks restore in order). In any other
    thread nothing changes: the thread runs under the limits its starter set.

    Parameters
    ----------
    limit : int or None
        None leaves the number of threads as it is.
    """
    if limit is None or not owns_blas_limits() or _held[-1:] == [limit]:
        # An enclosing block holds this limit already: setting it again cost
        # 15 us (a small fit nests two such blocks).
        yield
        return
    with _limited(limit):
        _held.append(limit)
        try:
            yield
        finally:
            _held.pop()


def _limited(limit):
    """A context that holds the BLAS pools at ``limit`` threads."""
    return _controller().limit(limits=limit, user_api="blas")
