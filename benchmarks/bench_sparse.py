"""KMeansL2 against scikit-learn's KMeans on a sparse, TF-IDF-shaped table.

The table is generated: ROWS documents over a vocabulary of FEATURES words,
about DENSITY of the entries stored (100 words per document by default).
Each document draws its words from one of 20 topics (a Zipf law over the
topic's own words) mixed with a Zipf law over the whole vocabulary; values
are term counts times inverse document frequency, rows L2-normalized, as
``TfidfVectorizer`` gives. Both estimators start from the same explicit init
(scikit-learn's ``kmeans_plusplus`` on the table, seed 0), ``n_init=1``, the
default ``tol``, and are timed REPEATS times in alternation within this run.
scikit-learn also runs with its OpenMP threads limited to one ("sklearn 1
thread"): KMeansL2's sparse path runs on one thread (its products are
scipy's). The table gives median wall times, iterations and the ratio to
scikit-learn,
then the peak of Python-tracked memory of one more fit of each (numpy and
scipy arrays; the input table is not counted).

    python benchmarks/bench_sparse.py [--rows 100000] [--features 20000]
        [--density 0.005] [-k 20] [--repeats 3]
"""

import argparse
import statistics
import time
import tracemalloc

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from skclust import KMeansL2

N_TOPICS = 20
TOPIC_WORDS = 500
TOPIC_SHARE = 0.6


def _zipf_choice(rng, n_words, size):
    """Word ranks drawn with probability proportional to 1 / (rank + 1)."""
    weights = 1.0 / np.arange(1, n_words + 1)
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1])


def tfidf_like(n_rows, n_features, density, random_state=0):
    """A CSR table shaped like TF-IDF: topic words, idf weights, unit rows."""
    rng = np.random.default_rng(random_state)
    # Repeated words merge into one entry: draw more words per document, as
    # many more as the repeats of a first sample of 2,000 documents took.
    words_per_row = density * n_features
    if n_rows > 2000:
        sample = tfidf_like(2000, n_features, density, random_state)
        words_per_row *= density / (sample.nnz / sample.shape[0] / n_features)
    lengths = rng.poisson(words_per_row, size=n_rows) + 1
    rows = np.repeat(np.arange(n_rows), lengths)
    topic = rng.integers(N_TOPICS, size=n_rows)[rows]
    vocabulary = rng.permutation(n_features)
    topic_words = np.stack(
        [rng.choice(n_features, TOPIC_WORDS, replace=False) for _ in range(N_TOPICS)]
    )
    from_topic = rng.random(rows.size) < TOPIC_SHARE
    words = vocabulary[_zipf_choice(rng, n_features, rows.size)]
    ranks = _zipf_choice(rng, TOPIC_WORDS, int(from_topic.sum()))
    words[from_topic] = topic_words[topic[from_topic], ranks]
    counts = sparse.csr_matrix(
        (np.ones(rows.size), (rows, words)), shape=(n_rows, n_features)
    )
    counts.sum_duplicates()
    document_frequency = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((1 + n_rows) / (1 + document_frequency)) + 1
    counts.data *= idf[counts.indices]
    return normalize(counts)


class _OneThread:
    """An estimator whose ``fit`` runs with OpenMP and BLAS on one thread."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X):
        with threadpool_limits(limits=1):
            return self.estimator.fit(X)


def _fit(make, X):
    start = time.perf_counter()
    model = make().fit(X)
    return time.perf_counter() - start, model


def _peak_memory(make, X):
    """Peak of the memory Python traces (numpy, scipy) during one fit, MiB."""
    tracemalloc.start()
    make().fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20_000)
    parser.add_argument("--density", type=float, default=0.005)
    parser.add_argument("-k", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    X = tfidf_like(args.rows, args.features, args.density)
    table_mib = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    print(
        f"table {X.shape[0]} x {X.shape[1]}, {X.nnz} stored "
        f"({X.nnz / X.shape[0] / X.shape[1]:.4%}), {table_mib:.0f} MiB; k = {args.k}"
    )
    init, _ = kmeans_plusplus(X, args.k, random_state=0)
    same = dict(init=init, n_init=1)
    makers = {
        "sklearn KMeans": lambda: KMeans(args.k, algorithm="lloyd", **same),
        "KMeansL2": lambda: KMeansL2(args.k, **same),
        "sklearn 1 thread": lambda: _OneThread(
            KMeans(args.k, algorithm="lloyd", **same)
        ),
    }
    times = {name: [] for name in makers}
    models = {}
    for _ in range(args.repeats):
        for name, make in makers.items():
            seconds, model = _fit(make, X)
            models[name] = getattr(model, "estimator", model)
            times[name].append(seconds)
    reference = statistics.median(times["sklearn KMeans"])
    theirs = models["sklearn KMeans"]
    print(
        f"\n{'estimator':<16} {'median s':>9} {'runs s':>24} {'iter':>5} "
        f"{'ratio':>6} {'inertia':>12} {'labels = sklearn':>17}"
    )
    for name, model in models.items():
        median = statistics.median(times[name])
        runs = " ".join(f"{t:.2f}" for t in times[name])
        agree = np.mean(model.labels_ == theirs.labels_)
        print(
            f"{name:<16} {median:>9.2f} {runs:>24} {model.n_iter_:>5} "
            f"{median / reference:>6.2f} {model.inertia_:>12.6f} {agree:>17.4%}"
        )
    print("\npeak traced memory of one fit (MiB, input not counted)")
    peaks = {
        name: _peak_memory(makers[name], X) for name in ("sklearn KMeans", "KMeansL2")
    }
    for name, peak in peaks.items():
        print(
            f"{name:<16} {peak:>9.0f}  ({peak / table_mib:.2f}x the table, "
            f"{peak / peaks['sklearn KMeans']:.2f}x sklearn)"
        )


if __name__ == "__main__":
    main()
