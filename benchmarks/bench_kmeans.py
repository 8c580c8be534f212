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
"""

import argparse
import statistics
import time

import numpy as np
from PIL import Image
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

from skclust import KMeansL1, KMeansL2
from skclust.datasets import study_data_dir


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with football.bmp and parrots.png")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-k", type=int, nargs="+", default=[12, 48])
    args = parser.parse_args(argv)

    rows = []
    for name, image in study_images(args.data).items():
        X = image.reshape(-1, 3).astype(np.float64)
        for k in args.k:
            init = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
            same = dict(init=init, n_init=1, tol=0.0)
            makers = {
                "sklearn KMeans lloyd": lambda k=k, same=same: KMeans(
                    k, algorithm="lloyd", **same
                ),
                "KMeansL2": lambda k=k, same=same: KMeansL2(k, **same),
                "KMeansL1": lambda k=k, same=same: KMeansL1(k, **same),
            }
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
                    f"{name:13s} k={k:<3d} {label:21s} {median:8.3f} s "
                    f"{iterations[label]:4d} it  ratio {median / peer:5.2f}  "
                    f"per-iteration {(median / iterations[label]) / peer_iter:5.2f}",
                    flush=True,
                )
    print()
    print("| image | k | estimator | median s | iterations | ratio | per-iter ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, k, label, median, n_iter, ratio, per_iter in rows:
        print(
            f"| {name} | {k} | {label} | {median:.3f} | {n_iter} | {ratio:.2f} | "
            f"{per_iter:.2f} |"
        )


if __name__ == "__main__":
    main()
