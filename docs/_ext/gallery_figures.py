"""Sphinx-Gallery glue for the examples, which save their figures as PNG files.

The examples draw on ``matplotlib.figure.Figure`` objects (no pyplot) and save
them into the folder given as their first argument, so that they run the same
as scripts. The gallery gives each example a fresh folder (``reset_argv``) and
shows, after each code block, the PNG files that block wrote
(``saved_figures``, an image scraper).
"""

import shutil
import tempfile
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

FIGURES = Path(tempfile.mkdtemp(prefix="skclust-gallery-"))


def _folder(src_file):
    return FIGURES / Path(src_file).stem


def reset_argv(gallery_conf, script_vars):
    """The example's arguments: a fresh folder for its figures."""
    folder = _folder(script_vars["src_file"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return [str(folder)]


def saved_figures(block, block_vars, gallery_conf):
    """RST for the PNG files written since the previous block, in name order."""
    folder = _folder(block_vars["src_file"])
    shown = folder / ".shown"
    seen = set(shown.read_text().split()) if shown.exists() else set()
    stamps = {p.name: f"{p.name}@{p.stat().st_mtime_ns}" for p in folder.glob("*.png")}
    new = sorted(name for name, stamp in stamps.items() if stamp not in seen)
    targets = []
    for name, target in zip(new, block_vars["image_path_iterator"], strict=False):
        shutil.copyfile(folder / name, target)
        targets.append(target)
    shown.write_text("\n".join(seen | set(stamps.values())))
    return figure_rst(targets, gallery_conf["src_dir"])
