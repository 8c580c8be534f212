"""Non-default constructions under scikit-learn's checks, scikit-learn's
meta-estimators beside ``KMeans``, and the commands as Unix tools."""

import errno
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from sklearn.cluster import KMeans
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skclust import KMeansL1, KMeansL2, SpectralGraphClusterer, VectorQuantizer
from skclust._cli import main


def _first_rows(X, n_clusters, random_state):
    """A callable init: the first rows, dense whatever the input."""
    rows = X[:n_clusters]
    return rows.toarray() if hasattr(rows, "toarray") else rows


# Each categorical parameter was run through check_estimator one value at a
# time (KMeansL2/L1: init, n_init, n_jobs, algorithm="lloyd", batch_size, tol,
# max_iter; VectorQuantizer: init, n_init, n_jobs, normalize; the spectral
# laplacian, regularization, row_scaling, strategy, n_components,
# eigen_solver, n_init, n_jobs, n_clusters="auto"): all passed. Combined
# with batch_size, which reads the checks' read-only memory maps in blocks, a
# callable init is refused (see the test below), and init="random" seeds from
# a sample there, so check_clustering's fit of a list and fit of the memory
# map may number the same clusters differently. Left out:
# algorithm="exact" and n_subvectors=2 refuse most of the checks' tables (one
# feature only; a width the subvectors divide), and spherical=True with
# normalize=False or subvectors is refused, each with a message naming it.
# A few constructions that combine them keep the paths under test, cheaply.
@parametrize_with_checks(
    [
        KMeansL2(3, init="random", n_init=2, algorithm="lloyd", tol=0),
        KMeansL1(3, init=_first_rows, n_init=2, max_iter=5),
        VectorQuantizer(3, init="random", n_init=2, max_iter=5),
        VectorQuantizer(3, init=_first_rows, n_init=2),
        SpectralGraphClusterer(
            laplacian="normalized",
            regularization="mean_degree",
            row_scaling="degree",
            strategy="divisive",
        ),
    ]
)
def test_non_default_constructions_pass_the_common_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [KMeansL2, KMeansL1])
def test_a_callable_init_on_a_table_read_in_blocks_is_refused_by_name(
    Estimator, tmp_path
):
    np.save(tmp_path / "t.npy", np.random.default_rng(0).random((20, 2)))
    table = np.load(tmp_path / "t.npy", mmap_mode="r")
    estimator = Estimator(3, init=_first_rows, batch_size=7)
    with pytest.raises(ValueError, match="callable init is not supported for tables"):
        estimator.fit(table)
    # The same table loaded is fitted from the callable's centers.
    assert Estimator(3, init=_first_rows, n_init=1).fit(table).n_iter_ >= 1


@pytest.mark.parametrize("normalize", [True, False])
def test_partial_fit_calls_a_callable_init_on_the_first_batch(normalize):
    # It was refused ("a callable init needs an in-memory fit"), which
    # check_n_features_in_after_fitting failed on; MiniBatchKMeans takes it.
    X = np.array([[3.0, 4.0, 1, 0], [3.0, 4.0, 1, 0], [0, 2, 0, 5], [1, 0, 1, 1]])
    seen = []

    def last_rows(points, n_clusters, random_state):
        seen.append(points)
        return points[-n_clusters:]

    vq = VectorQuantizer(2, n_subvectors=2, normalize=normalize, init=last_rows)
    vq.partial_fit(X)
    scale = 1 / np.sqrt([[26.0], [26.0], [29.0], [3.0]])  # the rows' lengths
    rows = X * scale if normalize else X
    # Each subvector's distinct rows, once, as fit gives them.
    assert len(seen) == 2
    np.testing.assert_allclose(seen[0], np.unique(rows[:, :2], axis=0), rtol=1e-6)
    np.testing.assert_allclose(seen[1], np.unique(rows[:, 2:], axis=0), rtol=1e-6)
    assert vq.n_steps_ == 1
    with pytest.raises(ValueError, match=r"returned by init \(1, 2\) does not match"):
        VectorQuantizer(2, n_subvectors=2, init=lambda p, k, r: p[:1]).partial_fit(X)


# test_product_quantization_counts_iterations_per_codebook moved to
# test_api21.py: n_iter_ is now an int, the counts per codebook are
# n_iter_per_codebook_.


