"""Where the study's data files are, and the data skclust ships or generates.

The study's files (football.bmp, parrots.png, nodes.txt, edges.txt,
AImodel.npy) are never part of skclust. They are found in the folder given by
``--data DIR`` on the command line or by the ``SKCLUST_DATA`` environment
variable; without either, every command runs on embedded defaults.
"""

import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import sparse

from . import _npy
from ._checks import check_count, check_finite, check_not_graph_object, real_csr
from ._files import check_input_file
from ._plural import counted
from ._typing import ArrayLike, MatrixLike, NDArray, PathLike, RandomStateLike

DATA_ENV = "SKCLUST_DATA"
# The files a data folder holds, as the study gave them.
STUDY_FILES = ("football.bmp", "parrots.png", "nodes.txt", "edges.txt", "AImodel.npy")


def study_data_dir(data: PathLike | None = None) -> Path | None:
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
        When a folder is configured but does not exist, or is named by an
        empty string.
    NotADirectoryError
        When it names a file.

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
    if str(data) == "":
        # Path("") is the current folder, which was then searched silently.
        raise FileNotFoundError(f"empty data folder name (from {source})")
    path = Path(data)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(
            f"{path}: is a file; expected the data folder (from {source})"
        )
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: data folder not found (from {source})")
    return path


def study_file(name: str, data: PathLike | None = None) -> Path | None:
    """Path of one of the study's files, or None when no data folder is set.

    Raises
    ------
    FileNotFoundError
        When the data folder is set but lacks the file.
    IsADirectoryError
        When the name is a folder's.
    """
    directory = study_data_dir(data)
    if directory is None:
        return None
    path = directory / name
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found in the data folder")
    return path


# ---------------------------------------------------------------------------
# Graphs: the nodes/edges format, generic edge lists and adjacency matrices.
# ---------------------------------------------------------------------------


@dataclass
class GraphData:
    """An undirected graph ready for spectral clustering, and how it was read.

    Attributes
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Symmetric, no self-loops; 1.0 for an edge unless weights were given
        (a third column of an edge file, or a weighted adjacency matrix).
    labels : ndarray of shape (n_nodes,) or None
        Integer label of each node (the nodes file's third column).
    node_ids : ndarray of shape (n_nodes,)
        Original id of each row: the map back to the input after isolated
        nodes are removed.
    names : ndarray of shape (n_nodes,) or None
        Node names (the nodes file's second column, quotes removed).
    n_nodes_read : int
        Nodes in the input, before any removal.
    n_edge_lines : int
        Edge lines (or directed entries of an adjacency matrix) read.
    n_self_loops : int
        Of those, lines joining a node to itself; dropped.
    n_duplicate_lines : int
        Lines repeating an earlier line's directed pair; dropped.
    n_isolated_removed : int
        Nodes without edges that were removed (``remove_isolated=True``).
    source : str
        Where the graph came from, for messages and reports.
    """

    adjacency: object
    labels: object
    node_ids: object
    names: object
    n_nodes_read: int
    n_edge_lines: int
    n_self_loops: int
    n_duplicate_lines: int
    n_isolated_removed: int
    source: str

    @property
    def n_nodes(self) -> int:
        """Number of nodes kept."""
        return self.adjacency.shape[0]

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return self.adjacency.nnz // 2

    def summary(self) -> str:
        """One line: nodes, edges and what was dropped."""
        removed = (
            f", {counted(self.n_isolated_removed, 'isolated node')} removed"
            if self.n_isolated_removed
            else ""
        )
        return (
            f"{self.source}: {counted(self.n_nodes, 'node')}, "
            f"{counted(self.n_edges, 'undirected edge')} "
            f"({counted(self.n_edge_lines, 'edge line')}; dropped "
            f"{counted(self.n_self_loops, 'self-loop')} and "
            f"{counted(self.n_duplicate_lines, 'duplicate line')}{removed})"
        )


_KARATE_NODES = "karate_nodes.txt"
_KARATE_EDGES = "karate_edges.txt"


