"""Worker processes of a command run never outlive it.

joblib's loky workers wait for more work after a fit and notice their parent's
death only between tasks, so a killed or interrupted ``skclust image --n-jobs
2`` could leave them computing for minutes. Each worker asks the kernel for
SIGKILL when its parent dies (Linux ``PR_SET_PDEATHSIG``), and an interrupted
run shuts the pool down at once.

The request is made twice: by the ``sitecustomize`` of ``_worker_site``, put
first on the workers' ``PYTHONPATH``, as the worker's interpreter starts (a
worker killed while importing would otherwise live for the seconds its
imports take), and by joblib's initializer, in case a ``-S`` interpreter or
a frozen build skipped it. Both also make the worker ignore Ctrl-C, which a
terminal sends to the workers as well as to the command: the command stops
them, and a worker interrupted while starting printed a traceback. The
workers are started with SIGINT blocked, so that none arrives before.
"""

import ctypes
import ctypes.util
import os
import signal
import sys
from contextlib import contextmanager

from joblib import parallel_config, register_parallel_backend
from joblib.parallel import BACKENDS

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid):
    """Worker initializer: be killed when the process that started us dies,
    and ignore Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the prctl
        os._exit(1)


@contextmanager
def _ctrl_c_held():
    """SIGINT blocked in this thread meanwhile, and delivered after.

    A process started meanwhile inherits the block through its exec, so a
    Ctrl-C cannot reach a worker before its start-up file ignores it.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # The resource trackers that loky starts with the first worker,
    # multiprocessing's (Python 3.11) and loky's own (joblib 1.3 to 1.5),
    # unblock SIGINT once started: started before, they leave the block
    # alone (and one that died is started again here).
    from multiprocessing import resource_tracker

    from joblib.externals.loky.backend import resource_tracker as loky_tracker

    resource_tracker.ensure_running()
    loky_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker_site")


class _MortalLokyBackend(BACKENDS["loky"]):
    """joblib's loky backend whose workers run ``_worker_site`` at start-up."""

    # loky starts the workers (and its manager thread, which restarts them)
    # in these two calls.
    def configure(self, *args, **kwargs):
        with _ctrl_c_held():
            return super().configure(*args, **kwargs)

    def submit(self, func, callback=None):
        with _ctrl_c_held():
            return super().submit(func, callback)

    def _prepare_worker_env(self, n_jobs):
        env = super()._prepare_worker_env(n_jobs)
        path = os.environ.get("PYTHONPATH")
        env["PYTHONPATH"] = _SITE + (os.pathsep + path if path else "")
        env["SKCLUST_WORKER_PARENT"] = str(os.getpid())
        return env


register_parallel_backend("skclust-loky", _MortalLokyBackend)


@contextmanager
def workers_die_with_parent():
    """Process pools started inside this block die with this process."""
    with parallel_config(
        backend="skclust-loky",
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
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
