"""The k-means family: ``KMeansL2``, ``KMeansL1`` and the one Lloyd engine.

Layout (see ``docs/architecture.rst``): ``_estimators`` (the two public
classes), ``_base`` (their shared base class: validation, seed search,
predict, transform, score), ``_metrics`` (what differs between L2 and L1:
distance, cost, center update), ``_medians`` (exact weighted medians, in
memory and over blocks), ``_engine`` (seeding and the Lloyd loop),
``_inmemory`` (its assignment step with Hamerly's bounds on in-memory
points), ``_blocked`` (its assignment step over blocks of a source),
``_oversampling`` (the seeding of runs over a source: a sample's k-means++
seeds refined by k-means|| rounds),
``_sources`` (in-memory arrays, memory maps and dask arrays read in blocks),
``_dedup`` (exact merging of repeated rows), ``_optimal_1d`` (the exact
optimum of one feature, ``algorithm="exact"``), and the compiled kernels
``_bounds``, ``_cluster_sums``, ``_row_hash`` and ``_line_runs`` (the
exact programme's layers), the first three with their shared
``_kernels.pxd``. Other modules import only what this file exports.
"""

from ._base import RUN_CONSTRAINTS
from ._blocked import (
    BlockedRuns,
    cluster_stats,
    sub_block_rows,
    sum_over_sub_blocks,
    table_stats,
)
from ._engine import (
    kmeans_plusplus,
    lloyd,
    says_centers_repeat,
    seed_from_sample,
    seeding_sample,
)
from ._estimators import KMeansL1, KMeansL2, SphericalKMeansL2
from ._metrics import (
    Euclidean,
    Euclidean32,
    SphericalEuclidean,
    SphericalEuclidean32,
    unit_rows,
)
from ._oversampling import block_seeds
from ._scaling import largest_magnitude
from ._sources import (
    ArraySource,
    DaskSource,
    RowPrep,
    is_dask_array,
    normalize_rows,
    validate_lazy_table,
    warn_zero_rows,
)

__all__ = [
    "RUN_CONSTRAINTS",
    "ArraySource",
    "BlockedRuns",
    "DaskSource",
    "Euclidean",
    "Euclidean32",
    "KMeansL1",
    "KMeansL2",
    "RowPrep",
    "SphericalEuclidean",
    "SphericalEuclidean32",
    "SphericalKMeansL2",
    "block_seeds",
    "cluster_stats",
    "is_dask_array",
    "kmeans_plusplus",
    "largest_magnitude",
    "lloyd",
    "normalize_rows",
    "says_centers_repeat",
    "seed_from_sample",
    "seeding_sample",
    "sub_block_rows",
    "sum_over_sub_blocks",
    "table_stats",
    "unit_rows",
    "validate_lazy_table",
    "warn_zero_rows",
]
