"""Graphs whose weights span more than the float precision, or its whole range.

Found by fuzzing random small graphs with weights drawn from 1e-200 to 1e200:
rows divided by the square root of such degrees left k-means a cluster short,
and the weighted Bethe Hessian of "auto" failed on weights near the float
limits.
"""

import numpy as np
import pytest

from skclust import SpectralGraphClusterer
from skclust._cli import main
from skclust._spectral._laplacian import _couplings


def _adjacency(n, weighted_edges):
    adjacency = np.zeros((n, n))
    for i, j, weight in weighted_edges:
        adjacency[i, j] = adjacency[j, i] = weight
    return adjacency


# Five nodes whose degrees span 1e186: node 0's only edge weighs 7e-39
# against 2.5e148 between nodes 2 and 3.
SPREAD = _adjacency(
    5,
    [
        (0, 4, 7e-39),
        (1, 2, 2.5e37),
        (1, 3, 2.2e16),
        (1, 4, 1.4e-42),
        (2, 3, 2.5e148),
        (2, 4, 2.2e-32),
    ],
)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"laplacian": "normalized", "row_scaling": "degree"},
        {"regularization": 0.0, "row_scaling": "degree"},
    ],
)
def test_rows_over_degrees_spanning_1e186_keep_every_cluster(params):
    # Rows divided by the square root of the degree lay from 1 to 1e93 apart,
    # and k-means merged the two nearest 0: four clusters for n_clusters=5.
    # The only partition of five nodes into five clusters is all apart.
    model = SpectralGraphClusterer(5, random_state=0, **params).fit(SPREAD)
    assert sorted(model.labels_.tolist()) == [0, 1, 2, 3, 4]
    assert model.n_clusters_ == 5


def _two_triangles(first, second, third):
    """Triangles 0-1-2 (weights given) and 3-4-5 (weight 1), joined by 2-3."""
    return _adjacency(
        6,
        [
            (0, 1, first),
            (1, 2, second),
            (0, 2, third),
            (2, 3, 1.0),
            (3, 4, 1.0),
            (4, 5, 1.0),
            (3, 5, 1.0),
        ],
    )


@pytest.mark.parametrize(
    "adjacency",
    [
        # Largest weight 1e308: after scaling the unit weights are 1e-308, and
        # the coupling scale cap / min(w) overflowed ("function value at
        # x=nan"); a subnormal weight made Brent's method stop unconverged.
        _two_triangles(1e308, 1e308, 1e-308),
        _two_triangles(5e-324, 1.0, 1.0),
    ],
    ids=["largest-1e308", "subnormal"],
)
def test_auto_counts_weights_at_the_float_limits(adjacency):
    model = SpectralGraphClusterer("auto", random_state=0).fit(adjacency)
    assert 1 <= model.n_clusters_ <= 6
    assert set(model.labels_.tolist()) == set(range(model.n_clusters_))


def test_couplings_solve_their_equation_across_the_float_range():
    # neighbours * mean(tanh(x)^2) = 1; the two tiny weights add nothing, so
    # the two weights of 1 need tanh(x)^2 = 2 / 3.
    couplings = _couplings(np.array([1.0, 1.0, 5e-324, 1e-300]), 3.0)
    assert np.all(np.isfinite(couplings))
    assert np.tanh(couplings[:2]) ** 2 == pytest.approx([2 / 3, 2 / 3], rel=1e-9)
    assert couplings[2] < couplings[3] < 1e-290


def test_command_takes_a_subnormal_weight(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    edges = tmp_path / "edges.txt"
    edges.write_text("1 2 5e-324\n2 3\n3 1\n3 4\n4 5\n5 6\n6 4\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["graph", "-q", "--edges", str(edges), "-k", "2", "--out", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    assert (out / "overall.csv").is_file()
