"""KMeansL2 out of core: a float32 memory map fitted within a memory budget.

Two measurements, each printed as a Markdown table:

1. **Memory.** A generated 16,000,000 x 64 float32 table (4.1 GB) saved as
   .npy and fitted from ``np.load(..., mmap_mode="r")`` in a fresh process
   under ``/usr/bin/time -v``, k = 64, from an explicit init. The budget
   (512 MB) holds one block of rows and the state the fit keeps for every
   row (label and Hamerly bounds, 12 bytes a row): ``batch_size`` is the
   budget less that state, in rows. Peak RSS against 1 GB.
2. **Time per iteration.** Each Lloyd iteration (one call of the runs'
   ``assign``: assignment and update) timed inside the fit, in wall-clock
   and in CPU seconds of the process (steadier on a shared machine), from
   the same init with ``tol=0``; the first iteration, which examines every
   row, is left out; the page cache is warm. The 4 GB map (the memory run),
   and a slice of its first rows (``--slice-rows``, 1 GB by default) fitted
   both from the memory map and from an in-memory copy, alternated,
   ``--repeats`` times; medians. The in-memory fit of all 4 GB holds the
   table and its merged copy, 8 GB: give ``--slice-rows 16000000`` where
   that memory is free. The slice fits must give the same labels and
   centers.

Every fit runs in its own process::

    python benchmarks/bench_out_of_core.py [--rows 16000000] [--repeats 2]

The table is written next to this script's working directory (``--folder``)
and deleted afterwards.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CHILD = """
import json, resource, sys, time
import numpy as np
from skclust import KMeansL2
from skclust._kmeans._blocked import BlockedRuns
from skclust._kmeans._inmemory import InMemoryRuns

# Every Lloyd iteration is one call of the runs' assign (assignment and
# update): time each, in wall-clock and in CPU seconds of the process.
steps = []
def timed(cls):
    original = cls.assign
    def assign(self, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = original(self, *args)
        steps.append((time.perf_counter() - wall, time.process_time() - cpu))
        return result
    cls.assign = assign
timed(BlockedRuns)
timed(InMemoryRuns)

path, n_rows, mode, batch_rows, max_iter, init_path, out_path = sys.argv[1:]
X = np.load(path, mmap_mode="r")[: int(n_rows)]
if mode == "in-memory":
    X = np.array(X)
init = np.load(init_path)
start = time.perf_counter()
km = KMeansL2(
    init.shape[0], init=init, tol=0.0, max_iter=int(max_iter),
    batch_size=int(batch_rows) if mode == "blocked" else None,
).fit(X)
seconds = time.perf_counter() - start
np.save(out_path + "_centers.npy", km.cluster_centers_)
np.save(out_path + "_labels.npy", km.labels_)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "n_iter": int(km.n_iter_), "peak": peak,
                  "steps": steps}))
"""

_BUDGET = 512 * 2**20
_STATE_BYTES_PER_ROW = 12


def write_table(path, n_rows, n_features, n_topics=256, seed=0):
    """Rows around ``n_topics`` random centers, written 1M rows at a time."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(n_topics, n_features)).astype(np.float32)
    table = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_rows, n_features)
    )
    step = 1 << 20
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        part = np.random.default_rng([seed, start])
        rows = topics[part.integers(0, n_topics, stop - start)]
        rows += part.normal(scale=0.7, size=rows.shape).astype(np.float32)
        table[start:stop] = rows
    table.flush()
    del table


def batch_rows(n_rows, n_features):
    """Rows per block: the budget less the state kept for every row."""
    return (_BUDGET - _STATE_BYTES_PER_ROW * n_rows) // (4 * n_features)


