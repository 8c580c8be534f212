"""skclust: clustering estimators with the scikit-learn API.

L2 and L1 k-means (``KMeansL2``, ``KMeansL1``), spectral graph clustering
(``SpectralGraphClusterer``), compression of embedding tables by vector
quantization (``VectorQuantizer``), and tools to choose the number of
clusters (``skclust.model_selection``).
"""

# The public names are imported on first use (PEP 562 ``__getattr__``), not
# here: importing them loads scikit-learn and scipy, a second or more, which
# ``skclust --help`` and ``--version`` (the command line imports this package)
# should not wait for. ``from skclust import KMeansL2`` works as before.
import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

__all__ = [
    "KMeansL1",
    "KMeansL2",
    "MemoryUsage",
    "SpectralGraphClusterer",
    "VectorQuantizer",
    "__version__",
    "kmeans_l1",
    "kmeans_l2",
    "sweep_n_clusters",
]

# Where each public name is defined.
_PUBLIC = {
    "KMeansL1": "._kmeans",
    "KMeansL2": "._kmeans",
    "MemoryUsage": "._vq",
    "SpectralGraphClusterer": "._spectral",
    "VectorQuantizer": "._vq",
    "kmeans_l1": ".study",
    "kmeans_l2": ".study",
    "sweep_n_clusters": "._spectral",
}
# Public submodules, also reachable as attributes after ``import skclust``.
_SUBMODULES = {"datasets", "image", "metrics", "model_selection", "study"}

if _typing.TYPE_CHECKING:  # for type checkers and editors, which do not run __getattr__
    from ._kmeans import KMeansL1, KMeansL2
    from ._spectral import SpectralGraphClusterer, sweep_n_clusters
    from ._vq import MemoryUsage, VectorQuantizer
    from .study import kmeans_l1, kmeans_l2


def _check_compiled_modules(package_dir):
    """Refuse a source folder whose Cython modules were not compiled.

    Each ``.pyx`` source is compiled beside itself; looking for the files,
    rather than importing the modules, keeps ``import skclust`` light.
    """
    import os
    from importlib.machinery import EXTENSION_SUFFIXES

    missing = []
    for family in sorted(os.scandir(package_dir), key=lambda entry: entry.name):
        if not family.is_dir():
            continue
        names = set(os.listdir(family.path))
        for name in sorted(names):
            stem, _, extension = name.rpartition(".")
            if extension == "pyx" and not any(
                stem + suffix in names for suffix in EXTENSION_SUFFIXES
            ):
                missing.append(f"{__name__}.{family.name}.{stem}")
    if missing:
        # `python -m pytest` or `python -m sphinx` in a checkout import the
        # source folder first, where a plain `pip install .` built nothing.
        raise ImportError(
            f"skclust's compiled modules ({', '.join(missing)}) are missing "
            f"from {package_dir}, an unbuilt source folder: build it in place "
            "with `pip install -e .`, or run from another folder to import the "
            "installed skclust"
        )


_check_compiled_modules(__path__[0])


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(_importlib.import_module(_PUBLIC[name], __name__), name)
    elif name in _SUBMODULES:
        value = _importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
