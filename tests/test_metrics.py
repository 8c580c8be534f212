"""Majority-label mismatch against hand-worked examples."""

import numpy as np
import pytest

from skclust import SpectralGraphClusterer
from skclust.metrics import (
    all_nodes_split,
    conductance,
    label_agreement,
    majority_label_mismatch,
    majority_label_summary,
    mismatch_rate,
    mismatch_scorer,
    modularity,
    neighbor_recall,
)

# Ten nodes in three clusters, worked by hand:
#   cluster 0: true labels 0 0 0 1 -> majority 0, 1 mismatch, rate 1/4
#   cluster 1: true labels 1 1 1 0 -> majority 1, 1 mismatch, rate 1/4
#   cluster 2: true labels 1 1     -> majority 1, 0 mismatches
#   overall: 2 mismatches of 10 nodes = 0.2
TRUE = [0, 0, 0, 1, 1, 1, 1, 0, 1, 1]
PRED = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]


def test_hand_worked_table():
    table = majority_label_mismatch(TRUE, PRED)
    assert table.clusters.tolist() == [0, 1, 2]
    assert table.sizes.tolist() == [4, 4, 2]
    assert table.majority_labels.tolist() == [0, 1, 1]
    assert table.mismatches.tolist() == [1, 1, 0]
    np.testing.assert_allclose(table.rates, [0.25, 0.25, 0.0])
    assert table.n_mismatches == 2 and table.n_samples == 10
    assert table.overall_rate == pytest.approx(0.2)
    assert table.to_rows()[1] == {
        "cluster": 1,
        "size": 4,
        "majority_label": 1,
        "mismatches": 1,
        "mismatch_rate": 0.25,
    }


def test_rate_ignores_cluster_names_and_label_type():
    renamed = {0: "c", 1: "a", 2: "b"}
    names = ["liberal" if t == 0 else "conservative" for t in TRUE]
    assert mismatch_rate(names, [renamed[p] for p in PRED]) == pytest.approx(0.2)
    # Pure clusters and one cluster per node give no mismatch.
    assert mismatch_rate(TRUE, TRUE) == 0.0
    assert mismatch_rate(TRUE, np.arange(10)) == 0.0
    # A single cluster mismatches the minority: four 0s among ten.
    assert mismatch_rate(TRUE, np.zeros(10)) == pytest.approx(0.4)


def test_a_tie_goes_to_the_smallest_label():
    table = majority_label_mismatch([1, 0, 2, 2], [0, 0, 1, 1])
    assert table.majority_labels.tolist() == [0, 2]
    assert table.mismatches.tolist() == [1, 0]


def test_summary_has_the_graded_shape():
    summary = majority_label_summary(TRUE, PRED)
    assert summary == {
        "overall_mismatch_rate": 0.2,
        "mismatch_rates": [
            {"majority_index": 0, "mismatch_rate": 0.25},
            {"majority_index": 1, "mismatch_rate": 0.25},
            {"majority_index": 1, "mismatch_rate": 0.0},
        ],
    }
    # Rounded to two decimals: 1/3 -> 0.33.
    third = majority_label_summary([0, 0, 1], [0, 0, 0])
    assert third["overall_mismatch_rate"] == 0.33
    assert isinstance(third["mismatch_rates"][0]["majority_index"], int)


