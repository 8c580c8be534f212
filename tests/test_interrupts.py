"""Ctrl-C and kills during a parallel run leave no process and no stray file.

``skclust image --n-jobs 2`` runs its k-means starts in joblib worker
processes; these tests interrupt or kill the command while the workers
compute and then check that none of its child processes survives.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from skclust._cli import main
from skclust._cli._output import MARKER

psutil = pytest.importorskip("psutil")


# These tests are about a Ctrl-C that arrives (see conftest.ctrl_c_arrives).
pytestmark = pytest.mark.usefixtures("ctrl_c_arrives")


# Bounds for a hang, not timings. A worker killed with its parent while it
# is still importing dies when it reaches its initializer, seconds later on a
# loaded machine; one killed while computing dies at once.
_GRACE = 60
_STARTUP = 120


def _start(tmp_path, workers=2):
    rng = np.random.default_rng(0)
    photo = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 256, (500, 500, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "skclust", "image", str(photo), "-k", "48"]
    command += ["--n-init", "4", "--n-jobs", "2", "--metric", "l2", "--out", str(out)]
    # Files, not pipes: a surviving worker holding a pipe must not hang the test.
    stderr = open(tmp_path / "stderr.txt", "w+")
    # Outside the source tree: ``python -m`` puts the current folder first on
    # the import path, and a checkout's skclust folder is not compiled.
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=tmp_path
    )
    process.stderr_file = stderr
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + _STARTUP
    while time.monotonic() < deadline and process.poll() is None:
        children = parent.children(recursive=True)
        found = [c for c in children if _is_worker(c)]
        if len(found) >= workers:
            return process, children, out
        time.sleep(0.01 if workers < 2 else 0.1)
    process.kill()
    pytest.fail("the workers never started")


def _is_worker(process):
    return "popen_loky_posix" in " ".join(_cmdline(process))


def _has_loaded_skclust(process):
    try:
        with open(f"/proc/{process.pid}/maps") as maps:
            return "skclust" in maps.read()
    except OSError:
        return False


def _cmdline(process):
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _survivors(children):
    _, alive = psutil.wait_procs(children, timeout=_GRACE)
    for process in alive:
        process.kill()
    return alive


def test_ctrl_c_stops_the_workers_and_exits_130(tmp_path):
    process, children, out = _start(tmp_path)
    time.sleep(0.5)  # let the workers start computing
    process.send_signal(signal.SIGINT)
    process.wait(timeout=_GRACE)
    assert process.returncode == 130
    process.stderr_file.seek(0)
    assert process.stderr_file.read().strip() == "skclust image: interrupted"
    assert _survivors(children) == []
    # No staging folder, no temporary file, no partial output: the folder
    # the run made is gone.
    assert not out.exists()


def test_a_killed_run_leaves_no_process_and_the_next_run_cleans_up(
    tmp_path, capsys, monkeypatch
):
    process, children, out = _start(tmp_path)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=_GRACE)
    assert process.returncode == -signal.SIGKILL
    assert _survivors(children) == []
    left = sorted(p.name for p in out.iterdir())
    assert left[0] == MARKER and left[1].startswith(".skclust-staging-")
    # The next run into the folder removes what the killed one left.
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    photo = tmp_path / "small.png"
    Image.fromarray(np.eye(6, 6 * 3, dtype=np.uint8).reshape(6, 6, 3) * 200).save(photo)
    argv = ["image", str(photo), "-k", "2", "--metric", "l2", "--out", str(out)]
    assert main(argv) == 0
    assert not [p for p in out.rglob("*") if "staging" in p.name]
    assert not list(out.rglob("*.part"))


# A worker's whole start-up (an interpreter importing numpy, scikit-learn and
# skclust) takes seconds; it must die with its parent well before that ends.
_QUICK = 3


@pytest.mark.parametrize("signal_", [signal.SIGKILL, signal.SIGINT])
def test_workers_still_starting_die_with_their_parent(tmp_path, signal_):
    process, _, _ = _start(tmp_path, workers=1)
    workers = [c for c in psutil.Process(process.pid).children() if _is_worker(c)]
    # Still importing: skclust's compiled modules not loaded yet.
    assert workers and not any(_has_loaded_skclust(w) for w in workers)
    process.send_signal(signal_)
    process.wait(timeout=_GRACE)
    _, alive = psutil.wait_procs(workers, timeout=_QUICK)
    for worker in alive:
        worker.kill()
    assert alive == []


def test_a_worker_interpreter_asks_for_its_death_signal_first():
    # The environment the workers start with: their interpreter has its
    # parent-death signal (read back with PR_GET_PDEATHSIG) before it has
    # imported anything of its own.
    from skclust._cli._workers import _MortalLokyBackend

    env = {**os.environ, **_MortalLokyBackend()._prepare_worker_env(n_jobs=2)}
    probe = (
        "import ctypes, sys\n"
        "signal_ = ctypes.c_int()\n"
        "ctypes.CDLL(None).prctl(2, ctypes.byref(signal_))\n"
        "print(signal_.value, 'numpy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == [str(int(signal.SIGKILL)), "False"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_that_python_drops_still_interrupts_the_run(
    tmp_path, monkeypatch, capsys
):
    # Python drops an exception raised in a finalizer ("Exception ignored
    # in ..."): a Ctrl-C landing there must still end the run as interrupted.
    from skclust._cli import image as image_command

    class RaisesInFinalizer:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    real = image_command.quantize_images

    def quantize_then_drop_a_ctrl_c(*args, **kwargs):
        result = real(*args, **kwargs)
        RaisesInFinalizer()  # collected at once; its KeyboardInterrupt is dropped
        return result

    monkeypatch.setattr(image_command, "quantize_images", quantize_then_drop_a_ctrl_c)
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    photo = tmp_path / "small.png"
    Image.fromarray(np.eye(6, 6 * 3, dtype=np.uint8).reshape(6, 6, 3) * 200).save(photo)
    out = tmp_path / "out"
    argv = ["image", str(photo), "-k", "2", "--metric", "l2", "--out", str(out)]
    assert main(argv) == 130
    assert capsys.readouterr().err.strip().endswith("skclust image: interrupted")
    assert not out.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
