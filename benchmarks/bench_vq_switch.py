"""Where VectorQuantizer's default fit should leave its in-memory engine.

Without ``batch_size``, ``VectorQuantizer`` clusters an in-memory table of at
most ``_scale.DEFAULT_BATCH_ROWS`` (65,536) rows with ``KMeansL2`` (rows
normalized in float64, k-means++ over every row) and larger ones with the
block kernels (float32 distances, float64 sums, k-means++ over a sample of
``8 * n_clusters`` rows, refined since by two k-means|| rounds over every
row, ``bench_block_seeding.py``). The two engines seed differently, so where the
switch lies changes the default's quality as well as its speed. This fits
every table of a grid with the DEFAULT parameters (k-means++, ``n_init``,
``max_iter`` and ``tol`` as shipped, no explicit init) through the in-memory
engine (by raising the switch beyond the table) and through the block engine
(``batch_size=65536``, one block for every table here); ``--engines whole``
adds the block engine seeding from every row instead of its sample.

Tables: ``make_embeddings``, isotropic Gaussian rows and ``make_blobs`` with
``k`` blobs, 2,000 to 65,536 rows, 32 to 768 features, float32 (and float64
for the embeddings), k = 16, 256, 1024 with k <= rows / 4; the fits of more
than ``HEAVY_WORK`` rows x features x k are made with the first seed only
and no blobs, those of more than ``LARGEST_WORK`` not at all.

Each fit runs in its own process, so that the memory it adds (the peak
resident set during ``fit`` less the resident set before it, from Linux's
/proc/self/status) is its own. Per fit: seconds, MB added, Lloyd iterations,
the inertia on the normalized rows (mean squared distance of each unit row to
its reconstruction) and the mean cosine similarity of rows and
reconstructions (``score``). The engines alternate, seed by seed; the table
and the fit share the seed. Printed per table, k and engine: the median
seconds and MB of the in-memory engine and of the other, the median of the
per-seed ratios of seconds (engine / in-memory), and the median and worst
per-seed relative inertia change (engine / in-memory - 1, positive is worse)
and cosine change (engine minus in-memory, negative is worse). ``--json``
also writes every fit. Usage::

    python benchmarks/bench_vq_switch.py [--seeds 0 1 2] [--json fits.json]
        [--grid full|quick] [--engines blocks whole] [--kinds blobs]
        [--max-rows 20000]

Timings depend on the machine's load (say so when quoting them); the quality
figures do not.
"""

import argparse
import itertools
import json
import statistics

from _fresh_process import run_child

CHILD = r"""
import json, sys, warnings
import numpy as np
from _fresh_process import timed_with_peak
import skclust._vq._scale as scale
from skclust import VectorQuantizer
from skclust.datasets import make_embeddings

n, d, kind, dtype, k, seed, engine = sys.argv[1:]
n, d, k, seed = int(n), int(d), int(k), int(seed)
if kind == "embeddings":
    X = make_embeddings(n, d, random_state=seed)
elif kind == "gaussian":
    X = np.random.default_rng(seed).standard_normal((n, d))
else:
    from sklearn.datasets import make_blobs
    X, _ = make_blobs(n, d, centers=k, random_state=seed)
X = np.ascontiguousarray(X, dtype=dtype)
if engine == "whole":
    # The block engine seeding from every row, as the in-memory one does.
    import skclust._kmeans._engine as seeding

    seeding.INIT_ROWS_PER_CLUSTER = 2**40
if engine == "memory":
    # Every table in memory: the switch is DEFAULT_BATCH_ROWS.
    scale.DEFAULT_BATCH_ROWS = 2**62
import skclust._vq._estimator as estimator
in_memory = estimator._fit_codebooks_in_memory
ran = []


def counted(*args, **kwargs):
    ran.append("memory")
    return in_memory(*args, **kwargs)


estimator._fit_codebooks_in_memory = counted


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    vq, seconds, mb = timed_with_peak(lambda: VectorQuantizer(
        k, random_state=seed, batch_size=None if engine == "memory" else 65_536
    ).fit(X))
assert (ran == ["memory"]) == (engine == "memory"), "the other engine ran"
unit = X.astype(np.float64)
unit /= np.linalg.norm(unit, axis=1, keepdims=True)
rebuilt = vq.inverse_transform(vq.transform(X)).astype(np.float64)
inertia = float(((unit - rebuilt) ** 2).sum(axis=1).mean())
print(json.dumps({
    "seconds": seconds,
    "mb": mb,
    "n_iter": vq.n_iter_,
    "inertia": inertia,
    "cosine": float(vq.score(X)),
}))
"""

ENGINES = ("memory", "blocks", "whole")


# Tables of more rows x features x k than this get the first seed only, and
# no blobs (their fits take minutes); 65,536 x 768 with k = 1024 (4 minutes a
# pair of fits) is left out.
HEAVY_WORK = 6e9
LARGEST_WORK = 2e10


