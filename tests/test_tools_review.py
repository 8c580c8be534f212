"""Corner cases found by an adversarial review of the metrics, the model
selection helpers, the loaders, the study's functions and the ``report``,
``demo`` and ``verify`` commands.

Each test reproduces one finding: it failed (a wrong number, a destroyed
file, an error that did not say what was wrong) before the fix.
"""

import numpy as np
import pytest

from skclust.datasets import load_embeddings, make_embeddings
from skclust.metrics import neighbor_recall
from skclust.study import compress_embeddings


@pytest.mark.parametrize("mode", ["w+", "r+", "c", "x"])
def test_load_embeddings_never_opens_the_table_for_writing(tmp_path, mode):
    # mmap_mode="w+" went to np.load, which created the file anew: the
    # table the user asked to read was destroyed.
    path = tmp_path / "table.npy"
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(path, table)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="mmap_mode must be None or 'r'"):
        load_embeddings(path, mmap_mode=mode)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(load_embeddings(path, mmap_mode="r"), table)


def test_compress_embeddings_takes_the_codebook_sizes_from_a_generator():
    # ks was iterated twice (checked, then fitted): a generator was used up
    # by the checks and nothing was fitted, silently.
    X = make_embeddings(200, 8, random_state=0)
    quiet = {"n_init": 1, "log": lambda line: None}
    from_list = compress_embeddings(X, [8, 4], **quiet)
    from_generator = compress_embeddings(X, (k for k in [8, 4]), **quiet)
    assert [row["k"] for row in from_generator.rows] == [4, 8]
    for a, b in zip(from_list.rows, from_generator.rows, strict=True):
        assert {**a, "seconds": 0} == {**b, "seconds": 0}


@pytest.mark.parametrize("queries", [0, -5, 2.5])
def test_compress_embeddings_refuses_a_bad_number_of_recall_queries(queries):
    # 0 failed deep inside the quantizer ("Found array with 0 sample(s)"),
    # -5 in numpy's random choice.
    X = make_embeddings(200, 8, random_state=0)
    with pytest.raises(ValueError, match="recall_queries must be a positive int"):
        compress_embeddings(X, [4], recall_queries=queries, log=lambda line: None)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_neighbors": 0}, "n_neighbors must be at least 1; got 0"),
        ({"n_neighbors": 2.5}, "n_neighbors must be an int; got 2.5"),
        ({"n_neighbors": True}, "n_neighbors must be an int; got True"),
        ({"n_neighbors": 20}, r"n_neighbors=20 needs at least 21 rows .* got 20"),
        ({"n_queries": 0}, "n_queries must be at least 1; got 0"),
        ({"n_queries": -3}, "n_queries must be at least 1; got -3"),
        ({"n_queries": 2.5}, "n_queries must be an int; got 2.5"),
    ],
)
def test_neighbor_recall_names_a_bad_count(params, match):
    # n_queries=0 divided by zero; 2.5 and True failed inside numpy; 0
    # neighbours said it "needs between 2 and n_samples - 1".
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=match):
        neighbor_recall(X, X, **{"n_neighbors": 2, **params})


@pytest.mark.parametrize("which", [0, 1])
def test_neighbor_recall_refuses_nan(which):
    # A NaN in either table failed with "could not broadcast input array".
    X = np.random.default_rng(0).normal(size=(20, 3))
    tables = [X, X.copy()]
    tables[which][3, 1] = np.nan
    name = ["X", "X_reconstructed"][which]
    with pytest.raises(ValueError, match=f"^{name} holds NaN or infinity"):
        neighbor_recall(*tables, n_neighbors=2)
