"""
Image compression by colour clustering
======================================

Cluster the colours of a photograph with L2 k-means (mean colours) and L1
k-medians (median colours) for several k, compare the reconstructions, and
choose k from the elbow of the inertia curve. Uses football.bmp when the
study's data folder is given by ``SKCLUST_DATA``, else scikit-learn's bundled
china.jpg. Figures go to the folder given as first argument (default: the
current folder).
"""

# %%
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_sample_image

from skclust.datasets import study_file
from skclust.image import ImageQuantizer, load_image, plot_reconstructions
from skclust.metrics import palette_image_size, psnr
from skclust.model_selection import ElbowResult, knee_index

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
path = study_file("football.bmp")
image = load_image(path) if path else load_sample_image("china.jpg")
name = path.name if path else "china.jpg"
n_pixels = image.shape[0] * image.shape[1]
print(f"{name}: {image.shape}, {len(np.unique(image.reshape(-1, 3), axis=0))} colours")

# %%
# Fit every k with both metrics; keep the reconstructions and the inertia.
ks = [3, 6, 12, 24, 48]
for metric in ("l2", "l1"):
    reconstructions, inertia, iterations, seconds = {}, [], [], []
    for k in ks:
        quantizer = ImageQuantizer(k, metric=metric, random_state=0)
        compressed = quantizer.fit_transform(image)
        size = palette_image_size(n_pixels, k)
        reconstructions[f"k = {k}, PSNR {psnr(image, compressed):.1f} dB"] = compressed
        inertia.append(quantizer.inertia_)
        iterations.append(quantizer.n_iter_)
        seconds.append(quantizer.fit_time_)
        print(
            f"{metric} k={k:2d}: {quantizer.n_iter_:3d} iterations, "
            f"{quantizer.fit_time_:.2f} s, PSNR {psnr(image, compressed):.2f} dB, "
            f"{size['ratio']:.1f}x smaller"
        )
    # %%
    # The grid of reconstructions and the elbow with its knee.
    label = "L2 k-means" if metric == "l2" else "L1 k-medians"
    grid = plot_reconstructions(image, reconstructions, f"{name}: {label}")
    grid.savefig(out / f"image_{metric}_grid.png", dpi=45)
    elbow = ElbowResult(
        np.array(ks),
        np.array(inertia),
        np.array(iterations),
        np.array(seconds),
        ks[knee_index(ks, inertia)],
        [],
    )
    elbow.plot(title=f"{name}: {label}").figure.savefig(
        out / f"image_{metric}_elbow.png", dpi=80
    )
    print(f"{label}: the elbow suggests k = {elbow.best_n_clusters}")
