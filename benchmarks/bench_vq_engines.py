"""VectorQuantizer's two engines side by side: in memory against blocks.

Without ``batch_size``, ``VectorQuantizer`` clusters an in-memory table of at
most 65,536 rows with ``KMeansL2`` (rows normalized in float64) and larger
tables with the block kernels (float32 distances, float64 sums). This times
both engines on the same tables, same initial centroids and the same number
of Lloyd iterations: the in-memory one by raising the row limit, the block
one with ``batch_size=65536``. Each fit runs in its own process, so the
memory it adds (the peak resident set during ``fit`` less the resident set
before it, in MB, from Linux's /proc/self/status) is its own. Tables:
``make_embeddings`` (low-rank structure plus noise) and isotropic Gaussian
rows, float32. Printed per shape: the faster of
``--repeats`` runs of each engine (alternated), the ratio in-memory /
blocks, the added memory and the relative difference of the final inertia.
Usage::

    python benchmarks/bench_vq_engines.py [--repeats 2] [--iterations 10]
        [--shapes 20000x64 200000x64 1000000x64 200000x256 100000x768]
"""

import argparse

from _fresh_process import run_child

CHILD = r"""
import json, sys
import numpy as np
from _fresh_process import timed_with_peak
import skclust._vq._scale as scale
from skclust import VectorQuantizer
from skclust.datasets import make_embeddings

n, d, kind, engine, k, iterations = sys.argv[1:]
n, d, k, iterations = int(n), int(d), int(k), int(iterations)
if kind == "embeddings":
    X = make_embeddings(n, d, random_state=0)
else:
    X = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
X = np.ascontiguousarray(X, dtype=np.float32)
unit = X / np.linalg.norm(X, axis=1, keepdims=True)
init = unit[np.random.default_rng(0).choice(n, k, replace=False)].astype(float)
del unit
if engine == "memory":
    scale.DEFAULT_BATCH_ROWS = 2**62  # every table in memory
vq, seconds, mb = timed_with_peak(lambda: VectorQuantizer(
    k, init=init, max_iter=iterations, tol=0.0,
    batch_size=None if engine == "memory" else 65_536,
).fit(X))
assert vq.n_iter_ == iterations, "converged before max_iter"
unit = X / np.linalg.norm(X, axis=1, keepdims=True)
inertia = float(((unit - vq.inverse_transform(vq.transform(X))) ** 2).sum())
print(json.dumps({"seconds": seconds, "mb": mb, "inertia": inertia}))
"""


def run(n, d, kind, engine, k, iterations):
    """One fit in a fresh process: seconds, added MB and inertia."""
    arguments = (n, d, kind, engine, k, iterations)
    return run_child(CHILD, arguments, f"{engine} fit of {n} x {d}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=["20000x64", "200000x64", "1000000x64", "200000x256", "100000x768"],
        help="ROWSxFEATURES",
    )
    args = parser.parse_args()
    print(
        f"k = {args.k}, {args.iterations} Lloyd iterations, same init; "
        f"best of {args.repeats} (alternated); MB: peak memory added by fit"
    )
    print(
        f"{'table':>13s} {'rows':11s} {'in memory':>15s} {'blocks':>15s} "
        f"{'ratio':>6s} {'inertia diff':>12s}"
    )
    for shape in args.shapes:
        n, d = (int(part) for part in shape.split("x"))
        for kind in ("embeddings", "gaussian"):
            fits = {"memory": [], "blocks": []}
            for _ in range(args.repeats):
                for engine, runs in fits.items():
                    runs.append(run(n, d, kind, engine, args.k, args.iterations))
            best = {e: min(r, key=lambda f: f["seconds"]) for e, r in fits.items()}
            memory, blocks = best["memory"], best["blocks"]
            diff = abs(memory["inertia"] - blocks["inertia"]) / blocks["inertia"]
            print(
                f"{shape:>13s} {kind:11s} "
                f"{memory['seconds']:6.2f}s {memory['mb']:5.0f}MB "
                f"{blocks['seconds']:6.2f}s {blocks['mb']:5.0f}MB "
                f"{memory['seconds'] / blocks['seconds']:6.2f} {diff:12.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