def run_fit(folder, n_rows, mode, max_iter, measure_memory=False):
    n_features = np.load(folder / "table.npy", mmap_mode="r").shape[1]
    out = folder / f"{mode}_{n_rows}_{max_iter}"
    command = [
        sys.executable,
        "-c",
        _CHILD,
        str(folder / "table.npy"),
        str(n_rows),
        mode,
        str(batch_rows(n_rows, n_features)),
        str(max_iter),
        str(folder / "init.npy"),
        str(out),
    ]
    if measure_memory:
        command = ["/usr/bin/time", "-v", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if match:
        report["peak"] = int(match.group(1)) * 1024
    report["out"] = out
    return report


def later_steps(report):
    """(wall, CPU) seconds of every iteration but the first, which examines
    every row whatever the bounds."""
    if report["n_iter"] != len(report["steps"]):
        raise RuntimeError("the fit converged early")
    return report["steps"][1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16_000_000)
    parser.add_argument("--slice-rows", type=int, default=4_000_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--clusters", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.folder) as name:
        folder = Path(name)
        write_table(folder / "table.npy", args.rows, args.features)
        table = np.load(folder / "table.npy", mmap_mode="r")
        chosen = np.random.default_rng(1).choice(
            args.slice_rows, args.clusters, replace=False
        )
        np.save(folder / "init.npy", np.asarray(table[np.sort(chosen)], np.float64))
        del table
        table_mb = args.rows * args.features * 4 / 2**20
        rows = batch_rows(args.rows, args.features)

        # Warm the page cache, then the whole map: memory and time.
        run_fit(folder, args.rows, "blocked", 1)
        memory = run_fit(folder, args.rows, "blocked", args.iterations, True)
        print(
            f"\n### Memory: {args.rows} x {args.features} float32 memory map "
            f"({table_mb:.0f} MiB), k = {args.clusters}, "
            f"{args.iterations} iterations\n"
        )
        print("| measure | MiB |\n|---|---|")
        print(f"| table on disk | {table_mb:.0f} |")
        print(f"| budget | {_BUDGET / 2**20:.0f} |")
        block = rows * args.features * 4 / 2**20
        print(f"| of which one block ({rows} rows) | {block:.0f} |")
        state = _STATE_BYTES_PER_ROW * args.rows / 2**20
        print(f"| of which labels and bounds (12 B a row) | {state:.0f} |")
        print(f"| labels_ returned (intp) | {8 * args.rows / 2**20:.0f} |")
        print(f"| peak RSS (/usr/bin/time -v) | {memory['peak'] / 2**20:.0f} |")

        # The slice, alternated.
        steps = {"blocked, whole map": later_steps(memory)}
        steps["blocked, slice"], steps["in memory, slice"] = [], []
        last = {}
        for _ in range(args.repeats):
            for label, mode in [
                ("blocked, slice", "blocked"),
                ("in memory, slice", "in-memory"),
            ]:
                report = run_fit(folder, args.slice_rows, mode, args.iterations)
                steps[label] += later_steps(report)
                last[label] = report["out"]
        labels_equal = np.array_equal(
            np.load(str(last["blocked, slice"]) + "_labels.npy"),
            np.load(str(last["in memory, slice"]) + "_labels.npy"),
        )
        centers_gap = np.abs(
            np.load(str(last["blocked, slice"]) + "_centers.npy")
            - np.load(str(last["in memory, slice"]) + "_centers.npy")
        ).max()
        print(
            f"\n### Time per Lloyd iteration, k = {args.clusters} (iterations "
            f"2 to {args.iterations}; slice: {args.repeats} fits each, "
            "alternated; medians)\n"
        )
        print(
            "| fit | rows | wall s | CPU s | M rows per wall s |\n|---|---|---|---|---|"
        )
        medians = {}
        for label, values in steps.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            medians[label] = (wall, cpu)
            n_rows = args.rows if "whole" in label else args.slice_rows
            rate = n_rows / wall / 1e6
            print(f"| {label} | {n_rows} | {wall:.2f} | {cpu:.2f} | {rate:.2f} |")
        for i, kind in enumerate(["wall", "CPU"]):
            on_slice = medians["blocked, slice"][i] / medians["in memory, slice"][i]
            per_row = (medians["blocked, whole map"][i] / args.rows) / (
                medians["in memory, slice"][i] / args.slice_rows
            )
            print(
                f"\n{kind} time, blocked / in memory: {on_slice:.2f}x on the slice; "
                f"whole map (blocked) against the slice (in memory), per row: "
                f"{per_row:.2f}x"
            )
        print(
            f"\nslice fits: labels equal {labels_equal}, "
            f"largest center difference {centers_gap:.2g}"
        )
        print(f"all (wall, CPU) per iteration: {json.dumps(steps)}")


if __name__ == "__main__":
    main()
