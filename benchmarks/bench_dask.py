"""KMeansL2 on a Dask array on a 2-worker LocalCluster against the in-memory fit.

A generated 4,194,304 x 64 float64 table (2 GiB) in 64 row chunks, built on
the workers from the same per-chunk generator as a local copy and persisted
there; k = 64 from an explicit init. Printed as Markdown:

- the largest difference between the centers (and whether the labels are
  equal) of the cluster fit and the in-memory fit of the local copy;
- the time of each Lloyd iteration of both (one call of the runs'
  ``assign``: assignment and update; ``tol=0``), the first left out;
- the bytes sent during each iteration over every TCP connection of the
  client, the scheduler and the workers (``distributed.comm.tcp.TCP.write``
  counted in every process), less what reading the counters sends.

The two fits alternate ``--repeats`` times; medians. The machine is shared
(say so when quoting the times)::

    pip install "dask[distributed]"
    python benchmarks/bench_dask.py [--repeats 2]
"""

import argparse
import statistics
import time

import numpy as np

from skclust import KMeansL2
from skclust._kmeans._blocked import BlockedRuns
from skclust._kmeans._inmemory import InMemoryRuns


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


def timed_iterations(runs_class, client=None):
    """Wrap ``runs_class.assign`` (one Lloyd iteration: assignment and
    update) to record its wall time and, with a client, the bytes sent
    meanwhile; returns the list the records go to."""
    records = []
    original = runs_class.assign
    idle = 0
    if client is not None:
        # What reading the counters sends, measured with nothing between.
        idle = -(total_written(client) - total_written(client))

    def assign(self, *args):
        before = total_written(client) if client is not None else 0
        start = time.perf_counter()
        result = original(self, *args)
        seconds = time.perf_counter() - start
        sent = total_written(client) - before - idle if client is not None else 0
        records.append((seconds, sent))
        return result

    runs_class.assign = assign
    return records


def fit(X, init, max_iter):
    km = KMeansL2(init.shape[0], init=init, tol=0.0, max_iter=max_iter).fit(X)
    if km.n_iter_ != max_iter:
        raise RuntimeError(f"the fit converged early, after {km.n_iter_} iterations")
    return km


def main(argv=None):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--chunk-rows", type=int, default=65_536)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--clusters", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
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

        on_cluster_steps = timed_iterations(BlockedRuns, client)
        in_memory_steps = timed_iterations(InMemoryRuns)
        times = {"dask, 2 workers": [], "in memory": []}
        sent = []
        for _ in range(args.repeats):
            del on_cluster_steps[:], in_memory_steps[:]
            on_cluster = fit(lazy, init, args.iterations)
            in_memory = fit(local, init, args.iterations)
            # The first iteration examines every row in memory: left out.
            times["dask, 2 workers"] += [t for t, _ in on_cluster_steps[1:]]
            sent += [b for _, b in on_cluster_steps[1:]]
            times["in memory"] += [t for t, _ in in_memory_steps[1:]]
        gap = np.abs(on_cluster.cluster_centers_ - in_memory.cluster_centers_).max()
        scale = np.abs(in_memory.cluster_centers_).max()
        equal_labels = np.array_equal(on_cluster.labels_, in_memory.labels_)
        print(
            f"\n### KMeansL2, {local.shape[0]} x {args.features} float64 "
            f"({local.nbytes / 2**30:.1f} GiB) in {args.chunks} chunks, "
            f"k = {args.clusters}, iterations 2 to {args.iterations} of "
            f"{args.repeats} fits each, alternated\n"
        )
        print("| fit | s per iteration (median) |\n|---|---|")
        for label, values in times.items():
            print(f"| {label} | {statistics.median(values):.2f} |")
        print(
            f"\nbytes sent per iteration (all processes): median "
            f"{statistics.median(sent) / 1e6:.3f} MB (each: "
            f"{', '.join(f'{b / 1e6:.3f}' for b in sent)})"
        )
        print(
            f"centers: largest difference {gap:.2g} (largest |center| "
            f"{scale:.3g}); labels equal: {equal_labels}"
        )
        print(f"all times (s): {times}")


if __name__ == "__main__":
    main()
