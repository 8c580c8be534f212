"""``skclust image``: colour quantization of photographs, with figures and tables.

For each image, metric and k it writes the reconstruction as PNG, one table row
(iterations, seconds, inertia, MSE, PSNR, compressed size), an elbow plot per
image and metric with the chosen k marked, and a grid of the reconstructions.
A grayscale image is quantized on its grey levels and written back as grey.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._plural import counted
from ._common import (
    add_run_arguments,
    add_study_arguments,
    job_count,
    positive_int,
)
from ._output import (
    MANIFEST,
    check_not_input,
    prepare_output_dir,
    save_figure,
    write_table,
)
from ._report import Column, Comparison, Section

if TYPE_CHECKING:
    import numpy as np

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
# Pillow's PIL.Image.MAX_IMAGE_PIXELS, written out for --help, which should
# not load Pillow (tests/test_lazy_imports.py keeps them equal).
PILLOW_PIXEL_LIMIT = 89_478_485


def add_parser(commands):
    parser = commands.add_parser(
        "image",
        help="compress images by clustering their colours (k-means, L2 and L1)",
        description="Cluster the colours of each image with KMeansL2 (means) "
        "and KMeansL1 (medians) for every k; write the reconstructions, a "
        "results table (CSV and Markdown), elbow plots and comparison grids. "
        "A grayscale image (8 or 16 bits, bilevel, grey with an opaque alpha "
        "channel) is clustered on its grey levels and its reconstructions "
        "are grey PNGs; its table row counts one byte a pixel raw and one a "
        "palette entry. "
        "Without PATH it uses football.bmp and parrots.png from --data or "
        "SKCLUST_DATA plus scikit-learn's bundled china.jpg, or, with no data "
        "folder, scikit-learn's bundled photographs.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="image files, colour or grayscale"
    )
    add_study_arguments(
        parser, k=STUDY_K, k_help="numbers of colours", n_init=1, fit="fit"
    )
    parser.add_argument(
        "--metric",
        nargs="+",
        type=str.lower,  # L1 and L2 as they are written in the docs
        choices=METRICS,
        default=METRICS,
        help="k-means metrics (default l2 l1)",
    )
    parser.add_argument(
        "--n-jobs",
        type=job_count,
        default=None,
        metavar="N",
        help="processes for the --n-init starts of a fit (-1: every CPU; default: one)",
    )
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        metavar="N",
        help="read images of up to N pixels (default: Pillow's decompression-bomb "
        f"limit, {PILLOW_PIXEL_LIMIT:,} pixels); a larger one is refused",
    )
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
        from ..image import load_image

        try:
            if self.path is None:
                return load_image(self.array)
            with _c_stderr_dropped():
                return load_image(self.path)
        except ValueError as error:
            if "image too large" in str(error):
                raise ValueError(
                    f"{error}; raise the limit with --max-pixels N if you trust "
                    "the file"
                ) from None
            raise

    def notes(self):
        """What reading the file did to it, one sentence each (may be none)."""
        return [] if self.path is None else _reading_notes(self.path)


@contextmanager
def _c_stderr_dropped():
    """The process's standard error (file descriptor 2) led into a scratch
    file, dropped afterwards.

    libtiff, which Pillow decodes compressed TIFF files with, prints what it
    finds wrong straight to the descriptor ("tempfile.tif: Using code not
    yet in table."), under the one line of the error Pillow then raises.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error at all: nothing to keep clean
        yield
        return
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_ORIENTATION = 0x0112
# What reading does to an image with each EXIF orientation but 1 (as stored).
_TURNS = {
    2: "mirrored left to right",
    3: "turned by 180 degrees",
    4: "mirrored top to bottom",
    5: "mirrored along its main diagonal",
    6: "turned by 90 degrees clockwise",
    7: "mirrored along its other diagonal",
    8: "turned by 90 degrees counterclockwise",
}


def _reading_notes(path):
    """Notes on a readable image file: 16-bit channels, several frames."""
    from PIL import Image

    with open(path, "rb") as handle:
        head = handle.read(26)
    # A PNG's IHDR chunk comes first; byte 24 is the bits per channel.
    deep = head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR" and head[24] == 16
    with Image.open(path) as opened:
        orientation = opened.getexif().get(_EXIF_ORIENTATION, 1)
        kind = opened.format
        # 16-bit grey in other formats (TIFF), which Pillow keeps 16-bit.
        deep = deep or opened.mode.startswith("I;16")
        # Last: counting seeks through the file, and may fail half-way.
        frames = _frame_count(opened)
    notes = []
    if deep:
        notes.append(
            f"{path.name}: has 16 bits per channel; it is reduced to 8 bits "
            "(each value's top 8 bits), the depth the palette is stored at"
        )
    if orientation in _TURNS:
        notes.append(
            f"{path.name}: is {_TURNS[orientation]}, as its EXIF orientation tag says"
        )
    if frames is None:
        notes.append(
            f"{path.name}: holds more images after the first, which are "
            "unreadable; only the first is used"
        )
    elif frames > 1:
        notes.append(f"{path.name}: {_several_images(kind, frames)}")
    return notes


def _frame_count(picture):
    """How many images the file of ``picture`` holds; None when some are unreadable.

    Counting reads the header of every frame or page after the first, which
    reading the image did not: a damaged one raised SyntaxError, TypeError,
    IndexError, KeyError or struct.error out of Pillow, a traceback.
    """
    try:
        return getattr(picture, "n_frames", 1)
    except Exception:  # Pillow's plugins raise many kinds
        return None


# Pillow counts as frames the images of a file that holds several, whatever
# they are; the note names them as the format does.
_ANIMATIONS = {"GIF", "PNG", "WEBP", "AVIF", "FLI"}
_PAGES = {"TIFF", "DCX", "MIC"}


def _several_images(kind, count):
    """What a file of format ``kind`` holding ``count`` images is, and which
    one is read (the first, as Pillow opens it; a Photoshop file's merged
    image, which comes before its layers)."""
    if kind in _ANIMATIONS:
        return f"is animated ({count} frames); only frame 1 is used"
    if kind in _PAGES:
        return f"has {count} pages; only page 1 is used"
    if kind == "PSD":
        return f"has {count} layers; their merged image is used"
    return f"holds {count} images; only the first is used"


_RGB_COLOURS = 1 << 24


def _unreachable_ks(image, ks):
    """The k of ``ks`` above the number of distinct colours, and that number.

    ``image`` is (h, w, 3) RGB or (h, w) grey; Pillow counts either.
    """
    from PIL import Image

    # An 8-bit RGB image has at most 2**24 colours; Pillow allocates its
    # table for the count asked (a k of 2**31 - 1 raised MemoryError, and
    # 2**31 an OverflowError, which ended the whole run).
    colours = Image.fromarray(image).getcolors(min(max(ks), _RGB_COLOURS))
    if colours is None:  # more distinct colours than the largest k
        return [], None
    return [k for k in sorted(ks) if k > len(colours)], len(colours)


def default_sources(data):
    """The study's images with a data folder, else scikit-learn's bundled ones."""
    from sklearn.datasets import load_sample_image

    from ..datasets import study_data_dir

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
    notes: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)


