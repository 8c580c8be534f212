"""VectorQuantizer against faiss, product quantization, and out-of-core memory.

Seven measurements, each printed as a Markdown table:

1. **Fit.** A generated 1,000,000 x 64 float32 table (rows at unit length),
   k = 256, the same explicit init and the same number of Lloyd iterations
   over all rows: ``faiss.Kmeans`` with ``max_points_per_centroid`` large
   enough that it never subsamples, against ``VectorQuantizer`` with
   ``max_iter`` equal, ``tol=0`` and ``batch_size`` set (the block kernels).
   With ``--with-kmeans-l2`` ``KMeansL2`` in memory is timed too, once
   (``VectorQuantizer`` itself takes the block kernels above 65,536 rows).
2. **Encoding.** Nearest centroid of every row for the same codebook:
   ``faiss.IndexFlatL2.search(X, 1)`` against ``VectorQuantizer.transform``.
3. **Product quantization at equal memory.** A generated 100,000 x 64 table:
   one codebook of k = 256, 1024, 4096 against M = 2, 4, 8 codebooks of 256
   centroids; memory, mean cosine similarity, recall@10 (1000 queries).
4. **Out of core.** A table 4x larger than the block budget saved as .npy,
   fitted from ``np.load(..., mmap_mode="r")`` in a fresh process under
   ``/usr/bin/time -v``; peak RSS against 2x the budget plus the codebook.
5. **Product quantization fit and encoding** (``--only pqtrain``). A
   generated 1,000,000 x 128 float32 table at unit length, 8 subvectors x 256
   centroids. faiss ``ProductQuantizer.train`` samples 65,536 rows (256 per
   centroid) of what it is given; here both get the same 65,536 rows drawn
   once, so neither samples, the same explicit initial centroids (faiss's
   ``Train_hot_start``) and 25 iterations (faiss's default; ours with
   ``tol=0`` and ``normalize=False``, the rows being unit already; no
   ``batch_size``: product quantization takes the block kernels by
   default). Encoding: ``compute_codes`` against ``transform``
   on all 1,000,000 rows, and the share of equal codes.
6. **k-means++ seeding** (``--only seeding``). The rows our block fit
   seeds from for each k of ``skclust vq`` (``8 * k`` rows drawn from a
   generated 1,000,000 x 64 table, at unit length and centered), and
   scikit-learn's ``kmeans_plusplus`` on the same rows.
7. **Search over codes** (``--only search``). A generated 1,000,000 x 128
   float32 base at unit length and 1000 held-out rows as queries, compressed
   to 8 x 256 codes by faiss ``IndexPQ`` and by ``VectorQuantizer`` (both
   trained on the same 50,000 rows), 10 neighbours: search time against
   ``IndexPQ.search``, recall@10 against exact neighbours (``IndexFlatL2``),
   and the peak memory of one ``kneighbors`` call (tracemalloc).
   ``--search-rows`` scales it down.

Timings alternate the two peers within this run and report medians; the
machine is whatever it is (say so when quoting them)::

    pip install ".[bench]"
    python benchmarks/bench_vq.py [--repeats 3] [--iterations 10]

faiss-cpu is only needed here, never at run time.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from skclust import KMeansL2, VectorQuantizer
from skclust.datasets import make_embeddings
from skclust.metrics import neighbor_recall

try:
    import faiss
except ImportError:  # pragma: no cover - benchmark-only dependency
    faiss = None


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def bench_fit_and_encode(n_rows, n_features, k, iterations, repeats, kmeans_l2):
    X = _unit(make_embeddings(n_rows, n_features, random_state=0))
    init = X[np.random.default_rng(0).choice(n_rows, k, replace=False)].copy()
    ours = VectorQuantizer(
        k, init=init.astype(np.float64), max_iter=iterations, tol=0.0,
        batch_size=65_536,
    )  # fmt: skip
    fit_times = {"faiss.Kmeans": [], "VectorQuantizer (blocks)": []}
    encode_times = {"faiss IndexFlatL2.search": [], "VectorQuantizer.transform": []}
    for _ in range(repeats):
        kmeans = faiss.Kmeans(
            n_features,
            k,
            niter=iterations,
            max_points_per_centroid=n_rows,  # never subsample
            nredo=1,
            seed=0,
            verbose=False,
        )
        seconds, _ = _timed(lambda kmeans=kmeans: kmeans.train(X, init_centroids=init))
        assert len(kmeans.obj) == iterations, "faiss ran another number of iterations"
        fit_times["faiss.Kmeans"].append(seconds)
        seconds, _ = _timed(lambda: ours.fit(X))
        assert ours.n_iter_ == iterations, "converged before max_iter"
        fit_times["VectorQuantizer (blocks)"].append(seconds)

        index = faiss.IndexFlatL2(n_features)
        index.add(np.ascontiguousarray(ours.codebook_[0]))
        seconds, (_, found) = _timed(lambda index=index: index.search(X, 1))
        encode_times["faiss IndexFlatL2.search"].append(seconds)
        seconds, codes = _timed(lambda ours=ours: ours.transform(X))
        encode_times["VectorQuantizer.transform"].append(seconds)
        agree = float(np.mean(found[:, 0] == codes[:, 0]))
    if kmeans_l2:
        # KMeansL2 itself, on these float32 unit rows: VectorQuantizer without
        # batch_size takes the block kernels above 65,536 rows, and its
        # in-memory engine would normalize the rows in float64 first
        # (bench_vq_engines.py times that engine against the blocks).
        in_memory = KMeansL2(
            k, init=init.astype(np.float64), n_init=1, max_iter=iterations, tol=0.0
        )
        seconds, _ = _timed(lambda: in_memory.fit(X))
        fit_times["KMeansL2 in memory (once)"] = [seconds]
    rows = []
    for table, peer in ((fit_times, "faiss.Kmeans"),
                        (encode_times, "faiss IndexFlatL2.search")):  # fmt: skip
        reference = statistics.median(table[peer])
        for label, times in table.items():
            median = statistics.median(times)
            rows.append((label, median, median / reference))
    print(
        f"\n### Fit and encoding: {n_rows} x {n_features} float32, k = {k}, "
        f"{iterations} Lloyd iterations over all rows, median of {repeats}\n"
    )
    print("| what | median s | ratio to faiss |\n|---|---|---|")
    for label, median, ratio in rows:
        print(f"| {label} | {median:.3f} | {ratio:.2f} |")
    print(f"\nCodes equal to faiss's nearest centroid for {agree:.5%} of the rows.")


def bench_product_quantization(n_rows, n_features, queries):
    X = make_embeddings(n_rows, n_features, random_state=1)
    unit = _unit(X.astype(np.float64))
    settings = [(256, 1), (1024, 1), (2048, 1), (4096, 1), (256, 2), (256, 4), (256, 8)]
    print(
        f"\n### One codebook against product quantization: {n_rows} x "
        f"{n_features}, max_iter 25, block kernels\n"
    )
    print(
        "| k | M | compressed MB | ratio | cosine | recall@10 | fit s |\n"
        "|---|---|---|---|---|---|---|"
    )
    for k, m in settings:
        vq = VectorQuantizer(
            k, n_subvectors=m, random_state=0, max_iter=25, batch_size=65_536
        )
        seconds, _ = _timed(lambda vq=vq: vq.fit(X))
        rebuilt = vq.inverse_transform(vq.transform(X))
        usage = vq.memory_usage()
        recall = neighbor_recall(unit, rebuilt, 10, n_queries=queries, random_state=0)
        print(
            f"| {k} | {m} | {usage.compressed_mb:.4f} | {usage.ratio:.2f} | "
            f"{vq.score(X):.4f} | {recall:.4f} | {seconds:.1f} |",
            flush=True,
        )


def bench_pq_train(n_rows, n_features, m, k, n_train, iterations, repeats):
    """Product quantization fit and encoding against faiss's ProductQuantizer."""
    X = _unit(make_embeddings(n_rows, n_features, random_state=0))
    rng = np.random.default_rng(0)
    train = X[np.sort(rng.choice(n_rows, n_train, replace=False))]
    width = n_features // m
    init = np.stack(
        [train[rng.choice(n_train, k, replace=False), j * width : (j + 1) * width]
         for j in range(m)]
    )  # fmt: skip
    fit = {"faiss ProductQuantizer.train": [], "VectorQuantizer.fit": []}
    encode = {"faiss compute_codes": [], "VectorQuantizer.transform": []}
    error = {}
    for _ in range(repeats):
        pq = faiss.ProductQuantizer(n_features, m, int(np.log2(k)))
        pq.train_type = faiss.ProductQuantizer.Train_hot_start
        pq.cp.niter = iterations
        faiss.copy_array_to_vector(init.ravel(), pq.centroids)
        seconds, _ = _timed(lambda pq=pq: pq.train(train))
        fit["faiss ProductQuantizer.train"].append(seconds)
        ours = VectorQuantizer(
            k, n_subvectors=m, init=init, max_iter=iterations, tol=0.0,
            normalize=False,
        )  # fmt: skip
        seconds, _ = _timed(lambda ours=ours: ours.fit(train))
        assert (ours.n_iter_per_codebook_ == iterations).all(), (
            "stopped before max_iter"
        )
        fit["VectorQuantizer.fit"].append(seconds)
        seconds, theirs = _timed(lambda pq=pq: pq.compute_codes(X))
        encode["faiss compute_codes"].append(seconds)
        seconds, codes = _timed(lambda ours=ours: ours.transform(X))
        encode["VectorQuantizer.transform"].append(seconds)
    centroids = faiss.vector_to_array(pq.centroids).reshape(m, k, width)
    for label, book, found in (
        ("faiss", centroids, theirs),
        ("ours", ours.codebook_, codes),
    ):
        rebuilt = np.hstack([book[j][found[:, j]] for j in range(m)])
        error[label] = float(((X - rebuilt) ** 2).sum(axis=1).mean())
    print(
        f"\n### Product quantization: {n_rows} x {n_features} float32 (unit rows), "
        f"{m} x {k}; fit on the same {n_train} rows, same initial centroids, "
        f"{iterations} iterations; encoding of all rows; median of {repeats}\n"
    )
    print("| what | median s | ratio to faiss |\n|---|---|---|")
    for table in (fit, encode):
        reference = statistics.median(next(iter(table.values())))
        for label, times in table.items():
            median = statistics.median(times)
            print(f"| {label} | {median:.3f} | {median / reference:.2f} |")
    print(
        f"\nMean squared reconstruction error: faiss {error['faiss']:.6f}, ours "
        f"{error['ours']:.6f}; codes equal to faiss's for "
        f"{float(np.mean(codes == theirs)):.4%} of the (row, subvector) pairs."
    )


