"""
Embedding compression: memory against quality
=============================================

An embedding table is compressed by vector quantization: a codebook of k
centroids plus one small code per row. This example draws the two figures of
the documentation:

1. for k = 64, 128, 256, 512, the compression ratio and the mean cosine
   similarity between each row and its reconstruction, on two y axes
   (AImodel.npy when ``SKCLUST_DATA`` names the study's data folder, else a
   generated table of the same shape);
2. one codebook against product quantization on a larger generated table:
   quality against memory.

Run it as a script; figures go to the folder given as first argument
(default: the current folder). The documentation's gallery runs it when the
documentation is built, on AImodel.npy when ``SKCLUST_DATA`` is set.
"""

# %%
import sys
from pathlib import Path

from matplotlib.figure import Figure

from skclust import VectorQuantizer
from skclust.datasets import load_embeddings, make_embeddings, study_file

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")

# %%
# The table: the study's AImodel.npy (1000 x 32 float32) if available.
path = study_file("AImodel.npy")
if path is not None:
    X, name = load_embeddings(path), "AImodel.npy"
else:
    X, name = make_embeddings(1000, 32, random_state=0), "generated 1000 x 32 table"

# %%
# One quantizer per k, ten k-means++ starts each; rows are scaled to unit
# length first (``normalize=True``), so the centroids capture directions.
ks = [64, 128, 256, 512]
ratios, cosines = [], []
for k in ks:
    vq = VectorQuantizer(k, n_init=10, random_state=0).fit(X)
    usage = vq.memory_usage()
    ratios.append(usage.ratio)
    cosines.append(vq.score(X))
    print(
        f"k={k:3d}: {usage.original_mb:.4f} MB -> {usage.compressed_mb:.4f} MB "
        f"(codes {usage.code_dtype}), ratio {usage.ratio:.3f}, "
        f"cosine {cosines[-1]:.4f}"
    )

# %%
figure = Figure(figsize=(6.4, 4.0), layout="constrained")
left = figure.add_subplot()
left.plot(ks, ratios, "o-", color="tab:blue")
left.set_xscale("log", base=2)
left.set_xticks(ks, [str(k) for k in ks])
left.set_xlabel("codebook size k")
left.set_ylabel("compression ratio", color="tab:blue")
right = left.twinx()
right.plot(ks, cosines, "s--", color="tab:red")
right.set_ylabel("mean cosine similarity", color="tab:red")
left.set_title(f"{name}: memory against quality")
figure.savefig(out / "vq_tradeoff.png", dpi=100)

# %%
# Product quantization. On a larger table, one codebook of k centroids is
# compared with M codebooks of 256 centroids over M equal parts of each row.
# M codebooks of 256 x (64 / M) values take the memory of one of 256 x 64,
# and the codes M bytes per row; one codebook above 256 centroids needs
# uint16 codes and a codebook that grows with k.
X = make_embeddings(20_000, 32, random_state=1)
single, product = [], []
for k, m, results in [
    (256, 1, single),
    (1024, 1, single),
    (256, 2, product),
    (256, 4, product),
    (256, 8, product),
]:
    vq = VectorQuantizer(
        k, n_subvectors=m, random_state=0, max_iter=25, batch_size=65_536
    ).fit(X)
    usage = vq.memory_usage()
    results.append((usage.compressed_bytes / 1e6, vq.score(X), k, m))
    print(f"k={k:4d} M={m}: {usage.compressed_mb:.4f} MB, cosine {results[-1][1]:.4f}")

# %%
figure = Figure(figsize=(6.4, 4.0), layout="constrained")
axes = figure.add_subplot()
for results, label, style in [
    (single, "one codebook, k = 256, 1024", "o-"),
    (product, "M = 2, 4, 8 codebooks of 256", "s-"),
]:
    sizes, scores, k, m = zip(*results, strict=True)
    axes.plot(sizes, scores, style, label=label)
    for size, score, kk, mm in results:
        tag = f"k={kk}" if mm == 1 else f"M={mm}"
        axes.annotate(tag, (size, score), textcoords="offset points", xytext=(4, -10))
axes.set_xlabel("compressed size (MB)")
axes.set_ylabel("mean cosine similarity")
axes.set_title("20,000 x 32 generated table: product quantization")
axes.legend(loc="lower right")
figure.savefig(out / "vq_product_quantization.png", dpi=100)
