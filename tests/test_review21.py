"""Review of session 21's merges: the argparse hint, check_finite's sum
shortcut, and partial_fit's callable init on a memory map."""

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import sparse

from skclust import KMeansL2, VectorQuantizer
from skclust._checks import check_finite
from skclust._cli import main


def test_no_list_hint_for_an_option_of_one_value(photo, tmp_path, capsys):
    # --seed takes one value: photo.png is its missing value, not one more.
    out = tmp_path / "out"
    assert main(["image", "--seed", str(photo), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"argument --seed: '{photo}' is not an integer" in error
    assert "takes every value" not in error
    assert not out.exists()


def test_no_list_hint_for_graph_which_reads_files_by_option(tmp_path, capsys):
    # skclust graph takes no file names: "skclust graph edges.txt -k ..."
    # would be refused in turn.
    edges = tmp_path / "edges.txt"
    edges.write_text("1 2\n2 3\n3 1\n")
    out = tmp_path / "out"
    assert main(["graph", "-k", "2", str(edges), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "is neither an integer nor auto" in error
    assert "takes every value" not in error
    assert not out.exists()


def test_list_hint_still_given_for_vq_k(tmp_path, capsys):
    table = tmp_path / "emb.npy"
    np.save(table, np.ones((4, 2)))
    assert main(["vq", "-k", "2", str(table), "--out", str(tmp_path / "o")]) == 2
    assert "name the files before -k (skclust vq" in capsys.readouterr().err


def test_finite_values_whose_sum_overflows_are_accepted():
    # The sum of the shortcut is infinite; no entry is.
    X = np.array([[1e308, 0.0], [1e308, 1.0], [-1e308, 0.0], [-1e308, 1.0]])
    check_finite(X, "X", "needs")
    check_finite(sparse.csr_array(X), "X", "needs")
    check_finite(np.full((2, 2), 6e4, dtype=np.float16), "X", "needs")
    labels = KMeansL2(2, n_init=1, random_state=0).fit(X).labels_
    assert labels[0] == labels[1] != labels[2] == labels[3]


def test_overflowing_sum_still_finds_the_nan_after_it():
    X = np.array([[1e308, 0.0], [1e308, 1.0], [2.0, np.nan]])
    with pytest.raises(ValueError, match="X holds NaN at row 2, column 1: needs"):
        check_finite(X, "X", "needs")


def test_partial_fit_callable_init_never_sees_nan_of_a_memmap(tmp_path):
    path = tmp_path / "rows.npy"
    rows = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(20, 4))
    rows[:] = np.arange(80, dtype=np.float32).reshape(20, 4)
    rows[5, 3] = np.nan
    rows.flush()
    del rows
    calls = []

    def init(X, n_clusters, random_state):
        calls.append(X)
        return X[:n_clusters]

    vq = VectorQuantizer(3, init=init, random_state=0)
    with pytest.raises(ValueError, match="X holds NaN at row 5, column 3"):
        vq.partial_fit(np.load(path, mmap_mode="r"))
    assert calls == []


@pytest.mark.skipif(
    not hasattr(signal, "pthread_sigmask"), reason="no signal masks on this platform"
)
def test_ctrl_c_stays_held_while_lokys_resource_tracker_starts(tmp_path):
    # joblib 1.3 to 1.5 (the floor is 1.3) start loky's resource tracker
    # with SIG_UNBLOCK after it, as Python 3.11's multiprocessing does: the
    # first pool's workers were then started with SIGINT deliverable. The
    # old behaviour is put back here around joblib 1.6's own; a fresh
    # interpreter, whose tracker has not started yet.
    code = textwrap.dedent(
        """
        import signal
        from joblib.externals.loky.backend import resource_tracker
        from skclust._cli._workers import _ctrl_c_held

        tracker = resource_tracker._resource_tracker
        start = tracker.ensure_running

        def start_as_joblib_1_5():
            started = tracker._pid is not None
            start()
            if not started:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

        tracker.ensure_running = start_as_joblib_1_5
        with _ctrl_c_held():
            tracker.ensure_running()  # as loky's first worker start does
            held = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
        print("held" if held else "not held")
        """
    )
    # Outside the checkout, whose unbuilt skclust/ would shadow the install.
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stdout.split() == ["held"], result.stderr
