"""Where the study's data files are, and the data skclust ships or generates.

The study's files (football.bmp, parrots.png, nodes.txt, edges.txt,
AImodel.npy) are never part of skclust. They are found in the folder given by
``--data DIR`` on the command line or by the ``SKCLUST_DATA`` environment
variable; without either, every command runs on embedded defaults.
"""

import os
from pathlib import Path

import numpy as np

DATA_ENV = "SKCLUST_DATA"


def study_data_dir(data=None):
    """The folder holding the study's files, or None when none is configured.

    Parameters
    ----------
    data : str or Path, default=None
        Explicit folder (``--data``); takes precedence over ``SKCLUST_DATA``.

    Returns
    -------
    Path or None

    Raises
    ------
    FileNotFoundError
        When a folder is configured but does not exist.

    Examples
    --------
    >>> from skclust.datasets import study_data_dir
    >>> study_data_dir("/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: /nonexistent: data folder not found (from --data)
    """
    source = "--data"
    if data is None:
        data, source = os.environ.get(DATA_ENV) or None, DATA_ENV
    if data is None:
        return None
    path = Path(data)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: data folder not found (from {source})")
    return path


def study_file(name, data=None):
    """Path of one of the study's files, or None when no data folder is set.

    Raises
    ------
    FileNotFoundError
        When the data folder is set but lacks the file.
    """
    directory = study_data_dir(data)
    if directory is None:
        return None
    path = directory / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found in the data folder")
    return path


# --- Embedding tables (vector quantization) ----------------------------------

# Rows generated at a time by make_embeddings, so that a table of millions of
# rows never needs a float64 copy of itself.
_GENERATE_ROWS = 65_536


def make_embeddings(
    n_samples=10_000,
    n_features=64,
    *,
    rank=None,
    n_topics=256,
    noise=0.1,
    random_state=None,
):
    """Generate an embedding table with the structure of a learned one.

    Learned embeddings of items (words, products, users) are far from uniform:
    most of their variance lies in a few directions, and related items gather
    around shared topics. Each row here is a topic's center plus its own
    spread, both drawn in a ``rank``-dimensional latent space whose variances
    decay like ``1 / j``, mapped into ``n_features`` dimensions by a random
    orthonormal basis, plus isotropic noise in every dimension.

    Parameters
    ----------
    n_samples : int, default=10_000
        Number of rows.
    n_features : int, default=64
        Dimension of the embeddings.
    rank : int, default=None
        Dimension of the latent space holding the structure, at most
        ``n_features``; None means ``max(1, n_features // 4)``.
    n_topics : int, default=256
        Number of topics the rows gather around (drawn uniformly per row).
    noise : float, default=0.1
        Standard deviation of the isotropic noise, relative to the standard
        deviation of the leading latent direction.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float32
        The table; float32 as embedding tables usually are.

    Examples
    --------
    >>> from skclust.datasets import make_embeddings
    >>> X = make_embeddings(1000, 32, random_state=0)
    >>> X.shape, X.dtype
    ((1000, 32), dtype('float32'))
    >>> import numpy as np
    >>> s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    >>> bool((s[:8] ** 2).sum() > 0.9 * (s**2).sum())
    True
    """
    from sklearn.utils import check_random_state

    if rank is None:
        rank = max(1, n_features // 4)
    if not 1 <= rank <= n_features:
        raise ValueError(f"rank={rank} must be between 1 and n_features={n_features}")
    if n_samples < 1 or n_topics < 1 or noise < 0:
        raise ValueError("n_samples and n_topics must be positive and noise >= 0")
    rng = check_random_state(random_state)
    scale = 1.0 / np.sqrt(np.arange(1, rank + 1))
    basis, _ = np.linalg.qr(rng.standard_normal((n_features, rank)))
    topics = rng.standard_normal((n_topics, rank)) * scale
    X = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, _GENERATE_ROWS):
        stop = min(start + _GENERATE_ROWS, n_samples)
        topic = rng.randint(n_topics, size=stop - start)
        latent = topics[topic] + 0.5 * rng.standard_normal((stop - start, rank)) * scale
        block = latent @ basis.T
        block += noise * rng.standard_normal(block.shape)
        X[start:stop] = block
    return X


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"

# Rows checked for NaN and infinity at a time, so that a memory-mapped table
# is never read whole.
_CHECK_ROWS = 65_536


def load_embeddings(path, *, mmap_mode=None):
    """Read an embedding table from a ``.npy`` file, safely.

    The file is read with ``allow_pickle=False``: a file holding pickled
    Python objects is refused, never unpickled.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file holding a 2-D floating-point array.
    mmap_mode : {None, "r"}, default=None
        ``"r"`` maps the file instead of reading it, for tables larger than
        memory; it is then checked block by block.

    Returns
    -------
    X : ndarray or numpy.memmap of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        With a one-line message naming the file when it is missing, not a
        ``.npy`` file, an ``.npz`` archive, holds pickled objects, is not a
        2-D array of floats, is empty, or holds NaN or infinity (the message
        names the first such row).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from skclust.datasets import load_embeddings
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(folder / "table.npy", np.ones((3, 2), dtype=np.float32))
    >>> load_embeddings(folder / "table.npy").shape
    (3, 2)
    >>> np.save(folder / "objects.npy", np.array([{"a": 1}]), allow_pickle=True)
    >>> load_embeddings(folder / "objects.npy")
    Traceback (most recent call last):
    ...
    ValueError: ...objects.npy: holds pickled Python objects, which skclust ...
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(len(_NPY_MAGIC))
    if magic.startswith(_ZIP_MAGIC):
        raise ValueError(f"{path}: is an .npz archive; expected a .npy array")
    if magic != _NPY_MAGIC:
        raise ValueError(f"{path}: not a .npy file")
    try:
        X = np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                f"{path}: holds pickled Python objects, which skclust never "
                "loads (allow_pickle=False)"
            ) from None
        raise ValueError(f"{path}: unreadable .npy file ({error})") from None
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: unreadable .npy file ({error})") from None
    if X.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D table, got shape {X.shape}")
    if X.dtype.kind != "f":
        raise ValueError(
            f"{path}: holds {X.dtype} values; expected floating-point embeddings"
        )
    if X.size == 0:
        raise ValueError(f"{path}: the table is empty (shape {X.shape})")
    for start in range(0, X.shape[0], _CHECK_ROWS):
        finite = np.isfinite(X[start : start + _CHECK_ROWS]).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite))
            raise ValueError(f"{path}: row {row} holds NaN or infinity")
    return X
