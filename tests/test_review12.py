"""Review of the lazy imports and of the spectral ties (rev12)."""

import numpy as np
import pytest

from skclust._spectral._hartigan import _partition_key


def test_a_lone_point_costs_nothing_in_the_partition_key():
    # Worked by hand: the pair {5.0, 5.2} of weights 3 costs 3 * 0.01 * 2;
    # the lone 0.1 costs nothing, though 0.1 * 3 / 3 is not 0.1 in floats.
    points = np.array([[0.1], [5.0], [5.2]])
    key = _partition_key(points, np.full(3, 3.0), np.array([0, 1, 1]), 2)
    assert key == (0.06, 45.0, -6.0, -3.0, 0.06, 0.0)


@pytest.mark.parametrize("seed", range(3))
def test_the_partition_key_of_lone_points_ignores_rotation(seed):
    # Lone points of weight 3 (a twin class of three nodes) used to keep a
    # cost of about 1e-33 that followed their coordinates: the key of one
    # partition changed with a rotation of the points (the solver's basis).
    from scipy.stats import special_ortho_group

    rng = np.random.default_rng(seed)
    points = rng.normal(size=(12, 3))
    weights = np.full(12, 3.0)
    labels = np.r_[np.arange(6), np.zeros(6, dtype=int)]  # five lone points
    rotation = special_ortho_group.rvs(3, random_state=seed)
    key = _partition_key(points, weights, labels, 6)
    assert key == _partition_key(points @ rotation, weights, labels, 6)
    assert key[-5:] == (0.0,) * 5


def test_a_ctrl_c_during_a_lazy_import_is_an_interrupt(
    tmp_path, monkeypatch, capsys, ctrl_c_arrives
):
    # The command modules import matplotlib and others inside the run, where
    # a Ctrl-C can land in an import; Python 3.11 wraps a KeyboardInterrupt
    # raised in a class body's __set_name__ (matplotlib's _AxesBase) in a
    # RuntimeError ("Error calling __set_name__ ..."), which ended the run
    # with a traceback and exit code 1 (``skclust vq`` 4 s after its start).
    import signal

    from PIL import Image

    from skclust._cli import image as image_command
    from skclust._cli import main

    class InterruptedAtSetName:
        def __set_name__(self, owner, name):
            signal.raise_signal(signal.SIGINT)

    def quantize_while_importing(*args, **kwargs):
        type("Axes", (), {"yaxis_inverted": InterruptedAtSetName()})

    monkeypatch.setattr(image_command, "quantize_images", quantize_while_importing)
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    photo = tmp_path / "small.png"
    Image.fromarray(np.full((4, 4, 3), 100, dtype=np.uint8)).save(photo)
    out = tmp_path / "out"
    argv = ["image", str(photo), "-k", "2", "--metric", "l2", "--out", str(out)]
    assert main(argv) == 130
    assert capsys.readouterr().err.strip() == "skclust image: interrupted"
    assert not out.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_compiled_modules_of_another_python_are_missing(tmp_path):
    # A checkout built by another Python keeps .so files whose suffix this
    # interpreter does not load: the folder is unbuilt for it, and says so.
    import shutil
    import subprocess
    import sys
    from importlib.machinery import EXTENSION_SUFFIXES
    from pathlib import Path

    import skclust

    source = Path(skclust.__file__).parent
    copy = tmp_path / "skclust"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    built = [p for p in copy.rglob("*.so") if p.name.endswith(EXTENSION_SUFFIXES[0])]
    assert built
    for path in built:
        stem = path.name[: -len(EXTENSION_SUFFIXES[0])]
        path.rename(path.with_name(stem + ".cpython-30-x86_64-linux-gnu.so"))
    command = [sys.executable, "-c", "import skclust"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: skclust's compiled modules")
    assert "skclust._kmeans._nearest" in last_line
    assert "skclust._vq._adc_scan" in last_line


def _workers_import_raising(monkeypatch, error):
    import sys
    import types

    def raising(name):
        raise error

    fake = types.ModuleType("skclust._cli._workers")
    fake.__getattr__ = raising
    monkeypatch.setitem(sys.modules, "skclust._cli._workers", fake)


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_ctrl_c_while_the_workers_module_is_imported(
    tmp_path, monkeypatch, capsys, wrapped
):
    # main() imports joblib (through _workers) after parsing, before the run;
    # a Ctrl-C there gave a traceback (rev12). Python 3.11 may wrap it in a
    # RuntimeError whose cause is the interrupt.
    from skclust._cli import main

    if wrapped:
        error = RuntimeError("Error calling __set_name__")
        error.__cause__ = KeyboardInterrupt()
    else:
        error = KeyboardInterrupt()
    _workers_import_raising(monkeypatch, error)
    out = tmp_path / "out"
    assert main(["graph", "-k", "2", "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip() == "skclust graph: interrupted"
    assert not out.exists()


def test_an_import_error_of_the_workers_module_is_not_an_interrupt(monkeypatch):
    from skclust._cli import main

    _workers_import_raising(monkeypatch, RuntimeError("broken"))
    with pytest.raises(RuntimeError, match="broken"):
        main(["graph", "-k", "2", "--out", "unused"])
