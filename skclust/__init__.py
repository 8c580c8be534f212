"""skclust: clustering estimators with the scikit-learn API.

L2 and L1 k-means (``KMeansL2``, ``KMeansL1``), spectral graph clustering
(``SpectralGraphClusterer``), compression of embedding tables by vector
quantization (``VectorQuantizer``), and tools to choose the number of
clusters (``skclust.model_selection``).
"""

from ._kmeans import KMeansL1, KMeansL2
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