@pytest.mark.parametrize(
    "ours",
    [KMeansL2(3, random_state=0), KMeansL1(3, random_state=0)],
    ids=["KMeansL2", "KMeansL1"],
)
def test_meta_estimators_treat_it_as_they_treat_kmeans(ours):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((30, 3)), columns=["a", "b", "c"], index=range(5, 35))
    outputs = {}
    for est in (KMeans(3, random_state=0), ours):
        pipe = make_pipeline(StandardScaler(), est).set_output(transform="pandas")
        out = pickle.loads(pickle.dumps(pipe.fit(X))).transform(X)
        assert out.index.equals(X.index)
        outputs[type(est).__name__.lower()] = out
        search = GridSearchCV(est, {"n_clusters": [2, 3]}, cv=3).fit(X)
        assert search.best_estimator_.feature_names_in_.tolist() == ["a", "b", "c"]
    name = type(ours).__name__.lower()
    assert list(outputs[name].columns) == [f"{name}0", f"{name}1", f"{name}2"]
    assert list(outputs["kmeans"].columns) == ["kmeans0", "kmeans1", "kmeans2"]


# --- the commands -------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "option"),
    [(["image", "-k", "3"], "-k"), (["image", "--metric", "l2"], "--metric")],
)
def test_a_file_after_a_list_option_is_named_as_misplaced(
    photo, tmp_path, capsys, command, option
):
    out = tmp_path / "out"
    assert main([*command, str(photo), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"name the files before {option} (skclust image {photo} {option}" in error
    assert not out.exists()
    # The order the hint gives runs.
    argv = ["image", str(photo), *command[1:], "-k", "3", "--out", str(out)]
    assert main(argv) == 0


def test_a_number_that_is_not_an_integer_gets_no_file_hint(capsys):
    assert main(["vq", "-k", "3.5"]) == 2
    error = capsys.readouterr().err
    assert "'3.5' is not an integer" in error
    assert "files" not in error


def test_an_option_after_double_dash_is_not_suggested_as_itself(tmp_path, capsys):
    table = tmp_path / "t.npy"
    np.save(table, np.ones((4, 2), dtype=np.float32))
    assert main(["vq", "-k", "2", "--", str(table), "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err
    assert "--out comes after --: give the options before it" in error
    assert "did you mean" not in error


def test_a_worker_interpreter_ignores_ctrl_c(tmp_path):
    # A terminal sends Ctrl-C to the whole process group: joblib's workers,
    # still importing, printed KeyboardInterrupt tracebacks under the
    # command's line. They ignore it from their first line (sitecustomize),
    # and again in joblib's initializer.
    from skclust._cli._workers import _MortalLokyBackend

    env = {**os.environ, **_MortalLokyBackend()._prepare_worker_env(n_jobs=2)}
    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
    # Run outside the checkout, whose skclust/ (not built there by a plain
    # install) would shadow the installed package.
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.stdout.split() == ["True"], result.stderr
    initializer = (
        "import os, signal\n"
        "from skclust._cli._workers import _die_with_parent\n"
        "_die_with_parent(os.getppid())\n"
        "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", initializer],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.stdout.split() == ["True"], result.stderr


def _started_worker(process):
    """A joblib worker whose interpreter has run its start-up file (which
    loads ctypes): past it, Python turns SIGINT into KeyboardInterrupt."""
    import psutil

    try:
        if "popen_loky_posix" not in " ".join(process.cmdline()):
            return False
        with open(f"/proc/{process.pid}/maps") as maps:
            loaded = maps.read()
    except (psutil.Error, OSError):
        return False
    return "_ctypes" in loaded


@pytest.mark.usefixtures("ctrl_c_arrives")
def test_ctrl_c_to_the_process_group_while_workers_start_prints_one_line(tmp_path):
    psutil = pytest.importorskip("psutil")
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "skclust", "image", "noise.png", "-k", "48"]
    command += ["--n-init", "4", "--n-jobs", "2", "--metric", "l2", "--out", "out"]
    with open(tmp_path / "stderr.txt", "w+") as stderr:
        # Its own process group, which a terminal's Ctrl-C reaches as a whole.
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            start_new_session=True,
        )
        parent = psutil.Process(process.pid)
        deadline = time.monotonic() + 120  # a bound for a hang, not a timing
        while time.monotonic() < deadline and process.poll() is None:
            workers = [c for c in parent.children() if _started_worker(c)]
            if len(workers) == 2:
                break
            time.sleep(0.01)
        else:
            process.kill()
            pytest.fail("the workers never started")
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 130
        psutil.wait_procs(workers, timeout=60)
        stderr.seek(0)
        assert stderr.read() == "skclust image: interrupted\n"
    assert not out.exists()


class _FullDevice:
    """Standard output on a full disk (``> /dev/full``)."""

    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        pass


def test_a_full_standard_output_is_named_as_such(photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _FullDevice())
    out = tmp_path / "out"
    assert main(["image", str(photo), "-k", "3", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error == (
        "skclust image: error: [Errno 28] writing to standard output: "
        "No space left on device\n"
    )
    assert not out.exists()
