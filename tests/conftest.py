"""Shared fixtures: the study's data files, found through SKCLUST_DATA."""

import os
import signal
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _study_data_dir():
    value = os.environ.get("SKCLUST_DATA")
    return Path(value) if value else None


def traced_peak(function, *args):
    """Peak of the memory traced by ``tracemalloc`` while ``function(*args)``
    runs."""
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def study_file(name):
    """Path of one of the study's files; skip when SKCLUST_DATA is unset.

    CI sets SKCLUST_DATA, so these tests run there. When it is set but the
    file is missing, the test fails instead of skipping.
    """
    directory = _study_data_dir()
    if directory is None:
        pytest.skip("SKCLUST_DATA is not set: the study's data files are not here")
    path = directory / name
    assert path.is_file(), f"SKCLUST_DATA={directory} has no {name}"
    return path


@pytest.fixture
def football_pixels():
    image = Image.open(study_file("football.bmp")).convert("RGB")
    return np.asarray(image, dtype=np.float64).reshape(-1, 3)


@pytest.fixture
def synthetic_pixels():
    """8-bit colours with many repeats and exact distance ties."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, size=(40, 3))
    noise = rng.integers(-6, 7, size=(6000, 3))
    return np.clip(base[rng.integers(0, 40, 6000)] + noise, 0, 255).astype(float)


@pytest.fixture
def photo(tmp_path):
    """A 4 x 6 RGB PNG of distinct colours, for the commands' usage errors."""
    path = tmp_path / "photo.png"
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3) * 3
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def political_blogs_files():
    """The study's nodes.txt and edges.txt (political blogs)."""
    return study_file("nodes.txt"), study_file("edges.txt")


@pytest.fixture(scope="session")
def embedded_report(tmp_path_factory):
    """``skclust report`` on the embedded defaults (no data folder), run once.

    Returns the output folder; tests only read it.
    """
    from skclust._cli import main

    out = tmp_path_factory.mktemp("report") / "skclust-report"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SKCLUST_DATA", raising=False)
        assert main(["report", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="session")
def dask_client():
    """A real dask.distributed cluster: two worker processes, one thread each."""
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def ctrl_c_arrives():
    """SIGINT handled as Python does at startup, for a test and its commands.

    A job that a shell starts in the background ignores SIGINT, and so do the
    processes it starts; tests of a Ctrl-C need one that arrives. A
    handled signal is reset to the default in a started process, which then
    installs Python's handler.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