# The detail shown enlarged in the report: a window of DETAIL_SIZE pixels
# square, each pixel drawn DETAIL_ZOOM times larger.
DETAIL_SIZE = 96
DETAIL_ZOOM = 3


class _Pictures:
    """The report's pictures of one image: the original, then each fit's."""

    def __init__(self, image, folder, stem):
        from ._pictures import detailed_window, save_png

        self.image = image
        size = min(DETAIL_SIZE, *image.shape[:2])
        top, left = detailed_window(image, size)
        self.window = (top, left, size, DETAIL_ZOOM)
        self.original = folder / f"{stem}_original.png"
        self.original_detail = folder / f"{stem}_original_detail.png"
        save_png(image, self.original)
        save_png(self._detail(image), self.original_detail)
        self.scale = None  # set by the first (coarsest) fit, shared by all

    def _detail(self, picture):
        from ._pictures import enlarged_crop

        top, left, size, zoom = self.window
        return enlarged_crop(picture, top, left, size, zoom)

    def add(self, comparison, reconstruction, png, label):
        from ._pictures import heat_map, heat_scale, pixel_error, save_png

        error = pixel_error(self.image, reconstruction)
        if self.scale is None:
            self.scale = heat_scale(error)
        heat = heat_map(error, self.scale)
        stem = png.with_suffix("")
        paths = {
            "reconstruction": png,
            "error": Path(f"{stem}_error.png"),
            "reconstruction_detail": Path(f"{stem}_detail.png"),
            "error_detail": Path(f"{stem}_error_detail.png"),
        }
        save_png(heat, paths["error"])
        save_png(self._detail(reconstruction), paths["reconstruction_detail"])
        save_png(self._detail(heat), paths["error_detail"])
        comparison.heat_scale = self.scale
        comparison.entries.append({"label": label, **paths})

    def comparison(self, title):
        return Comparison(title, self.original, self.original_detail, self.window, 0.0)


