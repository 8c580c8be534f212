"""The vector-quantization family: ``VectorQuantizer`` and ``MemoryUsage``.

Layout: ``_estimator`` (the estimator), ``_codes`` (code layout, encoding and
decoding), ``_memory`` (memory accounting), ``_kernels`` (encoding and
scoring one block), ``_scale`` (fits of tables read in blocks, through the
Lloyd engine and data sources of ``skclust._kmeans``) and ``_search``
(search over stored codes, with the compiled scan ``_adc_scan``). Other modules
import only what this file exports.
"""

from ._codes import decode_codes
from ._estimator import VectorQuantizer, check_magnitude
from ._memory import MemoryUsage

__all__ = ["MemoryUsage", "VectorQuantizer", "check_magnitude", "decode_codes"]
