"""Corner cases found by an adversarial review of the metrics, the model
selection helpers, the loaders, the study's functions and the ``report``,
``demo`` and ``verify`` commands.

Each test reproduces one finding: it failed (a wrong number, a destroyed
file, an error that did not say what was wrong) before the fix.
"""

import numpy as np
import pytest

from skclust.datasets import load_embeddings, make_embeddings
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
