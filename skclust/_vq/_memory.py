"""Memory of an embedding table before and after vector quantization."""

from dataclasses import dataclass

from .._checks import check_count
from ._codes import code_dtype

# The most codes that uint16, the widest code type, holds.
_MAX_CLUSTERS = 65536

# Bytes of one value of the original table: embedding tables are float32.
_FLOAT32_BYTES = 4


@dataclass(frozen=True)
class MemoryUsage:
    """Bytes of an embedding table before and after vector quantization.

    The original table counts 4 bytes (float32) per value. The compressed one
    is the codebook (``n_clusters * n_features`` float32 values, whatever the
    number of subvectors) plus the codes at their real width: one byte per row
    and subvector for ``n_clusters <= 256``, two for ``n_clusters <= 65536``.
    MB are 10^6 bytes, rounded to 4 decimals.

    Attributes
    ----------
    n_rows, n_features, n_clusters, n_subvectors : int
    code_dtype : str
        ``"uint8"`` or ``"uint16"``.
    original_bytes, codebook_bytes, codes_bytes : int

    Examples
    --------
    >>> from skclust import MemoryUsage
    >>> usage = MemoryUsage.of(n_rows=1000, n_features=32, n_clusters=256)
    >>> usage.original_mb, usage.compressed_mb
    (0.128, 0.0338)
    >>> round(usage.ratio, 3), round(usage.mb_ratio, 3)
    (3.791, 3.787)
    """

    n_rows: int
    n_features: int
    n_clusters: int
    n_subvectors: int
    code_dtype: str
    original_bytes: int
    codebook_bytes: int
    codes_bytes: int

    @classmethod
    def of(
        cls, n_rows: int, n_features: int, n_clusters: int, n_subvectors: int = 1
    ) -> "MemoryUsage":
        """Memory of a table of ``n_rows`` rows compressed with these settings.

        Raises
        ------
        ValueError
            When a count is not an integer, ``n_rows`` is negative,
            ``n_clusters`` lies outside 1 to 65536 or ``n_subvectors`` does
            not divide ``n_features``.
        """
        # 100,000 clusters were counted as two-byte codes, which cannot hold
        # them; -5 rows gave negative bytes and 2.5 clusters were 2.
        n_rows = check_count(n_rows, "n_rows", 0)
        n_features = check_count(n_features, "n_features")
        n_clusters = check_count(n_clusters, "n_clusters")
        n_subvectors = check_count(n_subvectors, "n_subvectors")
        if n_clusters > _MAX_CLUSTERS:
            raise ValueError(
                f"n_clusters={n_clusters}: at most {_MAX_CLUSTERS} codes fit in uint16"
            )
        if n_features % n_subvectors:
            raise ValueError(
                f"n_subvectors={n_subvectors} must divide the number of features "
                f"({n_features})"
            )
        dtype = code_dtype(n_clusters)
        return cls(
            n_rows=n_rows,
            n_features=n_features,
            n_clusters=n_clusters,
            n_subvectors=n_subvectors,
            code_dtype=dtype.name,
            original_bytes=n_rows * n_features * _FLOAT32_BYTES,
            codebook_bytes=n_clusters * n_features * _FLOAT32_BYTES,
            codes_bytes=n_rows * n_subvectors * dtype.itemsize,
        )

    @property
    def compressed_bytes(self):
        """Codebook plus codes."""
        return self.codebook_bytes + self.codes_bytes

    @property
    def original_mb(self):
        return round(self.original_bytes / 1e6, 4)

    @property
    def compressed_mb(self):
        return round(self.compressed_bytes / 1e6, 4)

    @property
    def ratio(self):
        """Compression ratio from the exact byte counts."""
        return self.original_bytes / self.compressed_bytes

    @property
    def mb_ratio(self):
        """Ratio of the two sizes in MB as rounded to 4 decimals.

        The study quotes this one (3.787 for AImodel.npy at k=256, where the
        exact ratio is 3.791); it is inf when the compressed size rounds to 0.
        """
        if self.compressed_mb == 0:
            return float("inf")
        return self.original_mb / self.compressed_mb
