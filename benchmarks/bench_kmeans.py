"""KMeansL2 and KMeansL1 against scikit-learn's Lloyd k-means, side by side.

For each image and k, every estimator starts from the same explicit init
(k distinct pixels drawn with a fixed seed), runs to convergence (tol=0,
n_init=1), and is timed REPEATS times in alternation within this run. The table
gives median wall times, iterations, the wall-time ratio to scikit-learn's
``KMeans(algorithm="lloyd")`` and the per-iteration ratio (meaningful when
exact ties on 8-bit pixels send two correct runs down paths of different
length).

    python benchmarks/bench_kmeans.py --data ../shared/data [--repeats 5]

Without --data (or SKCLUST_DATA) it runs on scikit-learn's bundled photographs.

With ``--features N`` it times KMeansL2 on continuous tables instead: ROWS x N
standard normal values and ``make_embeddings`` rows (float64, and float32 as
generated, which scikit-learn clusters in float32), a fixed number of
iterations (``--max-iter``, default 10, tol=0) from the same explicit init
(k rows drawn with a fixed seed), k = 256 unless ``-k`` is given:

    python benchmarks/bench_kmeans.py --features 64 [--rows 200000] [-k 256]

With ``--hamerly``, KMeansL2 is also timed with Elkan's per-center bounds
switched off (the path before them), in the same alternation.
"""

import argparse
import statistics
import time

import numpy as np
from bench_small_fits import HamerlyOnly
from PIL import Image
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

from skclust import KMeansL1, KMeansL2
from skclust.datasets import make_embeddings, study_data_dir


def study_images(data):
    """football.bmp and parrots.png from the data folder, else bundled photos."""
    directory = study_data_dir(data)
    if directory is None:
        return {name: load_sample_image(name) for name in ("china.jpg", "flower.jpg")}
    return {
        name: np.asarray(Image.open(directory / name).convert("RGB"))
        for name in ("football.bmp", "parrots.png")
    }


def _time(make, X):
    start = time.perf_counter()
    model = make().fit(X)
    return time.perf_counter() - start, model


def image_cases(args):
    """(data name, X, k, makers) for each study image and k, to convergence."""
    for name, image in study_images(args.data).items():
        X = image.reshape(-1, 3).astype(np.float64)
        for k in args.k or [12, 48]:
            init = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
            same = dict(init=init, n_init=1, tol=0.0)
            makers = {
                "sklearn KMeans lloyd": lambda k=k, same=same: KMeans(
                    k, algorithm="lloyd", **same
                ),
                "KMeansL2": lambda k=k, same=same: KMeansL2(k, **same),
                "KMeansL1": lambda k=k, same=same: KMeansL1(k, **same),
            }
            yield name, X, k, makers


def table_cases(args):
    """(data name, X, k, makers) for continuous tables, ``max_iter`` iterations."""
    shape = (args.rows, args.features)
    size = f"{shape[0]}x{shape[1]}"
    embeddings = make_embeddings(*shape, random_state=0)
    # make_embeddings gives float32, on which scikit-learn computes in float32
    # while KMeansL2 always computes in float64: the float64 copy compares
    # like with like, the float32 table shows what a user of it would see.
    tables = {
        f"normal f64 {size}": np.random.default_rng(0).standard_normal(shape),
        f"embeddings f64 {size}": embeddings.astype(np.float64),
        f"embeddings f32 {size}": embeddings,
    }
    for name, X in tables.items():
        for k in args.k or [256]:
            init = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
            same = dict(init=init, n_init=1, tol=0.0, max_iter=args.max_iter)
            makers = {
                "sklearn KMeans lloyd": lambda k=k, same=same: KMeans(
                    k, algorithm="lloyd", **same
                ),
                "KMeansL2": lambda k=k, same=same: KMeansL2(k, **same),
            }
            yield name, X, k, makers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with football.bmp and parrots.png")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-k", type=int, nargs="+")
    parser.add_argument(
        "--features", type=int, help="time continuous tables of this many features"
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument(
        "--hamerly", action="store_true", help="also time without Elkan's bounds"
    )
    args = parser.parse_args(argv)

    cases = image_cases(args) if args.features is None else table_cases(args)
    rows = []
    for name, X, k, makers in cases:
        if args.hamerly:
            makers["KMeansL2 Hamerly only"] = lambda make=makers["KMeansL2"]: (
                HamerlyOnly(make)
            )
        times = {label: [] for label in makers}
        iterations = {}
        for _ in range(args.repeats):
            for label, make in makers.items():
                seconds, model = _time(make, X)
                times[label].append(seconds)
                iterations[label] = model.n_iter_
        peer = statistics.median(times["sklearn KMeans lloyd"])
        peer_iter = peer / iterations["sklearn KMeans lloyd"]
        for label in makers:
            median = statistics.median(times[label])
            rows.append(
                (
                    name,
                    k,
                    label,
                    median,
                    iterations[label],
                    median / peer,
                    (median / iterations[label]) / peer_iter,
                )
            )
            print(
                f"{name:26s} k={k:<3d} {label:21s} {median:8.3f} s "
                f"{iterations[label]:4d} it  ratio {median / peer:5.2f}  "
                f"per-iteration {(median / iterations[label]) / peer_iter:5.2f}",
                flush=True,
            )
    print()
    print("| data | k | estimator | median s | iterations | ratio | per-iter ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, k, label, median, n_iter, ratio, per_iter in rows:
        print(
            f"| {name} | {k} | {label} | {median:.3f} | {n_iter} | {ratio:.2f} | "
            f"{per_iter:.2f} |"
        )


if __name__ == "__main__":
    main()
