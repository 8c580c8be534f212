"""The k-means family: ``KMeansL2`` and ``KMeansL1``.

Layout: ``_estimators`` (the two public classes), ``_base`` (their shared base
class: validation, seed search, predict, transform, score), ``_metrics`` (what
differs between L2 and L1: distance, cost, center update), ``_lloyd`` (the
seeding and the bounded Lloyd loop), ``_dedup`` (exact merging of repeated
rows), and the compiled kernels ``_bounds``, ``_cluster_sums`` and
``_row_hash``. Other modules import only what this file exports.
"""

from ._base import RUN_CONSTRAINTS
from ._estimators import KMeansL1, KMeansL2

__all__ = ["RUN_CONSTRAINTS", "KMeansL1", "KMeansL2"]
