"""Nearest-neighbour search over the codes of a vector quantizer.

Asymmetric distance computation (Jégou, Douze and Schmid, 2011): a query is
not encoded. For each subvector, a lookup table holds the query's distance (or
inner product) to every centroid; the distance to a stored row is the sum of
its subvectors' entries at the row's codes, which is the distance to the row
rebuilt from its codes, without rebuilding it. ``lookup_tables`` makes the
tables, ``search_codes`` scans the codes with the compiled kernel of
``skclust._vq._adc_scan`` and ``rerank`` replaces the scan's distances of a few
candidates by exact ones when the original rows are at hand. ``save_arrays``
and ``load_saved`` keep a fitted quantizer and its codes in one ``.npz``.
"""

import json
import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .._files import check_input_file
from .._npy import read_npz_member
from ._adc_scan import scan_codes

METRICS = ("sqeuclidean", "inner_product", "cosine")
# Marks the archives of VectorQuantizer.save, and their layout's version.
SAVE_FORMAT = "skclust.VectorQuantizer 1"
# Lookup tables of one batch of queries stay within this many bytes: the
# search's memory is the codes plus one batch of tables (and its heaps).
TABLE_BYTES = 1 << 24
# Rows every query of a thread's share goes over before the next chunk: 16,384
# rows of 8 one-byte codes (128 KB) stay in a core's cache. It matters little:
# one thread, 1,000,000 rows, 100 queries took 0.54 s, against 0.62 s in
# chunks of 4,096, 0.52 s of 65,536 and 0.54 s unchunked.
CHUNK_ROWS = 16_384
# Queries whose candidates are ranked again together: their rows, gathered as
# float64, take 64 x n_candidates x n_features x 8 bytes.
RERANK_QUERIES = 64


def lookup_tables(queries, codebook, metric):
    """Per query and subvector, the key of each centroid.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_features), float64
        In the space of the codebook (normalized like the stored rows); for
        ``"cosine"``, at unit length.
    codebook : ndarray of shape (n_subvectors, n_clusters, width), float32
    metric : {"sqeuclidean", "inner_product", "cosine"}

    Returns
    -------
    ndarray of shape (n_queries, n_subvectors, n_clusters), float32
        Squared distances, or minus the inner products, so that the smallest
        sum is always the nearest row.
    """
    n_subvectors, n_clusters, width = codebook.shape
    tables = np.empty((queries.shape[0], n_subvectors, n_clusters), np.float32)
    # One subvector at a time, so that the float64 products never take more
    # than one subvector's share of the tables.
    for m in range(n_subvectors):
        part = queries[:, m * width : (m + 1) * width]
        centers = codebook[m].astype(np.float64)
        products = part @ centers.T
        if metric == "sqeuclidean":
            products *= -2
            products += np.einsum("qw,qw->q", part, part)[:, None]
            products += np.einsum("kw,kw->k", centers, centers)
            # Rounding can push a distance of zero slightly below it.
            np.maximum(products, 0, out=products)
        else:
            np.negative(products, out=products)
        tables[:, m] = products
    return tables


