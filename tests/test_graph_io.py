"""Graph loaders: the nodes/edges format, edge lists, adjacency matrices."""

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from skclust.datasets import (
    graph_from_adjacency,
    graph_from_edges,
    load_karate_club,
    load_political_blogs,
    read_edge_list,
    read_graph,
)


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _edge_set(adjacency):
    rows, cols = sparse.triu(adjacency, k=1).nonzero()
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


@pytest.fixture
def small_files(tmp_path):
    """Hand-made graph: ids 10..60, node 60 isolated, every kind of dropped line.

    Undirected edges: 10-20, 20-30, 30-40, 40-50, 10-50 (5). Dropped: one
    self-loop (30 30) and two repeated directed lines (10 20 again, 40 50
    again); 20 10 is the reverse of 10 20, so the same undirected edge.
    """
    nodes = _write(
        tmp_path / "nodes.txt",
        [
            "# a comment line",
            '10\t"alpha"\t0\t"src"',
            '20\t"beta\t0\t"src"',  # unclosed quote, as in a public copy
            "30\tgamma\t1",  # three fields: no source
            "",
            '40\t"delta"\t1\t"src"',
            '50\t"eps"\t1\t"src"',
            '60\t"lonely"\t0\t"src"',
        ],
    )
    edges = _write(
        tmp_path / "edges.txt",
        [
            *("10\t20", "20 10", "20\t30", "30\t30", "10\t20", "30\t40"),
            *("40\t50", "40\t50", "# comment", "50\t10"),
        ],
    )
    return nodes, edges


def test_read_graph_counts_and_drops(small_files):
    graph = read_graph(*small_files)
    assert graph.n_nodes == graph.n_nodes_read == 6
    assert graph.n_edge_lines == 9
    assert graph.n_self_loops == 1
    assert graph.n_duplicate_lines == 2
    assert graph.n_edges == 5
    assert graph.n_isolated_removed == 0
    assert graph.node_ids.tolist() == [10, 20, 30, 40, 50, 60]
    assert graph.labels.tolist() == [0, 0, 1, 1, 1, 0]
    assert graph.names.tolist() == ["alpha", "beta", "gamma", "delta", "eps", "lonely"]
    expected = {(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)}
    assert _edge_set(graph.adjacency) == expected
    A = graph.adjacency.toarray()
    np.testing.assert_array_equal(A, A.T)
    assert set(np.unique(A)) == {0.0, 1.0}
    assert "1 self-loop and 2 duplicate lines" in graph.summary()


def test_remove_isolated_keeps_the_map_back(small_files):
    graph = read_graph(*small_files, remove_isolated=True)
    assert graph.n_nodes == 5 and graph.n_nodes_read == 6
    assert graph.n_isolated_removed == 1
    assert graph.node_ids.tolist() == [10, 20, 30, 40, 50]
    assert graph.labels.tolist() == [0, 0, 1, 1, 1]
    assert graph.n_edges == 5
    assert "1 isolated node removed" in graph.summary()


def test_karate_club_is_zacharys_graph():
    graph = load_karate_club()
    degree = np.asarray(graph.adjacency.sum(axis=1)).ravel()
    assert graph.n_nodes == 34 and graph.n_edges == 78
    # Degrees published for Mr. Hi (1), the officer (34) and member 33.
    assert (degree[0], degree[32], degree[33]) == (16, 12, 17)
    assert degree.sum() == 2 * 78
    assert graph.node_ids.tolist() == list(range(1, 35))
    # 17 members in each club; Mr. Hi in 0, the officer in 1.
    assert np.bincount(graph.labels).tolist() == [17, 17]
    assert graph.labels[0] == 0 and graph.labels[33] == 1
    assert graph.n_self_loops == graph.n_duplicate_lines == 0
    assert connected_components(graph.adjacency)[0] == 1


def test_political_blogs_counts(political_blogs_files):
    nodes, edges = political_blogs_files
    full = read_graph(nodes, edges)
    assert full.n_nodes == 1490
    assert np.bincount(full.labels).tolist() == [758, 732]
    assert full.n_edge_lines == 19090
    assert full.n_self_loops == 3
    assert full.n_duplicate_lines == 65
    assert full.n_edges == 16715

    graph = load_political_blogs(nodes.parent)
    assert graph.n_nodes == 1224 and graph.n_nodes_read == 1490
    assert graph.n_isolated_removed == 266
    assert graph.n_edges == 16715
    assert np.bincount(graph.labels).tolist() == [588, 636]
    # The giant component and the pair {182, 666}.
    n, labels = connected_components(graph.adjacency, directed=False)
    sizes = np.bincount(labels)
    assert n == 2 and sorted(sizes.tolist()) == [2, 1222]
    small = graph.node_ids[labels == np.argmin(sizes)]
    assert small.tolist() == [182, 666]


