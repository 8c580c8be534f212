"""The spectral family: ``SpectralGraphClusterer`` and the sweep over k.

Layout: ``_estimator`` (the estimator and ``sweep_n_clusters``),
``_laplacian`` (Laplacians, eigenpairs, embeddings, connected components) and
``_divisive`` (refinement by spectral bisection). Other modules import only
what this file exports.
"""

from ._estimator import SpectralGraphClusterer, sweep_n_clusters

__all__ = ["SpectralGraphClusterer", "sweep_n_clusters"]