def search_codes(queries, codebook, codes, n_neighbors, metric, n_threads):
    """The ``n_neighbors`` stored rows nearest to each query, nearest first.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_features), float64
        As ``lookup_tables`` takes them.
    codebook : ndarray of shape (n_subvectors, n_clusters, width), float32
    codes : ndarray of shape (n_rows, n_subvectors), uint8 or uint16
        C-contiguous, every code below ``n_clusters``; ``n_rows >=
        n_neighbors``.
    n_neighbors : int
    metric : {"sqeuclidean", "inner_product", "cosine"}
    n_threads : int
        Threads sharing each batch of queries.

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors), float64
        Squared distances, minus the inner products, or cosine distances
        (``1 - cos``) to the rows rebuilt from their codes.
    indices : ndarray of shape (n_queries, n_neighbors), int64
        Ties go to the lower row index.
    """
    n_subvectors, n_clusters, _ = codebook.shape
    norms = np.zeros((0, 0), dtype=np.float32)
    if metric == "cosine":
        norms = np.einsum("mkw,mkw->mk", codebook, codebook, dtype=np.float64)
        norms = norms.astype(np.float32)
    n_queries = queries.shape[0]
    keys = np.full((n_queries, n_neighbors), np.inf, dtype=np.float32)
    ids = np.full((n_queries, n_neighbors), -1, dtype=np.int64)
    batch = max(1, TABLE_BYTES // (n_subvectors * n_clusters * 4))
    with ThreadPoolExecutor(max(1, n_threads)) as pool:
        for start in range(0, n_queries, batch):
            stop = min(start + batch, n_queries)
            tables = lookup_tables(queries[start:stop], codebook, metric)
            shares = np.array_split(np.arange(start, stop), n_threads)
            scans = [
                pool.submit(
                    scan_codes,
                    tables[share[0] - start : share[-1] + 1 - start],
                    codes,
                    norms,
                    keys[share[0] : share[-1] + 1],
                    ids[share[0] : share[-1] + 1],
                    CHUNK_ROWS,
                )
                for share in shares
                if share.size
            ]
            for scan in scans:
                scan.result()
    order = np.lexsort((ids, keys), axis=-1)
    keys = np.take_along_axis(keys, order, axis=-1).astype(np.float64)
    ids = np.take_along_axis(ids, order, axis=-1)
    if metric == "cosine":
        keys += 1
    return keys, ids


def exact_distances(queries, rows, metric):
    """Distances from each query to its own candidate rows.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_features), float64
    rows : ndarray of shape (n_queries, n_candidates, n_features), float64
    metric : {"sqeuclidean", "inner_product", "cosine"}

    Returns
    -------
    ndarray of shape (n_queries, n_candidates)
        In the units of ``search_codes``; a zero row has cosine 0.
    """
    if metric == "sqeuclidean":
        return np.square(rows - queries[:, None]).sum(axis=2)
    products = np.einsum("qcf,qf->qc", rows, queries)
    if metric == "inner_product":
        return -products
    lengths = np.linalg.norm(rows, axis=2) * np.linalg.norm(queries, axis=1)[:, None]
    cosines = np.divide(
        products, lengths, out=np.zeros_like(products), where=lengths > 0
    )
    return 1 - cosines


def rerank(queries, candidates, rows_of, n_neighbors, metric):
    """The ``n_neighbors`` nearest candidates by exact distance, nearest first.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_features), float64
    candidates : ndarray of shape (n_queries, n_candidates), int64
    rows_of : callable
        Takes sorted row indices and returns those rows, float64 and
        prepared like the queries.
    n_neighbors : int
    metric : {"sqeuclidean", "inner_product", "cosine"}

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors), float64
    indices : ndarray of shape (n_queries, n_neighbors), int64
        Ties go to the lower row index.
    """
    distances = np.empty((len(queries), n_neighbors))
    indices = np.empty((len(queries), n_neighbors), dtype=np.int64)
    for start in range(0, len(queries), RERANK_QUERIES):
        batch = slice(start, start + RERANK_QUERIES)
        # One read of every distinct candidate row of the batch, in index
        # order: a memory map is read forward, each row once.
        wanted, where = np.unique(candidates[batch], return_inverse=True)
        rows = rows_of(wanted)[where.reshape(candidates[batch].shape)]
        exact = exact_distances(queries[batch], rows, metric)
        order = np.lexsort((candidates[batch], exact), axis=-1)[:, :n_neighbors]
        distances[batch] = np.take_along_axis(exact, order, axis=-1)
        indices[batch] = np.take_along_axis(candidates[batch], order, axis=-1)
    return distances, indices


# --- Saving and loading -------------------------------------------------------


def save_arrays(path, arrays):
    """Write named arrays as one ``.npz`` at ``path``, all or nothing.

    The archive is written next to ``path`` and renamed onto it, so an
    interrupted save leaves any earlier file as it was.
    """
    path = Path(path)
    # Checked first: the errors of the temporary file named only its own
    # made-up name.
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a file name")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: the folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_saved(path):
    """The arrays and parameters of a file of ``VectorQuantizer.save``.

    Returns
    -------
    arrays : dict of ndarray
        Checked to fit together.
    params : dict
        The quantizer's parameters that were saved.

    Raises
    ------
    ValueError
        Naming ``path`` when it is missing, not an ``.npz`` archive, damaged,
        holds pickled objects or an array larger than the memory budget, is
        not a saved quantizer, its parameters are not a JSON object, its
        codebook or origin is not finite, a count is not a count, or its
        codebook, origin, counts, codes, row count and feature names disagree.
    """
    path = Path(path)
    check_input_file(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not an .npz archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        # NotImplementedError: a central directory asking for a zip version
        # or compression method that zipfile lacks.
        raise ValueError(f"{path}: unreadable .npz archive ({error})") from None
    # Each member's header is checked against its size and the memory
    # budget before anything is allocated (np.load allocated whatever a
    # header declared, and a damaged member raised zipfile's BadZipFile).
    arrays = {name: read_npz_member(path, name) for name in members}
    required = ("params", "centers", "origin", "counts", "codes")
    if str(arrays.get("format")) != SAVE_FORMAT or not set(required) <= set(arrays):
        raise ValueError(f"{path}: not a file of VectorQuantizer.save")
    try:
        params = json.loads(str(arrays["params"]))
    except json.JSONDecodeError:
        raise ValueError(f"{path}: unreadable parameters") from None
    if not isinstance(params, dict):
        # A list or null failed in load with an AttributeError.
        raise ValueError(f"{path}: unreadable parameters")
    centers, codes = arrays["centers"], arrays["codes"]
    if centers.ndim != 3 or 0 in centers.shape:
        raise ValueError(f"{path}: the codebook has shape {centers.shape}")
    n_subvectors, n_clusters, width = centers.shape
    if arrays["origin"].shape != (n_subvectors * width,) or arrays["counts"].shape != (
        n_subvectors,
        n_clusters,
    ):
        raise ValueError(f"{path}: origin and counts do not fit the codebook")
    for name in ("centers", "origin"):
        values = arrays[name]
        # A codebook of NaN loaded, and kneighbors then answered row -1.
        if values.dtype.kind != "f" or not np.isfinite(values).all():
            raise ValueError(f"{path}: the {name} are not finite floats")
    if codes.ndim != 2 or codes.shape[1] != n_subvectors or codes.dtype.kind != "u":
        raise ValueError(f"{path}: codes of {codes.dtype} and shape {codes.shape}")
    if codes.size and int(codes.max()) >= n_clusters:
        raise ValueError(
            f"{path}: code {int(codes.max())} is outside 0..{n_clusters - 1}"
        )
    for name in ("n_samples_seen", "n_steps"):
        count = arrays.get(name, np.array(0))
        if count.shape != () or count.dtype.kind not in "iu" or count < 0:
            # A string failed in int() with a message that did not name the
            # file, and an array of two values with a TypeError.
            raise ValueError(f"{path}: {name} is not a count")
    n_iter = arrays.get("n_iter", np.ones(n_subvectors, dtype=int))
    if (
        n_iter.shape != (n_subvectors,)
        or n_iter.dtype.kind not in "iu"
        or (n_iter < 0).any()
    ):
        # load takes n_iter_ as its maximum, which an empty array has not.
        raise ValueError(f"{path}: n_iter is not one count per codebook")
    names = arrays.get("feature_names_in")
    if names is not None and names.shape != (n_subvectors * width,):
        raise ValueError(
            f"{path}: {names.size} feature names for {n_subvectors * width} features"
        )
    return arrays, params


class StoredCodes:
    """Codes of the rows added to a quantizer, grown in place as a list grows.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_subvectors)
        The first codes (possibly none).
    """

    def __init__(self, codes):
        self._buffer = np.ascontiguousarray(codes)
        self.size = codes.shape[0]

    @property
    def codes(self):
        return self._buffer[: self.size]

    def append(self, codes):
        """Store ``codes`` after the others, doubling the room when it is short."""
        needed = self.size + codes.shape[0]
        if needed > self._buffer.shape[0]:
            room = max(needed, 2 * self._buffer.shape[0])
            grown = np.empty((room, self._buffer.shape[1]), dtype=self._buffer.dtype)
            grown[: self.size] = self.codes
            self._buffer = grown
        self._buffer[self.size : needed] = codes
        self.size = needed
