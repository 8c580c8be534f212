"""``skclust image``: colour quantization of photographs, with figures and tables.

For each image, metric and k it writes the reconstruction as PNG, one table row
(iterations, seconds, inertia, MSE, PSNR, compressed size), an elbow plot per
image and metric with the chosen k marked, and a grid of the reconstructions.
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image

from ..datasets import study_data_dir
from ..image import ImageQuantizer, load_image, plot_reconstructions
from ..metrics import image_mse, palette_image_size, psnr
from ..model_selection import ElbowResult, knee_index
from ._common import add_run_arguments, positive_int
from ._output import (
    atomic_path,
    check_not_input,
    prepare_output_dir,
    save_figure,
    write_table,
)
from ._report import Section

STUDY_K = [3, 6, 12, 24, 48]
METRICS = ["l2", "l1"]
COLUMNS = [
    "image",
    "metric",
    "k",
    "iterations",
    "seconds",
    "inertia",
    "mse",
    "psnr_db",
    "compressed_bytes",
    "raw_bytes",
    "ratio",
]
_BUNDLED = ["china.jpg", "flower.jpg"]


def add_parser(commands):
    parser = commands.add_parser(
        "image",
        help="compress images by clustering their colours (k-means, L2 and L1)",
        description="Cluster the colours of each image with KMeansL2 (means) "
        "and KMeansL1 (medians) for every k; write the reconstructions, a "
        "results table (CSV and Markdown), elbow plots and comparison grids. "
        "Without PATH it uses football.bmp and parrots.png from --data or "
        "SKCLUST_DATA plus scikit-learn's bundled china.jpg, or, with no data "
        "folder, scikit-learn's bundled photographs.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="image files")
    parser.add_argument(
        "-k",
        nargs="+",
        type=positive_int,
        default=STUDY_K,
        metavar="K",
        help="numbers of colours (default: 3 6 12 24 48)",
    )
    parser.add_argument(
        "--metric",
        nargs="+",
        choices=METRICS,
        default=METRICS,
        help="k-means metrics (default: l2 l1)",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        default=1,
        help="random starts per fit; the best is kept (default 1)",
    )
    parser.add_argument("--n-jobs", type=int, default=None, help="parallel starts")
    add_run_arguments(
        parser,
        out="skclust-image",
        data_help="folder with football.bmp and parrots.png",
    )
    parser.set_defaults(run=run)


@dataclass
class _Source:
    name: str
    path: Path | None = None
    array: np.ndarray | None = None

    def load(self):
        return load_image(self.path if self.path is not None else self.array)


def default_sources(data):
    """The study's images with a data folder, else scikit-learn's bundled ones."""
    directory = study_data_dir(data)
    bundled = [_Source(name, array=load_sample_image(name)) for name in _BUNDLED]
    if directory is None:
        return bundled
    study = [_Source(n, path=directory / n) for n in ("football.bmp", "parrots.png")]
    return study + bundled[:1]


@dataclass
class StudyResult:
    """Everything one run produced, for the table, the report and the exit code."""

    rows: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def _safe_stem(name):
    """A folder and file name from an image's file name that stays in ``--out``.

    Characters other than letters, digits, ``-``, ``_`` and ``.`` (spaces,
    control characters, ...) become ``_`` and leading dots are dropped, so
    ``...png`` cannot give ``..`` nor a hidden name.
    """
    stem = re.sub(r"[^\w.-]", "_", Path(name).stem).lstrip(".")
    return stem or "image"


def _stems(sources):
    """Distinct, safe folder names for the sources.

    A stem that repeats gets the first free ``-2``, ``-3``, ... suffix, free
    meaning not taken by any other source's own stem either, so ``a/x.png``,
    ``b/x.png`` and ``x-2.png`` give ``x``, ``x-3`` and ``x-2``.
    """
    wanted = [_safe_stem(source.name) for source in sources]
    taken, stems = set(wanted), []
    for i, stem in enumerate(wanted):
        if stem in wanted[:i]:
            n = 2
            while f"{stem}-{n}" in taken:
                n += 1
            stem = f"{stem}-{n}"
            taken.add(stem)
        stems.append(stem)
    return stems


def _save_png(image, path):
    with atomic_path(path) as temporary:
        Image.fromarray(image).save(temporary, format="PNG")


def _elbow_figure(rows, title):
    ks = np.array([row["k"] for row in rows])
    inertia = np.array([row["inertia"] for row in rows])
    best = int(ks[knee_index(ks, inertia)]) if len(ks) >= 3 else int(ks[-1])
    result = ElbowResult(
        n_clusters=ks,
        inertia=inertia,
        n_iter=np.array([row["iterations"] for row in rows]),
        fit_time=np.array([row["seconds"] for row in rows]),
        best_n_clusters=best,
        estimators=[],
    )
    return result.plot(title=title).figure


def quantize_images(
    sources, ks, metrics, out, *, n_init=1, seed=0, n_jobs=None, log=print, inputs=()
):
    """Run every (image, metric, k), writing files into ``out``.

    Errors of one image or one k are recorded and the rest of the run goes on.
    """
    result = StudyResult()
    for source, stem in zip(sources, _stems(sources), strict=True):
        try:
            image = source.load()
        except ValueError as error:
            result.errors.append(str(error))
            log(f"error: {error}")
            continue
        folder = out / stem
        folder.mkdir(exist_ok=True)

        def target(name, folder=folder):
            path = folder / name
            check_not_input(path, inputs)
            return path

        for metric in metrics:
            rows, reconstructions = [], {}
            for k in sorted(ks):
                try:
                    png = target(f"{stem}_{metric}_k{k}.png")
                    quantizer = ImageQuantizer(
                        k,
                        metric=metric,
                        n_init=n_init,
                        random_state=seed,
                        n_jobs=n_jobs,
                    )
                    compressed = quantizer.fit_transform(image)
                except ValueError as error:
                    message = f"{source.name}: {metric} k={k}: {error}"
                    result.errors.append(message)
                    log(f"error: {message}")
                    continue
                _save_png(compressed, png)
                size = palette_image_size(image.shape[0] * image.shape[1], k)
                row = {
                    "image": source.name,
                    "metric": metric,
                    "k": k,
                    "iterations": quantizer.n_iter_,
                    "seconds": round(quantizer.fit_time_, 4),
                    "inertia": quantizer.inertia_,
                    "mse": image_mse(image, compressed),
                    "psnr_db": psnr(image, compressed),
                    "compressed_bytes": size["compressed_bytes"],
                    "raw_bytes": size["raw_bytes"],
                    "ratio": round(size["ratio"], 3),
                }
                rows.append(row)
                reconstructions[f"k = {k}, PSNR {row['psnr_db']:.1f} dB"] = compressed
                log(
                    f"{source.name} {metric} k={k}: {row['iterations']} iterations, "
                    f"{row['seconds']:.2f} s, PSNR {row['psnr_db']:.2f} dB"
                )
            if not rows:
                continue
            result.rows.extend(rows)
            label = "L2 k-means" if metric == "l2" else "L1 k-medians"
            title = f"{source.name}: {label}"
            try:
                elbow_path = target(f"{stem}_{metric}_elbow.png")
                grid_path = target(f"{stem}_{metric}_grid.png")
            except ValueError as error:
                result.errors.append(str(error))
                log(f"error: {error}")
                continue
            save_figure(_elbow_figure(rows, title), elbow_path)
            grid = plot_reconstructions(image, reconstructions, title)
            save_figure(grid, grid_path, dpi=60)
            result.figures.append((grid_path, f"{title}, reconstructions"))
            result.figures.append((elbow_path, f"{title}, elbow plot"))
    if result.rows:
        table = out / "image_results"
        for suffix in (".csv", ".md"):
            check_not_input(table.with_suffix(suffix), inputs)
        write_table(result.rows, COLUMNS, table)
    return result


def run(args):
    inputs = [Path(p) for p in args.paths]
    if inputs:
        sources = [_Source(p.name, path=p) for p in inputs]
    else:
        sources = default_sources(args.data)
    # The study's files read from --data are inputs too.
    inputs += [s.path for s in sources if s.path is not None and s.path not in inputs]
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)

    def log_error_to_stderr(message):
        stream = sys.stderr if message.startswith("error: ") else sys.stdout
        prefix = "skclust image: " if stream is sys.stderr else ""
        print(prefix + message, file=stream, flush=True)

    result = quantize_images(
        sources,
        args.k,
        args.metric,
        out,
        n_init=args.n_init,
        seed=args.seed,
        n_jobs=args.n_jobs,
        log=log_error_to_stderr,
        inputs=inputs,
    )
    if result.rows:
        print(f"wrote {len(result.rows)} reconstructions and tables into {args.out}")
    return 2 if result.errors else 0


def report_section(out_dir, data, seed, log):
    """Image compression for ``skclust report``: the study's images, both metrics."""
    folder = out_dir / "image"
    folder.mkdir(exist_ok=True)
    result = quantize_images(
        default_sources(data), STUDY_K, METRICS, folder, seed=seed, log=log
    )
    section = Section("Image compression by colour clustering")
    section.paragraph(
        "Each image's pixels are clustered with KMeansL2 (squared Euclidean "
        "distance, mean colours) and KMeansL1 (Manhattan distance, median "
        "colours), one k-means++ start each; the compressed image stores the "
        "palette and one index per pixel."
    )
    for error in result.errors:
        section.paragraph(f"Error: {error}")
    if result.rows:
        section.table(result.rows, COLUMNS, "Fits: iterations, time and quality")
    for path, caption in result.figures:
        section.figure(path, caption)
    return section