def test_political_blogs_edges_match_a_plain_reading(political_blogs_files):
    # An independent reading of the two files with the standard library.
    nodes, edges = political_blogs_files
    ids = [int(line.split("\t")[0]) for line in nodes.read_text().splitlines()]
    pairs = set()
    for line in edges.read_text().splitlines():
        u, v = map(int, line.split())
        if u != v:
            pairs.add((min(u, v), max(u, v)))
    graph = read_graph(nodes, edges)
    row_to_id = dict(enumerate(ids))
    got = {(row_to_id[i], row_to_id[j]) for i, j in _edge_set(graph.adjacency)}
    assert got == pairs


def test_adjacency_has_32_bit_indices_for_scikit_learn():
    # scikit-learn's spectral code rejects 64-bit sparse indices.
    graph = load_karate_club()
    assert graph.adjacency.indices.dtype == np.int32
    assert graph.adjacency.indptr.dtype == np.int32


@pytest.mark.parametrize(
    ("nodes_lines", "edges_lines", "error", "match"),
    [
        (['1\t"a"'], ["1\t1"], ValueError, r"nodes\.txt, line 1: expected 3 or 4"),
        (
            ['1\t"a"\t0', '2\t"b"\t1\t"s"\textra'],
            ["1\t2"],
            ValueError,
            r"nodes\.txt, line 2: expected 3 or 4 tab-separated fields .* found 5",
        ),
        (['x1\t"a"\t0'], ["1\t2"], ValueError, r"line 1: node id 'x1' is not an int"),
        (
            ['1\t"a"\t0', '2\t"b"\tleft'],
            ["1\t2"],
            ValueError,
            r"nodes\.txt, line 2: label 'left' is not an integer",
        ),
        (
            ['1\t"a"\t0', '1\t"b"\t1'],
            ["1\t1"],
            ValueError,
            r"nodes\.txt, line 2: node id 1 already given on line 1",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2", "2\t1\t7\t8"],
            ValueError,
            r"edges\.txt, line 2: expected 2 or 3 fields .* found 4",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2\tnan"],
            ValueError,
            r"edges\.txt, line 1: edge weight 'nan' must be a finite positive",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2\theavy"],
            ValueError,
            r"edges\.txt, line 1: edge weight 'heavy' is not a number",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2\t0_5"],
            ValueError,
            r"edges\.txt, line 1: edge weight '0_5' is not a number",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2\t\u0665"],
            ValueError,
            r"edges\.txt, line 1: edge weight '\u0665' is not a number",
        ),
        (
            [f'{2**70}\t"a"\t0', '2\t"b"\t1'],
            ["2\t2"],
            ValueError,
            r"nodes\.txt, line 1: node id 1180591620717411303424 is out of range",
        ),
        (
            ['1\t"a"\t0', f'2\t"b"\t{-(2**70)}'],
            ["1\t2"],
            ValueError,
            r"nodes\.txt, line 2: label -1180591620717411303424 is out of range",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2", f"1\t{2**70}"],
            ValueError,
            r"edges\.txt, line 2: node id 1180591620717411303424 is out of range",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t2", "", "2\t99"],
            ValueError,
            r"edges\.txt, line 3: node 99 is not in .*nodes\.txt",
        ),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\ttwo"],
            ValueError,
            r"edges\.txt, line 1: node id 'two' is not an integer",
        ),
        (["# only a comment"], ["1\t2"], ValueError, r"nodes\.txt: no nodes"),
        (['1\t"a"\t0', '2\t"b"\t1'], [], ValueError, r"edges\.txt: no edges"),
        (
            ['1\t"a"\t0', '2\t"b"\t1'],
            ["1\t1", "2\t2"],
            ValueError,
            r"edges\.txt: no edges \(empty graph\)",
        ),
    ],
)
def test_bad_files_name_the_file_and_line(
    tmp_path, nodes_lines, edges_lines, error, match
):
    nodes = _write(tmp_path / "nodes.txt", nodes_lines)
    edges = _write(tmp_path / "edges.txt", edges_lines)
    with pytest.raises(error, match=match):
        read_graph(nodes, edges)


