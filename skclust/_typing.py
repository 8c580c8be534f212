"""Type aliases of the public signatures.

``ArrayLike`` is numpy's: anything ``numpy.asarray`` takes. ``MatrixLike``
adds scipy's sparse matrices and arrays, for estimators that accept them.
"""

import os
from collections.abc import Callable
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

MatrixLike: TypeAlias = ArrayLike | sparse.sparray | sparse.spmatrix
RandomStateLike: TypeAlias = int | np.random.RandomState | None
PathLike: TypeAlias = str | os.PathLike[str]
KMeansInit: TypeAlias = (
    Literal["k-means++", "random"] | Callable[..., ArrayLike] | ArrayLike
)

__all__ = [
    "ArrayLike",
    "KMeansInit",
    "MatrixLike",
    "NDArray",
    "PathLike",
    "RandomStateLike",
]