def _safe_stem(name):
    """A folder and file name from an image's file name that stays in ``--out``.

    Characters other than letters, digits, ``-``, ``_`` and ``.`` (spaces,
    control characters, ...) become ``_`` and leading dots are dropped, so
    ``...png`` cannot give ``..`` nor a hidden name.
    """
    stem = re.sub(r"[^\w.-]", "_", Path(name).stem).lstrip(".")
    return stem or "image"


# The results table, written beside the images' folders.
_TABLE = "image_results"
# Names in ``--out`` that an image's folder must not take: ``_stems`` gives
# ``image_results.csv.png`` the folder ``image_results.csv-2``; as
# ``image_results.csv`` it ended the run when the table was written.
_NOT_STEMS = {f"{_TABLE}.csv", f"{_TABLE}.md", MANIFEST}


def _stems(sources):
    """Distinct, safe folder names for the sources.

    A stem that repeats gets the first free ``-2``, ``-3``, ... suffix, free
    meaning not taken by any other source's own stem either, so ``a/x.png``,
    ``b/x.png`` and ``x-2.png`` give ``x``, ``x-3`` and ``x-2``. So does a
    stem that is the name of one of the run's other files (``_NOT_STEMS``,
    in any case, for folders on case-insensitive file systems).
    """
    wanted = [_safe_stem(source.name) for source in sources]
    taken, stems = set(wanted) | _NOT_STEMS, []
    for i, stem in enumerate(wanted):
        if stem in wanted[:i] or stem.casefold() in _NOT_STEMS:
            n = 2
            while f"{stem}-{n}" in taken:
                n += 1
            stem = f"{stem}-{n}"
            taken.add(stem)
        stems.append(stem)
    return stems


def _elbow_figure(rows, title, metric):
    import numpy as np

    from ..model_selection import _L1_INERTIA, ElbowResult, knee_index

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
    ax = result.plot(title=title)
    if metric == "l1":
        ax.set_ylabel(_L1_INERTIA)
    return ax.figure


