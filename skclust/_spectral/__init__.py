"""The spectral family: ``SpectralGraphClusterer`` and the sweep over k.

Layout: ``_estimator`` (the estimator, ``sweep_n_clusters`` and
``max_n_clusters``), ``_laplacian`` (Laplacians, eigenpairs, embeddings,
components, twins, the Bethe Hessian), ``_graph`` (the validated graph and
what every k shares), ``_components`` (how clusters are shared among
components) and ``_divisive`` (refinement by spectral bisection). Other
modules import only what this file exports.
"""

from ._estimator import SpectralGraphClusterer, max_n_clusters, sweep_n_clusters

__all__ = ["SpectralGraphClusterer", "max_n_clusters", "sweep_n_clusters"]