def grids(name, seeds):
    """The fits of a grid, cheapest first: (rows, features, kind, dtype, k,
    seeds). float64 only for the embeddings (the in-memory engine normalizes
    in float64 whatever it is given)."""
    if name == "quick":
        rows, features, ks = (2_000, 20_000), (32, 256), (16, 256)
    else:
        rows, features, ks = (
            (2_000, 8_192, 20_000, 65_536),
            (32, 128, 768),
            (16, 256, 1024),
        )
    kinds, dtypes = ("embeddings", "gaussian", "blobs"), ("float32", "float64")
    fits = []
    for n, d, k, kind, dtype in itertools.product(rows, features, ks, kinds, dtypes):
        work = n * d * k
        if k > n // 4 or work > LARGEST_WORK:
            continue
        if dtype == "float64" and kind != "embeddings":
            continue
        if work > HEAVY_WORK:
            if kind == "blobs" or dtype == "float64":
                continue
            fits.append((n, d, kind, dtype, k, seeds[:1]))
        else:
            fits.append((n, d, kind, dtype, k, seeds))
    return sorted(fits, key=lambda fit: (fit[0] * fit[1] * fit[4], fit[2], fit[3]))


def run(n, d, kind, dtype, k, seed, engine):
    """One default fit in a fresh process."""
    arguments = (n, d, kind, dtype, k, seed, engine)
    return run_child(CHILD, arguments, f"{engine} fit of {arguments}")


def summary(memory, other):
    """Medians and worst per-seed changes of one table and k: an engine's
    fits against the in-memory ones, seed by seed."""
    pairs = list(zip(memory, other, strict=True))
    inertia = [b["inertia"] / m["inertia"] - 1 for m, b in pairs]
    cosine = [b["cosine"] - m["cosine"] for m, b in pairs]
    return {
        "memory_s": statistics.median(f["seconds"] for f in memory),
        "other_s": statistics.median(f["seconds"] for f in other),
        "ratio": statistics.median(b["seconds"] / m["seconds"] for m, b in pairs),
        "memory_mb": statistics.median(f["mb"] for f in memory),
        "other_mb": statistics.median(f["mb"] for f in other),
        "memory_iter": statistics.median(f["n_iter"] for f in memory),
        "other_iter": statistics.median(f["n_iter"] for f in other),
        "inertia": statistics.median(inertia),
        "inertia_worst": max(inertia),
        "cosine": statistics.median(cosine),
        "cosine_worst": min(cosine),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--grid", choices=("full", "quick"), default="full")
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=ENGINES[1:],
        default=["blocks"],
        help="compared with the in-memory engine; whole: blocks seeding from every row",
    )
    parser.add_argument(
        "--kinds", nargs="+", default=["embeddings", "gaussian", "blobs"]
    )
    parser.add_argument("--max-rows", type=int, default=65_536)
    parser.add_argument("--json", help="write every fit to this file")
    args = parser.parse_args()
    engines = ["memory", *args.engines]
    print(
        f"default fits, seeds {args.seeds}; medians; ratio: engine / in-memory "
        "seconds; d inertia: engine / in-memory - 1 (median, worst); d cos: "
        "engine - in-memory (median, worst)"
    )
    print(
        f"{'rows':>6s} {'d':>4s} {'kind':10s} {'dtype':7s} {'k':>5s} "
        f"{'engine':6s} {'mem s':>7s} {'eng s':>7s} {'ratio':>5s} "
        f"{'mem MB':>6s} {'eng MB':>6s} {'iter':>9s} {'d inertia':>15s} "
        f"{'d cos':>15s}"
    )
    records = []
    for n, d, kind, dtype, k, seeds in grids(args.grid, args.seeds):
        if kind not in args.kinds or n > args.max_rows:
            continue
        fits = {engine: [] for engine in engines}
        for i, seed in enumerate(seeds):
            # Alternated, and which engine goes first alternates too.
            for engine in engines if i % 2 == 0 else engines[::-1]:
                fits[engine].append(run(n, d, kind, dtype, k, seed, engine))
        record = {"rows": n, "features": d, "kind": kind, "dtype": dtype, "k": k}
        records.append(record | {"fits": fits})
        for engine in args.engines:
            s = summary(fits["memory"], fits[engine])
            record[engine] = s
            print(
                f"{n:6d} {d:4d} {kind:10s} {dtype:7s} {k:5d} {engine:6s} "
                f"{s['memory_s']:7.2f} {s['other_s']:7.2f} {s['ratio']:5.2f} "
                f"{s['memory_mb']:6.0f} {s['other_mb']:6.0f} "
                f"{s['memory_iter']:4.0f}/{s['other_iter']:<4.0f} "
                f"{s['inertia']:+7.3f} {s['inertia_worst']:+7.3f} "
                f"{s['cosine']:+7.4f} {s['cosine_worst']:+7.4f}",
                flush=True,
            )
        if args.json:
            with open(args.json, "w") as out:
                json.dump(records, out)


if __name__ == "__main__":
    main()