def quantize_images(
    sources,
    ks,
    metrics,
    out,
    *,
    n_init=1,
    seed=0,
    n_jobs=None,
    log=print,
    inputs=(),
    pictures=False,
):
    """Run every (image, metric, k), writing files into ``out``.

    Errors of one image or one k are recorded and the rest of the run goes on.
    With ``pictures``, each fit also gets an error heat map and enlarged
    details, gathered in ``result.comparisons`` for the report, which replace
    the grid figure of the reconstructions.
    """
    from ..image import ImageQuantizer, plot_reconstructions
    from ..metrics import image_mse, palette_image_size, psnr
    from ._pictures import save_png

    # A k or metric given twice runs once (it ran, and was tabled, each time).
    ks = sorted(set(ks))
    metrics = list(dict.fromkeys(metrics))
    result = StudyResult()
    for source, stem in zip(sources, _stems(sources), strict=True):
        try:
            image = source.load()
        except ValueError as error:
            result.errors.append(str(error))
            log(f"error: {error}")
            continue
        for note in source.notes():
            result.notes.append(note)
            log(f"note: {note}")
        exact_noted = False
        skipped, n_colours = _unreachable_ks(image, ks)
        if skipped:
            kind = "grey level" if image.ndim == 2 else "colour"
            message = (
                f"{source.name}: has {counted(n_colours, f'distinct {kind}')}; "
                "skipped k = "
                f"{', '.join(map(str, skipped))} (more clusters than {kind}s)"
            )
            result.errors.append(message)
            log(f"error: {message}")
        fitted_ks = [k for k in ks if k not in skipped]
        if not fitted_ks:
            continue
        folder = out / stem
        folder.mkdir(exist_ok=True)
        shown = _Pictures(image, folder, stem) if pictures else None

        def target(name, folder=folder):
            path = folder / name
            check_not_input(path, inputs)
            return path

        for metric in metrics:
            rows, reconstructions = [], {}
            label = "L2 k-means" if metric == "l2" else "L1 k-medians"
            if shown is not None:
                comparison = shown.comparison(f"{source.name}, {label}")
            for k in fitted_ks:
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
                if quantizer.algorithm_ == "exact" and not exact_noted:
                    exact_noted = True
                    note = (
                        f"{source.name}: its colours are grey levels; each "
                        "palette is the exact optimum over them (dynamic "
                        "programming), and its iterations count the Lloyd "
                        "steps run from that optimum"
                    )
                    result.notes.append(note)
                    log(f"note: {note}")
                save_png(compressed, png)
                # A grey image is one byte a pixel raw and one a palette entry.
                channels = 1 if image.ndim == 2 else image.shape[2]
                size = palette_image_size(image.shape[0] * image.shape[1], k, channels)
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
                caption = f"k = {k}, PSNR {row['psnr_db']:.1f} dB"
                reconstructions[caption] = compressed
                if shown is not None:
                    shown.add(comparison, compressed, png, caption)
                log(
                    f"{source.name} {metric} k={k}: "
                    f"{counted(row['iterations'], 'iteration')}, "
                    f"{row['seconds']:.2f} s, PSNR {row['psnr_db']:.2f} dB"
                )
            if not rows:
                continue
            result.rows.extend(rows)
            if shown is not None:
                result.comparisons.append(comparison)
            title = f"{source.name}: {label}"
            try:
                elbow_path = target(f"{stem}_{metric}_elbow.png")
                grid_path = target(f"{stem}_{metric}_grid.png")
            except ValueError as error:
                result.errors.append(str(error))
                log(f"error: {error}")
                continue
            save_figure(_elbow_figure(rows, title, metric), elbow_path)
            if shown is None:  # the comparison shows them at full size
                grid = plot_reconstructions(image, reconstructions, title)
                save_figure(grid, grid_path, dpi=60)
                result.figures.append((grid_path, f"{title}, reconstructions"))
            result.figures.append((elbow_path, f"{title}, elbow plot"))
    if result.rows:
        table = out / _TABLE
        for suffix in (".csv", ".md"):
            check_not_input(table.with_suffix(suffix), inputs)
        write_table(result.rows, COLUMNS, table)
    return result


@contextmanager
def _pixel_limit(max_pixels):
    """Pillow's decompression-bomb limit set to ``max_pixels`` (None: as it is)."""
    from PIL import Image

    previous = Image.MAX_IMAGE_PIXELS
    if max_pixels is not None:
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def run(args):
    with _pixel_limit(args.max_pixels):
        return _run(args)


