"""BLAS thread limits that overlapping fits cannot leave behind.

threadpoolctl's limits are process-wide, and each ``threadpool_limits``
context restores on exit the limits it found on entry. When fits overlap in
threads (a threading joblib backend for the seed search, or a user's own
threads), one context can find another's limit and "restore" it: after such a
seed search BLAS stayed on one thread for the rest of the process. Here the
limits found by the first of the overlapping contexts are restored when the
last of them exits. Within one thread, a nested block's limit stays in force
until the outer block exits: skclust nests them only where nothing but the
inner block runs after it (a Lloyd run inside a seed-search run).
"""

import threading
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_active = 0
_original = None


@contextmanager
def blas_threads(limit):
    """Run the block with BLAS limited to ``limit`` threads.

    Parameters
    ----------
    limit : int or None
        None leaves the number of threads as it is.
    """
    global _active, _original
    with _lock:
        if _active == 0:
            # With limits=None nothing changes; the object remembers the
            # limits in force, to restore them at the end.
            _original = threadpool_limits(limits=None, user_api="blas")
        _active += 1
        if limit is not None:
            threadpool_limits(limits=limit, user_api="blas")
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _original.restore_original_limits()
                _original = None