def _data_lines(path):
    """Yield ``(line_number, text)`` for each line holding data.

    Blank lines and lines starting with ``#`` are skipped, and so is a byte
    order mark at the start (Windows editors write one). A missing file, a
    folder, a device or socket, or a file that is not UTF-8 text raise with
    the path in the message. The file is read once, from the start, so a
    named pipe will do: reading it waits for a writer, as ``cat`` does.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a file")
    check_input_file(path, pipe_ok=True)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                text = line.rstrip("\r\n")
                if text.strip() and not text.lstrip().startswith("#"):
                    yield number, text
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not a UTF-8 text file ({error.reason} at byte {error.start})"
        ) from None


_INT64 = np.iinfo(np.int64)
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _parse_int(text, path, number, what, first=False):
    """An integer field that fits in 64 bits, or an error naming file and line.

    ``first`` says the line is the file's first data line, where a field that
    is not a number is most likely a header's column name.
    """
    # Python's int() also reads "1_0" as 10 and other scripts' digits: a
    # typo would silently name another node.
    if not _INTEGER.fullmatch(text):
        hint = "; a header line? start it with # to skip it" if first else ""
        raise ValueError(
            f"{path}, line {number}: {what} {text!r} is not an integer{hint}"
        )
    value = int(text)
    if not _INT64.min <= value <= _INT64.max:
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise ValueError(
            f"{path}, line {number}: {what} {shown} is out of range (at most "
            f"{_INT64.max} in absolute value)"
        )
    return value


def _parse_weight(text, path, number):
    """An edge weight: a finite positive number."""
    try:
        # float() also reads "0_5" as 5 and other scripts' digits, as int()
        # does for ids: a typo would silently give another weight.
        if "_" in text or not text.isascii():
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{path}, line {number}: edge weight {text!r} is not a number"
        ) from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(
            f"{path}, line {number}: edge weight {text!r} must be a finite "
            "positive number"
        )
    return value


def _unquote(text):
    """Strip the surrounding quotes of a field; tolerate a missing closing one."""
    text = text.strip()
    if text.startswith('"'):
        text = text[1:-1] if len(text) > 1 and text.endswith('"') else text[1:]
    return text


def _read_nodes(path):
    """Ids, names and labels from a nodes file (id, name, label[, source])."""
    ids, names, labels, rows = [], [], [], {}
    for number, text in _data_lines(path):
        first = not ids
        fields = text.split("\t")
        if len(fields) not in (3, 4):
            raise ValueError(
                f"{path}, line {number}: expected 3 or 4 tab-separated fields "
                f"(id, name, label[, source]), found {len(fields)}"
            )
        node = _parse_int(fields[0].strip(), path, number, "node id", first)
        if node in rows:
            raise ValueError(
                f"{path}, line {number}: node id {node} already given on line "
                f"{rows[node]}"
            )
        rows[node] = number
        labels.append(_parse_int(fields[2].strip(), path, number, "label", first))
        ids.append(node)
        names.append(_unquote(fields[1]))
    if not ids:
        raise ValueError(f"{path}: no nodes (empty graph)")
    return np.array(ids, dtype=np.int64), np.array(names, dtype=object), labels


def _read_edge_pairs(path, known=None, nodes_path=None):
    """Source and target ids of an edge file, and the weights.

    Each line holds two integer ids and, optionally, a positive weight (1 when
    absent). With ``known`` (a mapping from node id to row), every id must be
    in it.
    """
    sources, targets, weights = [], [], []
    for number, text in _data_lines(path):
        fields = text.split()
        if len(fields) not in (2, 3):
            commas = "; separate them by spaces or tabs" if "," in text else ""
            raise ValueError(
                f"{path}, line {number}: expected 2 or 3 fields (source and "
                f"target node ids, and an optional weight), found {len(fields)}"
                f"{commas}"
            )
        first = not sources
        pair = [
            _parse_int(field, path, number, "node id", first) for field in fields[:2]
        ]
        weights.append(
            _parse_weight(fields[2], path, number) if len(fields) == 3 else 1.0
        )
        if known is not None:
            for node in pair:
                if node not in known:
                    raise ValueError(
                        f"{path}, line {number}: node {node} is not in {nodes_path}"
                    )
        sources.append(pair[0])
        targets.append(pair[1])
    return (
        np.array(sources, dtype=np.int64),
        np.array(targets, dtype=np.int64),
        np.array(weights, dtype=np.float64),
    )


def _symmetric_adjacency(sources, targets, n_nodes, source, weights=None):
    """Undirected adjacency from directed pairs of row indices.

    The weight of an edge is the largest weight given for it in either
    direction (1 when no weights are given). Returns the adjacency and the
    numbers of self-loops and of duplicate directed pairs dropped; a pair
    given in both directions is one edge.
    """
    if weights is None:
        weights = np.ones(sources.shape[0])
    loops = sources == targets
    sources, targets = sources[~loops], targets[~loops]
    weights = weights[~loops]
    directed = np.unique(sources * n_nodes + targets)
    n_duplicates = sources.shape[0] - directed.shape[0]
    low, high = np.minimum(sources, targets), np.maximum(sources, targets)
    undirected, index = np.unique(low * n_nodes + high, return_inverse=True)
    if undirected.size == 0:
        raise ValueError(f"{source}: no edges (empty graph)")
    largest = np.zeros(undirected.shape[0])
    np.maximum.at(largest, index.ravel(), weights)
    low, high = np.divmod(undirected, n_nodes)
    rows = np.concatenate([low, high])
    cols = np.concatenate([high, low])
    adjacency = sparse.csr_array(
        (np.tile(largest, 2), (rows, cols)), shape=(n_nodes, n_nodes)
    )
    return adjacency, int(loops.sum()), int(n_duplicates)


def _with_int32_indices(adjacency):
    """The CSR array with 32-bit indices when they fit.

    scikit-learn's spectral code (and other libraries) reject 64-bit sparse
    indices; scipy picks them when the coordinates came as int64.
    """
    if (
        adjacency.nnz < np.iinfo(np.int32).max
        and adjacency.shape[0] < np.iinfo(np.int32).max
    ):
        adjacency.indices = adjacency.indices.astype(np.int32)
        adjacency.indptr = adjacency.indptr.astype(np.int32)
    return adjacency


def _finish_graph(adjacency, labels, node_ids, names, counts, remove_isolated, source):
    n_nodes_read = adjacency.shape[0]
    n_removed = 0
    if remove_isolated:
        keep = np.flatnonzero(np.diff(adjacency.indptr) > 0)
        n_removed = n_nodes_read - keep.shape[0]
        adjacency = adjacency[keep][:, keep]
        labels = None if labels is None else labels[keep]
        node_ids = node_ids[keep]
        names = None if names is None else names[keep]
    return GraphData(
        adjacency=_with_int32_indices(sparse.csr_array(adjacency)),
        labels=labels,
        node_ids=node_ids,
        names=names,
        n_nodes_read=n_nodes_read,
        n_isolated_removed=n_removed,
        source=source,
        **counts,
    )


def read_graph(
    nodes: PathLike, edges: PathLike, *, remove_isolated: bool = False
) -> GraphData:
    """Read a labelled graph in the nodes/edges format of the study.

    The nodes file has one tab-separated line per node: integer id, name,
    integer label and, optionally, a source; names may be quoted. The edges
    file has one pair of node ids per line (tabs or spaces), read as a link in
    either direction, and optionally a positive weight as a third field (the
    largest weight given for an edge is kept). Ids and labels must fit in 64
    bits. Blank lines and lines starting with ``#`` are skipped.
    Self-loops and repeated lines are dropped and counted; a pair given in both
    directions is one undirected edge.

    Parameters
    ----------
    nodes, edges : str or Path
        The two files, read once each, nodes first; named pipes will do.
    remove_isolated : bool, default=False
        Drop nodes without edges; ``node_ids`` keeps the map back to the ids.

    Returns
    -------
    GraphData

    Raises
    ------
    FileNotFoundError
        When a file is missing.
    ValueError
        For a malformed line (the message names the file and line), an edge
        naming a node missing from the nodes file, or a graph without edges.

    Examples
    --------
    >>> from importlib.resources import files
    >>> from skclust.datasets import read_graph
    >>> folder = files("skclust") / "_data"
    >>> graph = read_graph(folder / "karate_nodes.txt", folder / "karate_edges.txt")
    >>> graph.n_nodes, graph.n_edges, int(graph.labels.sum())
    (34, 78, 17)
    """
    node_ids, names, labels = _read_nodes(nodes)
    rows = {node: row for row, node in enumerate(node_ids.tolist())}
    sources, targets, weights = _read_edge_pairs(edges, known=rows, nodes_path=nodes)
    to_row = np.vectorize(rows.__getitem__, otypes=[np.int64])
    n_lines = sources.shape[0]
    if n_lines:
        sources, targets = to_row(sources), to_row(targets)
    adjacency, n_loops, n_duplicates = _symmetric_adjacency(
        sources, targets, node_ids.shape[0], f"{edges}", weights
    )
    counts = dict(
        n_edge_lines=n_lines, n_self_loops=n_loops, n_duplicate_lines=n_duplicates
    )
    return _finish_graph(
        adjacency,
        np.array(labels, dtype=np.int64),
        node_ids,
        names,
        counts,
        remove_isolated,
        f"{Path(nodes).name} + {Path(edges).name}",
    )


def read_edge_list(path: PathLike, *, remove_isolated: bool = False) -> GraphData:
    """Read an unlabelled graph from an edge-list file (two node ids per line).

    A third field on a line is the edge's weight (positive; the largest given
    for an edge is kept). The nodes are the ids that appear, in increasing
    order; ``node_ids`` maps rows back to them. Self-loops and repeated lines
    are dropped and counted. A node whose only edges are self-loops is
    isolated.

    Parameters
    ----------
    path : str or Path
        The edge list, read once; a named pipe will do.
    remove_isolated : bool, default=False

    Returns
    -------
    GraphData
        With ``labels`` and ``names`` set to None.
    """
    sources, targets, weights = _read_edge_pairs(path)
    node_ids, inverse = np.unique(
        np.concatenate([sources, targets]), return_inverse=True
    )
    n_lines = sources.shape[0]
    adjacency, n_loops, n_duplicates = _symmetric_adjacency(
        inverse[:n_lines], inverse[n_lines:], node_ids.shape[0], f"{path}", weights
    )
    counts = dict(
        n_edge_lines=n_lines, n_self_loops=n_loops, n_duplicate_lines=n_duplicates
    )
    return _finish_graph(
        adjacency, None, node_ids, None, counts, remove_isolated, Path(path).name
    )


def graph_from_edges(
    edges: PathLike | ArrayLike,
    *,
    n_nodes: int | None = None,
    labels: ArrayLike | None = None,
    remove_isolated: bool = False,
) -> GraphData:
    """An undirected graph from an array of ``(source, target)`` pairs.

    Parameters
    ----------
    edges : array-like of shape (n_edges, 2)
        Integer node indices from 0 to ``n_nodes - 1``.
    n_nodes : int, default=None
        Number of nodes; defaults to the largest index plus one.
    labels : array-like of shape (n_nodes,), default=None
        Integer labels.
    remove_isolated : bool, default=False

    Returns
    -------
    GraphData

    Examples
    --------
    >>> from skclust.datasets import graph_from_edges
    >>> graph = graph_from_edges([[0, 1], [1, 0], [1, 2], [2, 2]], n_nodes=4)
    >>> graph.n_edges, graph.n_self_loops, graph.n_duplicate_lines
    (2, 1, 0)
    >>> graph_from_edges([[0, 1], [1, 2]], n_nodes=4, remove_isolated=True).node_ids
    array([0, 1, 2])
    """
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2 or edges.shape[0] == 0:
        raise ValueError(
            f"edges must be a non-empty array of shape (n_edges, 2); got shape "
            f"{edges.shape}"
        )
    if not np.issubdtype(edges.dtype, np.integer):
        raise ValueError(f"edges must hold integer node indices; got {edges.dtype}")
    if edges.max() > _INT64.max:
        # uint64 indices above it wrapped to negative ones in the message.
        raise ValueError(f"edges hold node index {edges.max()}, above {_INT64.max}")
    edges = edges.astype(np.int64)
    if n_nodes is None:
        n_nodes = int(edges.max()) + 1
    else:
        # int() truncated 3.7 to 3 nodes.
        n_nodes = check_count(n_nodes, "n_nodes", 0)
    if edges.min() < 0 or edges.max() >= n_nodes:
        raise ValueError(
            f"edges must hold node indices from 0 to {n_nodes - 1}; found "
            f"{edges.min()} to {edges.max()}"
        )
    labels = _check_labels(labels, n_nodes)
    adjacency, n_loops, n_duplicates = _symmetric_adjacency(
        edges[:, 0], edges[:, 1], n_nodes, "edges"
    )
    # Duplicates in a pair list count like repeated lines in a file.
    counts = dict(
        n_edge_lines=edges.shape[0],
        n_self_loops=n_loops,
        n_duplicate_lines=n_duplicates,
    )
    return _finish_graph(
        adjacency,
        labels,
        np.arange(n_nodes),
        None,
        counts,
        remove_isolated,
        "edge list",
    )


def graph_from_adjacency(
    adjacency: MatrixLike,
    *,
    labels: ArrayLike | None = None,
    remove_isolated: bool = False,
) -> GraphData:
    """An undirected graph from a square adjacency matrix, sparse or dense.

    A non-symmetric matrix is read as a directed graph: the edge weight is the
    larger of the two directions. The diagonal (self-loops) is dropped and
    counted; weights must be finite and non-negative.

    Parameters
    ----------
    adjacency : array-like or scipy sparse matrix of shape (n_nodes, n_nodes)
    labels : array-like of shape (n_nodes,), default=None
    remove_isolated : bool, default=False

    Returns
    -------
    GraphData
        ``n_edge_lines`` counts the non-zero entries given.

    Examples
    --------
    >>> import numpy as np
    >>> from skclust.datasets import graph_from_adjacency
    >>> graph = graph_from_adjacency(np.array([[1, 1, 0], [0, 0, 2], [0, 0, 0]]))
    >>> graph.adjacency.toarray()
    array([[0., 1., 0.],
           [1., 0., 2.],
           [0., 2., 0.]])
    >>> graph.n_self_loops
    1
    """
    check_not_graph_object(adjacency, "adjacency")
    matrix = real_csr(adjacency)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"adjacency must be square; got shape {matrix.shape}")
    matrix.eliminate_zeros()
    if not np.all(np.isfinite(matrix.data)) or np.any(matrix.data < 0):
        raise ValueError("adjacency weights must be finite and non-negative")
    n_nodes = matrix.shape[0]
    if n_nodes == 0:
        raise ValueError("adjacency has no nodes (empty graph)")
    n_entries = matrix.nnz
    n_loops = int(np.count_nonzero(matrix.diagonal()))
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    symmetric = matrix.maximum(matrix.T).tocsr()
    if symmetric.nnz == 0:
        raise ValueError("adjacency has no edges (empty graph)")
    counts = dict(n_edge_lines=n_entries, n_self_loops=n_loops, n_duplicate_lines=0)
    return _finish_graph(
        symmetric,
        _check_labels(labels, n_nodes),
        np.arange(n_nodes),
        None,
        counts,
        remove_isolated,
        "adjacency matrix",
    )


def _check_labels(labels, n_nodes):
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.shape != (n_nodes,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be {n_nodes} integers, one per node; got shape "
            f"{labels.shape} and dtype {labels.dtype}"
        )
    return labels.astype(np.int64)


def load_karate_club(*, remove_isolated: bool = False) -> GraphData:
    """Zachary's karate club, shipped with skclust (the embedded default graph).

    34 members, 78 friendships; the label is the club each member joined when
    the club split: 0 for Mr. Hi's (node 1), 1 for the Officer's (node 34).
    Zachary, W. W. (1977), J. Anthropol. Res. 33(4), 452-473.

    Parameters
    ----------
    remove_isolated : bool, default=False
        Accepted for symmetry with the other loaders; the graph has no
        isolated node.

    Returns
    -------
    GraphData

    Examples
    --------
    >>> from skclust.datasets import load_karate_club
    >>> graph = load_karate_club()
    >>> graph.n_nodes, graph.n_edges
    (34, 78)
    >>> str(graph.names[0]), int(graph.adjacency[[0]].sum())
    ('Mr. Hi (instructor)', 16)
    """
    folder = resources.files("skclust") / "_data"
    with resources.as_file(folder / _KARATE_NODES) as nodes:
        with resources.as_file(folder / _KARATE_EDGES) as edges:
            graph = read_graph(nodes, edges, remove_isolated=remove_isolated)
    graph.source = "Zachary's karate club (embedded)"
    return graph


def load_political_blogs(
    data: PathLike | None = None, *, remove_isolated: bool = True
) -> GraphData:
    """The study's political blogs network (nodes.txt and edges.txt).

    1490 blogs labelled 0 (liberal) or 1 (conservative) and 19090 directed
    links (Adamic & Glance, 2005), read from the folder given by ``data`` or
    ``SKCLUST_DATA``. With the default ``remove_isolated=True`` the 266 blogs
    without links are removed, leaving 1224 nodes and 16715 undirected edges.

    Parameters
    ----------
    data : str or Path, default=None
        Folder with the two files; ``SKCLUST_DATA`` when None.
    remove_isolated : bool, default=True

    Returns
    -------
    GraphData

    Raises
    ------
    FileNotFoundError
        When no data folder is configured or the files are missing.
    """
    directory = study_data_dir(data)
    if directory is None:
        raise FileNotFoundError(
            "no data folder: pass load_political_blogs(data=DIR) (--data DIR "
            f"on the command line) or set {DATA_ENV} to read the political blogs"
        )
    graph = read_graph(
        study_file("nodes.txt", directory),
        study_file("edges.txt", directory),
        remove_isolated=remove_isolated,
    )
    graph.source = "political blogs"
    return graph


# --- Embedding tables (vector quantization) ----------------------------------

# Rows generated at a time by make_embeddings, so that a table of millions of
# rows never needs a float64 copy of itself.
_GENERATE_ROWS = 65_536


def make_embeddings(
    n_samples: int = 10_000,
    n_features: int = 64,
    *,
    rank: int | None = None,
    n_topics: int = 256,
    noise: float = 0.1,
    random_state: RandomStateLike = None,
) -> NDArray[np.float32]:
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

    n_samples = check_count(n_samples, "n_samples")
    n_features = check_count(n_features, "n_features")
    n_topics = check_count(n_topics, "n_topics")
    rank = max(1, n_features // 4) if rank is None else check_count(rank, "rank")
    if rank > n_features:
        raise ValueError(f"rank={rank} must be between 1 and n_features={n_features}")
    # A NaN noise passed "noise < 0" and made every value NaN.
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
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


def load_embeddings(
    path: PathLike,
    *,
    mmap_mode: Literal["r"] | None = None,
    memory_budget: int | None = None,
) -> NDArray[np.floating]:
    """Read an embedding table from a ``.npy`` file, safely.

    The file is read with ``allow_pickle=False``: a file holding pickled
    Python objects is refused, never unpickled. Its header is checked before
    anything is allocated: the shape it declares must match the bytes the file
    holds and fit in the memory budget.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file holding a 2-D floating-point array.
    mmap_mode : {None, "r"}, default=None
        ``"r"`` maps the file instead of reading it, for tables larger than
        memory; it is then checked block by block.
    memory_budget : int, default=None
        Largest table in bytes that is read into memory; by default half the
        machine's physical memory. Not applied to a memory map.

    Returns
    -------
    X : ndarray or numpy.memmap of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        With a one-line message naming the file when it is missing, not a
        ``.npy`` file, an ``.npz`` archive, holds pickled objects, is not a
        2-D array of floats, is empty, is truncated, declares more than the
        memory budget, or holds NaN or infinity (the message names the first
        such entry).

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
    >>> load_embeddings(folder / "table.npy", memory_budget=16)
    Traceback (most recent call last):
    ...
    ValueError: ...table.npy: the header declares shape (3, 2) of float32 ...
    """
    if mmap_mode not in (None, "r"):
        # np.load's "w+" creates the file anew and "r+" writes through: a
        # reader must never change the table it reads.
        raise ValueError(f"mmap_mode must be None or 'r'; got {mmap_mode!r}")
    path = Path(path)
    check_input_file(path)
    with open(path, "rb") as handle:
        magic = handle.read(len(_NPY_MAGIC))
    if magic.startswith(_ZIP_MAGIC):
        raise ValueError(f"{path}: is an .npz archive; expected a .npy array")
    if magic != _NPY_MAGIC:
        raise ValueError(f"{path}: not a .npy file")
    if mmap_mode is None and memory_budget is None:
        memory_budget = _npy.memory_budget()
    with open(path, "rb") as handle:
        shape, _, dtype = _npy.read_header(
            handle, str(path), os.fstat(handle.fileno()).st_size, memory_budget
        )
    if len(shape) != 2:
        raise ValueError(f"{path}: expected a 2-D table, got shape {shape}")
    if dtype.kind != "f":
        raise ValueError(
            f"{path}: holds {dtype} values; expected floating-point embeddings"
        )
    if math.prod(shape) == 0:
        raise ValueError(f"{path}: the table is empty (shape {shape})")
    try:
        X = np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path}: unreadable .npy file ({error})") from None
    for start in range(0, X.shape[0], _CHECK_ROWS):
        # Worded as the estimators word it: "...: holds NaN at row 3, column 1".
        check_finite(
            X[start : start + _CHECK_ROWS],
            f"{path}:",
            "embeddings must be finite",
            first_row=start,
        )
    return X
