"""compress_embeddings: exact neighbours found once, recall from the codes."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from skclust.datasets import make_embeddings
from skclust.metrics import neighbor_recall
from skclust.study import _exact_neighbors, compress_embeddings


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_exact_neighbors_match_brute_force():
    unit = _unit(make_embeddings(40_000, 8, random_state=1).astype(np.float64))
    queries = np.array([0, 5, 16_384, 20_000, 39_999])
    found = _exact_neighbors(unit, queries, 10)
    # scikit-learn's brute force, asking one more to drop the query itself.
    _, expected = (
        NearestNeighbors(n_neighbors=11, algorithm="brute", metric="cosine")
        .fit(unit)
        .kneighbors(unit[queries])
    )
    for query, row, near in zip(queries, found, expected, strict=True):
        assert query not in row
        assert set(row) == set(near[near != query][:10])


def test_recall_from_codes_matches_neighbor_recall_on_the_rebuilt_table():
    X = make_embeddings(1500, 16, random_state=2)
    result = compress_embeddings(X, [32], n_init=1, log=lambda line: None)
    vq, codes = result.fitted[32]
    # Every row a query: the search over codes against the rebuilt table.
    expected = neighbor_recall(X, vq.inverse_transform(codes), 10)
    assert result.rows[0]["recall_at_10"] == pytest.approx(expected, abs=0.01)
    assert (vq.codes_ == codes).all()


def test_train_size_fits_on_a_sample_and_encodes_every_row():
    X = make_embeddings(2000, 8, random_state=3)
    result = compress_embeddings(
        X, [4, 8], n_init=1, train_size="auto", log=lambda line: None
    )
    assert [row["train_rows"] for row in result.rows] == [1024, 2000]
    assert result.fitted[4][1].shape == (2000, 1)
    assert result.fitted[4][0].n_samples_seen_ == 1024
    sized = compress_embeddings(X, [8], n_init=1, train_size=300, log=print)
    assert sized.rows[0]["train_rows"] == 300


def test_quality_by_blocks_equals_the_metrics(monkeypatch):
    from skclust import study
    from skclust.metrics import mean_cosine_similarity, relative_mse

    monkeypatch.setattr(study, "_QUALITY_BLOCK_ROWS", 100)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((1050, 6))
    rebuilt = (X + 0.3 * rng.standard_normal(X.shape)).astype(np.float32)
    target = _unit(X)
    cosine, error = study._quality(X, target, rebuilt)
    assert cosine == pytest.approx(mean_cosine_similarity(X, rebuilt), rel=1e-12)
    assert error == pytest.approx(relative_mse(target, rebuilt), rel=1e-12)
