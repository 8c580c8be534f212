"""Exact grey-level palettes against Lloyd's algorithm and scikit-learn's KMeans.

A grayscale image has at most 256 grey levels, and k-means on one channel can
be solved exactly (``ImageQuantizer``'s default for grey images: dynamic
programming over runs of consecutive levels). This prints, per image, metric
and k, how far Lloyd's algorithm from k-means++ stays above the optimum
(``ImageQuantizer(algorithm="lloyd")``, one start for each of ``--seeds``
random states, median and worst, and ten starts) and, for L2, scikit-learn's
``KMeans`` on the image's distinct grey levels weighted by their pixel counts
(its default ``n_init``, and ten starts); then the fit times, alternated,
medians of ``--repeats``. Images: the grey versions (Pillow's ``convert("L")``)
of scikit-learn's two sample photographs and, with ``--data DIR`` or
``SKCLUST_DATA``, of football.bmp and parrots.png. Usage::

    python benchmarks/bench_grey.py [--data DIR] [-k 3 6 12 24 48] [--seeds 5]
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

from skclust.image import ImageQuantizer


def grey_images(data):
    """(name, (h, w) uint8) of the grey images."""
    for name in ("china.jpg", "flower.jpg"):
        yield name, np.asarray(Image.fromarray(load_sample_image(name)).convert("L"))
    if data is not None:
        for name in ("football.bmp", "parrots.png"):
            if (Path(data) / name).is_file():
                with Image.open(Path(data) / name) as opened:
                    yield name, np.asarray(opened.convert("L"))


def _seconds(fit):
    start = time.perf_counter()
    result = fit()
    return time.perf_counter() - start, result


def _sklearn(grey, k, n_init):
    levels, counts = np.unique(grey, return_counts=True)
    km = KMeans(k, n_init=n_init, random_state=0)
    return km.fit(levels.reshape(-1, 1).astype(float), sample_weight=counts)


def bench(name, grey, metric, k, seeds, repeats):
    exact = ImageQuantizer(k, metric=metric).fit(grey)
    optimum = exact.inertia_
    one = [
        ImageQuantizer(k, metric=metric, algorithm="lloyd", n_init=1, random_state=s)
        .fit(grey)
        .inertia_
        for s in range(seeds)
    ]
    ten = ImageQuantizer(
        k, metric=metric, algorithm="lloyd", n_init=10, random_state=0
    ).fit(grey)
    row = {
        "excess one start (median, worst)": ", ".join(
            f"{value / optimum - 1:+.2%}"
            for value in (statistics.median(one), max(one))
        ),
        "ten starts": f"{ten.inertia_ / optimum - 1:+.2%}",
    }
    fits = {
        "exact": lambda: ImageQuantizer(k, metric=metric).fit(grey),
        "lloyd x1": lambda: ImageQuantizer(
            k, metric=metric, algorithm="lloyd", n_init=1, random_state=0
        ).fit(grey),
    }
    if metric == "l2":
        sk_default = _sklearn(grey, k, "auto").inertia_
        sk_ten = _sklearn(grey, k, 10).inertia_
        row["scikit-learn default, ten"] = (
            f"{sk_default / optimum - 1:+.2%}, {sk_ten / optimum - 1:+.2%}"
        )
        fits["scikit-learn default"] = lambda: _sklearn(grey, k, "auto")
    times = {label: [] for label in fits}
    for _ in range(repeats):
        for label, fit in fits.items():
            times[label].append(_seconds(fit)[0])
    timing = ", ".join(
        f"{label} {statistics.median(t) * 1e3:.1f}" for label, t in times.items()
    )
    print(
        f"{name:14s} {metric} k={k:<3d} "
        + "; ".join(f"{key} {value}" for key, value in row.items())
        + f"; ms: {timing}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("SKCLUST_DATA"))
    parser.add_argument("-k", type=int, nargs="+", default=[3, 6, 12, 24, 48])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(
        "inertia above the exact optimum (+x%) and fit times in ms (medians of "
        f"{args.repeats}, alternated)"
    )
    for name, grey in grey_images(args.data):
        for metric in ("l2", "l1"):
            for k in args.k:
                bench(name, grey, metric, k, args.seeds, args.repeats)


if __name__ == "__main__":
    main()