def _source_names(paths):
    """``(name, path)`` for each input: the file name, or the path as given
    where two inputs share a file name (``a/x.png`` and ``b/x.png`` were both
    "x.png" in the table, the messages and the figure titles)."""
    counts = Counter(path.name for path in paths)
    return [
        (path.name if counts[path.name] == 1 else str(path), path) for path in paths
    ]


def _run(args):
    from ._progress import Progress

    inputs = [Path(p) for p in args.paths]
    if inputs:
        sources = [_Source(name, path=p) for name, p in _source_names(inputs)]
    else:
        sources = default_sources(args.data)
    # The study's files read from --data are inputs too.
    inputs += [s.path for s in sources if s.path is not None and s.path not in inputs]
    out = prepare_output_dir(args.out, force=args.force, inputs=inputs)

    fits = len(sources) * len(set(args.metric)) * len(set(args.k))
    with Progress(fits, "image fits", quiet=args.quiet, command="image") as log:
        result = quantize_images(
            sources,
            args.k,
            args.metric,
            out,
            n_init=args.n_init,
            seed=args.seed,
            n_jobs=args.n_jobs,
            log=log,
            inputs=inputs,
        )
    if result.rows and not args.quiet:
        reconstructions = counted(len(result.rows), "reconstruction")
        print(f"wrote {reconstructions} and tables into {args.out}")
    return 2 if result.errors else 0


# The results table as the report shows it: units in the headings.
REPORT_COLUMNS = [
    Column("image"),
    Column("metric", fmt={"l2": "L2 k-means", "l1": "L1 k-medians"}.get),
    Column("k"),
    Column("iterations"),
    Column("seconds", "fit time (s)", ".2f"),
    Column("inertia", "inertia (sum of distances)"),
    Column("mse", "MSE (per channel)", ".1f"),
    Column("psnr_db", "PSNR (dB)", ".2f"),
    Column("compressed_bytes", "compressed (kB)", lambda b: f"{b / 1000:,.1f}"),
    Column("raw_bytes", "raw (kB)", lambda b: f"{b / 1000:,.1f}"),
    Column("ratio", "compression ratio", ".2f"),
]


def check_report_inputs(data):
    """Read the images the report's section fits: a bad file fails here."""
    for source in default_sources(data):
        source.load()


def report_section(out_dir, data, seed, log):
    """Image compression for ``skclust report``: the study's images, both metrics."""
    folder = out_dir / "image"
    folder.mkdir(exist_ok=True)
    result = quantize_images(
        default_sources(data),
        STUDY_K,
        METRICS,
        folder,
        seed=seed,
        log=log,
        pictures=True,
    )
    section = Section("Image compression by colour clustering")
    section.paragraph(
        "Each image's pixels are clustered with KMeansL2 (squared Euclidean "
        "distance, mean colours) and KMeansL1 (Manhattan distance, median "
        "colours); the compressed image stores the palette and one index per "
        "pixel. Inertia is the sum of squared distances (L2) or of Manhattan "
        "distances (L1) from each pixel to its colour; MSE and PSNR compare the "
        "reconstruction with the original over the three 8-bit channels; "
        "a grayscale image is clustered, measured and stored on its one "
        "channel of grey levels; kB are 1000 bytes."
    )
    for note in result.notes:
        section.paragraph(f"Note: {note}.")
    for error in result.errors:
        section.paragraph(f"Error: {error}")
    if result.rows:
        section.table(
            result.rows,
            REPORT_COLUMNS,
            "Fits: iterations, time and quality",
            settings=f"1 k-means++ start per fit (n_init=1), seed {seed}, "
            "tol 1e-4 (relative to the data's variance), at most 300 iterations.",
        )
    for comparison in result.comparisons:
        section.comparison(comparison)
    for path, caption in result.figures:
        section.figure(path, caption)
    return section
