"""KMeansL2 on a Dask array on a 2-worker LocalCluster against the in-memory fit.

A generated 4,194,304 x 64 float64 table (2 GiB) in 64 row chunks, built on
the workers from the same per-chunk generator as a local copy and persisted
there; k = 64 from an explicit init. Printed as Markdown:

- the largest difference between the centers (and whether the labels are
  equal) of the cluster fit and the in-memory fit of the local copy;
- the time per Lloyd iteration of both, as the difference between fits of
  ``--short`` and ``--long`` iterations (``tol=0``), so that the passes
  before and after the loop drop out;
- the bytes sent per iteration, over every TCP connection of the client, the
  scheduler and the workers (``distributed.comm.tcp.TCP.write`` counted in
  every process), by the same difference.

Timings alternate the two fits and report medians of ``--repeats``; the
machine is shared (say so when quoting them)::

    pip install "dask[distributed]"
    python benchmarks/bench_dask.py [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np

from skclust import KMeansL2


def make_chunk(index, n_rows, n_features, n_topics=256):
    """One row chunk around fixed random topics; the same wherever it runs."""
    topics = np.random.default_rng(0).normal(size=(n_topics, n_features))
    rng = np.random.default_rng([1, index])
    rows = topics[rng.integers(0, n_topics, n_rows)]
    rows += rng.normal(scale=0.7, size=rows.shape)
    return rows


def count_tcp_writes(dask_worker=None, dask_scheduler=None):
    """Count the bytes every TCP comm of this process writes (once per process)."""
    from distributed.comm import tcp

    if hasattr(tcp.TCP, "bytes_written"):
        return
    original = tcp.TCP.write

    async def write(self, msg, serializers=None, on_error="message"):
        n = await original(self, msg, serializers, on_error)
        tcp.TCP.bytes_written += n
        return n

    tcp.TCP.bytes_written = 0
    tcp.TCP.write = write


def bytes_written(dask_worker=None, dask_scheduler=None):
    from distributed.comm import tcp

    return tcp.TCP.bytes_written


def total_written(client):
    workers = client.run(bytes_written)
    return (
        sum(workers.values()) + client.run_on_scheduler(bytes_written) + bytes_written()
    )


def timed_fit(X, init, max_iter, client=None):
    before = total_written(client) if client is not None else 0
    start = time.perf_counter()
    km = KMeansL2(init.shape[0], init=init, tol=0.0, max_iter=max_iter).fit(X)
    seconds = time.perf_counter() - start
    sent = total_written(client) - before if client is not None else 0
    if km.n_iter_ != max_iter:
        raise RuntimeError(f"the fit converged early, after {km.n_iter_} iterations")
    return seconds, sent, km


def main(argv=None):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--clusters", type=int, default=64)
    parser.add_argument("--short", type=int, default=2)
    parser.add_argument("--long", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    shape = (args.chunk_rows, args.features)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        count_tcp_writes()
        client.run(count_tcp_writes)
        client.run_on_scheduler(count_tcp_writes)
        parts = [
            da.from_delayed(
                dask.delayed(make_chunk)(i, *shape), shape=shape, dtype=np.float64
            )
            for i in range(args.chunks)
        ]
        lazy = da.concatenate(parts).persist()
        wait(lazy)
        local = np.concatenate([make_chunk(i, *shape) for i in range(args.chunks)])
        init = local[np.random.default_rng(2).choice(len(local), args.clusters, False)]

        times = {"dask, 2 workers": [], "in memory": []}
        sent = []
        for _ in range(args.repeats):
            a_seconds, a_sent, _ = timed_fit(lazy, init, args.short, client)
            b_seconds, b_sent, on_cluster = timed_fit(lazy, init, args.long, client)
            times["dask, 2 workers"].append(
                (b_seconds - a_seconds) / (args.long - args.short)
            )
            sent.append((b_sent - a_sent) / (args.long - args.short))
            a_seconds, _, _ = timed_fit(local, init, args.short)
            b_seconds, _, in_memory = timed_fit(local, init, args.long)
            times["in memory"].append(
                (b_seconds - a_seconds) / (args.long - args.short)
            )
        gap = np.abs(on_cluster.cluster_centers_ - in_memory.cluster_centers_).max()
        scale = np.abs(in_memory.cluster_centers_).max()
        equal_labels = np.array_equal(on_cluster.labels_, in_memory.labels_)
        print(
            f"\n### KMeansL2, {local.shape[0]} x {args.features} float64 "
            f"({local.nbytes / 2**30:.1f} GiB) in {args.chunks} chunks, "
            f"k = {args.clusters}\n"
        )
        print("| fit | s per iteration (median) |\n|---|---|")
        for label, values in times.items():
            print(f"| {label} | {statistics.median(values):.2f} |")
        print(
            f"\nbytes sent per iteration (all processes): median "
            f"{statistics.median(sent) / 1e6:.2f} MB (runs: "
            f"{', '.join(f'{s / 1e6:.2f}' for s in sent)})"
        )
        print(
            f"centers: largest difference {gap:.2g} (largest |center| "
            f"{scale:.3g}); labels equal: {equal_labels}"
        )
        print(f"all times (s): {times}")


if __name__ == "__main__":
    main()
