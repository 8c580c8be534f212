"""Worker processes of a command run never outlive it.

joblib's loky workers wait for more work after a fit and notice their parent's
death only between tasks, so a killed or interrupted ``skclust image --n-jobs
2`` could leave them computing for minutes. Each worker asks the kernel for
SIGKILL when its parent dies (Linux ``PR_SET_PDEATHSIG``), and an interrupted
run shuts the pool down at once.
"""

import ctypes
import ctypes.util
import os
import signal
import sys
from contextlib import contextmanager

from joblib import parallel_config

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid):
    """Worker initializer: be killed when the process that started us dies."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the prctl
        os._exit(1)


@contextmanager
def workers_die_with_parent():
    """Process pools started inside this block die with this process."""
    with parallel_config(
        backend="loky", initializer=_die_with_parent, initargs=(os.getpid(),)
    ):
        yield


def stop_workers():
    """Kill the idle or busy workers of joblib's process pool, if it has one."""
    # The pool is a module global of loky's; asking for it through the public
    # get_reusable_executor would start one when there is none.
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)