def bench_seeding(n_features, ks, repeats):
    """Our k-means++ seeding against scikit-learn's on the same rows."""
    from sklearn.cluster import kmeans_plusplus

    from skclust._kmeans import Euclidean32, seed_from_sample

    print(
        f"\n### k-means++ seeding on the same rows ({n_features} features, "
        f"8 * k rows at unit length, centered), median of {repeats}\n"
    )
    print("| k | rows | ours s | scikit-learn s | ratio |\n|---|---|---|---|---|")
    for k in ks:
        rows = _unit(make_embeddings(8 * k, n_features, random_state=k))
        rows = (rows - rows.mean(axis=0)).astype(np.float64)
        ours, theirs = [], []
        for seed in range(repeats):
            seconds, _ = _timed(
                lambda seed=seed, rows=rows, k=k: seed_from_sample(
                    rows, k, "k-means++", Euclidean32, np.random.RandomState(seed)
                )
            )
            ours.append(seconds)
            seconds, _ = _timed(
                lambda seed=seed, rows=rows, k=k: kmeans_plusplus(
                    rows, k, random_state=seed
                )
            )
            theirs.append(seconds)
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {k} | {8 * k} | {a:.3f} | {b:.3f} | {a / b:.2f} |")


def _recall(found, truth):
    return float(
        np.mean([np.intersect1d(f, t).size for f, t in zip(found, truth, strict=True)])
        / truth.shape[1]
    )


