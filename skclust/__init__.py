"""skclust: clustering estimators with the scikit-learn API.

L2 and L1 k-means (``KMeansL2``, ``KMeansL1``), spectral graph clustering
(``SpectralGraphClusterer``), compression of embedding tables by vector
quantization (``VectorQuantizer``), and tools to choose the number of
clusters (``skclust.model_selection``).
"""

try:
    from ._kmeans import KMeansL1, KMeansL2
except ModuleNotFoundError as error:
    if not (error.name or "").startswith(f"{__name__}._kmeans."):
        raise
    # `python -m pytest` or `python -m sphinx` in a checkout import the source
    # folder first, where a plain `pip install .` built nothing.
    raise ImportError(
        f"skclust's compiled modules ({error.name}) are missing from "
        f"{__path__[0]}, an unbuilt source folder: build it in place with "
        "`pip install -e .`, or run from another folder to import the "
        "installed skclust"
    ) from error
from ._spectral import SpectralGraphClusterer, sweep_n_clusters
from ._vq import MemoryUsage, VectorQuantizer
from .study import kmeans_l1, kmeans_l2

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
