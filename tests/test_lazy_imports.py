"""``skclust --help``, ``--version`` and usage errors load no heavy library.

Importing scikit-learn alone takes a second or more; the command line should
answer these at once. Each case runs in a fresh interpreter, which then lists
the heavy packages it has imported.
"""

import subprocess
import sys

import pytest

import skclust
from skclust._cli import SUBCOMMANDS

HEAVY = ("numpy", "scipy", "sklearn", "matplotlib", "PIL", "joblib", "numba", "tqdm")

# The subcommands are named after their modules.
COMMANDS = [module.__name__.rpartition(".")[2] for module in SUBCOMMANDS]

# Runs `skclust ARGS...` as `python -m skclust` does, then prints the exit
# code and the heavy packages imported, one per line.
_WRAPPER = f"""
import runpy, sys
sys.argv = ["skclust", *sys.argv[1:]]
try:
    runpy.run_module("skclust", run_name="__main__")
except SystemExit as exit_:
    code = exit_.code
print(code)
print(sorted(name for name in {HEAVY!r} if name in sys.modules))
"""


def _run(tmp_path, *arguments):
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    code, imported = result.stdout.strip().splitlines()[-2:]
    return int(code), imported, result


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["--version"]] + [[command, "--help"] for command in COMMANDS],
    ids=" ".join,
)
def test_help_and_version_import_no_heavy_library(tmp_path, arguments):
    code, imported, result = _run(tmp_path, *arguments)
    assert code == 0
    if arguments == ["--version"]:
        assert result.stdout.startswith(f"skclust {skclust.__version__}")
    else:  # the command's own help (also checks the name of the command)
        assert result.stdout.startswith(f"usage: skclust {' '.join(arguments[:-1])}")
    assert imported == "[]"


@pytest.mark.parametrize(
    "arguments",
    [["image", "--ot", "x"], ["graph", "-k", "0"], ["vq", "--metric", "l3"], []],
    ids=lambda arguments: " ".join(arguments) or "no command",
)
def test_usage_errors_import_no_heavy_library(tmp_path, arguments):
    code, imported, result = _run(tmp_path, *arguments)
    assert code == 2
    assert result.stderr.startswith("skclust")
    assert len(result.stderr.strip().splitlines()) == 1
    assert imported == "[]"


def test_importing_skclust_loads_no_heavy_library(tmp_path):
    code = f"import sys, skclust; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_public_names_are_imported_on_first_use():
    from skclust._kmeans import KMeansL2
    from skclust._spectral import sweep_n_clusters

    assert skclust.KMeansL2 is KMeansL2
    assert skclust.sweep_n_clusters is sweep_n_clusters
    namespace = {}
    exec("from skclust import *", namespace)
    assert set(skclust.__all__) <= set(namespace)
    assert namespace["VectorQuantizer"].__name__ == "VectorQuantizer"


def test_public_submodules_are_attributes():
    import skclust.metrics

    assert skclust.metrics.__name__ == "skclust.metrics"
    assert skclust.model_selection.__name__ == "skclust.model_selection"


def test_dir_lists_the_public_names():
    assert set(skclust.__all__) <= set(dir(skclust))
    assert {"datasets", "metrics", "model_selection", "study"} <= set(dir(skclust))
    # and no helper of the lazy loading (import_module, TYPE_CHECKING).
    public = {name for name in dir(skclust) if not name.startswith("_")}
    submodules = {"datasets", "image", "metrics", "model_selection", "study"}
    assert public == set(skclust.__all__) - {"__version__"} | submodules


def test_an_unknown_name_raises_attribute_error():
    with pytest.raises(
        AttributeError, match=r"^module 'skclust' has no attribute 'KMeansL3'$"
    ):
        skclust.KMeansL3  # noqa: B018
    assert not hasattr(skclust, "_kmeans_l3")


def test_the_help_defaults_written_out_match_their_libraries():
    # Written out in the light modules so that --help need not import them.
    from PIL import Image

    from skclust import SpectralGraphClusterer
    from skclust._cli import graph, image

    assert graph.DEFAULT_STRATEGY == SpectralGraphClusterer().strategy
    assert image.PILLOW_PIXEL_LIMIT == Image.MAX_IMAGE_PIXELS