def bench_search(n_rows, n_features, m, k, n_queries, n_train, repeats):
    """Search over 8-byte codes: VectorQuantizer.kneighbors against IndexPQ."""
    # Queries are held-out rows of the same generated table (same topics).
    table = _unit(make_embeddings(n_rows + n_queries, n_features, random_state=0))
    base, queries = table[:n_rows], table[n_rows:]
    train = base[np.random.default_rng(0).choice(n_rows, n_train, replace=False)]
    exact = faiss.IndexFlatL2(n_features)
    exact.add(base)
    _, truth = exact.search(queries, 10)
    del exact
    fit = {}
    # Both train on the same sample, 25 Lloyd iterations (faiss's default).
    pq = faiss.IndexPQ(n_features, m, int(np.log2(k)), faiss.METRIC_L2)
    fit["faiss IndexPQ.train"], _ = _timed(lambda: pq.train(train))
    ours = VectorQuantizer(
        k, n_subvectors=m, max_iter=25, random_state=0, batch_size=65_536
    )
    fit["VectorQuantizer.fit"], _ = _timed(lambda: ours.fit(train))
    fit["faiss IndexPQ.add"], _ = _timed(lambda: pq.add(base))
    fit["VectorQuantizer.add"], _ = _timed(lambda: ours.add(base))
    times = {"faiss IndexPQ.search": [], "VectorQuantizer.kneighbors": []}
    found = {}
    for _ in range(repeats):
        seconds, (_, found["faiss IndexPQ.search"]) = _timed(
            lambda: pq.search(queries, 10)
        )
        times["faiss IndexPQ.search"].append(seconds)
        seconds, (_, found["VectorQuantizer.kneighbors"]) = _timed(
            lambda: ours.kneighbors(queries, 10)
        )
        times["VectorQuantizer.kneighbors"].append(seconds)
    # One thread each: a comparison that an overloaded machine (whose waits
    # hurt faiss's OpenMP threads more than ours) disturbs less.
    single = {"faiss IndexPQ.search, 1 thread": [], "kneighbors, 1 thread": []}
    ours.set_params(n_jobs=1)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    for _ in range(repeats):
        seconds, _ = _timed(lambda: pq.search(queries, 10))
        single["faiss IndexPQ.search, 1 thread"].append(seconds)
        seconds, _ = _timed(lambda: ours.kneighbors(queries, 10))
        single["kneighbors, 1 thread"].append(seconds)
    faiss.omp_set_num_threads(threads)
    ours.set_params(n_jobs=None)
    label = "kneighbors, cosine"
    seconds, (_, found[label]) = _timed(
        lambda: ours.kneighbors(queries, 10, metric="cosine")
    )
    times[label] = [seconds]
    label = "kneighbors, 100 candidates reranked on the rows"
    seconds, (_, found[label]) = _timed(
        lambda: ours.kneighbors(queries, 10, rerank_with=base, n_candidates=100)
    )
    times[label] = [seconds]
    tracemalloc.start()
    ours.kneighbors(queries, 10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    reference = statistics.median(times["faiss IndexPQ.search"])
    print(
        f"\n### Search: {n_rows} x {n_features} float32 base (unit rows) as "
        f"{m} x {k} codes ({m} bytes a row), {n_queries} queries, 10 neighbours; "
        f"both trained on the same {n_train} rows, 25 iterations\n"
    )
    print("| what | median s | ratio to faiss | recall@10 |\n|---|---|---|---|")
    for label, measured in times.items():
        median = statistics.median(measured)
        print(
            f"| {label} | {median:.3f} | {median / reference:.2f} | "
            f"{_recall(found[label], truth):.4f} |"
        )
    single_reference = statistics.median(single["faiss IndexPQ.search, 1 thread"])
    for label, measured in single.items():
        median = statistics.median(measured)
        print(f"| {label} | {median:.3f} | {median / single_reference:.2f} | |")
    print(
        f"\nSearch times: median of {repeats} (one run for the cosine and "
        "reranked rows); the 1-thread rows are relative to faiss on 1 thread."
    )
    print("\n| step | s |\n|---|---|")
    for label, seconds in fit.items():
        print(f"| {label} | {seconds:.1f} |")
    print(
        f"\nPeak memory allocated by one kneighbors call (tracemalloc): "
        f"{peak / 1e6:.1f} MB; the codes take {ours.codes_.nbytes / 1e6:.1f} MB "
        f"(held before the call), the lookup tables of all {n_queries} queries "
        f"{n_queries * m * k * 4 / 1e6:.1f} MB, the decoded base would take "
        f"{base.nbytes / 1e6:.0f} MB."
    )


_CHILD = """
import json, resource, sys, time
import numpy as np
from skclust import VectorQuantizer
path, batch_rows, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
X = np.load(path, mmap_mode="r")
start = time.perf_counter()
vq = VectorQuantizer(k, random_state=0, max_iter=5, batch_size=batch_rows).fit(X)
codes = vq.transform(X)
seconds = time.perf_counter() - start
print(json.dumps({"baseline": baseline, "seconds": seconds,
                  "codebook": vq.codebook_.nbytes, "codes": codes.nbytes}))
"""


def bench_out_of_core(n_rows, n_features, batch_rows, k):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.npy"
        table = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float32, shape=(n_rows, n_features)
        )
        step = 1 << 20
        for start in range(0, n_rows, step):
            stop = min(start + step, n_rows)
            table[start:stop] = make_embeddings(
                stop - start, n_features, random_state=start
            )
        table.flush()
        del table
        command = [sys.executable, "-c", _CHILD, str(path), str(batch_rows), str(k)]
        if os.path.exists("/usr/bin/time"):
            command = ["/usr/bin/time", "-v", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    peak = int(match.group(1)) * 1024 if match else float("nan")
    table_bytes = n_rows * n_features * 4
    budget = batch_rows * n_features * 4
    bound = 2 * budget + report["codebook"]
    print(
        f"\n### Out of core: {n_rows} x {n_features} float32 memory map "
        f"({table_bytes / 1e6:.0f} MB), blocks of {batch_rows} rows "
        f"({budget / 1e6:.0f} MB), k = {k}, 5 iterations + transform\n"
    )
    print("| measure | MB |\n|---|---|")
    print(f"| table on disk | {table_bytes / 1e6:.1f} |")
    print(f"| block budget | {budget / 1e6:.1f} |")
    print(f"| 2 x budget + codebook | {bound / 1e6:.1f} |")
    print(f"| peak RSS (/usr/bin/time -v) | {peak / 1e6:.1f} |")
    print(f"| RSS after imports, before fit | {report['baseline'] / 1e6:.1f} |")
    print(f"| codes returned by transform | {report['codes'] / 1e6:.1f} |")
    print(f"\nfit + transform took {report['seconds']:.1f} s.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--with-kmeans-l2",
        action="store_true",
        help="also time the in-memory KMeansL2 path once (slow)",
    )
    parser.add_argument(
        "--only",
        choices=["fit", "pq", "memory", "pqtrain", "seeding", "search"],
        help="run one measurement",
    )
    parser.add_argument(
        "--search-rows",
        type=int,
        default=1_000_000,
        help="rows of the search benchmark's base (default 1,000,000)",
    )
    args = parser.parse_args(argv)
    if args.only in (None, "fit"):
        if faiss is None:
            sys.exit("faiss-cpu is not installed: pip install '.[bench]'")
        bench_fit_and_encode(
            args.rows, 64, 256, args.iterations, args.repeats, args.with_kmeans_l2
        )
    if args.only in (None, "pq"):
        bench_product_quantization(100_000, 64, 1000)
    if args.only in (None, "memory"):
        bench_out_of_core(1_000_000, 64, 250_000, 256)
        bench_out_of_core(4_000_000, 64, 1_000_000, 256)
    if args.only in (None, "pqtrain"):
        if faiss is None:
            sys.exit("faiss-cpu is not installed: pip install '.[bench]'")
        bench_pq_train(1_000_000, 128, 8, 256, 65_536, 25, args.repeats)
    if args.only in (None, "seeding"):
        bench_seeding(64, [64, 128, 256, 512], max(args.repeats, 5))
    if args.only in (None, "search"):
        if faiss is None:
            sys.exit("faiss-cpu is not installed: pip install '.[bench]'")
        bench_search(args.search_rows, 128, 8, 256, 1000, 50_000, args.repeats)


if __name__ == "__main__":
    main()