def test_bad_label_arrays():
    with pytest.raises(ValueError, match="same length"):
        mismatch_rate([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="empty"):
        mismatch_rate([], [])


def test_scorer_returns_minus_the_rate_of_the_training_labels():
    A = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
        A[i, j] = A[j, i] = 1.0
    labels = np.array([0, 0, 0, 1, 1, 0])
    model = SpectralGraphClusterer(2, random_state=0).fit(A)
    assert sorted(model.labels_.tolist()) == [0, 0, 0, 1, 1, 1]
    # Two triangles joined by one edge: node 5's label is the one mismatch.
    assert mismatch_scorer(model, A, labels) == pytest.approx(-1 / 6)
    with pytest.raises(ValueError, match="all_nodes_split"):
        mismatch_scorer(model, A[:4][:, :4], labels[:4])
    with pytest.raises(ValueError, match="needs the known labels"):
        mismatch_scorer(model, A, None)
    with pytest.raises(ValueError, match="not fitted"):
        mismatch_scorer(SpectralGraphClusterer(), A, labels)


def test_scorer_tells_graphs_apart_at_any_scale():
    # np.allclose's absolute tolerance took any graph with weights near
    # 1e-10 for the one fitted.
    A = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
        A[i, j] = A[j, i] = 1e-10
    labels = np.array([0, 0, 0, 1, 1, 0])
    model = SpectralGraphClusterer(2, random_state=0).fit(A)
    assert mismatch_scorer(model, A, labels) == pytest.approx(-1 / 6)
    other = A.copy()
    other[0, 1] = other[1, 0] = 3e-10
    with pytest.raises(ValueError, match="all_nodes_split"):
        mismatch_scorer(model, other, labels)


def test_all_nodes_split():
    ((train, test),) = all_nodes_split(4)
    assert train.tolist() == test.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_neighbor_recall_with_partial_ties_matches_brute_force(metric):
    # A coarse grid makes many reconstructed rows equal, so the 5th-nearest
    # value is often shared by several rows, some of them inside the top 5.
    rng = np.random.default_rng(3)
    # Shifted off the origin, so that no rounded row is zero.
    X = rng.normal(size=(80, 3)) + 3.0
    R = np.round(X)
    assert np.linalg.norm(R, axis=1).all()

    def similarities(A, B):
        if metric == "cosine":
            unit = lambda M: M / np.linalg.norm(M, axis=1, keepdims=True)  # noqa: E731
            return unit(A) @ unit(B).T
        return -((A[:, None] - B[None]) ** 2).sum(axis=2)

    sim_x, sim_r = similarities(X, X), similarities(X, R)
    found = 0
    for i in range(80):
        others = np.delete(np.arange(80), i)
        true = others[np.argsort(-sim_x[i, others], kind="stable")[:5]]
        near = others[np.argsort(-sim_r[i, others], kind="stable")[:5]]
        found += len(set(true) & set(near))
    assert neighbor_recall(X, R, 5, metric=metric) == pytest.approx(found / 400)


def _random_graph_and_labels(seed, n=30):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < 0.2, k=1) * rng.integers(1, 4, (n, n))
    A = (upper + upper.T).astype(float)
    return A, rng.integers(0, 4, n)


@pytest.mark.parametrize("seed", range(4))
def test_modularity_against_the_pairwise_definition(seed):
    A, labels = _random_graph_and_labels(seed)
    k = A.sum(axis=1)
    two_m = A.sum()
    same = labels[:, None] == labels[None, :]
    expected = np.sum((A - np.outer(k, k) / two_m) * same) / two_m
    assert modularity(A, labels) == pytest.approx(expected, rel=1e-12)
    assert modularity(A, np.zeros(30)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_conductance_against_the_definition(seed):
    A, labels = _random_graph_and_labels(seed)
    result = conductance(A, labels)
    for position, c in enumerate(np.unique(labels)):
        inside = labels == c
        cut = A[np.ix_(inside, ~inside)].sum()
        smaller = min(A[inside].sum(), A[~inside].sum())
        assert result[position] == pytest.approx(cut / smaller, rel=1e-12)


def test_label_agreement_shows_what_mismatch_hides():
    truth = np.repeat([0, 1], 50)
    # Every node alone: mismatch 0, but ARI and NMI see the split.
    singletons = np.arange(100)
    scores = label_agreement(truth, singletons)
    assert scores["mismatch_rate"] == 0.0
    assert scores["ari"] == pytest.approx(0.0, abs=1e-12)
    assert scores["nmi"] < 0.3
    perfect = label_agreement(truth, 1 - truth)
    assert perfect == {"mismatch_rate": 0.0, "ari": 1.0, "nmi": 1.0}
