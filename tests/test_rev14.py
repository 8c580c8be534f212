"""Review of the session-14 merges: what the review found broken."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.sparse.linalg import ArpackError

from skclust._cli import main
from skclust._spectral import _laplacian
from skclust.image import load_image


def test_a_big_endian_uint16_array_is_read_as_uint16():
    # ">u2" is not == np.uint16 on a little-endian machine: it was refused
    # with "pass the image as uint16". FITS readers give such arrays.
    image = np.array([[[0, 255, 65535], [256, 40000, 65280]]], dtype=">u2")
    expected = np.array([[[0, 0, 255], [1, 156, 255]]], dtype=np.uint8)
    assert_array_equal(load_image(image), expected)
    assert_array_equal(load_image(image.astype("<u2")), expected)


def _arpack_stops(*args, **kwargs):
    # What eigsh raised in some runs and not others on components of a few
    # hundred nodes: "No shifts could be applied during a cycle of the
    # Implicitly restarted Arnoldi iteration".
    raise ArpackError(3)


def _cycle(n):
    nodes = np.arange(n)
    adjacency = sparse.coo_array(
        (np.ones(n), (nodes, (nodes + 1) % n)), shape=(n, n)
    ).tocsr()
    return (adjacency + adjacency.T) / 2


def test_an_arpack_error_falls_back_to_lapack(monkeypatch):
    # Only ArpackNoConvergence fell back; error 3 ended the fit.
    monkeypatch.setattr(_laplacian, "eigsh", _arpack_stops)
    values, vectors = _laplacian._leading_eigenpairs(_cycle(30), 3, "arpack", 0)
    # A 30-cycle's affinity (A / 2) has cos(2 pi j / 30): 1, then a pair.
    assert_allclose(values, [1.0, np.cos(np.pi / 15), np.cos(np.pi / 15)])
    assert vectors.shape == (30, 3)


def test_an_arpack_error_above_the_lapack_limit_is_named(monkeypatch):
    monkeypatch.setattr(_laplacian, "eigsh", _arpack_stops)
    n = _laplacian._DENSE_FALLBACK_MAX_NODES + 1
    with pytest.raises(RuntimeError, match=r"ARPACK\) failed \(ARPACK error 3"):
        _laplacian._leading_eigenpairs(_cycle(n), 3, "arpack", 0)


def test_one_node_left_out_of_the_largest_component_is_singular(tmp_path, capsys):
    # A triangle with a pendant node, and a fifth node without edges kept
    # by --keep-isolated: the note said "1 nodes ... keeps them".
    nodes = tmp_path / "nodes.txt"
    nodes.write_text("".join(f"{i}\tn{i}\t{i // 3}\n" for i in range(1, 6)))
    edges = tmp_path / "edges.txt"
    edges.write_text("1 2\n2 3\n3 1\n3 4\n")
    argv = ["graph", "--nodes", str(nodes), "--edges", str(edges)]
    argv += ["--keep-isolated", "-k", "2", "--tune", "2:2"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert (
        "(4 of 5 nodes); 1 node in 1 smaller component left out "
        "(--all-components keeps it)"
    ) in printed
