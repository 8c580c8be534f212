"""Peak memory of colour quantization against the number of pixels.

Writes photograph-like test images of 10, 40 and 80 megapixels (scikit-learn's
bundled ``china.jpg`` enlarged, plus noise so that they hold hundreds of
thousands of distinct colours) as BMP files in a temporary folder, then for
each size runs, in a fresh process each,

- ``cli``: ``skclust image FILE -k 16 --metric l2`` (read, fit, reconstruct,
  PSNR, write the PNG and the tables), and
- ``estimator``: ``ImageQuantizer(16).fit_transform(FILE)``,

and prints the child's peak resident memory (``wait4``'s ``ru_maxrss``) and
that peak in bytes per pixel. With ``--code DIR`` the children import skclust
from the source folder DIR (e.g. an older checkout, to compare), otherwise
the installed one. Usage::

    python benchmarks/bench_image_memory.py [--sizes 10 40 80] [--code DIR]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image

ESTIMATOR = (
    "import sys\n"
    "from skclust.image import ImageQuantizer\n"
    "ImageQuantizer(16, random_state=0).fit_transform(sys.argv[1])\n"
)


def photograph(megapixels, seed=0):
    """A photograph enlarged to about ``megapixels`` million pixels, with noise."""
    sample = Image.fromarray(load_sample_image("china.jpg"))
    scale = np.sqrt(megapixels * 1e6 / (sample.width * sample.height))
    size = (round(sample.width * scale), round(sample.height * scale))
    image = np.asarray(sample.resize(size, Image.Resampling.BILINEAR)).copy()
    rng = np.random.default_rng(seed)
    # Noise row by row keeps this generator's own memory small.
    for row in image:
        noise = rng.integers(-6, 7, size=row.shape, dtype=np.int16)
        row[...] = np.clip(row + noise, 0, 255)
    return image


def peak_rss(command, env, cwd):
    """Exit code, seconds and peak resident bytes of ``command`` run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    error = process.stderr.read().decode().strip().splitlines()
    process.stderr.close()
    if process.returncode != 0:
        print(f"  exit {process.returncode}: {error[-1] if error else ''}")
    return process.returncode, seconds, usage.ru_maxrss * 1024  # KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 40, 80])
    parser.add_argument("--code", type=Path, help="import skclust from this folder")
    parser.add_argument(
        "--paths", nargs="+", default=["cli", "estimator"], choices=["cli", "estimator"]
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if args.code is not None:
        env["PYTHONPATH"] = str(args.code.resolve())
    print(f"skclust from {args.code or 'the installed package'}")
    print(f"{'Mpx':>6} {'path':>10} {'exit':>5} {'s':>7} {'peak MB':>9} {'B/px':>6}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for megapixels in args.sizes:
            image = photograph(megapixels)
            n_pixels = image.shape[0] * image.shape[1]
            path = folder / f"photo_{megapixels:g}.bmp"
            Image.fromarray(image).save(path)
            del image
            commands = {
                "cli": [sys.executable, "-m", "skclust", "image", str(path), "-k",
                        "16", "--metric", "l2", "--quiet", "--max-pixels",
                        str(n_pixels), "--out", str(folder / "out"), "--force"],
                "estimator": [sys.executable, "-c", ESTIMATOR, str(path)],
            }  # fmt: skip
            for name in args.paths:
                code, seconds, peak = peak_rss(commands[name], env, folder)
                print(
                    f"{n_pixels / 1e6:6.1f} {name:>10} {code:5d} {seconds:7.1f} "
                    f"{peak / 1e6:9.0f} {peak / n_pixels:6.1f}",
                    flush=True,
                )
            path.unlink()


if __name__ == "__main__":
    main()
