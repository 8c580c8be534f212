"""Make a worker process of a skclust command die with it, first thing.

A command's joblib workers start with this folder first on ``PYTHONPATH`` and
the command's pid in ``SKCLUST_WORKER_PARENT``. Python imports
``sitecustomize`` before anything else, so the worker asks the kernel for
SIGKILL on its parent's death (Linux ``PR_SET_PDEATHSIG``) within milliseconds
of starting, not after the seconds it spends importing numpy and scikit-learn.
It also ignores Ctrl-C, which a terminal sends to the whole foreground
process group, workers included: a worker still starting printed a
KeyboardInterrupt traceback (or "Fatal Python error: init_import_site")
under the command's one line. The command starts its workers with SIGINT
blocked, so none arrives before this file ignores it, and stops them itself
when it is interrupted. Another ``sitecustomize`` further on the path still
runs.
"""

import ctypes
import importlib.machinery
import importlib.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    parent = os.environ.pop("SKCLUST_WORKER_PARENT", None)
    if parent is None:
        return
    ignore_ctrl_c()
    if not sys.platform.startswith("linux"):
        return
    # The running program's own symbols, libc's among them: find_library
    # would run ldconfig in a subprocess.
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(parent):  # the parent died before the prctl
        os._exit(1)


def ignore_ctrl_c():
    """Ignore SIGINT, then unblock it (a Ctrl-C held meanwhile is dropped)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run_the_next_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    sys.path[:] = rest
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


_die_with_parent()
_run_the_next_sitecustomize()