def test_missing_folder_and_binary_files(tmp_path):
    nodes = _write(tmp_path / "nodes.txt", ['1\t"a"\t0', '2\t"b"\t1'])
    with pytest.raises(FileNotFoundError, match=r"edges\.txt: file not found"):
        read_graph(nodes, tmp_path / "edges.txt")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        read_graph(nodes, tmp_path)
    binary = tmp_path / "edges.bin"
    binary.write_bytes(b"1\t2\n\xff\xfe\x00\n")
    with pytest.raises(ValueError, match=r"edges\.bin: not a UTF-8 text file"):
        read_graph(nodes, binary)


def test_political_blogs_needs_a_data_folder(monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    # A Python caller is told how to pass the folder, not only the option.
    with pytest.raises(FileNotFoundError, match=r"no data folder: pass .*\(data=DIR\)"):
        load_political_blogs()


def test_read_edge_list(tmp_path):
    path = _write(tmp_path / "list.txt", ["7 3", "3 7", "3 9", "9 9", "7 3", "# c"])
    graph = read_edge_list(path)
    assert graph.node_ids.tolist() == [3, 7, 9]
    assert _edge_set(graph.adjacency) == {(0, 1), (0, 2)}
    assert (graph.n_edge_lines, graph.n_self_loops, graph.n_duplicate_lines) == (
        5,
        1,
        1,
    )
    assert graph.labels is None and graph.names is None


def test_graph_from_edges():
    graph = graph_from_edges(
        np.array([[0, 1], [1, 0], [1, 2], [2, 2], [0, 1]]),
        n_nodes=5,
        labels=[0, 0, 1, 1, 1],
    )
    assert (graph.n_edges, graph.n_self_loops, graph.n_duplicate_lines) == (2, 1, 1)
    assert graph.n_nodes == 5
    trimmed = graph_from_edges([[0, 1], [1, 2]], n_nodes=5, remove_isolated=True)
    assert trimmed.node_ids.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="shape"):
        graph_from_edges([0, 1, 2])
    with pytest.raises(ValueError, match="integer node indices"):
        graph_from_edges([[0.0, 1.0]])
    with pytest.raises(ValueError, match="from 0 to 2"):
        graph_from_edges([[0, 3]], n_nodes=3)
    with pytest.raises(ValueError, match="labels must be 3 integers"):
        graph_from_edges([[0, 1]], n_nodes=3, labels=[0, 1])


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_matrix, sparse.coo_array])
def test_graph_from_adjacency(container):
    directed = np.array(
        [[2.0, 1.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0, 0, 0, 0]]
    )
    graph = graph_from_adjacency(container(directed))
    expected = np.array(
        [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 3.0, 0.0], [0.0, 3.0, 0.0, 0.0], [0, 0, 0, 0]]
    )
    np.testing.assert_array_equal(graph.adjacency.toarray(), expected)
    assert graph.n_self_loops == 1
    assert graph.n_edge_lines == 4
    assert graph_from_adjacency(directed, remove_isolated=True).n_nodes == 3


def test_graph_from_adjacency_errors():
    with pytest.raises(ValueError, match="square"):
        graph_from_adjacency(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        graph_from_adjacency(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(ValueError, match="no edges"):
        graph_from_adjacency(np.eye(3))


def test_weighted_edge_lists(tmp_path):
    # The third column is the weight; the larger of two directions is kept.
    nodes = _write(tmp_path / "nodes.txt", ['1\t"a"\t0', '2\t"b"\t1', '3\t"c"\t1'])
    edges = _write(tmp_path / "edges.txt", ["1\t2\t2.5", "2\t1\t4", "2 3"])
    graph = read_graph(nodes, edges)
    np.testing.assert_array_equal(
        graph.adjacency.toarray(), [[0, 4, 0], [4, 0, 1], [0, 1, 0]]
    )
    unlabelled = read_edge_list(_write(tmp_path / "e.txt", ["5 9 1e308", "9 7"]))
    assert unlabelled.node_ids.tolist() == [5, 7, 9]
    np.testing.assert_array_equal(
        unlabelled.adjacency.toarray(), [[0, 0, 1e308], [0, 0, 1], [1e308, 1, 0]]
    )
